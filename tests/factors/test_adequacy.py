"""KMO, Bartlett, eigenvalues, parallel analysis and Velicer's MAP: by hand and against R psych."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from profiler.factors.adequacy import (
    KMO,
    BartlettSphericity,
    ParallelAnalysis,
    VelicerMAP,
    bartlett_sphericity,
    eigenvalues,
    kmo,
    parallel_analysis,
    velicer_map,
)

TOL = 1e-6


def _corr3(r12: float, r13: float, r23: float) -> np.ndarray:
    return np.array([[1.0, r12, r13], [r12, 1.0, r23], [r13, r23, 1.0]])


def _three_factor_data(n: int, seed: int) -> pd.DataFrame:
    """12 items, 4 per factor, loadings .7, factors correlated .3."""
    rng = np.random.default_rng(seed)
    phi = np.full((3, 3), 0.3) + 0.7 * np.eye(3)
    f = rng.multivariate_normal(np.zeros(3), phi, size=n)
    lam = np.kron(np.eye(3), np.full((4, 1), 0.7))
    x = f @ lam.T + rng.normal(scale=math.sqrt(1 - 0.49), size=(n, 12))
    return pd.DataFrame(x, columns=[f"i{j + 1}" for j in range(12)])


# ----------------------------------------------------------------------------------------------
# KMO
# ----------------------------------------------------------------------------------------------
def test_kmo_of_three_items_by_hand() -> None:
    r12, r13, r23 = 0.5, 0.4, 0.3
    # partial correlations given the third item
    q12 = (r12 - r13 * r23) / math.sqrt((1 - r13**2) * (1 - r23**2))
    q13 = (r13 - r12 * r23) / math.sqrt((1 - r12**2) * (1 - r23**2))
    q23 = (r23 - r12 * r13) / math.sqrt((1 - r12**2) * (1 - r13**2))
    result = kmo(_corr3(r12, r13, r23))
    assert isinstance(result, KMO)
    r2 = r12**2 + r13**2 + r23**2
    assert result.overall == pytest.approx(r2 / (r2 + q12**2 + q13**2 + q23**2), abs=1e-12)
    item1 = (r12**2 + r13**2) / (r12**2 + r13**2 + q12**2 + q13**2)
    assert result.per_item.iloc[0] == pytest.approx(item1, abs=1e-12)
    assert list(result.per_item.index) == ["x0", "x1", "x2"]


def test_kmo_agrees_with_psych(bfi25: pd.DataFrame, reference: dict) -> None:
    result = kmo(bfi25)
    assert result.overall == pytest.approx(reference["kmo"]["overall"], abs=TOL)
    np.testing.assert_allclose(result.per_item.to_numpy(), reference["kmo"]["per_item"], rtol=0, atol=TOL)
    assert list(result.per_item.index) == list(bfi25.columns)
    assert result.label == "meritorious"  # .849
    assert result.low_items() == []
    # the same from the correlation matrix
    assert kmo(bfi25.corr()).overall == pytest.approx(result.overall, abs=1e-12)


def test_kmo_rejects_singular_matrix() -> None:
    x = np.random.default_rng(0).normal(size=(50, 3))
    x = np.column_stack([x, x[:, 0] + x[:, 1]])
    with pytest.raises(ValueError, match="singular"):
        kmo(x)


# ----------------------------------------------------------------------------------------------
# Bartlett
# ----------------------------------------------------------------------------------------------
def test_bartlett_two_items_by_hand() -> None:
    r, n = 0.3, 100
    result = bartlett_sphericity(np.array([[1.0, r], [r, 1.0]]), n_obs=n)
    assert isinstance(result, BartlettSphericity)
    chi2 = -(n - 1 - 9 / 6) * math.log(1 - r**2)
    assert result.chi_square == pytest.approx(chi2, abs=1e-12)
    assert result.dof == 1
    assert result.p_value == pytest.approx(stats.chi2.sf(chi2, 1), abs=1e-15)
    assert bartlett_sphericity(np.eye(4), n_obs=50).chi_square == pytest.approx(0.0, abs=1e-12)
    assert bartlett_sphericity(np.eye(4), n_obs=50).p_value == pytest.approx(1.0)


def test_bartlett_agrees_with_psych(bfi25: pd.DataFrame, reference: dict) -> None:
    ref = reference["bartlett"]
    result = bartlett_sphericity(bfi25)
    # the reference has 10 significant digits (18146.06558): its own rounding is 5e-6, so compare
    # relatively (measured: 1.5e-10 relative, 2.8e-6 absolute)
    assert result.chi_square == pytest.approx(ref["chi_square"], rel=1e-9)
    assert result.dof == ref["dof"] == 300
    assert result.p_value == ref["p_value"] == 0
    assert result.n_obs == 2436
    from_corr = bartlett_sphericity(bfi25.corr(), n_obs=2436)
    assert from_corr.chi_square == pytest.approx(result.chi_square, rel=1e-12)


def test_bartlett_needs_n_obs_with_a_matrix() -> None:
    with pytest.raises(ValueError, match="needs n_obs"):
        bartlett_sphericity(np.eye(3))
    with pytest.raises(ValueError, match="more respondents than items"):
        bartlett_sphericity(np.eye(3), n_obs=3)
    with pytest.raises(ValueError, match="only for a correlation matrix"):
        bartlett_sphericity(_three_factor_data(50, 1), n_obs=50)


# ----------------------------------------------------------------------------------------------
# Missing data policy (shared by all functions through profiler.factors._input)
# ----------------------------------------------------------------------------------------------
def test_missing_policy(bfi: pd.DataFrame) -> None:
    items = bfi.iloc[:, :25]
    with pytest.raises(ValueError, match="(?i)missing values"):
        kmo(items, missing="raise")
    listwise = bartlett_sphericity(items)
    assert listwise.n_obs == 2436
    pairwise = bartlett_sphericity(items, missing="pairwise")
    assert pairwise.n_obs < 2800 and pairwise.chi_square != listwise.chi_square
    assert kmo(items, missing="pairwise").overall == pytest.approx(kmo(items.corr()).overall, abs=1e-12)
    with pytest.raises(ValueError, match="missing must be one of"):
        kmo(items, missing="impute")


# ----------------------------------------------------------------------------------------------
# Eigenvalues
# ----------------------------------------------------------------------------------------------
def test_eigenvalues_of_a_known_matrix() -> None:
    # compound symmetry: one eigenvalue 1 + (p - 1) r, the others 1 - r
    p, r = 4, 0.25
    corr = np.full((p, p), r) + (1 - r) * np.eye(p)
    table = eigenvalues(corr)
    np.testing.assert_allclose(table["eigenvalue"], [1.75, 0.75, 0.75, 0.75], atol=1e-12)
    np.testing.assert_allclose(table["cumulative"].iloc[-1], 1.0, atol=1e-12)
    # SMC of each item: 1 - 1 / (R^-1)_ii
    smc = 1 - 1 / np.diag(np.linalg.inv(corr))
    reduced = corr - np.diag(1 - smc)
    np.testing.assert_allclose(table["smc_reduced"], np.linalg.eigvalsh(reduced)[::-1], atol=1e-12)
    assert list(table.index) == [1, 2, 3, 4]


# ----------------------------------------------------------------------------------------------
# Parallel analysis
# ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bfi_parallel(request: pytest.FixtureRequest) -> ParallelAnalysis:
    return parallel_analysis(request.getfixturevalue("bfi25"), n_iter=20, random_state=1)


def test_parallel_analysis_agrees_with_psych(bfi_parallel: ParallelAnalysis, reference: dict) -> None:
    ref = reference["parallel_analysis"]
    # observed eigenvalues: measured max difference 1.7e-7 (R's optim stops at a relative change of
    # 1e-8 in the criterion; our minres converges further)
    np.testing.assert_allclose(bfi_parallel.table["observed"], ref["observed_fa_eigenvalues"], rtol=0, atol=TOL)
    assert bfi_parallel.n_factors == ref["n_factors"] == 6
    assert bfi_parallel.n_obs == 2436 and bfi_parallel.n_iter == 20 and bfi_parallel.random_state == 1
    table = bfi_parallel.table
    # random data: small, decreasing, and the 6th observed value beats it while the 7th does not
    assert (np.diff(table["simulated"]) < 0).all()
    assert table["observed"].iloc[5] > table["simulated"].iloc[5] > table["observed"].iloc[6]
    assert bfi_parallel.simulated_values.shape == (20, 25)
    assert table["resampled"].notna().all()


def test_parallel_analysis_count_does_not_hinge_on_the_seed(bfi25: pd.DataFrame) -> None:
    # the margins around the 6th factor (.22 vs .10, then .001 vs .08) dwarf the seed-to-seed spread of
    # a mean of 20 simulations (about .002): seeds 0..9 all give 6
    assert parallel_analysis(bfi25, random_state=2, resample=False).n_factors == 6


def test_parallel_analysis_is_reproducible() -> None:
    data = _three_factor_data(300, 5)
    a = parallel_analysis(data, n_iter=5, random_state=11)
    b = parallel_analysis(data, n_iter=5, random_state=11)
    c = parallel_analysis(data, n_iter=5, random_state=12)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert not np.allclose(a.table["simulated"], c.table["simulated"])
    assert a.n_factors == 3 and a.n_components == 3


def test_parallel_analysis_from_a_correlation_matrix(bfi25: pd.DataFrame, bfi_parallel: ParallelAnalysis) -> None:
    result = parallel_analysis(bfi25.corr(), n_iter=4, random_state=1, n_obs=2436, quantile=0.95)
    np.testing.assert_allclose(result.table["observed"], bfi_parallel.table["observed"], atol=1e-9)  # two correlation paths, one optimiser tolerance
    assert result.table["resampled"].isna().all()
    q = np.quantile(result.simulated_values, 0.95, axis=0)
    np.testing.assert_allclose(result.table["simulated_quantile"], q)
    assert result.n_factors == 6
    with pytest.raises(ValueError, match="needs n_obs"):
        parallel_analysis(bfi25.corr(), n_iter=2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_iter": 0}, "n_iter must be a positive integer"),
        ({"method": "pc"}, "method must be one of"),
        ({"quantile": 95}, "quantile must lie strictly between 0 and 1"),
        ({"missing": "mean"}, "missing must be one of"),
    ],
)
def test_parallel_analysis_invalid(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parallel_analysis(_three_factor_data(50, 2), **kwargs)


# ----------------------------------------------------------------------------------------------
# Velicer's MAP
# ----------------------------------------------------------------------------------------------
def test_map_equals_partial_correlations_of_regression_residuals() -> None:
    # independent route: regress the standardised items on the first m component scores and
    # correlate the residuals
    data = _three_factor_data(400, 9)
    z = ((data - data.mean()) / data.std()).to_numpy()
    w, v = np.linalg.eigh(np.corrcoef(z, rowvar=False))
    scores = z @ v[:, ::-1]
    result = velicer_map(data, max_components=6)
    assert isinstance(result, VelicerMAP)
    p = z.shape[1]
    off = ~np.eye(p, dtype=bool)
    for m in range(7):
        s = scores[:, :m]
        resid = z - s @ np.linalg.lstsq(s, z, rcond=None)[0] if m else z
        partial = np.corrcoef(resid, rowvar=False)[off]
        assert result.curve.loc[m, "squared"] == pytest.approx(np.mean(partial**2), abs=1e-12)
        assert result.curve.loc[m, "fourth_power"] == pytest.approx(np.mean(partial**4), abs=1e-12)
    assert result.n_factors == 3 and result.n_factors_fourth_power == 3


def test_map_on_bfi(bfi25: pd.DataFrame) -> None:
    # psych::VSS(bfi) reports "The Velicer MAP achieves a minimum of 0.01 with 5 factors"
    result = velicer_map(bfi25)
    assert result.n_factors == 5
    assert list(result.curve.index) == list(range(9))
    assert round(result.curve["squared"].min(), 2) == 0.01
    full = velicer_map(bfi25, max_components=None)
    assert len(full.curve) == 25 and full.n_factors == 5


def test_map_invalid() -> None:
    with pytest.raises(ValueError, match="max_components"):
        velicer_map(_three_factor_data(50, 3), max_components=0)
    with pytest.raises(ValueError, match="DataFrame or a 2-D numpy array"):
        velicer_map([[1.0, 0.2], [0.2, 1.0]])  # type: ignore[arg-type]
