"""Standardized mean differences by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from profiler.fairness import cohens_d, standardized_mean_differences


def test_cohens_d_and_ci_by_hand():
    f = np.array([3.0, 4.0, 5.0, 6.0])        # mean 4.5, var 5/3
    r = np.array([2.0, 3.0, 3.0, 4.0, 5.0])   # mean 3.4, var 1.3
    pooled = np.sqrt((3 * 5 / 3 + 4 * 1.3) / 7)
    d = 1.1 / pooled
    se = np.sqrt(9 / 20 + d**2 / 18)
    out = cohens_d(f, r)
    assert out["d"] == pytest.approx(d, rel=1e-12)
    assert out["se"] == pytest.approx(se, rel=1e-12)
    assert (out["ci_lower"], out["ci_upper"]) == pytest.approx((d - 1.959963984540054 * se, d + 1.959963984540054 * se))
    assert out["hedges_g"] == pytest.approx(d * (1 - 3 / (4 * 9 - 9)))


def test_table_per_score_and_focal_group():
    scores = pd.DataFrame({"A": [1.0, 2, 3, 4, 5, 6, np.nan], "B": [2.0, 2, 3, 3, 4, 9, 1]})
    groups = pd.Series(["x", "x", "x", "y", "y", "y", None])
    table = standardized_mean_differences(scores, groups, reference="x")
    assert list(table.score) == ["A", "B"] and set(table.focal) == {"y"}
    a = table.iloc[0]
    assert a.d == pytest.approx(cohens_d([4, 5, 6], [1, 2, 3])["d"]) and a.n_focal == 3


def test_default_reference_is_the_largest_group(big5):
    scores = big5[[f"N{i}" for i in range(1, 11)]].mean(axis=1).rename("N")
    table = standardized_mean_differences(scores, big5.sex)
    assert table.reference.iloc[0] == big5.sex.value_counts().index[0]
    assert set(table.focal) == set(big5.sex.dropna().unique()) - {table.reference.iloc[0]}


def test_errors():
    with pytest.raises(ValueError, match="at least 2"):
        cohens_d([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="does not occur"):
        standardized_mean_differences(pd.Series([1.0, 2.0]), pd.Series(["a", "b"]), reference="c")
