"""Missing responses: what is missing, and FIML moments by the EM algorithm under multivariate normality.

:func:`em_moments` gives the maximum-likelihood (FIML) estimate of the mean vector and covariance
matrix of incomplete multivariate-normal data (Dempster, Laird & Rubin 1977; Little & Rubin 2002,
ch. 11) — the saturated model lavaan fits with ``missing = "ml"`` (its "h1" moments). Factor models
can then be fitted to these moments instead of dropping rows.

:class:`MissingData` records how much was missing and how it was handled, so that a result never
hides it; :class:`MissingDataWarning` is raised where rows are dropped.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning

__all__ = ["EMMoments", "MissingData", "MissingDataWarning", "describe_missing", "em_moments"]

_LOG_2PI = float(np.log(2.0 * np.pi))


class MissingDataWarning(UserWarning):
    """Rows were dropped because of missing responses (listwise deletion), or data are missing in a way
    that the chosen method handles only approximately."""


@dataclass(frozen=True)
class MissingData:
    """How many responses were missing and how the analysis handled them.

    Attributes
    ----------
    method : {"complete", "listwise", "pairwise", "fiml", "raise"}
        ``"complete"`` when nothing was missing (whatever policy was asked for).
    n_rows : int
        Rows given.
    n_rows_incomplete : int
        Rows with at least one missing response.
    n_rows_used : int
        Rows that entered the estimate (listwise: the complete rows; pairwise and fiml: every row with
        at least one response).
    n_rows_dropped : int
        ``n_rows - n_rows_used``.
    n_cells : int
        Responses expected (rows x items).
    n_cells_missing : int
    proportion_missing : float
        ``n_cells_missing / n_cells``.
    min_pairwise_n : int or None
        Pairwise only: the fewest rows behind any correlation.
    em_iterations : int or None
        FIML only: EM iterations.
    em_converged : bool or None
        FIML only.
    """

    method: str
    n_rows: int
    n_rows_incomplete: int
    n_rows_used: int
    n_rows_dropped: int
    n_cells: int
    n_cells_missing: int
    proportion_missing: float
    min_pairwise_n: int | None = None
    em_iterations: int | None = None
    em_converged: bool | None = None

    def to_dict(self) -> dict:
        """Plain dict (JSON-ready)."""
        return asdict(self)


def describe_missing(
    observed: np.ndarray,
    method: str,
    n_rows_used: int,
    *,
    min_pairwise_n: int | None = None,
    em_iterations: int | None = None,
    em_converged: bool | None = None,
) -> MissingData:
    """A :class:`MissingData` record from the observed-value mask (rows x items, True = answered)."""
    n, p = observed.shape
    missing_cells = int(observed.size - np.count_nonzero(observed))
    incomplete = int(np.count_nonzero(~observed.all(axis=1))) if missing_cells else 0
    return MissingData(
        method="complete" if missing_cells == 0 else method,
        n_rows=int(n),
        n_rows_incomplete=incomplete,
        n_rows_used=int(n_rows_used),
        n_rows_dropped=int(n - n_rows_used),
        n_cells=int(n * p),
        n_cells_missing=missing_cells,
        proportion_missing=missing_cells / (n * p) if n * p else 0.0,
        min_pairwise_n=min_pairwise_n,
        em_iterations=em_iterations,
        em_converged=em_converged,
    )


@dataclass(frozen=True)
class EMMoments:
    """FIML (EM) estimate of the mean vector and covariance matrix.

    Attributes
    ----------
    mean : ndarray of shape (p,)
    cov : ndarray of shape (p, p)
        Maximum-likelihood covariance (divisor N, as lavaan's h1 moments).
    loglik : float
        Observed-data log-likelihood at the estimate (lavaan's ``fit@h1$loglik``).
    n_obs : int
        Rows used: every row with at least one response (rows with none carry no information).
    n_iter : int
    converged : bool
    """

    mean: np.ndarray
    cov: np.ndarray
    loglik: float
    n_obs: int
    n_iter: int
    converged: bool


def em_moments(X: np.ndarray, *, max_iter: int = 1000, tol: float = 1e-9) -> EMMoments:
    r"""Maximum-likelihood mean and covariance of incomplete normal data by EM.

    Parameters
    ----------
    X : ndarray of shape (n, p)
        Data with NaN for missing values. Rows without any value are ignored.
    max_iter : int, default 1000
        EM iterations; a :class:`~sklearn.exceptions.ConvergenceWarning` is issued when they run out.
    tol : float, default 1e-9
        Stop when no mean or covariance entry changes by more than ``tol`` (relative to the variances'
        scale) in one iteration.

    Returns
    -------
    EMMoments

    Raises
    ------
    ValueError
        Fewer than two rows with responses, an item without any response, or an item without variance.

    Notes
    -----
    E-step, for each row with missing set ``m`` and observed set ``o``, written with the precision matrix
    :math:`\Theta = \Sigma^{-1}` so that only the small ``|m| x |m|`` blocks are inverted:
    with :math:`d = x - \mu` (0 where missing) and :math:`r = \Theta d`,

    .. math::

        E[x_m \mid x_o] = \mu_m - \Theta_{mm}^{-1} r_m, \qquad
        \operatorname{Cov}[x_m \mid x_o] = \Theta_{mm}^{-1}.

    M-step: :math:`\mu = \bar{\hat x}`, :math:`\Sigma = \overline{\hat x \hat x'} + \bar C - \mu\mu'`.
    Rows are batched by their number of missing values, so an iteration is a handful of vectorised
    operations however many missing-data patterns there are. The log-likelihood uses
    :math:`\log|\Sigma_{oo}| = \log|\Sigma| + \log|\Theta_{mm}|` and
    :math:`d_o'\Sigma_{oo}^{-1}d_o = d'\Theta d - r_m'\Theta_{mm}^{-1}r_m`.

    In R: ``lavaan::lavInspect(lavCor(x, missing = "ml", output = "fit"), "sampstat")``.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D array (rows x items), got {X.ndim} dimension(s).")
    observed = ~np.isnan(X)
    X = X[observed.any(axis=1)]
    observed = observed[observed.any(axis=1)]
    n, p = X.shape
    if n < 2:
        raise ValueError(f"FIML needs at least 2 rows with a response; got {n}.")
    empty = np.flatnonzero(~observed.any(axis=0))
    if empty.size:
        raise ValueError(f"Items without any response cannot be estimated: columns {empty[:10].tolist()}.")
    mu = np.nanmean(X, axis=0)
    var = np.nanvar(X, axis=0)
    if np.any(var <= 0):
        raise ValueError(f"Items without variance: columns {np.flatnonzero(var <= 0)[:10].tolist()}.")
    sigma = np.diag(var)
    groups = _missing_groups(observed)
    filled = np.where(observed, X, 0.0)
    scale = float(np.max(var))
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        new_mu, new_sigma, _ = _em_step(filled, observed, groups, mu, sigma)
        change = max(float(np.max(np.abs(new_mu - mu))), float(np.max(np.abs(new_sigma - sigma))))
        mu, sigma = new_mu, new_sigma
        if change <= tol * scale:
            converged = True
            break
    if not converged:
        warnings.warn(
            f"EM for the FIML moments did not converge in {max_iter} iterations (last change {change:.2g}); "
            "the estimates are approximate.",
            ConvergenceWarning,
            stacklevel=2,
        )
    _, _, loglik = _em_step(filled, observed, groups, mu, sigma, loglik_only=True)
    return EMMoments(mean=mu, cov=sigma, loglik=loglik, n_obs=n, n_iter=it, converged=converged)


def _missing_groups(observed: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Rows grouped by their number of missing values: (row indices, missing columns per row)."""
    n_missing = (~observed).sum(axis=1)
    groups = []
    for s in np.unique(n_missing):
        if s == 0:
            continue
        rows = np.flatnonzero(n_missing == s)
        cols = np.nonzero(~observed[rows])[1].reshape(rows.size, s)  # row-major: each row's columns
        groups.append((rows, cols))
    return groups


def _em_step(
    filled: np.ndarray,
    observed: np.ndarray,
    groups: list[tuple[np.ndarray, np.ndarray]],
    mu: np.ndarray,
    sigma: np.ndarray,
    loglik_only: bool = False,
) -> tuple[np.ndarray, np.ndarray, float]:
    n, p = filled.shape
    chol = np.linalg.cholesky(sigma)
    ci = np.linalg.inv(chol)
    theta = ci.T @ ci
    logdet_sigma = 2.0 * float(np.sum(np.log(np.diag(chol))))
    D = np.where(observed, filled - mu, 0.0)
    R = D @ theta
    quad = np.einsum("ij,ij->i", D, R)  # d' Theta d
    logdet_rows = np.full(n, logdet_sigma)
    Xhat = np.where(observed, filled, 0.0) + np.where(observed, 0.0, mu)
    extra = np.zeros(p * p)
    for rows, cols in groups:
        s = cols.shape[1]
        T_mm = theta[cols[:, :, None], cols[:, None, :]]  # (n_s, s, s)
        r_m = np.take_along_axis(R[rows], cols, axis=1)
        C = np.linalg.inv(T_mm)  # Cov[x_m | x_o]
        shift = np.einsum("nij,nj->ni", C, r_m)
        quad[rows] -= np.einsum("ni,ni->n", r_m, shift)
        _, logdet_tmm = np.linalg.slogdet(T_mm)
        logdet_rows[rows] += logdet_tmm
        if not loglik_only:
            vals = np.take_along_axis(Xhat[rows], cols, axis=1) - shift
            Xhat[rows[:, None], cols] = vals
            flat = (cols[:, :, None] * p + cols[:, None, :]).ravel()
            extra += np.bincount(flat, weights=C.ravel(), minlength=p * p)
    n_obs_cells = observed.sum(axis=1)
    loglik = float(-0.5 * np.sum(n_obs_cells * _LOG_2PI + logdet_rows + quad))
    if loglik_only:
        return mu, sigma, loglik
    new_mu = Xhat.mean(axis=0)
    Z = Xhat - new_mu
    new_sigma = (Z.T @ Z + extra.reshape(p, p)) / n
    return new_mu, (new_sigma + new_sigma.T) / 2.0, loglik
