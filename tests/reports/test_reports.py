"""What the reports say, in which order, and how they are built (escaping, strictness, self-containment)."""

from __future__ import annotations

import dataclasses
import json
import re
from html import unescape

import pytest
from jinja2 import UndefinedError

from profiler.reports import (
    CandidateCase,
    ReviewStatus,
    candidate_report,
    cohort_report,
    fairness_report,
    recruiter_report,
)
from profiler.reports._render import environment, number, percent


def visible_text(html: str) -> str:
    """The page without its markup, style and SVG (what a reader sees, roughly)."""
    html = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    html = re.sub(r"<svg\b.*?</svg>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture(scope="module")
def recruiter(case) -> str:
    return recruiter_report(case)


# Self-contained, no scripts ------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["recruiter", "candidate", "cohort", "fairness"])
def test_pages_are_self_contained(which, case, cohort, audit):
    html = {"recruiter": lambda: recruiter_report(case), "candidate": lambda: candidate_report(case),
            "cohort": lambda: cohort_report(cohort), "fairness": lambda: fairness_report(audit)}[which]()
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html.lower()
    assert not re.search(r"\b(src|href)\s*=\s*\"(https?:|//)", html)  # nothing fetched from elsewhere
    assert "@import" not in html and "url(http" not in html
    assert "@media print" in html and "@page" in html
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "element ids must be unique on the page (several inline SVGs)"


# The recruiter report --------------------------------------------------------------------------------------
def test_recruiter_report_reads_measurement_first(recruiter):
    text = visible_text(recruiter)
    validity = text.index("Response validity")
    stability = text.index("Decision stability")
    recommends = text.index("profiler recommends:")
    assert validity < stability < recommends
    assert "profiler recommends: advance ; a person decides" in text
    assert "questionable" in text and "longstring 11 answers alike" in text
    assert "Not checked: attention checks (the questionnaire has no attention-check items)" in text


def test_recruiter_report_names_versions_and_hashes(recruiter, case):
    v = case.recommendation.versions
    for key in ("job_model_hash", "content_hash", "norms_sha256"):
        assert v[key] in recruiter
    assert f"{v['job_model_id']} {v['job_model_version']}" in recruiter


def test_recruiter_report_receipt_and_contributions(recruiter, case):
    rec = case.recommendation
    assert rec.receipt in recruiter
    assert rec.receipt.endswith("(checked)")
    for c in rec.contributions:
        assert c.name in recruiter
    assert "0.0 (imputed)" in recruiter  # the imputed input is marked in the waterfall


def test_recruiter_report_profile_names_norm_group_and_both_poles(recruiter, case):
    text = visible_text(recruiter)
    assert "relative to BIG5 general sample" in text and "n = 19,635" in text and "collected c. 2012" in text
    for scale in case.profile.scales:
        assert scale.low in text and scale.high in text
        assert f"sten {scale.sten}," in text


def test_recruiter_report_coverage_and_counterfactuals(recruiter, case):
    text = visible_text(recruiter)
    assert "Years of customer-facing experience : missing" in text
    assert "62.7 and 72.3" in text or "62.7 to 72.3" in text
    for cf in case.recommendation.counterfactuals:
        assert cf.text in text
    assert "They are not advice" in text


def test_recruiter_report_review_states(case):
    decided = visible_text(recruiter_report(case))
    assert "overrode the recommendation (advance): not advance" in decided
    assert "Contest by the candidate: decided, first decision changed" in decided
    waiting = visible_text(recruiter_report(dataclasses.replace(case, review=ReviewStatus())))
    assert "Awaiting review" in waiting and "No decision has been recorded" in waiting
    assert "Review: awaiting review" in waiting


def test_recruiter_report_without_validity_or_profile_says_so(case):
    bare = dataclasses.replace(case, validity=None, profile=None, norms=None)
    text = visible_text(recruiter_report(bare))
    assert "Response validity: not assessed" in text
    assert "No trait profile is recorded for this case." in text


def _all_text(html: str) -> str:
    """The visible text with the charts' labels (SVG text) kept."""
    html = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _thresholds_named(text: str) -> set[float]:
    named = re.findall(r"advance from (\d+(?:\.\d+)?)|not advance below (\d+(?:\.\d+)?)|"
                       r"at or above (\d+(?:\.\d+)?)|is below (\d+(?:\.\d+)?)|"
                       r"between (\d+(?:\.\d+)?) and (\d+(?:\.\d+)?)(?:, in the review margin|: the review band)", text)
    return {float(v) for match in named for v in match if v}


def test_recruiter_report_tells_one_story_of_thresholds(case):
    """Every threshold the page names (text, reasons and charts) is one of the two in force (review margin
    applied), whatever the band."""
    from profiler.jobmodel import load_job_model

    model = load_job_model("customer-support")
    traits = {"Conscientiousness": 3.6, "Agreeableness": 4.1, "Neuroticism": 2.8, "Extraversion": 3.3}
    in_force = {63.0, 42.0}
    pages = [recruiter_report(case)]
    low = {"Conscientiousness": 2.0, "Agreeableness": 2.2, "Neuroticism": 4.2, "Extraversion": 2.0}
    for traits, sample, ratings in ((traits, 72, (4, 3)), (traits, 55, (3, 3)), (traits, 20, (2, 2)),
                                    (traits, 45, (4, 3)), (traits, 90, (5, 5)), (low, 45, (3, 3))):
        evidence = {"email_work_sample": {"score": sample, "source": "s", "date": "2026-05-01"},
                    "interview_customer_focus": {"ratings": dict(zip("ab", ratings, strict=True)), "source": "s",
                                                 "date": "2026-05-01"},
                    "support_experience": {"years": 2, "source": "s", "date": "2026-05-01"}}
        rec = model.evaluate(traits, evidence, as_of="2026-06-01", draws=200)
        pages.append(recruiter_report(dataclasses.replace(case, recommendation=rec, review=ReviewStatus())))
    bands = set()
    for html in pages:
        text = _all_text(html)
        named = _thresholds_named(text)
        assert named and named <= in_force, named
        assert "review margin of 3 points" in text
        bands.add(re.search(r"profiler recommends: (\w[\w ]*?) ;", visible_text(html)).group(1))
    assert {"advance", "human review", "not advance"} <= bands


def test_recruiter_report_says_how_to_record_the_decision(case):
    decided = visible_text(recruiter_report(case))
    assert "How to record your decision" not in decided  # decided already
    waiting = recruiter_report(dataclasses.replace(case, review=ReviewStatus()))
    text = visible_text(waiting)
    assert "How to record your decision" in text
    who = f"profiler review {case.candidate}"
    assert f"{who} --decision accept --reviewer YOUR-ID --role YOUR-ROLE" in text  # the band is advance
    assert f"{who} --decision override --outcome not-advance --reason CODE" in text
    assert f"{who} --decision do-not-use --reason CODE" in text
    assert f'decide_for_candidate(Review(store), "{case.candidate}", "accept"' in text
    review_rec = dataclasses.replace(case.recommendation, band="review")
    text = visible_text(recruiter_report(dataclasses.replace(case, recommendation=review_rec, review=ReviewStatus())))
    assert "--decision accept" not in text  # nothing to accept in a review
    assert f"{who} --decision override --outcome advance" in text and "(or --outcome not-advance)" in text


def test_recruiter_report_glossary_covers_the_words_it_shows(case):
    from profiler.reports.recruiter import GLOSSARY

    text = visible_text(recruiter_report(case))
    body, _, glossary = text.partition("9. Words used on this page")
    assert glossary
    for word, term in (("SHAP", "SHAP value"), ("SEM", "Standard error, SEM"), ("sten", "Sten"),
                       ("percentile", "Percentile"), ("saturated", "Utility, saturated"),
                       ("r_wg", "Rater agreement (r_wg)"), ("review margin", "Review margin"),
                       ("Reference point", "Reference point (base)"), ("hash", "Hash")):
        if re.search(word, body, flags=re.I):
            assert term in glossary, word
    shown = [t.term for t in GLOSSARY if t.term in glossary]
    assert "Sten" in shown and "Rater agreement (r_wg)" in shown
    # only what the page shows: no profile, no sten; no interview agreement, no r_wg
    bare = dataclasses.replace(case, profile=None, norms=None,
                               recommendation=dataclasses.replace(case.recommendation, agreement=()))
    _, _, glossary = visible_text(recruiter_report(bare)).partition("9. Words used on this page")
    assert "Sten " not in glossary and "r_wg" not in glossary and "SHAP value" in glossary


def test_recruiter_report_names_the_reference_point(case):
    from profiler.jobmodel import load_job_model

    text = visible_text(recruiter_report(case))
    assert "Reference point: the average candidate" in text and "change sign and size" in text
    model = load_job_model("customer-support")
    cohort = model.cohort_reference(
        __import__("pandas").DataFrame({"trait.Conscientiousness": [3.0, 4.0], "evidence.email_work_sample": [50, 80]}),
        description="this round's 2 applicants")
    rec = model.evaluate({"Conscientiousness": 3.6, "Agreeableness": 4.1, "Neuroticism": 2.8, "Extraversion": 3.3},
                         {}, as_of="2026-06-01", draws=100, reference=cohort)
    html = recruiter_report(dataclasses.replace(case, recommendation=rec))
    assert "Reference point: this round's 2 applicants" in visible_text(html)
    assert "cohort average (base)" in html  # the waterfall's first bar


def test_a_job_model_that_does_not_match_is_flagged(case_data):
    data = json.loads(json.dumps(case_data))
    data["job_model"]["role"]["title"] = "Customer support agent (edited)"  # another content hash
    edited = CandidateCase.from_dict(data)
    assert not edited.job_model_matches
    assert "The job model does not match" in recruiter_report(edited)


# The candidate report ----------------------------------------------------------------------------------------
def test_candidate_report_is_plain_and_complete(case):
    text = visible_text(candidate_report(case, contact="hiring-team@example.org"))
    assert "self-report" in text and "preferred ways of behaving" in text and "not ability" in text
    assert "measurement error" in text.lower() or "error" in text
    for scale in case.profile.scales:
        assert scale.low in text and scale.high in text
    assert "a large part (30%)" in text  # weights in words
    assert "A person, not a computer, decides" in text
    assert "second reviewer" in text and "within 14 days" in text
    assert "hiring-team@example.org" in text
    for word in ("weakness", "strength", "good candidate", "bad candidate", "SHAP", "counterfactual"):
        assert word not in text
    assert "jdoe" not in text and "asmith" not in text  # staff ids stay internal


def test_candidate_report_decision_and_missing_information(case):
    text = visible_text(candidate_report(case))
    assert "The decision was to move your application forward" in text  # the contest's second decision stands
    assert "a second person reviewed your case" in text
    assert "Not available to us (missing): it was counted as average" in text
    waiting = visible_text(candidate_report(dataclasses.replace(case, review=ReviewStatus())))
    assert "No decision has been made yet." in waiting


# Cohort ------------------------------------------------------------------------------------------------------
def test_cohort_report(cohort):
    text = visible_text(cohort_report(cohort))
    for entry in cohort.entries:
        assert entry.candidate in text
    assert "Possible rubber-stamping" in text and "reviewer jdoe overrode 0 of 52" in text
    assert "awaiting review" in text and "overridden" in text and "do not use" in text
    assert "27.3%" in text  # asmith's override rate


# Fairness ----------------------------------------------------------------------------------------------------
def test_fairness_report_summary_and_measures(audit):
    html = fairness_report(audit)
    text = visible_text(html)
    for field in ("Date of the audit 2026-06-01", "Date the tool was first used 2026-01-05",
                  "Historical or test data historical data", "Individuals assessed 240", "Unknown category"):
        assert field in text
    assert "never as a single pass or fail" in text
    assert "Where the measures disagree" in text
    for column in ("Impact ratio (95% CI)", "Four-fifths", "Fisher p", "Shortfall", "Flips with one person"):
        assert column in text
    assert "Score differences (Cohen's d)" in text
    assert "sex x race_ethnicity" in text or "race_ethnicity x sex" in text
    # the fixture's highest-rate race category has 6 people: the report warns that ratios against it move
    assert "Small reference categories" in text and "Native Hawaiian or Pacific Islander (n = 6" in text


# Rendering machinery ----------------------------------------------------------------------------------------
def test_text_is_escaped(case_data):
    data = json.loads(json.dumps(case_data))
    data["job_model"]["role"]["title"] = "Agent <script>alert(1)</script> & co"
    data["review"]["decision"]["note"] = "<img src=x onerror=alert(1)>"
    html = recruiter_report(CandidateCase.from_dict(data))
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_undefined_names_are_errors():
    template = environment().from_string("{{ missing.attribute }}")
    with pytest.raises(UndefinedError):
        template.render()


def test_templates_ship_inside_the_package():
    from importlib import resources

    folder = resources.files("profiler.reports") / "templates"
    names = {p.name for p in folder.iterdir()}
    assert {"base.html", "style.css", "recruiter.html", "candidate.html", "cohort.html", "fairness.html"} <= names


@pytest.mark.parametrize(("value", "kwargs", "text"), [
    (-3.21, {}, "\u22123.2"), (0.04, {"signed": True}, "0.0"), (-0.04, {}, "0.0"), (12.345, {"signed": True}, "+12.3"),
    (12345.6, {"digits": 0}, "12,346"), (None, {}, "\u2013"), (float("nan"), {}, "\u2013"),
])
def test_number_format(value, kwargs, text):
    assert number(value, **kwargs) == text


def test_percent_format():
    assert percent(0.973) == "97%" and percent(0.0476, 1) == "4.8%" and percent(None) == "\u2013"
