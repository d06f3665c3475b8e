"""Standard errors of rotated ML loadings: lavaan's bordered information (``efa_se_reference.json`` from
``make_efa_se_reference.R``, lavaan 0.6-14) and a Monte Carlo check of the standardised ones."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from profiler.factors._efa_se import rotated_ml_standard_errors
from profiler.factors.efa import EFA
from profiler.factors.rotation import align_factors

REFERENCE = Path(__file__).parents[1] / "fixtures" / "reference" / "efa_se_reference.json"


@pytest.fixture(scope="module")
def ref() -> dict:
    return json.loads(REFERENCE.read_text())


@pytest.mark.parametrize(("rotation", "tol"), [("oblimin", 2e-4), ("geomin", 2e-4), ("varimax", 5e-3)])
def test_bordered_information_reproduces_lavaans_standard_errors(bfi25, ref, rotation, tol) -> None:
    """With lavaan's scaling of the constraints, the covariance-metric SEs are lavaan's parameterEstimates
    ones (varimax: stats::varimax stops 1e-3 short of the optimum lavaan's GPA reaches, hence 5e-3)."""
    r = ref["fits"][rotation]
    sd = np.array(ref["sd"])
    efa = EFA(5, method="ml", rotation=rotation, random_state=0).fit(bfi25)
    L, phi = efa.loadings_.to_numpy(), efa.phi_.to_numpy()
    lavaan_std = np.array(r["raw_loadings"]) / sd[:, None]
    perm, signs, congruence = align_factors(L, lavaan_std)
    assert np.all(congruence > 0.99)
    assert np.max(np.abs(L[:, perm] * signs - lavaan_std)) <= (2e-3 if rotation == "varimax" else 5e-5)
    se, _ = rotated_ml_standard_errors(L, phi, ref["n"], rotation, normalize=rotation == "varimax",
                                       scaling="lavaan", standardized=False)
    raw_se = np.array(r["raw_se"])
    assert np.max(np.abs(se[:, perm] * sd[:, None] - raw_se) / raw_se) <= tol


def test_orthogonal_rotations_do_not_depend_on_the_scaling(bfi25, ref) -> None:
    efa = EFA(5, method="ml", rotation="quartimax", random_state=0, standard_errors=True).fit(bfi25)
    lav, _ = rotated_ml_standard_errors(efa.loadings_.to_numpy(), efa.phi_.to_numpy(), ref["n"], "quartimax",
                                        normalize=False, scaling="lavaan")
    np.testing.assert_allclose(efa.loadings_se_.to_numpy(), lav, rtol=1e-6)
    assert (efa.phi_se_.to_numpy() == 0).all()


def _population() -> tuple[np.ndarray, np.ndarray]:
    L = np.zeros((9, 3))
    for i in range(9):
        L[i, i // 3] = (0.75, 0.65, 0.55)[i % 3]
    L[2, 1], L[5, 2] = 0.3, 0.25  # two cross-loadings
    phi = np.array([[1.0, 0.3, 0.2], [0.3, 1.0, 0.4], [0.2, 0.4, 1.0]])
    return L, phi


@pytest.mark.parametrize("rotation", ["oblimin", "geomin", "none"])
def test_standard_errors_match_the_spread_of_estimates_in_simulation(rotation) -> None:
    """200 samples of 600 from a 3-factor population: the analytic SEs (profiler's scaling) agree with
    the standard deviations of the estimates (Monte Carlo error of an SD from 200 draws: ~5%)."""
    L, phi = _population()
    sigma = L @ phi @ L.T
    np.fill_diagonal(sigma, 1.0)
    rng = np.random.default_rng(42)
    chol = np.linalg.cholesky(sigma)
    n = 600
    fit = EFA(3, method="ml", rotation=rotation, n_starts=0, standard_errors=True).fit_correlation(sigma, n_obs=n)
    target = fit.loadings_.to_numpy()
    draws = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an occasional Heywood draw is part of the sampling distribution
        for _ in range(200):
            est = EFA(3, method="ml", rotation=rotation, n_starts=0).fit(rng.standard_normal((n, 9)) @ chol.T)
            G = est.loadings_.to_numpy()
            perm, signs, _ = align_factors(G, target)
            draws.append(G[:, perm] * signs)
    empirical = np.std(np.array(draws), axis=0, ddof=1)
    ratio = fit.loadings_se_.to_numpy() / empirical
    assert 0.92 <= np.median(ratio) <= 1.08
    assert np.all((ratio > 0.7) & (ratio < 1.4))


def test_standard_errors_are_refused_where_they_are_not_defined(bfi25) -> None:
    with pytest.raises(ValueError, match="method='ml'"):
        EFA(5, standard_errors=True).fit(bfi25)
    with pytest.raises(ValueError, match="smooth criterion"):
        EFA(5, method="ml", rotation="promax", standard_errors=True).fit(bfi25)
    with pytest.raises(ValueError, match="sample size"):
        EFA(5, method="ml", standard_errors=True).fit_correlation(bfi25.corr())
    with pytest.raises(ValueError, match="scaling"):
        rotated_ml_standard_errors(np.ones((4, 2)) * 0.5, np.eye(2), 100, "varimax", normalize=True, scaling="x")
