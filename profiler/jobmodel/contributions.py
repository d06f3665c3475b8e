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


__all__ = ["closed_form_contributions", "import_shap", "make_explainer", "shap_contributions"]
