"""Factor score weights: regression (Thurstone), Bartlett and ten Berge, as ``psych::factor.scores``.

Scores are ``Z @ W`` with ``Z`` the standardised responses (psych: ``scale(x)``, sample means and
n - 1 standard deviations) and ``W`` a p x k weight matrix computed from the correlation matrix ``R``,
the pattern loadings ``L`` and the factor correlations ``Phi``.
"""

from __future__ import annotations

import numpy as np

SCORE_METHODS: tuple[str, ...] = ("regression", "bartlett", "tenberge")
_EPS = np.finfo(np.float64).eps


def _sym_sqrt(x: np.ndarray) -> np.ndarray:
    """Symmetric square root; negative eigenvalues set to machine epsilon (psych's ``matSqrt``)."""
    w, v = np.linalg.eigh(x)
    w = np.where(w < 0, _EPS, w)
    return (v * np.sqrt(w)) @ v.T


def _inv_sym_sqrt(x: np.ndarray) -> np.ndarray:
    """Inverse symmetric square root; tiny eigenvalues set to 100 eps (psych's ``invMatSqrt``)."""
    w, v = np.linalg.eigh(x)
    w = np.where(w < _EPS, 100 * _EPS, w)
    return (v / np.sqrt(w)) @ v.T


def score_weights(
    corr: np.ndarray, pattern: np.ndarray, phi: np.ndarray | None = None, method: str = "regression"
) -> np.ndarray:
    """Weights ``W`` (p x k) such that factor scores are ``Z @ W``.

    Parameters
    ----------
    corr : ndarray of shape (p, p)
        Correlation matrix ``R`` of the items.
    pattern : ndarray of shape (p, k)
        Pattern loadings ``L``.
    phi : ndarray of shape (k, k), optional
        Factor correlations (identity if None).
    method : {"regression", "bartlett", "tenberge"}
        - regression (Thurstone 1935): ``W = R^-1 L Phi`` (``R^-1`` times the structure matrix): the
          least-squares prediction of the factors;
        - bartlett (1937): ``W = U^-2 L (L' U^-2 L)^-1`` with ``U^2 = 1 - diag(L Phi L')``: unbiased
          (conditionally on the factors) weighted least squares;
        - tenberge (ten Berge et al. 1999): ``W = R^-1/2 C Phi^1/2`` with
          ``C = R^-1/2 L* (L*' R^-1 L*)^-1/2`` and ``L* = L Phi^1/2``: scores whose correlations
          equal ``Phi``.

    Returns
    -------
    ndarray of shape (p, k)

    Notes
    -----
    In R: ``psych::factor.scores(x, f, Phi, method = "Thurstone" | "Bartlett" | "tenBerge")$weights``.
    """
    R = np.asarray(corr, dtype=np.float64)
    L = np.asarray(pattern, dtype=np.float64)
    k = L.shape[1]
    Phi = np.eye(k) if phi is None else np.asarray(phi, dtype=np.float64)
    if method == "regression":
        return np.linalg.solve(R, L @ Phi)
    if method == "bartlett":
        u2 = 1.0 - np.einsum("ij,jk,ik->i", L, Phi, L)
        if np.any(u2 <= 0):
            raise ValueError("Bartlett scores need every uniqueness > 0; this solution has a Heywood case.")
        Lu = L / u2[:, None]
        return Lu @ np.linalg.inv(L.T @ Lu)
    if method == "tenberge":
        phi_half = _sym_sqrt(Phi)
        Ls = L @ phi_half
        r_half_inv = _inv_sym_sqrt(R)
        C = r_half_inv @ Ls @ _inv_sym_sqrt(Ls.T @ np.linalg.solve(R, Ls))
        return r_half_inv @ C @ phi_half
    raise ValueError(f"method must be one of {SCORE_METHODS}; got {method!r}.")
