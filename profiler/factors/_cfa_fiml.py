"""Full-information maximum likelihood (FIML) for incomplete normal data: casewise log-likelihood and scores.

Each row contributes the normal log-likelihood of the variables it answered::

    l_i = -1/2 [p_i log 2 pi + log|Sigma_oo| + d_o' Sigma_oo^-1 d_o],   d = y_i - mu,  o = answered

Rows are batched by their number of missing values (as :func:`profiler.factors.missing.em_moments`),
so an evaluation is a few vectorised operations however many missing-data patterns there are. With
the precision Theta = Sigma^-1 and the missing set m of a row, only |m| x |m| blocks are inverted:
Sigma_oo^-1 padded with zeros is P_i = Theta - Theta_.m C_i Theta_m., C_i = (Theta_mm)^-1, and

    log|Sigma_oo| = log|Sigma| + log|Theta_mm|,     u_i = P_i d_i = r_i - Theta_.m C_i r_m  (r = Theta d)
    dl/dmu = sum_i u_i,     dl/dSigma = 1/2 sum_i (u_i u_i' - P_i),   sum_i P_i = N Theta - Theta K Theta

with K the sum of the C_i scattered to their (m, m) blocks. lavaan: ``missing = "ml"``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from profiler.factors._cfa_model import vech_pairs

_LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass
class FIMLGroup:
    """One group's incomplete rows, batched by the number of missing values."""

    X: np.ndarray  # (n, p), NaN where missing
    observed: np.ndarray  # bool (n, p)
    filled: np.ndarray  # X with 0 where missing
    batches: list[tuple[np.ndarray, np.ndarray]]  # (rows, missing columns (n_s x s)) for s >= 1

    @classmethod
    def from_rows(cls, X: np.ndarray) -> FIMLGroup:
        observed = ~np.isnan(X)
        n_missing = (~observed).sum(axis=1)
        batches = []
        for s in np.unique(n_missing):
            if s == 0:
                continue
            rows = np.flatnonzero(n_missing == s)
            cols = np.nonzero(~observed[rows])[1].reshape(rows.size, s)
            batches.append((rows, cols))
        return cls(X, observed, np.where(observed, X, 0.0), batches)

    @property
    def n(self) -> int:
        return self.X.shape[0]


@dataclass
class Evaluation:
    loglik: float
    g_mu: np.ndarray | None = None
    g_sigma: np.ndarray | None = None  # symmetric derivative dl/dSigma
    U: np.ndarray | None = None  # u_i rows (for casewise scores)
    theta: np.ndarray | None = None
    corrections: list | None = None  # per batch: (rows, missing columns, C_i)


def evaluate(fg: FIMLGroup, mu: np.ndarray, sigma: np.ndarray, gradient: bool = True,
             keep_rows: bool = False) -> Evaluation:
    """Observed-data log-likelihood of one group (and its gradient in mu and Sigma); -inf if Sigma is not PD."""
    n, p = fg.X.shape
    try:
        chol = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return Evaluation(-np.inf)
    ci = np.linalg.inv(chol)
    theta = ci.T @ ci
    logdet = 2.0 * float(np.sum(np.log(np.diag(chol))))
    D = np.where(fg.observed, fg.filled - mu, 0.0)
    R = D @ theta
    quad = np.einsum("ij,ij->i", D, R)
    logdets = np.full(n, logdet)
    U = R.copy() if gradient else None
    K = np.zeros((p, p)) if gradient else None
    kept = [] if keep_rows else None
    for rows, cols in fg.batches:
        Tmm = theta[cols[:, :, None], cols[:, None, :]]
        sign, ld = np.linalg.slogdet(Tmm)
        C = np.linalg.inv(Tmm)
        rm = np.take_along_axis(R[rows], cols, axis=1)
        v = np.einsum("kab,kb->ka", C, rm)
        logdets[rows] += ld
        quad[rows] -= np.einsum("ka,ka->k", rm, v)
        if gradient:
            U[rows] -= np.einsum("ks,ksp->kp", v, theta[cols])  # Theta_.m C r_m, from the s rows of Theta
            flat = (cols[:, :, None] * p + cols[:, None, :]).ravel()
            K += np.bincount(flat, weights=C.ravel(), minlength=p * p).reshape(p, p)
        if keep_rows:
            kept.append((rows, cols, C))
    n_obs = fg.observed.sum(axis=1)
    loglik = -0.5 * float(np.sum(n_obs * _LOG_2PI + logdets + quad))
    if not gradient:
        return Evaluation(loglik)
    sum_p = n * theta - theta @ K @ theta
    g_sigma = 0.5 * (U.T @ U - sum_p)
    return Evaluation(loglik, U.sum(axis=0), g_sigma, U if keep_rows else None, theta, kept)


def moment_gradient(ev: Evaluation, meanstructure: bool = True) -> np.ndarray:
    """dl/d(mu, vech Sigma): vech counts an off-diagonal covariance once (both triangles)."""
    p = ev.g_sigma.shape[0]
    r, c = vech_pairs(p)
    g = ev.g_sigma[r, c] * np.where(r == c, 1.0, 2.0)
    return np.concatenate([ev.g_mu, g]) if meanstructure else g


def casewise_scores(fg: FIMLGroup, ev: Evaluation) -> np.ndarray:
    """Per-row dl_i/d(mu, vech Sigma) (n x (p + p(p+1)/2)), for the first-order (robust) information."""
    n, p = fg.X.shape
    r, c = vech_pairs(p)
    mult = np.where(r == c, 0.5, 1.0)  # dl/dvech = 2 * sym derivative off the diagonal, halved: (uu' - P) * mult
    theta = ev.theta
    P = np.broadcast_to(theta[r, c], (n, r.size)).copy()
    for rows, cols, C in ev.corrections:
        B = theta[:, cols].transpose(1, 0, 2)  # (n_s, p, s): Theta_.m per row
        corr = np.einsum("kps,kst,kqt->kpq", B, C, B)
        P[rows] -= corr[:, r, c]
    U = ev.U
    return np.hstack([U, (U[:, r] * U[:, c] - P) * mult])


def baseline_loglik(fg: FIMLGroup) -> float:
    """Log-likelihood of the independence model: each variable's own mean and variance (closed form)."""
    total = 0.0
    for j in range(fg.X.shape[1]):
        x = fg.X[fg.observed[:, j], j]
        var = np.mean((x - x.mean()) ** 2)
        total += -0.5 * x.size * (_LOG_2PI + np.log(var) + 1.0)
    return float(total)


class FIMLProblem:
    """F(theta) = -(1/N) sum_g l_g(mu_g(theta), Sigma_g(theta)), its gradient, and a scoring metric."""

    def __init__(self, table, groups: list[FIMLGroup]):
        from profiler.factors._cfa_model import MomentStructure

        self.table = table
        self.groups = groups
        self.ms = MomentStructure(table, meanstructure=True)
        self.n_total = float(sum(g.n for g in groups))
        self.q = table.n_free

    def objective(self, x: np.ndarray) -> float:
        total = 0.0
        for fg, (sigma, mu) in zip(self.groups, self.ms.implied(x)):
            ev = evaluate(fg, mu, sigma, gradient=False)
            if not np.isfinite(ev.loglik):
                return np.inf
            total += ev.loglik
        return -total / self.n_total

    def gradient(self, x: np.ndarray, metric: bool = False):
        """F, dF/dtheta and (with ``metric``) the complete-data expected information, a scoring metric."""
        from profiler.factors._cfa_robust import normal_theory_weight

        grad = np.zeros(self.q)
        info = np.zeros((self.q, self.q)) if metric else None
        total = 0.0
        deltas = self.ms.jacobian(x)
        for fg, (sigma, mu), D in zip(self.groups, self.ms.implied(x), deltas):
            ev = evaluate(fg, mu, sigma)
            if not np.isfinite(ev.loglik):
                return np.inf, None, None
            total += ev.loglik
            grad -= D.T @ moment_gradient(ev) / self.n_total
            if metric:
                p = sigma.shape[0]
                I_m = np.zeros((D.shape[0], D.shape[0]))
                I_m[:p, :p] = ev.theta
                I_m[p:, p:] = normal_theory_weight(sigma)
                info += (fg.n / self.n_total) * (D.T @ I_m @ D)
        return -total / self.n_total, grad, info

    def minimize(self, x0: np.ndarray, max_iter: int = 500, tol: float = 1e-15) -> tuple[np.ndarray, int, bool]:
        """Scoring steps with the complete-data information as metric, backtracked (converges linearly, at
        the rate of the fraction of missing information, so the decrement must be small: 1e-15)."""
        from scipy import linalg

        x = np.asarray(x0, float).copy()
        F, grad, info = self.gradient(x, metric=True)
        if not np.isfinite(F):
            raise FloatingPointError("the starting values give a covariance matrix that is not positive definite")
        for it in range(1, max_iter + 1):
            step = linalg.solve(info, -grad, assume_a="pos")
            decrement = -float(grad @ step)
            if decrement < tol:
                return x, it - 1, True
            t = 1.0
            while True:
                F_new = self.objective(x + t * step)
                if np.isfinite(F_new) and F_new <= F - 1e-4 * t * decrement:
                    break
                t /= 2.0
                if t < 1e-10:  # no decrease left to find: converged if at rounding level
                    return x, it, decrement < 1e-9
            x = x + t * step
            F, grad, info = self.gradient(x, metric=True)
        return x, max_iter, False

    def hessian(self, x: np.ndarray) -> np.ndarray:
        """Observed information per observation: the Hessian of F by forward differences of the exact
        gradient (relative step 1e-6: about 1e-6 relative error in the standard errors)."""
        H = np.empty((self.q, self.q))
        g0 = self.gradient(x)[1]
        for k in range(self.q):
            h = 1e-6 * max(1.0, abs(x[k]))
            e = np.zeros(self.q)
            e[k] = h
            H[:, k] = (self.gradient(x + e)[1] - g0) / h
        return (H + H.T) / 2.0


def moment_hessian(fg: FIMLGroup, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Observed information per observation in (mu, vech Sigma), by central differences of the exact gradient."""
    p = mu.size
    r, c = vech_pairs(p)
    k = p + r.size
    H = np.empty((k, k))
    for j in range(k):
        h = 1e-5 * (max(1.0, abs(mu[j])) if j < p else max(1.0, abs(sigma[r[j - p], c[j - p]])))
        grads = []
        for sign in (1.0, -1.0):
            m, s = mu.copy(), sigma.copy()
            if j < p:
                m[j] += sign * h
            else:
                a, b = r[j - p], c[j - p]
                s[a, b] += sign * h
                if a != b:
                    s[b, a] += sign * h
            grads.append(moment_gradient(evaluate(fg, m, s)))
        H[:, j] = -(grads[0] - grads[1]) / (2.0 * h) / fg.n
    return (H + H.T) / 2.0


def first_order(fg: FIMLGroup, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Mean outer product of the casewise scores in (mu, vech Sigma)."""
    G = casewise_scores(fg, evaluate(fg, mu, sigma, keep_rows=True))
    return G.T @ G / fg.n


def yuan_bentler(groups: list[FIMLGroup], h1: list[tuple[np.ndarray, np.ndarray]],
                 implied: list[tuple[np.ndarray, np.ndarray]], deltas: list[np.ndarray],
                 A0_inv: np.ndarray) -> tuple[float, np.ndarray]:
    """MLR with missing data: tr(B1 A1^-1) at the h1 (EM) moments minus sum_g f_g tr(B0_g A0^-1), and B0."""
    N = sum(g.n for g in groups)
    tr_h1 = tr_h0 = 0.0
    B0 = np.zeros_like(A0_inv)
    for fg, (mu1, s1), (sigma, mu), D in zip(groups, h1, implied, deltas):
        f = fg.n / N
        B1 = first_order(fg, mu1, s1)
        A1 = moment_hessian(fg, mu1, s1)
        tr_h1 += float(np.sum(B1 * np.linalg.inv(A1).T))
        B0g = D.T @ first_order(fg, mu, sigma) @ D
        B0 += f * B0g
        tr_h0 += f * float(np.sum(B0g * A0_inv.T))
    return tr_h1 - tr_h0, B0
