"""Model matrices from a parameter table, batched and complex-capable, and exact Jacobians by the complex step.

The LISREL "all-y" model lavaan uses, per group::

    eta = alpha + B eta + zeta        y = nu + Lambda eta + epsilon
    A = (I - B)^-1
    Sigma = Lambda A Psi A' Lambda' + Theta        mu = nu + Lambda A alpha

B holds regressions between factors (``F1 ~ F2``) and the loadings of higher-order factors
(``g =~ F1``). Every model moment is an analytic function of the parameters, so the derivative of
the moments with respect to parameter k is Im(m(theta + i h e_k)) / h for a tiny h, exact to
rounding (no cancellation): one batched evaluation gives the whole Jacobian Delta, whatever the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from profiler.factors._cfa_table import ALPHA, BETA, DELTA, LAMBDA, NU, PSI, TAU, THETA, ParameterTable

_STEP = 1e-20  # complex-step size


@dataclass
class Batch:
    """Model matrices of one group for B parameter vectors (leading axis), real or complex."""

    lam: np.ndarray  # (B, p, m)
    psi: np.ndarray  # (B, m, m)
    theta: np.ndarray  # (B, p, p), derived (ordinal) diagonals left 0
    nu: np.ndarray  # (B, p)
    alpha: np.ndarray  # (B, m)
    beta: np.ndarray | None  # (B, m, m) or None without regressions / higher-order factors
    tau: np.ndarray  # (B, n_thresholds)
    delta: np.ndarray  # (B, p) scale factors (1 for continuous variables)

    def total_effects(self) -> np.ndarray | None:
        """A = (I - B)^-1, or None when B is absent."""
        if self.beta is None:
            return None
        m = self.beta.shape[1]
        return np.linalg.inv(np.eye(m) - self.beta)

    def lambda_total(self) -> np.ndarray:
        """Lambda A: loadings of the observed variables on every factor, through B."""
        A = self.total_effects()
        return self.lam if A is None else self.lam @ A

    def common(self) -> np.ndarray:
        """Lambda A Psi A' Lambda' (B, p, p)."""
        A = self.total_effects()
        psi = self.psi if A is None else A @ self.psi @ np.swapaxes(A, 1, 2)
        return self.lam @ psi @ np.swapaxes(self.lam, 1, 2)

    def sigma(self) -> np.ndarray:
        return self.common() + self.theta

    def mu(self) -> np.ndarray:
        return self.nu + np.einsum("bij,bj->bi", self.lambda_total(), self.alpha)

    def factor_cov(self) -> np.ndarray:
        """Model-implied covariance of the factors, A Psi A'."""
        A = self.total_effects()
        return self.psi if A is None else A @ self.psi @ np.swapaxes(A, 1, 2)


def assemble(table: ParameterTable, rows: np.ndarray, v: np.ndarray, th_start: np.ndarray | None = None,
             n_th: int = 0) -> Batch:
    """Model matrices from row values ``v`` (B x len(rows)) of the table rows ``rows`` (one group)."""
    t = table
    B, dtype = v.shape[0], v.dtype
    p, m = len(t.observed), len(t.latent)
    lam = np.zeros((B, p, m), dtype)
    psi = np.zeros((B, m, m), dtype)
    theta = np.zeros((B, p, p), dtype)
    nu = np.zeros((B, p), dtype)
    alpha = np.zeros((B, m), dtype)
    tau = np.zeros((B, n_th), dtype)
    delta = np.ones((B, p), dtype)
    kind, i, j = t.mat[rows], t.row[rows], t.col[rows]
    derived = t.derived[rows] if t.derived is not None else np.zeros(len(rows), dtype=bool)
    sel = kind == LAMBDA
    lam[:, i[sel], j[sel]] = v[:, sel]
    sel = kind == PSI
    psi[:, i[sel], j[sel]] = v[:, sel]
    psi[:, j[sel], i[sel]] = v[:, sel]
    sel = (kind == THETA) & ~derived
    theta[:, i[sel], j[sel]] = v[:, sel]
    theta[:, j[sel], i[sel]] = v[:, sel]
    sel = kind == NU
    nu[:, i[sel]] = v[:, sel]
    sel = kind == ALPHA
    alpha[:, i[sel]] = v[:, sel]
    sel = kind == DELTA
    delta[:, i[sel]] = v[:, sel]
    beta = None
    sel = kind == BETA
    if sel.any():
        beta = np.zeros((B, m, m), dtype)
        beta[:, i[sel], j[sel]] = v[:, sel]
    sel = kind == TAU
    if sel.any():
        tau[:, th_start[i[sel]] + j[sel]] = v[:, sel]
    return Batch(lam, psi, theta, nu, alpha, beta, tau, delta)


def row_values(table: ParameterTable, x: np.ndarray) -> np.ndarray:
    """Every row's value: free rows from x, fixed rows their value (derived rows 0 until computed)."""
    vals = table.value.copy()
    free = table.free >= 0
    vals[free] = x[table.free[free]]
    return np.nan_to_num(vals)


def free_map(table: ParameterTable) -> np.ndarray:
    """One-hot (q x rows) map from free parameters to the table rows that carry them."""
    P = np.zeros((table.n_free, len(table)))
    free = table.free >= 0
    P[table.free[free], np.flatnonzero(free)] = 1.0
    return P


def vech_pairs(p: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, col) of the lower triangle with the diagonal, by columns: lavaan's ``vech`` order."""
    cols, rows = np.triu_indices(p)
    return rows, cols


class MomentStructure:
    """Model-implied moments (mu, vech Sigma) per group and their exact Jacobian."""

    def __init__(self, table: ParameterTable, meanstructure: bool):
        self.table = table
        self.meanstructure = meanstructure
        self.rows = [np.flatnonzero(table.group == g) for g in range(table.n_groups)]
        self.P = free_map(table)
        self.vr, self.vc = vech_pairs(len(table.observed))

    def _moments(self, v: np.ndarray, g: int) -> np.ndarray:
        batch = assemble(self.table, self.rows[g], v)
        sigma = batch.sigma()
        parts = [sigma[:, self.vr, self.vc]]
        if self.meanstructure:
            parts.insert(0, batch.mu())
        return np.concatenate(parts, axis=1)

    def implied(self, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """(Sigma_g, mu_g) per group."""
        vals = row_values(self.table, x)
        out = []
        for g, r in enumerate(self.rows):
            batch = assemble(self.table, r, vals[None, r])
            out.append((batch.sigma()[0], batch.mu()[0]))
        return out

    def jacobian(self, x: np.ndarray) -> list[np.ndarray]:
        """Delta_g = d (mu, vech Sigma) / d theta per group ((p + p(p+1)/2) x q, mu only with a mean structure)."""
        vals = row_values(self.table, x)
        batch = vals[None, :] + 1j * _STEP * self.P
        return [self._moments(batch[:, r], g).imag.T / _STEP for g, r in enumerate(self.rows)]
