"""Rotations: criteria and gradients by hand, recovery of known simple structures, local optima of geomin
and the agreement of the returned geomin solution with R's GPArotation::geominQ."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

from profiler.factors._input import correlation_from_data
from profiler.factors.extraction import extract
from profiler.factors.rotation import (
    DEFAULT_NORMALIZE,
    ROTATIONS,
    align_factors,
    geomin_criterion,
    oblimin_criterion,
    random_starts,
    rotate,
    tucker_congruence,
    varimax_criterion,
)

RNG = np.random.default_rng(20240601)


def match_factors(ours: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    perm, signs, congruence = align_factors(ours, target)
    assert np.all(congruence > 0.9), "factors do not correspond"
    return perm, signs


@pytest.fixture(scope="module")
def bfi_corr(bfi25: pd.DataFrame) -> np.ndarray:
    return correlation_from_data(bfi25).corr


def _simple_structure(p_per: int = 4, k: int = 3) -> np.ndarray:
    L = np.zeros((p_per * k, k))
    for j in range(k):
        L[j * p_per : (j + 1) * p_per, j] = np.linspace(0.8, 0.5, p_per)
    return L


# --- criteria ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "crit",
    [oblimin_criterion(0.0), oblimin_criterion(0.5), geomin_criterion(0.01), varimax_criterion],
    ids=["quartimin", "oblimin_0.5", "geomin", "varimax"],
)
def test_criterion_gradient_matches_finite_differences(crit) -> None:
    L = RNG.uniform(-0.8, 0.8, (9, 3))
    f, g = crit(L)
    h = 1e-6
    num = np.zeros_like(L)
    for idx in np.ndindex(L.shape):
        e = np.zeros_like(L)
        e[idx] = h
        num[idx] = (crit(L + e)[0] - crit(L - e)[0]) / (2 * h)
    np.testing.assert_allclose(g, num, atol=1e-7)


def test_criteria_values_by_hand() -> None:
    L = np.array([[0.6, 0.2], [0.1, 0.7], [0.5, 0.5]])
    L2 = L**2
    quartimin = sum(L2[i, 0] * L2[i, 1] for i in range(3)) * 2 / 4  # sum_i sum_{j != l} / 4
    assert oblimin_criterion(0.0)(L)[0] == pytest.approx(quartimin)
    geomin = sum(np.sqrt((L2[i, 0] + 0.01) * (L2[i, 1] + 0.01)) for i in range(3))
    assert geomin_criterion(0.01)(L)[0] == pytest.approx(geomin)
    varimax = -np.sum((L2 - L2.mean(axis=0)) ** 2) / 4
    assert varimax_criterion(L)[0] == pytest.approx(varimax)


# --- recovery of known structures -------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["kaiser", "gpf"])
def test_varimax_recovers_orthogonal_simple_structure(algorithm: str) -> None:
    L = _simple_structure()
    T = random_starts(3, 1, 7)[1]  # a random orthogonal matrix
    out = rotate(L @ T.T, "varimax", algorithm=algorithm, random_state=0)
    perm, s = match_factors(out.loadings, L)
    # stats::varimax's stopping rule (kaiser) leaves ~1e-4; gradient projection goes to the optimum
    np.testing.assert_allclose(out.loadings[:, perm] * s, L, atol=1e-3 if algorithm == "kaiser" else 1e-6)
    np.testing.assert_allclose(out.phi, np.eye(3))


@pytest.mark.parametrize("method", ["quartimin", "oblimin"])
def test_quartimin_recovers_oblique_simple_structure(method: str) -> None:
    """With a perfect cluster pattern P and factor correlations Phi = T'T, the unrotated A = P T' has
    quartimin criterion 0 at P: the rotation must return P and Phi."""
    P = _simple_structure()
    Phi = np.array([[1.0, 0.4, 0.2], [0.4, 1.0, 0.3], [0.2, 0.3, 1.0]])
    T = np.linalg.cholesky(Phi).T  # T'T = Phi, unit columns
    Q = random_starts(3, 1, 11)[1]
    A = P @ T.T @ Q  # any orthogonal transformation of an unrotated solution
    out = rotate(A, method, random_state=0)
    perm, s = match_factors(out.loadings, P)
    np.testing.assert_allclose(out.loadings[:, perm] * s, P, atol=1e-5)
    np.testing.assert_allclose(out.phi[np.ix_(perm, perm)] * np.outer(s, s), Phi, atol=1e-5)
    assert out.criterion == pytest.approx(0.0, abs=1e-10)


@pytest.mark.parametrize("method", ["varimax", "promax", "oblimin", "quartimin", "geomin"])
def test_rotation_leaves_the_model_unchanged(bfi_corr: np.ndarray, method: str) -> None:
    A = extract(bfi_corr, 5, "minres").loadings
    out = rotate(A, method, random_state=0)
    np.testing.assert_allclose(out.loadings @ out.phi @ out.loadings.T, A @ A.T, atol=1e-10)
    np.testing.assert_allclose(A @ out.rotation_matrix, out.loadings, atol=1e-12)
    Ri = np.linalg.inv(out.rotation_matrix)
    np.testing.assert_allclose(Ri @ Ri.T, out.phi, atol=1e-10)
    np.testing.assert_allclose(np.diag(out.phi), 1.0, atol=1e-12)


def test_kaiser_normalisation_defaults_follow_psych() -> None:
    """psych::fa: stats::varimax (normalize = TRUE), kaiser(rotate = "Promax"), GPArotation's
    oblimin/quartimin/geominQ and every other GPArotation function, psych's equamax/bifactor/biquartimin
    (normalize = FALSE). The reference comparisons in test_efa and test_efa_methods confirm it."""
    assert {name for name, norm in DEFAULT_NORMALIZE.items() if norm} == {"varimax", "promax"}
    assert set(DEFAULT_NORMALIZE) == set(ROTATIONS)


def test_kaiser_normalisation_changes_oblimin(bfi_corr: np.ndarray) -> None:
    A = extract(bfi_corr, 5, "minres").loadings
    plain = rotate(A, "oblimin", random_state=0)
    normed = rotate(A, "oblimin", normalize=True, random_state=0)
    assert normed.normalize and not plain.normalize
    perm, s = match_factors(normed.loadings, plain.loadings)
    assert np.max(np.abs(normed.loadings[:, perm] * s - plain.loadings)) > 1e-3


def test_varimax_algorithms(bfi_corr: np.ndarray) -> None:
    """stats::varimax's rule stops short of the optimum; GPF goes to it: same solution within ~1e-3,
    GPF's criterion no worse."""
    A = extract(bfi_corr, 5, "ml").loadings
    kaiser = rotate(A, "varimax", algorithm="kaiser", random_state=0)
    gpf = rotate(A, "varimax", algorithm="gpf", random_state=0)
    perm, s = match_factors(gpf.loadings, kaiser.loadings)
    assert np.max(np.abs(gpf.loadings[:, perm] * s - kaiser.loadings)) < 3e-3
    assert gpf.criterion <= kaiser.criterion + 1e-12


# --- starts and local optima ------------------------------------------------------------------------


def test_random_starts() -> None:
    starts = random_starts(4, 5, 123)
    np.testing.assert_array_equal(starts[0], np.eye(4))
    for T in starts:
        np.testing.assert_allclose(T.T @ T, np.eye(4), atol=1e-12)
    np.testing.assert_array_equal(starts, random_starts(4, 5, 123))
    assert not np.allclose(starts, random_starts(4, 5, 124))


def test_every_geomin_start_finds_psychs_solution(bfi_corr, reference) -> None:
    """For the 5-factor bfi solution geomin has a single optimum: the identity and all ten random starts
    reach R's GPArotation::geominQ solution (its criterion, and its loadings)."""
    ref = reference["efa"]["minres_geominQ"]
    A = extract(bfi_corr, 5, "minres").loadings
    out = rotate(A, "geomin", n_starts=10, random_state=0)
    r_criterion = float(geomin_criterion(0.01)(np.array(ref["loadings"]))[0])
    np.testing.assert_allclose(out.start_criteria, r_criterion, rtol=1e-5)
    assert out.start == 0  # all tie: the identity is returned
    perm, s = match_factors(out.loadings, np.array(ref["loadings"]))
    assert np.max(np.abs(out.loadings[:, perm] * s - np.array(ref["loadings"]))) <= 1e-3


def test_geomin_local_optima_lowest_criterion_returned(bfi_corr) -> None:
    """With 8 bfi factors geomin has several local optima and the identity start ends in a worse one;
    the start with the lowest criterion is returned."""
    A = extract(bfi_corr, 8, "minres").loadings
    out = rotate(A, "geomin", n_starts=3, random_state=0)
    crit = out.start_criteria
    assert np.ptp(crit) > 1e-3, "distinct local optima"
    assert out.criterion == crit.min()
    assert out.start != 0 and crit[0] > crit.min() + 1e-3
    identity_only = rotate(A, "geomin", n_starts=0)
    assert identity_only.criterion == pytest.approx(crit[0])
    assert float(geomin_criterion(0.01)(out.loadings)[0]) == pytest.approx(out.criterion)


def test_rotation_convergence_warning(bfi_corr) -> None:
    A = extract(bfi_corr, 5, "minres").loadings
    with pytest.warns(ConvergenceWarning, match="geomin rotation did not converge in 2 iterations"):
        out = rotate(A, "geomin", max_iter=2, n_starts=0)
    assert not out.converged and out.n_iter == 2


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="rotation must be one of"):
        rotate(np.ones((4, 2)), "equimax")
    with pytest.raises(ValueError, match="algorithm"):
        rotate(np.ones((4, 2)), "varimax", algorithm="svd")


def test_one_factor_is_not_rotated() -> None:
    A = np.array([[0.5], [0.6], [0.7]])
    out = rotate(A, "oblimin")
    np.testing.assert_array_equal(out.loadings, A)
    np.testing.assert_array_equal(out.phi, np.eye(1))


def test_align_factors_by_hand() -> None:
    target = np.array([[0.8, 0.0], [0.7, 0.1], [0.0, 0.6], [0.1, 0.7]])
    shuffled = target[:, [1, 0]] * np.array([1.0, -1.0])  # swapped and the second flipped
    perm, signs, congruence = align_factors(shuffled, target)
    np.testing.assert_array_equal(perm, [1, 0])
    np.testing.assert_array_equal(signs, [-1.0, 1.0])
    np.testing.assert_allclose(shuffled[:, perm] * signs, target)
    np.testing.assert_allclose(congruence, 1.0)
    x, y = target[:, 0], target[:, 1]
    assert tucker_congruence(target, target)[0, 1] == pytest.approx(x @ y / np.sqrt((x @ x) * (y @ y)))
