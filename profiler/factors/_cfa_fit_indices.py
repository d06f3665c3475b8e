"""Fit indices of an ML CFA, computed as lavaan 0.6-14's ``fitMeasures`` computes them.

With N the total sample size, G the number of groups, p the number of observed variables,
X2 = sum_g N_g F_g the model chi-square on df degrees of freedom, and X2_b, df_b those of the
baseline (independence) model -- free variances (and means), zero covariances, in every group::

    CFI   = 1 - max(X2 - df, 0) / max(X2 - df, X2_b - df_b, 0)
    TLI   = (X2_b/df_b - X2/df) / (X2_b/df_b - 1)
    RMSEA = sqrt(max(X2/(N df) - 1/N, 0)) * sqrt(G)
    RMSEA 90% CI: lambda_L, lambda_U solve pchisq(X2, df, ncp=lambda) = .95 and .05;
                  bound = sqrt(lambda / (N df)) * sqrt(G)
    SRMR  = sum_g (N_g/N) sqrt(mean of squared standardized residuals of group g)
            (Bentler's version: residuals (s_ij - sigma_ij) / sqrt(s_ii s_jj), over the lower
            triangle with the diagonal, plus (ybar_i - mu_i) / sqrt(s_ii) with a mean structure)
    logL  = -sum_g N_g/2 [p log(2 pi) + log|Sigma_g| + tr(S_g Sigma_g^-1) + (ybar_g - mu_g)' Sigma_g^-1 (ybar_g - mu_g)]
    AIC   = -2 logL + 2 npar           BIC = -2 logL + npar log(N)

All with N, never N - 1 (lavaan's ``likelihood = "normal"``).
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, special


def baseline_chisq(covs: tuple[np.ndarray, ...], n: np.ndarray) -> tuple[float, int]:
    """Chi-square and df of the independence model (its ML solution is closed form: diag(S), ybar)."""
    chisq = 0.0
    for S, n_g in zip(covs, n):
        _, logdet = np.linalg.slogdet(S)
        chisq += n_g * (np.sum(np.log(np.diag(S))) - logdet)
    p = covs[0].shape[0]
    return float(chisq), len(covs) * p * (p - 1) // 2


def cfi(chisq: float, df: float, chisq_b: float, df_b: float, c_hat: float = 1.0, c_hat_b: float = 1.0) -> float:
    """CFI; with corrections c_hat (model) and c_hat_b (baseline) the robust CFI (lavaan's ``cfi.robust``)."""
    if not np.all(np.isfinite([chisq, df, chisq_b, df_b, c_hat, c_hat_b])):
        return np.nan
    if not (df > 0 and c_hat != 1.0 and c_hat_b != 1.0):
        c_hat = c_hat_b = 1.0
    t1 = max(chisq - c_hat * df, 0.0)
    t2 = max(chisq - c_hat * df, chisq_b - c_hat_b * df_b, 0.0)
    return 1.0 if np.isclose(t1, 0.0, rtol=0, atol=1.5e-8) and np.isclose(t2, 0.0, rtol=0, atol=1.5e-8) else 1.0 - t1 / t2


def tli(chisq: float, df: float, chisq_b: float, df_b: float, c_hat: float = 1.0, c_hat_b: float = 1.0) -> float:
    """TLI (lavaan 0.6-14's form); with corrections the robust TLI."""
    if not np.all(np.isfinite([chisq, df, chisq_b, df_b, c_hat, c_hat_b])):
        return np.nan
    if df <= 0:
        return 1.0 if chisq <= 0 else np.nan
    if not (c_hat != 1.0 and c_hat_b != 1.0):
        c_hat = c_hat_b = 1.0
    t1 = (chisq - c_hat * df) * df_b
    t2 = (chisq_b - c_hat_b * df_b) * df
    return 1.0 - t1 / t2 if abs(t2) > 0 else 1.0


def rmsea(chisq: float, df: float, n: int, groups: int, c_hat: float = 1.0) -> float:
    """RMSEA; with a correction c_hat the robust RMSEA (Brosseau-Liard, Savalei & Li 2012)."""
    if not np.isfinite(chisq) or not np.isfinite(c_hat):
        return np.nan
    if df <= 0:
        return 0.0
    return float(np.sqrt(max(chisq / (n * df) - c_hat / n, 0.0)) * np.sqrt(groups))


def rmsea_ci(chisq: float, df: float, n: int, groups: int, level: float = 0.90,
             c_hat: float = 1.0) -> tuple[float, float]:
    """Browne & Cudeck (1993) interval from the non-central chi-square, bracketed as lavaan does
    (with a correction c_hat, the bounds are sqrt(c_hat lambda / (N df)))."""
    if not np.isfinite(chisq) or not np.isfinite(c_hat):
        return np.nan, np.nan
    if df < 1:
        return 0.0, 0.0
    upper_p, lower_p = 1.0 - (1.0 - level) / 2.0, (1.0 - level) / 2.0

    def cdf(lam: float) -> float:  # R's pchisq(chisq, df, ncp = lam); the ufunc, not scipy.stats (fast)
        return float(special.chndtr(chisq, df, max(lam, 0.0)))

    def bound(lam: float) -> float:
        return float(np.sqrt(c_hat * lam / (n * df)) * np.sqrt(groups))

    lower = 0.0
    if cdf(0.0) >= upper_p:
        lower = bound(optimize.brentq(lambda lam: cdf(lam) - upper_p, 0.0, chisq, xtol=1e-10))
    upper = 0.0
    top = max(n, 4.0 * chisq)  # lavaan's bracket for the upper root
    if cdf(top) <= lower_p and cdf(0.0) >= lower_p:
        upper = bound(optimize.brentq(lambda lam: cdf(lam) - lower_p, 0.0, top, xtol=1e-10))
    return lower, upper


def srmr(
    covs: tuple[np.ndarray, ...],
    means: tuple[np.ndarray, ...],
    implied: list[tuple[np.ndarray, np.ndarray]],
    n: np.ndarray,
    meanstructure: bool,
) -> float:
    """lavaan's default "srmr" for continuous data (``srmr_bentler``), weighted over groups by N_g/N."""
    values = []
    for S, ybar, (sigma, mu) in zip(covs, means, implied):
        p = S.shape[0]
        sd = np.sqrt(np.diag(S))
        resid = (S - sigma) / np.outer(sd, sd)
        total = np.sum(resid[np.tril_indices(p)] ** 2)
        count = p * (p + 1) / 2
        if meanstructure:
            total += np.sum(((ybar - mu) / sd) ** 2)
            count += p
        values.append(np.sqrt(total / count))
    return float(np.sum(n / n.sum() * np.asarray(values)))


def loglik(
    covs: tuple[np.ndarray, ...],
    means: tuple[np.ndarray, ...],
    implied: list[tuple[np.ndarray, np.ndarray]],
    n: np.ndarray,
) -> float:
    total = 0.0
    for S, ybar, (sigma, mu), n_g in zip(covs, means, implied, n):
        p = S.shape[0]
        _, logdet = np.linalg.slogdet(sigma)
        W = np.linalg.inv(sigma)
        d = ybar - mu
        total += -n_g / 2.0 * (p * np.log(2 * np.pi) + logdet + np.sum(S * W) + d @ W @ d)
    return float(total)


def scaled_indices(fit, c: float, trace_ug: float, c_b: float, n: int, groups: int):
    """lavaan's scaled and robust indices for a scaled (not shifted) test: chisq / c on df.

    ``fit`` holds the standard indices; ``c`` and ``c_b`` are the model's and the baseline's scaling
    factors, ``trace_ug`` = c df. lavaan's rmsea.scaled divides the unscaled chi-square by tr(U Gamma);
    the robust CFI/TLI/RMSEA (Brosseau-Liard, Savalei & Li 2012; Brosseau-Liard & Savalei 2014) use
    chisq - c df against chisq_b - c_b df_b.
    """
    import pandas as pd
    from scipy import stats

    chisq, df, chisq_b, df_b = fit["chisq"], fit["df"], fit["baseline_chisq"], fit["baseline_df"]
    xs, xs_b = chisq / c, chisq_b / c_b
    out = {
        "chisq_scaled": xs, "df_scaled": df, "pvalue_scaled": float(stats.chi2.sf(xs, df)) if df > 0 else np.nan,
        "chisq_scaling_factor": c,
        "baseline_chisq_scaled": xs_b, "baseline_df_scaled": df_b,
        "baseline_pvalue_scaled": float(stats.chi2.sf(xs_b, df_b)), "baseline_chisq_scaling_factor": c_b,
        "cfi_scaled": cfi(xs, df, xs_b, df_b), "tli_scaled": tli(xs, df, xs_b, df_b),
        "cfi_robust": cfi(chisq, df, chisq_b, df_b, c, c_b), "tli_robust": tli(chisq, df, chisq_b, df_b, c, c_b),
        "rmsea_scaled": rmsea(chisq, trace_ug, n, groups),
        "rmsea_robust": rmsea(chisq, df, n, groups, c),
    }
    out["rmsea_ci_lower_scaled"], out["rmsea_ci_upper_scaled"] = rmsea_ci(chisq, trace_ug, n, groups)
    out["rmsea_ci_lower_robust"], out["rmsea_ci_upper_robust"] = rmsea_ci(xs, df, n, groups, c_hat=c)
    return pd.Series(out, name="value")
