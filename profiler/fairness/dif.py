"""Differential item functioning (DIF): do people of two groups with the same standing answer an item alike?

Each item is compared between a focal and a reference group among people with the same *rest score*
(the sum of the other keyed items of its scale; reverse-keyed items are turned first, ``min + max - x``,
so every item and rest score point in the trait's direction). Rows missing any item of the scale are
left out of that scale's analysis (counted in ``n_focal``/``n_reference``). Three methods:

1. **Mantel-Haenszel** on the item dichotomized at ``cut`` (keyed answer > cut; default the midpoint of
   the response scale, i.e. agreeing) or on a yes/no item: per rest-score stratum the table
   ``[[A, B], [C, D]]`` (reference endorsed/not, focal endorsed/not), alpha_MH = sum(A D / N) /
   sum(B C / N), MH D-DIF = -2.35 ln alpha_MH with SE 2.35 x the Robins-Breslow-Greenland SE of ln
   alpha_MH, and the MH chi-square with continuity correction. ETS classes (Zwick, 2012): **A** when
   |D| < 1 or D is not significantly different from 0; **C** when |D| >= 1.5 and |D| is significantly
   greater than 1 (one-sided z = (|D| - 1) / SE > 1.645); **B** otherwise. The sign is appended
   (``B+``, ``C-``): **+** the focal group endorses the item more than reference members with the
   same rest score, **-** less.
2. **Mantel's (1963) test and the standardized mean difference** for the full Likert item: per stratum
   the focal sum F_k, E F_k = n_fk m_k, Var F_k = n_rk n_fk (N_k sum y^2 - (sum y)^2) / (N_k^2 (N_k - 1)),
   chi-square (sum F - sum E)^2 / sum Var (1 df); SMD = sum_k (n_fk / n_f) (mean_fk - mean_rk) (Dorans &
   Kulick, focal weights), effect size SMD / SD of the item (both groups). ETS polytomous classes
   (Allen, Carlson & Zelenak, 1999): **AA** not significant or |SMD/SD| <= .17, **CC** significant and
   |SMD/SD| > .25, **BB** otherwise.
3. **Ordinal logistic regression** (Zumbo, 1999; proportional odds, :mod:`profiler.fairness.ordinal`):
   M1 item ~ rest, M2 + group, M3 + group + rest x group. Likelihood-ratio chi-squares M1->M3 (2 df,
   any DIF), M1->M2 (1 df, uniform), M2->M3 (1 df, non-uniform), and the change of Nagelkerke's R^2.
   Classes by the 2-df test and Delta R^2 (M1->M3): Zumbo-Thomas A < .13 <= B < .26 <= C;
   Jodoin-Gierl A < .035 <= B < .070 <= C (A whenever the test is not significant).

Significance ("not significantly different from 0") uses Benjamini-Hochberg adjusted p-values across
all items analysed (``adjust=True``, the default), at ``alpha``; the raw p-values are reported too.
A DIF flag is a reason for content review (wording, translation, cultural reference), not a verdict of
bias: with tens of thousands of respondents tiny effects are significant, which is why the classes
require an effect size as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from profiler.fairness.impact import _records
from profiler.fairness.ordinal import fit_ordinal_logit, null_loglik
from profiler.fairness.pooled import cochran_mantel_haenszel
from profiler.questionnaire.questionnaire import Questionnaire

__all__ = ["DIFResult", "benjamini_hochberg", "dif", "ets_class", "ets_polytomous_class", "logistic_class"]

ZUMBO_THOMAS = (0.13, 0.26)
JODOIN_GIERL = (0.035, 0.070)


def benjamini_hochberg(p) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (NaN stays NaN and does not count)."""
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    order = np.argsort(p[ok])
    ranked = p[ok][order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    values = np.empty(m)
    values[order] = np.minimum(adjusted, 1.0)
    out[ok] = values
    return out


def ets_class(d: float, se: float, p: float, alpha: float = 0.05) -> str:
    """ETS A/B/C class of an MH D-DIF with its SE and the p-value of the test of D = 0."""
    if not np.isfinite(d) or abs(d) < 1.0 or not p < alpha:
        return "A"
    sign = "+" if d > 0 else "-"
    if abs(d) >= 1.5 and (abs(d) - 1.0) / se > stats.norm.ppf(1 - alpha):
        return "C" + sign
    return "B" + sign


def ets_polytomous_class(effect: float, p: float, alpha: float = 0.05) -> str:
    """ETS AA/BB/CC class of a standardized mean difference effect size (SMD / SD)."""
    if not np.isfinite(effect) or not p < alpha or abs(effect) <= 0.17:
        return "AA"
    sign = "+" if effect > 0 else "-"
    return ("CC" if abs(effect) > 0.25 else "BB") + sign


def logistic_class(delta_r2: float, p: float, cutoffs: tuple[float, float], alpha: float = 0.05) -> str:
    """A/B/C by the change of pseudo-R^2 (Zumbo-Thomas or Jodoin-Gierl cut-offs) and the 2-df test."""
    if not np.isfinite(delta_r2) or not p < alpha or delta_r2 < cutoffs[0]:
        return "A"
    return "C" if delta_r2 >= cutoffs[1] else "B"


@dataclass(frozen=True)
class DIFResult:
    """Per-item DIF statistics (``items``, one row per item, columns described in :func:`dif`)."""

    items: pd.DataFrame
    focal: object
    reference: object
    cut: float | None
    alpha: float
    adjust: bool
    method: dict = field(default_factory=dict)

    def flagged(self, level: str = "C", methods=("mh", "mantel")) -> list[str]:
        """Item ids whose class reaches ``level`` ("B" or "C") by any of ``methods``.

        ``methods`` among ``"mh"`` (ETS A/B/C), ``"mantel"`` (ETS AA/BB/CC), ``"zumbo_thomas"``,
        ``"jodoin_gierl"`` (ordinal logistic regression).
        """
        columns = {"mh": "ets_class", "mantel": "ets_poly_class", "zumbo_thomas": "zumbo_thomas_class",
                   "jodoin_gierl": "jodoin_gierl_class"}
        unknown = [m for m in methods if m not in columns]
        if unknown or level not in ("B", "C"):
            raise ValueError(f"methods must be among {list(columns)} and level 'B' or 'C'")
        wanted = ("B", "C") if level == "B" else ("C",)
        hit = np.zeros(len(self.items), bool)
        for m in methods:
            if columns[m] in self.items:
                hit |= self.items[columns[m]].astype(str).str[0].isin(wanted).to_numpy()
        return self.items.loc[hit, "item"].tolist()

    def to_dict(self) -> dict:
        return {"focal": str(self.focal), "reference": str(self.reference), "cut": self.cut, "alpha": self.alpha,
                "adjust": self.adjust, "method": dict(self.method), "items": _records(self.items)}


def _keyed(questionnaire: Questionnaire, responses: pd.DataFrame, scale: str):
    keys = questionnaire.keys(scale)
    ids = [k.item for k in keys]
    absent = [i for i in ids if i not in responses.columns]
    if absent:
        raise ValueError(f"responses lack the items {absent} of scale {scale!r}")
    x = responses[ids].apply(pd.to_numeric, errors="raise").to_numpy(dtype=float)
    ranges = np.array([questionnaire.item_range(i) for i in ids], dtype=float)
    outside = ~np.isnan(x) & ((x < ranges[:, 0]) | (x > ranges[:, 1]))
    if outside.any():
        r, c = np.argwhere(outside)[0]
        raise ValueError(f"item {ids[c]!r} has an answer {x[r, c]:g} outside {ranges[c, 0]:g}..{ranges[c, 1]:g} "
                         f"(row {responses.index[r]!r}); code unanswered items as NaN")
    signs = np.array([k.sign for k in keys])
    x = np.where(signs < 0, ranges[:, 0] + ranges[:, 1] - x, x)
    return ids, signs, x, ranges


def _mh(y: np.ndarray, focal: np.ndarray, strata: np.ndarray) -> dict:
    n_strata = strata.max() + 1
    count = lambda w: np.bincount(strata, weights=w.astype(float), minlength=n_strata)  # noqa: E731
    A, B = count(~focal & y), count(~focal & ~y)
    C, D = count(focal & y), count(focal & ~y)
    test = cochran_mantel_haenszel(np.stack([np.stack([A, B], 1), np.stack([C, D], 1)], 1), correction=True)
    d = -2.35 * np.log(test.odds_ratio) if 0 < test.odds_ratio < np.inf else np.nan
    return {"mh_alpha": test.odds_ratio, "mh_d": d, "mh_d_se": 2.35 * test.log_odds_ratio_se,
            "mh_chi2": test.cmh_chi2, "mh_p": test.cmh_p}


def _mantel(y: np.ndarray, focal: np.ndarray, strata: np.ndarray) -> dict:
    n_strata = strata.max() + 1
    count = lambda w: np.bincount(strata, weights=w, minlength=n_strata)  # noqa: E731
    one = np.ones_like(y)
    N, nf = count(one), count(focal.astype(float))
    nr = N - nf
    sy, sy2, fy = count(y), count(y**2), count(np.where(focal, y, 0.0))
    use = (nf > 0) & (nr > 0) & (N > 1)
    expected = nf[use] * sy[use] / N[use]
    var = nr[use] * nf[use] * (N[use] * sy2[use] - sy[use] ** 2) / (N[use] ** 2 * (N[use] - 1))
    chi2 = (fy[use].sum() - expected.sum()) ** 2 / var.sum() if var.sum() > 0 else np.nan
    mean_f = fy[use] / nf[use]
    mean_r = (sy[use] - fy[use]) / nr[use]
    smd = float(np.sum(nf[use] / nf[use].sum() * (mean_f - mean_r)))
    sd = float(np.std(y, ddof=1))
    return {"mantel_chi2": float(chi2), "mantel_p": float(stats.chi2.sf(chi2, 1)), "smd": smd,
            "smd_effect": smd / sd if sd > 0 else np.nan}


def _nagelkerke(ll: float, ll0: float, n: int) -> float:
    return (1 - np.exp(2 * (ll0 - ll) / n)) / (1 - np.exp(2 * ll0 / n))


def _logistic(y: np.ndarray, focal: np.ndarray, rest: np.ndarray) -> dict:
    # people with the same answer, rest score and group are one row with a frequency weight: same fit
    patterns, w = np.unique(np.column_stack([y, rest, focal]), axis=0, return_counts=True)
    _, codes = np.unique(patterns[:, 0], return_inverse=True)  # unused answer categories dropped
    J = codes.max() + 1
    r = patterns[:, 1] - rest.mean()
    g = patterns[:, 2]
    m1 = fit_ordinal_logit(codes, r[:, None], weights=w)
    m2 = fit_ordinal_logit(codes, np.column_stack([r, g]), weights=w,
                           start=np.concatenate([m1.thresholds, m1.coef, [0.0]]))
    m3 = fit_ordinal_logit(codes, np.column_stack([r, g, r * g]), weights=w,
                           start=np.concatenate([m2.thresholds, m2.coef, [0.0]]))
    ll0, n = null_loglik(codes, J, w), len(y)
    r2 = [_nagelkerke(m.loglik, ll0, n) for m in (m1, m2, m3)]
    lr_total, lr_uni, lr_non = (max(2 * (b.loglik - a.loglik), 0.0) for a, b in ((m1, m3), (m1, m2), (m2, m3)))
    return {"lr_chi2": lr_total, "lr_p": float(stats.chi2.sf(lr_total, 2)),
            "lr_chi2_uniform": lr_uni, "lr_p_uniform": float(stats.chi2.sf(lr_uni, 1)),
            "lr_chi2_nonuniform": lr_non, "lr_p_nonuniform": float(stats.chi2.sf(lr_non, 1)),
            "r2_change": r2[2] - r2[0], "r2_change_uniform": r2[1] - r2[0], "r2_change_nonuniform": r2[2] - r2[1],
            "mcfadden_change": (m1.loglik - m3.loglik) / ll0, "group_coef": float(m2.coef[1]),
            "group_coef_se": float(m2.se_coef[1]), "converged": m1.converged and m2.converged and m3.converged}


def dif(
    responses: pd.DataFrame,
    questionnaire: Questionnaire,
    groups: pd.Series,
    *,
    focal=None,
    reference=None,
    scales: list[str] | None = None,
    cut: float | None = None,
    logistic: bool = True,
    alpha: float = 0.05,
    adjust: bool = True,
    language: str | None = None,
) -> DIFResult:
    """DIF of every scored item between ``focal`` and ``reference``, matching on the rest score.

    Parameters
    ----------
    responses : DataFrame
        One row per person, one column per item; NaN = unanswered (other columns are ignored).
    questionnaire : Questionnaire
        Gives the scales, keying and response ranges.
    groups : Series
        Category of each person (same index); rows in neither group are left out.
    focal, reference : optional
        The compared categories; with exactly two categories the default reference is the larger and
        the focal the other.
    scales : list of str, optional
        Scales to analyse (default: every scale with its own key list).
    cut : float, optional
        Dichotomization for Mantel-Haenszel: endorsed = keyed answer > cut (default: the midpoint of
        the response range; ignored for yes/no items, which are used as they are).
    logistic : bool, default True
        Also run ordinal logistic regression DIF (three fits per item).
    alpha : float, default 0.05
    adjust : bool, default True
        Classify with Benjamini-Hochberg adjusted p-values across all analysed items.
    language : str, optional
        Language of the item texts in the result (default: the questionnaire's).

    Returns
    -------
    DIFResult
        ``items`` columns: ``item, scale, keyed, text, n_focal, n_reference``; Mantel-Haenszel
        ``mh_alpha, mh_d, mh_d_se, mh_chi2, mh_p, mh_p_adj, ets_class``; Mantel/SMD ``mantel_chi2,
        mantel_p, mantel_p_adj, smd, smd_effect, ets_poly_class``; logistic ``lr_chi2, lr_p, lr_p_adj,
        lr_chi2_uniform, lr_p_uniform, lr_chi2_nonuniform, lr_p_nonuniform, r2_change,
        r2_change_uniform, r2_change_nonuniform, mcfadden_change, group_coef, group_coef_se,
        zumbo_thomas_class, jodoin_gierl_class``.
    """
    if not isinstance(groups, pd.Series):
        raise TypeError(f"groups must be a pandas Series, not {type(groups).__name__}")
    if len(groups) != len(responses) or not groups.index.equals(responses.index):
        raise ValueError("responses and groups must have the same index (the same people in the same order)")
    focal, reference = _pick_groups(groups, focal, reference)
    labels = groups.to_numpy()
    in_pair = (labels == focal) | (labels == reference)
    scales = scales or [s.id for s in questionnaire.scales if s.keys is not None]
    rows = []
    for scale in scales:
        ids, signs, x, ranges = _keyed(questionnaire, responses, scale)
        complete = in_pair & ~np.isnan(x).any(axis=1)
        xs, is_focal = x[complete], labels[complete] == focal
        if is_focal.sum() < 2 or (~is_focal).sum() < 2:
            raise ValueError(f"scale {scale!r}: fewer than 2 complete respondents in a group")
        total = xs.sum(axis=1)
        for j, item in enumerate(ids):
            y = xs[:, j]
            rest = total - y
            _, strata = np.unique(rest, return_inverse=True)
            lo, hi = ranges[j]
            threshold = (lo + hi) / 2.0 if cut is None else cut
            binary = y > threshold if hi - lo > 1 else y > lo
            row = {"item": item, "scale": scale, "keyed": "+" if signs[j] > 0 else "-",
                   "text": _text(questionnaire, item, language),
                   "n_focal": int(is_focal.sum()), "n_reference": int((~is_focal).sum())}
            row.update(_mh(binary, is_focal, strata))
            row.update(_mantel(y, is_focal, strata))
            if logistic:
                row.update(_logistic(y, is_focal, rest))
            rows.append(row)
    items = pd.DataFrame(rows)
    tests = [("mh_p", "mh_p_adj"), ("mantel_p", "mantel_p_adj")] + ([("lr_p", "lr_p_adj")] if logistic else [])
    for raw, adj in tests:
        items[adj] = benjamini_hochberg(items[raw]) if adjust else items[raw]
    items["ets_class"] = [ets_class(d, s, p, alpha) for d, s, p in zip(items.mh_d, items.mh_d_se, items.mh_p_adj)]
    items["ets_poly_class"] = [ets_polytomous_class(e, p, alpha) for e, p in zip(items.smd_effect, items.mantel_p_adj)]
    if logistic:
        items["zumbo_thomas_class"] = [logistic_class(r, p, ZUMBO_THOMAS, alpha)
                                       for r, p in zip(items.r2_change, items.lr_p_adj)]
        items["jodoin_gierl_class"] = [logistic_class(r, p, JODOIN_GIERL, alpha)
                                       for r, p in zip(items.r2_change, items.lr_p_adj)]
    order = ["item", "scale", "keyed", "text", "n_focal", "n_reference", "mh_alpha", "mh_d", "mh_d_se", "mh_chi2",
             "mh_p", "mh_p_adj", "ets_class", "mantel_chi2", "mantel_p", "mantel_p_adj", "smd", "smd_effect",
             "ets_poly_class"]
    items = items[order + [c for c in items.columns if c not in order]]
    method = {
        "matching": "rest score: sum of the other keyed items of the scale (complete rows of the scale)",
        "mh": f"item dichotomized at keyed answer > {'the midpoint' if cut is None else cut}; MH chi-square with "
              "continuity correction; ETS classes, C needs (|D| - 1) / SE > z(1 - alpha) one-sided",
        "mantel": "Mantel (1963) chi-square, SMD with focal weights; ETS AA/BB/CC at |SMD/SD| .17/.25",
        "logistic": "proportional-odds M1 rest, M2 + group, M3 + rest x group; Nagelkerke R^2 change M1->M3",
        "adjust": "Benjamini-Hochberg across the items analysed" if adjust else "none",
        "sign": "+: the focal group endorses the item (keyed direction) more at equal rest score",
    }
    return DIFResult(items=items, focal=focal, reference=reference, cut=cut, alpha=alpha, adjust=adjust, method=method)


def _pick_groups(groups: pd.Series, focal, reference):
    counts = groups.value_counts()
    if reference is None and focal is None:
        if len(counts) != 2:
            raise ValueError(f"groups has {len(counts)} categories ({list(counts.index)[:6]}): name focal= and "
                             "reference=")
        return counts.index[1], counts.index[0]
    if reference is None or focal is None:
        raise ValueError("give both focal= and reference= (or neither, with exactly two categories)")
    for name, value in (("focal", focal), ("reference", reference)):
        if value not in counts.index:
            raise ValueError(f"{name} category {value!r} does not occur in groups")
    return focal, reference


def _text(questionnaire: Questionnaire, item: str, language: str | None) -> str:
    try:
        return questionnaire.text(item, language)
    except KeyError:
        return ""
