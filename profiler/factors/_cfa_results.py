"""What a fitted CFA reports: the estimates table with std.all, modification indices, factor scores."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from profiler.factors._cfa_estimation import Matrices, MLProblem
from profiler.factors._cfa_table import ALPHA, BETA, DELTA, LAMBDA, NU, PSI, TAU, THETA, ParameterTable


def standardize(kind: np.ndarray, i: np.ndarray, j: np.ndarray, values: np.ndarray, mats: Matrices) -> np.ndarray:
    """lavaan's std.all: observed and latent variables scaled to unit (model-implied) variance.

    Loadings lambda_ij sqrt(psi_jj / sigma_ii); residual variances theta_ii / sigma_ii; residual
    covariances theta_ik / sqrt(theta_ii theta_kk) (a residual correlation, lavaan's ``cov.std``);
    factor (co)variances psi_jk / sqrt(psi_jj psi_kk); intercepts nu_i / sqrt(sigma_ii); factor means
    alpha_j / sqrt(psi_jj). Negative variances give NaN where a square root is needed.
    """
    sigma = np.diag(mats.sigma())
    psi = np.diag(mats.psi)
    theta = np.diag(mats.theta)
    out = np.full(len(kind), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        sel = kind == LAMBDA
        out[sel] = values[sel] * np.sqrt(psi[j[sel]]) / np.sqrt(sigma[i[sel]])
        sel = (kind == THETA) & (i == j)
        out[sel] = values[sel] / sigma[i[sel]]
        sel = (kind == THETA) & (i != j)
        out[sel] = values[sel] / np.sqrt(theta[i[sel]] * theta[j[sel]])
        sel = kind == PSI
        out[sel] = values[sel] / np.sqrt(psi[i[sel]] * psi[j[sel]])
        sel = kind == NU
        out[sel] = values[sel] / np.sqrt(sigma[i[sel]])
        sel = kind == ALPHA
        out[sel] = values[sel] / np.sqrt(psi[i[sel]])
        sel = kind == TAU  # thresholds of latent responses with variance sigma_ii
        out[sel] = values[sel] / np.sqrt(sigma[i[sel]])
        sel = kind == DELTA  # the scale of a latent response with variance 1/delta^2: 1 standardized
        out[sel] = values[sel] * np.sqrt(sigma[i[sel]])
        sel = kind == BETA  # factor i regressed on factor j (or loading of i on the higher-order j)
        out[sel] = values[sel] * np.sqrt(psi[j[sel]]) / np.sqrt(psi[i[sel]])
    return out


def estimates_frame(
    table: ParameterTable,
    problem: MLProblem,
    x: np.ndarray,
    cov_x: np.ndarray | None,
    group_labels: tuple,
) -> pd.DataFrame:
    """lavaan's ``parameterEstimates(fit, standardized = TRUE)``: est, se, z, pvalue, std.all per row.

    Fixed parameters have se 0 and no z or p-value (as lavaan prints them); the p-value is two-sided
    from the standard normal: 2 (1 - Phi(|z|)).
    """
    vals = problem.row_values(x)
    free = table.free >= 0
    se = np.zeros(len(table))
    if cov_x is None:
        se[free] = np.nan
    else:
        with np.errstate(invalid="ignore"):
            se[free] = np.sqrt(np.diag(cov_x))[table.free[free]]
    z = np.full(len(table), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        z[free] = vals[free] / se[free]
    pvalue = 2.0 * stats.norm.sf(np.abs(z))
    std = np.empty(len(table))
    for g in range(table.n_groups):
        rows = problem.rows[g]
        mats = problem.matrices(x, g, vals)
        std[rows] = standardize(table.mat[rows], table.row[rows], table.col[rows], vals[rows], mats)
    columns: dict[str, object] = {"lhs": table.lhs, "op": table.op, "rhs": table.rhs}
    if table.n_groups > 1:
        columns["group"] = [group_labels[g] for g in table.group]
    if any(table.label):
        columns["label"] = table.label
    columns.update({"est": vals, "se": se, "z": z, "pvalue": pvalue, "std_all": std})
    return pd.DataFrame(columns)


def modification_indices(
    table: ParameterTable,
    problem: MLProblem,
    x: np.ndarray,
    info: np.ndarray,
    group_labels: tuple,
) -> pd.DataFrame:
    """Score tests for freeing each fixed or absent loading and (co)variance, one at a time.

    With s_k = -1/2 df/dtheta_k (the score per observation) and V_k = I_kk - I_kF I_FF^-1 I_Fk (the
    information left after adjusting for the free parameters F)::

        mi = N s_k^2 / V_k        epc = s_k / V_k

    Candidates: cross-loadings, residual covariances and factor covariances not in the model, and
    every fixed parameter; those whose freeing would not be identified (V_k ~ 0, e.g. a marker
    loading) are left out, as lavaan does.

    In R: ``lavaan::modindices(fit)`` (expected information).
    """
    vals = problem.row_values(x)
    p, m = problem.p, problem.m
    n_total = problem.mom.n_total
    present = {(table.group[r], table.mat[r], table.row[r], table.col[r]) for r in range(len(table))}
    inv_info = np.linalg.pinv(info, hermitian=True)
    parts = []
    for g in range(table.n_groups):
        cands: list[tuple[str, str, str, int, int, int, float]] = []
        for r in problem.rows[g]:
            if table.free[r] < 0:
                cands.append(
                    (table.lhs[r], table.op[r], table.rhs[r], table.mat[r], table.row[r], table.col[r], vals[r])
                )
        for j, lv in enumerate(table.latent):
            for i, ov in enumerate(table.observed):
                if (g, LAMBDA, i, j) not in present:
                    cands.append((lv, "=~", ov, LAMBDA, i, j, 0.0))
        for (i, a), (k, b) in combinations(enumerate(table.observed), 2):
            if (g, THETA, i, k) not in present and (g, THETA, k, i) not in present:
                cands.append((a, "~~", b, THETA, i, k, 0.0))
        for (j, a), (k, b) in combinations(enumerate(table.latent), 2):
            if (g, PSI, j, k) not in present and (g, PSI, k, j) not in present:
                cands.append((a, "~~", b, PSI, j, k, 0.0))
        if not cands:
            continue
        kind = np.array([c[3] for c in cands])
        ci = np.array([c[4] for c in cands])
        cj = np.array([c[5] for c in cands])
        grad, own, cross = problem.candidate_terms(x, g, kind, ci, cj)
        w = problem.weights[g]
        score = -0.5 * w * grad
        V = w * own - np.einsum("kq,qr,kr->k", w * cross, inv_info, w * cross)
        keep = V > 1e-9 * np.maximum(w * own, 1e-300)
        with np.errstate(invalid="ignore", divide="ignore"):
            mi = np.where(keep, n_total * score**2 / V, np.nan)
            epc = np.where(keep, score / V, np.nan)
        mats = problem.matrices(x, g, vals)
        sepc = standardize(kind, ci, cj, epc, mats)
        frame = pd.DataFrame(
            {"lhs": [c[0] for c in cands], "op": [c[1] for c in cands], "rhs": [c[2] for c in cands]}
        )
        if table.n_groups > 1:
            frame["group"] = group_labels[g]
        frame["mi"], frame["epc"], frame["sepc_all"] = mi, epc, sepc
        parts.append(frame[keep])
    if not parts:
        return pd.DataFrame(columns=["lhs", "op", "rhs", "mi", "epc", "sepc_all"])
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values("mi", ascending=False, kind="stable").reset_index(drop=True)


def factor_scores(Y: np.ndarray, mats: Matrices, mu: np.ndarray, method: str) -> np.ndarray:
    """Factor scores of the rows of Y (n x p) for one group.

    regression (Thurstone): eta = alpha + Psi Lambda' Sigma^-1 (y - mu)
    Bartlett:               eta = alpha + (Lambda' Theta^-1 Lambda)^-1 Lambda' Theta^-1 (y - mu)

    In R: ``lavaan::lavPredict(fit, method = "regression" | "Bartlett")``.
    """
    lam, psi = mats.lam, mats.psi
    centered = Y - mu
    if method == "regression":
        weights = np.linalg.solve(mats.sigma(), lam @ psi)  # Sigma^-1 Lambda Psi, p x m
    else:
        theta_inv = np.linalg.inv(mats.theta)
        lt = lam.T @ theta_inv
        weights = (np.linalg.solve(lt @ lam, lt)).T
    return mats.alpha + centered @ weights
