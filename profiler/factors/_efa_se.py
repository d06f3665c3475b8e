"""Standard errors of ML factor loadings and factor correlations after rotation, as lavaan's ``efa()``.

The rotated ML solution is the maximum-likelihood estimate under the constraints that make the
rotation criterion stationary (Jennrich 1973, 2007; Archer & Jennrich 1973). Its asymptotic covariance is
the upper-left block of the inverse of the expected information bordered by the constraints' Jacobian
``H``::

    [ N I(theta)  H' ]^-1
    [ H           0  ]

with ``theta = (Lambda, the factor correlations if oblique, psi)``, ``Sigma = Lambda Phi Lambda' + Psi``
and ``I = 1/2 Delta' (Sigma^-1 x Sigma^-1) Delta`` per observation (``Delta = dvec(Sigma)/dtheta``). The
constraints are lavaan's (``lav_model_efa_rotate_border_x``): with ``A`` the loadings standardised by
the model-implied SDs (and Kaiser-weighted where the rotation is) and ``Gq`` the criterion's gradient,
``Z = A' Gq``; orthogonal rotations need ``Z`` symmetric, oblique ones the off-diagonal of
``Z - diag(Z) Phi`` to vanish. (lavaan 0.6-14 standardises by ``diag(Lambda Lambda' + Theta)`` there,
without ``Phi``; ``scaling="lavaan"`` reproduces it.) Unrotated ML loadings are identified by ``Lambda' Psi^-1 Lambda`` being
diagonal. The standard errors of the standardised loadings follow by the delta method.

Everything is computed on the correlation matrix: ML is scale invariant, so the covariance-metric
estimates and their covariance matrix are those of the correlation metric rescaled by the (fixed)
standard deviations, and the standardised solution and its delta-method covariance are the same.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from profiler.factors.rotation import ORTHOGONAL, _criterion, _kaiser_weights

#: Rotations whose criterion is smooth enough for the bordered information (every GPF rotation but
#: simplimax, whose criterion has no gradient where its set of small loadings changes).
SE_ROTATIONS: frozenset[str] = frozenset(
    {"none", "varimax", "quartimax", "equamax", "bentlerT", "geominT", "targetT", "bifactor",
     "oblimin", "quartimin", "geomin", "bentlerQ", "targetQ", "biquartimin"}
)  # fmt: skip


def _unpack(theta: np.ndarray, p: int, k: int, oblique: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    L = theta[: p * k].reshape(p, k)
    phi = np.eye(k)
    m = p * k
    if oblique:
        rows, cols = np.tril_indices(k, -1)
        n_phi = rows.size
        phi[rows, cols] = phi[cols, rows] = theta[m : m + n_phi]
        m += n_phi
    return L, phi, theta[m:]


def _delta(L: np.ndarray, phi: np.ndarray, oblique: bool) -> np.ndarray:
    """dSigma/dtheta as an array of shape (n_params, p, p)."""
    p, k = L.shape
    M = L @ phi
    blocks = []
    # d/d lambda_ij: e_i M_j' + M_j e_i'
    dL = np.zeros((p, k, p, p))
    idx = np.arange(p)
    dL[idx, :, idx, :] += M.T  # row i of dSigma/dlambda_ij is M_j
    dL[idx, :, :, idx] += M.T  # and so is column i
    blocks.append(dL.reshape(p * k, p, p))
    if oblique:
        rows, cols = np.tril_indices(k, -1)
        a, b = L[:, rows].T, L[:, cols].T  # (n_phi, p)
        blocks.append(a[:, :, None] * b[:, None, :] + b[:, :, None] * a[:, None, :])
    dpsi = np.zeros((p, p, p))
    dpsi[idx, idx, idx] = 1.0
    blocks.append(dpsi)
    return np.concatenate(blocks, axis=0)


def _constraints(
    method: str, normalize: bool, crit: Callable | None, p: int, k: int, oblique: bool, scaling: str
) -> Callable[[np.ndarray], np.ndarray]:
    rows, cols = np.tril_indices(k, -1)
    off = ~np.eye(k, dtype=bool)

    def h(theta: np.ndarray) -> np.ndarray:
        L, phi, psi = _unpack(theta, p, k, oblique)
        if method == "none":  # ML identification: Lambda' Psi^-1 Lambda diagonal
            X = (L / psi[:, None]).T @ L
            return X[rows, cols]
        if scaling == "lavaan":  # lavaan 0.6-14: diag(Lambda Lambda' + Theta), Phi left out
            sigma = np.einsum("ij,ij->i", L, L) + psi
        else:
            sigma = np.einsum("ij,jk,ik->i", L, phi, L) + psi
        A = L / np.sqrt(sigma)[:, None]
        if normalize:
            A = A / _kaiser_weights(A)[:, None]
        _, Gq = crit(A)
        Z = A.T @ Gq
        if not oblique:
            return (Z - Z.T)[rows, cols]
        return (Z - phi * np.diag(Z)[:, None])[off]

    return h


def _jacobian(fun: Callable[[np.ndarray], np.ndarray], x: np.ndarray, step: float = 1e-6) -> np.ndarray:
    """Central differences, one column per parameter."""
    f0 = fun(x)
    J = np.empty((f0.size, x.size))
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = step
        J[:, j] = (fun(x + e) - fun(x - e)) / (2 * step)
    return J


def rotated_ml_standard_errors(
    loadings: np.ndarray,
    phi: np.ndarray,
    n_obs: int,
    rotation: str,
    *,
    normalize: bool,
    gamma: float = 0.0,
    delta: float = 0.01,
    target: np.ndarray | None = None,
    scaling: str = "model",
    standardized: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Standard errors of standardised rotated ML loadings and of the factor correlations.

    Parameters
    ----------
    loadings : ndarray of shape (p, k)
        Rotated ML loadings of a correlation matrix (pattern), at the ML optimum.
    phi : ndarray of shape (k, k)
        Factor correlations (identity for orthogonal rotations).
    n_obs : int
        Sample size N (lavaan's information is N times the per-observation one).
    rotation : str
        One of :data:`SE_ROTATIONS`.
    normalize : bool
        Whether the rotation used Kaiser (row) weights.
    gamma, delta, target :
        The rotation's parameters, as given to :func:`profiler.factors.rotation.rotate`.
    scaling : {"model", "lavaan"}
        How the constraints standardise the loadings: by the model-implied SDs ``diag(Sigma)`` (the
        rotation's own definition; default), or as lavaan 0.6-14 does, by ``diag(Lambda Lambda' +
        Theta)``, which leaves ``Phi`` out. Orthogonal rotations are the same either way; for oblique
        ones lavaan's tangent space is slightly off the rotation's and its SEs differ by up to ~20%
        (bfi, oblimin). ``"lavaan"`` exists to reproduce lavaan's numbers.
    standardized : bool
        Delta method to the standardised loadings (default), or the standard errors of the loadings as
        parameters of the correlation-metric model (times the items' SDs, lavaan's unstandardised ones).

    Returns
    -------
    se_loadings : ndarray of shape (p, k)
    se_phi : ndarray of shape (k, k)
        Zero on the diagonal (fixed at 1) and for orthogonal rotations.

    Notes
    -----
    In R: ``lavaan::standardizedSolution(efa(x, nfactors = k, rotation = ..., output = "lavaan"))$se``.
    """
    L = np.asarray(loadings, dtype=np.float64)
    p, k = L.shape
    oblique = rotation not in ORTHOGONAL
    psi = 1.0 - np.einsum("ij,jk,ik->i", L, phi, L)
    rows, cols = np.tril_indices(k, -1)
    theta = np.concatenate([L.ravel(), phi[rows, cols] if oblique else [], psi])
    sigma = L @ phi @ L.T + np.diag(psi)
    W = np.linalg.inv(sigma)
    D = _delta(L, phi, oblique)
    WDW = W[None] @ D @ W[None]
    info = 0.5 * np.einsum("cab,dab->cd", D, WDW) * n_obs
    crit = None if rotation == "none" else _criterion(rotation, (p, k), gamma, delta, target)
    if scaling not in ("model", "lavaan"):
        raise ValueError(f"scaling must be 'model' or 'lavaan', got {scaling!r}")
    H = _jacobian(_constraints(rotation, normalize, crit, p, k, oblique, scaling), theta)
    q, r = theta.size, H.shape[0]
    bordered = np.zeros((q + r, q + r))
    bordered[:q, :q] = info
    bordered[:q, q:] = H.T
    bordered[q:, :q] = H
    V = np.linalg.inv(bordered)[:q, :q]

    def standardised(t: np.ndarray) -> np.ndarray:
        Lt, phit, psit = _unpack(t, p, k, oblique)
        s = np.einsum("ij,jk,ik->i", Lt, phit, Lt) + psit
        return (Lt / np.sqrt(s)[:, None]).ravel()

    J = _jacobian(standardised, theta) if standardized else np.eye(p * k, theta.size)
    se_l = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", J, V, J), 0.0, None)).reshape(p, k)
    se_phi = np.zeros((k, k))
    if oblique:
        m = p * k
        var = np.clip(np.diag(V)[m : m + rows.size], 0.0, None)
        se_phi[rows, cols] = se_phi[cols, rows] = np.sqrt(var)
    return se_l, se_phi
