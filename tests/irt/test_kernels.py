"""Item response functions: probabilities and analytic derivatives against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from profiler.irt import _kernels

THETA = np.linspace(-5, 5, 11)
CASES = {
    "graded": (np.array([1.3, 0.6, 2.4]), np.array([[2.0, 0.5, -1.0], [1.0, -0.2, -2.5], [3.0, 0.0, -3.0]])),
    "gpcm": (np.array([1.3, 0.6, 2.4]), np.array([[0.4, -0.3, -1.2], [1.1, 0.2, -0.9], [-0.5, 0.3, 0.1]])),
}


def _log_p(model, psi):
    return _kernels.log_probabilities(model, psi[:, 0], psi[:, 1:], THETA)


@pytest.mark.parametrize("model", list(CASES))
def test_probabilities_sum_to_one_and_match_the_formula(model):
    a, d = CASES[model]
    p = _kernels.probabilities(model, a, d, THETA)
    assert p.sum(axis=2) == pytest.approx(1.0, abs=1e-14)
    j, q = 0, 3
    t = THETA[q]
    if model == "graded":
        star = np.concatenate([[1.0], 1 / (1 + np.exp(-(a[j] * t + d[j]))), [0.0]])
        expected = star[:-1] - star[1:]
    else:
        z = np.arange(4) * a[j] * t + np.concatenate([[0.0], d[j]])
        expected = np.exp(z) / np.exp(z).sum()
    assert p[j, q] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("model", list(CASES))
def test_parameter_derivatives_match_finite_differences(model):
    a, d = CASES[model]
    psi = np.column_stack([a, d])
    _, dlog, d2log = _kernels.parameter_derivatives(model, a, d, THETA)
    eps = 1e-6
    for k in range(psi.shape[1]):
        up, down = psi.copy(), psi.copy()
        up[:, k] += eps
        down[:, k] -= eps
        assert dlog[..., k] == pytest.approx((_log_p(model, up) - _log_p(model, down)) / (2 * eps), abs=1e-6)
        _, g_up, _ = _kernels.parameter_derivatives(model, up[:, 0], up[:, 1:], THETA, hessian=False)
        _, g_down, _ = _kernels.parameter_derivatives(model, down[:, 0], down[:, 1:], THETA, hessian=False)
        assert d2log[..., k, :] == pytest.approx((g_up - g_down) / (2 * eps), abs=1e-5)


@pytest.mark.parametrize("model", list(CASES))
def test_theta_derivatives_and_information(model):
    a, d = CASES[model]
    p, dlog, d2log = _kernels.theta_derivatives(model, a, d, THETA)
    eps = 1e-6
    up = _kernels.log_probabilities(model, a, d, THETA + eps)
    down = _kernels.log_probabilities(model, a, d, THETA - eps)
    assert dlog == pytest.approx((up - down) / (2 * eps), abs=1e-6)
    _, g_up, _ = _kernels.theta_derivatives(model, a, d, THETA + eps)
    _, g_down, _ = _kernels.theta_derivatives(model, a, d, THETA - eps)
    assert d2log == pytest.approx((g_up - g_down) / (2 * eps), abs=1e-5)
    # Fisher information: E[(d log P)^2] = -E[d2 log P].
    info = _kernels.information(model, a, d, THETA)
    assert info == pytest.approx(-(p * d2log).sum(axis=2), rel=1e-8)


def test_padded_categories_have_probability_zero():
    a = np.array([1.0, 1.5])
    d = np.array([[1.0, -1.0, -np.inf], [0.5, 0.0, -np.inf]])
    p_graded = _kernels.probabilities("graded", a, d[:1], THETA)
    assert np.all(p_graded[..., 3] == 0)
    assert p_graded.sum(axis=2) == pytest.approx(1.0)
    p_gpcm = _kernels.probabilities("gpcm", a[1:], d[1:], THETA)
    assert np.all(p_gpcm[..., 3] == 0)


def test_graded_probabilities_keep_precision_far_from_the_thresholds():
    # At theta = 6 with a steep item, P(X = 0) is about exp(-40): computed, not lost to 1 - 1.
    p = _kernels.probabilities("graded", np.array([8.0]), np.array([[8.0, 7.0]]), np.array([6.0]))
    assert p[0, 0, 0] == pytest.approx(1 / (1 + np.exp(56.0)), rel=1e-10)
