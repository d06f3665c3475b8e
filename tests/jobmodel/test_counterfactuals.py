"""Counterfactuals that are true: applied and re-evaluated they give the recommendation they state, strictly inside
the target band, at values the input can take, with what else must change, both sides of a target range, and the
smallest joint change when no single input suffices (the property test over random candidates is in
test_one_engine.py)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy import stats

from profiler.jobmodel import load_job_model, parse_job_model
from profiler.jobmodel.explanation import counterfactuals
from profiler.jobmodel.grids import grid_of
from profiler.norms import attainable_scores

AS_OF = dt.date(2026, 6, 1)
TRAITS = {"Conscientiousness": 3.6, "Agreeableness": 4.1, "Neuroticism": 2.8, "Extraversion": 3.3}

# score = 10 * (4 u_sample + 2 u_interview + 2 u_c + u_cert + u_years): dyadic weights, scores by hand
HAND = """
id: hand
version: "1"
role: {title: Test role}
job_analysis: {method: written for the tests}
questionnaire: ipip-bfm-50
norms: general
evidence:
  - {id: sample, kind: test_score, name: Work sample, min: 0, max: 64, step: 1, reliability: 0.75,
     norm: {mean: 32, sd: 16, group: test applicants}}
  - {id: interview, kind: interview_rating, name: Interview, competency: Teamwork, min_raters: 2,
     interrater_reliability: 0.6, norm: {mean: 3, sd: 1, group: test applicants}}
  - {id: cert, kind: certification, name: Certificate, base_rate: 0.25}
  - {id: years, kind: experience, name: Years, max: 40, norm: {mean: 4, sd: 3, group: test applicants}}
criteria:
  - {id: sample, input: evidence.sample, transform: {kind: linear, at_zero: 0, at_one: 64}, weight: 4, minimum: 16,
     rationale: r}
  - {id: interview, input: evidence.interview, transform: {kind: linear, at_zero: 1, at_one: 5}, weight: 2,
     rationale: r}
  - {id: c, input: trait.Conscientiousness, transform: {kind: linear, at_zero: 1, at_one: 5}, weight: 2, rationale: r}
  - {id: cert, input: evidence.cert, transform: {kind: binary}, weight: 1, missing: impute_mean, rationale: r}
  - {id: years, input: evidence.years, transform: {kind: saturating, half_at: 2}, weight: 1, missing: impute_mean,
     rationale: r}
bands: {advance_from: 60, not_advance_below: 45, review_margin: 3}
"""


@pytest.fixture(scope="module")
def hand():
    return parse_job_model(HAND)


@pytest.fixture(scope="module")
def support():
    return load_job_model("customer-support")


@pytest.fixture(scope="module")
def engineer():
    return load_job_model("software-engineer")


def evidence_of(sample=None, ratings=None, held=None, years=None, **others):
    out = {}
    if sample is not None:
        out["sample"] = {"score": sample, "source": "s", "date": "2026-05-01"}
    if ratings is not None:
        out["interview"] = {"ratings": {f"r{k}": r for k, r in enumerate(ratings)}, "source": "s", "date": "2026-05-01"}
    if held is not None:
        out["cert"] = {"held": held, "source": "s", "date": "2026-05-01"}
    if years is not None:
        out["years"] = {"years": years, "source": "s", "date": "2026-05-01"}
    return {**out, **others}


def support_evidence(sample=72.0, ratings=(4, 3), years=2.0):
    return {
        "email_work_sample": {"score": sample, "source": "s", "date": "2026-05-01"},
        "interview_customer_focus": {"ratings": dict(zip("abcd", ratings)), "source": "s", "date": "2026-05-01"},
        "support_experience": {"years": years, "source": "s", "date": "2026-05-01"},
    }


def moved(model, traits, evidence, ref, value):
    """Traits and evidence records with input ``ref`` set to ``value`` (a rating mean spread over the raters)."""
    traits, evidence = dict(traits), {k: dict(v) for k, v in evidence.items()}
    source, _, key = ref.partition(".")
    if source == "trait":
        traits[key] = value
        return traits, evidence
    kind = model.evidence_specs[key].kind
    record = evidence.setdefault(key, {"source": "s", "date": "2026-05-01"})
    if kind == "interview_rating":
        k = len(record.get("ratings", {})) or model.evidence_specs[key].min_raters
        total = round(value * k)
        ratings = [total // k + (1 if m < total % k else 0) for m in range(k)]
        record["ratings"] = {f"r{m}": r for m, r in enumerate(ratings)}
    else:
        field = {"test_score": "score", "experience": "years", "certification": "held", "education": "met"}[kind]
        record[field] = bool(value) if kind in ("certification", "education") else value
    return traits, evidence


def apply(model, traits, evidence, cf, value=None):
    traits, evidence = moved(model, traits, evidence, cf.input, cf.new_value if value is None else value)
    for r in cf.requirements:
        if r.action == "raise_to":
            traits, evidence = moved(model, traits, evidence, r.input, r.value)
    return model.evaluate(traits, evidence, as_of=AS_OF, draws=0)


@pytest.mark.parametrize(("sample", "ratings", "band"), [
    (72.0, (4, 3), "advance"), (58.0, (3, 3), "review"), (41.0, (2, 1), "not_advance")])
def test_counterfactuals_give_the_recommendation_they_state(support, sample, ratings, band):
    evidence = support_evidence(sample=sample, ratings=ratings)
    rec = support.evaluate(TRAITS, evidence, as_of=AS_OF)
    assert rec.band == band
    targets = {"advance": {("down", "review")}, "review": {("up", "advance"), ("down", "not_advance")},
               "not_advance": {("up", "review")}}[band]
    assert {(cf.direction, cf.target_band) for cf in rec.counterfactuals} == targets
    checked = 0
    for cf in rec.counterfactuals:
        if not cf.reachable:
            continue
        after = apply(support, TRAITS, evidence, cf)
        assert after.band == cf.band_after == cf.target_band
        assert after.score_band == cf.score_band_after
        assert after.score == pytest.approx(cf.score_after, abs=1e-9)
        # strictly inside: away from the threshold, on the side of the target (unless a minimum routes to review)
        if cf.note is None:
            assert (cf.score_after - cf.threshold) * (1 if cf.direction == "up" else -1) > 0
        # the nearest attainable value: one grid step back toward the candidate's value does not do it
        grid = grid_of(support._compiled, support._compiled.index[cf.input], len(ratings)).values
        k = int(np.searchsorted(grid, cf.new_value))
        back = grid[k - 1] if cf.change > 0 else grid[k + 1]
        if back != cf.value:
            assert apply(support, TRAITS, evidence, cf, back).band != cf.target_band
        checked += 1
    assert checked >= 2


def test_a_threshold_score_is_not_inside_the_band_below(hand):
    # 40 + 17.5 + 5 (C - 1): C = 2.2 gives 63.5 (advance); C = 2.1 gives 63.0, on the threshold, still advance
    rec = hand.evaluate({"Conscientiousness": 2.2}, evidence_of(64, (4, 5), False, 0), as_of=AS_OF)
    assert rec.band == "advance"
    (cf,) = [cf for cf in rec.counterfactuals if cf.input == "trait.Conscientiousness"]
    assert cf.new_value == 2.0 and cf.score_after == pytest.approx(62.5, abs=1e-12)
    on_edge = hand.evaluate({"Conscientiousness": 2.1}, evidence_of(64, (4, 5), False, 0), as_of=AS_OF)
    assert on_edge.score == pytest.approx(63.0, abs=1e-12) and on_edge.band == "advance"
    assert "1 answer steps down" not in cf.text and "2 answer steps down over its 10 statements" in cf.text


def test_values_are_ones_the_input_can_take(support):
    rec = support.evaluate(TRAITS, support_evidence(sample=58.0, ratings=(3, 3, 4)), as_of=AS_OF)
    grid = attainable_scores(support.questionnaire, "Conscientiousness")
    for cf in rec.counterfactuals:
        if not cf.reachable:
            continue
        if cf.is_trait:
            assert np.isclose(grid, cf.new_value, atol=1e-9).any()  # some pattern of answers gives it
            assert "answer steps" in cf.units
        elif cf.input == "evidence.interview_customer_focus":
            assert abs(3 * cf.new_value - round(3 * cf.new_value)) < 1e-9  # three whole-number ratings
            assert "rating points" in cf.units and "3 raters" in cf.units
        elif cf.input == "evidence.support_experience":
            assert cf.new_value == int(cf.new_value)  # whole years
        else:
            assert cf.new_value == int(cf.new_value)  # a 0-100 test reports whole points


def test_units_sems_and_percentiles(support):
    rec = support.evaluate(TRAITS, support_evidence(), as_of=AS_OF)
    norm = support.norms.scale("Conscientiousness")
    c = next(cf for cf in rec.counterfactuals if cf.input == "trait.Conscientiousness")
    assert c.change_sem == pytest.approx(c.change / norm.sem, rel=1e-12)
    assert c.percentile_method == "empirical"
    assert c.change_percentile == pytest.approx(float((norm.empirical_percentile(np.array([c.new_value]))
                                                       - norm.empirical_percentile(np.array([3.6])))[0]), abs=1e-9)
    steps = round(abs(c.change) * 10)
    assert f"{steps} answer steps down over its 10 statements" in c.units
    assert "had it been measured" in c.text  # a measurement distance, not advice
    sample = next(cf for cf in rec.counterfactuals if cf.input == "evidence.email_work_sample")
    assert sample.change_percentile == pytest.approx(
        100 * (stats.norm.cdf(sample.new_value, 60, 15) - stats.norm.cdf(72, 60, 15)), abs=1e-9)
    assert sample.change_sem == pytest.approx(sample.change / (15 * np.sqrt(0.2)), rel=1e-12)
    experience = next(cf for cf in rec.counterfactuals if cf.input == "evidence.support_experience")
    assert experience.change_sem is None and experience.units.endswith("years fewer")


def test_out_of_reach_says_how_far_it_gets(support):
    evidence = support_evidence(sample=45.0, ratings=(2, 2), years=0.0)
    traits = {"Conscientiousness": 2.5, "Agreeableness": 2.5, "Neuroticism": 4.0, "Extraversion": 3.3}
    rec = support.evaluate(traits, evidence, as_of=AS_OF)
    assert rec.band == "not_advance"
    social = next(cf for cf in rec.counterfactuals if cf.input == "trait.Extraversion")
    assert not social.reachable and "saturated" in social.why and "at most +0.0 points" == social.why_short
    assert "no value of it alone gives human review" in social.text


def test_a_value_outside_the_input_range():
    # utility 1 only at 128 points of a 0..64 test: half the utility is out of the test's range
    model = parse_job_model(HAND.replace("at_zero: 0, at_one: 64}, weight: 4, minimum: 16,",
                                         "at_zero: 0, at_one: 128}, weight: 4,"))
    rec = model.evaluate({"Conscientiousness": 1.0}, evidence_of(40, (4, 4), False, 0), as_of=AS_OF)
    assert rec.score == 40 * 40 / 128 + 15 and rec.band == "not_advance"
    (cf,) = [cf for cf in rec.counterfactuals if cf.input == "evidence.sample"]
    assert not cf.reachable
    assert "it would take 86.4, outside the possible range 0..64" in cf.why  # 42 = 40 x / 128 + 15: x = 86.4
    cm = model._compiled  # the continuous solver says the same
    X = cm.means[None, :].copy()
    U = cm.utilities_of(X)
    arrays = counterfactuals(cm, X, U, U @ cm.coef, U @ cm.coef + 30.0, cm.sems[None, :], details=True)
    assert arrays.why[0, 0] == 2 and arrays.new_value[0, 0] > 64


@pytest.mark.parametrize(("coding", "reachable"), [(64, True), (62, False)])
def test_a_certification_flips(engineer, coding, reachable):
    evidence = {
        "coding_work_sample": {"score": coding, "source": "s", "date": "2026-05-01"},
        "interview_system_design": {"ratings": {"a": 3, "b": 4}, "source": "s", "date": "2026-05-01"},
        "reasoning_test": {"score": 24, "source": "s", "date": "2026-05-01"},
        "engineering_experience": {"years": 4, "source": "s", "date": "2026-05-01"},
        "cloud_certification": {"held": False, "source": "s", "date": "2026-05-01"},
    }
    rec = engineer.evaluate({"Conscientiousness": 3.4, "Openness": 4.0}, evidence, as_of=AS_OF)
    assert rec.band == "review"
    (cf,) = [cf for cf in rec.counterfactuals if cf.criterion == "cloud_certification" and cf.direction == "up"]
    # weight 0.05 of 1.0: holding the certification adds exactly 5 points, past the threshold or not at all
    assert cf.reachable == (rec.score + 5.0 >= 63) == reachable
    if reachable:
        assert (cf.new_value, cf.change) == (1.0, 1.0)
        assert cf.score_after == pytest.approx(rec.score + 5.0, abs=1e-12)
        assert cf.change_sem is None and cf.change_percentile is None and "held" in cf.text
    else:
        assert "at most +5.0 points" in cf.why


def test_routing_says_what_else_must_change(hand):
    # the sample 15 is below its minimum 16: whatever else changes, a person reviews, unless the sample reaches 16;
    # 9.375 + 5 + 20 + 10 + 10 (years 40: 10 (1 - 2^-20)) = 54.4
    evidence = evidence_of(15, (2, 2), True, 40)
    rec = hand.evaluate({"Conscientiousness": 5.0}, evidence, as_of=AS_OF)
    assert rec.band == "review" and rec.score_band == "review"
    up = {cf.input: cf for cf in rec.counterfactuals if cf.direction == "up" and cf.reachable}
    sample = up["evidence.sample"]
    assert sample.alone and sample.new_value == 29  # it clears its own minimum: 40 s / 64 >= 18 + 10 / 2^20
    interview = up["evidence.interview"]
    assert not interview.alone and interview.new_value == 4.0  # 10 + 15 + 40 = 65 with the sample at 16
    assert [(r.input, r.action, r.value) for r in interview.requirements] == [("evidence.sample", "raise_to", 16.0)]
    assert "together with Work sample raised to 16, its minimum" in interview.text
    assert apply(hand, {"Conscientiousness": 5.0}, evidence, interview).band == "advance"
    alone = hand.evaluate({"Conscientiousness": 5.0}, moved(hand, {}, evidence, "evidence.interview",
                                                             interview.new_value)[1], as_of=AS_OF)
    assert alone.band == "review"


def test_a_missing_input_must_be_measured_and_any_plausible_value_does(hand):
    evidence = evidence_of(60, (4, 5), False, 3)  # the interview is there; C is missing (policy review)
    evidence.pop("interview")
    rec = hand.evaluate({"Conscientiousness": 4.0}, evidence, as_of=AS_OF)
    assert rec.band == "review" and any(r.code == "missing" for r in rec.reasons)
    up = [cf for cf in rec.counterfactuals if cf.direction == "up" and cf.reachable]
    interview = next(cf for cf in up if cf.input == "evidence.interview")
    assert interview.imputed and "measured at" in interview.text
    for cf in up:
        if cf.input == "evidence.interview":
            continue
        assert [r.action for r in cf.requirements] == ["measure"]
        cm = hand._compiled
        lo, hi = cm.plausible(cm.index["evidence.interview"])
        for rating in (lo, hi):  # at either end of its plausible range the recommendation is the target
            traits, ev = moved(hand, {"Conscientiousness": 4.0}, evidence, cf.input, cf.new_value)
            out = hand.evaluate_many(_frame(hand, traits, ev, {"evidence.interview": rating}), as_of=AS_OF)
            assert out["band"].iloc[0] == cf.target_band


def _frame(model, traits, evidence, extra):
    import pandas as pd

    row = {f"trait.{k}": v for k, v in traits.items()}
    for key, record in evidence.items():
        value = {"test_score": lambda r: r["score"], "experience": lambda r: r["years"],
                 "certification": lambda r: float(r["held"]),
                 "interview_rating": lambda r: np.mean(list(r["ratings"].values()))}[model.evidence_specs[key].kind]
        row[f"evidence.{key}"] = value(record)
    row.update(extra)
    return pd.DataFrame([row])


def test_both_sides_of_a_target_range(support):
    # Extraversion 1.4..5 around the range 2.6..4.4 (tolerance 1.2): from 3.0 the lower side reaches utility 0.67
    # at the scale's floor 1, the upper side 0 at 5.6 > 5 (0.5 at 5): going down only the upper side can lose
    # more than a third of the criterion's 5 points
    model = parse_job_model(support.source if False else _support_text().replace(
        "low: 2.6, high: 4.4, tolerance: 1.2}\n    weight: 0.05", "low: 2.6, high: 4.4, tolerance: 1.2}\n    weight: 0.4"))
    traits = {**TRAITS, "Extraversion": 3.0}
    rec = model.evaluate(traits, support_evidence(sample=66, ratings=(4, 4)), as_of=AS_OF)
    down = [cf for cf in rec.counterfactuals if cf.input == "trait.Extraversion" and cf.direction == "down"]
    assert down and down[0].reachable, down
    cm = model._compiled
    u = cm.utilities[cm.criterion_ids.index("sociability")]
    assert (down[0].new_value > 4.4) == (float(u(1.0)) * 0 + rec.score - cm.coef[5] * (1 - float(u(1.0))) >= 63)
    assert apply(model, traits, support_evidence(sample=66, ratings=(4, 4)), down[0]).band == down[0].target_band


def _support_text() -> str:
    from profiler.jobmodel import bundled_job_models

    return bundled_job_models()["customer-support"].read_text(encoding="utf-8")


def test_joint_counterfactual_when_no_single_input_suffices(hand):
    # 40 (sample at its top) + 0 (ratings 1, 1) + 2 (C 1.4) = 42: review; advance needs 21 more points, and no
    # single input has them (interview +20, C +18, certificate +10, years +10)
    traits, evidence = {"Conscientiousness": 1.4}, evidence_of(64, (1, 1), False, 0)
    rec = hand.evaluate(traits, evidence, as_of=AS_OF)
    assert rec.band == "review" and rec.score == 42.0
    assert not any(cf.reachable for cf in rec.counterfactuals if cf.direction == "up")
    (joint,) = rec.joint_counterfactuals
    assert joint.direction == "up" and joint.target_band == "advance"
    # most score per SEM first: the certificate (10 points for 1 / 0.433 SD), then the interview (20 points over
    # 8 SEM) only as far as needed: 3.5 (2.5 points of rating = 5 SEM); C (1.6 points per SEM) is not needed
    assert [(c.input, c.new_value) for c in joint.changes] == [("evidence.interview", 3.5), ("evidence.cert", 1.0)]
    sem = hand._compiled.sems[hand._compiled.index["evidence.interview"]]
    assert joint.total_sem == pytest.approx(2.5 / sem + 1 / np.sqrt(0.25 * 0.75), rel=1e-12)
    traits2, evidence2 = traits, evidence
    for change in joint.changes:
        traits2, evidence2 = moved(hand, traits2, evidence2, change.input, change.new_value)
    after = hand.evaluate(traits2, evidence2, as_of=AS_OF)
    assert after.band == "advance" and after.score == pytest.approx(joint.score_after, abs=1e-9) == 64.5
    assert "together 7.3 SEM" in joint.text and "the recommendation advance" in joint.text
    assert "together 7.3 SEM" in " ".join(str(rec).split())


def test_a_minimum_can_be_the_nearest_way_to_review(engineer):
    # not advance with the coding sample 36, one point above its minimum 35: 34 routes to review, sooner than any
    # score change; the counterfactual says so
    evidence = {
        "coding_work_sample": {"score": 36, "source": "s", "date": "2026-05-01"},
        "interview_system_design": {"ratings": {"a": 1, "b": 2}, "source": "s", "date": "2026-05-01"},
        "reasoning_test": {"score": 12, "source": "s", "date": "2026-05-01"},
        "engineering_experience": {"years": 0, "source": "s", "date": "2026-05-01"},
        "cloud_certification": {"held": False, "source": "s", "date": "2026-05-01"},
    }
    rec = engineer.evaluate({"Conscientiousness": 2.5, "Openness": 2.5}, evidence, as_of=AS_OF)
    assert rec.band == "not_advance"
    (coding,) = [cf for cf in rec.counterfactuals if cf.criterion == "coding" and cf.direction == "up"]
    assert coding.new_value == 34 and "below the minimum of 35" in coding.note and coding.note in coding.text
    assert apply(engineer, {"Conscientiousness": 2.5, "Openness": 2.5}, evidence, coding).band == "review"


def test_imputed_inputs_are_measured_at(engineer):
    evidence = {
        "coding_work_sample": {"score": 62, "source": "s", "date": "2026-05-01"},
        "interview_system_design": {"ratings": {"a": 3, "b": 4}, "source": "s", "date": "2026-05-01"},
    }
    rec = engineer.evaluate({"Conscientiousness": 3.4, "Openness": 4.0}, evidence, as_of=AS_OF)
    reasoning = [cf for cf in rec.counterfactuals if cf.criterion == "reasoning" and cf.reachable]
    for cf in reasoning:
        assert cf.imputed and cf.value == 22.0 and "unknown, counted at its norm mean 22" in cf.text


def test_batch_columns(hand):
    import pandas as pd

    frame = pd.DataFrame({"trait.Conscientiousness": [3.6, 1.4], "evidence.sample": [58.0, 64.0],
                          "evidence.interview": [3.0, 1.0], "evidence.cert": [0.0, 0.0], "evidence.years": [2.0, 0.0]})
    out = hand.evaluate_many(frame, as_of=AS_OF)
    assert {"cf_up.sample", "cf_up_sem.sample", "cf_up_alone.sample", "cf_up_joint.sample", "cf_up_joint_sem",
            "cf_down_joint_sem"} <= set(out.columns)
    joint = out.filter(like="cf_up_joint.").iloc[1]
    assert joint.dropna().to_dict() == {"cf_up_joint.interview": 2.5, "cf_up_joint.cert": 1.0}
    assert out["cf_up_joint_sem"].iloc[1] == pytest.approx(7.3094, abs=1e-4)
    assert np.isnan(out["cf_up_joint_sem"].iloc[0])
