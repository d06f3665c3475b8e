"""The standard bivariate normal distribution, vectorised: CDF (Genz 2004), density and their derivatives.

``bvn_cdf(h, k, r)`` is P(X < h, Y < k) for standard normals with correlation r, by Genz's (2004)
refinement of Drezner & Wesolowsky (1990): Gauss-Legendre quadrature of Plackett's formula in the
arcsine of r for |r| < 0.925, and a series in sqrt(1 - r^2) near |r| = 1. Absolute error below 1e-15,
the algorithm behind R's ``pbivnorm`` (which lavaan uses) and ``mnormt::sadmvn`` (psych). Every
argument broadcasts; infinite bounds are exact.
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["bvn_cdf", "bvn_pdf", "bvn_pdf_drho_factor"]

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(20)
_X = _NODES[:10]  # the negative half: Genz sums x and -x
_W = _WEIGHTS[:10]
_TWO_PI = 2.0 * np.pi


def _phi(x: np.ndarray) -> np.ndarray:
    return special.ndtr(x)


def _upper(h: np.ndarray, k: np.ndarray, r: np.ndarray) -> np.ndarray:
    """P(X > h, Y > k) for finite h, k and |r| <= 1 (1-D arrays of equal length); Genz's BVNU."""
    out = np.empty_like(h)
    hk = h * k
    small = np.abs(r) < 0.925
    if small.any():
        hs_, hk_, r_ = (h[small] ** 2 + k[small] ** 2) / 2.0, hk[small], r[small]
        asr = np.arcsin(r_)
        total = np.zeros_like(r_)
        for sign in (1.0, -1.0):
            sn = np.sin(asr[:, None] * (sign * _X[None, :] + 1.0) / 2.0)
            total += np.exp((sn * hk_[:, None] - hs_[:, None]) / (1.0 - sn * sn)) @ _W
        out[small] = total * asr / (2.0 * _TWO_PI) + _phi(-h[small]) * _phi(-k[small])
    large = ~small
    if large.any():
        hh, kk, rr = h[large], k[large].copy(), r[large]
        neg = rr < 0
        kk[neg] = -kk[neg]
        hk_ = hh * kk
        bvn = np.zeros_like(rr)
        inner = np.abs(rr) < 1.0
        if inner.any():
            h1, k1, r1, hk1 = hh[inner], kk[inner], rr[inner], hk_[inner]
            as_ = (1.0 - r1) * (1.0 + r1)
            a = np.sqrt(as_)
            bs = (h1 - k1) ** 2
            c = (4.0 - hk1) / 8.0
            d = (12.0 - hk1) / 16.0
            val = a * np.exp(-(bs / as_ + hk1) / 2.0) * (1.0 - c * (bs - as_) * (1.0 - d * bs / 5.0) / 3.0
                                                          + c * d * as_ * as_ / 5.0)
            b = np.sqrt(bs)
            with np.errstate(over="ignore", invalid="ignore"):
                tail = np.exp(-hk1 / 2.0) * np.sqrt(_TWO_PI) * _phi(-b / a) * b * (1.0 - c * bs * (1.0 - d * bs / 5.0) / 3.0)
            val = val - np.where(hk1 > -160.0, tail, 0.0)
            a = a / 2.0
            for sign in (1.0, -1.0):
                xs = (a[:, None] * (sign * _X[None, :] + 1.0)) ** 2
                rs = np.sqrt(1.0 - xs)
                asr = -(bs[:, None] / xs + hk1[:, None]) / 2.0
                with np.errstate(over="ignore", under="ignore"):
                    term = np.exp(asr) * (np.exp(-hk1[:, None] * xs / (2.0 * (1.0 + rs) ** 2)) / rs
                                          - (1.0 + c[:, None] * xs * (1.0 + d[:, None] * xs)))
                term = np.where(asr > -100.0, term, 0.0)
                val = val + a * (term @ _W)
            bvn[inner] = -val / _TWO_PI
        pos = rr > 0
        bvn[pos] = bvn[pos] + _phi(-np.maximum(hh[pos], kk[pos]))
        bvn[neg] = -bvn[neg] + np.maximum(0.0, _phi(-hh[neg]) - _phi(-kk[neg]))
        out[large] = bvn
    return out


def bvn_cdf(h, k, r) -> np.ndarray:
    """P(X < h, Y < k) for standard bivariate normal (X, Y) with correlation ``r`` (broadcast).

    In R: ``pbivnorm::pbivnorm(h, k, r)``, ``mnormt::pmnorm``.
    """
    h, k, r = np.broadcast_arrays(np.asarray(h, float), np.asarray(k, float), np.asarray(r, float))
    shape = h.shape
    h, k, r = h.ravel(), k.ravel(), r.ravel()
    out = np.empty(h.shape)
    fin = np.isfinite(h) & np.isfinite(k)
    # infinite bounds: one margin, or 0 / 1
    out[~fin] = np.where(
        (h[~fin] == -np.inf) | (k[~fin] == -np.inf), 0.0,
        np.where(h[~fin] == np.inf, _phi(k[~fin]), _phi(h[~fin])),
    )
    if fin.any():
        out[fin] = _upper(-h[fin], -k[fin], r[fin])
    return np.clip(out, 0.0, 1.0).reshape(shape)


def bvn_pdf(x, y, r) -> np.ndarray:
    """Density of the standard bivariate normal; 0 where x or y is infinite (the derivative of
    :func:`bvn_cdf` with respect to r, by Plackett's identity)."""
    x, y, r = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float), np.asarray(r, float))
    fin = np.isfinite(x) & np.isfinite(y)
    xs, ys = np.where(fin, x, 0.0), np.where(fin, y, 0.0)
    one = 1.0 - r * r
    dens = np.exp(-(xs * xs - 2.0 * r * xs * ys + ys * ys) / (2.0 * one)) / (_TWO_PI * np.sqrt(one))
    return np.where(fin, dens, 0.0)


def bvn_pdf_drho_factor(x, y, r) -> np.ndarray:
    """d log phi2(x, y, r) / dr, so that d phi2 / dr = phi2 * this (0 where x or y is infinite)."""
    x, y, r = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float), np.asarray(r, float))
    fin = np.isfinite(x) & np.isfinite(y)
    xs, ys = np.where(fin, x, 0.0), np.where(fin, y, 0.0)
    one = 1.0 - r * r
    g = (xs * ys * one - r * (xs * xs - 2.0 * r * xs * ys + ys * ys) + r * one) / (one * one)
    return np.where(fin, g, 0.0)
