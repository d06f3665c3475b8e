"""Fairness inputs as fairlearn takes them: lists, numpy arrays, Categoricals and mappings, besides pandas; the same
figures as with pandas, and mismatches named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import profiler
from profiler.fairness import (
    adverse_impact,
    differential_prediction,
    pooled_impact,
    scoring_impact,
    standardized_mean_differences,
)

rng = np.random.default_rng(7)
N = 300
SEX = rng.choice(["female", "male"], N)
RACE = rng.choice(["a", "b", "c"], N)
SELECTED = (rng.random(N) < np.where(SEX == "female", 0.35, 0.5)).astype(int)
SCORE = rng.normal(size=N) + (SEX == "male") * 0.3
SITE = rng.choice(["north", "south"], N)


def test_adverse_impact_with_lists_arrays_and_mappings():
    pandas = adverse_impact(pd.Series(SELECTED, name="selected"), pd.DataFrame({"sex": SEX, "race": RACE}))
    for outcomes, groups in [(SELECTED.tolist(), {"sex": SEX.tolist(), "race": RACE.tolist()}),
                             (SELECTED, {"sex": pd.Categorical(SEX), "race": RACE}),
                             (SELECTED.astype(bool), pd.DataFrame({"sex": SEX, "race": RACE}))]:
        result = adverse_impact(outcomes, groups)
        pd.testing.assert_frame_equal(result.table, pandas.table)
    # fairlearn's shape: one list of labels, the DCWP example's figures unchanged by the input type.
    selected = [1] * 667 + [0] * 723 + [1] * 555 + [0] * 626
    sex = ["male"] * 1390 + ["female"] * 1181
    table = adverse_impact(selected, sex).table.set_index("category")
    assert table.loc["female", "impact_ratio"] == pytest.approx((555 / 1181) / (667 / 1390))
    two_d = adverse_impact(SELECTED, np.column_stack([SEX, RACE]))
    assert set(two_d.table.attribute) >= {"group_0", "group_1", "group_0 x group_1"}


def test_scores_and_differences_with_arrays():
    pandas = scoring_impact(pd.Series(SCORE, name="score"), pd.Series(SEX, name="group"))
    pd.testing.assert_frame_equal(scoring_impact(SCORE, SEX).table, pandas.table)
    d_pandas = standardized_mean_differences(pd.Series(SCORE, name="score"), pd.Series(SEX), reference="male")
    pd.testing.assert_frame_equal(standardized_mean_differences(SCORE.tolist(), SEX, reference="male"), d_pandas)


def test_pooled_and_prediction_with_arrays():
    pooled = pooled_impact(SELECTED, SEX, SITE, focal="female", reference="male")
    same = pooled_impact(pd.Series(SELECTED), pd.Series(SEX), pd.Series(SITE), focal="female", reference="male")
    assert pooled.to_dict() == same.to_dict()
    criterion = 0.5 * SCORE + rng.normal(size=N)
    arrays = differential_prediction(criterion, SCORE, SEX, focal="female", reference="male")
    series = differential_prediction(pd.Series(criterion), pd.Series(SCORE), pd.Series(SEX), focal="female",
                                     reference="male")
    pd.testing.assert_frame_equal(arrays.coefficients, series.coefficients)


def test_mismatches_are_named():
    with pytest.raises(profiler.FairnessInputError, match="outcomes has 300 rows but groups has 2"):
        adverse_impact(SELECTED, ["a", "b"])
    with pytest.raises(profiler.FairnessInputError, match="strata has 3 rows"):
        pooled_impact(SELECTED, SEX, ["x", "y", "z"], focal="female", reference="male")
    with pytest.raises(profiler.FairnessInputError, match="different indexes"):
        adverse_impact(pd.Series(SELECTED, index=range(1, N + 1)), pd.Series(SEX))
