"""Intraclass correlations and test-retest reliability against psych::ICC / psych::testRetest.

Reference: ``icc_reference.json`` and ``retest_simulated.csv`` from ``make_icc_reference.R``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from profiler.factors.icc import icc, retest_reliability
from profiler.factors.missing import MissingDataWarning

HERE = Path(__file__).parents[1] / "fixtures" / "reference"
COLUMNS = ["icc", "F", "df1", "df2", "p", "lower", "upper"]


@pytest.fixture(scope="module")
def ref() -> dict:
    return json.loads((HERE / "icc_reference.json").read_text())


def _psych_table(r: dict) -> pd.DataFrame:
    return pd.DataFrame(list(r["table"].values())).set_index("type")[COLUMNS]


@pytest.mark.parametrize(("key", "tol"), [("shrout_fleiss", 1e-4), ("low_agreement", 1e-9)])
def test_six_forms_agree_with_psych(ref, key, tol) -> None:
    """Shrout & Fleiss's own example, and ratings where the judges' and targets' variances are 0 (REML
    pools their mean squares with the residual, as psych's lme4 fit does). psych's lme4 stops at its
    own tolerance: 3e-5 on the first."""
    r = ref[key]
    result = icc(np.array(r["data"], dtype=float))
    ours, theirs = result.table[COLUMNS], _psych_table(r["icc"])
    assert list(ours.index) == list(theirs.index) == ["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"]
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), atol=tol, rtol=0)
    np.testing.assert_allclose(result.mean_squares[["MSB", "MSJ", "MSE"]], r["icc"]["ms"], rtol=tol)
    assert result.mean_squares["MSW"] == pytest.approx(r["icc"]["msw"], rel=tol)
    assert (result.n_targets, result.n_judges) == (r["icc"]["n_obs"], r["icc"]["n_judges"])


def test_shrout_fleiss_published_values(ref) -> None:
    """Shrout & Fleiss (1979), Table 4: .17, .29, .71, .44, .62, .91 — by hand from the ANOVA."""
    x = np.array(ref["shrout_fleiss"]["data"], dtype=float)
    n, k = x.shape
    grand = x.mean()
    msb = k * np.sum((x.mean(axis=1) - grand) ** 2) / (n - 1)
    msj = n * np.sum((x.mean(axis=0) - grand) ** 2) / (k - 1)
    mse = (np.sum((x - grand) ** 2) - msb * (n - 1) - msj * (k - 1)) / ((n - 1) * (k - 1))
    msw = (msj * (k - 1) + mse * (n - 1) * (k - 1)) / (n * (k - 1))
    result = icc(x)
    assert result["ICC1"] == pytest.approx((msb - msw) / (msb + (k - 1) * msw), abs=1e-12)
    assert result["ICC3k"] == pytest.approx((msb - mse) / msb, abs=1e-12)
    published = [0.17, 0.29, 0.71, 0.44, 0.62, 0.91]
    np.testing.assert_allclose(result.table["icc"].to_numpy(), published, atol=0.005)


def test_icc_missing_ratings_are_dropped_with_a_warning_or_refused() -> None:
    x = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, np.nan, 6], [10, 5, 6, 9], [6, 2, 4, 7]])
    with pytest.warns(MissingDataWarning, match="1 of 6 targets"):
        result = icc(x)
    assert result.n_targets == 5 and result.n_rows_dropped == 1
    expected = icc(np.delete(x, 3, axis=0))
    pd.testing.assert_frame_equal(result.table, expected.table)
    with pytest.raises(ValueError, match="missing rating"):
        icc(x, missing="raise")
    with pytest.raises(ValueError, match="at least 2 targets"):
        icc(np.ones((1, 3)))
    with pytest.raises(ValueError, match="no residual variance"):
        icc(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))


def test_interval_coverage_in_simulation() -> None:
    """The ICC2 interval (Satterthwaite) covers the population value about 95% of the time."""
    rng = np.random.default_rng(11)
    n, k, var_t, var_j, var_e = 30, 4, 1.0, 0.3, 0.7
    true = var_t / (var_t + var_j + var_e)
    hits = 0
    for _ in range(400):
        x = rng.normal(0, np.sqrt(var_t), (n, 1)) + rng.normal(0, np.sqrt(var_j), (1, k)) + rng.normal(0, np.sqrt(var_e), (n, k))
        row = icc(x).table.loc["ICC2"]
        hits += row["lower"] <= true <= row["upper"]
    assert 0.91 <= hits / 400 <= 0.99


@pytest.fixture(scope="module")
def waves() -> tuple[pd.DataFrame, pd.DataFrame]:
    sim = pd.read_csv(HERE / "retest_simulated.csv")
    return sim[sim.time == 1].drop(columns="time"), sim[sim.time == 2].drop(columns="time")


def test_retest_agrees_with_psych_test_retest(ref, waves) -> None:
    r = ref["retest"]
    t1, t2 = waves
    result = retest_reliability(t1, t2, r["keys"], item_range=tuple(r["item_range"]), id="id")
    assert result.n_obs == 150 and result.keys == tuple(r["keys"])
    assert result.r12 == pytest.approx(r["r12"], abs=1e-10)
    np.testing.assert_allclose(result.items["rii"], r["rii"], atol=1e-10)
    np.testing.assert_allclose(result.items[["mean1", "mean2"]].to_numpy().T, [r["mean1"], r["mean2"]], atol=1e-10)
    np.testing.assert_allclose(result.persons["score1"], r["t1scores"], atol=1e-10)
    np.testing.assert_allclose(result.persons["score2"], r["t2scores"], atol=1e-10)
    np.testing.assert_allclose(result.persons["dxy"], r["dxy"], atol=1e-10)
    np.testing.assert_allclose(result.persons[["sd1", "sd2"]].to_numpy().T, [r["sd1"], r["sd2"]], atol=1e-10)
    rqq = np.array([np.nan if v is None else v for v in r["rqq"]], dtype=float)
    np.testing.assert_allclose(result.persons["rqq"], rqq, atol=1e-10)  # NaN where a wave has no spread
    assert np.isnan(rqq).any()
    np.testing.assert_allclose(result.icc.table[COLUMNS].to_numpy(), _psych_table(r["icc_scores"]).to_numpy(), atol=5e-5)


def test_retest_matches_by_id_and_checks_input(waves) -> None:
    t1, t2 = waves
    shuffled = t2.sample(frac=1.0, random_state=3)
    a = retest_reliability(t1, t2, ["q1", "-q2", "q3"], item_range=(1, 5), id="id")
    b = retest_reliability(t1, shuffled, ["q1", "-q2", "q3"], item_range=(1, 5), id="id")
    assert a.r12 == pytest.approx(b.r12, abs=1e-12)
    with pytest.warns(MissingDataWarning, match="1 row"):
        c = retest_reliability(t1, t2.iloc[1:], ["q1", "q3"], id="id")
    assert c.n_obs == 149
    with pytest.raises(ValueError, match="item_range"):
        retest_reliability(t1, t2, ["q1", "-q2"], id="id")
    with pytest.raises(ValueError, match="pass id="):
        retest_reliability(t1, t2.iloc[1:], ["q1", "q3"])
    with pytest.raises(ValueError, match="lacks the items"):
        retest_reliability(t1, t2.drop(columns="q3"), ["q1", "q3"], id="id")
