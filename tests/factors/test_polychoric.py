"""Polychoric and polyserial correlations against lavaan 0.6-14 and psych 2.2.9 (ordinal_reference.json)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from profiler.factors import polychoric
from profiler.factors._bivariate_normal import bvn_cdf
from profiler.factors.polychoric import PolychoricError

from tests.conftest import REFERENCE

TOL = 1e-3


@pytest.fixture(scope="module")
def ordinal_reference() -> dict:
    return json.loads((REFERENCE / "ordinal_reference.json").read_text())


@pytest.fixture(scope="module")
def bfi_poly(bfi):
    return polychoric(bfi.iloc[:, :25])


def test_bivariate_normal_cdf_matches_scipy_everywhere():
    rng = np.random.default_rng(3)
    r = np.concatenate([np.linspace(-0.9999, 0.9999, 41), [-0.925, 0.925, 0.0]])
    h, k = rng.normal(scale=2.0, size=(2, r.size))
    ours = bvn_cdf(h, k, r)
    ref = [stats.multivariate_normal(cov=[[1, c], [c, 1]]).cdf([a, b]) for a, b, c in zip(h, k, r)]
    np.testing.assert_allclose(ours, ref, atol=1e-12)
    # infinite bounds reduce to a margin, 0 or 1
    np.testing.assert_allclose(bvn_cdf([np.inf, -np.inf, 0.3, np.inf], [0.5, 1.0, np.inf, np.inf], 0.4),
                               [stats.norm.cdf(0.5), 0.0, stats.norm.cdf(0.3), 1.0], atol=1e-15)


def test_bfi_polychoric_matrix_matches_lavaan_and_psych(bfi_poly, ordinal_reference):
    ref = ordinal_reference["polychoric"]
    assert list(bfi_poly.correlation.columns) == ref["names"]
    ours = bfi_poly.correlation.to_numpy()
    assert np.max(np.abs(ours - np.array(ref["lavaan_cor"]))) < 1e-5  # the same maximum, two optimisers
    assert np.max(np.abs(ours - np.array(ref["psych_rho"]))) < 1e-4  # psych's optimize() stops at ~1e-4
    np.testing.assert_allclose(bfi_poly.thresholds[list(ref["lavaan_th"])], list(ref["lavaan_th"].values()), atol=1e-9)
    psych_tau = np.array(ref["psych_tau"]).ravel()  # items x 5 thresholds, row by row
    np.testing.assert_allclose(bfi_poly.thresholds.to_numpy(), psych_tau, atol=1e-9)
    assert bfi_poly.n_obs == ref["lavaan_nobs"] == 2800
    assert bfi_poly.converged


def test_missing_answers_are_pairwise_and_reported(bfi, bfi_poly):
    items = bfi.iloc[:, :25]
    counts = bfi_poly.pairwise_counts
    assert counts.loc["A1", "A2"] == int((items.A1.notna() & items.A2.notna()).sum())
    assert np.all(np.diag(counts) == items.notna().sum().to_numpy())
    m = bfi_poly.missing
    assert (m.method, m.n_rows, m.n_rows_incomplete, m.n_cells_missing) == ("pairwise", 2800, 364, int(items.isna().sum().sum()))
    assert m.min_pairwise_n == counts.to_numpy()[~np.eye(25, dtype=bool)].min()
    assert "508 cells in 364 rows, pairwise" in repr(bfi_poly)
    listwise = polychoric(items, missing="listwise")
    assert listwise.n_obs == 2436 and listwise.missing.n_rows_dropped == 364
    with pytest.raises(PolychoricError, match="364 of 2800 rows have missing values"):
        polychoric(items, missing="raise")


@pytest.mark.parametrize("missing", ["pairwise", "listwise"])
def test_asymptotic_covariance_is_lavaans_nacov(bfi, ordinal_reference, missing):
    ref = ordinal_reference["gamma"][missing]
    six = bfi[["A1", "A2", "A3", "A4", "A5", "C1"]]
    pc = polychoric(six, missing=missing, acov=True)
    assert list(pc.acov.index) == ref["names"] and pc.n_obs == ref["nobs"]
    expected = np.array(ref["gamma"])
    assert np.max(np.abs(pc.acov.to_numpy() - expected)) < 1e-6 * np.max(np.abs(expected))
    # the statistics vector is ordered as the NACOV: thresholds, then correlations by columns
    assert pc.statistics.size == len(ref["names"])
    assert pc.statistics[30] == pytest.approx(pc.correlation.loc["A1", "A2"])


def test_two_by_two_table_with_one_empty_cell_uses_lavaans_half_count():
    # 2 x 2 table [[40, 0], [10, 50]]: lavaan moves 0.5 into the empty cell (and the other off-diagonal
    # one) from the diagonal, keeping the margins (zero.add = 0.5, zero.keep.margins = TRUE)
    x = np.repeat([0, 0, 1, 1], [40, 0, 10, 50])
    y = np.repeat([0, 1, 0, 1], [40, 0, 10, 50])
    pc = polychoric(pd.DataFrame({"x": x, "y": y}))
    tau_x, tau_y = pc.thresholds.to_numpy()
    table = np.array([[39.5, 0.5], [10.5, 49.5]])

    def loglik(r):
        p11 = bvn_cdf(tau_x, tau_y, r)
        px, py = stats.norm.cdf(tau_x), stats.norm.cdf(tau_y)
        cells = np.array([[p11, px - p11], [py - p11, 1 - px - py + p11]])
        return np.sum(table * np.log(cells))

    grid = np.linspace(0.5, 0.999, 20001)
    best = grid[np.argmax([loglik(r) for r in grid])]
    assert pc.correlation.loc["x", "y"] == pytest.approx(best, abs=1e-4)


def test_polyserial_is_the_two_step_maximum_likelihood():
    rng = np.random.default_rng(7)
    n, rho = 4000, 0.6
    z = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=n)
    y = np.digitize(z[:, 1], [-1.0, 0.0, 0.8]) + 1  # 4 ordered categories
    data = pd.DataFrame({"score": 10 + 2 * z[:, 0], "item": y})
    pc = polychoric(data, ordered=["item"])
    est = pc.correlation.loc["score", "item"]
    # by hand: maximise the conditional likelihood of the categories given the standardised score
    zs = (data.score - data.score.mean()) / data.score.std(ddof=0)
    tau = np.concatenate([[-np.inf], pc.thresholds.to_numpy(), [np.inf]])

    def loglik(r):
        s = np.sqrt(1 - r * r)
        return np.sum(np.log(stats.norm.cdf((tau[y] - r * zs) / s) - stats.norm.cdf((tau[y - 1] - r * zs) / s)))

    grid = np.linspace(0.4, 0.8, 4001)
    assert est == pytest.approx(grid[np.argmax([loglik(r) for r in grid])], abs=1e-4)
    assert abs(est - rho) < 0.05
    assert list(pc.means.index) == ["score"] and pc.means["score"] == pytest.approx(data.score.mean())
    with pytest.raises(PolychoricError, match="every variable ordinal"):
        polychoric(data, ordered=["item"], acov=True)


def test_bad_input_is_a_clear_error():
    with pytest.raises(PolychoricError, match="'b' has 1 observed category"):
        polychoric(pd.DataFrame({"a": [1, 2, 3, 1], "b": [2, 2, 2, 2]}))
    with pytest.raises(PolychoricError, match="no row answers both"):
        polychoric(pd.DataFrame({"a": [1, 2, np.nan, np.nan], "b": [np.nan, np.nan, 1, 2]}))
    with pytest.raises(PolychoricError, match="not columns of the data.*did you mean 'item1'"):
        polychoric(pd.DataFrame({"item1": [1, 2], "item2": [2, 1]}), ordered=["itme1"])
    with pytest.raises(PolychoricError, match="numeric"):
        polychoric(pd.DataFrame({"a": ["x", "y"]}))
    with pytest.raises(TypeError):
        polychoric(np.zeros((3, 2)))  # type: ignore[arg-type]


@pytest.mark.parametrize("x", [np.array([5.0, 1.0, 3.0, 1.0, 5.0]), np.array([-4.0, 2.0, -4.0, 0.0]),
                               np.array([0.5, 1.5, 0.5]), np.array([1.0, 5000.0, 1.0])])
def test_category_codes_are_numpys_unique(x):
    from profiler.factors.polychoric import _unique_codes

    values, codes = _unique_codes(x)
    expected_values, expected_codes = np.unique(x, return_inverse=True)
    np.testing.assert_array_equal(values, expected_values)
    np.testing.assert_array_equal(codes, expected_codes)
