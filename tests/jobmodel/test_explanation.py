"""Explanations: transforms by hand, SHAP values from shap vs the closed form, exact base value (counterfactuals:
test_counterfactuals.py)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from profiler.jobmodel import load_job_model
from profiler.jobmodel.explanation import (
    closed_form_contributions,
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
