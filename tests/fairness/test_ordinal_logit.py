"""The proportional-odds fit against statsmodels' OrderedModel, and its derivatives by finite differences."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from statsmodels.miscmodels.ordinal_model import OrderedModel

from profiler.fairness import fit_ordinal_logit
from profiler.fairness.ordinal import _derivatives, null_loglik


def statsmodels_fit(y, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' own convergence chatter is not under test
        res = OrderedModel(y, X, distr="logit").fit(method="bfgs", disp=False, maxiter=5000, gtol=1e-9)
    p = X.shape[1]
    thresholds = res.model.transform_threshold_params(res.params)[1:-1]
    return res, res.params[:p], thresholds


def test_against_ordered_model_on_big5(big5):
    # E9 (keyed) on its rest score, sex and their product: the DIF model M3, 1,500 people
    data = big5.dropna(subset=[f"E{i}" for i in range(1, 11)] + ["sex"])
    data = data[data.sex.isin(["male", "female"])].iloc[:1500]
    keyed = data[[f"E{i}" for i in range(1, 11)]].to_numpy().copy()
    keyed[:, 1::2] = 6 - keyed[:, 1::2]  # E2, E4, ... reverse keyed
    y = keyed[:, 8].astype(int) - 1
    rest = keyed.sum(axis=1) - keyed[:, 8]
    rest = rest - rest.mean()
    g = (data.sex == "female").to_numpy(float)
    X = np.column_stack([rest, g, rest * g])
    ours = fit_ordinal_logit(y, X)
    res, coef, thresholds = statsmodels_fit(y, X)
    assert ours.converged
    assert ours.loglik == pytest.approx(res.llf, rel=1e-10)
    assert ours.coef == pytest.approx(coef, abs=1e-5)
    assert ours.thresholds == pytest.approx(thresholds, abs=1e-5)
    assert ours.se_coef == pytest.approx(res.bse[:3], rel=1e-4)


def test_frequency_weights_give_the_same_fit():
    rng = np.random.default_rng(5)
    x = rng.integers(0, 6, 800).astype(float)
    g = rng.integers(0, 2, 800).astype(float)
    y = np.clip(np.round(0.5 * x + 0.7 * g + rng.logistic(size=800) * 0.8), 0, 4).astype(int)
    X = np.column_stack([x, g])
    raw = fit_ordinal_logit(y, X)
    patterns, w = np.unique(np.column_stack([y, x, g]), axis=0, return_counts=True)
    collapsed = fit_ordinal_logit(patterns[:, 0].astype(int), patterns[:, 1:], weights=w)
    assert collapsed.loglik == pytest.approx(raw.loglik, rel=1e-12)
    assert collapsed.coef == pytest.approx(raw.coef, abs=1e-8)
    assert collapsed.se_coef == pytest.approx(raw.se_coef, rel=1e-6)
    assert collapsed.n == raw.n == 800


def test_gradient_and_hessian_by_finite_differences():
    rng = np.random.default_rng(2)
    n, J = 300, 4
    X = rng.normal(size=(n, 2))
    y = rng.integers(0, J, n)
    onehot = np.eye(J)[y]
    w = rng.integers(1, 4, n).astype(float)
    theta, beta = np.array([-1.0, 0.2, 1.1]), np.array([0.3, -0.4])
    v = np.concatenate([theta, beta])
    f = lambda v: _derivatives(v[:3], v[3:], y, X, onehot, w, 0)[0]  # noqa: E731
    _, grad, H = _derivatives(theta, beta, y, X, onehot, w, 2)
    h = 1e-5
    E = np.eye(len(v))
    num_grad = np.array([(f(v + h * e) - f(v - h * e)) / (2 * h) for e in E])
    assert grad == pytest.approx(num_grad, rel=1e-6, abs=1e-6)
    g = lambda v: _derivatives(v[:3], v[3:], y, X, onehot, w, 1)[1]  # noqa: E731
    num_H = np.array([(g(v + h * e) - g(v - h * e)) / (2 * h) for e in E])
    assert H == pytest.approx(num_H, rel=1e-5, abs=1e-5)


def test_thresholds_only_model_is_the_null_loglik():
    y = np.array([0, 0, 1, 2, 2, 2, 3, 1, 0, 2])
    fit = fit_ordinal_logit(y, np.zeros((10, 0)))
    assert fit.loglik == pytest.approx(null_loglik(y, 4), rel=1e-9)


def test_unused_category_is_an_error():
    with pytest.raises(ValueError, match="every category"):
        fit_ordinal_logit(np.array([0, 2, 2]), np.ones((3, 1)))
