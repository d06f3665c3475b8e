"""Adverse impact against the DCWP worked example, scipy's Fisher test and hand-computed z and CI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import profiler
from scipy import stats

from profiler.fairness import adverse_impact, scoring_impact
from profiler.fairness.impact import impact_ratio_ci, two_proportion_z


def people(counts: dict) -> tuple[pd.Series, pd.DataFrame]:
    """counts: {(sex, race): (selected, n)} -> outcomes and groups, one row per person."""
    sel, sex, race = [], [], []
    for (s, r), (x, n) in counts.items():
        sel += [1] * x + [0] * (n - x)
        sex += [s] * n
        race += [r] * n
    return pd.Series(sel, name="hired"), pd.DataFrame({"sex": sex, "race": race})


def row(result, attribute, category):
    t = result.table
    return t[(t.attribute == attribute) & (t.category == category)].iloc[0]


def test_dcwp_worked_example():
    outcomes, groups = people({("male", "-"): (667, 1390), ("female", "-"): (555, 1181)})
    result = adverse_impact(outcomes, groups["sex"])
    female, male = row(result, "sex", "female"), row(result, "sex", "male")
    assert female.rate == pytest.approx(555 / 1181) and male.rate == pytest.approx(667 / 1390)
    assert round(female.impact_ratio, 3) == 0.979
    assert male.reference and male.impact_ratio == 1.0
    assert not female.four_fifths_flag and not female.z_flag and not female.fisher_flag
    assert female.notes == ""


def test_z_fisher_ci_and_shortfall_by_hand():
    outcomes, groups = people({("f", "-"): (12, 40), ("m", "-"): (30, 60)})
    f = row(adverse_impact(outcomes, groups["sex"]), "sex", "f")
    p1, p2, p = 12 / 40, 30 / 60, 42 / 100
    z = (p1 - p2) / np.sqrt(p * (1 - p) * (1 / 40 + 1 / 60))
    assert f.z == pytest.approx(z, rel=1e-12) == two_proportion_z(12, 40, 30, 60)
    fisher = stats.fisher_exact([[12, 28], [30, 30]], alternative="two-sided").pvalue
    assert f.fisher_p == pytest.approx(fisher, rel=1e-12)
    se = np.sqrt((1 - p1) / (40 * p1) + (1 - p2) / (60 * p2))
    lo, hi = np.exp(np.log(0.6) - 1.959963984540054 * se), np.exp(np.log(0.6) + 1.959963984540054 * se)
    assert (f.ratio_ci_lower, f.ratio_ci_upper) == pytest.approx((lo, hi), rel=1e-12)
    assert impact_ratio_ci(12, 40, 30, 60) == pytest.approx((lo, hi), rel=1e-12)
    assert f.impact_ratio == pytest.approx(0.6) and f.four_fifths_flag
    assert f.shortfall == pytest.approx(40 * 0.42 - 12)


def test_measures_disagree_at_small_n_and_are_all_shown():
    # 3 of 10 against 5 of 10: ratio 0.6 flagged, but neither test is significant; one more hire flips it
    outcomes, groups = people({("f", "-"): (3, 10), ("m", "-"): (5, 10)})
    f = row(adverse_impact(outcomes, groups["sex"]), "sex", "f")
    assert f.four_fifths_flag and not f.z_flag and not f.fisher_flag
    assert f.flip_four_fifths  # 4 of 10 -> 0.8
    assert "neither z nor Fisher" in f.notes and "moving one person" in f.notes


def test_large_n_significant_without_four_fifths_flag():
    outcomes, groups = people({("f", "-"): (4300, 10000), ("m", "-"): (5000, 10000)})
    result = adverse_impact(outcomes, groups["sex"])
    f = row(result, "sex", "f")
    assert f.impact_ratio == pytest.approx(0.86) and not f.four_fifths_flag and f.z_flag and f.fisher_flag
    assert "not evidence of fairness" in f.notes
    assert len(result.disagreements()) == 1


def test_small_categories_unknowns_and_intersections():
    counts = {("f", "a"): (40, 100), ("f", "b"): (30, 100), ("m", "a"): (60, 100), ("m", "b"): (45, 100),
              ("f", "c"): (1, 3)}
    outcomes, groups = people(counts)
    groups.loc[0:4, "race"] = None  # five unknown race (all f/a, selected)
    result = adverse_impact(outcomes, groups)
    assert set(result.table.attribute) == {"sex", "race", "sex x race"}
    unknown = result.unknown.set_index("attribute")["n_unknown"]
    assert unknown.to_dict() == {"sex": 0, "race": 5, "sex x race": 5}
    c = row(result, "race", "c")
    assert c.n == 3 and c.rate == pytest.approx(1 / 3) and not c.in_ratio and np.isnan(c.impact_ratio)
    fa = row(result, "sex x race", "f & a")
    assert fa.n == 95 and fa.selected == 35
    ma = row(result, "sex x race", "m & a")
    assert ma.reference and fa.impact_ratio == pytest.approx((35 / 95) / 0.6)
    # fairlearn's demographic_parity_ratio = the smallest ratio among categories in the ratio
    rates = result.table.query("attribute == 'sex x race' and in_ratio").rate
    assert result.minimum_ratio()[("hired", "sex x race")] == pytest.approx(rates.min() / rates.max())
    json.dumps(result.to_dict())


def test_scoring_rate_ties_at_the_median_are_not_above():
    scores = pd.Series([1, 2, 3, 3, 3, 4, 5, 6, np.nan], name="Extraversion")
    groups = pd.Series(["a", "a", "a", "b", "b", "b", "b", "a", "a"], name="g")
    result = scoring_impact(scores, groups)
    summary = result.outcomes.iloc[0]
    assert summary["median"] == 3 and summary["at_median"] == 3 and summary["n_missing"] == 1
    a, b = row(result, "g", "a"), row(result, "g", "b")
    assert (a.n, a.selected, b.n, b.selected) == (4, 1, 4, 2)  # a: 1,2,3,6 ; b: 3,3,4,5
    assert b.reference and a.impact_ratio == pytest.approx(0.5)


def test_several_scores_at_once():
    rng = np.random.default_rng(3)
    scores = pd.DataFrame(rng.normal(size=(400, 2)), columns=["A", "B"])
    groups = pd.Series(rng.choice(["x", "y"], size=400), name="g")
    result = scoring_impact(scores, groups)
    assert list(result.outcomes.outcome) == ["A", "B"] and len(result.table) == 4


def test_input_errors():
    with pytest.raises(ValueError, match="0/1"):
        adverse_impact(pd.Series([0, 2]), pd.Series(["a", "b"]))
    with pytest.raises(ValueError, match="same people"):
        adverse_impact(pd.Series([0, 1, 1]), pd.Series(["a", "b"]))
    with pytest.raises(ValueError, match="different indexes"):
        adverse_impact(pd.Series([0, 1], index=[5, 6]), pd.Series(["a", "b"]))
    with pytest.raises(profiler.FairnessInputError, match="an array-like, not int"):
        adverse_impact(pd.Series([0, 1]), 3)


def test_big5_scoring_impact_by_sex(big5):
    scores = pd.DataFrame({"E": big5[[f"E{i}" for i in range(1, 11)]].mean(axis=1)})
    result = scoring_impact(scores, big5[["sex", "native"]])
    other = row(result, "sex", "other")
    assert other.share < 0.02 and not other.in_ratio and other.n > 0
    assert result.unknown.set_index("attribute").loc["sex", "n_unknown"] == big5.sex.isna().sum()
