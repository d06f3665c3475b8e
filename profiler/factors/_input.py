"""Turn item responses or a correlation matrix into the correlation matrix that factor models use.

Missing responses are never imputed. The caller chooses a policy explicitly:

- ``"raise"``: any missing value is an error;
- ``"listwise"``: rows with any missing value are dropped before anything is computed;
- ``"pairwise"``: each correlation uses the rows where both items were answered (R's
  ``cor(x, use = "pairwise")``);
- ``"fiml"`` (factor models that take it): correlations of the maximum-likelihood (EM) estimate of
  the covariance matrix under multivariate normality, from every row
  (:func:`profiler.factors.missing.em_moments`).

Every result carries a :class:`profiler.factors.missing.MissingData` record of what was missing and
how it was handled.

Infinite values are always an error. Correlations of complete data are computed in one pass over the
rows, block by block, with a shifted sum of cross-products, so memory after the pass is O(p^2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from profiler.factors.missing import MissingData, describe_missing, em_moments

MissingPolicy = Literal["raise", "listwise", "pairwise"]
MISSING_POLICIES: tuple[str, ...] = ("raise", "listwise", "pairwise")
#: Policies of the estimators that can also use FIML moments (EFA).
FIML_MISSING_POLICIES: tuple[str, ...] = (*MISSING_POLICIES, "fiml")

_BLOCK_ROWS = 8192  # rows per block in the one-pass cross-product


@dataclass(frozen=True)
class CorrelationInput:
    """A correlation matrix ready for factoring, with where it came from.

    Attributes
    ----------
    corr : ndarray of shape (p, p)
        Pearson correlations (symmetric, unit diagonal).
    n_obs : int or None
        Number of observations behind ``corr``: the rows used (listwise or complete data), the smallest
        pairwise count (pairwise), or what the caller gave with a correlation matrix (None if unknown).
    feature_names : ndarray of str, shape (p,)
        Item names (DataFrame columns, or ``x0..x{p-1}``).
    means, scales : ndarray of shape (p,) or None
        Item means and standard deviations (n - 1 denominator) of the data behind ``corr``; None for
        correlation-matrix input. Factor scores standardise new data with these, as psych's
        ``factor.scores`` does with ``scale(x)``.
    pairwise_counts : ndarray of shape (p, p) or None
        Observations behind each correlation (pairwise policy only).
    n_rows_dropped : int
        Rows removed by listwise deletion, or rows without any response under fiml (0 otherwise).
    missing : MissingData or None
        What was missing and how it was handled (None for correlation-matrix input).
    """

    corr: np.ndarray
    n_obs: int | None
    feature_names: np.ndarray
    means: np.ndarray | None = None
    scales: np.ndarray | None = None
    pairwise_counts: np.ndarray | None = None
    n_rows_dropped: int = 0
    missing: MissingData | None = None


def _names(X: object, p: int, feature_names: Sequence[str] | None) -> np.ndarray:
    if feature_names is not None:
        names = np.asarray([str(n) for n in feature_names], dtype=object)
        if names.shape != (p,):
            raise ValueError(f"feature_names has {names.size} names for {p} columns.")
        return names
    if isinstance(X, pd.DataFrame):
        return np.asarray([str(c) for c in X.columns], dtype=object)
    return np.asarray([f"x{i}" for i in range(p)], dtype=object)


def _as_2d_float(X: object) -> np.ndarray:
    if isinstance(X, pd.DataFrame):
        non_numeric = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
        if non_numeric:
            raise ValueError(f"Columns must be numeric; not numeric: {non_numeric[:5]}.")
        arr = X.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"Expected a 2-D array (rows x items), got {arr.ndim} dimension(s).")
    return arr


def cross_products(X: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """One pass over complete rows: count, means and the centred cross-product matrix.

    Uses the shifted-data formula ``sum((x - K)(x - K)') - n d d'`` with ``K`` the first row and
    ``d = mean(x - K)``, accumulated block by block, which is accurate and needs O(p^2) memory beyond X.
    """
    n, p = X.shape
    if n == 0:
        return 0, np.full(p, np.nan), np.zeros((p, p))
    shift = X[0].astype(np.float64, copy=True)
    total = np.zeros(p)
    cp = np.zeros((p, p))
    for start in range(0, n, _BLOCK_ROWS):
        block = X[start : start + _BLOCK_ROWS] - shift  # float64 copy of one block only
        total += block.sum(axis=0)
        cp += block.T @ block
    d = total / n
    cp -= n * np.outer(d, d)
    cp = (cp + cp.T) / 2.0
    return n, shift + d, cp


def _complete_correlation(X: np.ndarray, names: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, means, cp = cross_products(X)
    if n < 3:
        raise ValueError(f"At least 3 complete rows are needed to compute correlations; got {n}.")
    var = np.diag(cp) / (n - 1)
    _check_variance(var, names)
    sd = np.sqrt(var)
    inv = 1.0 / np.sqrt(np.diag(cp))
    corr = cp * inv[:, None] * inv[None, :]
    np.fill_diagonal(corr, 1.0)
    return corr, means, sd


def _check_variance(var: np.ndarray, names: np.ndarray) -> None:
    bad = np.flatnonzero(~(var > 0))
    if bad.size:
        raise ValueError(
            "Items without variance cannot be correlated: " + ", ".join(str(names[i]) for i in bad[:10]) + "."
        )


def _pairwise_correlation(
    X: np.ndarray, names: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """R's ``cor(x, use = "pairwise")``: pairwise-complete means and SDs for every pair."""
    observed = ~np.isnan(X)
    empty = np.flatnonzero(~observed.any(axis=0))
    if empty.size:
        raise ValueError("Items without any response: " + ", ".join(str(names[i]) for i in empty[:10]) + ".")
    means = np.nanmean(X, axis=0)
    Z = np.where(observed, X - means, 0.0)  # centring first keeps the sums well conditioned
    M = observed.astype(np.float64)
    n = M.T @ M  # n[i, j]: rows where both i and j are observed
    if np.any(n < 3):
        i, j = np.unravel_index(np.argmin(n), n.shape)
        raise ValueError(
            f"Pairwise correlation needs at least 3 rows answering both items; "
            f"{names[i]} and {names[j]} share {int(n[i, j])}."
        )
    sx = Z.T @ M  # sx[i, j]: sum of item i over rows where j is observed
    sxx = (Z * Z).T @ M
    sxy = Z.T @ Z
    cov = sxy - sx * sx.T / n
    var_i = sxx - sx**2 / n  # variance of i within the pair (times n - 1)
    _check_variance(np.diag(var_i), names)
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = cov / np.sqrt(var_i * var_i.T)
    if not np.all(np.isfinite(corr)):
        i, j = np.argwhere(~np.isfinite(corr))[0]
        raise ValueError(f"Items {names[i]} and {names[j]} have no variance where both are observed.")
    corr = (corr + corr.T) / 2.0
    np.fill_diagonal(corr, 1.0)
    sd = np.sqrt(np.diag(var_i) / (np.diag(n) - 1))
    return corr, means, sd, n.astype(np.int64)


def correlation_from_data(
    X: object,
    *,
    missing: MissingPolicy = "listwise",
    feature_names: Sequence[str] | None = None,
) -> CorrelationInput:
    """Pearson correlations of item responses with an explicit missing-data policy.

    Parameters
    ----------
    X : DataFrame or array-like of shape (n, p)
        Responses, one row per respondent; NaN (or pandas NA) marks a missing response.
    missing : {"raise", "listwise", "pairwise", "fiml"}
        What to do with missing responses (never imputation of single values); see the module
        docstring.
    feature_names : sequence of str, optional
        Item names; defaults to the DataFrame columns or ``x0..x{p-1}``.

    Returns
    -------
    CorrelationInput

    Raises
    ------
    ValueError
        Missing values with ``missing="raise"``, infinite values, fewer than 3 usable rows, items
        without variance, or an unknown policy.

    Notes
    -----
    In R: ``cor(na.omit(x))`` (listwise), ``cor(x, use = "pairwise")``, or
    ``cov2cor(lavInspect(lavCor(x, missing = "ml", output = "fit"), "sampstat")$cov)`` (fiml).
    """
    if missing not in FIML_MISSING_POLICIES:
        raise ValueError(f"missing must be one of {FIML_MISSING_POLICIES}; got {missing!r}.")
    arr = _as_2d_float(X)
    n_rows, p = arr.shape
    names = _names(X, p, feature_names)
    if p < 2:
        raise ValueError(f"At least 2 items are needed; got {p}.")
    if np.isfinite(arr.sum()):  # one pass without temporaries: no NaN and no infinity
        corr, means, sd = _complete_correlation(arr, names)
        report = MissingData("complete", n_rows, 0, n_rows, 0, n_rows * p, 0, 0.0)
        return CorrelationInput(corr, n_rows, names, means, sd, missing=report)
    if np.isinf(arr).any():
        raise ValueError("Infinite values are not valid responses.")
    nan_rows = np.isnan(arr).any(axis=1)
    n_missing_rows = int(nan_rows.sum())
    if n_missing_rows and missing == "raise":
        cols = [str(names[j]) for j in np.flatnonzero(np.isnan(arr).any(axis=0))]
        raise ValueError(
            f"Missing values (NaN) in {n_missing_rows} of {n_rows} rows (items: {', '.join(cols[:10])}"
            f"{', ...' if len(cols) > 10 else ''}). Choose missing='listwise' (drop those rows) or "
            "missing='pairwise' (use every available pair); profiler never imputes responses."
        )
    observed = ~np.isnan(arr)
    if missing == "listwise":
        kept = arr[~nan_rows]
        corr, means, sd = _complete_correlation(kept, names)
        report = describe_missing(observed, "listwise", kept.shape[0])
        return CorrelationInput(corr, kept.shape[0], names, means, sd, n_rows_dropped=n_missing_rows, missing=report)
    if missing == "fiml":
        return _fiml_correlation(arr, observed, names)
    corr, means, sd, counts = _pairwise_correlation(arr, names)
    off = counts[~np.eye(p, dtype=bool)]
    report = describe_missing(
        observed, "pairwise", int(np.count_nonzero(observed.any(axis=1))), min_pairwise_n=int(off.min())
    )
    return CorrelationInput(corr, int(off.min()), names, means, sd, pairwise_counts=counts, missing=report)


def _fiml_correlation(arr: np.ndarray, observed: np.ndarray, names: np.ndarray) -> CorrelationInput:
    empty = np.flatnonzero(~observed.any(axis=0))
    if empty.size:
        raise ValueError("Items without any response: " + ", ".join(str(names[i]) for i in empty[:10]) + ".")
    moments = em_moments(arr)
    _check_variance(np.diag(moments.cov), names)
    sd = np.sqrt(np.diag(moments.cov))
    corr = moments.cov / np.outer(sd, sd)
    corr = (corr + corr.T) / 2.0
    np.fill_diagonal(corr, 1.0)
    report = describe_missing(
        observed, "fiml", moments.n_obs, em_iterations=moments.n_iter, em_converged=moments.converged
    )
    return CorrelationInput(
        corr, moments.n_obs, names, moments.mean, sd, n_rows_dropped=arr.shape[0] - moments.n_obs, missing=report
    )


def correlation_from_matrix(
    corr: object,
    n_obs: int | None = None,
    *,
    feature_names: Sequence[str] | None = None,
    tol: float = 1e-8,
) -> CorrelationInput:
    """Check a correlation (or covariance) matrix given directly; covariances are rescaled.

    Parameters
    ----------
    corr : DataFrame or array-like of shape (p, p)
        Symmetric with a positive diagonal; a covariance matrix is turned into correlations
        (R's ``cov2cor``).
    n_obs : int, optional
        Number of observations; needed for chi-square, RMSEA, TLI and BIC.
    feature_names : sequence of str, optional
        Item names; defaults to the DataFrame columns or ``x0..x{p-1}``.
    tol : float
        Allowed asymmetry.
    """
    arr = _as_2d_float(corr)
    p = arr.shape[0]
    if arr.shape != (p, p):
        raise ValueError(f"A correlation matrix must be square; got shape {arr.shape}.")
    if p < 2:
        raise ValueError(f"At least 2 items are needed; got {p}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError("The correlation matrix has missing or infinite entries.")
    if np.max(np.abs(arr - arr.T)) > tol * max(1.0, np.max(np.abs(arr))):
        raise ValueError("The correlation matrix is not symmetric.")
    d = np.diag(arr)
    names = _names(corr, p, feature_names)
    if np.any(d <= 0):
        raise ValueError("The diagonal of a correlation/covariance matrix must be positive.")
    inv = 1.0 / np.sqrt(d)
    out = (arr + arr.T) / 2.0 * inv[:, None] * inv[None, :]
    np.fill_diagonal(out, 1.0)
    if np.max(np.abs(out)) > 1.0 + 1e-8:
        raise ValueError("Correlations must lie in [-1, 1].")
    if n_obs is not None:
        if isinstance(n_obs, bool) or not float(n_obs).is_integer() or n_obs < 2:
            raise ValueError(f"n_obs must be an integer >= 2; got {n_obs!r}.")
        n_obs = int(n_obs)
    return CorrelationInput(out, n_obs, names)
