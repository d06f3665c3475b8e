"""Incomplete normal rows, grouped once by missing-data pattern: the casewise log-likelihood, the EM step,
the gradient and the observed information in the moments, shared by EM (the saturated h1 model) and FIML.

With Theta = Sigma^-1 and a row's missing set m, everything is written with the small blocks
C = (Theta_mm)^-1 (the conditional covariance of the missing values given the observed ones), which
depend only on the pattern, never with the observed blocks Sigma_oo^-1 (Little & Rubin 2002, ch. 11)::

    Sigma_oo^-1 (padded with zeros) = P = Theta - Theta E_m C E_m' Theta
    log|Sigma_oo| = log|Sigma| + log|Theta_mm|
    d = y - mu (0 where missing),  r = Theta d,  v = C r_m,  dhat = d - E_m v = E[y | y_o] - mu,  u = P d = Theta dhat

so a row's quadratic form is d'r - r_m'v, and over all rows, with K = sum_i E_m C_i E_m'::

    dl/dmu = Theta sum_i dhat_i
    dl/dSigma = 1/2 [Theta (sum_i dhat_i dhat_i' + K) Theta - N Theta]       (the symmetric derivative)
    EM: mu+ = mu + mean dhat,  Sigma+ = (sum_i dhat_i dhat_i' + K)/N - (mean dhat)(mean dhat)'

C and log|Theta_mm| are computed once per distinct pattern; the data enter through two N x p by p x p
products per evaluation (r and sum dhat dhat'), and complete rows only through their mean and cross
products. The cost of an evaluation is O(N p^2) in BLAS plus O(patterns s^3) for the inverses.
(Sufficient statistics per pattern would cost O(patterns p^3), which is more whenever most patterns
hold a few rows, as when cells are missing at random: BIG5 with 5% of its cells missing has 9,863
patterns among 19,718 rows.)

:func:`information` is the observed information (negative Hessian of the log-likelihood) in the moments
(mu, vech Sigma), exact; lavaan's ``lav_mvnorm_missing_information_observed_samplestats``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy.linalg import blas

_LOG_2PI = float(np.log(2.0 * np.pi))
_CHUNK = 2048  # rows per block where a per-row p x p object is formed


@dataclass
class Batch:
    """Incomplete rows with the same number s of missing values."""

    rows: np.ndarray  # (n_s,) positions among the incomplete rows
    cols: np.ndarray  # (n_s, s) missing columns of each row, ascending
    pattern: np.ndarray  # (n_s,) index into pcols
    pcols: np.ndarray  # (k, s) the distinct missing sets
    counts: np.ndarray  # (k,) rows per missing set
    p: int

    def __post_init__(self) -> None:
        # flat positions, computed once: the missing cells in the (incomplete rows x p) matrices, and each
        # pattern's missing-by-missing block in a p x p matrix
        self.cells = self.rows[:, None] * self.p + self.cols
        self.block = self.pcols[:, :, None] * self.p + self.pcols[:, None, :]

    @property
    def s(self) -> int:
        return self.cols.shape[1]


class MissingPatterns:
    """The rows of one group (NaN = missing), split once into complete rows (kept as their sum and cross
    products) and incomplete rows batched by pattern.

    Data are shifted by the column means of the observed values, for accurate cross products.
    """

    def __init__(self, X: np.ndarray):
        X = np.asarray(X, dtype=np.float64)
        observed = ~np.isnan(X)
        if not observed.any(axis=1).all():
            raise ValueError("every row needs at least one observed value")
        self.n, self.p = X.shape
        self.observed = observed
        self.n_cells = int(observed.sum())
        # available-case means (the shift) and (divisor n_j) variances: the independence model's estimates
        cols = [X[observed[:, j], j] for j in range(self.p)]
        self.shift = np.array([x.mean() if x.size else 0.0 for x in cols])
        self.var = np.array([np.mean((x - x.mean()) ** 2) if x.size else 0.0 for x in cols])
        self.n_observed = observed.sum(axis=0)
        complete = observed.all(axis=1)
        self.complete = np.flatnonzero(complete)
        self.complete_rows = X[complete] - self.shift  # casewise scores need them (robust ML)
        self.n_complete = int(complete.sum())
        self.sum_c = self.complete_rows.sum(axis=0)
        self.cross_c = self.complete_rows.T @ self.complete_rows
        self.incomplete = np.flatnonzero(~complete)
        obs = observed[self.incomplete]
        self.mask = obs.astype(np.float64)
        self.filled = np.where(obs, X[self.incomplete] - self.shift, 0.0)
        n_missing = (~obs).sum(axis=1)
        self.batches = []
        for s in np.unique(n_missing):
            rows = np.flatnonzero(n_missing == s)
            cols = np.nonzero(~obs[rows])[1].reshape(rows.size, s)
            pcols, pattern, counts = np.unique(cols, axis=0, return_inverse=True, return_counts=True)
            self.batches.append(Batch(rows, cols, pattern.reshape(-1), pcols, counts, self.p))
        self._pairs = None
        self._pattern_pairs = None

    @property
    def n_patterns(self) -> int:
        """Distinct missing-data patterns (complete rows count as one)."""
        return sum(b.pcols.shape[0] for b in self.batches) + int(self.n_complete > 0)

    # ------------------------------------------------------------------ pairs of missing values
    def pairs(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """The sums over the rows missing both e and f (e <= f) of :func:`information`, as buckets of pairs
        with about the same number of rows: (vech position of (e, f) (k,), incomplete rows (k, L), position of
        C[e, f] in the concatenation of every batch's per-pattern C raveled (k, L)); padding has position -1."""
        if self._pairs is not None:
            return self._pairs
        p = self.p
        _, _, where_p = vech_index(p)
        keys, rows, src = [], [], []
        offset = 0  # into the concatenated per-pattern C
        for b in self.batches:
            s = b.s
            a, c = np.triu_indices(s)
            keys.append(where_p[b.cols[:, a], b.cols[:, c]].ravel())
            rows.append(np.repeat(b.rows, a.size))
            src.append((offset + b.pattern[:, None] * s * s + a * s + c).ravel())
            offset += b.pcols.shape[0] * s * s
        self._pairs = []
        if not keys:
            return self._pairs
        keys, rows, src = np.concatenate(keys), np.concatenate(rows), np.concatenate(src)
        order = np.argsort(keys, kind="stable")
        keys, rows, src = keys[order], rows[order], src[order]
        uniq, start, count = np.unique(keys, return_index=True, return_counts=True)
        by_len = np.argsort(count, kind="stable")
        lo = 0
        while lo < by_len.size:  # consecutive pairs whose counts are within a factor 2: padding below half
            hi = lo
            while hi < by_len.size and count[by_len[hi]] <= 2 * count[by_len[lo]]:
                hi += 1
            sel = by_len[lo:hi]
            L = int(count[sel].max())
            step = max(1, int(2_000_000 // (L * p)))  # about 2M cells gathered at once
            for s0 in range(0, sel.size, step):
                part = sel[s0:s0 + step]
                valid = np.arange(L)[None, :] < count[part][:, None]
                idx = np.where(valid, start[part][:, None] + np.arange(L)[None, :], 0)
                self._pairs.append((uniq[part], np.where(valid, rows[idx], 0), np.where(valid, src[idx], -1)))
            lo = hi
        return self._pairs

    def pattern_pairs(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per batch, for sum over patterns of n C[e, f] C[g, h] (e <= f, g <= h): the flat positions in a
        vech x vech matrix (k, slots^2), and the slots' (alpha, beta) within C."""
        if self._pattern_pairs is None:
            _, _, where_p = vech_index(self.p)
            k_all = self.p * (self.p + 1) // 2
            self._pattern_pairs = []
            for b in self.batches:
                a, c = np.triu_indices(b.s)
                v = where_p[b.pcols[:, a], b.pcols[:, c]]  # (k, slots)
                self._pattern_pairs.append(((v[:, :, None] * k_all + v[:, None, :]).reshape(v.shape[0], -1), a, c))
        return self._pattern_pairs


@dataclass
class Evaluation:
    """The log-likelihood of one group at (mu, Sigma) and the sums its derivatives and the EM step need."""

    loglik: float
    theta: np.ndarray | None = None  # Sigma^-1
    dev_sum: np.ndarray | None = None  # sum_i dhat_i
    dev_cross: np.ndarray | None = None  # sum_i dhat_i dhat_i'
    K: np.ndarray | None = None  # sum_i E_m C_i E_m'
    dhat: np.ndarray | None = None  # incomplete rows' dhat (with keep=True)
    C: list | None = None  # per batch, C of each distinct pattern (k, s, s) (with keep=True)

    def gradient(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """dl/dmu and the symmetric dl/dSigma (dl = g_mu' dmu + tr(G dSigma))."""
        theta = self.theta
        G = 0.5 * (theta @ (self.dev_cross + self.K) @ theta - n * theta)
        return theta @ self.dev_sum, (G + G.T) / 2.0


def evaluate(mp: MissingPatterns, mu: np.ndarray, sigma: np.ndarray, keep: bool = False) -> Evaluation:
    """Observed-data log-likelihood at (mu, Sigma) with the sums of the E-step; loglik -inf if Sigma is not PD."""
    try:
        chol = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return Evaluation(-np.inf)
    if not np.all(np.isfinite(chol)):
        return Evaluation(-np.inf)
    ci = np.linalg.inv(chol)
    theta = ci.T @ ci
    logdet = 2.0 * float(np.sum(np.log(np.diag(chol))))
    m = mu - mp.shift
    # complete rows: their deviations from mu through the sum and cross products
    nc = mp.n_complete
    dev_sum = mp.sum_c - nc * m
    dev_cross = mp.cross_c - np.outer(mp.sum_c, m) - np.outer(m, mp.sum_c) + nc * np.outer(m, m)
    quad = float(np.sum(theta * dev_cross))
    extra_logdet = 0.0
    p = mp.p
    K = np.zeros(p * p)
    dhat = None
    Cs = [] if keep else None
    if mp.incomplete.size:
        D = mp.filled - m
        D *= mp.mask
        R = D @ theta
        quad += float(np.einsum("ij,ij->", D, R))
        R, Df, tf = R.ravel(), D.ravel(), theta.ravel()
        for b in mp.batches:
            logdets, Cp = _inverse_pd(tf[b.block])
            if Cp is None:
                return Evaluation(-np.inf)
            extra_logdet += float(b.counts @ logdets)
            K += np.bincount(b.block.ravel(), weights=(Cp * b.counts[:, None, None]).ravel(), minlength=p * p)
            rm = R[b.cells]
            v = np.einsum("kab,kb->ka", Cp[b.pattern], rm)
            quad -= float(np.einsum("ka,ka->", rm, v))
            Df[b.cells] -= v  # dhat: missing values at their conditional means
            if keep:
                Cs.append(Cp)
        dev_sum = dev_sum + D.sum(axis=0)
        dev_cross = dev_cross + D.T @ D
        dhat = D if keep else None
    loglik = -0.5 * (mp.n_cells * _LOG_2PI + mp.n * logdet + extra_logdet + quad)
    return Evaluation(loglik, theta, dev_sum, (dev_cross + dev_cross.T) / 2.0, K.reshape(p, p), dhat, Cs)


def _inverse_pd(T: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """log det and inverse of a stack of symmetric s x s matrices (k, s, s); (_, None) if one is not positive
    definite (Sylvester's criterion). Cofactors for s <= 3 (LAPACK's per-matrix overhead dominates there),
    LAPACK above."""
    s = T.shape[1]
    if s > 3:
        try:
            chol = np.linalg.cholesky(T)
        except np.linalg.LinAlgError:
            return np.zeros(T.shape[0]), None
        return 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1), np.linalg.inv(T)
    a = T[:, 0, 0]
    if s == 1:
        if np.any(a <= 0):
            return a, None
        return np.log(a), (1.0 / a)[:, None, None]
    b, d = T[:, 0, 1], T[:, 1, 1]
    minor = a * d - b * b
    if s == 2:
        if np.any(a <= 0) or np.any(minor <= 0):
            return minor, None
        cof = np.stack([d, -b, -b, a], axis=1)
        return np.log(minor), (cof / minor[:, None]).reshape(-1, 2, 2)
    c, e, f = T[:, 0, 2], T[:, 1, 2], T[:, 2, 2]
    A, B, C = d * f - e * e, c * e - b * f, b * e - c * d
    det = a * A + b * B + c * C
    if np.any(a <= 0) or np.any(minor <= 0) or np.any(det <= 0):
        return det, None
    cof = np.stack([A, B, C, B, a * f - c * c, b * c - a * e, C, b * c - a * e, minor], axis=1)
    return np.log(det), (cof / det[:, None]).reshape(-1, 3, 3)


def em_update(mp: MissingPatterns, mu: np.ndarray, ev: Evaluation) -> tuple[np.ndarray, np.ndarray]:
    """The EM step from the sums of the E-step: the mean and (divisor N) covariance of the completed data."""
    delta = ev.dev_sum / mp.n
    sigma = (ev.dev_cross + ev.K) / mp.n - np.outer(delta, delta)
    return mu + delta, (sigma + sigma.T) / 2.0


def vech_index(p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, col) of lavaan's vech (lower triangle by columns) and the p x p map from (i, j) to its position."""
    cols, rows = np.triu_indices(p)
    where = np.empty((p, p), dtype=np.int64)
    where[rows, cols] = np.arange(rows.size)
    where[cols, rows] = np.arange(rows.size)
    return rows, cols, where


def _congruence(theta: np.ndarray, Q: np.ndarray, r: np.ndarray, c: np.ndarray, where: np.ndarray) -> np.ndarray:
    """(Theta (x) Theta) Q in vech rows: column j is vech(Theta X_j Theta) with X_j the symmetric matrix whose
    vech is Q[:, j] (an off-diagonal entry stands for both triangles). O(k p^3) instead of O(k^2 p^2) for the
    product with the k x k matrix."""
    p, m = theta.shape[0], Q.shape[1]
    Y = (theta @ Q[where].reshape(p, p * m)).reshape(p, p, m)  # Y[a, f, j] = (Theta X_j)[a, f]
    return np.matmul(theta, Y)[r, c]  # [a, c, j] = (Theta X_j Theta)[a, c], Theta symmetric


@functools.lru_cache(maxsize=4)
def _pairings(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat positions in a vech x vech matrix of ((a, c), (b, d)) and ((a, d), (b, c)) for every pair of vech
    pairs (a, b), (c, d): M[(a, b), (c, d)] = S[(a, c), (b, d)] + S[(a, d), (b, c)] gathers a k x k S."""
    r, c, where = vech_index(p)
    k = r.size
    w_ac, w_ad, w_bc, w_bd = (where[i[:, None], j[None, :]] for i, j in ((r, r), (r, c), (c, r), (c, c)))
    return w_ac * k + w_bd, w_ad * k + w_bc


def information(mp: MissingPatterns, ev: Evaluation) -> np.ndarray:
    """Observed information per observation in (mu, vech Sigma) at the point of ``ev`` (``keep=True``).

    The negative Hessian of the log-likelihood, with u_i = P_i d_i, in directions (dmu, dS)::

        -d2l = sum_i [ -1/2 tr(P_i dS1 P_i dS2) + (dmu1 + dS1 u_i)' P_i (dmu2 + dS2 u_i) ]

    Writing P_i = Theta - Theta E_m C_i E_m' Theta, the sums over rows of products of two P_i, or of P_i
    and u_i u_i', reduce to products of Theta with sums over the rows missing both e and f
    (K = sum_i E_m C_i E_m', M1 = Theta K Theta)::

        sum_i P_i = N Theta - M1,      sum_i u_i = Theta sum dhat,      UU = sum_i u_i u_i'
        Q[(e, f), (b, d)] = sum_i C_i[e, f] u_i[b] u_i[d] + 1/2 sum_i C_i[e, f] (Theta E_m C_i E_m' Theta)[b, d]
        R3[(e, f), c] = sum_i C_i[e, f] u_i[c]

    The second sum of Q depends only on the patterns: sum_pattern n C[e, f] C[g, h], carried by Theta (x)
    Theta to (b, d). With W = (Theta (x) Theta) Q and Y[a, c, b, d] = Theta_ac (UU + M1 - N Theta/2)_bd
    - W[(a, c), (b, d)], the entry (a, b), (c, d) of the covariance block is the sum of Y over the pairings
    (a c|b d), (a d|b c), (b c|a d), (b d|a c), halved for each diagonal pair: two gathers from the
    k x k matrix Y + Y'. Theta (x) Theta is applied as Theta X Theta to each column (:func:`_congruence`).
    """
    p, n = mp.p, mp.n
    theta = ev.theta
    r, c, where = vech_index(p)
    k = r.size
    Us = theta @ ev.dev_sum
    UU = theta @ ev.dev_cross @ theta
    M1 = theta @ ev.K @ theta
    Q = np.zeros((k, k))
    R3 = np.zeros((k, p))
    if mp.incomplete.size:
        U = ev.dhat @ theta
        flatC = np.concatenate([Cp.ravel() for Cp in ev.C] + [np.zeros(1)])  # position -1: 0
        for keys, rows, src in mp.pairs():
            Ub = U[rows]  # (kp, L, p)
            Uw = Ub * flatC[src][:, :, None]
            Q[keys] = np.matmul(Uw.transpose(0, 2, 1), Ub)[:, r, c]
            R3[keys] = Uw.sum(axis=1)
        T4 = np.zeros(k * k)
        for b, Cp, (pos, a, cc) in zip(mp.batches, ev.C, mp.pattern_pairs()):
            Cs = Cp[:, a, cc] * np.sqrt(b.counts)[:, None]  # (k_b, slots)
            T4 += np.bincount(pos.ravel(), weights=(Cs[:, :, None] * Cs[:, None, :]).ravel(), minlength=k * k)
        Q += 0.5 * _congruence(theta, T4.reshape(k, k), r, c, where).T  # T4 is symmetric
    W = _congruence(theta, Q, r, c, where)  # [(a, c), (b, d)], vech in both
    N3 = _congruence(theta, R3, r, c, where)  # [(a, r), c] = sum_i (Theta E_m C_i E_m' Theta)[a, r] u_i[c]
    out = np.empty((p + k, p + k))
    out[:p, :p] = n * theta - M1
    scale = np.where(r == c, 0.5, 1.0)
    # mean-covariance block: sum_i (P_i[a, r] u_i[c] + P_i[a, c] u_i[r])
    va = np.arange(p)[:, None]
    mu_sig = theta[:, r] * Us[c] + theta[:, c] * Us[r] - N3[where[va, r[None, :]], c[None, :]] \
        - N3[where[va, c[None, :]], r[None, :]]
    out[:p, p:] = mu_sig * scale
    out[p:, :p] = out[:p, p:].T
    # sum_i [-1/2 tr(P_i dS1 P_i dS2) + u_i' dS1 P_i dS2 u_i] = sum over the pairings of Theta_ac A3_bd - W
    A3 = UU + M1 - 0.5 * n * theta
    vt, va3 = theta[r, c], A3[r, c]
    S = np.outer(vt, va3)
    S += S.T
    S -= W
    S -= W.T
    ac_bd, ad_bc = _pairings(p)
    Sf = S.ravel()
    out[p:, p:] = np.outer(scale, scale) * (Sf[ac_bd] + Sf[ad_bc])  # symmetric: S is
    out /= n
    return out


def casewise_scores(mp: MissingPatterns, ev: Evaluation, mu: np.ndarray):
    """Per-row scores dl_i/d(mu, vech Sigma) = (u_i, vech(u_i u_i' - P_i) halved on the diagonal), in blocks of
    rows, as columns: yields (rows, scores (p + p(p+1)/2) x len(rows)).

    ``ev`` evaluated at (mu, Sigma) with keep=True. Off-diagonal covariances count both triangles. Blocks are
    the complete rows, then each batch's rows; columns, because the vech products are then gathers of
    whole rows (of U' and of Theta_m. and C Theta_m. per missing value), several times faster than of columns.
    """
    p = mp.p
    theta = ev.theta
    r, c, _ = vech_index(p)
    mult = np.where(r == c, 0.5, 1.0)[:, None]
    base = theta[r, c][:, None]

    def block(rows: np.ndarray, dhat: np.ndarray) -> np.ndarray:
        G = np.empty((p + r.size, rows.size))
        Ut = np.matmul(theta, dhat.T, out=G[:p])
        np.multiply(Ut[r], Ut[c], out=G[p:])
        G[p:] -= base  # u u' - P with P = Theta - Theta_.m C Theta_m. (the pattern part added by the caller)
        return G

    for start in range(0, mp.n_complete, _CHUNK):
        rows = mp.complete[start:start + _CHUNK]
        G = block(rows, mp.complete_rows[start:start + _CHUNK] - (mu - mp.shift))
        G[p:] *= mult
        yield rows, G
    for b_i, b in enumerate(mp.batches):
        for start in range(0, b.rows.size, _CHUNK):
            part = slice(start, start + _CHUNK)
            G = block(mp.incomplete[b.rows[part]], ev.dhat[b.rows[part]])
            B = theta[b.cols[part]]  # (k, s, p): Theta_m. per row
            Bt = B.transpose(1, 2, 0).copy()  # (s, p, k)
            CBt = np.matmul(ev.C[b_i][b.pattern[part]], B).transpose(1, 2, 0).copy()
            for j in range(b.s):  # + vech(Theta_.m C Theta_m.) = sum over the missing values
                G[p:] += Bt[j][r] * CBt[j][c]
            G[p:] *= mult
            yield mp.incomplete[b.rows[part]], G


def first_order(mp: MissingPatterns, ev: Evaluation, mu: np.ndarray) -> np.ndarray:
    """Mean outer product of the casewise scores in (mu, vech Sigma) (``ev`` at (mu, Sigma), keep=True)."""
    k = mp.p + mp.p * (mp.p + 1) // 2
    B = np.zeros((k, k))
    for _, G in casewise_scores(mp, ev, mu):
        B += blas.dsyrk(1.0, G, trans=0, lower=0)
    B = np.triu(B) + np.triu(B, 1).T
    return B / mp.n
