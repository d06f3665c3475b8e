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

from profiler.factors._missing_patterns import MissingPatterns, em_update, evaluate

__all__ = ["EMMoments", "MissingData", "MissingDataWarning", "describe_missing", "em_moments"]


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
    Rows are grouped once by missing-data pattern: the inverses are computed once per pattern, complete
    rows enter through their sum and cross products, and the rest of an iteration is two
    (rows x p) by (p x p) products (:mod:`profiler.factors._missing_patterns`). The log-likelihood uses
    :math:`\log|\Sigma_{oo}| = \log|\Sigma| + \log|\Theta_{mm}|` and
    :math:`d_o'\Sigma_{oo}^{-1}d_o = d'\Theta d - r_m'\Theta_{mm}^{-1}r_m`.

    In R: ``lavaan::lavInspect(lavCor(x, missing = "ml", output = "fit"), "sampstat")``.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D array (rows x items), got {X.ndim} dimension(s).")
    X = X[~np.isnan(X).all(axis=1)]
    if X.shape[0] < 2:
        raise ValueError(f"FIML needs at least 2 rows with a response; got {X.shape[0]}.")
    return em_fit(MissingPatterns(X), max_iter=max_iter, tol=tol)


def em_fit(mp: MissingPatterns, *, max_iter: int = 1000, tol: float = 1e-9) -> EMMoments:
    """EM from rows already grouped by pattern (every row with a value); starts at the available-case
    means and variances, zero covariances.

    Raises
    ------
    ValueError
        Fewer than two rows, an item without any response, or an item without variance.
    numpy.linalg.LinAlgError
        The covariance matrix is (numerically) not positive definite.
    """
    if mp.n < 2:
        raise ValueError(f"FIML needs at least 2 rows with a response; got {mp.n}.")
    empty = np.flatnonzero(mp.n_observed == 0)
    if empty.size:
        raise ValueError(f"Items without any response cannot be estimated: columns {empty[:10].tolist()}.")
    if np.any(mp.var <= 0):
        raise ValueError(f"Items without variance: columns {np.flatnonzero(mp.var <= 0)[:10].tolist()}.")
    mu = mp.shift.copy()
    sigma = np.diag(mp.var)
    scale = float(np.max(mp.var))
    converged = False
    it = 0
    change = np.inf
    for it in range(1, max_iter + 1):
        ev = evaluate(mp, mu, sigma)
        if not np.isfinite(ev.loglik):
            raise np.linalg.LinAlgError("the EM covariance matrix is not positive definite")
        new_mu, new_sigma = em_update(mp, mu, ev)
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
    ev = evaluate(mp, mu, sigma)
    if not np.isfinite(ev.loglik):
        raise np.linalg.LinAlgError("the EM covariance matrix is not positive definite")
    return EMMoments(mean=mu, cov=sigma, loglik=ev.loglik, n_obs=mp.n, n_iter=it, converged=converged)
