"""Robust ML for continuous data: MLR (Huber-White, Yuan-Bentler) and MLM (Satorra-Bentler), as lavaan.

Per group g, with m = (mu, vech Sigma) the model moments (mu only with a mean structure), Delta_g =
dm/dtheta (exact, :mod:`profiler.factors._cfa_model`), W = Sigma^-1 and d_i = y_i - mu at the
estimates, the casewise scores of the saturated (h1) normal log-likelihood are

    g_i = (W d_i,  vech*(W d_i d_i' W - W))        vech*: off-diagonal entries once, diagonal halved

**MLR** (lavaan: ``se = "robust.huber.white"``, ``test = "yuan.bentler.mplus"``, observed information):
A0 = the observed information of the model per observation (half the Hessian of the ML discrepancy),
B0 = sum_g f_g Delta_g' B1_g Delta_g with B1_g = mean of g_i g_i'; cov(theta) = A0^-1 B0 A0^-1 / N.
The scaling factor is c = [sum_g tr(B1_g A1_g^-1) - sum_g f_g tr(Delta_g' B1_g Delta_g A0^-1)] / df,
A1_g the h1 information and B1_g in the first trace at the sample moments (lavaan's
``h1.information = "unstructured"`` for this test); chisq_scaled = chisq / c.

**MLM** (``se = "robust.sem"``, ``test = "satorra.bentler"``, expected information): with Gamma_g the
fourth-moment (ADF) covariance of vech((y_i - ybar)(y_i - ybar)') and V_g the normal-theory weight
1/2 D'(W (x) W) D at the model, E = sum_g f_g Delta_g' V_g Delta_g, cov(theta) = E^-1 (sum_g f_g
Delta_g' V_g Gamma_g V_g Delta_g) E^-1 / N and c = tr(U Gamma) / df, U = V - V Delta E^-1 Delta' V.

The robust CFI/TLI/RMSEA (Brosseau-Liard & Savalei) use c and the baseline model's own c.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

from profiler.factors._cfa_model import vech_pairs


@dataclass
class GroupData:
    """One group's rows (complete) and its model-implied moments at the estimates."""

    X: np.ndarray  # (n, p)
    sigma: np.ndarray
    mu: np.ndarray
    meanstructure: bool

    @property
    def n(self) -> int:
        return self.X.shape[0]


def _halved(p: int) -> np.ndarray:
    """Weights of vech* (1 off the diagonal, 1/2 on it)."""
    r, c = vech_pairs(p)
    return np.where(r == c, 0.5, 1.0)


def casewise_h1_scores(gd: GroupData) -> np.ndarray:
    """g_i of every row: (n, [p +] p(p+1)/2)."""
    p = gd.X.shape[1]
    W = np.linalg.inv(gd.sigma)
    D = (gd.X - gd.mu) @ W  # rows: (W d_i)'
    r, c = vech_pairs(p)
    sig = (D[:, r] * D[:, c] - W[r, c]) * _halved(p)
    return np.hstack([D, sig]) if gd.meanstructure else sig


def h1_information_observed(gd: GroupData) -> np.ndarray:
    """Observed information per observation of the saturated model, at the model moments.

    With C = S + (ybar - mu)(ybar - mu)': I_SS = tr(W dS1 W C W dS2) - 1/2 tr(W dS1 W dS2),
    I_mu,mu = W, I_mu,S = W dS W (ybar - mu) (lavaan's lav_mvnorm_information_observed_samplestats).
    """
    X = gd.X
    n, p = X.shape
    ybar = X.mean(axis=0)
    Xc = X - ybar
    S = Xc.T @ Xc / n
    d = ybar - gd.mu
    W = np.linalg.inv(gd.sigma)
    WCW = W @ (S + np.outer(d, d)) @ W
    r, c = vech_pairs(p)
    # dSigma for vech entry (r, c) is E_rc + E_cr (off-diagonal) or E_rr
    def t(A, B):  # tr(A dS_k B dS_l) for symmetric A, B, over all vech pairs k, l
        return A[np.ix_(r, r)] * B[np.ix_(c, c)] + A[np.ix_(r, c)] * B[np.ix_(c, r)] \
            + A[np.ix_(c, r)] * B[np.ix_(r, c)] + A[np.ix_(c, c)] * B[np.ix_(r, r)]
    scale = np.where(r == c, 0.5, 1.0)  # E_rr counted once
    ss = np.outer(scale, scale) * (t(W, WCW) - 0.5 * t(W, W))
    if not gd.meanstructure:
        return ss
    Wd = W @ d
    ms = scale[None, :] * (W[:, r] * Wd[c][None, :] + W[:, c] * Wd[r][None, :])
    return np.block([[W, ms], [ms.T, ss]])


def normal_theory_weight(sigma: np.ndarray) -> np.ndarray:
    """V = 1/2 D'(W (x) W) D for vech Sigma (expected information per observation, covariance part)."""
    W = np.linalg.inv(sigma)
    r, c = vech_pairs(sigma.shape[0])
    scale = np.where(r == c, 0.5, 1.0)
    t = W[np.ix_(r, r)] * W[np.ix_(c, c)] + W[np.ix_(r, c)] * W[np.ix_(c, r)]  # half of tr(W dS_k W dS_l)
    return np.outer(scale, scale) * t


def adf_gamma(X: np.ndarray) -> np.ndarray:
    """Covariance of vech((y - ybar)(y - ybar)') over the rows (divisor n): lavaan's ADF Gamma."""
    Xc = X - X.mean(axis=0)
    r, c = vech_pairs(X.shape[1])
    Z = Xc[:, r] * Xc[:, c]
    Z -= Z.mean(axis=0)
    return Z.T @ Z / X.shape[0]


@dataclass
class Robust:
    vcov: np.ndarray  # covariance of the estimates (divided by N)
    scaling_factor: float  # c: chisq_scaled = chisq / c
    trace_ug: float


def mlr(groups: list[GroupData], deltas: list[np.ndarray], A0: np.ndarray, df: int) -> Robust:
    """Huber-White covariance and the Yuan-Bentler (Mplus variant) scaling factor."""
    N = sum(g.n for g in groups)
    A0_inv = linalg.inv(A0)
    B0 = np.zeros_like(A0)
    tr_h1 = tr_h0 = 0.0
    for gd, D in zip(groups, deltas):
        f = gd.n / N
        G = casewise_h1_scores(gd)
        B1 = G.T @ G / gd.n
        B0g = D.T @ B1 @ D
        B0 += f * B0g
        # the h1 part at the sample moments (lavaan: h1.information = "unstructured" for yuan.bentler.mplus)
        sat = saturated(gd)
        G1 = casewise_h1_scores(sat)
        A1 = h1_information_observed(sat)
        tr_h1 += float(np.sum((G1.T @ G1 / gd.n) * linalg.inv(A1).T))
        tr_h0 += f * float(np.sum(B0g * A0_inv.T))
    vcov = A0_inv @ B0 @ A0_inv / N
    trace = tr_h1 - tr_h0
    return Robust((vcov + vcov.T) / 2.0, trace / df if df > 0 else np.nan, trace)


def mlm(groups: list[GroupData], deltas: list[np.ndarray], df: int) -> Robust:
    """Satorra-Bentler: robust.sem covariance and tr(U Gamma) / df (expected information, structured)."""
    N = sum(g.n for g in groups)
    Vs, Gs, Ds, fs = [], [], [], []
    for gd, D in zip(groups, deltas):
        f = gd.n / N
        p = gd.X.shape[1]
        k = p * (p + 1) // 2
        Dc = D[-k:]  # covariance rows (MLM has no mean structure in lavaan's default)
        Vs.append(f * normal_theory_weight(gd.sigma))
        Gs.append(adf_gamma(gd.X) / f)
        Ds.append(Dc)
        fs.append(f)
    V = linalg.block_diag(*Vs)
    G = linalg.block_diag(*Gs)
    D = np.vstack(Ds)
    VD = V @ D
    E = D.T @ VD
    E_inv = linalg.inv(E)
    middle = VD.T @ G @ VD
    vcov = E_inv @ middle @ E_inv / N
    U = V - VD @ E_inv @ VD.T
    trace = float(np.sum(U * G.T))
    return Robust((vcov + vcov.T) / 2.0, trace / df if df > 0 else np.nan, trace)


def baseline_deltas(groups: list[GroupData]) -> list[np.ndarray]:
    """Jacobian of the independence model's moments (free variances, and means) per group, stacked over groups."""
    out = []
    q_total = sum(g.X.shape[1] * (2 if g.meanstructure else 1) for g in groups)
    offset = 0
    for gd in groups:
        p = gd.X.shape[1]
        r, c = vech_pairs(p)
        k = p * (p + 1) // 2
        rows = (p if gd.meanstructure else 0) + k
        D = np.zeros((rows, q_total))
        if gd.meanstructure:
            D[np.arange(p), offset + np.arange(p)] = 1.0
            offset += p
        diag = np.flatnonzero(r == c)
        D[(p if gd.meanstructure else 0) + diag, offset + r[diag]] = 1.0
        offset += p
        out.append(D)
    return out


def saturated(gd: GroupData) -> GroupData:
    """The group at the saturated model's estimates: the sample mean and (divisor n) covariance."""
    Xc = gd.X - gd.X.mean(axis=0)
    return GroupData(gd.X, Xc.T @ Xc / gd.n, gd.X.mean(axis=0), gd.meanstructure)


def baseline_groups(groups: list[GroupData]) -> list[GroupData]:
    """The groups at the independence model's estimates: diag(S), ybar."""
    out = []
    for gd in groups:
        Xc = gd.X - gd.X.mean(axis=0)
        out.append(GroupData(gd.X, np.diag(np.mean(Xc**2, axis=0)), gd.X.mean(axis=0), gd.meanstructure))
    return out


def baseline_robust(groups: list[GroupData], estimator: str, df_b: int) -> float:
    """The independence model's own scaling factor (its moments are linear in its parameters, so its
    observed information is Delta' A1 Delta)."""
    bg = baseline_groups(groups)
    deltas = baseline_deltas(bg)
    if estimator == "MLM":
        return mlm(bg, deltas, df_b).scaling_factor
    N = sum(g.n for g in bg)
    A0 = sum((g.n / N) * D.T @ h1_information_observed(g) @ D for g, D in zip(bg, deltas))
    return mlr(bg, deltas, A0, df_b).scaling_factor
