"""Explanations of a job-model score: SHAP contributions and counterfactuals.

Contributions
-------------
The score is additive in the criteria's utilities, ``s(u) = sum_i c_i u_i`` with ``c_i = 100 w_i / sum w``.
Its interventional SHAP values against a background of one row, the average candidate's utilities
``u_i(mean_i)``, are exact and closed-form::

    phi_i = c_i (u_i(x_i) - u_i(mean_i)),    base value = s(u(mean)),    base + sum_i phi_i = s(u(x)).

They are computed with the ``shap`` package (:func:`make_explainer`: ``shap.LinearExplainer`` on the
coefficients, background passed through ``shap.maskers.Independent(background, max_samples=1)`` so that
shap cannot subsample it), which is what auditors and data scientists read. The vectorized path for many
candidates uses the closed form (:func:`closed_form_contributions`), which the tests check against shap.

Counterfactuals
---------------
For criterion ``j`` and a threshold ``t`` the score ``s`` must reach, the utility must change by
``(t - s) / c_j``: the input value nearest the current one with utility ``u_j + (t - s) / c_j`` is found by
the transform's inverse. It is out of reach when that utility is outside 0..1 (the criterion alone
cannot move the score that far: it is saturated) or when the value lies outside the input's range. A 0/1
input can only flip; its counterfactual goes past the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from profiler.jobmodel.evaluation import CompiledModel

REACHABLE, SATURATED, OUT_OF_RANGE, NO_TARGET = 0, 1, 2, 3
WHY = {
    REACHABLE: "",
    SATURATED: "its utility is saturated: even its best (or worst) value moves the score less than that",
    OUT_OF_RANGE: "the value it would take lies outside the input's possible range",
    NO_TARGET: "there is no further band in this direction",
}


def make_explainer(coef: np.ndarray, reference_utility: np.ndarray) -> Any:
    """``shap.LinearExplainer`` of ``s(u) = coef @ u`` with the average candidate as the only background row.

    ``max_samples=1`` with one row: shap neither subsamples the background (its default keeps 100 rows of a
    larger one) nor averages anything else, so ``expected_value == coef @ reference_utility``.
    """
    import shap  # slow to import (numba): only when needed

    masker = shap.maskers.Independent(np.asarray(reference_utility, dtype=float)[None, :], max_samples=1)
    return shap.LinearExplainer((np.asarray(coef, dtype=float), 0.0), masker)


def shap_contributions(explainer: Any, U: np.ndarray) -> tuple[float, np.ndarray]:
    """Base value and SHAP values (n, criteria) of utilities ``U`` (n, criteria), from shap."""
    values = np.asarray(explainer.shap_values(np.atleast_2d(U)), dtype=float)
    return float(explainer.expected_value), values


def closed_form_contributions(coef: np.ndarray, reference_utility: np.ndarray, U: np.ndarray) -> np.ndarray:
    """``phi_i = c_i (u_i - u_i(mean))`` for every row of ``U`` (the same numbers shap returns)."""
    return (np.atleast_2d(U) - reference_utility) * coef


@dataclass(frozen=True)
class CounterfactualArrays:
    """Counterfactuals of n candidates x criteria toward one threshold per candidate.

    ``why`` holds codes (:data:`REACHABLE`, :data:`SATURATED`, :data:`OUT_OF_RANGE`, :data:`NO_TARGET`);
    ``new_value`` is kept where it is out of range, to say how far outside it is.
    """

    reachable: np.ndarray
    new_value: np.ndarray
    change: np.ndarray
    change_sem: np.ndarray
    change_percentile: np.ndarray
    score_after: np.ndarray
    why: np.ndarray


def counterfactuals(cm: CompiledModel, X: np.ndarray, U: np.ndarray, score: np.ndarray, threshold: np.ndarray,
                    sem: np.ndarray, *, percentiles: bool = False) -> CounterfactualArrays:
    """Single-input changes that bring each candidate's score onto ``threshold`` (NaN: no target).

    Parameters
    ----------
    cm : CompiledModel
    X, U : arrays (n, inputs), (n, criteria)
        Inputs (unknown ones at their norm mean) and utilities.
    score, threshold : arrays (n,)
    sem : array (n, inputs)
        SEM of each input in its units (0 for recorded facts: no change in SEMs then).
    percentiles : bool
        Also compute the change in percentile points of the input's norm distribution.
    """
    n, C = U.shape
    needed = (threshold - score)[:, None] / cm.coef[None, :]
    target = U + needed
    shape = (n, C)
    reachable = np.zeros(shape, bool)
    new_value = np.full(shape, np.nan)
    why = np.full(shape, NO_TARGET, dtype=np.int8)
    score_after = np.full(shape, np.nan)
    change_sem = np.full(shape, np.nan)
    change_pct = np.full(shape, np.nan)
    has_target = ~np.isnan(threshold)
    for c in range(C):
        j = cm.input_of[c]
        info = cm.inputs[j]
        utility = cm.utilities[c]
        x = X[:, j]
        if info.binary:
            up = needed[:, c] > 0
            new = np.where(needed[:, c] == 0, x, np.where(up, 1.0, 0.0))
            ok = np.where(up, (target[:, c] <= 1) & (U[:, c] < 1), (target[:, c] >= 0) & (U[:, c] > 0))
            ok |= needed[:, c] == 0
            code = np.where(ok, REACHABLE, SATURATED)
        else:
            new = utility.inverse(target[:, c], x)
            attainable = np.isfinite(new)
            in_range = (new >= info.low) & (new <= info.high)
            ok = attainable & in_range
            code = np.where(~attainable, SATURATED, np.where(~in_range, OUT_OF_RANGE, REACHABLE))
        ok &= has_target
        reachable[:, c] = ok
        new_value[:, c] = np.where(has_target, new, np.nan)
        why[:, c] = np.where(has_target, code, NO_TARGET)
        score_after[:, c] = np.where(ok, score + cm.coef[c] * (utility(np.where(ok, new, x)) - U[:, c]), np.nan)
        delta = new - x
        with np.errstate(divide="ignore", invalid="ignore"):
            change_sem[:, c] = np.where(ok & (sem[:, j] > 0), delta / sem[:, j], np.nan)
        if percentiles and info.percentile_method is not None:
            change_pct[:, c] = np.where(ok, info.percentile(np.where(ok, new, x)) - info.percentile(x), np.nan)
    change = np.where(reachable, new_value - X[:, cm.input_of], np.nan)
    return CounterfactualArrays(reachable, new_value, change, change_sem, change_pct, score_after, why)


__all__ = [
    "WHY",
    "CounterfactualArrays",
    "closed_form_contributions",
    "counterfactuals",
    "make_explainer",
    "shap_contributions",
]
