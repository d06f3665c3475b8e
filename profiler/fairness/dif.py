"""Differential item functioning (DIF): do people of two groups with the same standing answer an item alike?

Each item is compared between a focal and a reference group among people with the same *matching score*
(reverse-keyed items are turned first, ``min + max - x``, so every item and score point in the trait's
direction). Rows missing any item of the scale are left out of that scale's analysis (counted in
``n_focal``/``n_reference``).

**Matching score.** ``matching="total"`` (the default, the ETS and difR convention, Holland & Thayer 1988):
the sum of the scale's anchor items *plus the studied item*; ``matching="rest"``: the sum of the anchor
items other than the studied one.

**Anchors.** When many items of a scale are biased in the same direction, a matching score built from all
of them is itself biased, and clean items then show DIF in the opposite direction. The matching score is
therefore built from *anchor items* only: given with ``anchors=[...]``, or (the default,
``anchors="purify"``) found by iterative purification as difR and lordif do: analyse with every item as an
anchor, drop the items flagged at ``purify_level`` from the anchors, analyse again, until the flagged set
no longer changes (at most ``max_iter`` rounds; a scale keeps at least 2 anchors). ``anchors=None`` matches
on every item of the scale without purification. The anchors used are in ``DIFResult.anchors``.

Three methods:

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

**Non-uniform DIF** (the item separates people differently in the two groups; curves that cross) is invisible
to Mantel-Haenszel and Mantel, which compare the groups on average. The logistic model's interaction term
tests it (M2 -> M3, 1 df): ``nonuniform_class`` is A/B/C by its Delta R^2 with the Jodoin-Gierl cut-offs and
its adjusted p-value, and ``flagged()`` uses it by default; ``dif_type`` says ``uniform``, ``non-uniform``
or ``both`` for every flagged item.

**The effect on each person's score** (``DIFResult.effects``, with ``logistic=True``): for each focal-group
member and each flagged item, the difference between the item score the fitted model M3 expects for a focal
and for a reference member with the same matching score, summed over the flagged items of the scale (divided
by its number of items for a mean score): how much higher (+) or lower (-) that person's raw scale score is
because of DIF than a reference-group member at the same standing would score. ``effect_summary`` gives
its mean and range per scale, also in units of the scale score's SD.

Significance ("not significantly different from 0") uses Benjamini-Hochberg adjusted p-values across
all items analysed (``adjust=True``, the default), at ``alpha``; the raw p-values are reported too.
A DIF flag is a reason for content review (wording, translation, cultural reference), not a verdict of
bias: with tens of thousands of respondents tiny effects are significant, which is why the classes
require an effect size as well.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning

from profiler.fairness._input import FairnessInputError, group_labels
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


FLAG_COLUMNS = {"mh": "ets_class", "mantel": "ets_poly_class", "zumbo_thomas": "zumbo_thomas_class",
                "jodoin_gierl": "jodoin_gierl_class", "nonuniform": "nonuniform_class"}
DEFAULT_FLAG_METHODS = ("mh", "mantel", "nonuniform")
UNIFORM_METHODS = ("mh", "mantel")


@dataclass(frozen=True)
class DIFResult:
    """Per-item DIF statistics (``items``, one row per item, columns described in :func:`dif`).

    Attributes
    ----------
    items : DataFrame
    focal, reference
        The compared categories.
    anchors : dict
        Scale -> the anchor items its matching scores were built from.
    matching : str
        ``"total"`` or ``"rest"``.
    purification : dict
        ``rounds`` (flagged items after each round), ``converged`` and notes (empty without purification).
    effects : DataFrame or None
        Focal-group members (rows, their index) x scales: the effect of the flagged items' DIF on the raw scale
        score (see the module docstring); None without the logistic model.
    effect_summary : DataFrame or None
        Per scale: flagged items, focal members, mean, min and max effect, the scale's SD, and the mean in SDs.
    """

    items: pd.DataFrame
    focal: object
    reference: object
    cut: float | None
    alpha: float
    adjust: bool
    method: dict = field(default_factory=dict)
    anchors: dict = field(default_factory=dict)
    matching: str = "total"
    purification: dict = field(default_factory=dict)
    effects: pd.DataFrame | None = field(default=None, repr=False)
    effect_summary: pd.DataFrame | None = None

    def flagged(self, level: str = "C", methods=DEFAULT_FLAG_METHODS) -> list[str]:
        """Item ids whose class reaches ``level`` ("B" or "C") by any of ``methods``.

        ``methods`` among ``"mh"`` (ETS A/B/C), ``"mantel"`` (ETS AA/BB/CC), ``"nonuniform"`` (the logistic
        interaction, Jodoin-Gierl cut-offs), ``"zumbo_thomas"``, ``"jodoin_gierl"`` (ordinal logistic
        regression, 2 df). The default finds uniform DIF by the ETS classes and non-uniform DIF by the
        interaction; methods whose columns are absent (no logistic model) are skipped.
        """
        return self.items.loc[_hits(self.items, level, methods), "item"].tolist()

    def to_dict(self) -> dict:
        return {"focal": str(self.focal), "reference": str(self.reference), "cut": self.cut, "alpha": self.alpha,
                "adjust": self.adjust, "method": dict(self.method), "matching": self.matching,
                "anchors": {k: list(v) for k, v in self.anchors.items()}, "purification": dict(self.purification),
                "items": _records(self.items),
                "effect_summary": None if self.effect_summary is None else _records(self.effect_summary)}


def _hits(items: pd.DataFrame, level: str, methods) -> np.ndarray:
    unknown = [m for m in methods if m not in FLAG_COLUMNS]
    if unknown or level not in ("B", "C"):
        raise ValueError(f"methods must be among {list(FLAG_COLUMNS)} and level 'B' or 'C'")
    wanted = ("B", "C") if level == "B" else ("C",)
    hit = np.zeros(len(items), bool)
    for m in methods:
        if FLAG_COLUMNS[m] in items:
            hit |= items[FLAG_COLUMNS[m]].astype(str).str[0].isin(wanted).to_numpy()
    return hit


def _keyed(questionnaire: Questionnaire, responses: pd.DataFrame, scale: str):
    keys = questionnaire.keys(scale)
    ids = [k.item for k in keys]
    absent = [i for i in ids if i not in responses.columns]
    if absent:
        raise FairnessInputError(f"responses lack the items {absent} of scale {scale!r}")
    x = responses[ids].apply(pd.to_numeric, errors="raise").to_numpy(dtype=float)
    ranges = np.array([questionnaire.item_range(i) for i in ids], dtype=float)
    outside = ~np.isnan(x) & ((x < ranges[:, 0]) | (x > ranges[:, 1]))
    if outside.any():
        r, c = np.argwhere(outside)[0]
        raise FairnessInputError(f"item {ids[c]!r} has an answer {x[r, c]:g} outside {ranges[c, 0]:g}..{ranges[c, 1]:g} "
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


@dataclass(frozen=True)
class _ItemModel:
    """The fitted M3 of one item: what the expected item score at a matching score and group is read from."""

    values: np.ndarray  # the answer of each category, lowest first
    thresholds: np.ndarray
    coef: np.ndarray  # matching (centred), group, matching x group
    centre: float

    def expected(self, match: np.ndarray, focal: bool) -> np.ndarray:
        r = match - self.centre
        g = 1.0 if focal else 0.0
        eta = self.coef[0] * r + self.coef[1] * g + self.coef[2] * r * g
        cumulative = expit(self.thresholds[None, :] - eta[:, None])  # P(Y <= j)
        probabilities = np.diff(np.concatenate([np.zeros((len(r), 1)), cumulative, np.ones((len(r), 1))], axis=1),
                                axis=1)
        return probabilities @ self.values


def _logistic(y: np.ndarray, focal: np.ndarray, match: np.ndarray) -> tuple[dict, _ItemModel]:
    # people with the same answer, matching score and group are one row with a frequency weight: same fit
    patterns, w = np.unique(np.column_stack([y, match, focal]), axis=0, return_counts=True)
    values, codes = np.unique(patterns[:, 0], return_inverse=True)  # unused answer categories dropped
    J = codes.max() + 1
    centre = float(match.mean())
    r = patterns[:, 1] - centre
    g = patterns[:, 2]
    m1 = fit_ordinal_logit(codes, r[:, None], weights=w)
    m2 = fit_ordinal_logit(codes, np.column_stack([r, g]), weights=w,
                           start=np.concatenate([m1.thresholds, m1.coef, [0.0]]))
    m3 = fit_ordinal_logit(codes, np.column_stack([r, g, r * g]), weights=w,
                           start=np.concatenate([m2.thresholds, m2.coef, [0.0]]))
    ll0, n = null_loglik(codes, J, w), len(y)
    r2 = [_nagelkerke(m.loglik, ll0, n) for m in (m1, m2, m3)]
    lr_total, lr_uni, lr_non = (max(2 * (b.loglik - a.loglik), 0.0) for a, b in ((m1, m3), (m1, m2), (m2, m3)))
    row = {"lr_chi2": lr_total, "lr_p": float(stats.chi2.sf(lr_total, 2)),
           "lr_chi2_uniform": lr_uni, "lr_p_uniform": float(stats.chi2.sf(lr_uni, 1)),
           "lr_chi2_nonuniform": lr_non, "lr_p_nonuniform": float(stats.chi2.sf(lr_non, 1)),
           "r2_change": r2[2] - r2[0], "r2_change_uniform": r2[1] - r2[0], "r2_change_nonuniform": r2[2] - r2[1],
           "mcfadden_change": (m1.loglik - m3.loglik) / ll0, "group_coef": float(m2.coef[1]),
           "group_coef_se": float(m2.se_coef[1]), "interaction_coef": float(m3.coef[2]),
           "converged": m1.converged and m2.converged and m3.converged}
    return row, _ItemModel(values.astype(float), m3.thresholds, m3.coef, centre)


def dif(
    responses: pd.DataFrame,
    questionnaire: Questionnaire,
    groups,
    *,
    focal=None,
    reference=None,
    scales: list[str] | None = None,
    cut: float | None = None,
    logistic: bool = True,
    alpha: float = 0.05,
    adjust: bool = True,
    language: str | None = None,
    matching: str = "total",
    anchors: Sequence[str] | Mapping[str, Sequence[str]] | str | None = "purify",
    purify_level: str = "B",
    max_iter: int = 10,
) -> DIFResult:
    """DIF of every scored item between ``focal`` and ``reference``, matching on anchor items.

    Parameters
    ----------
    responses : DataFrame
        One row per person, one column per item; NaN = unanswered (other columns are ignored).
    questionnaire : Questionnaire
        Gives the scales, keying and response ranges.
    groups : Series or array-like
        Category of each person (a Series with the same index, or a list or array in the rows' order); rows in
        neither group are left out.
    focal, reference : optional
        The compared categories; with exactly two categories the default reference is the larger and
        the focal the other.
    scales : list of str, optional
        Scales to analyse (default: every scale with its own key list).
    cut : float, optional
        Dichotomization for Mantel-Haenszel: endorsed = keyed answer > cut (default: the midpoint of
        the response range; ignored for yes/no items, which are used as they are).
    logistic : bool, default True
        Also run ordinal logistic regression DIF (three fits per item), which finds non-uniform DIF and gives
        each person's effect.
    alpha : float, default 0.05
    adjust : bool, default True
        Classify with Benjamini-Hochberg adjusted p-values across all analysed items.
    language : str, optional
        Language of the item texts in the result (default: the questionnaire's).
    matching : {"total", "rest"}, default "total"
        The matching score: the anchor items plus the studied item (ETS, difR), or the anchors without it.
    anchors : "purify", list, mapping or None, default "purify"
        Iterative purification (see the module docstring); the anchor items (a list, applied to every scale,
        or scale -> items); or None: every item of the scale.
    purify_level : {"B", "C"}, default "B"
        Items flagged at this level (by :meth:`DIFResult.flagged`'s default methods) leave the anchors.
    max_iter : int, default 10
        Rounds of purification before it stops with a ``ConvergenceWarning``.

    Returns
    -------
    DIFResult
        ``items`` columns: ``item, scale, keyed, text, anchor, n_focal, n_reference``; Mantel-Haenszel
        ``mh_alpha, mh_d, mh_d_se, mh_chi2, mh_p, mh_p_adj, ets_class``; Mantel/SMD ``mantel_chi2,
        mantel_p, mantel_p_adj, smd, smd_effect, ets_poly_class``; logistic ``lr_chi2, lr_p, lr_p_adj,
        lr_chi2_uniform, lr_p_uniform, lr_chi2_nonuniform, lr_p_nonuniform, lr_p_nonuniform_adj, r2_change,
        r2_change_uniform, r2_change_nonuniform, mcfadden_change, group_coef, group_coef_se, interaction_coef,
        zumbo_thomas_class, jodoin_gierl_class, nonuniform_class``; ``dif_type``.

    Notes
    -----
    In R: ``difR::difMH(data, group, focal.name, match = "score", purify = TRUE)`` for the Mantel-Haenszel part
    (difR dichotomous items), ``lordif`` for ordinal logistic regression with purification (on IRT scores).
    """
    if matching not in ("total", "rest"):
        raise ValueError(f"matching={matching!r}; use 'total' or 'rest'")
    if purify_level not in ("B", "C"):
        raise ValueError(f"purify_level={purify_level!r}; use 'B' or 'C'")
    labels = group_labels(groups, responses.index, "groups")
    focal, reference = _pick_groups(labels, focal, reference)
    scales = scales or [s.id for s in questionnaire.scales if s.keys is not None]
    keyed = {scale: _keyed(questionnaire, responses, scale) for scale in scales}
    analysis = _Analysis(questionnaire, keyed, labels.to_numpy(), responses.index, focal, reference, cut, logistic,
                         alpha, adjust, language, matching)
    purification: dict = {}
    if isinstance(anchors, str):
        if anchors != "purify":
            raise ValueError(f"anchors={anchors!r}; use 'purify', a list of items, a mapping or None")
        chosen, purification = _purify(analysis, purify_level, max_iter)
    else:
        chosen = _given_anchors(anchors, keyed)
    items, models = analysis.run(chosen)
    effects, summary = _effects(analysis, items, models) if logistic else (None, None)
    method = {
        "matching": ("total score: the anchor items plus the studied item (ETS, difR)" if matching == "total"
                     else "rest score: the anchor items other than the studied one") + "; complete rows of the scale",
        "anchors": ("iterative purification: items flagged at " + purify_level + " leave the anchors" if purification
                    else "given" if anchors is not None else "every item of the scale"),
        "mh": f"item dichotomized at keyed answer > {'the midpoint' if cut is None else cut}; MH chi-square with "
              "continuity correction; ETS classes, C needs (|D| - 1) / SE > z(1 - alpha) one-sided",
        "mantel": "Mantel (1963) chi-square, SMD with focal weights; ETS AA/BB/CC at |SMD/SD| .17/.25",
        "logistic": "proportional-odds M1 matching, M2 + group, M3 + matching x group; Nagelkerke R^2 change "
                    "M1->M3; non-uniform: M2->M3 with Jodoin-Gierl cut-offs",
        "adjust": "Benjamini-Hochberg across the items analysed" if adjust else "none",
        "sign": "+: the focal group endorses the item (keyed direction) more at equal matching score",
    }
    return DIFResult(items=items, focal=focal, reference=reference, cut=cut, alpha=alpha, adjust=adjust,
                     method=method, anchors=chosen, matching=matching, purification=purification, effects=effects,
                     effect_summary=summary)


@dataclass
class _Analysis:
    questionnaire: Questionnaire
    keyed: dict
    labels: np.ndarray
    index: pd.Index
    focal: object
    reference: object
    cut: float | None
    logistic: bool
    alpha: float
    adjust: bool
    language: str | None
    matching: str

    def run(self, anchors: dict[str, list[str]]) -> tuple[pd.DataFrame, dict]:
        rows, models = [], {}
        in_pair = (self.labels == self.focal) | (self.labels == self.reference)
        for scale, (ids, signs, x, ranges) in self.keyed.items():
            complete = in_pair & ~np.isnan(x).any(axis=1)
            xs, is_focal = x[complete], self.labels[complete] == self.focal
            if is_focal.sum() < 2 or (~is_focal).sum() < 2:
                raise FairnessInputError(f"scale {scale!r}: fewer than 2 complete respondents in a group")
            in_anchor = np.array([i in anchors[scale] for i in ids])
            anchor_sum = xs[:, in_anchor].sum(axis=1)
            for j, item in enumerate(ids):
                y = xs[:, j]
                if self.matching == "total":
                    match = anchor_sum + (0.0 if in_anchor[j] else y)
                else:
                    match = anchor_sum - (y if in_anchor[j] else 0.0)
                _, strata = np.unique(match, return_inverse=True)
                lo, hi = ranges[j]
                threshold = (lo + hi) / 2.0 if self.cut is None else self.cut
                binary = y > threshold if hi - lo > 1 else y > lo
                row = {"item": item, "scale": scale, "keyed": "+" if signs[j] > 0 else "-",
                       "text": _text(self.questionnaire, item, self.language), "anchor": bool(in_anchor[j]),
                       "n_focal": int(is_focal.sum()), "n_reference": int((~is_focal).sum())}
                row.update(_mh(binary, is_focal, strata))
                row.update(_mantel(y, is_focal, strata))
                if self.logistic:
                    fitted, model = _logistic(y, is_focal, match)
                    row.update(fitted)
                    models[(scale, item)] = (model, complete, match)
                rows.append(row)
        return self._classify(pd.DataFrame(rows)), models

    def _classify(self, items: pd.DataFrame) -> pd.DataFrame:
        tests = [("mh_p", "mh_p_adj"), ("mantel_p", "mantel_p_adj")]
        tests += [("lr_p", "lr_p_adj"), ("lr_p_nonuniform", "lr_p_nonuniform_adj")] if self.logistic else []
        for raw, adj in tests:
            items[adj] = benjamini_hochberg(items[raw]) if self.adjust else items[raw]
        a = self.alpha
        items["ets_class"] = [ets_class(d, s, p, a) for d, s, p in zip(items.mh_d, items.mh_d_se, items.mh_p_adj)]
        items["ets_poly_class"] = [ets_polytomous_class(e, p, a) for e, p in zip(items.smd_effect, items.mantel_p_adj)]
        if self.logistic:
            items["zumbo_thomas_class"] = [logistic_class(r, p, ZUMBO_THOMAS, a)
                                           for r, p in zip(items.r2_change, items.lr_p_adj)]
            items["jodoin_gierl_class"] = [logistic_class(r, p, JODOIN_GIERL, a)
                                           for r, p in zip(items.r2_change, items.lr_p_adj)]
            items["nonuniform_class"] = [logistic_class(r, p, JODOIN_GIERL, a)
                                         for r, p in zip(items.r2_change_nonuniform, items.lr_p_nonuniform_adj)]
        uniform = _hits(items, "B", UNIFORM_METHODS)
        nonuniform = _hits(items, "B", ("nonuniform",))
        items["dif_type"] = np.select([uniform & nonuniform, uniform, nonuniform], ["both", "uniform", "non-uniform"],
                                      default="")
        order = ["item", "scale", "keyed", "text", "anchor", "n_focal", "n_reference", "mh_alpha", "mh_d", "mh_d_se",
                 "mh_chi2", "mh_p", "mh_p_adj", "ets_class", "mantel_chi2", "mantel_p", "mantel_p_adj", "smd",
                 "smd_effect", "ets_poly_class"]
        return items[order + [c for c in items.columns if c not in order]]


def _given_anchors(anchors, keyed: dict) -> dict[str, list[str]]:
    if anchors is None:
        return {scale: list(ids) for scale, (ids, *_) in keyed.items()}
    wanted = anchors if isinstance(anchors, Mapping) else {scale: anchors for scale in keyed}
    known = {i for ids, *_ in keyed.values() for i in ids}
    unknown = sorted({str(i) for items in wanted.values() for i in items} - known)
    if unknown:
        raise FairnessInputError(f"anchor item(s) {', '.join(unknown)} are not items of the scales analysed")
    chosen = {scale: [i for i in ids if i in set(wanted.get(scale, []))] for scale, (ids, *_) in keyed.items()}
    few = [scale for scale, items in chosen.items() if len(items) < 1]
    if few:
        raise FairnessInputError(f"scale(s) {', '.join(few)} have no anchor item: give at least one per scale")
    return chosen


def _purify(analysis: _Analysis, level: str, max_iter: int) -> tuple[dict[str, list[str]], dict]:
    """Iterative purification: anchors are the items not flagged in the previous round, until nothing changes."""
    anchors = {scale: list(ids) for scale, (ids, *_) in analysis.keyed.items()}
    rounds: list[list[str]] = []
    notes: list[str] = []
    converged = False
    for _ in range(max_iter):
        items, _models = analysis.run(anchors)
        flagged = sorted(items.loc[_hits(items, level, DEFAULT_FLAG_METHODS), "item"].tolist())
        if rounds and flagged == rounds[-1]:
            converged = True
            break
        rounds.append(flagged)
        following = {}
        for scale, (ids, *_) in analysis.keyed.items():
            kept = [i for i in ids if i not in flagged]
            if len(kept) < 2:
                notes.append(f"scale {scale!r}: purification would leave {len(kept)} anchor(s); its anchors stay "
                             f"{', '.join(anchors[scale])}")
                kept = anchors[scale]
            following[scale] = kept
        if following == anchors:
            converged = True
            break
        anchors = following
    if not converged:
        warnings.warn(f"DIF purification did not settle in {max_iter} rounds (flagged items kept changing: "
                      f"{rounds[-2:]}); the last anchors were used", ConvergenceWarning, stacklevel=3)
    return anchors, {"rounds": rounds, "converged": converged, "notes": notes, "level": level}


def _effects(analysis: _Analysis, items: pd.DataFrame, models: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each focal member's expected raw-score shift on each scale from its flagged items (see the module doc)."""
    flagged = set(items.loc[_hits(items, "B", DEFAULT_FLAG_METHODS), "item"])
    focal_rows = analysis.labels == analysis.focal
    index = np.flatnonzero(focal_rows)
    columns, summary = {}, []
    for scale, (ids, signs, x, ranges) in analysis.keyed.items():
        effect = np.full(len(analysis.labels), np.nan)
        chosen = [i for i in ids if i in flagged]
        complete = None
        total = np.zeros(len(analysis.labels))
        for item in chosen:
            model, complete, match = models[(scale, item)]
            where = np.flatnonzero(complete)
            total[where] += model.expected(match, focal=True) - model.expected(match, focal=False)
        if complete is None:  # nothing flagged: no shift for anyone with a complete scale
            complete = ((analysis.labels == analysis.focal) | (analysis.labels == analysis.reference)) & \
                ~np.isnan(x).any(axis=1)
        divisor = len(ids) if analysis.questionnaire.scale(scale).scoring == "mean" else 1
        effect[complete] = total[complete] / divisor
        columns[scale] = effect[index]
        focal_effect = effect[complete & focal_rows]
        scores = x[complete].mean(axis=1) if divisor > 1 else x[complete].sum(axis=1)
        sd = float(np.std(scores, ddof=1))
        summary.append({"scale": scale, "flagged_items": ", ".join(chosen), "n_focal": int(len(focal_effect)),
                        "mean_effect": float(np.mean(focal_effect)), "min_effect": float(np.min(focal_effect)),
                        "max_effect": float(np.max(focal_effect)), "scale_sd": sd,
                        "mean_effect_sd": float(np.mean(focal_effect)) / sd if sd > 0 else np.nan})
    return pd.DataFrame(columns, index=analysis.index[index]), pd.DataFrame(summary)


def _pick_groups(groups: pd.Series, focal, reference):
    counts = groups.value_counts()
    if reference is None and focal is None:
        if len(counts) != 2:
            raise FairnessInputError(f"groups has {len(counts)} categories ({list(counts.index)[:6]}): name focal= "
                                     "and reference=")
        return counts.index[1], counts.index[0]
    if reference is None or focal is None:
        raise FairnessInputError("give both focal= and reference= (or neither, with exactly two categories)")
    for name, value in (("focal", focal), ("reference", reference)):
        if value not in counts.index:
            raise FairnessInputError(f"{name} category {value!r} does not occur in groups")
    return focal, reference


def _text(questionnaire: Questionnaire, item: str, language: str | None) -> str:
    try:
        return questionnaire.text(item, language)
    except KeyError:
        return ""
