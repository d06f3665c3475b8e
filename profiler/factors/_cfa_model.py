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


def contract_rows(table: ParameterTable, rows: np.ndarray, batch: Batch, G: np.ndarray,
                  g: np.ndarray | None) -> np.ndarray:
    """d/d(row values) of phi = tr(G Sigma) + g' mu for each entry of ``batch`` (B x len(rows)).

    G symmetric (p x p), g (p,) or None (no mean structure); analytic, so complex row values give exact
    second derivatives by the complex step. With A = (I - B)^-1, LA = Lambda A and Psi* = A Psi A'::

        dphi/dLambda = 2 G LA Psi A' + g (A alpha)'      dphi/dPsi = LA' G LA      dphi/dTheta = G
        dphi/dB = 2 LA' G LA Psi A' + (LA' g)(A alpha)'   dphi/dnu = g               dphi/dalpha = LA' g

    A symmetric matrix's off-diagonal row stands for both of its entries (twice the derivative).
    """
    A = batch.total_effects()
    LA = batch.lambda_total()
    GLA = np.matmul(G, LA)  # (B, p, m)
    dpsi = np.matmul(np.swapaxes(LA, 1, 2), GLA)
    PsiAt = batch.psi if A is None else np.matmul(batch.psi, np.swapaxes(A, 1, 2))
    dlam = 2.0 * np.matmul(GLA, PsiAt)
    dbeta = 2.0 * np.matmul(dpsi, PsiAt) if A is not None else None
    dalpha = None
    if g is not None:
        a_tot = batch.alpha if A is None else np.einsum("bij,bj->bi", A, batch.alpha)
        dalpha = np.einsum("bpm,p->bm", LA, g)
        dlam = dlam + g[None, :, None] * a_tot[:, None, :]
        if dbeta is not None:
            dbeta = dbeta + dalpha[:, :, None] * a_tot[:, None, :]
    t = table
    kind, i, j = t.mat[rows], t.row[rows], t.col[rows]
    out = np.zeros((LA.shape[0], rows.size), dtype=np.result_type(LA.dtype, G.dtype))
    sel = kind == LAMBDA
    out[:, sel] = dlam[:, i[sel], j[sel]]
    twice = np.where(i != j, 2.0, 1.0)
    sel = kind == PSI
    out[:, sel] = dpsi[:, i[sel], j[sel]] * twice[sel]
    sel = kind == THETA
    out[:, sel] = G[i[sel], j[sel]] * twice[sel]
    if g is not None:
        sel = kind == NU
        out[:, sel] = g[i[sel]]
        sel = kind == ALPHA
        out[:, sel] = dalpha[:, i[sel]]
    sel = kind == BETA
    if sel.any():
        out[:, sel] = dbeta[:, i[sel], j[sel]]
    return out


def contract(table: ParameterTable, x: np.ndarray, terms: list[tuple[np.ndarray | None, np.ndarray]],
             hessian: bool = False) -> np.ndarray:
    """Gradient in the free parameters of sum_g tr(G_g Sigma_g) + g_g' mu_g, ``terms`` = [(g_g, G_g)];
    with ``hessian`` its Jacobian instead (q x q), exact by the complex step."""
    vals = row_values(table, x)
    P = free_map(table)
    V = vals[None, :] + 1j * _STEP * P if hessian else vals[None, :]
    out = np.zeros((V.shape[0], len(table)), dtype=V.dtype)
    for g, (gm, G) in enumerate(terms):
        r = np.flatnonzero(table.group == g)
        out[:, r] = contract_rows(table, r, assemble(table, r, V[:, r]), G, gm)
    grad = out @ P.T
    if hessian:
        H = grad.imag / _STEP
        return (H + H.T) / 2.0
    return grad[0].real
