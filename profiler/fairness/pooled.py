"""Pooling 2x2 tables across sites or periods: Breslow-Day first, then Cochran-Mantel-Haenszel.

Each stratum k (a site, a period, or a score level in DIF) gives a 2x2 table ``[[a, b], [c, d]]``:
rows are the focal and the reference group, columns the event (selected) and its absence. With
n1 = a + b, n2 = c + d, m1 = a + c, N = a + b + c + d:

- Mantel-Haenszel common odds ratio OR_MH = sum(a d / N) / sum(b c / N), and the Robins-Breslow-Greenland
  (1986) variance of its log;
- Cochran-Mantel-Haenszel chi-square (1 df, no continuity correction unless asked):
  (sum a - sum E a)^2 / sum Var a with E a = n1 m1 / N, Var a = n1 n2 m1 m2 / (N^2 (N - 1));
- Breslow-Day (1980) homogeneity of the odds ratios (K - 1 df): sum (a - A)^2 / Var(A), A the
  expected count under OR_MH (root of a quadratic), Var(A) = 1 / (1/A + 1/(n1 - A) + 1/(m1 - A) +
  1/(n2 - m1 + A)); with Tarone's (1985) correction minus (sum a - sum A)^2 / sum Var(A) (the default,
  as ``statsmodels``' ``test_equal_odds(adjust=True)`` and R's ``DescTools::BreslowDayTest(correct=TRUE)``);
- Mantel-Haenszel common rate ratio RR_MH = sum(a n2 / N) / sum(c n1 / N) with the Greenland-Robins
  (1985) variance of its log: a pooled impact ratio of focal against reference.

Strata where a row or a column is empty carry no information and are dropped (and counted).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from profiler.fairness._input import binary, columns_of

__all__ = ["PooledResult", "StratifiedTest", "breslow_day", "cochran_mantel_haenszel", "pooled_impact"]


def _tables(tables) -> np.ndarray:
    t = np.asarray(tables, dtype=float)
    if t.ndim == 2:
        t = t[None]
    if t.ndim != 3 or t.shape[1:] != (2, 2):
        raise ValueError(f"tables must have shape (K, 2, 2), got {np.shape(tables)}")
    if np.any(t < 0) or np.any(~np.isfinite(t)):
        raise ValueError("tables must hold non-negative counts")
    return t


def informative(tables) -> np.ndarray:
    """Strata with both rows and both columns present (the others add nothing to any MH statistic)."""
    t = _tables(tables)
    rows = t.sum(axis=2)
    cols = t.sum(axis=1)
    return (rows > 0).all(axis=1) & (cols > 0).all(axis=1)


@dataclass(frozen=True)
class StratifiedTest:
    """Cochran-Mantel-Haenszel results of a set of 2x2 tables (see the module docstring)."""

    odds_ratio: float
    log_odds_ratio_se: float
    odds_ratio_ci: tuple[float, float]
    rate_ratio: float
    rate_ratio_ci: tuple[float, float]
    cmh_chi2: float
    cmh_p: float
    correction: bool
    n_strata: int
    n_strata_dropped: int

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def cochran_mantel_haenszel(tables, *, correction: bool = False, level: float = 0.95) -> StratifiedTest:
    """Mantel-Haenszel common odds ratio and rate ratio with CIs, and the CMH test of OR = 1.

    Parameters
    ----------
    tables : array-like, shape (K, 2, 2)
        ``[[a, b], [c, d]]`` per stratum: rows focal/reference, columns event/no event.
    correction : bool, default False
        Continuity correction (subtract 0.5 from |sum a - sum E a|) in the CMH chi-square. UGESP
        analyses use none.

    Notes
    -----
    In R: ``mantelhaen.test(array, correct = FALSE)``; in Python (tests only): statsmodels'
    ``StratifiedTable(tables.transpose(1, 2, 0))``.
    """
    t = _tables(tables)
    keep = informative(t)
    t_all, t = t, t[keep]
    if len(t) == 0:
        raise ValueError("no stratum has both groups and both outcomes: nothing to pool")
    a, b, c, d = t[:, 0, 0], t[:, 0, 1], t[:, 1, 0], t[:, 1, 1]
    n1, n2, m1, m2 = a + b, c + d, a + c, b + d
    N = n1 + n2
    z = stats.norm.ppf(0.5 + level / 2.0)

    R, S = a * d / N, b * c / N
    P, Q = (a + d) / N, (b + c) / N
    sr, ss = R.sum(), S.sum()
    odds_ratio = sr / ss if ss > 0 else np.inf
    # Robins, Breslow & Greenland (1986)
    var_log = (P * R).sum() / (2 * sr**2) + (P * S + Q * R).sum() / (2 * sr * ss) + (Q * S).sum() / (2 * ss**2)
    se = float(np.sqrt(var_log)) if sr > 0 and ss > 0 else np.nan
    log_or = np.log(odds_ratio) if 0 < odds_ratio < np.inf else np.nan
    or_ci = (float(np.exp(log_or - z * se)), float(np.exp(log_or + z * se)))

    # Mantel-Haenszel rate ratio with the Greenland-Robins (1985) variance
    num, den = (a * n2 / N).sum(), (c * n1 / N).sum()
    rate_ratio = num / den if den > 0 else np.inf
    var_rr = ((n1 * n2 * m1 - a * c * N) / N**2).sum() / (num * den) if num > 0 and den > 0 else np.nan
    log_rr = np.log(rate_ratio) if 0 < rate_ratio < np.inf else np.nan
    rr_ci = (float(np.exp(log_rr - z * np.sqrt(var_rr))), float(np.exp(log_rr + z * np.sqrt(var_rr))))

    expected = n1 * m1 / N
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = np.where(N > 1, n1 * n2 * m1 * m2 / (N**2 * (N - 1)), 0.0)
    diff = abs(a.sum() - expected.sum()) - (0.5 if correction else 0.0)
    chi2 = max(diff, 0.0) ** 2 / variance.sum() if variance.sum() > 0 else np.nan
    return StratifiedTest(
        odds_ratio=float(odds_ratio), log_odds_ratio_se=se, odds_ratio_ci=or_ci,
        rate_ratio=float(rate_ratio), rate_ratio_ci=rr_ci,
        cmh_chi2=float(chi2), cmh_p=float(stats.chi2.sf(chi2, 1)), correction=correction,
        n_strata=int(len(t)), n_strata_dropped=int(len(t_all) - len(t)),
    )


def breslow_day(tables, *, tarone: bool = True) -> dict:
    """Breslow-Day test that the strata share one odds ratio (the OR_MH), with Tarone's correction.

    Returns
    -------
    dict
        ``chi2``, ``df`` (informative strata - 1), ``p``, ``tarone`` (whether corrected).

    Notes
    -----
    In R: ``DescTools::BreslowDayTest(array, correct = tarone)``; statsmodels:
    ``StratifiedTable.test_equal_odds(adjust=tarone)``.
    """
    t = _tables(tables)
    t = t[informative(t)]
    if len(t) < 2:
        return {"chi2": np.nan, "df": 0, "p": np.nan, "tarone": tarone}
    a, b, c, d = t[:, 0, 0], t[:, 0, 1], t[:, 1, 0], t[:, 1, 1]
    n1, n2, m1 = a + b, c + d, a + c
    psi = cochran_mantel_haenszel(t).odds_ratio
    # A (n2 - m1 + A) = psi (n1 - A)(m1 - A): (1 - psi) A^2 + (n2 - m1 + psi (n1 + m1)) A - psi n1 m1 = 0
    lo, hi = np.maximum(0.0, m1 - n2), np.minimum(n1, m1)
    qa = 1.0 - psi
    qb = n2 - m1 + psi * (n1 + m1)
    qc = -psi * n1 * m1
    if abs(qa) < 1e-12:
        A = -qc / qb
    else:
        disc = np.sqrt(np.maximum(qb**2 - 4 * qa * qc, 0.0))
        roots = np.stack([(-qb + disc) / (2 * qa), (-qb - disc) / (2 * qa)])
        inside = (roots >= lo - 1e-9) & (roots <= hi + 1e-9)
        A = np.where(inside[0], roots[0], roots[1])
    with np.errstate(divide="ignore"):
        var = 1.0 / (1.0 / A + 1.0 / (n1 - A) + 1.0 / (m1 - A) + 1.0 / (n2 - m1 + A))
    chi2 = float(np.sum((a - A) ** 2 / var))
    if tarone:
        chi2 -= float((a.sum() - A.sum()) ** 2 / var.sum())
    df = len(t) - 1
    return {"chi2": chi2, "df": df, "p": float(stats.chi2.sf(chi2, df)), "tarone": tarone}


@dataclass(frozen=True)
class PooledResult:
    """Impact of focal against reference within strata (sites, periods) and pooled.

    ``strata``: per stratum n, selected and rate of both groups and the impact ratio (focal / reference);
    ``homogeneity``: the Breslow-Day test; ``pooled``: the CMH results; ``notes``: warnings in words.
    """

    focal: object
    reference: object
    strata: pd.DataFrame
    homogeneity: dict
    pooled: StratifiedTest
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "focal": str(self.focal), "reference": str(self.reference),
            "strata": [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
                       for r in self.strata.astype({"stratum": str}).to_dict(orient="records")],
            "homogeneity": dict(self.homogeneity), "pooled": self.pooled.to_dict(), "notes": list(self.notes),
        }


def pooled_impact(
    outcomes: pd.Series,
    groups: pd.Series,
    strata: pd.Series,
    *,
    focal,
    reference,
    tarone: bool = True,
    alpha: float = 0.05,
) -> PooledResult:
    """Selection of ``focal`` against ``reference`` pooled over ``strata`` (Breslow-Day, then CMH).

    Parameters
    ----------
    outcomes : Series or array-like of 0/1
    groups : Series or array-like
        Category of each person (other categories and unknowns are left out).
    strata : Series or array-like
        Site or period of each person (same index, or in the same order).
    focal, reference
        The two categories compared (the impact ratio is focal / reference).
    tarone : bool, default True
        Tarone's correction of the Breslow-Day statistic.
    alpha : float
        Level at which heterogeneity is reported in ``notes``.
    """
    outcomes, groups, strata = columns_of(outcomes, groups, strata, names=("outcomes", "groups", "strata"))
    selected = binary(outcomes, "outcomes")
    g = groups.to_numpy()
    s = strata.to_numpy()
    use = (g == focal) | (g == reference)
    use &= pd.notna(strata).to_numpy()
    levels = pd.unique(s[use])
    try:
        levels = sorted(levels)
    except TypeError:
        levels = sorted(levels, key=str)
    tables, rows = [], []
    for level in levels:
        here = use & (s == level)
        f, r = here & (g == focal), here & (g == reference)
        a, c = int(selected[f].sum()), int(selected[r].sum())
        nf, nr = int(f.sum()), int(r.sum())
        tables.append([[a, nf - a], [c, nr - c]])
        rf, rr = (a / nf if nf else np.nan), (c / nr if nr else np.nan)
        rows.append({"stratum": level, "n_focal": nf, "selected_focal": a, "rate_focal": rf,
                     "n_reference": nr, "selected_reference": c, "rate_reference": rr,
                     "impact_ratio": rf / rr if nr and rr > 0 else np.nan})
    tables = np.array(tables, dtype=float)
    frame = pd.DataFrame(rows)
    frame["informative"] = informative(tables)
    pooled = cochran_mantel_haenszel(tables)
    homogeneity = breslow_day(tables, tarone=tarone)
    notes = []
    if pooled.n_strata_dropped:
        notes.append(f"{pooled.n_strata_dropped} strata without both groups or both outcomes were dropped")
    if np.isfinite(homogeneity["p"]) and homogeneity["p"] < alpha:
        notes.append(f"Breslow-Day{' (Tarone)' if tarone else ''} p = {homogeneity['p']:.3g}: the odds ratios "
                     "differ between strata, so one pooled figure hides that; read the strata")
    return PooledResult(focal, reference, frame, homogeneity, pooled, notes)
