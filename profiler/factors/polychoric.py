"""Polychoric and polyserial correlations by two-step maximum likelihood, with their asymptotic covariance.

Likert answers are ordered categories, not interval numbers. The polychoric correlation is the
correlation of two standard normal variables that, cut at thresholds, reproduce the table of answers::

    from profiler.factors import polychoric

    pc = polychoric(items)            # every column ordinal; missing answers pairwise-present
    pc.correlation                    # p x p DataFrame
    pc.thresholds                     # Series "E1|t1", "E1|t2", ... (lavaan's names)
    pc.n_obs, pc.pairwise_counts, pc.missing
    polychoric(items, acov=True).acov # lavaan's NACOV (lavInspect(fit, "gamma")), thresholds first

Two steps, as lavaan (``lavCor(x, ordered = TRUE)``) and ``psych::polychoric`` compute them:

1. thresholds of each item from its own marginal proportions: tau_t = Phi^-1(P(y <= t)), using every
   answer to that item;
2. each correlation rho by one-dimensional maximum likelihood of its contingency table (the rows
   answering both items), thresholds held fixed: l(rho) = sum_ab n_ab log pi_ab(rho), pi_ab the
   bivariate normal probability of cell (a, b). All pairs are solved at once by safeguarded Newton steps.

A column that is not ordinal (``ordered=[...]`` leaves it out) enters with its mean and ML variance:
with an ordinal one it gives the polyserial correlation (the same two steps, Olsson, Drasgow & Dorans
1982), with another continuous one the Pearson correlation.

The asymptotic covariance (``acov=True``, all columns ordinal) is Muthen's (1984) two-step sandwich,
as lavaan's ``muthen1984``: casewise scores of the univariate threshold likelihoods and of each
bivariate likelihood in rho, A = their cross-products (block diagonal for the thresholds, diagonal
for the correlations, and the threshold-correlation block that carries the first step's uncertainty
into the second), and Gamma = N B^-1 (sum_i s_i s_i') B^-T. It is what WLSMV weights and corrects with.

Missing answers: ``"pairwise"`` (lavaan's ``missing = "pairwise"``, psych's default: thresholds from
each item's answers, each table from the rows answering both), ``"listwise"`` (incomplete rows
dropped first, counted in ``missing``) or ``"raise"``. Never imputed; the result says what happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import special

from profiler.errors import ProfilerError
from profiler.factors._bivariate_normal import bvn_cdf, bvn_pdf, bvn_pdf_drho_factor
from profiler.factors.missing import MissingData, describe_missing

__all__ = ["Polychoric", "PolychoricError", "polychoric"]

_BOUND = 0.999  # lavaan's bounds for rho in nlminb
_TINY = np.sqrt(np.finfo(float).eps)  # lavaan clamps cell probabilities here


class PolychoricError(ProfilerError, ValueError):
    """Data a polychoric correlation cannot be computed from (one category, no shared answers...)."""


@dataclass(frozen=True, repr=False)
class Polychoric:
    """Polychoric / polyserial correlations of a data set.

    Attributes
    ----------
    correlation : DataFrame
        p x p, unit diagonal.
    thresholds : Series
        Thresholds of the ordinal variables, named as lavaan names them (``"E1|t1"``).
    means, variances : Series
        Of the continuous variables (ML variance, divisor N); empty when all are ordinal.
    ordered : tuple of str
        The ordinal variables.
    categories : dict
        Observed answer values of each ordinal variable, in order (category k is the k-th).
    n_obs : int
        Rows used (lavaan's ``nobs``): all rows with ``"pairwise"``, the complete ones with ``"listwise"``.
    pairwise_counts : DataFrame
        Rows behind each correlation.
    missing : MissingData
        What was missing and how it was handled (``min_pairwise_n``: the fewest rows behind a correlation).
    acov : DataFrame or None
        N times the asymptotic covariance matrix of (thresholds, correlations), lavaan's NACOV
        (``lavInspect(fit, "gamma")``), rows named ``"E1|t1"`` ... then ``"E1~~E2"`` ... (the lower
        triangle by columns); None unless ``acov=True``.
    converged : bool
        Every correlation's Newton iterations converged.
    n_iter : int
    """

    correlation: pd.DataFrame
    thresholds: pd.Series
    means: pd.Series
    variances: pd.Series
    ordered: tuple[str, ...]
    categories: dict
    n_obs: int
    pairwise_counts: pd.DataFrame
    missing: MissingData
    acov: pd.DataFrame | None
    converged: bool
    n_iter: int
    _influence: np.ndarray | None = None  # M, n x K: Gamma = N M'M (for WLSMV, never formed unless needed)

    def __repr__(self) -> str:
        p = self.correlation.shape[0]
        m = self.missing
        return (f"Polychoric({p} variables, {len(self.ordered)} ordinal, n_obs={self.n_obs}, missing: "
                f"{m.n_cells_missing} cells in {m.n_rows_incomplete} rows, {m.method})")

    @property
    def statistics(self) -> np.ndarray:
        """The sample statistics WLS fits: thresholds, then the correlations below the diagonal by columns."""
        R = self.correlation.to_numpy()
        rows, cols = lower_pairs(R.shape[0])
        return np.concatenate([self.thresholds.to_numpy(), R[rows, cols]])


# ----------------------------------------------------------------------------- helpers
def lower_pairs(p: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, col) of the strict lower triangle, by columns: lavaan's ``vech(R, diagonal = FALSE)`` order."""
    cols, rows = np.triu_indices(p, 1)
    return rows, cols


def _codes(X: np.ndarray, names: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Category codes 0..C-1 of every column (-1 where missing) and the observed values of each."""
    codes = np.full(X.shape, -1, dtype=np.int64)
    values = []
    for j in range(X.shape[1]):
        col = X[:, j]
        present = ~np.isnan(col)
        vals, inv = _unique_codes(col[present])
        if vals.size < 2:
            raise PolychoricError(f"variable {names[j]!r} has {vals.size} observed categor"
                                  f"{'y' if vals.size == 1 else 'ies'}; an ordinal variable needs at least 2")
        codes[present, j] = inv
        values.append(vals)
    return codes, values


def _unique_codes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(x, return_inverse=True), by counting when the answers are integers in a short range
    (Likert codes: no sort of the column)."""
    if x.size:
        lo, hi = float(x.min()), float(x.max())
        if hi - lo <= 1000 and np.array_equal(x, np.round(x)):
            offset = (x - lo).astype(np.int64)
            seen = np.flatnonzero(np.bincount(offset))
            lookup = np.zeros(int(hi - lo) + 1, dtype=np.int64)
            lookup[seen] = np.arange(seen.size)
            return seen + lo, lookup[offset]
    return np.unique(x, return_inverse=True)


def _thresholds(codes: np.ndarray, n_cat: np.ndarray, cmax: int) -> tuple[np.ndarray, np.ndarray]:
    """Padded bounds (p x cmax+1): -inf, tau_0..tau_{C-2}, +inf...; and the category counts (p x cmax)."""
    p = codes.shape[1]
    counts = np.zeros((p, cmax))
    for j in range(p):
        c = codes[:, j]
        counts[j] = np.bincount(c[c >= 0], minlength=cmax)[:cmax]
    n_j = counts.sum(axis=1, keepdims=True)
    cum = np.cumsum(counts, axis=1) / n_j
    bounds = np.full((p, cmax + 1), np.inf)
    bounds[:, 0] = -np.inf
    for j in range(p):
        bounds[j, 1 : n_cat[j]] = special.ndtri(cum[j, : n_cat[j] - 1])
    return bounds, counts


def _grid(fun, b1: np.ndarray, b2: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """fun(b1[:, r], b2[:, c], rho) on the grid of bounds, per pair: (n_pairs, C+1, C+1)."""
    return fun(b1[:, :, None], b2[:, None, :], rho[:, None, None])


def _cells(G: np.ndarray) -> np.ndarray:
    """Rectangle differences of a grid of corner values: (n_pairs, C, C)."""
    return G[:, 1:, 1:] - G[:, :-1, 1:] - G[:, 1:, :-1] + G[:, :-1, :-1]


@dataclass
class _PairFit:
    rho: np.ndarray
    pi: np.ndarray  # cell probabilities (n_pairs, C, C)
    dpi: np.ndarray  # d pi / d rho
    converged: bool
    n_iter: int


def _fit_pairs(tables: np.ndarray, b1: np.ndarray, b2: np.ndarray, start: np.ndarray,
               max_iter: int = 100, tol: float = 1e-10) -> _PairFit:
    """Maximise sum n_ab log pi_ab(rho) for every pair at once (Newton, scoring fallback, step halving)."""
    rho = np.clip(start, -0.9, 0.9)
    active = np.ones(rho.size, dtype=bool)

    def loglik(r, idx):
        pi = np.maximum(_cells(_grid(bvn_cdf, b1[idx], b2[idx], r)), _TINY)
        return np.sum(tables[idx] * np.log(pi), axis=(1, 2)), pi

    ll, _ = loglik(rho, np.arange(rho.size))
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        r = rho[idx]
        t, c1, c2 = tables[idx], b1[idx], b2[idx]
        pi = np.maximum(_cells(_grid(bvn_cdf, c1, c2, r)), _TINY)
        pdf = _grid(bvn_pdf, c1, c2, r)
        dpi = _cells(pdf)
        d2pi = _cells(pdf * _grid(bvn_pdf_drho_factor, c1, c2, r))
        grad = np.sum(t * dpi / pi, axis=(1, 2))
        hess = np.sum(t * (d2pi / pi - (dpi / pi) ** 2), axis=(1, 2))
        fisher = -np.sum(t.sum(axis=(1, 2))[:, None, None] * dpi**2 / pi, axis=(1, 2))
        curv = np.where(hess < 0, hess, fisher)
        step = -grad / np.where(curv < 0, curv, -1.0)
        # at a bound with the gradient pointing out, the bound is the maximum (as nlminb's box constraint)
        stuck = ((r >= _BOUND) & (grad > 0)) | ((r <= -_BOUND) & (grad < 0))
        step[stuck] = 0.0
        scale = np.ones_like(r)
        new = np.clip(r + step, -_BOUND, _BOUND)
        new_ll, _ = loglik(new, idx)
        for _ in range(30):  # halve steps that lower the likelihood
            worse = new_ll < ll[idx] - 1e-12 * np.abs(ll[idx])
            if not worse.any():
                break
            scale[worse] /= 2.0
            new[worse] = np.clip(r[worse] + scale[worse] * step[worse], -_BOUND, _BOUND)
            new_ll[worse] = loglik(new[worse], idx[worse])[0]
        moved = np.abs(new - r)
        rho[idx], ll[idx] = new, new_ll
        active[idx[(moved < tol) | stuck]] = False
    all_idx = np.arange(rho.size)
    pi = np.maximum(_cells(_grid(bvn_cdf, b1, b2, rho)), _TINY)
    dpi = _cells(_grid(bvn_pdf, b1, b2, rho))
    del all_idx
    return _PairFit(rho, pi, dpi, not active.any(), n_iter)


def _tables(codes: np.ndarray, n_cat: np.ndarray, cmax: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Contingency tables of all pairs (n_pairs, cmax, cmax), rows answering both, from one product."""
    n, p = codes.shape
    # float32: counts are exact (< 2^24) and the product is twice as fast
    onehot = np.zeros((n, p * cmax), dtype=np.float32)
    present = codes >= 0
    r_idx, c_idx = np.nonzero(present)
    onehot[r_idx, c_idx * cmax + codes[r_idx, c_idx]] = 1.0
    cross = (onehot.T @ onehot).astype(np.float64)  # (p cmax) x (p cmax): every table at once
    cross = cross.reshape(p, cmax, p, cmax)
    return cross[rows, :, cols, :]


def _zero_add(tables: np.ndarray, n_cat1: np.ndarray, n_cat2: np.ndarray) -> np.ndarray:
    """lavaan's ``zero.add = 0.5`` for 2 x 2 tables with one empty cell, keeping the margins."""
    out = tables.copy()
    for k in np.flatnonzero((n_cat1 == 2) & (n_cat2 == 2)):
        t = out[k, :2, :2]
        if np.count_nonzero(t == 0) == 1:
            sign = 1.0 if (t[0, 0] == 0 or t[1, 1] == 0) else -1.0
            t += sign * 0.5 * np.array([[1.0, -1.0], [-1.0, 1.0]])
    return out


def _table_pearson(tables: np.ndarray) -> np.ndarray:
    """Pearson correlation of the category codes from each table (the Newton start, as lavaan)."""
    c = np.arange(tables.shape[1], dtype=float)
    n = tables.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        m1 = np.einsum("kab,a->k", tables, c) / n
        m2 = np.einsum("kab,b->k", tables, c) / n
        v1 = np.einsum("kab,a->k", tables, c * c) / n - m1**2
        v2 = np.einsum("kab,b->k", tables, c * c) / n - m2**2
        cov = np.einsum("kab,a,b->k", tables, c, c) / n - m1 * m2
        r = cov / np.sqrt(v1 * v2)
    return np.nan_to_num(r)


# ----------------------------------------------------------------------------- polyserial
def _polyserial(y: np.ndarray, code: np.ndarray, bounds: np.ndarray, mean: float, sd: float) -> float:
    """Two-step ML polyserial correlation of continuous ``y`` with ordinal ``code`` (rows with both)."""
    z = (y - mean) / sd
    upper, lower = bounds[code + 1], bounds[code]

    def negll(rho: float) -> float:
        R = np.sqrt(1.0 - rho * rho)
        prob = special.ndtr((upper - rho * z) / R) - special.ndtr((lower - rho * z) / R)
        return -float(np.sum(np.log(np.maximum(prob, _TINY))))

    from scipy.optimize import minimize_scalar

    res = minimize_scalar(negll, bounds=(-_BOUND, _BOUND), method="bounded", options={"xatol": 1e-10})
    return float(res.x)


# ----------------------------------------------------------------------------- acov
def _influence(codes: np.ndarray, n_cat: np.ndarray, bounds: np.ndarray, counts: np.ndarray,
               tables: np.ndarray, fit: _PairFit, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """M (n x K) with Gamma = N M'M: casewise scores times B^-T (Muthen 1984; lavaan's muthen1984)."""
    n, p = codes.shape
    cmax = counts.shape[1]
    nth = n_cat - 1
    th_start = np.concatenate([[0], np.cumsum(nth)[:-1]])
    n_th = int(nth.sum())
    dens = special.ndtr(bounds[:, 1:]) - special.ndtr(bounds[:, :-1])  # (p, cmax) category probabilities
    pdf_b = np.where(np.isfinite(bounds), np.exp(-0.5 * np.where(np.isfinite(bounds), bounds, 0.0) ** 2)
                     / np.sqrt(2 * np.pi), 0.0)
    # threshold scores: a case in category c scores phi(tau_c)/pi_c on threshold c, -phi(tau_{c-1})/pi_c on c-1
    sc_th = np.zeros((n, n_th))
    a11_inv = np.zeros((n_th, n_th))
    for j in range(p):
        k = nth[j]
        c = codes[:, j]
        ok = c >= 0
        S = np.zeros((cmax, k))  # score of each category
        for cat in range(n_cat[j]):
            if cat < k:
                S[cat, cat] = pdf_b[j, cat + 1] / dens[j, cat]
            if cat > 0:
                S[cat, cat - 1] = -pdf_b[j, cat] / dens[j, cat]
        block = slice(th_start[j], th_start[j] + k)
        sc_th[ok, block] = S[c[ok]]
        A11 = (S[: n_cat[j]].T * counts[j, : n_cat[j]]) @ S[: n_cat[j]]
        a11_inv[block, block] = np.linalg.inv(A11)
    # correlation scores: d log pi_ab / d rho for the case's cell; 0 where either answer is missing
    ratio = fit.dpi / fit.pi  # (n_pairs, cmax, cmax)
    padded = np.zeros((ratio.shape[0], cmax + 1, cmax + 1))
    padded[:, :cmax, :cmax] = ratio
    cj = np.where(codes >= 0, codes, cmax)
    n_pairs = rows.size
    # M is built transposed (K x n, each statistic's scores contiguous) and returned as the
    # Fortran-ordered view n x K: no copy of the largest array, and BLAS takes it as it is
    Mt = np.empty((n_th + n_pairs, n))
    sc_cor = Mt[n_th:]
    flat = padded.reshape(n_pairs, -1)
    for k in range(n_pairs):
        sc_cor[k] = flat[k].take(cj[:, rows[k]] * (cmax + 1) + cj[:, cols[k]])
    a22 = np.sum(tables * ratio**2, axis=(1, 2))
    # A21: cross-products of the correlation score with the bivariate threshold scores
    R = np.sqrt(1.0 - fit.rho**2)
    a21 = np.zeros((n_pairs, n_th))
    w = tables * fit.dpi / fit.pi**2  # n_ab phi_ab / pi_ab^2
    for first, other, axis in ((rows, cols, 1), (cols, rows, 2)):
        b_own, b_other = bounds[first], bounds[other]  # (n_pairs, cmax+1)
        for t in range(int(nth.max())):
            tau = b_own[:, t + 1]  # threshold t of the variable: upper bound of category t
            valid = t < nth[first]
            if not valid.any():
                continue
            tau_f = np.where(valid, tau, 0.0)
            arg = (b_other - fit.rho[:, None] * tau_f[:, None]) / R[:, None]
            cdf = special.ndtr(arg)
            D = (pdf_b[first, t + 1][:, None]) * (cdf[:, 1:] - cdf[:, :-1])  # (n_pairs, cmax) over the other's cats
            if axis == 1:
                contrib = np.sum(D * (w[:, t, :] - w[:, t + 1, :]), axis=1)
            else:
                contrib = np.sum(D * (w[:, :, t] - w[:, :, t + 1]), axis=1)
            idx = th_start[first] + t
            a21[np.flatnonzero(valid), idx[valid]] += contrib[valid]
    # M = SC B^-T: thresholds SC_th A11^-1; correlations (SC_cor - SC_th A11^-1 A21') / a22
    m_th = sc_th @ a11_inv
    Mt[:n_th] = m_th.T
    # SC_cor - M_th A21' using A21's sparsity: a pair's row touches only its two variables' thresholds
    for first in (rows, cols):
        for j in range(p):
            pairs = np.flatnonzero(first == j)
            if pairs.size:
                block = slice(th_start[j], th_start[j] + nth[j])
                sc_cor[pairs] -= a21[pairs, block] @ m_th[:, block].T
    sc_cor /= a22[:, None]
    return Mt.T


# ----------------------------------------------------------------------------- public
def polychoric(
    data: pd.DataFrame,
    *,
    ordered: bool | Sequence[str] = True,
    missing: Literal["pairwise", "listwise", "raise"] = "pairwise",
    acov: bool = False,
    _influence_only: bool = False,
) -> Polychoric:
    """Polychoric (and polyserial) correlations by two-step maximum likelihood.

    Parameters
    ----------
    data : DataFrame
        One row per respondent, numeric columns (answers as numbers; NaN = missing).
    ordered : True or sequence of str
        Which columns are ordinal: all (True), or the listed ones (the others are continuous and get
        polyserial correlations with the ordinal ones, Pearson correlations with each other).
    missing : {"pairwise", "listwise", "raise"}
        Missing answers: pairwise-present tables (thresholds from each item's own answers), listwise
        deletion, or an error. Never imputed; ``result.missing`` records what was done.
    acov : bool
        Also compute lavaan's NACOV (all columns ordinal), needed by WLSMV.
    _influence_only : bool
        Private (the CFA's): compute what the NACOV is made of, not the p* x p* matrix itself.

    Returns
    -------
    Polychoric

    Raises
    ------
    PolychoricError
        A column with fewer than 2 observed categories, a pair with no row answering both, missing
        values under ``missing="raise"``, an unknown ``ordered`` name.

    Notes
    -----
    In R: ``lavaan::lavCor(data, ordered = names(data), missing = "pairwise")`` and
    ``psych::polychoric(data)`` (psych stops its one-dimensional search at a tolerance of about 1e-4,
    so its values differ from the maximum by up to that much).
    """
    from profiler.factors._cfa_data import single_threaded_blas

    with single_threaded_blas():  # small products: BLAS worker threads only spin on a busy machine
        return _polychoric(data, ordered, missing, acov, _influence_only)


def _polychoric(data, ordered, missing, acov: bool, _influence_only: bool) -> Polychoric:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    if missing not in ("pairwise", "listwise", "raise"):
        raise ValueError(f"missing must be 'pairwise', 'listwise' or 'raise' (never imputation), got {missing!r}")
    names = [str(c) for c in data.columns]
    non_numeric = [c for c, dt in zip(names, data.dtypes) if not pd.api.types.is_numeric_dtype(dt)]
    if non_numeric:
        raise PolychoricError(f"columns must be numeric; not numeric: {non_numeric[:5]}")
    if ordered is True:
        ord_names = list(names)
    elif ordered is False:
        raise ValueError("ordered=False leaves nothing ordinal: use a Pearson correlation instead")
    else:
        ord_names = [str(o) for o in ordered]
        unknown = [o for o in ord_names if o not in names]
        if unknown:
            from profiler.documents import did_you_mean

            raise PolychoricError(f"ordered names {unknown} are not columns of the data{did_you_mean(unknown[0], names)}")
    X = data.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isinf(X).any():
        raise PolychoricError("the data contain infinite values")
    nan = np.isnan(X)
    n_rows, p = X.shape
    incomplete = nan.any(axis=1)
    dropped = 0
    if incomplete.any():
        if missing == "raise":
            raise PolychoricError(f"{int(incomplete.sum())} of {n_rows} rows have missing values (in "
                                  f"{', '.join(n for j, n in enumerate(names) if nan[:, j].any())}); pass "
                                  "missing='pairwise' or 'listwise'")
        if missing == "listwise":
            X = X[~incomplete]
            dropped = int(incomplete.sum())
        else:
            empty = nan.all(axis=1)
            X = X[~empty]
            dropped = int(empty.sum())
    if acov and len(ord_names) < p:
        raise PolychoricError("acov=True needs every variable ordinal (the mixed ordinal-continuous asymptotic "
                              "covariance is not available); pass ordered=True")
    is_ord = np.array([n in ord_names for n in names])
    ord_idx = np.flatnonzero(is_ord)
    num_idx = np.flatnonzero(~is_ord)
    n, _ = X.shape
    # ordinal part
    codes, values = _codes(X[:, ord_idx], [names[j] for j in ord_idx]) if ord_idx.size else (np.zeros((n, 0), int), [])
    n_cat = np.array([v.size for v in values], dtype=np.int64)
    cmax = int(n_cat.max()) if n_cat.size else 0
    bounds, counts = _thresholds(codes, n_cat, cmax) if ord_idx.size else (np.zeros((0, 1)), np.zeros((0, 0)))
    present = ~np.isnan(X)
    pair_n = present.T.astype(float) @ present.astype(float)
    R = np.eye(p)
    rows_o, cols_o = lower_pairs(ord_idx.size)
    converged, n_iter, fit, tables = True, 0, None, None
    if rows_o.size:
        tables = _tables(codes, n_cat, cmax, rows_o, cols_o)
        empty_pairs = tables.sum(axis=(1, 2)) == 0
        if empty_pairs.any():
            k = int(np.flatnonzero(empty_pairs)[0])
            a, b = names[ord_idx[rows_o[k]]], names[ord_idx[cols_o[k]]]
            raise PolychoricError(f"no row answers both {b!r} and {a!r}: their correlation cannot be estimated")
        fit_tables = _zero_add(tables, n_cat[rows_o], n_cat[cols_o])
        fit = _fit_pairs(fit_tables, bounds[rows_o], bounds[cols_o], _table_pearson(tables))
        converged, n_iter = fit.converged, fit.n_iter
        R[ord_idx[rows_o], ord_idx[cols_o]] = fit.rho
        R[ord_idx[cols_o], ord_idx[rows_o]] = fit.rho
    # continuous part: ML means and variances; Pearson and polyserial correlations
    means = np.array([np.nanmean(X[:, j]) for j in num_idx])
    variances = np.array([np.nanvar(X[:, j]) for j in num_idx])
    for a, j in enumerate(num_idx):
        if not variances[a] > 0:
            raise PolychoricError(f"variable {names[j]!r} has no variance")
        for b, k in enumerate(num_idx[:a]):
            both = present[:, j] & present[:, k]
            R[j, k] = R[k, j] = np.corrcoef(X[both, j], X[both, k])[0, 1]
        for o, k in enumerate(ord_idx):
            both = present[:, j] & (codes[:, o] >= 0)
            r = _polyserial(X[both, j], codes[both, o], bounds[o], means[a], np.sqrt(variances[a]))
            R[j, k] = R[k, j] = r
    th_names = [f"{names[j]}|t{t + 1}" for o, j in enumerate(ord_idx) for t in range(n_cat[o] - 1)]
    th_values = np.concatenate([bounds[o, 1 : n_cat[o]] for o in range(ord_idx.size)]) if ord_idx.size else []
    influence = None
    acov_frame = None
    if acov or _influence_only:
        influence = _influence(codes, n_cat, bounds, counts, tables if tables is not None else np.zeros((0, 0, 0)),
                               fit, rows_o, cols_o) if fit is not None else None
        rows_a, cols_a = lower_pairs(p)
        labels = th_names + [f"{names[c]}~~{names[r]}" for r, c in zip(rows_a, cols_a)]
        if not _influence_only:
            gamma = n * (influence.T @ influence) if influence is not None else np.zeros((len(labels), len(labels)))
            acov_frame = pd.DataFrame(gamma, index=labels, columns=labels)
    frame = pd.DataFrame(R, index=names, columns=names)
    off = pair_n[~np.eye(p, dtype=bool)]
    summary = describe_missing(~nan, missing, n, min_pairwise_n=int(off.min()) if off.size else int(n))
    return Polychoric(
        correlation=frame,
        thresholds=pd.Series(np.asarray(th_values, float), index=th_names, name="threshold"),
        means=pd.Series(means, index=[names[j] for j in num_idx], name="mean"),
        variances=pd.Series(variances, index=[names[j] for j in num_idx], name="variance"),
        ordered=tuple(names[j] for j in ord_idx),
        categories={names[j]: tuple(values[o].tolist()) for o, j in enumerate(ord_idx)},
        n_obs=int(n),
        pairwise_counts=pd.DataFrame(pair_n.astype(np.int64), index=names, columns=names),
        missing=summary,
        acov=acov_frame,
        converged=bool(converged),
        n_iter=int(n_iter),
        _influence=influence,
    )
