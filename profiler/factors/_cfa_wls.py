"""(Diagonally) weighted least squares for ordinal CFA: estimates, robust standard errors, corrected tests.

Per group g the sample statistics s_g are the thresholds and the polychoric correlations (below the
diagonal, by columns), with Gamma_g their NACOV (N_g times the asymptotic covariance, see
:mod:`profiler.factors.polychoric`). The model statistics, in the delta parameterisation, are::

    tau*_it   = delta_i (tau_it - nu_i - (Lambda alpha)_i)
    rho*_ik   = delta_i delta_k (Lambda Psi Lambda' + Theta)_ik        (i > k)

and the estimator minimises F = sum_g (N_g/N) (s_g - sigma_g)' W_g (s_g - sigma_g) with
W_g = diag(Gamma_g)^-1 (DWLS, lavaan's WLSMV) or I (ULS, ULSMV), by Gauss-Newton steps with
backtracking. The Jacobian Delta = d sigma / d theta is exact, by the complex step (every model
statistic is a polynomial in the parameters). As lavaan computes them:

- chi-square T = sum_g (N_g - 1) F_g on df = (number of statistics) - (free parameters) -- lavaan uses
  N_g - 1 for categorical data, in the test and in the standard errors;
- robust ("sandwich") covariance of the estimates: E^-1 (sum_g f_g Delta_g' W_g Gamma_g W_g Delta_g) E^-1 / (N - 1),
  E = sum_g f_g Delta_g' W_g Delta_g, f_g = N_g / N;
- scaled-and-shifted test (Asparouhov & Muthen 2010): with U = V - V Delta E^-1 Delta' V (V the
  f_g-weighted W, Gamma divided by f_g), a = sqrt(df / tr((U Gamma)^2)), b = df - a tr(U Gamma),
  T_scaled = a T + b; lavaan's ``chisq.scaling.factor`` is 1/a;
- robust CFI/TLI/RMSEA (Savalei 2021, lavaan's ``lav_fit_catml_dwls``): the ML discrepancy of the
  polychoric matrix at the WLS estimates, T3 = sum_g N_g [log|Sigma*| + tr(R Sigma*^-1) - log|R| - p],
  with its own correction c3 = tr(U3' V3 U3 Gamma) / df, V3 the normal-theory ML weight of correlations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import linalg

from profiler.factors._cfa_estimation import Matrices
from profiler.factors._cfa_model import assemble, free_map, row_values
from profiler.factors._cfa_table import ParameterTable
from profiler.factors.polychoric import lower_pairs

_STEP = 1e-20  # complex-step size: exact derivatives, no cancellation (see _cfa_model)


@dataclass
class OrdinalGroup:
    """Sample statistics of one group for WLS: thresholds then correlations, and their NACOV."""

    s: np.ndarray  # (K,)
    n: int
    n_thresholds: np.ndarray  # per observed variable (model order)
    corr: np.ndarray  # (p, p) polychoric
    influence: np.ndarray  # M (n x K), Gamma = n M'M
    _gamma: np.ndarray | None = field(default=None, repr=False)

    @property
    def gamma(self) -> np.ndarray:
        if self._gamma is None:
            # n M'M by a single-precision rank-k update: Gamma only enters the traces of the corrected
            # tests and, for large samples, the standard errors (relative error ~1e-6); the weights are exact
            M = np.asarray(self.influence, dtype=np.float32)
            g = linalg.blas.ssyrk(float(self.n), M, trans=1, lower=0).astype(np.float64)  # upper triangle
            self._gamma = np.triu(g) + np.triu(g, 1).T
        return self._gamma

    @property
    def gamma_diag(self) -> np.ndarray:
        return self.n * np.einsum("ik,ik->k", self.influence, self.influence)


class WLSProblem:
    """WLS fitting function of an ordinal parameter table (``estimator`` "DWLS" or "ULS")."""

    def __init__(self, table: ParameterTable, groups: list[OrdinalGroup], estimator: str):
        self.table = table
        self.groups = groups
        self.estimator = estimator
        self.p = len(table.observed)
        self.m = len(table.latent)
        self.q = table.n_free
        n = np.array([g.n for g in groups], dtype=float)
        self.n_total = float(n.sum())
        self.weights = n / n.sum()
        self.rows = [np.flatnonzero(table.group == g) for g in range(table.n_groups)]
        self.pair_rows, self.pair_cols = lower_pairs(self.p)
        nth = groups[0].n_thresholds
        self.th_start = np.concatenate([[0], np.cumsum(nth)[:-1]]).astype(np.int64)
        self.n_th = int(nth.sum())
        self.w = [1.0 / g.gamma_diag if estimator == "DWLS" else np.ones(g.s.size) for g in groups]
        self.P = free_map(table)  # free parameters -> table rows (for the complex step)

    # ------------------------------------------------------------------ model
    def row_values(self, x: np.ndarray) -> np.ndarray:
        """Value of every table row, derived residual variances included."""
        t = self.table
        vals = t.value.copy()
        free = t.free >= 0
        vals[free] = x[t.free[free]]
        for g in range(t.n_groups):
            r = self.rows[g]
            lam, psi, _, _, _, _, delta = self._assemble(vals[None, r], r)
            common = np.einsum("ij,jk,ik->i", lam[0], psi[0], lam[0])
            theta = 1.0 / delta[0] ** 2 - common
            sel = r[t.derived[r]]
            vals[sel] = theta[t.row[sel]]
        return vals

    def _assemble(self, v: np.ndarray, r: np.ndarray):
        """Lambda, the factor covariance A Psi A', Theta, nu, the factor means A alpha, tau, delta."""
        b = assemble(self.table, r, v, self.th_start, self.n_th)
        A = b.total_effects()
        alpha = b.alpha if A is None else np.einsum("bij,bj->bi", A, b.alpha)
        return b.lam, b.factor_cov(), b.theta, b.nu, alpha, b.tau, b.delta

    def _stats(self, v: np.ndarray, g: int) -> np.ndarray:
        """Model statistics (B x K) of group g from row values v (B x len(rows of g))."""
        lam, psi, theta, nu, alpha, tau, delta = self._assemble(v, self.rows[g])
        sigma = lam @ psi @ np.swapaxes(lam, 1, 2) + theta
        rows, cols = self.pair_rows, self.pair_cols
        corr = delta[:, rows] * delta[:, cols] * sigma[:, rows, cols]
        nth = self.groups[g].n_thresholds
        var_of_th = np.repeat(np.arange(self.p), nth)
        shift = nu + np.einsum("bij,bj->bi", lam, alpha)
        th = delta[:, var_of_th] * (tau - shift[:, var_of_th])
        return np.concatenate([th, corr], axis=1)

    def model_stats(self, x: np.ndarray) -> list[np.ndarray]:
        vals = row_values(self.table, x)
        return [self._stats(vals[None, r], g)[0] for g, r in enumerate(self.rows)]

    def jacobian(self, x: np.ndarray) -> list[np.ndarray]:
        """Delta_g = d sigma_g / d theta (K_g x q), exact by the complex step."""
        vals = row_values(self.table, x)
        batch = vals[None, :] + 1j * _STEP * self.P
        return [self._stats(batch[:, r], g).imag.T / _STEP for g, r in enumerate(self.rows)]

    def matrices(self, x: np.ndarray, g: int, vals: np.ndarray | None = None) -> Matrices:
        """Model matrices of group g (theta with the derived residual variances), for std.all and scores."""
        vals = self.row_values(x) if vals is None else vals
        r = self.rows[g]
        lam, psi, theta, nu, alpha, _, delta = self._assemble(vals[None, r], r)
        theta = theta[0].copy()
        common = np.einsum("ij,jk,ik->i", lam[0], psi[0], lam[0])
        np.fill_diagonal(theta, 1.0 / delta[0] ** 2 - common)
        return Matrices(lam[0], psi[0], theta, nu[0], alpha[0])

    def scales(self, x: np.ndarray, g: int) -> np.ndarray:
        vals = self.row_values(x)
        return self._assemble(vals[None, self.rows[g]], self.rows[g])[6][0]

    # ------------------------------------------------------------------ fit
    def objective(self, x: np.ndarray) -> float:
        return float(sum(f * np.sum(w * (grp.s - s) ** 2) for f, w, grp, s in
                         zip(self.weights, self.w, self.groups, self.model_stats(x))))

    def normal_equations(self, x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """F, E = sum f Delta'W Delta and b = sum f Delta'W (s - sigma) at x."""
        E = np.zeros((self.q, self.q))
        b = np.zeros(self.q)
        F = 0.0
        for f, w, grp, s, D in zip(self.weights, self.w, self.groups, self.model_stats(x), self.jacobian(x)):
            r = grp.s - s
            WD = D * w[:, None]
            E += f * (D.T @ WD)
            b += f * (WD.T @ r)
            F += f * float(np.sum(w * r * r))
        return F, E, b

    def minimize(self, x0: np.ndarray, max_iter: int = 200, tol: float = 1e-12) -> tuple[np.ndarray, int, bool]:
        """Gauss-Newton with backtracking; converged when the decrement b' E^-1 b falls below ``tol``."""
        x = np.asarray(x0, float).copy()
        F, E, b = self.normal_equations(x)
        for it in range(1, max_iter + 1):
            try:
                step = linalg.solve(E, b, assume_a="pos")
            except (linalg.LinAlgError, ValueError):
                step = np.linalg.lstsq(E, b, rcond=None)[0]
            decrement = float(b @ step)
            if decrement < tol:
                return x, it - 1, True
            t = 1.0
            while True:
                trial = x + t * step
                F_new = self.objective(trial)
                if np.isfinite(F_new) and F_new <= F - 1e-4 * t * decrement:
                    break
                t /= 2.0
                if t < 1e-10:
                    return x, it, False
            x = trial
            F, E, b = self.normal_equations(x)
        return x, max_iter, False


@dataclass
class RobustWLS:
    """What the robust corrections need, computed once at the solution."""

    chisq: float
    df: int
    E_inv: np.ndarray  # inverse of sum f Delta'W Delta
    vcov: np.ndarray  # robust covariance of the estimates (already divided by N)
    trace_ug: float
    trace_ug2: float


def robust_wls(problem: WLSProblem, x: np.ndarray, df: int) -> RobustWLS:
    """Sandwich covariance and the traces of U Gamma for the scaled-and-shifted test."""
    _, E, _ = problem.normal_equations(x)
    chisq = sum((grp.n - 1.0) * float(np.sum(w * (grp.s - s) ** 2))
                for grp, w, s in zip(problem.groups, problem.w, problem.model_stats(x)))
    E_inv = linalg.inv(E)
    E_inv = (E_inv + E_inv.T) / 2.0
    q = problem.q
    middle = np.zeros((q, q))
    tr1 = 0.0
    parts = []
    for f, w, grp, D in zip(problem.weights, problem.w, problem.groups, problem.jacobian(x)):
        WD = D * w[:, None]
        MWD = grp.influence @ WD if grp.influence.shape[0] * WD.shape[0] < 4e6 else None
        # Delta'W Gamma W Delta: from the rows when they are few, else from Gamma (needed for the traces anyway)
        middle += f * (grp.n * (MWD.T @ MWD) if MWD is not None else WD.T @ grp.gamma @ WD)
        parts.append((f, w, grp, D))
    vcov = E_inv @ middle @ E_inv / (problem.n_total - 1.0)
    # traces over the stacked groups: V = blockdiag(f W), Gamma = blockdiag(Gamma_g / f)
    Wt = np.concatenate([f * w for f, w, _, _ in parts])
    D_all = np.vstack([D for _, _, _, D in parts])
    A = Wt[:, None] * D_all  # V Delta
    C = E_inv @ A.T  # q x K
    blocks = [grp.gamma / f for f, _, grp, _ in parts]
    Gamma = linalg.block_diag(*blocks) if len(blocks) > 1 else blocks[0]
    CG = C @ Gamma  # q x K
    tr1 = float(np.sum(Wt * np.diag(Gamma)) - np.sum(CG * A.T))
    WG = Wt[:, None] * Gamma
    trX2 = float(np.sum(WG * WG.T))
    trXY = float(np.sum((CG @ WG) * A.T))  # tr(W Gamma A C Gamma) = tr(C Gamma W Gamma A)
    QA = CG @ A
    trY2 = float(np.sum(QA * QA.T))
    tr2 = trX2 - 2.0 * trXY + trY2
    return RobustWLS(chisq, df, E_inv, vcov, tr1, tr2)


def scaled_shifted(chisq: float, df: float, trace_ug: float, trace_ug2: float) -> tuple[float, float, float]:
    """lavaan's "scaled.shifted" test: (statistic, scaling factor 1/a, shift b)."""
    a = np.sqrt(df / trace_ug2)
    b = df - a * trace_ug
    return float(a * chisq + b), float(1.0 / a), float(b)


def baseline_wls(problem: WLSProblem) -> tuple[float, int, float, float]:
    """Independence model (thresholds free, correlations 0, per group): chi-square, df, tr(U Gamma), tr((U Gamma)^2)."""
    chisq, df, tr1, tr2 = 0.0, 0, 0.0, 0.0
    n_th = problem.n_th
    for grp, w in zip(problem.groups, problem.w):
        r = grp.s[n_th:]
        wc = w[n_th:]
        chisq += (grp.n - 1.0) * float(np.sum(wc * r * r))
        df += r.size
        G = grp.gamma[n_th:, n_th:]
        WG = wc[:, None] * G
        tr1 += float(np.trace(WG))
        tr2 += float(np.sum(WG * WG.T))
    return chisq, df, tr1, tr2


def catml_robust(problem: WLSProblem, x: np.ndarray, robust: RobustWLS) -> dict[str, float]:
    """Savalei's (2021) robust CFI/TLI/RMSEA ingredients for categorical data (lavaan's lav_fit_catml_dwls).

    Returns XX3 (the ML discrepancy of the polychoric matrices at the WLS estimates), its correction
    c_hat3, and the same for the independence model; NaN when a polychoric matrix is not positive definite.
    """
    nan = {k: np.nan for k in ("xx3", "c_hat3", "xx3_null", "c_hat3_null", "df3_null")}
    n_th = problem.n_th
    rows, cols = problem.pair_rows, problem.pair_cols
    xx3 = xx3_null = 0.0
    V_blocks, Wc, Dc, Gc = [], [], [], []
    jac = problem.jacobian(x)
    p = problem.p
    for g, (grp, f, w, D) in enumerate(zip(problem.groups, problem.weights, problem.w, jac)):
        R = grp.corr
        if np.linalg.eigvalsh(R)[0] < np.sqrt(np.finfo(float).eps):
            return nan
        mats = problem.matrices(x, g)
        delta = problem.scales(x, g)
        S = np.diag(delta) @ mats.sigma() @ np.diag(delta)
        S = (S + S.T) / 2.0
        _, logdet_s = np.linalg.slogdet(S)
        _, logdet_r = np.linalg.slogdet(R)
        Winv = np.linalg.inv(S)
        xx3 += grp.n * (logdet_s + np.sum(R * Winv) - logdet_r - p)
        xx3_null += grp.n * (-logdet_r)
        V = Winv[np.ix_(rows, rows)] * Winv[np.ix_(cols, cols)] + Winv[np.ix_(rows, cols)] * Winv[np.ix_(cols, rows)]
        V_blocks.append(f * V)
        Wc.append(f * w[n_th:])
        Dc.append(D[n_th:])
        Gc.append(grp.gamma[n_th:, n_th:] / f)
    V_all = linalg.block_diag(*V_blocks)
    W_all = np.concatenate(Wc)
    D_all = np.vstack(Dc)
    G_all = linalg.block_diag(*Gc)
    # WiU = I - Delta_c E^-1 Delta_c' W_c (low rank); ks = tr(WiU' V WiU Gamma)
    L = D_all @ robust.E_inv  # K x q
    R_ = (D_all * W_all[:, None])  # K x q: WiU = I - L R_'
    VW = V_all - (V_all @ L) @ R_.T
    A = VW - R_ @ (L.T @ VW)  # WiU' V WiU
    ks = float(np.sum(A * G_all))
    df3_null = int(D_all.shape[0])
    return {
        "xx3": float(xx3),
        "c_hat3": ks / robust.df if robust.df > 0 else np.nan,
        "xx3_null": float(xx3_null),
        "c_hat3_null": float(np.trace(G_all)) / df3_null,
        "df3_null": df3_null,
    }
