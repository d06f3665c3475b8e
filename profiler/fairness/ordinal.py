"""Proportional-odds (cumulative logit) regression, vectorized, for ordinal logistic regression DIF.

P(Y <= j | x) = F(theta_j - x'beta), j = 1..J-1, F the logistic CDF (the parameterization of
statsmodels' ``OrderedModel`` and of R's ``MASS::polr``, whose ``zeta`` are the thetas). For a person in
category j, a = theta_j - x'beta and b = theta_{j-1} - x'beta (theta_0 = -inf, theta_J = +inf), the
likelihood is p = F(a) - F(b) and

    d log p / da = f(a) / p,    d log p / db = -f(b) / p,               f = F (1 - F)
    d2 / da2 = f'(a)/p - (f(a)/p)^2,  d2 / db2 = -f'(b)/p - (f(b)/p)^2,  d2 / da db = f(a) f(b) / p^2

with f' = f (1 - 2F); a and b move with +1 in their threshold and -x in beta. The thresholds are
optimised as theta_1 and log increments (theta_j = theta_{j-1} + exp(v_j)), so that every trial point is
ordered, by ``scipy.optimize.minimize(method="trust-exact")`` with the analytic gradient and Hessian
(chain rule through the increments). Standard errors come from the observed information in the
theta/beta parameterization.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy.special import expit

__all__ = ["OrdinalConvergenceWarning", "OrdinalFit", "fit_ordinal_logit", "null_loglik"]


class OrdinalConvergenceWarning(UserWarning):
    """The proportional-odds fit stopped before converging: its likelihood-ratio tests cannot be trusted."""


@dataclass(frozen=True)
class OrdinalFit:
    """A fitted proportional-odds model: ``thresholds`` (J - 1), ``coef`` (one per column of X), their
    standard errors, ``loglik``, ``n``, ``n_iter`` and ``converged``."""

    thresholds: np.ndarray
    coef: np.ndarray
    se_thresholds: np.ndarray
    se_coef: np.ndarray
    loglik: float
    n: int
    n_iter: int
    converged: bool


def null_loglik(y: np.ndarray, n_categories: int, weights: np.ndarray | None = None) -> float:
    """Log-likelihood of the thresholds-only model: sum n_j log(n_j / n)."""
    counts = np.bincount(y, weights=weights, minlength=n_categories).astype(float)
    counts = counts[counts > 0]
    return float(np.sum(counts * np.log(counts / counts.sum())))


def _derivatives(theta: np.ndarray, beta: np.ndarray, y: np.ndarray, X: np.ndarray, onehot: np.ndarray,
                 w: np.ndarray, order: int):
    """Log-likelihood and, for order >= 1, its gradient and (order 2) Hessian in (theta, beta).

    ``w`` are frequency weights (1 per person, or the count of people sharing a row of y and X).
    """
    J = len(theta) + 1
    eta = X @ beta
    cuts = np.concatenate([[-np.inf], theta, [np.inf]])
    a = cuts[y + 1] - eta
    b = cuts[y] - eta
    Fa, Fb = expit(a), expit(b)
    # upper tail for precision when both cut points are far to the right
    p = np.where(b > 0, expit(-b) - expit(-a), Fa - Fb)
    with np.errstate(divide="ignore"):
        loglik = float(np.sum(w * np.log(p)))
    if order == 0 or not np.isfinite(loglik):
        return loglik, None, None
    fa, fb = Fa * expit(-a), Fb * expit(-b)
    ua, ub = fa / p, -fb / p
    upper, lower = onehot[:, : J - 1], onehot[:, 1:]  # category c uses theta_c as a, theta_{c-1} as b
    g_theta = upper.T @ (w * ua) + lower.T @ (w * ub)
    g_beta = -(X.T @ (w * (ua + ub)))
    grad = np.concatenate([g_theta, g_beta])
    if order == 1:
        return loglik, grad, None
    haa = w * (fa * (1 - 2 * Fa) / p - ua**2)
    hbb = w * (-fb * (1 - 2 * Fb) / p - ub**2)
    hab = -w * ua * ub  # f(a) f(b) / p^2
    k = J - 1
    H = np.zeros((k + X.shape[1], k + X.shape[1]))
    tt = np.diag(upper.T @ haa + lower.T @ hbb)
    off = onehot[:, 1: J - 1].T @ hab  # theta_c with theta_{c-1}, for categories 1..J-2
    idx = np.arange(1, k)
    tt[idx, idx - 1] = off
    tt[idx - 1, idx] = off
    H[:k, :k] = tt
    tb = -(upper.T @ ((haa + hab)[:, None] * X) + lower.T @ ((hab + hbb)[:, None] * X))
    H[:k, k:] = tb
    H[k:, :k] = tb.T
    H[k:, k:] = X.T @ ((haa + 2 * hab + hbb)[:, None] * X)
    return loglik, grad, H


def _theta(v: np.ndarray, k: int) -> np.ndarray:
    return np.cumsum(np.concatenate([v[:1], np.exp(v[1:k])]))


def _jacobian(v: np.ndarray, k: int) -> np.ndarray:
    """d theta / d v: column 0 all ones; column j (>= 1) exp(v_j) from row j on."""
    D = np.zeros((k, k))
    D[:, 0] = 1.0
    for j in range(1, k):
        D[j:, j] = np.exp(v[j])
    return D


def fit_ordinal_logit(y: np.ndarray, X: np.ndarray, *, weights: np.ndarray | None = None,
                      start: np.ndarray | None = None, tol: float = 1e-9, max_iter: int = 200) -> OrdinalFit:
    """Maximum-likelihood proportional-odds regression of ``y`` on ``X`` (no intercept column).

    Parameters
    ----------
    y : ndarray of int
        Categories coded 0..J-1, every one of them present (recode unused categories first).
    X : ndarray, shape (n, p)
        Predictors; p may be 0.
    weights : ndarray, optional
        Frequency weights: row i stands for ``weights[i]`` people with the same y and X. Collapsing
        identical rows this way gives the same fit as the raw data, much faster (DIF has at most
        categories x rest scores x 2 distinct rows).
    start : ndarray, optional
        Starting (thresholds, coef), e.g. the estimates of a nested model with zeros appended.
    tol : float, default 1e-9
        Converged when the Newton decrement g' H^-1 g (twice the log-likelihood still to gain, to second
        order) is below ``tol``: a criterion on the likelihood-ratio statistics themselves.

    Notes
    -----
    In R: ``MASS::polr(factor(y) ~ X, method = "logistic")`` (``zeta`` = thresholds); statsmodels:
    ``OrderedModel(y, X, distr="logit")``, whose threshold parameters after the first are log increments.
    """
    y = np.asarray(y, dtype=np.int64)
    X = np.asarray(X, dtype=float).reshape(len(y), -1)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != y.shape or np.any(w < 0):
        raise ValueError("weights must be non-negative, one per row of y")
    J = int(y.max()) + 1
    counts = np.bincount(y, weights=w, minlength=J)
    if J < 2 or np.any(counts == 0):
        raise ValueError(f"y must use every category 0..{J - 1} (counts {counts.tolist()})")
    k, p = J - 1, X.shape[1]
    onehot = np.zeros((len(y), J))
    onehot[np.arange(len(y)), y] = 1.0
    if start is None:
        cum = np.cumsum(counts)[:-1] / counts.sum()
        theta0, beta0 = np.log(cum / (1 - cum)), np.zeros(p)
    else:
        theta0, beta0 = np.asarray(start[:k], float), np.asarray(start[k:], float)
    v0 = np.concatenate([theta0[:1], np.log(np.diff(theta0)), beta0])

    cache: dict = {}

    def evaluate(v: np.ndarray):
        key = v.tobytes()
        if key not in cache:
            cache.clear()
            value, grad, H = _derivatives(_theta(v, k), v[k:], y, X, onehot, w, 2)
            cache[key] = (value, grad, H)
        return cache[key]

    def fun(v):
        value, grad, _ = evaluate(v)
        if not np.isfinite(value):
            return np.inf, np.zeros_like(v)
        D = _jacobian(v, k)
        g = np.concatenate([D.T @ grad[:k], grad[k:]])
        return -value, -g

    def hess(v):
        value, grad, H = evaluate(v)
        if not np.isfinite(value):
            return np.eye(len(v))
        D = _jacobian(v, k)
        T = np.zeros((len(v), len(v)))
        T[:k, :k] = D
        T[k:, k:] = np.eye(p)
        Hv = T.T @ H @ T
        # second derivative of theta in the increments: d2 theta_i / d v_j^2 = exp(v_j) for 1 <= j <= i
        tail = np.cumsum(grad[:k][::-1])[::-1]  # sum_{i >= j} g_theta_i
        Hv[np.arange(1, k), np.arange(1, k)] += np.exp(v[1:k]) * tail[1:]
        return -Hv

    with np.errstate(over="ignore", invalid="ignore"):
        res = optimize.minimize(fun, v0, jac=True, hess=hess, method="trust-exact",
                                options={"gtol": 1e-10, "maxiter": max_iter})
    theta, beta = _theta(res.x, k), res.x[k:]
    loglik, grad, H = _derivatives(theta, beta, y, X, onehot, w, 2)
    # trust-exact may stop with "a bad approximation" when the remaining gain is below rounding error
    # of the log-likelihood: judge convergence by the Newton decrement instead
    try:
        decrement = float(grad @ np.linalg.solve(-H, grad)) if np.isfinite(loglik) else np.inf
    except np.linalg.LinAlgError:
        decrement = np.inf
    converged = bool(0 <= decrement < tol)
    if not converged:
        warnings.warn(f"ordinal logistic regression did not converge ({res.message}); its likelihood-ratio "
                      "tests cannot be trusted", OrdinalConvergenceWarning, stacklevel=2)
    try:
        cov = np.linalg.inv(-H)
        se = np.sqrt(np.clip(np.diag(cov), 0, None))
    except np.linalg.LinAlgError:
        se = np.full(k + p, np.nan)
    return OrdinalFit(thresholds=theta, coef=beta, se_thresholds=se[:k], se_coef=se[k:], loglik=loglik,
                      n=int(round(w.sum())), n_iter=int(res.nit), converged=converged)
