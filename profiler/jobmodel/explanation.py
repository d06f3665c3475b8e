"""Explanations of a job-model score: counterfactuals (the SHAP contributions are in
:mod:`profiler.jobmodel.contributions`, re-exported here).

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
from typing import TYPE_CHECKING

import numpy as np

from profiler.jobmodel.contributions import (
    closed_form_contributions,
    import_shap,
    make_explainer,
    shap_contributions,
)

if TYPE_CHECKING:
    from profiler.jobmodel.compiled import CompiledModel

REACHABLE, SATURATED, OUT_OF_RANGE, NO_TARGET = 0, 1, 2, 3
WHY = {
    REACHABLE: "",
    SATURATED: "its utility is saturated: even its best (or worst) value moves the score less than that",
    OUT_OF_RANGE: "the value it would take lies outside the input's possible range",
    NO_TARGET: "there is no further band in this direction",
}


@dataclass(frozen=True)
class CounterfactualArrays:
    """Counterfactuals of n candidates x criteria toward one threshold per candidate.

    ``change`` (input units) and ``change_sem`` (SEMs; NaN for inputs without measurement error) are NaN
    where there is no target or it is out of reach. With ``details``: ``new_value`` (kept where it is out
    of range, to say how far outside it is), ``score_after``, ``change_percentile`` and ``why`` codes
    (:data:`REACHABLE`, :data:`SATURATED`, :data:`OUT_OF_RANGE`, :data:`NO_TARGET`); otherwise None.
    """

    change: np.ndarray
    change_sem: np.ndarray
    new_value: np.ndarray | None = None
    score_after: np.ndarray | None = None
    change_percentile: np.ndarray | None = None
    why: np.ndarray | None = None

    @property
    def reachable(self) -> np.ndarray:
        return ~np.isnan(self.change)


def counterfactuals(cm: CompiledModel, X: np.ndarray, U: np.ndarray, score: np.ndarray, threshold: np.ndarray,
                    sem: np.ndarray, *, details: bool = False) -> CounterfactualArrays:
    """Single-input changes that bring each candidate's score onto ``threshold`` (NaN: no target).

    Parameters
    ----------
    cm : CompiledModel
    X, U : arrays (n, inputs), (n, criteria)
        Inputs (unknown ones at their norm mean) and utilities.
    score, threshold : arrays (n,)
    sem : array (n, inputs)
        SEM of each input in its units (0 for recorded facts: no change in SEMs then).
    details : bool
        Also return the new values, the scores they give, percentile changes and why the others are out
        of reach (the single-candidate path; the many-candidate path skips them for speed).
    """
    gap = (threshold - score)[:, None]  # NaN where there is no target: NaN then propagates to every result
    Xc = X[:, cm.input_of]
    target = U + gap / cm.coef  # the utility that puts the score on the threshold
    new = cm.bank.reach(target, Xc, cm.criterion_lows, cm.criterion_highs)  # NaN: saturated or out of range
    change = new - Xc
    on_threshold = (gap == 0)[:, 0]  # already there: no change (the inverse may sit on a plateau's far end)
    change[on_threshold] = 0.0
    with np.errstate(divide="ignore"):
        per_sem = np.where(sem > 0, 1.0 / sem, np.nan)[:, cm.input_of]
    change_sem = change * per_sem
    if details:
        ok = ~np.isnan(change)
        new_value = np.where(ok, np.where(on_threshold[:, None], Xc, new), cm.bank.inverse(target, Xc))
        new_value[np.isnan(gap[:, 0])] = np.nan
        score_after = np.where(ok, score[:, None] + cm.coef * (cm.bank(np.where(ok, new_value, Xc)) - U), np.nan)
        why = np.where(np.isnan(gap), NO_TARGET,
                       np.where(ok, REACHABLE, np.where(np.isfinite(new_value), OUT_OF_RANGE, SATURATED)))
        change_pct = np.full(U.shape, np.nan)
        for c in range(U.shape[1]):
            info = cm.inputs[cm.input_of[c]]
            if info.percentile_method is not None and ok[:, c].any():
                moved = np.where(ok[:, c], new_value[:, c], Xc[:, c])
                change_pct[:, c] = np.where(ok[:, c], info.percentile(moved) - info.percentile(Xc[:, c]), np.nan)
    if not details:
        return CounterfactualArrays(change, change_sem)
    return CounterfactualArrays(change, change_sem, new_value, score_after, change_pct, why)


__all__ = [
    "WHY",
    "import_shap",
    "CounterfactualArrays",
    "closed_form_contributions",
    "counterfactuals",
    "make_explainer",
    "shap_contributions",
]
