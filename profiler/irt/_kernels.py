"""Item response functions and their derivatives, vectorised over items, nodes and categories.

Every kernel works on one block of items of the same model and number of categories ``K``:
``a`` (J,) slopes, ``d`` (J, K-1) intercepts (slope/intercept form, as mirt), ``theta`` (Q,) nodes.
Arrays come back shaped (J, Q, K[, p[, p]]) where ``p = K`` parameters per item: ``a`` first, then
``d1..d(K-1)``.

- graded (Samejima): P(X >= k) = 1 / (1 + exp(-(a theta + d_k))), d_1 > d_2 > ...;
  a binary graded item is the 2PL.
- gpcm (generalized partial credit, mirt's parameterisation): P(X = k) ~ exp(k a theta + d_k), d_0 = 0.

Intercepts of categories an item does not have are ``-inf`` (padding), which gives them probability 0
in :func:`probabilities`, so that banks of items with different ``K`` share one array.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, log_softmax, softmax

MODELS = ("graded", "gpcm")
TINY = np.finfo(float).tiny


def _graded_cumulative(a: np.ndarray, d: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P(X >= k) and P(X < k) for k = 0..K (J, Q, K+1), both computed directly (no 1 - p cancellation)."""
    eta = a[:, None, None] * theta[None, :, None] + d[:, None, :]
    upper = expit(eta)
    lower = expit(-eta)
    shape = eta.shape[:2] + (1,)
    ones, zeros = np.ones(shape), np.zeros(shape)
    return np.concatenate([ones, upper, zeros], axis=2), np.concatenate([zeros, lower, ones], axis=2)


def _graded_categories(upper: np.ndarray, lower: np.ndarray) -> np.ndarray:
    # P_c = P*_c - P*_{c+1}, or equivalently Q*_{c+1} - Q*_c: take whichever subtracts smaller numbers.
    from_upper = upper[..., :-1] - upper[..., 1:]
    from_lower = lower[..., 1:] - lower[..., :-1]
    return np.maximum(np.where(upper[..., :-1] + upper[..., 1:] > 1, from_lower, from_upper), 0.0)


def probabilities(model: str, a: np.ndarray, d: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Category probabilities (J, Q, K)."""
    if model == "graded":
        return _graded_categories(*_graded_cumulative(a, d, theta))
    z = _gpcm_logits(a, d, theta)
    return softmax(z, axis=2)


def log_probabilities(model: str, a: np.ndarray, d: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """log P(X = k) (J, Q, K), with log(0) = -inf for padded categories."""
    if model == "graded":
        with np.errstate(divide="ignore"):
            return np.log(probabilities(model, a, d, theta))
    return log_softmax(_gpcm_logits(a, d, theta), axis=2)


def _gpcm_logits(a: np.ndarray, d: np.ndarray, theta: np.ndarray) -> np.ndarray:
    k = np.arange(d.shape[1] + 1)
    d0 = np.concatenate([np.zeros((len(a), 1)), d], axis=1)
    return (a[:, None, None] * theta[None, :, None]) * k[None, None, :] + d0[:, None, :]


def parameter_derivatives(
    model: str, a: np.ndarray, d: np.ndarray, theta: np.ndarray, hessian: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """P (J, Q, K), d log P / d psi (J, Q, K, p) and d2 log P / d psi2 (J, Q, K, p, p) (None if not asked)."""
    if model == "graded":
        return _graded_parameter_derivatives(a, d, theta, hessian)
    return _gpcm_parameter_derivatives(a, d, theta, hessian)


def _graded_parameter_derivatives(a, d, theta, hessian):
    upper, lower = _graded_cumulative(a, d, theta)
    p_cat = _graded_categories(upper, lower)
    J, Q, K1 = upper.shape
    K = K1 - 1
    w = upper * lower  # logistic density at each boundary (0 at the two ends)
    # d P*_k / d psi: (J, Q, K+1, p); parameter 0 is a (times theta), parameter k is d_k for boundary k.
    dstar = np.zeros((J, Q, K + 1, K))
    dstar[:, :, :, 0] = w * theta[None, :, None]
    idx = np.arange(1, K)
    dstar[:, :, idx, idx] = w[:, :, idx]
    dp = dstar[:, :, :-1] - dstar[:, :, 1:]
    safe = np.maximum(p_cat, TINY)[..., None]
    dlog = dp / safe
    if not hessian:
        return p_cat, dlog, None
    v = w * (1.0 - 2.0 * upper)  # second derivative of the logistic at each boundary
    d2star = np.zeros((J, Q, K + 1, K, K))
    t = theta[None, :, None]
    d2star[:, :, :, 0, 0] = v * t * t
    d2star[:, :, idx, 0, idx] = v[:, :, idx] * theta[None, :, None]
    d2star[:, :, idx, idx, 0] = d2star[:, :, idx, 0, idx]
    d2star[:, :, idx, idx, idx] = v[:, :, idx]
    d2p = d2star[:, :, :-1] - d2star[:, :, 1:]
    d2log = d2p / safe[..., None] - dlog[..., :, None] * dlog[..., None, :]
    return p_cat, dlog, d2log


def _gpcm_parameter_derivatives(a, d, theta, hessian):
    p = softmax(_gpcm_logits(a, d, theta), axis=2)  # (J, Q, K)
    J, Q, K = p.shape
    k = np.arange(K, dtype=float)
    t = theta[None, :, None]
    mean_k = (p * k).sum(axis=2, keepdims=True)
    dlog = np.empty((J, Q, K, K))
    dlog[..., 0] = t * (k[None, None, :] - mean_k)
    # d log P_c / d d_m = [c == m] - P_m for m = 1..K-1
    dlog[..., 1:] = np.eye(K)[None, None, :, 1:] - p[:, :, None, 1:]
    if not hessian:
        return p, dlog, None
    # The Hessian of log P_c is minus the covariance of the sufficient statistics (theta*k, e_1..e_{K-1}),
    # the same for every category c.
    centred_k = k[None, None, :] - mean_k  # (J, Q, K)
    cov = np.empty((J, Q, K, K))
    cov[..., 0, 0] = (theta**2)[None, :] * (p * centred_k**2).sum(axis=2)
    cross = theta[None, :, None] * p[:, :, 1:] * centred_k[:, :, 1:]
    cov[..., 0, 1:] = cross
    cov[..., 1:, 0] = cross
    pd_ = p[:, :, 1:]
    cov[..., 1:, 1:] = pd_[..., :, None] * (np.eye(K - 1)[None, None] - pd_[..., None, :])
    d2log = np.broadcast_to(-cov[:, :, None], (J, Q, K, K, K))
    return p, dlog, d2log


def theta_derivatives(model: str, a: np.ndarray, d: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, ...]:
    """P, d log P / d theta and d2 log P / d theta2, each (J, Q, K)."""
    if model == "graded":
        upper, lower = _graded_cumulative(a, d, theta)
        p_cat = _graded_categories(upper, lower)
        w = upper * lower
        v = w * (1.0 - 2.0 * upper)
        safe = np.maximum(p_cat, TINY)
        a3 = a[:, None, None]
        dlog = a3 * (w[..., :-1] - w[..., 1:]) / safe
        d2log = a3 * a3 * (v[..., :-1] - v[..., 1:]) / safe - dlog**2
        return p_cat, dlog, d2log
    p = softmax(_gpcm_logits(a, d, theta), axis=2)
    k = np.arange(p.shape[2], dtype=float)
    mean_k = (p * k).sum(axis=2, keepdims=True)
    var_k = (p * (k - mean_k) ** 2).sum(axis=2, keepdims=True)
    a3 = a[:, None, None]
    dlog = a3 * (k[None, None, :] - mean_k)
    d2log = np.broadcast_to(-(a3**2) * var_k, p.shape)
    return p, dlog, d2log


def information(model: str, a: np.ndarray, d: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Fisher information of each item at each theta (J, Q): sum_k P_k (d log P_k / d theta)^2."""
    p, dlog, _ = theta_derivatives(model, a, d, theta)
    return (p * dlog**2).sum(axis=2)
