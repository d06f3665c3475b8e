"""Adverse impact of outcomes and of scores: selection (or scoring) rates and impact ratios per category.

US Uniform Guidelines (29 CFR 1607.4(D)) and NYC Local Law 144 (DCWP rules 6 RCNY 5-300..5-304):

- selection rate SR_g = selected_g / n_g; impact ratio IR_g = SR_g / max_h SR_h, against the
  highest-rate category (not a chosen "privileged" group), so IR <= 1;
- for scores, the *scoring rate*: the share of a category scoring strictly above the median of the whole
  sample (a score equal to the median does not count as above it);
- sex, race/ethnicity and their intersections; a category under ``min_share`` (2%) of the people with a
  known category may be left out of the ratios, but its n and rate are still reported; people of unknown
  category are counted.

Beside every ratio stand the other measures, because they disagree at small n and at large n:

- four-fifths flag: IR < 0.8 (IR >= 0.8 is *not* evidence of fairness, only the absence of this flag);
- pooled two-proportion z against the reference category, (p_g - p_r) / sqrt(p (1 - p) (1/n_g + 1/n_r))
  with p the pooled rate; |z| >= 1.96 ("two standard deviations");
- Fisher's exact test, two-sided (``scipy.stats.fisher_exact``);
- 95% CI of IR by the log method: exp(ln IR +/- 1.96 sqrt((1 - p_g)/(n_g p_g) + (1 - p_r)/(n_r p_r)));
- shortfall n_g SR_all - selected_g, SR_all the rate of everyone (unknown category included): how many
  more people of the category would have been selected at the overall rate;
- flip check: move one person of the category across the line (one more selected when a measure flags,
  one fewer when it does not): does the conclusion of that measure change?

No measure is turned into a single pass/fail: :attr:`ImpactResult.table` lists them all, with a
``notes`` column saying where they disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from profiler.fairness._input import FairnessInputError, binary, categories, paired, with_intersections

__all__ = ["ImpactResult", "adverse_impact", "scoring_impact", "two_proportion_z", "impact_ratio_ci"]

FOUR_FIFTHS = 0.8
Z_CRITICAL = 1.96
ALPHA = 0.05

TABLE_COLUMNS = [
    "outcome", "attribute", "category", "n", "share", "selected", "rate", "in_ratio", "reference",
    "impact_ratio", "ratio_ci_lower", "ratio_ci_upper", "four_fifths_flag", "z", "z_flag", "fisher_p",
    "fisher_flag", "shortfall", "flip_four_fifths", "flip_z", "flip_fisher", "notes",
]


def two_proportion_z(x1: float, n1: float, x2: float, n2: float) -> float:
    """Pooled two-proportion z of p1 = x1/n1 against p2 = x2/n2 (NaN when the pooled rate is 0 or 1)."""
    p1, p2 = x1 / n1, x2 / n2
    p = (x1 + x2) / (n1 + n2)
    var = p * (1.0 - p) * (1.0 / n1 + 1.0 / n2)
    return float((p1 - p2) / np.sqrt(var)) if var > 0 else float("nan")


def impact_ratio_ci(x1: float, n1: float, x2: float, n2: float, level: float = 0.95) -> tuple[float, float]:
    """CI of the rate ratio (x1/n1) / (x2/n2) by the log method (Katz); NaN when a rate is 0."""
    p1, p2 = x1 / n1, x2 / n2
    if p1 <= 0 or p2 <= 0:
        return float("nan"), float("nan")
    z = stats.norm.ppf(0.5 + level / 2.0)
    se = np.sqrt((1.0 - p1) / (n1 * p1) + (1.0 - p2) / (n2 * p2))
    log_ratio = np.log(p1 / p2)
    return float(np.exp(log_ratio - z * se)), float(np.exp(log_ratio + z * se))


def _fisher_p(x1: int, n1: int, x2: int, n2: int) -> float:
    return float(stats.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]], alternative="two-sided").pvalue)


@dataclass(frozen=True)
class ImpactResult:
    """Rates, impact ratios and every measure beside them.

    Attributes
    ----------
    table : DataFrame
        One row per (outcome, attribute, category); columns in :data:`TABLE_COLUMNS` order: ``n``,
        ``share`` (of the people with a known category), ``selected``, ``rate``, ``in_ratio`` (False
        for categories under ``min_share``), ``reference`` (the highest-rate category), ``impact_ratio``
        with its CI, ``four_fifths_flag``, ``z``/``z_flag``, ``fisher_p``/``fisher_flag``, ``shortfall``,
        the flip checks and ``notes`` (disagreements between the measures, in words).
    unknown : DataFrame
        ``outcome, attribute, n_unknown``: people whose category is unknown.
    outcomes : DataFrame
        Per outcome: ``n``, ``n_missing`` (scores only), ``selected``, ``rate`` (everyone), and for
        scores the ``median`` threshold and ``at_median`` (ties, counted as not above).
    kind : str
        ``"selection"`` or ``"scoring"``.
    min_share : float
    """

    table: pd.DataFrame
    unknown: pd.DataFrame
    outcomes: pd.DataFrame
    kind: str
    min_share: float
    method: dict = field(default_factory=dict)

    def disagreements(self) -> pd.DataFrame:
        """The rows where the measures disagree or the conclusion is fragile (a non-empty ``notes``)."""
        return self.table[self.table["notes"] != ""].reset_index(drop=True)

    def minimum_ratio(self) -> pd.Series:
        """Lowest impact ratio per (outcome, attribute) among the categories in the ratios (``min_share``).

        fairlearn's ``demographic_parity_ratio`` takes every group, however small: it equals this only when no
        category is under ``min_share`` (pass ``min_share=0`` for its figure; see docs/fairness.md).
        """
        if self.table.empty or "in_ratio" not in self.table.columns:
            return pd.Series(dtype=float)
        rows = self.table[self.table["in_ratio"]]
        return rows.groupby(["outcome", "attribute"], sort=False)["impact_ratio"].min()

    def to_dict(self) -> dict:
        """JSON-ready content (categories as text, NaN as None)."""
        return {
            "kind": self.kind,
            "min_share": self.min_share,
            "method": dict(self.method),
            "outcomes": _records(self.outcomes),
            "unknown": _records(self.unknown),
            "table": _records(self.table),
        }


def _records(frame: pd.DataFrame) -> list[dict]:
    out = []
    for row in frame.to_dict(orient="records"):
        clean = {}
        for key, value in row.items():
            if isinstance(value, (np.bool_, bool)):
                clean[key] = bool(value)
            elif isinstance(value, (np.integer,)):
                clean[key] = int(value)
            elif isinstance(value, (float, np.floating)):
                clean[key] = None if np.isnan(value) else float(value)
            elif key == "category":
                clean[key] = str(value)
            else:
                clean[key] = value
        out.append(clean)
    return out


def adverse_impact(
    outcomes: pd.Series | pd.DataFrame | ArrayLike,
    groups: pd.Series | pd.DataFrame | ArrayLike,
    *,
    min_share: float = 0.02,
    intersections: bool = True,
) -> ImpactResult:
    """Selection rates and impact ratios of a binary outcome per category (UGESP; NYC LL 144).

    Parameters
    ----------
    outcomes : Series, DataFrame or array-like
        1/True = selected (or advanced), 0/False = not, one row per person; a DataFrame (or 2-D array) holds
        several outcomes (one column each).
    groups : Series, DataFrame, array-like or mapping
        The category of each person, one column per attribute (e.g. ``sex``, ``race``), same index as
        ``outcomes``; or, as fairlearn's ``sensitive_features``, a list or array (2-D for several attributes)
        or a mapping attribute -> labels, in the order of the rows. Missing labels (NaN/None) are unknown:
        counted, not in any rate.
    min_share : float, default 0.02
        Categories with fewer than this share of the people with a known category are left out of the
        impact ratios (and cannot be the reference), but still reported with n and rate.
    intersections : bool, default True
        Also report every combination of two or more attributes ("sex x race").

    Returns
    -------
    ImpactResult

    Examples
    --------
    The DCWP worked example: men 667 of 1390 selected, women 555 of 1181 -> women's impact ratio 0.979.
    """
    outs, frame = paired(outcomes, groups, "outcomes", "selected")
    decided = {str(c): binary(outs[c], f"outcome {c!r}") for c in outs.columns}
    rows, unknown, summary = [], [], []
    labels = with_intersections(frame, intersections)
    for name, selected in decided.items():
        known = np.ones(len(selected), bool)
        summary.append({"outcome": name, "n": len(selected), "n_missing": 0, "selected": int(selected.sum()),
                        "rate": float(selected.mean()) if len(selected) else np.nan})
        _tabulate(name, selected, known, labels, min_share, rows, unknown)
    return _result(rows, unknown, summary, "selection", min_share)


def scoring_impact(
    scores: pd.Series | pd.DataFrame | ArrayLike,
    groups: pd.Series | pd.DataFrame | ArrayLike,
    *,
    min_share: float = 0.02,
    intersections: bool = True,
) -> ImpactResult:
    """Scoring rates and impact ratios of scores (NYC LL 144 for tools that only score).

    The scoring rate of a category is the share of its members scoring strictly above the median of the
    whole sample (everyone with a score, whatever their category); ties at the median count as *not*
    above, so with many ties the overall rate is below one half (``outcomes["at_median"]`` says how many).
    People without a score are left out and counted in ``outcomes["n_missing"]``.

    Parameters
    ----------
    scores : Series, DataFrame or array-like
        One column per score (trait scales, a job model's score), one row per person.
    groups, min_share, intersections
        As in :func:`adverse_impact`.

    Returns
    -------
    ImpactResult
        ``kind = "scoring"``; ``selected`` counts the people above the median.
    """
    table, frame = paired(scores, groups, "scores", "score")
    labels = with_intersections(frame, intersections)
    rows, unknown, summary = [], [], []
    for column in table.columns:
        values = pd.to_numeric(table[column], errors="raise").to_numpy(dtype=float)
        known = ~np.isnan(values)
        if not known.any():
            raise FairnessInputError(f"score {column!r} has no values")
        median = float(np.median(values[known]))
        above = known & (values > median)
        summary.append({"outcome": str(column), "n": int(known.sum()), "n_missing": int((~known).sum()),
                        "selected": int(above.sum()), "rate": float(above.sum() / known.sum()),
                        "median": median, "at_median": int((values[known] == median).sum())})
        _tabulate(str(column), above, known, labels, min_share, rows, unknown)
    return _result(rows, unknown, summary, "scoring", min_share)


def _result(rows, unknown, summary, kind, min_share) -> ImpactResult:
    method = {
        "reference": "highest-rate category among those with at least min_share of the known data",
        "z": "pooled two-proportion z against the reference category; flag |z| >= 1.96",
        "fisher": "Fisher's exact test against the reference category, two-sided; flag p < 0.05",
        "ci": "95% CI of the impact ratio by the log (Katz) method",
        "shortfall": "n_g * overall rate (everyone, unknown category included) - selected_g",
        "flip": "one person of the category moved across the line (one more selected when the measure "
                "flags, one fewer when it does not); True when that changes the measure's conclusion",
    }
    if kind == "scoring":
        method["scoring_rate"] = "share strictly above the whole sample's median; ties count as not above"
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    return ImpactResult(table=table, unknown=pd.DataFrame(unknown, columns=["outcome", "attribute", "n_unknown"]),
                        outcomes=pd.DataFrame(summary), kind=kind, min_share=min_share, method=method)


def _tabulate(name, selected, known, labels, min_share, rows, unknown) -> None:
    overall = selected[known].mean()
    for attribute in labels.columns:
        lab = labels[attribute]
        is_known = known & lab.notna().to_numpy()
        unknown.append({"outcome": name, "attribute": attribute, "n_unknown": int((known & ~is_known).sum())})
        cats = categories(lab[is_known])
        values = lab.to_numpy()
        n = np.array([np.sum(is_known & (values == c)) for c in cats], dtype=np.int64)
        x = np.array([np.sum(selected & is_known & (values == c)) for c in cats], dtype=np.int64)
        share = n / max(n.sum(), 1)
        in_ratio = share >= min_share
        for k, c in enumerate(cats):
            row = _measures(k, n, x, in_ratio)
            row.update({"outcome": name, "attribute": attribute, "category": c, "n": int(n[k]),
                        "share": float(share[k]), "selected": int(x[k]), "rate": x[k] / n[k],
                        "in_ratio": bool(in_ratio[k]), "shortfall": float(n[k] * overall - x[k])})
            rows.append(row)


def _conclusions(k: int, n: np.ndarray, x: np.ndarray, in_ratio: np.ndarray) -> dict:
    """Ratio, reference and the three flags for category k (reference = highest rate in the ratio)."""
    rates = np.where(in_ratio, x / n, -np.inf)
    r = int(np.argmax(rates))
    out = {"ref": r, "ratio": np.nan, "ci": (np.nan, np.nan), "z": np.nan, "fisher": np.nan,
           "four_fifths": False, "z_flag": False, "fisher_flag": False}
    if not in_ratio[k] or not np.isfinite(rates[r]) or rates[r] <= 0:
        return out
    out["ratio"] = (x[k] / n[k]) / rates[r]
    if k == r:
        return out
    out["ci"] = impact_ratio_ci(x[k], n[k], x[r], n[r])
    out["z"] = two_proportion_z(x[k], n[k], x[r], n[r])
    out["fisher"] = _fisher_p(int(x[k]), int(n[k]), int(x[r]), int(n[r]))
    out["four_fifths"] = bool(out["ratio"] < FOUR_FIFTHS)
    out["z_flag"] = bool(abs(out["z"]) >= Z_CRITICAL) if np.isfinite(out["z"]) else False
    out["fisher_flag"] = bool(out["fisher"] < ALPHA)
    return out


def _measures(k: int, n: np.ndarray, x: np.ndarray, in_ratio: np.ndarray) -> dict:
    c = _conclusions(k, n, x, in_ratio)
    row = {"reference": bool(in_ratio[k] and c["ref"] == k), "impact_ratio": c["ratio"],
           "ratio_ci_lower": c["ci"][0], "ratio_ci_upper": c["ci"][1], "four_fifths_flag": c["four_fifths"],
           "z": c["z"], "z_flag": c["z_flag"], "fisher_p": c["fisher"], "fisher_flag": c["fisher_flag"],
           "flip_four_fifths": False, "flip_z": False, "flip_fisher": False}
    if not in_ratio[k] or row["reference"] or np.isnan(c["ratio"]):
        row["notes"] = ""
        return row
    for flag, flip in (("four_fifths", "flip_four_fifths"), ("z_flag", "flip_z"), ("fisher_flag", "flip_fisher")):
        step = 1 if c[flag] else -1  # toward the other conclusion
        moved = x.copy()
        moved[k] += step
        if 0 <= moved[k] <= n[k]:
            row[flip] = _conclusions(k, n, moved, in_ratio)[flag] != c[flag]
    row["notes"] = _notes(row)
    return row


def _notes(row: dict) -> str:
    notes = []
    significant = [name for name, key in (("z", "z_flag"), ("Fisher", "fisher_flag")) if row[key]]
    if row["four_fifths_flag"] and not significant:
        notes.append("ratio below 0.8 but neither z nor Fisher is significant (small numbers?)")
    if not row["four_fifths_flag"] and significant:
        notes.append(f"ratio >= 0.8 but the difference is significant ({' and '.join(significant)}): "
                     "not evidence of fairness")
    if row["z_flag"] != row["fisher_flag"]:
        notes.append("z and Fisher's exact test disagree")
    lo, hi = row["ratio_ci_lower"], row["ratio_ci_upper"]
    if np.isfinite(lo) and lo < FOUR_FIFTHS <= hi:
        notes.append("the 95% CI of the ratio includes 0.8")
    flips = [name for name, key in (("four-fifths", "flip_four_fifths"), ("z", "flip_z"), ("Fisher", "flip_fisher"))
             if row[key]]
    if flips:
        notes.append(f"moving one person changes the {', '.join(flips)} conclusion")
    return "; ".join(notes)
