"""Explanations: transforms by hand, SHAP values from shap vs the closed form, exact base value, counterfactuals."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from profiler.jobmodel import load_job_model, parse_job_model
from profiler.jobmodel.explanation import (
    closed_form_contributions,
    counterfactuals,
    import_shap,
    shap_contributions,
)
from profiler.jobmodel.spec import BinaryTransform, LinearTransform, SaturatingTransform, TargetRangeTransform
from profiler.jobmodel.transforms import Binary, Linear, Saturating, TargetRange, UtilityBank, utility_of

AS_OF = dt.date(2026, 6, 1)


@pytest.fixture(scope="module")
def support():
    return load_job_model("customer-support")


@pytest.fixture(scope="module")
def engineer():
    return load_job_model("software-engineer")


def support_evidence(sample=72.0, ratings=(4, 3), years=2.0):
    return {
        "email_work_sample": {"score": sample, "source": "s", "date": "2026-05-01"},
        "interview_customer_focus": {"ratings": dict(zip("ab", ratings, strict=True)), "source": "s",
                                     "date": "2026-05-01"},
        "support_experience": {"years": years, "source": "s", "date": "2026-05-01"},
    }


OUT_OF_RANGE = """
id: out-of-range
version: "1"
role: {title: Test role}
job_analysis: {method: written for the tests}
questionnaire: ipip-bfm-50
norms: general
evidence:
  - {id: sample, kind: test_score, name: Work sample, min: 0, max: 64, reliability: 0.8,
     norm: {mean: 32, sd: 10, group: test applicants}}
  - {id: years, kind: experience, name: Years, norm: {mean: 4, sd: 3, group: test applicants}}
criteria:
  - {id: sample, input: evidence.sample, transform: {kind: linear, at_zero: 0, at_one: 128}, weight: 2, rationale: r}
  - {id: c, input: trait.Conscientiousness, transform: {kind: linear, at_zero: 1, at_one: 5}, weight: 1, rationale: r}
  - {id: years, input: evidence.years, transform: {kind: saturating, half_at: 2}, weight: 1, rationale: r}
bands: {advance_from: 60, not_advance_below: 45, review_margin: 3}
"""

TRAITS = {"Conscientiousness": 3.6, "Agreeableness": 4.1, "Neuroticism": 2.8, "Extraversion": 3.3}


# Transforms by hand ----------------------------------------------------------------------------------------
def test_linear_by_hand():
    u = Linear(2.5, 4.5)
    assert u(np.array([1.0, 2.5, 3.0, 3.5, 4.5, 5.0])).tolist() == [0, 0, 0.25, 0.5, 1, 1]
    assert u.derivative(np.array([2.0, 2.5, 3.0, 4.5, 5.0])).tolist() == [0, 0.25, 0.5, 0.25, 0]
    down = Linear(4.0, 2.0)  # decreasing: utility rises as the score falls
    assert down(np.array([1.0, 2.0, 3.0, 4.0, 5.0])).tolist() == [1, 1, 0.5, 0, 0]
    assert down.derivative(np.array([3.0])).tolist() == [-0.5]
    assert down.inverse(0.25, 3.0) == 3.5
    assert u.inverse(np.array([0.0, 0.5, 1.0]), np.array([4.0, 2.0, 3.0])).tolist() == [2.5, 3.5, 4.5]
    assert u.inverse(0.0, 2.0) == 2.0  # already at utility 0: no change
    assert np.isnan(u.inverse(1.2, 3.0))


def test_target_range_by_hand():
    u = TargetRange(2.5, 4.5, 1.25)
    x = np.array([1.0, 1.25, 1.875, 2.5, 3.5, 4.5, 5.125, 5.75, 6.0])
    assert u(x).tolist() == [0, 0, 0.5, 1, 1, 1, 0.5, 0, 0]
    slope = 1 / 1.25
    assert u.derivative(x).tolist() == [0, slope / 2, slope, slope / 2, 0, -slope / 2, -slope, -slope / 2, 0]
    # two branches: the nearest one is returned
    assert u.inverse(0.5, 1.5) == 1.875
    assert u.inverse(0.5, 5.5) == 5.125
    assert u.inverse(0.5, 3.0) == 1.875  # from the plateau, the nearer side (1.875 vs 5.125)
    assert u.inverse(0.5, 4.0) == 5.125
    point = TargetRange(3.0, 3.0, 0.5)  # an ideal point: slopes +2 and -2 meet at 3
    assert point.derivative(np.array([2.75, 3.0, 3.25])).tolist() == [2, 0, -2]


def test_saturating_by_hand():
    u = Saturating(half_at=1.5)
    assert u(np.array([-1.0, 0.0, 1.5, 3.0, 4.5])).tolist() == pytest.approx([0, 0, 0.5, 0.75, 0.875], abs=1e-15)
    ln2 = np.log(2)
    assert u.derivative(np.array([-1.0, 0.0, 1.5])) == pytest.approx([0, ln2 / 1.5 / 2, ln2 / 1.5 / 2], abs=1e-15)
    assert u.inverse(0.75, 0.0) == pytest.approx(3.0, abs=1e-12)
    assert np.isnan(u.inverse(1.0, 0.0))  # utility 1 is never reached
    shifted = Saturating(half_at=2, start=1)
    assert shifted(np.array([1.0, 3.0])).tolist() == pytest.approx([0, 0.5])


def test_binary_by_hand():
    u = Binary()
    assert u(np.array([0.0, 1.0, 0.3])).tolist() == [0, 1, 0.3]
    assert u.inverse(1.0, 0.0) == 1.0
    assert np.isnan(u.inverse(0.5, 0.0))


@pytest.mark.parametrize("utility", [Linear(2.5, 4.5), Linear(4.0, 2.0), TargetRange(2.6, 4.4, 1.2),
                                     TargetRange(3.0, 3.0, 0.5), Saturating(1.5), Saturating(3.0, start=1.0)])
def test_derivative_matches_finite_differences_and_inverse_round_trips(utility):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 8, 2000)
    x = x[np.min(np.abs(x[:, None] - np.array(utility.breakpoints)[None, :]), axis=1) > 1e-4]
    h = 1e-7
    numeric = (utility(x + h) - utility(x - h)) / (2 * h)
    assert utility.derivative(x) == pytest.approx(numeric, abs=1e-6)
    u = rng.uniform(0, 0.999, 500)
    near = rng.uniform(-1, 8, 500)
    assert utility(utility.inverse(u, near)) == pytest.approx(u, abs=1e-12)
    low, high = utility.extremes(0.0, 6.0)
    grid = utility(np.linspace(0, 6, 60001))
    assert (float(low), float(high)) == pytest.approx((grid.min(), grid.max()), abs=1e-9)


def test_utility_bank_matches_the_utilities_one_by_one():
    utilities = [Linear(2.5, 4.5), Saturating(1.5), Linear(4.0, 2.0), TargetRange(2.5, 4.5, 1.25), Binary(),
                 Saturating(3.0, start=1.0)]
    bank = UtilityBank(utilities)
    rng = np.random.default_rng(4)
    Xc = rng.uniform(0, 6, (300, len(utilities)))
    Xc[:, 4] = rng.integers(0, 2, 300)
    U = bank(Xc)
    for c, utility in enumerate(utilities):
        assert np.array_equal(U[:, c], utility(Xc[:, c]))
        assert np.array_equal(bank.derivative(Xc)[:, c], utility.derivative(Xc[:, c]))
    target = np.clip(U + rng.normal(0, 0.3, U.shape), -0.2, 1.2)
    low, high = np.zeros(len(utilities)), np.full(len(utilities), 5.0)
    reached = bank.reach(target, Xc, low, high)
    for c, utility in enumerate(utilities):
        assert np.array_equal(reached[:, c], utility.reach(target[:, c], Xc[:, c], 0.0, 5.0), equal_nan=True)
    assert np.array_equal(bank.inverse(target, Xc)[:, 0], utilities[0].inverse(target[:, 0], Xc[:, 0],
                                                                               keep_level=False), equal_nan=True)
    ok = ~np.isnan(reached[:, :4])
    assert np.abs(bank(np.where(np.isnan(reached), Xc, reached))[:, :4][ok] - target[:, :4][ok]).max() <= 1e-12


def test_utility_of_declarations():
    assert isinstance(utility_of(LinearTransform(kind="linear", at_zero=0, at_one=1)), Linear)
    assert isinstance(utility_of(TargetRangeTransform(kind="target_range", low=1, high=2, tolerance=1)), TargetRange)
    assert isinstance(utility_of(SaturatingTransform(kind="saturating", half_at=1)), Saturating)
    assert isinstance(utility_of(BinaryTransform(kind="binary")), Binary)


# SHAP ----------------------------------------------------------------------------------------------------------
def test_shap_base_value_is_the_average_candidate_exactly(support, engineer):
    for model in (support, engineer):
        cm = model._compiled
        average = {info.key: info.mean for info in cm.inputs if info.is_trait}
        rec = model.evaluate(average, {}, as_of=AS_OF)  # evidence missing: set to the norm means
        assert abs(rec.base_value - rec.score) <= 1e-12
        assert rec.base_value == float(cm.explainer.expected_value)
        assert all(c.contribution == 0.0 for c in rec.contributions)
        # shap kept the single background row: no subsampling, nothing else averaged in
        assert cm.explainer.masker.data.shape[0] == 1
        assert abs(rec.base_value - 100 * np.dot(cm.weights, cm.reference_utility) / cm.weights.sum()) <= 1e-12


def test_shap_values_equal_the_closed_form(support):
    cm = support._compiled
    rng = np.random.default_rng(2)
    U = rng.uniform(0, 1, (5000, len(cm.criterion_ids)))
    base, phi = shap_contributions(cm.explainer, U)
    closed = closed_form_contributions(cm.coef, cm.reference_utility, U)
    assert np.abs(phi - closed).max() <= 1e-12
    # phi_i = w_i (u_i(x_i) - u_i(mean_i)) * 100 / sum(w), literally
    literal = cm.weights * (U - cm.reference_utility) * 100 / cm.weights.sum()
    assert np.abs(phi - literal).max() <= 1e-12
    assert np.abs(base + phi.sum(axis=1) - U @ cm.coef).max() <= 1e-12


def test_evaluate_many_contributions_equal_shap_on_a_sample(support):
    rng = np.random.default_rng(5)
    cm = support._compiled
    frame = pd.DataFrame({info.ref: np.clip(rng.normal(info.mean, info.sd, 2000), info.low, info.high)
                          for info in cm.inputs})
    frame[frame < frame.quantile(0.03)] = np.nan  # some missing
    out = support.evaluate_many(frame, as_of=AS_OF)
    X = np.where(np.isnan(frame[[i.ref for i in cm.inputs]].to_numpy()), cm.means, frame[[i.ref for i in cm.inputs]])
    base, phi = shap_contributions(cm.explainer, cm.utilities_of(X))
    ours = out[[f"contribution.{c}" for c in cm.criterion_ids]].to_numpy()
    assert np.abs(phi - ours).max() <= 1e-12
    assert base == out.attrs["base_value"]


def test_single_candidate_contributions_equal_shap(support):
    rec = support.evaluate(TRAITS, support_evidence(), as_of=AS_OF)
    assert "exact interventional SHAP" in rec.engine
    cm = support._compiled
    base, phi = shap_contributions(cm.explainer, cm.utilities_of(np.array([[c.value for c in rec.contributions]])))
    assert base == pytest.approx(rec.base_value, abs=1e-12)
    assert phi[0] == pytest.approx([c.contribution for c in rec.contributions], abs=1e-12)
    explanation = rec.explanation()
    assert isinstance(explanation, import_shap().Explanation)
    assert explanation.base_values == pytest.approx(rec.base_value, abs=1e-12)
    assert explanation.values == pytest.approx([c.contribution for c in rec.contributions], abs=1e-12)
    assert explanation.data.tolist() == [c.value for c in rec.contributions]
    assert list(explanation.feature_names) == [c.criterion for c in rec.contributions]
    assert rec.additivity_error <= 1e-9
    assert "(checked)" in rec.receipt


# Counterfactuals ---------------------------------------------------------------------------------------------
def _with(model, traits, evidence, cf, nudge=0.0):
    """Re-evaluate with the counterfactual's input changed (and moved ``nudge`` further the same way)."""
    value = cf.new_value + nudge * np.sign(cf.change)
    source, _, key = cf.input.partition(".")
    if source == "trait":
        return model.evaluate({**traits, key: value}, evidence, as_of=AS_OF, draws=10)
    evidence = {k: dict(v) for k, v in evidence.items()}
    field = {"email_work_sample": "score", "support_experience": "years"}[key]
    evidence[key][field] = value
    return model.evaluate(traits, evidence, as_of=AS_OF, draws=10)


@pytest.mark.parametrize(("sample", "ratings", "expected"), [
    (72.0, (4, 3), {("down", "review")}),  # advance: only down
    (58.0, (3, 3), {("up", "advance"), ("down", "not_advance")}),  # review: both ways
    (35.0, (2, 1), {("up", "review")}),  # not advance: only up (knock-out aside)
])  # fmt: skip
def test_counterfactuals_move_the_score_exactly_onto_the_threshold(support, sample, ratings, expected):
    evidence = support_evidence(sample=sample, ratings=ratings)
    rec = support.evaluate(TRAITS, evidence, as_of=AS_OF)
    assert {(cf.direction, cf.target_band) for cf in rec.counterfactuals} == expected
    checked = 0
    for cf in rec.counterfactuals:
        if not cf.reachable or cf.input == "evidence.interview_customer_focus":
            continue  # interview means come from integer ratings (checked in test_frame_counterfactual_columns)
        moved = _with(support, TRAITS, evidence, cf)
        assert abs(moved.score - cf.threshold) <= 1e-9
        assert abs(cf.score_after - cf.threshold) <= 1e-9
        assert cf.change == pytest.approx(cf.new_value - cf.value, abs=1e-12)
        # a hair further and the score is in the target band
        assert _with(support, TRAITS, evidence, cf, nudge=1e-6).score_band == cf.target_band
        checked += 1
    assert checked >= 1


def test_counterfactual_units_sems_and_percentiles(support):
    rec = support.evaluate(TRAITS, support_evidence(), as_of=AS_OF)
    cm = support._compiled
    conscientiousness = next(cf for cf in rec.counterfactuals if cf.criterion == "conscientiousness")
    norm = support.norms.scale("Conscientiousness")
    assert conscientiousness.change_sem == pytest.approx(conscientiousness.change / norm.sem, rel=1e-12)
    assert conscientiousness.percentile_method == "empirical"
    assert conscientiousness.change_percentile == pytest.approx(
        float((norm.empirical_percentile(np.array([conscientiousness.new_value]))
               - norm.empirical_percentile(np.array([3.6])))[0]), abs=1e-9)
    assert "had it been measured" in conscientiousness.text  # a measurement distance, not advice
    sample = next(cf for cf in rec.counterfactuals if cf.criterion == "work_sample")
    assert sample.percentile_method == "normal"
    from scipy import stats

    assert sample.change_percentile == pytest.approx(
        100 * (stats.norm.cdf(sample.new_value, 60, 15) - stats.norm.cdf(72, 60, 15)), abs=1e-9)
    assert sample.change_sem == pytest.approx(sample.change / (15 * np.sqrt(0.2)), rel=1e-12)
    experience = next(cf for cf in rec.counterfactuals if cf.criterion == "experience")
    assert experience.change_sem is None  # a recorded fact has no measurement error
    assert cm.inputs[cm.index["evidence.support_experience"]].sem == 0


def test_counterfactuals_out_of_reach(support):
    # a weak candidate in the not-advance band: the small-weight sociability criterion is already at utility 1
    evidence = support_evidence(sample=45.0, ratings=(2, 2), years=0.0)
    traits = {"Conscientiousness": 2.5, "Agreeableness": 2.5, "Neuroticism": 4.0, "Extraversion": 3.3}
    rec = support.evaluate(traits, evidence, as_of=AS_OF)
    assert rec.score_band == "not_advance"
    social = next(cf for cf in rec.counterfactuals if cf.criterion == "sociability")
    assert not social.reachable and "saturated" in social.why
    assert "no value of it alone" in social.text


def test_counterfactual_outside_the_input_range():
    # utility 1 only at 128 points of a 0..64 test: half the utility is out of the test's range
    model = parse_job_model(OUT_OF_RANGE)
    evidence = {"sample": {"score": 40, "source": "s", "date": "2026-05-01"},
                "years": {"years": 0, "source": "s", "date": "2026-05-01"}}
    rec = model.evaluate({"Conscientiousness": 1.0}, evidence, as_of=AS_OF)
    assert rec.score == 50 * 40 / 128
    assert rec.score_band == "not_advance"
    (cf,) = [cf for cf in rec.counterfactuals if cf.criterion == "sample"]
    assert not cf.reachable
    assert "it would take 108, outside the possible range 0..64" in cf.why  # 42 = 50 x / 128: x = 107.52
    cm = model._compiled
    X = cm.means[None, :].copy()
    U = cm.utilities_of(X)
    arrays = counterfactuals(cm, X, U, U @ cm.coef, U @ cm.coef + 20.0, cm.sems[None, :], details=True)  # u .25 -> .65
    assert arrays.why[0, 0] == 2 and arrays.new_value[0, 0] > 64


@pytest.mark.parametrize(("coding", "reachable"), [(64, True), (62, False)])
def test_binary_counterfactual_flips_past_the_threshold(engineer, coding, reachable):
    evidence = {
        "coding_work_sample": {"score": coding, "source": "s", "date": "2026-05-01"},
        "interview_system_design": {"ratings": {"a": 3, "b": 4}, "source": "s", "date": "2026-05-01"},
        "reasoning_test": {"score": 24, "source": "s", "date": "2026-05-01"},
        "engineering_experience": {"years": 4, "source": "s", "date": "2026-05-01"},
        "cloud_certification": {"held": False, "source": "s", "date": "2026-05-01"},
    }
    rec = engineer.evaluate({"Conscientiousness": 3.4, "Openness": 4.0}, evidence, as_of=AS_OF)
    assert rec.score_band == "review"
    (cf,) = [cf for cf in rec.counterfactuals if cf.criterion == "cloud_certification" and cf.direction == "up"]
    # weight 0.05 of 1.0: holding the certification adds exactly 5 points, past the threshold or not at all
    assert cf.reachable == (rec.score + 5.0 >= cf.threshold) == reachable
    if reachable:
        assert (cf.new_value, cf.change) == (1.0, 1.0)
        assert cf.score_after == pytest.approx(rec.score + 5.0, abs=1e-12)
        assert cf.score_after > cf.threshold
        assert cf.change_sem is None and cf.change_percentile is None
    else:
        assert "at most 5.0 points up" in cf.why


def test_imputed_inputs_are_marked_in_counterfactuals(engineer):
    evidence = {
        "coding_work_sample": {"score": 62, "source": "s", "date": "2026-05-01"},
        "interview_system_design": {"ratings": {"a": 3, "b": 4}, "source": "s", "date": "2026-05-01"},
    }
    rec = engineer.evaluate({"Conscientiousness": 3.4, "Openness": 4.0}, evidence, as_of=AS_OF)
    reasoning = next(cf for cf in rec.counterfactuals if cf.criterion == "reasoning")
    assert reasoning.imputed and reasoning.value == 22.0
    assert "unknown" in reasoning.text


def test_frame_counterfactual_columns(support):
    frame = pd.DataFrame({"trait.Conscientiousness": [3.6], "trait.Agreeableness": [4.1],
                          "trait.Neuroticism": [2.8], "trait.Extraversion": [3.3],
                          "evidence.email_work_sample": [58.0], "evidence.interview_customer_focus": [3.0],
                          "evidence.support_experience": [2.0]})
    out = support.evaluate_many(frame, as_of=AS_OF).iloc[0]
    assert out["score_band"] == "review"
    cm = support._compiled
    for criterion, value in (("work_sample", 58.0), ("customer_focus", 3.0)):
        c = cm.criterion_ids.index(criterion)
        for direction, target in (("up", cm.upper), ("down", cm.lower)):
            change = out[f"cf_{direction}.{criterion}"]
            if np.isnan(change):
                continue
            new_score = out["score"] + cm.coef[c] * (cm.utilities[c](value + change) - cm.utilities[c](value))
            assert abs(new_score - target) <= 1e-9
            sem = cm.sems[cm.input_of[c]]
            assert out[f"cf_{direction}_sem.{criterion}"] == pytest.approx(change / sem, rel=1e-12)
    assert not np.isnan(out["cf_up.customer_focus"])


def test_counterfactual_below_a_minimum_is_noted(engineer):
    evidence = {
        "coding_work_sample": {"score": 62, "source": "s", "date": "2026-05-01"},
        "interview_system_design": {"ratings": {"a": 3, "b": 4}, "source": "s", "date": "2026-05-01"},
        "reasoning_test": {"score": 24, "source": "s", "date": "2026-05-01"},
        "engineering_experience": {"years": 4, "source": "s", "date": "2026-05-01"},
        "cloud_certification": {"held": False, "source": "s", "date": "2026-05-01"},
    }
    rec = engineer.evaluate({"Conscientiousness": 3.4, "Openness": 4.0}, evidence, as_of=AS_OF)
    (down,) = [cf for cf in rec.counterfactuals if cf.criterion == "coding" and cf.direction == "down"]
    assert down.reachable and down.new_value < 35
    assert "below the minimum of 35" in down.note and down.note in down.text
    (up,) = [cf for cf in rec.counterfactuals if cf.criterion == "coding" and cf.direction == "up"]
    assert up.note is None
