"""Maximum-likelihood estimation of a CFA from sample moments: objective, gradient, information, optimiser.

Per group g, with S_g the biased (divide by N_g) covariance matrix and ybar_g the mean vector::

    F_g = log|Sigma_g| + tr(S_g Sigma_g^-1) - log|S_g| - p + (ybar_g - mu_g)' Sigma_g^-1 (ybar_g - mu_g)
    f   = sum_g (N_g / N) F_g                 chi-square = N f = sum_g N_g F_g

(the mean part only with a mean structure; otherwise mu_g = ybar_g). lavaan minimises f / 2, which
has the same minimiser.

Derivatives use one fact: the derivative of Sigma with respect to any CFA parameter is a symmetric
product ``c (u v' + v u')`` (a loading lambda_ij: u = e_i, v = (Lambda Psi)_{.j}; a factor
covariance psi_jk: u = Lambda_{.j}, v = Lambda_{.k}; a residual covariance theta_ik: u = e_i,
v = e_k; c = 1/2 on diagonals). With W = Sigma^-1 and G = W - W (S + d d') W, d = ybar - mu::

    dF/dtheta_k = 2 c_k u_k' G v_k - 2 d' W m_k                                  (m_k = dmu/dtheta_k)
    I_kl = 1/2 tr(W dSigma_k W dSigma_l) + m_k' W m_l
         = c_k c_l [(U'WU)_kl (V'WV)_kl + (U'WV)_kl (U'WV)_lk] + (M'WM)_kl

I is the expected (Fisher) information per observation, lavaan's default for standard errors:
cov(theta) = (N sum_g (N_g/N) I_g)^-1. The optimiser takes Fisher-scoring steps (2 I)^-1 (-grad f) far
from the optimum and Newton steps with the exact Hessian (:meth:`MLProblem.hessian_rows`) near it, with a
backtracking line search that keeps Sigma positive definite.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import lapack

from profiler.factors._cfa_data import Moments
from profiler.factors._cfa_table import ALPHA, LAMBDA, NU, PSI, THETA, ParameterTable


@dataclass
class Matrices:
    """Model matrices of one group."""

    lam: np.ndarray
    psi: np.ndarray
    theta: np.ndarray
    nu: np.ndarray
    alpha: np.ndarray

    def sigma(self) -> np.ndarray:
        s = self.lam @ self.psi @ self.lam.T + self.theta
        return (s + s.T) / 2.0

    def mu(self) -> np.ndarray:
        return self.nu + self.lam @ self.alpha


@dataclass
class Evaluation:
    f: float
    grad: np.ndarray | None = None
    info: np.ndarray | None = None  # expected information per observation, (N_g/N)-weighted
    hess: np.ndarray | None = None  # Hessian of f (observed), when asked for


class MLProblem:
    """The ML fitting function of a parameter table given sample moments."""

    def __init__(self, table: ParameterTable, mom: Moments):
        self.table = table
        self.mom = mom
        self.p = len(table.observed)
        self.m = len(table.latent)
        self.weights = mom.n / mom.n.sum()
        self.q = table.n_free
        self.logdet_s = []
        for s in mom.cov:
            sign, logdet = np.linalg.slogdet(s)
            self.logdet_s.append(logdet if sign > 0 else np.nan)
        self.rows = [np.flatnonzero(table.group == g) for g in range(table.n_groups)]
        # free rows of each group and the one-hot map from rows to free parameters
        self.free_rows = [r[table.free[r] >= 0] for r in self.rows]
        self.onehot = []
        for r in self.free_rows:
            P = np.zeros((len(r), self.q))
            P[np.arange(len(r)), table.free[r]] = 1.0
            self.onehot.append(P)
        self.unique_free = [len(np.unique(table.free[r])) == len(r) for r in self.free_rows]
        self.free_index = [self.basis_index(r) for r in self.free_rows]
        self.trace: list[tuple[float, float]] | None = None  # (f, decrement) per iteration, for diagnostics

    # ------------------------------------------------------------------ model
    def row_values(self, x: np.ndarray) -> np.ndarray:
        """Value of every table row: free rows from x, fixed rows their fixed value."""
        t = self.table
        vals = t.value.copy()
        free = t.free >= 0
        vals[free] = x[t.free[free]]
        return vals

    def matrices(self, x: np.ndarray, g: int, vals: np.ndarray | None = None) -> Matrices:
        t = self.table
        vals = self.row_values(x) if vals is None else vals
        r = self.rows[g]
        mats = Matrices(
            np.zeros((self.p, self.m)), np.zeros((self.m, self.m)), np.zeros((self.p, self.p)),
            np.zeros(self.p), np.zeros(self.m),
        )
        kind, i, j, v = t.mat[r], t.row[r], t.col[r], vals[r]
        sel = kind == LAMBDA
        mats.lam[i[sel], j[sel]] = v[sel]
        for code, target in ((PSI, mats.psi), (THETA, mats.theta)):
            sel = kind == code
            target[i[sel], j[sel]] = v[sel]
            target[j[sel], i[sel]] = v[sel]
        sel = kind == NU
        mats.nu[i[sel]] = v[sel]
        sel = kind == ALPHA
        mats.alpha[i[sel]] = v[sel]
        return mats

    def implied(self, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Model-implied (Sigma_g, mu_g); mu_g is the sample mean without a mean structure."""
        vals = self.row_values(x)
        out = []
        for g in range(self.table.n_groups):
            mats = self.matrices(x, g, vals)
            mu = mats.mu() if self.table.meanstructure else self.mom.mean[g]
            out.append((mats.sigma(), mu))
        return out

    def basis_index(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """:func:`basis_index` of some table rows."""
        t = self.table
        return basis_index(t.mat[rows], t.row[rows], t.col[rows], self.p, self.m)

    def mean_coef(self, idx: dict[str, np.ndarray], mats: Matrices) -> np.ndarray:
        """Scale of dmu/dtheta_k along E_mi: alpha_j for loadings, 1 for intercepts and means."""
        kind = idx["kind"]
        if not self.table.meanstructure:
            return np.zeros(len(kind))
        coef = np.where((kind == NU) | (kind == ALPHA), 1.0, 0.0)
        sel = kind == LAMBDA
        coef[sel] = mats.alpha[idx["lv"][sel]]
        return coef

    @staticmethod
    def gram(M: np.ndarray, basis: np.ndarray) -> np.ndarray:
        """E' M E for E = [I, basis], from small blocks (never a p x p x n_par product)."""
        MB = M @ basis
        return np.block([[M, MB], [MB.T, basis.T @ MB]])

    @staticmethod
    def information_block(K: np.ndarray, i1: dict, coef1: np.ndarray, i2: dict, coef2: np.ndarray) -> np.ndarray:
        """Expected information per observation between two sets of rows, from K = E' Sigma^-1 E."""
        a1, b1, a2, b2 = i1["a"], i1["b"], i2["a"], i2["b"]
        cov = K[np.ix_(a1, a2)] * K[np.ix_(b1, b2)] + K[np.ix_(a1, b2)] * K[np.ix_(b1, a2)]
        return np.outer(i1["c"], i2["c"]) * cov + np.outer(coef1, coef2) * K[np.ix_(i1["mi"], i2["mi"])]

    # ------------------------------------------------------------ objective
    def group_terms(self, x: np.ndarray, g: int, vals: np.ndarray | None = None) -> dict | None:
        """Sigma^-1, F_g and the pieces the derivatives need, for one group (None if Sigma is not PD)."""
        mats = self.matrices(x, g, vals)
        sigma = mats.sigma()
        # numpy's cholesky/inv rather than scipy's cho_solve: on a loaded machine, multi-threaded
        # triangular solves with many right-hand sides are orders of magnitude slower at this size
        try:
            chol = np.linalg.cholesky(sigma)
        except np.linalg.LinAlgError:
            return None
        diag = np.diag(chol)
        if not np.all(np.isfinite(diag)) or np.any(diag <= 0):
            return None
        W = np.linalg.inv(sigma)
        W = (W + W.T) / 2.0
        S = self.mom.cov[g]
        d = self.mom.mean[g] - mats.mu() if self.table.meanstructure else np.zeros(self.p)
        Wd = W @ d
        F = 2.0 * np.sum(np.log(diag)) + np.sum(S * W) - self.logdet_s[g] - self.p + d @ Wd
        return {"mats": mats, "W": W, "Wd": Wd, "F": float(F), "S": S}

    def evaluate(self, x: np.ndarray, derivatives: bool = True, hessian: bool = False) -> Evaluation:
        """f; with ``derivatives`` its gradient and expected information; with ``hessian`` also the
        exact Hessian of f (all for the free parameters)."""
        vals = self.row_values(x)
        f = 0.0
        grad = np.zeros(self.q) if derivatives else None
        info = np.zeros((self.q, self.q)) if derivatives else None
        hess = np.zeros((self.q, self.q)) if derivatives and hessian else None
        for g in range(self.table.n_groups):
            terms = self.group_terms(x, g, vals)
            if terms is None:
                return Evaluation(np.inf)
            w = self.weights[g]
            f += w * terms["F"]
            if not derivatives:
                continue
            mats, W, Wd = terms["mats"], terms["W"], terms["Wd"]
            idx = self.free_index[g]
            basis = np.hstack([mats.lam, mats.lam @ mats.psi])
            K = self.gram(W, basis)
            KG = self.gram(W - W @ terms["S"] @ W - np.outer(Wd, Wd), basis)
            coef = self.mean_coef(idx, mats)
            Ewd = np.concatenate([Wd, basis.T @ Wd])
            g_rows = 2.0 * idx["c"] * KG[idx["a"], idx["b"]] - 2.0 * coef * Ewd[idx["mi"]]
            I_rows = self.information_block(K, idx, coef, idx, coef)
            H_rows = self.hessian_rows(idx, coef, K, KG, Ewd, mats) if hessian else None
            f_idx = self.table.free[self.free_rows[g]]
            if self.unique_free[g]:
                grad[f_idx] += w * g_rows
                info[np.ix_(f_idx, f_idx)] += w * I_rows
                if hessian:
                    hess[np.ix_(f_idx, f_idx)] += w * H_rows
            else:  # rows sharing one parameter within the group: sum through the one-hot map
                P = self.onehot[g]
                grad += w * (g_rows @ P)
                info += w * (P.T @ I_rows @ P)
                if hessian:
                    hess += w * (P.T @ H_rows @ P)
        return Evaluation(float(f), grad, info, hess)

    def hessian_rows(self, idx: dict, coef: np.ndarray, K: np.ndarray, KG: np.ndarray, Ewd: np.ndarray,
                     mats: Matrices) -> np.ndarray:
        """Exact Hessian of F_g over the group's free rows.

        With Q = W (S + dd') W (so E'QE = K - KG), Sigma_k = dSigma/dtheta_k, m_k = dmu/dtheta_k::

            H_kl = -tr(W S_l W S_k) + 2 tr(W S_l Q S_k) + 2 d'W S_k W m_l + 2 d'W S_l W m_k
                   + 2 m_k' W m_l + tr(G d2Sigma/dtheta_k dtheta_l) - 2 d'W d2mu/dtheta_k dtheta_l

        Second derivatives are nonzero only for two loadings (psi_jj' (e_i e_i'' + e_i' e_i')), a
        loading and a factor (co)variance, and a loading lambda_ij with the mean alpha_j (e_i).
        At S = Sigma and d = 0 this is 2 I, twice the expected information.
        """
        a, b, c, mi = idx["a"], idx["b"], idx["c"], idx["mi"]
        KQ = K - KG
        Kaa, Kbb, Kab = K[np.ix_(a, a)], K[np.ix_(b, b)], K[np.ix_(a, b)]
        Qaa, Qbb, Qab = KQ[np.ix_(a, a)], KQ[np.ix_(b, b)], KQ[np.ix_(a, b)]
        cc = np.outer(c, c)
        H = cc * (-2.0 * (Kaa * Kbb + Kab * Kab.T) + 2.0 * (Kab.T * Qab + Kaa * Qbb + Kbb * Qaa + Kab * Qab.T))
        kind, i, j = idx["kind"], idx["i"], idx["lv"]
        lam = np.flatnonzero(kind == LAMBDA)
        if lam.size:
            # two loadings: 2 psi_jj' G_ii'
            H[np.ix_(lam, lam)] += 2.0 * mats.psi[np.ix_(j[lam], j[lam])] * KG[np.ix_(i[lam], i[lam])]
            psi = np.flatnonzero(kind == PSI)
            if psi.size:
                # loading lambda_ij with psi_rs: 2 [(G Lambda)_ir [s == j] + (G Lambda)_is [r == j]] (halved if r == s)
                r, s_ = i[psi], j[psi]
                GL_r = KG[np.ix_(i[lam], self.p + r)]
                GL_s = KG[np.ix_(i[lam], self.p + s_)]
                jl = j[lam][:, None]
                block = 2.0 * (GL_r * (s_[None, :] == jl) + GL_s * (r[None, :] == jl)) * np.where(r == s_, 0.5, 1.0)
                H[np.ix_(lam, psi)] += block
                H[np.ix_(psi, lam)] += block.T
        if self.table.meanstructure:
            T3 = c[:, None] * coef[None, :] * (Ewd[a][:, None] * K[np.ix_(b, mi)] + Ewd[b][:, None] * K[np.ix_(a, mi)])
            H += 2.0 * (T3 + T3.T) + 2.0 * np.outer(coef, coef) * K[np.ix_(mi, mi)]
            alpha = np.flatnonzero(kind == ALPHA)
            if lam.size and alpha.size:
                match = j[lam][:, None] == i[alpha][None, :]
                block = np.where(match, -2.0 * Ewd[i[lam]][:, None], 0.0)
                H[np.ix_(lam, alpha)] += block
                H[np.ix_(alpha, lam)] += block.T
        return H

    def candidate_terms(
        self, x: np.ndarray, g: int, kind: np.ndarray, i: np.ndarray, j: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For parameters not in the model (or fixed) in group g, at the solution x:
        dF_g/dtheta (k,), their own information (k,), and their information with the free
        parameters (k, q) -- per observation of group g, unweighted."""
        terms = self.group_terms(x, g)
        if terms is None:
            raise FloatingPointError("the model-implied covariance matrix is not positive definite")
        mats, W, Wd = terms["mats"], terms["W"], terms["Wd"]
        basis = np.hstack([mats.lam, mats.lam @ mats.psi])
        K = self.gram(W, basis)
        KG = self.gram(W - W @ terms["S"] @ W - np.outer(Wd, Wd), basis)
        Ewd = np.concatenate([Wd, basis.T @ Wd])
        cand = basis_index(kind, i, j, self.p, self.m)
        coef_c = self.mean_coef(cand, mats)
        free = self.free_index[g]
        coef_f = self.mean_coef(free, mats)
        grad = 2.0 * cand["c"] * KG[cand["a"], cand["b"]] - 2.0 * coef_c * Ewd[cand["mi"]]
        own = np.diag(self.information_block(K, cand, coef_c, cand, coef_c)).copy()
        cross = self.information_block(K, cand, coef_c, free, coef_f) @ self.onehot[g]
        return grad, own, cross

    # ------------------------------------------------------------ optimiser
    def minimize(self, x0: np.ndarray, max_iter: int = 500, tol: float = 1e-12, newton_below: float = 1e-1,
                 start: Evaluation | None = None) -> tuple[np.ndarray, Evaluation, int, bool]:
        """Fisher scoring, then Newton steps near the optimum; returns (x, evaluation, iterations, converged).

        Fisher scoring (step (2I)^-1 (-grad)) is robust far from the optimum but converges only
        linearly when the model misfits; once the Fisher-metric decrement grad' (2I)^-1 grad is below
        ``newton_below``, steps use the exact Hessian when it is positive definite (quadratic
        convergence). Every step is backtracked until f decreases enough (Armijo) and Sigma stays
        positive definite. Converged when the decrement falls below ``tol`` (f is then within about
        tol/2 of its minimum). ``start`` is the evaluation at x0, if already computed.
        """
        x = np.asarray(x0, dtype=float).copy()
        ev = start if start is not None and start.grad is not None else self.evaluate(x)
        if not np.isfinite(ev.f):
            raise FloatingPointError("the starting values give a covariance matrix that is not positive definite")
        for it in range(1, max_iter + 1):
            step = _solve_psd(2.0 * ev.info, -ev.grad)
            decrement = -float(ev.grad @ step)
            if self.trace is not None:
                self.trace.append((ev.f, decrement))
            if decrement < tol:
                return x, ev, it - 1, True
            if ev.hess is not None:
                newton = _solve_pd(ev.hess, -ev.grad)
                if newton is not None and -float(ev.grad @ newton) > 0:
                    step = newton
            slope = -float(ev.grad @ step)
            near = decrement < newton_below
            t = 1.0
            trial_ev = self.evaluate(x + step, hessian=near)  # the full step is accepted almost always
            while not (np.isfinite(trial_ev.f) and trial_ev.f <= ev.f - 1e-4 * t * slope):
                t *= 0.5
                if t < 1e-10:
                    return x, ev, it, False
                trial_ev = self.evaluate(x + t * step, derivatives=False)
            x = x + t * step
            ev = trial_ev if trial_ev.grad is not None else self.evaluate(x, hessian=near)
        step = _solve_psd(2.0 * ev.info, -ev.grad)
        return x, ev, max_iter, bool(-ev.grad @ step < tol)


def basis_index(kind: np.ndarray, i: np.ndarray, j: np.ndarray, p: int, m: int) -> dict[str, np.ndarray]:
    """Where each parameter's derivative vectors sit in the basis E = [I_p, Lambda, Lambda Psi].

    For parameters of matrix ``kind`` at (``i``, ``j``): dSigma/dtheta_k = c_k (E_a E_b' + E_b E_a')
    with a = ``a[k]``, b = ``b[k]``, and dmu/dtheta_k = coef_k E_mi with mi = ``mi[k]`` (coef from
    :meth:`MLProblem.mean_coef`).
    """
    n = len(kind)
    a, b, mi = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    c = np.zeros(n)
    sel = kind == LAMBDA  # u = e_i, v = (Lambda Psi)_j; dmu = alpha_j e_i
    a[sel], b[sel], c[sel], mi[sel] = i[sel], p + m + j[sel], 1.0, i[sel]
    sel = kind == PSI  # u = Lambda_j, v = Lambda_k
    a[sel], b[sel], c[sel] = p + i[sel], p + j[sel], np.where(i[sel] == j[sel], 0.5, 1.0)
    sel = kind == THETA  # u = e_i, v = e_k
    a[sel], b[sel], c[sel] = i[sel], j[sel], np.where(i[sel] == j[sel], 0.5, 1.0)
    sel = kind == NU  # dmu = e_i
    mi[sel] = i[sel]
    sel = kind == ALPHA  # dmu = Lambda_j
    mi[sel] = p + i[sel]
    return {"a": a, "b": b, "c": c, "mi": mi, "kind": kind, "i": i, "lv": j}


def _solve_pd(H: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """Solve H s = b if H is positive definite, else None."""
    chol, info = lapack.dpotrf(H, lower=1)
    return lapack.dpotrs(chol, b, lower=1)[0] if info == 0 else None


def _solve_psd(H: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve H s = b for a symmetric positive (semi)definite H; falls back to least squares."""
    chol, info = lapack.dpotrf(H, lower=1)
    if info == 0:
        return lapack.dpotrs(chol, b, lower=1)[0]
    return np.linalg.lstsq(H, b, rcond=None)[0]


# ------------------------------------------------------------------ start values
def start_values(problem: MLProblem) -> np.ndarray:
    """Non-iterative starting values, per group, averaged over rows that share a free parameter.

    Loadings: for each factor, the first principal axis of its indicators' correlations with squared
    multiple correlations as communalities (one step of principal-axis factoring), rescaled so the
    marker loading (or the fixed factor variance) holds. Residual variances: what the factor leaves of
    each variance (at least 5 % of it). Factor covariances: least squares given the loadings, shrunk
    until Psi is positive definite. Intercepts: sample means; factor means: 0.
    """
    t = problem.table
    p, m = problem.p, problem.m
    sums = np.zeros(problem.q)
    counts = np.zeros(problem.q)
    for g in range(t.n_groups):
        S = problem.mom.cov[g]
        sd = np.sqrt(np.diag(S))
        r = problem.rows[g]
        fixed_vals = np.where(t.free[r] < 0, t.value[r], np.nan)
        lam = np.zeros((p, m))
        psi = np.eye(m)
        kind, ri, ci = t.mat[r], t.row[r], t.col[r]
        for j in range(m):
            sel = np.flatnonzero((kind == LAMBDA) & (ci == j))
            items = ri[sel]
            if items.size == 0:  # a higher-order factor: measured by factors (see _cfa_generic)
                continue
            std = _one_factor_loadings(S[np.ix_(items, items)], sd[items])
            unstd = std * sd[items]
            if unstd.size and unstd[0] < 0:  # sign convention (std_lv): the first loading positive, as lavaan
                unstd = -unstd
            # scale: a fixed nonzero loading (marker), else a fixed variance, else unit variance
            fixed_load = [
                (k, fixed_vals[s]) for k, s in enumerate(sel) if np.isfinite(fixed_vals[s]) and fixed_vals[s] != 0
            ]
            var_row = np.flatnonzero((kind == PSI) & (ri == j) & (ci == j))
            var_fixed = fixed_vals[var_row[0]] if var_row.size and np.isfinite(fixed_vals[var_row[0]]) else np.nan
            if fixed_load:
                k, v = fixed_load[0]
                if unstd[k] * v < 0:
                    unstd = -unstd
                scale = unstd[k] / v if unstd[k] != 0 else 1.0
                psi[j, j] = scale**2
                lam[items, j] = unstd / scale
            elif np.isfinite(var_fixed) and var_fixed > 0:
                lam[items, j] = unstd / np.sqrt(var_fixed)
                psi[j, j] = var_fixed
            else:
                lam[items, j] = unstd
            # fixed loadings keep their values
            for k, s in enumerate(sel):
                if np.isfinite(fixed_vals[s]):
                    lam[items[k], j] = fixed_vals[s]
        # factor covariances: least squares fit of the off-diagonal covariances given lam
        std_lam = lam * np.sqrt(np.diag(psi))
        for j in range(m):
            for k in range(j + 1, m):
                a, b = std_lam[:, j], std_lam[:, k]
                outer = np.outer(a, b)
                np.fill_diagonal(outer, 0.0)
                denom = np.sum(outer**2)
                rho = np.sum(outer * S) / denom if denom > 0 else 0.0
                psi[j, k] = psi[k, j] = np.clip(rho, -0.95, 0.95) * np.sqrt(psi[j, j] * psi[k, k])
        d = np.sqrt(np.diag(psi))
        corr = psi / np.outer(d, d)
        while np.linalg.eigvalsh(corr)[0] < 0.05:
            corr = 0.9 * corr + 0.1 * np.eye(m)
        psi = corr * np.outer(d, d)
        common = np.einsum("ij,jk,ik->i", lam, psi, lam)
        theta_diag = np.maximum(np.diag(S) - common, 0.05 * np.diag(S))
        mean = problem.mom.mean[g]
        start = np.empty(len(r))
        for n, row in enumerate(r):
            kk, i, j = t.mat[row], t.row[row], t.col[row]
            if kk == LAMBDA:
                start[n] = lam[i, j]
            elif kk == PSI:
                start[n] = psi[i, j]
            elif kk == THETA:
                start[n] = theta_diag[i] if i == j else 0.0
            elif kk == NU:
                start[n] = mean[i]
            else:
                start[n] = 0.0
        free = t.free[r] >= 0
        np.add.at(sums, t.free[r][free], start[free])
        np.add.at(counts, t.free[r][free], 1.0)
    return sums / np.maximum(counts, 1.0)


def _one_factor_loadings(S: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Standardised loadings of one factor: one principal-axis step from squared multiple correlations."""
    k = len(sd)
    if k == 1:
        return np.array([np.sqrt(0.5)])
    R = S / np.outer(sd, sd)
    try:
        smc = 1.0 - 1.0 / np.diag(np.linalg.inv(R))
    except np.linalg.LinAlgError:
        smc = np.full(k, 0.5)
    smc = np.clip(smc, 0.05, 0.95) if k > 2 else np.full(k, min(max(abs(R[0, 1]), 0.05), 0.95))
    reduced = R.copy()
    np.fill_diagonal(reduced, smc)
    vals, vecs = np.linalg.eigh(reduced)
    load = vecs[:, -1] * np.sqrt(max(vals[-1], 1e-3))
    return np.clip(load, -0.98, 0.98)
