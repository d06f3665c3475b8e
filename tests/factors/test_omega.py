"""Omega total and omega hierarchical (Schmid-Leiman): population models by hand and R psych::omega."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from profiler.factors.omega import Omega, omega

SCALES = ["agreeableness", "conscientiousness", "extraversion", "neuroticism", "openness"]
TOL = 1e-6


def _higher_order(lam: list[list[float]], gamma: list[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Population correlations of a higher-order model: items load on one group factor each
    (``lam[j]`` the loadings of group j), group factors load ``gamma`` on a general factor.

    Returns R, the general loadings and the uniquenesses of the Schmid-Leiman solution."""
    sizes = [len(block) for block in lam]
    p = sum(sizes)
    L = np.zeros((p, len(lam)))
    row = 0
    for j, block in enumerate(lam):
        L[row : row + len(block), j] = block
        row += len(block)
    gam = np.asarray(gamma)
    phi = np.outer(gam, gam)
    np.fill_diagonal(phi, 1.0)
    common = L @ phi @ L.T
    u2 = 1.0 - np.diag(common)
    R = common + np.diag(u2)
    return R, L @ gam, u2


@pytest.fixture
def bifactor_population() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    lam = [[0.7, 0.6, 0.5], [0.8, 0.6, 0.5], [0.6, 0.6, 0.7]]
    R, g, u2 = _higher_order(lam, [0.8, 0.6, 0.7])
    names = [f"i{j + 1}" for j in range(9)]
    return pd.DataFrame(R, index=names, columns=names), g, u2


# ----------------------------------------------------------------------------------------------
# Population models: the coefficients follow from the generating loadings
# ----------------------------------------------------------------------------------------------
def test_three_group_factors_recover_the_generating_model(bifactor_population) -> None:
    R, g, u2 = bifactor_population
    result = omega(R, n_factors=3)
    assert isinstance(result, Omega)
    V = R.to_numpy().sum()
    assert result.omega_h == pytest.approx(g.sum() ** 2 / V, abs=1e-6)
    assert result.omega_total == pytest.approx((V - u2.sum()) / V, abs=1e-6)
    assert result.alpha == pytest.approx((V - 9) / V * 9 / 8, abs=1e-12)
    np.testing.assert_allclose(result.loadings["g"], g, atol=1e-5)
    np.testing.assert_allclose(result.loadings["u2"], u2, atol=1e-6)
    assert result.flipped == () and result.converged and result.heywood == ()
    # each item loads on exactly one group factor
    group = result.loadings[["F1*", "F2*", "F3*"]].to_numpy()
    assert np.sort(np.abs(group), axis=1)[:, :2].max() < 1e-5
    assert result.groups.loc["g", "total"] == pytest.approx(result.omega_total)
    assert result.groups.loc["g", "general"] == pytest.approx(result.omega_h)


def test_two_group_factors_use_the_option() -> None:
    # equal general loadings: exactly what option="equal" assumes
    R, g, u2 = _higher_order([[0.7, 0.6, 0.5, 0.6], [0.8, 0.6, 0.5, 0.7]], [0.7, 0.7])
    V = R.sum()
    equal = omega(R, n_factors=2)
    assert equal.omega_h == pytest.approx(g.sum() ** 2 / V, abs=1e-6)
    assert equal.omega_total == pytest.approx((V - u2.sum()) / V, abs=1e-6)
    phi12 = 0.49
    # "first": general loadings 1 and phi_12, so the first group factor (the larger one: items 5-8,
    # sum of squares 1.74 against 1.46) *is* the general factor
    first = omega(R, n_factors=2, option="first")
    np.testing.assert_allclose(first.loadings["g"].to_numpy()[4:], [0.8, 0.6, 0.5, 0.7], atol=1e-5)
    np.testing.assert_allclose(first.loadings["g"].to_numpy()[:4], phi12 * np.array([0.7, 0.6, 0.5, 0.6]), atol=1e-5)
    assert first.omega_total == pytest.approx(equal.omega_total, abs=1e-12)
    second = omega(R, n_factors=2, option="second")
    np.testing.assert_allclose(second.loadings["g"].to_numpy()[:4], [0.7, 0.6, 0.5, 0.6], atol=1e-5)


def test_one_factor_omega_total_by_hand() -> None:
    lam = np.array([0.8, 0.7, 0.6, 0.5, 0.4])
    R = np.outer(lam, lam)
    np.fill_diagonal(R, 1.0)
    result = omega(R, n_factors=1)
    # omega_t = (sum lambda)^2 / ((sum lambda)^2 + sum(1 - lambda^2))
    expected = lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum())
    assert result.omega_total == pytest.approx(expected, abs=1e-7)
    assert result.omega_h == pytest.approx(expected, abs=1e-7)  # one factor: the same in the population
    assert result.rotation == "none"
    assert (result.loadings["F1*"].abs() < 1e-12).all()


def test_negative_items_are_flipped(bifactor_population) -> None:
    R, g, u2 = bifactor_population
    sign = np.ones(9)
    sign[[1, 5]] = -1
    reversed_R = R * np.outer(sign, sign)
    base = omega(R, n_factors=3)
    flipped = omega(reversed_R, n_factors=3)
    assert flipped.flipped == ("i2", "i6")
    assert flipped.omega_h == pytest.approx(base.omega_h, abs=1e-6)
    assert flipped.omega_total == pytest.approx(base.omega_total, abs=1e-6)
    assert (flipped.loadings["g"] > 0).all()
    unflipped = omega(reversed_R, n_factors=3, flip=False)
    assert unflipped.flipped == ()
    assert unflipped.alpha < base.alpha and unflipped.omega_h < base.omega_h
    # keys reverse a correlation matrix by sign: then nothing is left to flip
    keyed = omega(reversed_R, n_factors=3, keys=["i1", "-i2", "i3", "i4", "i5", "-i6", "i7", "i8", "i9"])
    assert keyed.flipped == () and keyed.omega_h == pytest.approx(base.omega_h, abs=1e-6)


# ----------------------------------------------------------------------------------------------
# Agreement with R psych 2.2.9 (bfi, 2,436 complete rows)
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scale", SCALES)
def test_one_factor_omega_total_agrees_with_psych(scale: str, bfi25: pd.DataFrame, reference: dict) -> None:
    ref = reference["reliability"][scale]
    result = omega(bfi25, n_factors=1, keys=ref["items"], item_range=(1, 6))
    # measured max difference 5.8e-8 (R's optim tolerance in the minres fit)
    assert result.omega_total == pytest.approx(ref["omega_total"], abs=TOL)
    assert result.n_obs == 2436
    assert list(result.loadings.index) == [k.lstrip("-") for k in ref["items"]]


def test_five_factor_omega_agrees_with_psych(bfi25: pd.DataFrame, reference: dict) -> None:
    ref = reference["omega_5factor"]
    result = omega(bfi25, n_factors=5)
    assert result.alpha == pytest.approx(ref["alpha"], abs=TOL)
    assert result.omega_total == pytest.approx(ref["omega_total"], abs=TOL)
    # omega_h rides on the oblimin rotation, which GPArotation stops at a gradient norm of 1e-5:
    # measured difference 1.3e-6
    assert result.omega_h == pytest.approx(ref["omega_h"], abs=1e-5)
    assert result.converged
    # psych flips the items with negative general loadings
    assert set(result.flipped) == {"A1", "C4", "C5", "E1", "E2", "N1", "N2", "N3", "N4", "N5", "O2", "O4", "O5"}
    assert result.loadings.shape == (25, 9)
    assert result.loadings["p2"].between(0, 1).all()
    assert 0 < result.ecv < 1 and result.omega_h < result.omega_limit < 1


def test_correlation_matrix_input_matches_data(bfi25: pd.DataFrame) -> None:
    items = ["N1", "N2", "N3", "N4", "N5", "A1", "A2", "A3", "A4", "A5"]
    from_data = omega(bfi25[items], n_factors=2)
    corr = bfi25[items].corr()
    corr.columns = pd.RangeIndex(10)  # labels that are not strings
    from_corr = omega(corr, n_factors=2, n_obs=2436)
    assert list(corr.columns) == list(range(10))  # the caller's frame is left alone
    # omega_h goes through an iterative rotation that stops at its own tolerance; the two correlation matrices
    # differ in the last bits (and threaded BLAS sums vary by run), so agreement is to the rotation's precision.
    assert from_corr.omega_h == pytest.approx(from_data.omega_h, abs=1e-6)
    assert from_corr.omega_total == pytest.approx(from_data.omega_total, abs=1e-9)
    assert from_corr.n_obs == from_data.n_obs == 2436


# ----------------------------------------------------------------------------------------------
# Invalid input
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_factors": 0}, "n_factors must be an integer in \\[1, 8\\] for 9 items"),
        ({"n_factors": 9}, "n_factors must be an integer"),
        ({"n_factors": 2.0}, "n_factors must be an integer"),
        ({"method": "pc"}, "method must be one of"),
        ({"rotation": "bifactor"}, "rotation must be one of"),
        ({"rotation": "varimax"}, "rotation must be one of"),
        ({"option": "both"}, "option must be one of"),
        ({"item_range": (1, 6)}, "item_range is for response data"),
        ({"keys": ["i1", "i99"]}, "item 'i99' is not a column"),
    ],
)
def test_invalid_input(bifactor_population, kwargs: dict, message: str) -> None:
    R, _, _ = bifactor_population
    with pytest.raises(ValueError, match=message):
        omega(R, **kwargs)


def test_invalid_data_input(bfi25: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="only for a correlation matrix"):
        omega(bfi25, n_factors=5, n_obs=100)
    with pytest.raises(ValueError, match="need the response range"):
        omega(bfi25, n_factors=1, keys=["-A1", "A2", "A3"])
