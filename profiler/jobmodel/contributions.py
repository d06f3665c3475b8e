"""SHAP contributions of a job-model score, computed with the ``shap`` package.

The score is additive in the criteria's utilities, ``s(u) = sum_i c_i u_i`` with ``c_i = 100 w_i / sum w``.
Its interventional SHAP values against a background of one row, the average candidate's utilities
``u_i(mean_i)``, are exact and closed-form::

    phi_i = c_i (u_i(x_i) - u_i(mean_i)),    base value = s(u(mean)),    base + sum_i phi_i = s(u(x)).

They are computed with the ``shap`` package (:func:`make_explainer`: ``shap.LinearExplainer`` on the
coefficients, background passed through ``shap.maskers.Independent(background, max_samples=1)`` so that
shap cannot subsample it), which is what auditors and data scientists read. The vectorized path for many
candidates uses the closed form (:func:`closed_form_contributions`), which the tests check against shap.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np


def import_shap() -> Any:
    """``import shap``, lazily (it imports numba and takes seconds), without the deprecation notices that
    its own imports raise (e.g. matplotlib's about ``set_bad``): they concern shap, not the caller."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        import shap
    return shap


def make_explainer(coef: np.ndarray, reference_utility: np.ndarray) -> Any:
    """``shap.LinearExplainer`` of ``s(u) = coef @ u`` with the average candidate as the only background row.

    ``max_samples=1`` with one row: shap neither subsamples the background (its default keeps 100 rows of a
    larger one) nor averages anything else, so ``expected_value == coef @ reference_utility``.
    """
    shap = import_shap()
    masker = shap.maskers.Independent(np.asarray(reference_utility, dtype=float)[None, :], max_samples=1)
    return shap.LinearExplainer((np.asarray(coef, dtype=float), 0.0), masker)


def shap_contributions(explainer: Any, U: np.ndarray) -> tuple[float, np.ndarray]:
    """Base value and SHAP values (n, criteria) of utilities ``U`` (n, criteria), from shap."""
    values = np.asarray(explainer.shap_values(np.atleast_2d(U)), dtype=float)
    return float(explainer.expected_value), values


def closed_form_contributions(coef: np.ndarray, reference_utility: np.ndarray, U: np.ndarray) -> np.ndarray:
    """``phi_i = c_i (u_i - u_i(mean))`` for every row of ``U`` (the same numbers shap returns)."""
    return (np.atleast_2d(U) - reference_utility) * coef


def shap_explanation(values: np.ndarray, base_values: Any, data: np.ndarray, feature_names: list[str]) -> Any:
    """A ``shap.Explanation`` of contributions: one row (1-d ``values``) or many (2-d), for shap's plots.

    ``base_values`` is the reference point's score (a scalar, repeated per row for a batch), ``data`` the
    input value behind each contribution, ``feature_names`` the criteria.
    """
    shap = import_shap()
    values = np.asarray(values, dtype=float)
    base = np.full(values.shape[0], float(base_values)) if values.ndim == 2 else float(base_values)
    return shap.Explanation(values=values, base_values=base, data=np.asarray(data, dtype=float),
                            feature_names=list(feature_names))


def batch_explanation(result: Any) -> Any:
    """The contributions of :meth:`JobModel.evaluate_many <profiler.jobmodel.JobModel.evaluate_many>`'s result
    as one ``shap.Explanation`` (a row per candidate), for ``shap.plots.beeswarm`` and ``shap.plots.bar``."""
    criteria = result.attrs.get("criteria")
    if criteria is None or "base_value" not in result.attrs:
        raise ValueError("not a result of JobModel.evaluate_many (its attrs name no criteria or base value)")
    values = result[[f"contribution.{c}" for c in criteria]].to_numpy(dtype=float)
    data = result[[f"value.{c}" for c in criteria]].to_numpy(dtype=float)
    return shap_explanation(values, result.attrs["base_value"], data, criteria)


__all__ = ["batch_explanation", "closed_form_contributions", "import_shap", "make_explainer", "shap_contributions",
           "shap_explanation"]
