"""Ordinal CFA (WLSMV, ULSMV): from raw answers to estimates, robust standard errors and fit indices.

The data go through :func:`profiler.factors.polychoric.polychoric` per group (thresholds, polychoric
correlations, NACOV), the parameter table gets thresholds and scale factors (delta parameterisation),
and :mod:`profiler.factors._cfa_wls` estimates and corrects. Fit indices carry lavaan's names with
``_`` for ``.``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from profiler.factors import _cfa_fit_indices as fi
from profiler.factors._cfa_data import CFADataError, Moments, model_data, raise_missing, split_groups
from profiler.factors._cfa_estimation import MLProblem, start_values
from profiler.factors._cfa_generic import structural_start
from profiler.factors._cfa_table import DELTA, TAU, ParameterTable
from profiler.factors._cfa_wls import OrdinalGroup, WLSProblem, baseline_wls, catml_robust, robust_wls, scaled_shifted
from profiler.factors.model_syntax import ParsedModel
from profiler.factors._cfa_data import missing_summary
from profiler.factors.missing import MissingData
from profiler.factors.polychoric import PolychoricError, lower_pairs, polychoric

ORDINAL_FIT_INDICES = (
    "chisq", "df", "pvalue", "chisq_scaled", "df_scaled", "pvalue_scaled", "chisq_scaling_factor",
    "chisq_shift_parameter", "baseline_chisq", "baseline_df", "baseline_pvalue", "baseline_chisq_scaled",
    "baseline_df_scaled", "baseline_pvalue_scaled", "baseline_chisq_scaling_factor",
    "cfi", "tli", "cfi_scaled", "tli_scaled", "cfi_robust", "tli_robust",
    "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "rmsea_scaled", "rmsea_ci_lower_scaled", "rmsea_ci_upper_scaled",
    "rmsea_robust", "rmsea_ci_lower_robust", "rmsea_ci_upper_robust", "srmr", "npar", "n",
)


@dataclass
class OrdinalData:
    groups: list[OrdinalGroup]
    labels: tuple
    thresholds: list[pd.Series]
    missing: MissingData
    n_rows_dropped: int


def ordinal_variables(ordered, model: ParsedModel) -> tuple[str, ...]:
    """The model's ordinal variables; every observed variable must be ordinal (no mixed models)."""
    names = list(model.observed)
    if ordered is True:
        return tuple(names)
    chosen = {str(o) for o in ordered}
    continuous = [n for n in names if n not in chosen]
    if continuous:
        raise CFADataError(
            f"ordered= leaves model variables continuous: {continuous}. profiler's WLSMV/ULSMV needs every "
            "indicator ordinal (mixed ordinal-continuous models are not available); list them all or pass ordered=True")
    return tuple(names)


def prepare(data: pd.DataFrame, model: ParsedModel, group: str | None, missing: str) -> OrdinalData:
    """Polychoric statistics and NACOV per group, with the missing-data policy applied and recorded."""
    md = model_data(data, model, group)
    names = md.names
    X, labels_col = md.X, md.labels
    n_rows = len(X)
    incomplete = md.missing_rows
    if md.missing_group.any():
        if missing == "raise":
            raise_missing(md, group, int((incomplete | md.missing_group).sum()), "Pass missing='listwise'")
        X, labels_col, incomplete = X[~md.missing_group], labels_col[~md.missing_group], incomplete[~md.missing_group]
    if incomplete.any() and missing == "raise":
        raise_missing(md, group, int(incomplete.sum()), "Pass missing='listwise' or 'pairwise' to CFA(...)")
    if missing not in ("raise", "listwise", "pairwise"):
        raise ValueError(f"ordinal CFA takes missing='listwise', 'pairwise' or 'raise', got {missing!r}")
    dropped = int(md.missing_group.sum())
    if missing == "listwise" and incomplete.any():
        dropped += int(incomplete.sum())
        X = X[~incomplete]
        labels_col = labels_col[~incomplete] if labels_col is not None else None
    labels, subsets = split_groups(X, labels_col)
    groups, thresholds, pair_min = [], [], []
    n_cat = None
    for lab, Xg in zip(labels, subsets):
        where = "" if lab is None else f" in group {lab!r}"
        frame = pd.DataFrame(Xg, columns=names)
        try:
            pc = polychoric(frame, missing="pairwise", _influence_only=True)
        except PolychoricError as err:
            raise CFADataError(f"{err}{where}") from None
        dropped += pc.missing.n_rows_dropped
        counts = np.array([len(pc.categories[n]) for n in names])
        if n_cat is None:
            n_cat, first_cats = counts, pc.categories
        elif (counts != n_cat).any() or any(pc.categories[n] != first_cats[n] for n in names):
            bad = [n for n in names if pc.categories[n] != first_cats[n]]
            raise CFADataError(f"the answer categories differ between groups for {bad[:5]} (e.g. {bad[0]!r}: "
                               f"{first_cats[bad[0]]} in the first group, {pc.categories[bad[0]]}{where}); "
                               "ordinal multi-group models need the same categories in every group")
        groups.append(OrdinalGroup(pc.statistics, pc.n_obs, counts - 1, pc.correlation.to_numpy(), pc._influence))
        thresholds.append(pc.thresholds)
        pair_min.append(pc.missing.min_pairwise_n)
    summary = missing_summary(md, missing, n_rows - dropped,
                              min_pairwise_n=min(pair_min) if missing == "pairwise" else None)
    return OrdinalData(groups, labels, thresholds, summary, dropped)


def start(problem: WLSProblem, od: OrdinalData) -> np.ndarray:
    """Starting values: the ML start from the polychoric matrices, sample thresholds, unit scales."""
    t = problem.table
    p = problem.p
    mom = Moments(np.array([g.n for g in od.groups]), tuple(np.zeros(p) for _ in od.groups),
                  tuple(g.corr for g in od.groups), od.labels)
    x0 = start_values(MLProblem(t, mom))
    if t.has_beta:
        x0 = structural_start(t, x0)
    sums = np.zeros(problem.q)
    counts = np.zeros(problem.q)
    for g, grp in enumerate(od.groups):
        r = problem.rows[g]
        sel = r[(t.mat[r] == TAU) & (t.free[r] >= 0)]
        idx = problem.th_start[t.row[sel]] + t.col[sel]
        np.add.at(sums, t.free[sel], grp.s[idx])
        np.add.at(counts, t.free[sel], 1.0)
    has = counts > 0
    x0[has] = sums[has] / counts[has]
    x0[np.unique(t.free[(t.mat == DELTA) & (t.free >= 0)])] = 1.0
    return x0


def fit_indices(problem: WLSProblem, x: np.ndarray, df: int, table: ParameterTable) -> tuple[pd.Series, np.ndarray]:
    """Every index lavaan's fitMeasures reports for WLSMV/ULSMV, and the robust covariance of the estimates."""
    G = table.n_groups
    N = problem.n_total - G  # lavaan's N for categorical data (lav_utils_get_ntotal): N_g - 1 per group
    rob = robust_wls(problem, x, df)
    chisq = rob.chisq
    chisq_ss, scale, shift = scaled_shifted(chisq, df, rob.trace_ug, rob.trace_ug2) if df > 0 else (chisq, np.nan, np.nan)
    chisq_b, df_b, tr1_b, tr2_b = baseline_wls(problem)
    chisq_b_ss, scale_b, shift_b = scaled_shifted(chisq_b, df_b, tr1_b, tr2_b)
    c_hat = scale * (df - shift) / df if df > 0 else np.nan  # lavaan's c.hat for scaled.shifted
    c_hat_b = scale_b * (df_b - shift_b) / df_b
    values = {
        "chisq": chisq, "df": float(df), "pvalue": _p(chisq, df),
        "chisq_scaled": chisq_ss, "df_scaled": float(df), "pvalue_scaled": _p(chisq_ss, df),
        "chisq_scaling_factor": scale, "chisq_shift_parameter": shift,
        "baseline_chisq": chisq_b, "baseline_df": float(df_b), "baseline_pvalue": _p(chisq_b, df_b),
        "baseline_chisq_scaled": chisq_b_ss, "baseline_df_scaled": float(df_b),
        "baseline_pvalue_scaled": _p(chisq_b_ss, df_b), "baseline_chisq_scaling_factor": scale_b,
        "cfi": fi.cfi(chisq, df, chisq_b, df_b), "tli": fi.tli(chisq, df, chisq_b, df_b),
        "cfi_scaled": fi.cfi(chisq_ss, df, chisq_b_ss, df_b), "tli_scaled": fi.tli(chisq_ss, df, chisq_b_ss, df_b),
        "rmsea": fi.rmsea(chisq, df, N, G),
        "rmsea_scaled": fi.rmsea(chisq_ss, df, N, G),
        "srmr": _srmr(problem, x),
        "npar": float(problem.q), "n": float(problem.n_total),
    }
    values["rmsea_ci_lower"], values["rmsea_ci_upper"] = fi.rmsea_ci(chisq, df, N, G)
    values["rmsea_ci_lower_scaled"], values["rmsea_ci_upper_scaled"] = fi.rmsea_ci(chisq_ss, df, N, G)
    cat = catml_robust(problem, x, rob)
    if np.any((table.mat == DELTA) & (table.free >= 0)):
        # free scale factors (later groups under equal thresholds): lavaan's catML refit fails and it
        # reports no robust CFI/TLI/RMSEA; neither does profiler
        cat = dict.fromkeys(cat, np.nan)
    del c_hat, c_hat_b  # the categorical robust indices use the catML corrections instead
    values["cfi_robust"] = fi.cfi(cat["xx3"], df, cat["xx3_null"], df_b, cat["c_hat3"], cat["c_hat3_null"])
    values["tli_robust"] = fi.tli(cat["xx3"], df, cat["xx3_null"], df_b, cat["c_hat3"], cat["c_hat3_null"])
    values["rmsea_robust"] = fi.rmsea(cat["xx3"], df, N, G, cat["c_hat3"])
    values["rmsea_ci_lower_robust"], values["rmsea_ci_upper_robust"] = fi.rmsea_ci(
        cat["xx3"] / cat["c_hat3"], df, N, G, c_hat=cat["c_hat3"])
    return pd.Series(values, name="value")[list(ORDINAL_FIT_INDICES)], rob.vcov


def _p(chisq: float, df: float) -> float:
    return float(stats.chi2.sf(chisq, df)) if df > 0 and np.isfinite(chisq) else np.nan


def _srmr(problem: WLSProblem, x: np.ndarray) -> float:
    """lavaan's srmr for categorical data (``srmr_bentler_nomean``): correlation residuals, N_g-weighted."""
    rows, cols = lower_pairs(problem.p)
    p = problem.p
    out = 0.0
    for f, grp, s in zip(problem.weights, problem.groups, problem.model_stats(x)):
        resid = grp.s[problem.n_th:] - s[problem.n_th:]
        out += f * np.sqrt(np.sum(resid**2) / (p * (p + 1) / 2))
    del rows, cols
    return float(out)
