"""Full-information maximum likelihood (FIML) for a CFA with incomplete rows (lavaan's ``missing = "ml"``).

Each row contributes the normal log-likelihood of the variables it answered; the sums over rows are
computed once per evaluation by :mod:`profiler.factors._missing_patterns` (rows grouped by pattern).
In the parameters theta, with m = (mu, vech Sigma), Delta = dm/dtheta (exact, complex step), and
G = dl/dSigma, g = dl/dmu at the current point::

    dl/dtheta     = d/dtheta [tr(G Sigma(theta)) + g' mu(theta)]                 (G, g held fixed)
    -d2l/dtheta2  = N Delta' A Delta - d2/dtheta2 [tr(G Sigma(theta)) + g' mu(theta)]

with A the observed information per observation in m (exact, :func:`_missing_patterns.information`);
the first line is analytic (:func:`profiler.factors._cfa_model.contract`, no Jacobian), the second
term of the Hessian its Jacobian by the complex step. This is the Hessian lavaan differentiates
numerically for its standard errors with missing data (``information = "observed"``,
``observed.information = "hessian"``, its defaults for ``missing = "ml"``).

The optimiser is quasi-Newton (BFGS) from the complete-data expected information at the start (the ML
fit to the EM moments, close to the FIML solution); the exact Hessian is computed once, at the solution.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from profiler.factors import _missing_patterns as mpat
from profiler.factors._cfa_model import MomentStructure, contract
from profiler.factors._cfa_table import ParameterTable


class FIMLProblem:
    """F(theta) = -(1/N) sum_g l_g(mu_g(theta), Sigma_g(theta)), its gradient and its Hessian."""

    def __init__(self, table: ParameterTable, groups: list[mpat.MissingPatterns]):
        self.table = table
        self.groups = groups
        self.ms = MomentStructure(table, meanstructure=True)
        self.n_total = float(sum(g.n for g in groups))
        self.q = table.n_free

    def evaluate(self, x: np.ndarray, keep: bool = False) -> list[mpat.Evaluation] | None:
        """Each group's evaluation at the model's moments (None when a Sigma is not positive definite)."""
        out = []
        for mp, (sigma, mu) in zip(self.groups, self.ms.implied(x)):
            ev = mpat.evaluate(mp, mu, sigma, keep=keep)
            if not np.isfinite(ev.loglik):
                return None
            out.append(ev)
        return out

    def objective(self, x: np.ndarray) -> float:
        evs = self.evaluate(x)
        return np.inf if evs is None else -sum(ev.loglik for ev in evs) / self.n_total

    def loglik(self, x: np.ndarray) -> float:
        return -self.n_total * self.objective(x)

    def gradient(self, x: np.ndarray, evs: list[mpat.Evaluation] | None = None) -> tuple[float, np.ndarray | None]:
        """F and dF/dtheta."""
        evs = self.evaluate(x) if evs is None else evs
        if evs is None:
            return np.inf, None
        terms = [ev.gradient(mp.n) for mp, ev in zip(self.groups, evs)]
        grad = -contract(self.table, x, terms) / self.n_total
        return -sum(ev.loglik for ev in evs) / self.n_total, grad

    def information(self, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray], list[mpat.Evaluation]]:
        """Observed information per observation (the Hessian of F), the Jacobians Delta_g and the
        evaluations (with the per-row pieces kept)."""
        evs = self.evaluate(x, keep=True)
        if evs is None:
            raise FloatingPointError("the model-implied covariance matrix is not positive definite")
        deltas = self.ms.jacobian(x)
        H = np.zeros((self.q, self.q))
        for mp, ev, D in zip(self.groups, evs, deltas):
            H += mp.n * (D.T @ mpat.information(mp, ev) @ D)
        terms = [ev.gradient(mp.n) for mp, ev in zip(self.groups, evs)]
        H -= contract(self.table, x, terms, hessian=True)
        H /= self.n_total
        return (H + H.T) / 2.0, deltas, evs

    def minimize(self, x0: np.ndarray, metric: np.ndarray, max_iter: int = 500,
                 tol: float = 1e-15) -> tuple[np.ndarray, int, bool]:
        """Quasi-Newton steps from ``metric`` (positive definite, close to the Hessian of F), backtracked.

        The inverse metric is updated by BFGS from the change of the exact gradient at every step (skipped
        when the curvature s'y is not positive). Scoring with the complete-data information alone would
        converge linearly, at the rate of the fraction of missing information; the updates learn the
        missing part of the curvature. Converged when the decrement grad' H^-1 grad is below ``tol``.
        """
        x = np.asarray(x0, float).copy()
        F, grad = self.gradient(x)
        if not np.isfinite(F):
            raise FloatingPointError("the starting values give a covariance matrix that is not positive definite")
        h_inv = linalg.cho_solve(linalg.cho_factor(metric), np.eye(x.size))
        for it in range(1, max_iter + 1):
            step = -h_inv @ grad
            decrement = -float(grad @ step)
            if decrement < tol:
                return x, it - 1, True
            t = 1.0
            while True:
                F_new, grad_new = self.gradient(x + t * step)
                if np.isfinite(F_new) and F_new <= F - 1e-4 * t * decrement:
                    break
                t /= 2.0
                if t < 1e-10:  # no decrease left to find: converged if at rounding level
                    return x, it, decrement < 1e-9
            s, y = t * step, grad_new - grad
            sy = float(s @ y)
            if sy > 0.0:
                hy = h_inv @ y
                h_inv += ((sy + y @ hy) / sy**2) * np.outer(s, s) - (np.outer(hy, s) + np.outer(s, hy)) / sy
            x, F, grad = x + s, F_new, grad_new
        return x, max_iter, False


def baseline_loglik(mp: mpat.MissingPatterns) -> float:
    """Log-likelihood of the independence model: each variable's own mean and variance (closed form)."""
    return float(-0.5 * np.sum(mp.n_observed * (np.log(2.0 * np.pi) + np.log(mp.var) + 1.0)))


def saturated_moments(labels: tuple, subsets: list[np.ndarray]) -> tuple[list[mpat.MissingPatterns], list]:
    """Each group's rows grouped by pattern and its saturated (h1) moments by EM, with a clear error when
    the data cannot carry an ML fit."""
    from profiler.factors._cfa_data import CFADataError
    from profiler.factors.missing import em_fit

    groups, h1 = [], []
    for lab, Xg in zip(labels, subsets):
        where = "" if lab is None else f" in group {lab!r}"
        singular = CFADataError(f"the FIML (EM) covariance matrix{where} is not positive definite (some variable "
                                "is a linear combination of others); ML needs it to be")
        try:
            mp = mpat.MissingPatterns(Xg)
            h = em_fit(mp)
        except np.linalg.LinAlgError:
            raise singular from None
        except ValueError as err:
            raise CFADataError(f"FIML cannot use these data{where}: {err}") from None
        sd = np.sqrt(np.diag(h.cov))
        if np.linalg.eigvalsh(h.cov / np.outer(sd, sd))[0] <= 1e-12:
            raise singular
        groups.append(mp)
        h1.append(h)
    return groups, h1


def fit_indices(loglik: float, h1: list, groups: list[mpat.MissingPatterns], df: int, npar: int,
                implied: list[tuple[np.ndarray, np.ndarray]]) -> dict:
    """lavaan's fit measures with missing = "ml": chi-square 2 (logL_h1 - logL), the baseline the
    independence model (each variable's own mean and variance), SRMR against the EM moments."""
    from scipy import stats

    from profiler.factors import _cfa_fit_indices as fi

    n = np.array([mp.n for mp in groups])
    N, G = float(n.sum()), n.size
    loglik_h1 = float(sum(h.loglik for h in h1))
    chisq = 2.0 * (loglik_h1 - loglik)
    chisq_b = 2.0 * (loglik_h1 - sum(baseline_loglik(mp) for mp in groups))
    p = groups[0].p
    df_b = G * p * (p - 1) // 2
    lower, upper = fi.rmsea_ci(chisq, df, N, G)
    covs, means = tuple(h.cov for h in h1), tuple(h.mean for h in h1)
    return {
        "chisq": chisq, "df": float(df), "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
        "cfi": fi.cfi(chisq, df, chisq_b, df_b), "tli": fi.tli(chisq, df, chisq_b, df_b),
        "rmsea": fi.rmsea(chisq, df, N, G), "rmsea_ci_lower": lower, "rmsea_ci_upper": upper,
        "srmr": fi.srmr(covs, means, implied, n, True),
        "aic": -2.0 * loglik + 2.0 * npar, "bic": -2.0 * loglik + npar * np.log(N), "loglik": loglik,
        "npar": float(npar), "n": N, "baseline_chisq": chisq_b, "baseline_df": float(df_b),
        "unrestricted_loglik": loglik_h1,
    }
