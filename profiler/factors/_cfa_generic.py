"""ML for structural models (regressions between factors, higher-order factors) and defined parameters.

:class:`GenericMLProblem` fits any model of :mod:`profiler.factors._cfa_model` by Fisher scoring in the
space of the moments: with W = Sigma^-1, d = ybar - mu and C = S + dd', the ML discrepancy
F = log|Sigma| + tr(S W) - log|S| - p + d'Wd has dF/dSigma = W - W C W and dF/dmu = -2 W d, and its
expected Hessian is twice the normal-theory information (W for the means, 1/2 D'(W (x) W) D for the
covariances); the exact Jacobian of the moments (complex step) carries both to the parameters. It
offers the interface of :class:`~profiler.factors._cfa_estimation.MLProblem` that the CFA needs.

:func:`defined_parameters` evaluates ``:=`` statements at the estimates, with delta-method standard
errors (gradient by the complex step) and std.all from the standardized values of the labels, as
lavaan's ``parameterEstimates``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import linalg, stats

from profiler.factors._cfa_data import Moments
from profiler.factors._cfa_estimation import Evaluation, Matrices, _solve_psd
from profiler.factors._cfa_model import MomentStructure, assemble, row_values, vech_pairs
from profiler.factors._cfa_robust import normal_theory_weight
from profiler.factors._cfa_table import BETA, PSI, ParameterTable
from profiler.factors.model_syntax import evaluate_expression

_STEP = 1e-20


class GenericMLProblem:
    """The ML fitting function of any parameter table given sample moments (see the module docstring)."""

    def __init__(self, table: ParameterTable, mom: Moments):
        self.table = table
        self.mom = mom
        self.p = len(table.observed)
        self.m = len(table.latent)
        self.q = table.n_free
        self.weights = mom.n / mom.n.sum()
        self.ms = MomentStructure(table, table.meanstructure)
        self.rows = self.ms.rows
        self.logdet_s = [np.linalg.slogdet(S)[1] for S in mom.cov]
        self.vr, self.vc = vech_pairs(self.p)
        self.trace = None

    def row_values(self, x: np.ndarray) -> np.ndarray:
        return row_values(self.table, x)

    def matrices(self, x: np.ndarray, g: int, vals: np.ndarray | None = None) -> Matrices:
        """Lambda, the total factor covariance A Psi A', Theta, nu and the total factor means A alpha."""
        vals = self.row_values(x) if vals is None else vals
        r = self.rows[g]
        b = assemble(self.table, r, vals[None, r])
        A = b.total_effects()
        alpha = b.alpha[0] if A is None else A[0] @ b.alpha[0]
        return Matrices(b.lam[0], b.factor_cov()[0], b.theta[0], b.nu[0], alpha)

    def implied(self, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        out = []
        for g, (sigma, mu) in enumerate(self.ms.implied(x)):
            out.append(((sigma + sigma.T) / 2.0, mu if self.table.meanstructure else self.mom.mean[g]))
        return out

    def evaluate(self, x: np.ndarray, derivatives: bool = True, hessian: bool = False) -> Evaluation:
        f = 0.0
        grad = np.zeros(self.q)
        info = np.zeros((self.q, self.q))
        implied = self.implied(x)
        deltas = self.ms.jacobian(x) if derivatives else [None] * len(implied)
        for g, ((sigma, mu), D) in enumerate(zip(implied, deltas)):
            try:
                chol = np.linalg.cholesky(sigma)
            except np.linalg.LinAlgError:
                return Evaluation(np.inf)
            W = linalg.cho_solve((chol, True), np.eye(self.p))
            S = self.mom.cov[g]
            d = self.mom.mean[g] - mu
            Wd = W @ d
            F = 2.0 * np.sum(np.log(np.diag(chol))) + np.sum(S * W) - self.logdet_s[g] - self.p + d @ Wd
            w = self.weights[g]
            f += w * F
            if not derivatives:
                continue
            G = W - W @ (S + np.outer(d, d)) @ W
            g_sigma = G[self.vr, self.vc] * np.where(self.vr == self.vc, 1.0, 2.0)
            g_m = np.concatenate([-2.0 * Wd, g_sigma]) if self.table.meanstructure else g_sigma
            I_m = normal_theory_weight(sigma)
            if self.table.meanstructure:
                I_m = linalg.block_diag(W, I_m)
            grad += w * (D.T @ g_m)
            info += w * (D.T @ I_m @ D)
        hess = self.hessian(x) if derivatives and hessian else None
        return Evaluation(float(f), grad if derivatives else None, info if derivatives else None, hess)

    def hessian(self, x: np.ndarray) -> np.ndarray:
        """Hessian of f by forward differences of the exact gradient."""
        H = np.empty((self.q, self.q))
        g0 = self.evaluate(x).grad
        for k in range(self.q):
            h = 1e-6 * max(1.0, abs(x[k]))
            e = np.zeros(self.q)
            e[k] = h
            H[:, k] = (self.evaluate(x + e).grad - g0) / h
        return (H + H.T) / 2.0

    def minimize(self, x0: np.ndarray, max_iter: int = 500, tol: float = 1e-12,
                 start: Evaluation | None = None) -> tuple[np.ndarray, Evaluation, int, bool]:
        """Fisher scoring, backtracked; converged when the Fisher-metric decrement is below ``tol``."""
        x = np.asarray(x0, float).copy()
        ev = start if start is not None and start.grad is not None else self.evaluate(x)
        for it in range(1, max_iter + 1):
            step = _solve_psd(2.0 * ev.info, -ev.grad)
            decrement = -float(ev.grad @ step)
            if decrement < tol:
                return x, ev, it - 1, True
            t = 1.0
            while True:
                trial = self.evaluate(x + t * step, derivatives=False)
                if np.isfinite(trial.f) and trial.f <= ev.f - 1e-4 * t * decrement:
                    break
                t /= 2.0
                if t < 1e-10:
                    return x, ev, it, decrement < 1e-9
            x = x + t * step
            ev = self.evaluate(x)
        return x, ev, max_iter, False


def structural_start(table: ParameterTable, x0: np.ndarray) -> np.ndarray:
    """Adjust measurement-model starting values for B: higher-order loadings 1, regressions 0.1 (not 0:
    an outcome factor uncorrelated with its predictors can be empirically unidentified at the start),
    and the variance of a factor split between its predictors and its residual."""
    x = x0.copy()
    beta = (table.mat == BETA) & (table.free >= 0)
    for r in np.flatnonzero(beta):
        x[table.free[r]] = 1.0 if table.op[r] == "=~" else 0.1
    endogenous = {table.row[r] for r in np.flatnonzero(table.mat == BETA)}
    for r in np.flatnonzero((table.mat == PSI) & (table.row == table.col) & (table.free >= 0)):
        if table.row[r] in endogenous:
            x[table.free[r]] *= 0.5
    return x


def defined_parameters(table: ParameterTable, x: np.ndarray, vcov: np.ndarray | None,
                       estimates: pd.DataFrame) -> pd.DataFrame:
    """Rows for the ``:=`` statements: est, delta-method se, z, p and std.all (lavaan's rows)."""
    if not table.defined:
        return estimates
    vals = row_values(table, x)
    q = x.size
    # each label's value as a function of x (complex step: one perturbed copy per free parameter)
    perturbed = vals[None, :] + 0j
    free = table.free >= 0
    perturbed = np.repeat(perturbed, q, axis=0)
    perturbed[np.arange(q)[:, None] == table.free[None, :]] += 1j * _STEP
    by_label, std_by_label = {}, {}
    std_all = estimates["std_all"].to_numpy()
    for r, lab in enumerate(table.label):
        if lab and lab not in by_label:
            by_label[lab] = perturbed[:, r]
            std_by_label[lab] = std_all[r]
    del free
    rows = []
    for name, text, tree in table.defined:
        value = evaluate_expression(tree, by_label)
        by_label[name] = value
        est = float(np.real(value[0]))
        std_by_label[name] = float(evaluate_expression(tree, std_by_label))
        grad = np.imag(value) / _STEP
        se = float(np.sqrt(grad @ vcov @ grad)) if vcov is not None else np.nan
        z = est / se if se > 0 else np.nan
        rows.append({"lhs": name, "op": ":=", "rhs": text, "label": name, "est": est, "se": se, "z": z,
                     "pvalue": 2.0 * stats.norm.sf(abs(z)) if np.isfinite(z) else np.nan,
                     "std_all": std_by_label[name]})
    extra = pd.DataFrame(rows)
    if "label" not in estimates.columns:
        estimates = estimates.assign(label=[lab for lab in table.label])
        cols = [c for c in estimates.columns if c not in ("est", "se", "z", "pvalue", "std_all")]
        estimates = estimates[cols + ["est", "se", "z", "pvalue", "std_all"]]
    return pd.concat([estimates, extra], ignore_index=True)
