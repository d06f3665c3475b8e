"""Factor extraction from a correlation matrix, as R's ``psych::fa`` (psych 2.2.9) computes it before rotation.

- ``minres``: minimise the sum of squared off-diagonal residuals over the uniquenesses ``psi``
  (L-BFGS-B, bounds ``[0.005, 1]``, start ``1 - SMC``); loadings are the scaled top-k eigenvectors of
  ``R - diag(psi)``. As in psych, whose optimiser is given the uls gradient, the solution is the
  stationary point of the uls criterion: the same as minres' unless a uniqueness is at its bound.
- ``uls``, ``wls``, ``gls``: the same, minimising psych's other least-squares criteria of the residual
  ``M = (R - diag(psi)) - LL'`` *including* its diagonal: ``sum M_ij^2`` (uls), ``sum w_i w_j M_ij^2``
  with ``w = 1 / diag(R^-1)`` (wls), ``||R^-1 M||_F^2`` (gls).
- ``ml``: minimise the maximum-likelihood discrepancy over ``psi`` (as ``factanal``/psych: same bounds and
  start); loadings from the eigenvectors of ``psi^-1/2 R psi^-1/2``.
- ``pa``: principal axis with communalities iterated from the SMCs until their sum changes by less than
  ``tol`` (psych's ``min.err = 0.001``), at most ``max_iter`` (psych's ``max.iter = 50``) times.
- ``alpha``: Kaiser & Caffrey's alpha factoring as psych iterates it: principal axes of the correlation
  matrix rescaled by the communalities, ``H2 <- H2 * diag(LL')``, until the communalities change by
  less than ``tol`` in summed absolute value.

Signs follow psych: every column has a non-negative sum.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.optimize import minimize

from profiler._threads import small_matrix_threads

Method = Literal["minres", "ml", "pa", "uls", "wls", "gls", "alpha"]
METHODS: tuple[str, ...] = ("minres", "ml", "pa", "uls", "wls", "gls", "alpha")
#: Least-squares methods: psi optimised, loadings from ``R - diag(psi)``.
_LEAST_SQUARES = ("minres", "uls", "wls", "gls")

LOWER_BOUND = 0.005  # psych's lower bound for uniquenesses
_EPS = np.finfo(np.float64).eps


@dataclass(frozen=True)
class Extraction:
    """An unrotated factor solution.

    Attributes
    ----------
    loadings : ndarray of shape (p, k)
        Unrotated loadings, columns in decreasing eigenvalue order, each column summing to >= 0.
    communalities : ndarray of shape (p,)
        ``rowSums(loadings^2)`` (psych's ``f$communality``).
    uniquenesses : ndarray of shape (p,)
        ``1 - communalities`` (psych's ``f$uniquenesses``).
    values : ndarray of shape (p,)
        Eigenvalues, decreasing, of the reduced correlation matrix: the correlations with the
        communalities on the diagonal (psych's ``f$values``; for ``pa`` the communalities of the last
        iteration's input, exactly as psych).
    eigenvalues : ndarray of shape (p,)
        Eigenvalues, decreasing, of the correlation matrix (psych's ``f$e.values``).
    method : str
    n_factors : int
    n_obs : int or None
    converged : bool
        The optimiser (minres, uls, wls, gls, ml) or the communality iteration (pa, alpha) met its
        tolerance.
    n_iter : int
        Optimiser iterations or communality iterations.
    heywood : ndarray of bool, shape (p,)
        Items whose uniqueness is at the lower bound 0.005 (optimised methods) or whose communality is
        >= 0.995 (any method): a Heywood case, not a trustworthy solution.
    psi : ndarray of shape (p,)
        The optimised uniquenesses (psych's ``1 - f$communalities``) or the final
        ``1 - communalities`` (pa, alpha).
    objective : float
        Criterion at the solution: half the sum of squared off-diagonal residuals (minres), psych's
        uls / wls / gls criterion, the ML discrepancy (ml) or the sum of squared off-diagonal residuals
        (pa, alpha).
    """

    loadings: np.ndarray
    communalities: np.ndarray
    uniquenesses: np.ndarray
    values: np.ndarray
    eigenvalues: np.ndarray
    method: str
    n_factors: int
    n_obs: int | None
    converged: bool
    n_iter: int
    heywood: np.ndarray
    psi: np.ndarray
    objective: float


def smc(corr: np.ndarray) -> np.ndarray:
    """Squared multiple correlations ``1 - 1 / diag(R^-1)``, clipped to [0, 1].

    In R: ``psych::smc(R)`` (a pseudo-inverse is used when R is singular).
    """
    try:
        inv = np.linalg.inv(corr)
        if not np.all(np.isfinite(inv)):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        inv = np.linalg.pinv(corr)
    d = np.diag(inv)
    with np.errstate(divide="ignore"):
        out = 1.0 - 1.0 / d
    return np.clip(np.nan_to_num(out, nan=1.0), 0.0, 1.0)


def _top(corr_reduced: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Eigen-decomposition in decreasing order: (all values, all vectors, top values, top vectors)."""
    w, v = np.linalg.eigh(corr_reduced)
    w = w[::-1]
    v = v[:, ::-1]
    return w, v, w[:k], v[:, :k]


def _minres_objective(psi: np.ndarray, corr: np.ndarray, k: int) -> tuple[float, np.ndarray]:
    """Half the sum of squared off-diagonal residuals and its exact gradient.

    psych's ``fit.residuals`` (``fm = "minres"``): with ``A = R - diag(psi)`` and ``P = V_k L_k V_k'``
    its rank-k eigen part, ``F(psi) = sum_{i<j} (A - P)_ij^2``. With ``M`` the off-diagonal residual
    and ``Mt = V' M V`` in the eigenbasis, first-order eigen-perturbation gives
    ``dF/dpsi_i = (V_k Mt_kk V_k')_ii + 2 (V_k X V_r')_ii`` with
    ``X_ab = lambda_a Mt_ab / (lambda_a - lambda_b)`` for retained ``a`` and discarded ``b``.
    Everything is O(p^2 k) after the eigen-decomposition.
    """
    A = corr.copy()
    A[np.diag_indices_from(A)] = 1.0 - psi
    w, v, wk, vk = _top(A, k)
    vr = v[:, k:]
    wk_clamped = np.where(wk < _EPS, 100 * _EPS, wk)  # as psych's fit.residuals
    L = vk * np.sqrt(wk_clamped)
    M = A - L @ L.T
    M[np.diag_indices_from(M)] = 0.0
    f = 0.5 * float(np.sum(M * M))
    MVk = M @ vk
    Mt_kk = vk.T @ MVk
    gap = wk[:, None] - w[None, k:]
    gap[np.abs(gap) < 1e-12] = np.inf  # degenerate pairs contribute nothing
    cross = wk_clamped[:, None] * (MVk.T @ vr) / gap
    grad = np.sum((vk @ Mt_kk) * vk, axis=1) + 2.0 * np.sum((vk @ cross) * vr, axis=1)
    return f, grad


def _weighted_ls_objective(
    psi: np.ndarray, corr: np.ndarray, k: int, weight: str, aux: np.ndarray | None
) -> tuple[float, np.ndarray]:
    """psych's uls / wls / gls criteria (``fit.residuals``) and their exact gradient.

    The residual ``M = A - P`` with ``A = R - diag(psi)`` and ``P`` its rank-k eigen part includes the
    diagonal. With ``G`` the derivative of the criterion with respect to ``M`` (halved, symmetric):
    uls ``G = M``; wls ``G = (w w') * M`` (``aux = w = 1/diag(R^-1)``); gls ``G = sym(R^-2 M)``
    (``aux = R^-1``), and ``F = sum(M * G)``. As in :func:`_minres_objective`, first-order
    eigen-perturbation gives ``dF/dpsi_i = 2 (-G_ii + (V_k Gt_kk V_k')_ii + 2 (V_k X V_r')_ii)``.
    """
    A = corr.copy()
    A[np.diag_indices_from(A)] = 1.0 - psi
    w, v, wk, vk = _top(A, k)
    vr = v[:, k:]
    wk_clamped = np.where(wk < _EPS, 100 * _EPS, wk)  # as psych's fit.residuals
    L = vk * np.sqrt(wk_clamped)
    M = A - L @ L.T
    if weight == "uls":
        G = M
    elif weight == "wls":
        G = M * np.outer(aux, aux)
    else:
        G = aux @ (aux @ M)
        G = (G + G.T) / 2.0
    f = float(np.sum(M * G))
    GVk = G @ vk
    Gt_kk = vk.T @ GVk
    gap = wk[:, None] - w[None, k:]
    gap[np.abs(gap) < 1e-12] = np.inf
    cross = wk_clamped[:, None] * (GVk.T @ vr) / gap
    grad = -np.diag(G) + np.sum((vk @ Gt_kk) * vk, axis=1) + 2.0 * np.sum((vk @ cross) * vr, axis=1)
    return f, 2.0 * grad


def _ml_objective(psi: np.ndarray, corr: np.ndarray, k: int) -> tuple[float, np.ndarray]:
    """ML discrepancy concentrated on psi and its gradient (``factanal``'s ``FAfn``/``FAgr``)."""
    sc = 1.0 / np.sqrt(psi)
    S = corr * sc[:, None] * sc[None, :]
    w, v, wk, vk = _top(S, k)
    e = w[k:]
    f = -(float(np.sum(np.log(e) - e)) - k + corr.shape[0])
    load = np.sqrt(psi)[:, None] * (vk * np.sqrt(np.maximum(wk - 1.0, 0.0)))
    g = np.einsum("ij,ij->i", load, load) + psi - np.diag(corr)
    return f, g / psi**2


def _ml_loadings(psi: np.ndarray, corr: np.ndarray, k: int) -> np.ndarray:
    sc = 1.0 / np.sqrt(psi)
    _, _, wk, vk = _top(corr * sc[:, None] * sc[None, :], k)
    return np.sqrt(psi)[:, None] * (vk * np.sqrt(np.maximum(wk - 1.0, 0.0)))


def _ls_loadings(psi: np.ndarray, corr: np.ndarray, k: int) -> np.ndarray:
    A = corr.copy()
    A[np.diag_indices_from(A)] -= psi
    _, _, wk, vk = _top(A, k)
    return vk * np.sqrt(np.maximum(wk, 0.0))


def _optimise(
    fun, corr: np.ndarray, k: int, max_iter: int, tol: float, args: tuple = ()
) -> tuple[np.ndarray, bool, int, float]:
    p = corr.shape[0]
    start = np.clip(1.0 - smc(corr), LOWER_BOUND, 1.0)
    res = minimize(
        fun,
        start,
        args=(corr, k, *args),
        jac=True,
        method="L-BFGS-B",
        bounds=[(LOWER_BOUND, 1.0)] * p,
        options={"maxiter": max_iter, "ftol": 1e-15, "gtol": tol, "maxcor": 10},
    )
    psi = np.clip(res.x, LOWER_BOUND, 1.0)
    # ABNORMAL_TERMINATION_IN_LNSRCH at a converged point is common near machine precision: judge by
    # the projected gradient instead of the optimiser's status text alone.
    g = res.jac
    free = ((psi > LOWER_BOUND) | (g < 0)) & ((psi < 1.0) | (g > 0))
    pg = float(np.max(np.abs(np.where(free, g, 0.0)))) if p else 0.0
    converged = bool(res.success or pg <= max(tol, 1e-6))
    return psi, converged, int(res.nit), float(res.fun)


def _principal_axis(
    corr: np.ndarray, k: int, max_iter: int, tol: float
) -> tuple[np.ndarray, np.ndarray, bool, int]:
    """psych's iterated principal axis; returns loadings, eigenvalues of the last reduced matrix."""
    r = corr.copy()
    diag = np.diag_indices_from(r)
    r[diag] = smc(corr) if k <= corr.shape[0] else 1.0
    comm = float(np.sum(r[diag]))
    err = comm
    i = 1
    converged = True
    while err > tol:
        w, _, wk, vk = _top(r, k)
        if np.any(wk < 0):
            warnings.warn(
                "Principal axis: a retained eigenvalue of the reduced correlation matrix is negative "
                "(psych stops with 'imaginary eigen value'); it is set to 0.",
                RuntimeWarning,
                stacklevel=3,
            )
        loadings = vk * np.sqrt(np.maximum(wk, 0.0))
        new = np.einsum("ij,ij->i", loadings, loadings)
        comm1 = float(np.sum(new))
        r[diag] = new
        err = abs(comm - comm1)
        comm = comm1
        i += 1
        if i > max_iter:
            converged = err <= tol
            break
    return loadings, w, converged, i - 1


def _alpha_factoring(
    corr: np.ndarray, k: int, max_iter: int, tol: float
) -> tuple[np.ndarray, np.ndarray, bool, int]:
    """psych's ``fm = "alpha"``: returns loadings, final communalities, converged, iterations.

    From ``H2 = SMC``: eigen-decompose ``D^-1/2 R_H D^-1/2`` (``R_H`` the correlations with ``H2`` on the
    diagonal, ``D = diag(H2)``, i.e. psych's ``cov2cor``), take ``L`` from its top k, set
    ``H2 <- H2 * diag(LL')`` and stop when ``sum |change| <= tol`` or after ``max_iter`` passes; the
    loadings are ``sqrt(H2) * L`` row-wise.
    """
    h2 = smc(corr)
    if np.any(h2 <= 0) or np.any(h2 >= 1):
        raise ValueError(
            "Alpha factoring needs squared multiple correlations in (0, 1): an item is uncorrelated with "
            "the others, or the correlation matrix is singular. Use method='minres'."
        )
    converged, i = True, 0
    while True:
        s = 1.0 / np.sqrt(h2)
        r = corr * s[:, None] * s[None, :]
        np.fill_diagonal(r, 1.0)
        _, _, wk, vk = _top(r, k)
        loadings = vk * np.sqrt(np.maximum(wk, 0.0))
        new = h2 * np.einsum("ij,ij->i", loadings, loadings)
        err = float(np.sum(np.abs(h2 - new)))
        h2 = new
        i += 1
        if err <= tol:
            break
        if i >= max_iter:
            converged = False
            break
    return np.sqrt(h2)[:, None] * loadings, h2, converged, i


def _psych_signs(loadings: np.ndarray) -> np.ndarray:
    signs = np.sign(loadings.sum(axis=0))
    signs[signs == 0] = 1.0
    return loadings * signs


def extract(
    corr: np.ndarray,
    n_factors: int,
    method: str = "minres",
    n_obs: int | None = None,
    max_iter: int | None = None,
    tol: float | None = None,
) -> Extraction:
    """Extract ``n_factors`` unrotated factors from a correlation matrix, as ``psych::fa`` does.

    Parameters
    ----------
    corr : ndarray of shape (p, p)
        A correlation matrix (unit diagonal).
    n_factors : int
        Number of factors, 1 <= k < p.
    method : {"minres", "ml", "pa", "uls", "wls", "gls", "alpha"}
        Minimum residual (unweighted least squares on the off-diagonal), maximum likelihood, iterated
        principal axis, psych's unweighted / weighted / generalised least squares (residual diagonal
        included), or alpha factoring.
    n_obs : int, optional
        Sample size, kept on the result for fit statistics.
    max_iter : int, optional
        L-BFGS-B iterations for the optimised methods (default 1000); communality iterations for pa and
        alpha (default 50, psych's ``max.iter``).
    tol : float, optional
        Projected-gradient tolerance for the optimised methods (default 1e-9, tighter than R's
        ``optim`` so that the optimum itself is reported); for pa and alpha the change in the
        communalities that stops the iteration (default 0.001, psych's ``min.err``: pa and alpha
        results agree with psych only with it).

    Returns
    -------
    Extraction

    Notes
    -----
    minres minimises ``F(psi) = sum_{i<j} (R - L L')_ij^2`` where ``L = V_k diag(sqrt(lambda_k))``
    from the eigen-decomposition of ``R - diag(psi)``; ml minimises
    ``F(psi) = -sum_{j>k} (log e_j - e_j) + k - p`` with ``e`` the eigenvalues of
    ``psi^-1/2 R psi^-1/2`` and ``L = psi^1/2 V_k diag(sqrt(max(e_k - 1, 0)))``. Both use L-BFGS-B on
    ``[0.005, 1]`` from ``psi = 1 - SMC`` with analytic gradients; uls, wls and gls likewise with the
    criteria above.

    psych 2.2.9 passes the ML gradient to ``optim`` for wls and gls (and starts at ``psi = SMC``), so
    its wls and gls solutions stop short of the minimum of their own criterion (on bfi, 5 factors,
    communalities differ by up to 0.03 and 0.08). This function returns the minimum; the reference
    test compares it with the minimum R's ``optim`` finds for psych's criterion.

    In R: ``psych::fa(r, nfactors = k, fm = method, rotate = "none")``.
    """
    corr = np.asarray(corr, dtype=np.float64)
    if corr.ndim != 2 or corr.shape[0] != corr.shape[1]:
        raise ValueError(f"corr must be a square matrix; got shape {corr.shape}.")
    p = corr.shape[0]
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}.")
    if isinstance(n_factors, bool) or not isinstance(n_factors, (int, np.integer)) or not 1 <= n_factors < p:
        raise ValueError(f"n_factors must be an integer in [1, {p - 1}]; got {n_factors!r}.")
    k = int(n_factors)
    with small_matrix_threads():
        return _extract(corr, k, method, n_obs, max_iter, tol)


def _inverse_or_raise(corr: np.ndarray, method: str) -> np.ndarray:
    """``R^-1`` for the wls / gls weights; a singular matrix is a clear error, not a numpy warning."""
    try:
        c = np.linalg.cholesky(corr)
    except np.linalg.LinAlgError:
        raise ValueError(
            f"method={method!r} weights the residuals with the inverse correlation matrix, and this matrix "
            "is not positive definite (an item is a linear combination of others, or pairwise correlations "
            "are inconsistent). Use method='minres' or 'uls'."
        ) from None
    ci = np.linalg.inv(c)
    return ci.T @ ci


def _extract(
    corr: np.ndarray, k: int, method: str, n_obs: int | None, max_iter: int | None, tol: float | None
) -> Extraction:
    p = corr.shape[0]
    eigenvalues = np.linalg.eigvalsh(corr)[::-1]
    # an exactly singular matrix has a smallest eigenvalue of rounding size, either sign
    if method == "ml" and eigenvalues[-1] <= max(p, 10) * _EPS * eigenvalues[0]:
        raise ValueError(
            "Maximum likelihood needs a positive definite correlation matrix; this one is singular or "
            f"indefinite (smallest eigenvalue {eigenvalues[-1]:.3g}): an item is a linear combination of "
            "others (a total score, a duplicated column), there are fewer rows than items, or pairwise "
            "correlations are inconsistent. Use method='minres' or 'pa'."
        )

    if method in ("wls", "gls"):
        inv = _inverse_or_raise(corr, method)
    if method in ("pa", "alpha"):
        if method == "pa":
            loadings, values, converged, n_iter = _principal_axis(
                corr, k, 50 if max_iter is None else max_iter, 0.001 if tol is None else tol
            )
        else:
            loadings, _, converged, n_iter = _alpha_factoring(
                corr, k, 50 if max_iter is None else max_iter, 0.001 if tol is None else tol
            )
        h2 = np.einsum("ij,ij->i", loadings, loadings)
        if method == "alpha":
            reduced = corr.copy()
            reduced[np.diag_indices_from(reduced)] = h2
            values = np.linalg.eigvalsh(reduced)[::-1]
        psi = 1.0 - h2
        resid = corr - loadings @ loadings.T
        resid[np.diag_indices_from(resid)] = 0.0
        objective = float(np.sum(resid * resid))
        at_bound = np.zeros(p, dtype=bool)
    else:
        if method == "minres":
            # psych's optim for minres gets the uls gradient (FAgr.minres = diag(LL' + psi - R)), so its
            # solution is where that gradient vanishes: the minres minimum when no uniqueness is at a
            # bound (the two criteria share their interior stationary points), the uls one when one is
            # (a Heywood case, e.g. omega's second-order factor); the objective reported is minres'
            fun, args = _weighted_ls_objective, ("uls", None)
        elif method == "ml":
            fun, args = _ml_objective, ()
        else:
            fun = _weighted_ls_objective
            args = (method, None if method == "uls" else 1.0 / np.diag(inv) if method == "wls" else inv)
        psi, converged, n_iter, objective = _optimise(
            fun, corr, k, 1000 if max_iter is None else max_iter, 1e-9 if tol is None else tol, args
        )
        loadings = _ml_loadings(psi, corr, k) if method == "ml" else _ls_loadings(psi, corr, k)
        if method == "minres":
            objective = _minres_objective(psi, corr, k)[0]
        h2 = np.einsum("ij,ij->i", loadings, loadings)
        reduced = corr.copy()
        reduced[np.diag_indices_from(reduced)] = h2
        values = np.linalg.eigvalsh(reduced)[::-1]
        at_bound = psi <= LOWER_BOUND * (1.0 + 1e-6)

    loadings = _psych_signs(loadings)
    heywood = at_bound | (h2 >= 1.0 - LOWER_BOUND)
    return Extraction(
        loadings=loadings,
        communalities=h2,
        uniquenesses=1.0 - h2,
        values=values,
        eigenvalues=eigenvalues,
        method=method,
        n_factors=k,
        n_obs=n_obs,
        converged=converged,
        n_iter=n_iter,
        heywood=heywood,
        psi=psi,
        objective=objective,
    )
