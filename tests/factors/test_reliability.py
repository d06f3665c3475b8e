"""Cronbach's alpha, item statistics and SEM: hand-computed cases and agreement with R psych::alpha."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from profiler.factors.reliability import (
    Alpha,
    ScaleAlphas,
    cronbach_alpha,
    item_statistics,
    standard_error_of_measurement,
)

SCALES = ["agreeableness", "conscientiousness", "extraversion", "neuroticism", "openness"]
TOL = 1e-6


@pytest.fixture
def three_items() -> pd.DataFrame:
    # three permutations of 1..5: every item variance is 2.5, covariances 2, 2 and 0.75
    return pd.DataFrame({"A": [1, 2, 3, 4, 5], "B": [2, 1, 4, 3, 5], "C": [1, 3, 2, 5, 4]})


# ----------------------------------------------------------------------------------------------
# Hand-computed
# ----------------------------------------------------------------------------------------------
def test_alpha_of_three_items_by_hand(three_items: pd.DataFrame) -> None:
    # sum scores 4, 6, 9, 12, 14: deviations -5 -3 0 3 5 -> variance 68 / 4 = 17
    # alpha = 3/2 * (1 - 3 * 2.5 / 17) = 57/68
    a = cronbach_alpha(three_items, missing="raise")
    assert isinstance(a, Alpha)
    assert a.raw_alpha == pytest.approx(57 / 68, abs=1e-12)
    assert a.std_alpha == pytest.approx(57 / 68, abs=1e-12)  # equal variances: raw == std
    assert a.average_r == pytest.approx((0.8 + 0.8 + 0.3) / 3, abs=1e-12)
    assert a.n_obs == 5 and a.n_items == 3
    # scale score = item mean: 4/3, 2, 3, 4, 14/3 -> mean 3, variance 17 / 9
    assert a.scale_mean == pytest.approx(3.0, abs=1e-12)
    assert a.scale_sd == pytest.approx(math.sqrt(17 / 9), abs=1e-12)
    assert a.sem == pytest.approx(math.sqrt(17 / 9) * math.sqrt(1 - 57 / 68), abs=1e-12)


def test_item_statistics_by_hand(three_items: pd.DataFrame) -> None:
    items = item_statistics(three_items)
    assert list(items.index) == ["A", "B", "C"]
    # A against B + C (3, 4, 6, 8, 9): cov 4, var(B + C) = 6.5
    assert items.loc["A", "r_drop"] == pytest.approx(4 / math.sqrt(2.5 * 6.5), abs=1e-12)
    # without A: 2 * (1 - (2.5 + 2.5) / 6.5) = 6/13
    assert items.loc["A", "alpha_if_deleted"] == pytest.approx(6 / 13, abs=1e-12)
    # without C: var(A + B) = 2.5 + 2.5 + 2 * 2 = 9 -> 2 * (1 - 5/9) = 8/9
    assert items.loc["C", "alpha_if_deleted"] == pytest.approx(8 / 9, abs=1e-12)
    assert items.loc["C", "std_alpha_if_deleted"] == pytest.approx(8 / 9, abs=1e-12)
    assert items["mean"].tolist() == pytest.approx([3, 3, 3])
    assert items["sd"].tolist() == pytest.approx([math.sqrt(2.5)] * 3)
    assert not items["reversed"].any()


def test_alpha_uses_the_textbook_variance_formula() -> None:
    rng = np.random.default_rng(7)
    x = rng.integers(1, 6, size=(40, 4)).astype(float)
    x[:, 1] += x[:, 0]  # some shared variance
    k = x.shape[1]
    expected = k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))
    z = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    expected_std = k / (k - 1) * (1 - k / z.sum(axis=1).var(ddof=1))
    a = cronbach_alpha(x)
    assert a.raw_alpha == pytest.approx(expected, abs=1e-12)
    assert a.std_alpha == pytest.approx(expected_std, abs=1e-12)
    assert list(a.items.index) == ["V1", "V2", "V3", "V4"]


def test_reverse_keying_is_min_plus_max_minus_x(three_items: pd.DataFrame) -> None:
    flipped = three_items.assign(B=6 - three_items["B"])
    a = cronbach_alpha(flipped, ["A", "-B", "C"], item_range=(1, 5))
    b = cronbach_alpha(three_items, ["A", "B", "C"])
    assert a.raw_alpha == pytest.approx(b.raw_alpha, abs=1e-12)
    assert a.items.loc["B", "mean"] == pytest.approx(3.0)
    assert a.items["reversed"].tolist() == [False, True, False]
    # the declared range matters: on 0..6 the reversed item is 6 - x, on 1..5 it is 6 - x as well,
    # but on 1..7 it is 8 - x, which shifts the mean and leaves the variances alone
    c = cronbach_alpha(flipped, ["A", "-B", "C"], item_range=(1, 7))
    assert c.raw_alpha == pytest.approx(b.raw_alpha, abs=1e-12)
    assert c.items.loc["B", "mean"] == pytest.approx(5.0)
    assert c.scale_mean == pytest.approx(3 + 2 / 3)


def test_two_item_scale_has_no_alpha_if_deleted(three_items: pd.DataFrame) -> None:
    a = cronbach_alpha(three_items, ["A", "B"])
    assert a.raw_alpha == pytest.approx(2 * (1 - 5 / 9), abs=1e-12)
    assert a.items["alpha_if_deleted"].isna().all()


def test_standard_error_of_measurement() -> None:
    assert standard_error_of_measurement(10.0, 0.91) == pytest.approx(3.0)
    assert standard_error_of_measurement(15, 0.0) == pytest.approx(15.0)
    sem = standard_error_of_measurement(np.array([10.0, 2.0]), np.array([0.75, 0.96]))
    np.testing.assert_allclose(sem, [5.0, 0.4])


# ----------------------------------------------------------------------------------------------
# Missing data policy
# ----------------------------------------------------------------------------------------------
@pytest.fixture
def with_gaps(three_items: pd.DataFrame) -> pd.DataFrame:
    extra = pd.DataFrame({"A": [2.0, np.nan, 5.0], "B": [np.nan, 3.0, 4.0], "C": [1.0, 2.0, np.nan]})
    return pd.concat([three_items.astype(float), extra], ignore_index=True)


def test_listwise_uses_complete_rows_only(with_gaps: pd.DataFrame, three_items: pd.DataFrame) -> None:
    a = cronbach_alpha(with_gaps, missing="listwise")
    assert a.n_obs == 5
    assert a.raw_alpha == pytest.approx(57 / 68, abs=1e-12)


def test_pairwise_uses_each_pair_of_answers(with_gaps: pd.DataFrame) -> None:
    x = with_gaps.to_numpy()
    cov = np.empty((3, 3))
    for i in range(3):
        for j in range(3):
            ok = ~np.isnan(x[:, i]) & ~np.isnan(x[:, j])
            cov[i, j] = np.cov(x[ok, i], x[ok, j])[0, 1]
    expected = 1.5 * (1 - np.trace(cov) / cov.sum())
    a = cronbach_alpha(with_gaps, missing="pairwise")
    assert a.raw_alpha == pytest.approx(expected, abs=1e-12)
    assert a.n_obs == 8
    assert a.n_obs_interval == 6  # A and B, A and C, B and C are each answered together 6 times
    assert a.items["n"].tolist() == [7, 7, 7]
    # scale score = mean of the answered items (psych's rowMeans(na.rm = TRUE))
    assert a.scale_mean == pytest.approx(np.nanmean(np.nanmean(x, axis=1)), abs=1e-12)


def test_missing_raise(with_gaps: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="3 row\\(s\\) have missing"):
        cronbach_alpha(with_gaps, missing="raise")


# ----------------------------------------------------------------------------------------------
# Confidence interval
# ----------------------------------------------------------------------------------------------
def test_feldt_interval_covers_the_population_alpha() -> None:
    # parallel items x = t + e with var(t) = 1, var(e) = 1.5: population alpha = k/(k-1) (1 - 2.5k / (k^2 + 1.5k)).
    # Small n and many items make the F distribution skewed, so each tail is checked on its own: an
    # interval with the degrees of freedom swapped misses 0.3% below and 6% above, and fails here.
    k, n, reps = 8, 15, 600
    true_alpha = k / (k - 1) * (1 - k * 2.5 / (k * k + k * 1.5))
    rng = np.random.default_rng(20240601)
    below = above = 0
    for _ in range(reps):
        x = rng.normal(size=(n, 1)) + rng.normal(scale=math.sqrt(1.5), size=(n, k))
        a = cronbach_alpha(x, missing="raise")
        below += true_alpha < a.ci_lower
        above += true_alpha > a.ci_upper
        assert a.ci_lower < a.raw_alpha < a.ci_upper
    # each tail should hold 2.5% (15 of 600, binomial SD 3.8)
    assert 5 <= below <= 27, below
    assert 5 <= above <= 27, above


def test_asymptotic_standard_error_matches_sampling_sd() -> None:
    # psych's ase is a large-sample approximation: at n = 300 it is within a few percent
    rng = np.random.default_rng(11)
    estimates, ases = [], []
    for _ in range(300):
        x = rng.normal(size=(300, 1)) + rng.normal(scale=math.sqrt(1.5), size=(300, 5))
        a = cronbach_alpha(x, missing="raise")
        estimates.append(a.raw_alpha)
        ases.append(a.ase)
    assert np.mean(ases) == pytest.approx(np.std(estimates, ddof=1), rel=0.15)


def test_interval_narrows_with_n_and_level() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 1)) + rng.normal(size=(400, 4))
    wide = cronbach_alpha(x[:50], confidence=0.99)
    narrow = cronbach_alpha(x[:50], confidence=0.80)
    big = cronbach_alpha(x, confidence=0.99)
    assert wide.ci_upper - wide.ci_lower > narrow.ci_upper - narrow.ci_lower
    assert wide.ci_upper - wide.ci_lower > big.ci_upper - big.ci_lower


# ----------------------------------------------------------------------------------------------
# Agreement with R psych 2.2.9 (bfi, 2,436 complete rows)
# ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bfi_alphas(request: pytest.FixtureRequest) -> ScaleAlphas:
    reference = request.getfixturevalue("reference")
    bfi25 = request.getfixturevalue("bfi25")
    keys = {s: reference["reliability"][s]["items"] for s in SCALES}
    result = cronbach_alpha(bfi25, keys, item_range=(1, 6), missing="listwise")
    assert isinstance(result, ScaleAlphas)
    return result


@pytest.mark.parametrize("scale", SCALES)
def test_alpha_agrees_with_psych(scale: str, reference: dict, bfi_alphas: ScaleAlphas) -> None:
    ref = reference["reliability"][scale]
    a = bfi_alphas[scale]
    assert a.n_obs == reference["bfi_n"] == 2436
    assert a.raw_alpha == pytest.approx(ref["raw_alpha"], abs=TOL)
    assert a.std_alpha == pytest.approx(ref["std_alpha"], abs=TOL)
    assert a.average_r == pytest.approx(ref["average_r"], abs=TOL)
    assert a.scale_mean == pytest.approx(ref["scale_mean"], abs=TOL)
    assert a.scale_sd == pytest.approx(ref["scale_sd"], abs=TOL)
    np.testing.assert_allclose(a.items["alpha_if_deleted"], ref["alpha_if_deleted"], rtol=0, atol=TOL)
    np.testing.assert_allclose(a.items["r_drop"], ref["corrected_item_total"], rtol=0, atol=TOL)
    assert list(a.items.index) == [k.lstrip("-") for k in ref["items"]]
    assert a.items["reversed"].tolist() == [k.startswith("-") for k in ref["items"]]


def test_pairwise_equals_listwise_on_complete_data(bfi25: pd.DataFrame, reference: dict) -> None:
    keys = reference["reliability"]["openness"]["items"]
    pw = cronbach_alpha(bfi25, keys, item_range=(1, 6), missing="pairwise")
    lw = cronbach_alpha(bfi25, keys, item_range=(1, 6))
    assert pw.raw_alpha == pytest.approx(lw.raw_alpha, abs=1e-14)
    assert pw.n_obs == lw.n_obs == pw.n_obs_interval


def test_scale_table_and_item_table(bfi25: pd.DataFrame, reference: dict, bfi_alphas: ScaleAlphas) -> None:
    table = bfi_alphas.to_frame()
    assert list(table.index) == SCALES
    assert table.loc["neuroticism", "raw_alpha"] == pytest.approx(
        reference["reliability"]["neuroticism"]["raw_alpha"], abs=TOL
    )
    keys = {s: reference["reliability"][s]["items"] for s in SCALES}
    items = item_statistics(bfi25, keys, item_range=(1, 6))
    assert items.index.names == ["scale", "item"]
    assert items.shape[0] == 25
    assert items.loc[("openness", "O5"), "reversed"]
    assert bfi_alphas["openness"].flagged() and not bfi_alphas["neuroticism"].flagged()
    assert len(bfi_alphas) == 5 and list(bfi_alphas) == SCALES


# ----------------------------------------------------------------------------------------------
# Invalid input
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"keys": ["A", "Bx"]}, "item 'Bx' is not a column of the data \\(did you mean 'B'\\?\\)"),
        ({"keys": ["A", "A"]}, "more than once"),
        ({"keys": ["A"]}, "at least 2 items"),
        ({"keys": "A"}, "must be a list of item names"),
        ({"keys": ["A", 3]}, "must be an item name"),
        ({"keys": {}}, "empty mapping"),
        ({"keys": {"s": ["A", "Q"]}}, "item 'Q' in scale 's'"),
        ({"keys": ["A", "-B"]}, "need the response range"),
        ({"keys": ["A", "-B"], "item_range": (1, 4)}, "outside the declared item_range 1..4: A, B$"),
        ({"item_range": (5, 1)}, "min < max"),
        ({"item_range": "1-5"}, "pair"),
        ({"missing": "mean"}, "missing must be one of"),
        ({"confidence": 95}, "strictly between 0 and 1"),
    ],
)
def test_invalid_input(three_items: pd.DataFrame, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cronbach_alpha(three_items, **kwargs)


def test_invalid_data() -> None:
    with pytest.raises(ValueError, match="DataFrame or a 2-D numpy array"):
        cronbach_alpha([[1, 2], [3, 4]])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="2-dimensional"):
        cronbach_alpha(np.arange(5.0))
    with pytest.raises(ValueError, match="not numeric: B"):
        cronbach_alpha(pd.DataFrame({"A": [1, 2, 3], "B": ["x", "y", "z"]}))
    with pytest.raises(ValueError, match="without variance cannot enter alpha: B"):
        cronbach_alpha(pd.DataFrame({"A": [1, 2, 3], "B": [2, 2, 2]}))
    with pytest.raises(ValueError, match="at least 2 respondents"):
        cronbach_alpha(pd.DataFrame({"A": [1.0], "B": [2.0]}))
    with pytest.raises(ValueError, match="infinite"):
        cronbach_alpha(pd.DataFrame({"A": [1.0, np.inf, 2.0], "B": [2.0, 1.0, 3.0]}))
    with pytest.raises(ValueError, match="duplicate column names: A"):
        cronbach_alpha(pd.DataFrame([[1, 2], [2, 3]], columns=["A", "A"]))
    with pytest.raises(ValueError, match="never answered together"):
        cronbach_alpha(
            pd.DataFrame({"A": [1.0, 2.0, np.nan, np.nan], "B": [np.nan, np.nan, 1.0, 3.0]}), missing="pairwise"
        )
    with pytest.raises(ValueError, match="at least 2 respondents, got 0"):
        cronbach_alpha(pd.DataFrame({"A": [1.0, 2.0, np.nan, np.nan], "B": [np.nan, np.nan, 1.0, 3.0]}))


@pytest.mark.parametrize(("sd", "rel"), [(-1.0, 0.5), (1.0, 1.2), (1.0, -0.1), (np.nan, 0.5)])
def test_sem_invalid(sd: float, rel: float) -> None:
    with pytest.raises(ValueError):
        standard_error_of_measurement(sd, rel)
