"""The recruiter's report on one candidate: what a person needs in order to decide, and to overrule.

Order of the page (measurement before the recommendation, against automation bias):

1. identity of the case: candidate pseudonym, role, evaluation date; the statement that profiler only
   recommends and a person decides;
2. **read first**: response validity (verdict, reasons, checks that could not run), decision stability
   under measurement error, rater agreement, unknown or expired evidence;
3. the recommendation, advisory, with its reasons and the score on the band scale with its 90% interval;
4. how the score came about: the contribution waterfall from the norm group's average candidate, the
   table of criteria and the additivity receipt;
5. the trait profile: stens 1-10 with their 90% bands, both poles of every scale described, the norm
   group named;
6. skill evidence and its coverage, with the score range if unknown inputs took plausible values;
7. counterfactuals, as measurement distances (never advice);
8. the review: the decision and its reason once made; before it, how to record it (the command and the
   API call for this candidate);
9. versions and hashes of everything that produced the recommendation;
10. a glossary of the technical words the page shows (and only those).

One set of thresholds runs through the page: those in force, review margins applied (the reasons, the score
chart and the waterfall use the same).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from html import unescape
from typing import Any, NamedTuple

from markupsafe import Markup

from profiler.reports import _charts
from profiler.reports._common import BAND_CLASS, band_words, decision_words, profile_rows, thresholds, versions
from profiler.reports._render import environment, render
from profiler.reports.case import CandidateCase

VERDICT_CLASS = {"valid": "ok", "questionable": "warn", "invalid": "bad"}
BASE_LABEL = {"norm_group": "average candidate", "cohort": "cohort average", "declared": "reference candidate"}


class Term(NamedTuple):
    """A glossary entry, shown when ``shown_by`` (a regular expression) matches the page's visible text."""

    term: str
    shown_by: str
    meaning: str


GLOSSARY = (
    Term("SHAP value (contribution)", r"\bSHAP\b|\bcontribution",
         "How many score points one criterion adds to or takes from the score, measured from the reference point. "
         "The contributions add up exactly to the score minus the reference point's score."),
    Term("Reference point (base)", r"[Rr]eference point|\(base\)|[Bb]aseline",
         "Whom the contributions are measured against (named on this page). Against another reference a "
         "contribution can change sign; the score and the recommendation stay the same."),
    Term("Review margin", r"review margin",
         "A few points either side of a threshold in which the score is too close to call: such cases go to a "
         "person. The thresholds on this page already include it."),
    Term("Minimum (knock-out)", r"\bminimum\b|knock-out",
         "A lowest acceptable value of one input. Below it the case goes to a person; it never rejects anyone on "
         "its own."),
    Term("Decision stability", r"[Dd]ecision stability",
         "How often the recommendation would stay the same if the inputs were measured again, allowing for their "
         "measurement error. A review has no such figure: a person decides it."),
    Term("Standard error, SEM", r"\bSEM\b|standard error",
         "The typical size of measurement error: a re-measured value lies within about one standard error of "
         "this one two times in three. SEM is the standard error of measurement of one input."),
    Term("90% interval, 90% band", r"90% (measurement )?interval|90% (confidence )?band|\(90% band\)",
         "The range that holds the value being measured in about 90% of cases, given the measurement error."),
    Term("Sten", r"\b[Ss]tens?\b",
         "A 1 to 10 scale of the norm group: 5.5 is its average, each sten is half a standard deviation; stens "
         "4 to 7 hold about two thirds of the group."),
    Term("T score", r"\bT \d",
         "A scale with mean 50 and standard deviation 10 in the norm group."),
    Term("Percentile", r"[Pp]ercentile",
         "The share of the norm group (in percent) scoring lower than this."),
    Term("Norm group", r"norm group",
         "The group of people whose scores define what is average and what a sten or percentile means."),
    Term("Imputed", r"imputed|set to the average",
         "An unknown input set to its average: it contributes 0 points, whatever its true value."),
    Term("Utility, saturated", r"utility|saturated",
         "How much an input's value counts for a criterion, from 0 to 1. Saturated: already at (or near) its "
         "most, so a higher value adds (almost) nothing."),
    Term("Rater agreement (r_wg)", r"r_wg",
         "How much the interviewers' ratings agree, from 0 (no more than chance) to 1 (all the same)."),
    Term("Hash", r"\bhash",
         "A fingerprint of a file's exact content: another hash means another content."),
)
STABILITY_CLASS = {"stable": "ok", "borderline": "warn", "within measurement error": "bad", "not applicable": ""}


def recruiter_context(case: CandidateCase, *, prepared: dt.date | None = None) -> dict[str, Any]:
    """The data the recruiter template renders (see :func:`recruiter_report`)."""
    rec = case.recommendation
    spec = case.job_model.spec
    limits = thresholds(rec.thresholds)
    incomplete = not rec.coverage.complete
    order = sorted(range(len(rec.contributions)),
                   key=lambda i: (-abs(rec.contributions[i].contribution), i))  # largest first, ties stay in order
    contributions = [rec.contributions[i] for i in order]
    steps = [(c.name, c.contribution, c.status != "measured") for c in contributions]
    evidence_names = {f"evidence.{e.id}": e for e in spec.evidence}
    criteria = {c.id: c for c in spec.criteria}
    evidence_rows = []
    for item in rec.coverage.inputs:
        values = [c for c in rec.contributions if c.input == item.input]
        evidence_rows.append({
            "coverage": item, "trait": item.input.startswith("trait."),
            "value": values[0].value if values and item.status == "measured" else None,
            "description": getattr(evidence_names.get(item.input), "description", None),
        })
    unknown = [row for row in evidence_rows if row["coverage"].status != "measured"]
    cf_reachable = [cf for cf in rec.counterfactuals if cf.reachable]
    cf_out = [cf for cf in rec.counterfactuals if not cf.reachable]
    base_label = BASE_LABEL.get(rec.reference.get("kind", "norm_group"), "reference point")
    return {
        "title": f"Recruiter report: {case.candidate}",
        "case": case, "rec": rec, "spec": spec, "prepared": prepared,
        "band_words": band_words(rec.band), "score_band_words": band_words(rec.score_band),
        "band_class": BAND_CLASS.get(rec.band, "review"),
        "versions": versions(rec), "job_model_matches": case.job_model_matches,
        "job_model_hash_given": case.job_model.content_hash,
        "validity": case.validity,
        "validity_class": "warn" if case.validity is None else VERDICT_CLASS.get(case.validity.verdict, "warn"),
        "stability_class": STABILITY_CLASS.get(rec.stability.label, "warn"),
        "stability_simulated": _finite(rec.stability.p_flip_simulated),
        "limits": limits,
        "score_chart": _charts.score_scale("score", rec.score, rec.stability.se_score, limits,
                                           rec.coverage.score_range if incomplete else None),
        "waterfall": _charts.waterfall("waterfall", rec.base_value, steps, rec.score, limits, base_label=base_label),
        "base_label": base_label, "margin": rec.thresholds.get("review_margin"),
        "record": how_to_record(case.candidate, rec.band),
        "contributions": contributions, "criteria": criteria,
        "receipt": rec.receipt, "receipt_ok": rec.additivity_error <= 1e-9,
        "profile_rows": profile_rows(case), "norms": case.norms,
        "evidence_rows": evidence_rows, "unknown": unknown, "incomplete": incomplete,
        "bands_reachable": [band_words(b) for b in rec.coverage.bands_reachable],
        "cf_reachable": cf_reachable, "cf_out": cf_out,
        "review": case.review,
        "decision_words": decision_words,
        "agreement": [(getattr(evidence_names.get(f"evidence.{a.evidence}"), "name", a.evidence), a)
                      for a in rec.agreement],
        "not_checked": [(check.replace("_", " "), why) for check, why in
                        (case.validity.not_checked.items() if case.validity is not None else ())],
    }


def how_to_record(candidate: str, band: str) -> dict[str, Any]:
    """The commands and the API call that record a decision on this candidate's recommendation."""
    who = "--reviewer YOUR-ID --role YOUR-ROLE"
    why = '--reason CODE --note "why, in words"'
    if band == "review":
        options = [("choose the outcome", f"profiler review {candidate} --decision override --outcome advance "
                    f"{why} {who}", "(or --outcome not-advance)")]
        call = (f'decide_for_candidate(Review(store), "{candidate}", "override", outcome="advance", '
                'reason="CODE", note="why, in words", reviewer="YOUR-ID", role="YOUR-ROLE")')
    else:
        other = "not-advance" if band == "advance" else "advance"
        options = [("follow the recommendation", f"profiler review {candidate} --decision accept {who}", ""),
                   ("choose another outcome", f"profiler review {candidate} --decision override --outcome {other} "
                    f"{why} {who}", "")]
        call = f'decide_for_candidate(Review(store), "{candidate}", "accept", reviewer="YOUR-ID", role="YOUR-ROLE")'
    options.append(("set it aside (do not use it for this candidate)",
                    f"profiler review {candidate} --decision do-not-use {why} {who}", ""))
    api = "\n".join(["from profiler.oversight import Review", "from profiler.pipeline.review_target import "
                     "decide_for_candidate", "from profiler.store import Store", "",
                     'with Store("profiler.db") as store:', f"    {call}"])
    return {"options": options, "api": api}


def glossary(html: str) -> list[Term]:
    """The glossary entries whose words the page (its visible text) shows."""
    html = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))
    return [term for term in GLOSSARY if re.search(term.shown_by, text)]


# Where the glossary goes: the page is rendered once with this (a comment, no visible text) in its place, and
# the glossary of the words the rendered page shows is put there after.
GLOSSARY_MARK = Markup("<!--profiler:glossary-->")


def with_glossary(html: str) -> str:
    """``html`` (rendered with ``glossary_mark=GLOSSARY_MARK``) with the glossary of the words it shows."""
    section = environment().get_template("_macros.html").module.glossary_section(glossary(html))
    return html.replace(GLOSSARY_MARK, str(section), 1)


def _finite(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def recruiter_report(case: CandidateCase, *, prepared: dt.date | None = None) -> str:
    """The recruiter's report on one candidate as a self-contained HTML page.

    Parameters
    ----------
    case : CandidateCase
        The candidate's recommendation, profile, validity findings and review.
    prepared : date, optional
        Printed as the date the report was prepared; left out by default so that the same case always
        gives the same bytes.

    Returns
    -------
    str
        HTML (UTF-8 text): inline CSS and SVG, no scripts, no external resources; prints on A4 or Letter.
    """
    context = recruiter_context(case, prepared=prepared)
    return with_glossary(render("recruiter.html", **context, glossary_mark=GLOSSARY_MARK))


__all__ = ["GLOSSARY", "GLOSSARY_MARK", "how_to_record", "glossary", "recruiter_context", "recruiter_report",
           "with_glossary"]
