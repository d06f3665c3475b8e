"""The pattern-grouped incomplete-data likelihood (profiler.factors._missing_patterns) against direct
calculations: row by row log-likelihoods, numerical derivatives of its exact gradient, numpy's inverses."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from profiler.factors import _missing_patterns as mpat


@pytest.fixture(scope="module")
def incomplete():
    """400 rows of 5 correlated normals, a quarter of the cells missing (every row keeps one answer)."""
    rng = np.random.default_rng(7)
    A = rng.normal(size=(5, 5))
    sigma = A @ A.T + np.eye(5)
    X = rng.multivariate_normal(np.arange(5.0), sigma, size=400)
    holes = rng.random(X.shape) < 0.25
    holes[holes.all(axis=1), 0] = False
    X[holes] = np.nan
    mu = np.nanmean(X, axis=0) + 0.1
    S = np.cov(np.where(np.isnan(X), np.nanmean(X, axis=0), X), rowvar=False) + 0.2 * np.eye(5)
    return X, mu, S


def _moments_gradient(mp, mu, sigma):
    """dl/d(mu, vech Sigma) (an off-diagonal covariance counts both triangles)."""
    g_mu, G = mpat.evaluate(mp, mu, sigma).gradient(mp.n)
    r, c, _ = mpat.vech_index(mp.p)
    return np.concatenate([g_mu, G[r, c] * np.where(r == c, 1.0, 2.0)])


def _unpack(v, p):
    r, c, _ = mpat.vech_index(p)
    S = np.zeros((p, p))
    S[r, c] = v[p:]
    S[c, r] = v[p:]
    return v[:p], S


def test_loglik_is_the_sum_of_the_rows(incomplete):
    X, mu, S = incomplete
    mp = mpat.MissingPatterns(X)
    expected = 0.0
    for x in X:
        o = ~np.isnan(x)
        expected += stats.multivariate_normal(mu[o], S[np.ix_(o, o)]).logpdf(x[o])
    assert mpat.evaluate(mp, mu, S).loglik == pytest.approx(expected, rel=1e-12)


def test_observed_information_is_minus_the_hessian(incomplete):
    X, mu, S = incomplete
    mp = mpat.MissingPatterns(X)
    p = mp.p
    r, c, _ = mpat.vech_index(p)
    x0 = np.concatenate([mu, S[r, c]])
    H = np.empty((x0.size, x0.size))
    for j in range(x0.size):  # central differences of the exact gradient
        e = np.zeros_like(x0)
        e[j] = 1e-5
        H[:, j] = (_moments_gradient(mp, *_unpack(x0 + e, p)) - _moments_gradient(mp, *_unpack(x0 - e, p))) / 2e-5
    info = mpat.information(mp, mpat.evaluate(mp, mu, S, keep=True))
    np.testing.assert_allclose(info, -H / mp.n, atol=1e-7 * np.abs(H / mp.n).max())


def test_casewise_scores_add_up_to_the_gradient(incomplete):
    X, mu, S = incomplete
    mp = mpat.MissingPatterns(X)
    ev = mpat.evaluate(mp, mu, S, keep=True)
    total = np.zeros(mp.p + mp.p * (mp.p + 1) // 2)
    outer = np.zeros((total.size, total.size))
    seen = []
    for rows, G in mpat.casewise_scores(mp, ev, mu):
        total += G.sum(axis=1)
        outer += G @ G.T
        seen.extend(rows)
    assert sorted(seen) == list(range(mp.n))
    np.testing.assert_allclose(total, _moments_gradient(mp, mu, S), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(mpat.first_order(mp, ev, mu), outer / mp.n, rtol=1e-12)


@pytest.mark.parametrize("s", [1, 2, 3, 4, 5])
def test_small_inverses_and_determinants(s):
    rng = np.random.default_rng(s)
    A = rng.normal(size=(30, s, s))
    T = A @ A.transpose(0, 2, 1) + 0.1 * np.eye(s)
    logdet, inv = mpat._inverse_pd(T)
    np.testing.assert_allclose(inv, np.linalg.inv(T), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(logdet, np.linalg.slogdet(T)[1], rtol=1e-12)
    T[7] = -T[7]  # one matrix not positive definite: the whole stack is refused
    assert mpat._inverse_pd(T)[1] is None
