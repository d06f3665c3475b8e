"""Robust ML with missing data: MLR under FIML, and the robust CFI/TLI/RMSEA of Zhang & Savalei, as lavaan.

Per group g (f_g = N_g/N), at the saturated (EM) moments: Wm_g the observed information per observation
in m = (mu, vech Sigma) of the incomplete data, Jm_g the mean outer product of the casewise scores,
Wc_g the complete-data information at the EM moments (normal theory: S~^-1 for the means,
1/2 D'(S~^-1 (x) S~^-1) D for the covariances). Delta_g = dm/dtheta at the FIML estimates.

**MLR** (lavaan: ``se = "robust.huber.white"``, ``test = "yuan.bentler.mplus"``): A0 the observed
information of the model per observation (the Hessian of the FIML objective), B0 = sum_g f_g Delta_g' B1_g
Delta_g with B1_g the mean outer product of the casewise scores at the model's moments;
cov(theta) = A0^-1 B0 A0^-1 / N and the scaling factor c = [sum_g tr(Jm_g Wm_g^-1) - tr(B0 A0^-1)] / df.
The independence model gets its own c the same way (its likelihood splits by variable, so its A0 is
diagonal in each variable's mean and variance).

**Robust CFI/TLI/RMSEA** (Zhang & Savalei 2023, "FIML-corrected"; lavaan's ``lav_fit_fiml_corrected``,
reported for ML and MLR fits with ``missing = "ml"``): the model and the independence model are judged on
the EM moments by the complete-data ML statistic XX3 = sum_g N_g F_ML(S~_g, ybar~_g; Sigma_g, mu_g) at their
FIML estimates, with the correction k / df, where, with E = sum_g f_g Delta_g' Wm_g Delta_g and
M = diag_g(Wm_g^-1 / f_g) - Delta E^-1 Delta'::

    ML  (lavaan's "V6"):  k = sum_g tr(Wc_g Wm_g^-1) - tr(sum_g f_g Delta_g' Wc_g Delta_g E^-1)
    MLR (lavaan's "V3"):  k = tr(M diag(f_g Wc_g) M diag(f_g Jm_g))

CFI and TLI then use XX3 - c df against the baseline's, RMSEA sqrt(max(XX3/(N df) - c/N, 0)) sqrt(G).
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from profiler.factors import _cfa_fit_indices as fi
from profiler.factors import _missing_patterns as mpat
from profiler.factors._cfa_robust import normal_theory_weight


def _ml_discrepancy(S: np.ndarray, ybar: np.ndarray, sigma: np.ndarray, mu: np.ndarray) -> float:
    """F_ML = log|Sigma| + tr(S Sigma^-1) - log|S| - p + (ybar - mu)' Sigma^-1 (ybar - mu)."""
    W = np.linalg.inv(sigma)
    d = ybar - mu
    return float(np.linalg.slogdet(sigma)[1] + np.sum(S * W) - np.linalg.slogdet(S)[1] - S.shape[0] + d @ W @ d)


def _sym_inv(A: np.ndarray) -> np.ndarray:
    inv = linalg.inv(A)
    return (inv + inv.T) / 2.0


class RobustFIML:
    """The saturated (h1) pieces of every group, computed once, and what MLR and the robust indices make of them."""

    def __init__(self, groups: list[mpat.MissingPatterns], h1: list, mlr: bool):
        self.groups = groups
        self.h1 = h1
        self.n = np.array([mp.n for mp in groups], dtype=float)
        self.N = float(self.n.sum())
        self.f = self.n / self.N
        self.p = groups[0].p
        self.Wm, self.Wm_inv, self.Jm, self.Wc = [], [], [], []
        self._trace_awcaj = None
        for mp, h in zip(groups, h1):
            ev = mpat.evaluate(mp, h.mean, h.cov, keep=True)
            Wm = mpat.information(mp, ev)
            self.Wm.append(Wm)
            self.Wm_inv.append(_sym_inv(Wm))
            self.Jm.append(mpat.first_order(mp, ev, h.mean) if mlr else None)
            self.Wc.append(linalg.block_diag(np.linalg.inv(h.cov), normal_theory_weight(h.cov)))

    # ------------------------------------------------------------------ Zhang & Savalei
    def _correction(self, deltas: list[np.ndarray], mlr: bool) -> float:
        """k of the module docstring for a model with Jacobians ``deltas`` (one per group, same columns)."""
        E = sum(f * D.T @ Wm @ D for f, D, Wm in zip(self.f, deltas, self.Wm))
        E_inv = _sym_inv(E)
        DWcD = sum(f * D.T @ Wc @ D for f, D, Wc in zip(self.f, deltas, self.Wc))
        if not mlr:
            return float(sum(np.sum(Wc * Wi) for Wc, Wi in zip(self.Wc, self.Wm_inv)) - np.sum(DWcD * E_inv))
        # tr(M Wc M J) with M = A - D E^-1 D', A = diag(Wm^-1 / f) (Wc, J weighted by f), expanded so that
        # only the model-free tr(A Wc A J) is O(k^3) (once) and the rest O(k^2 q):
        #   tr(A Wc A J) - 2 tr(E^-1 D' Wc A J D) + tr(E^-1 D' Wc D E^-1 D' J D)
        DJD = sum(f * D.T @ Jm @ D for f, D, Jm in zip(self.f, deltas, self.Jm))
        DWcAJD = sum(f * (Wi @ (Wc @ D)).T @ (Jm @ D)
                     for f, D, Wi, Wc, Jm in zip(self.f, deltas, self.Wm_inv, self.Wc, self.Jm))
        return float(self._awcaj() - 2.0 * np.sum(E_inv * DWcAJD.T) + np.sum((E_inv @ DWcD) * (E_inv @ DJD).T))

    def _awcaj(self) -> float:
        """tr(A Wc A J) = sum_g tr(Wm_g^-1 Wc_g Wm_g^-1 Jm_g), computed once."""
        if self._trace_awcaj is None:
            self._trace_awcaj = float(sum(np.sum((Wi @ Wc) * (Wi @ Jm).T)
                                          for Wi, Wc, Jm in zip(self.Wm_inv, self.Wc, self.Jm)))
        return self._trace_awcaj

    def _baseline_deltas(self) -> list[np.ndarray]:
        """Jacobians of the independence model's moments: each group's means and variances."""
        p = self.p
        r, c, _ = mpat.vech_index(p)
        G = len(self.groups)
        out = []
        for g in range(G):
            D = np.zeros((p + r.size, 2 * p * G))
            D[np.arange(p), 2 * p * g + np.arange(p)] = 1.0
            diag = np.flatnonzero(r == c)
            D[p + diag, 2 * p * g + p + r[diag]] = 1.0
            out.append(D)
        return out

    def corrected_indices(self, implied: list[tuple[np.ndarray, np.ndarray]], deltas: list[np.ndarray],
                          fit: dict, mlr: bool) -> dict:
        """cfi_robust, tli_robust, rmsea_robust and its interval (lavaan's FIML-corrected versions)."""
        df, df_b, G = fit["df"], fit["baseline_df"], len(self.groups)
        xx3 = sum(n * _ml_discrepancy(h.cov, h.mean, sigma, mu) for n, h, (sigma, mu) in zip(self.n, self.h1, implied))
        xx3_b = sum(n * _ml_discrepancy(h.cov, h.mean, np.diag(mp.var), mp.shift)
                    for n, h, mp in zip(self.n, self.h1, self.groups))
        try:
            c3 = self._correction(deltas, mlr) / df if df > 0 else np.nan
            c3_b = self._correction(self._baseline_deltas(), mlr) / df_b
        except linalg.LinAlgError:
            c3 = c3_b = np.nan
        lower, upper = fi.rmsea_ci(xx3 / c3, df, self.N, G, c_hat=c3) if np.isfinite(c3) else (np.nan, np.nan)
        return {"cfi_robust": fi.cfi(xx3, df, xx3_b, df_b, c3, c3_b),
                "tli_robust": fi.tli(xx3, df, xx3_b, df_b, c3, c3_b),
                "rmsea_robust": fi.rmsea(xx3, df, self.N, G, c3),
                "rmsea_ci_lower_robust": lower, "rmsea_ci_upper_robust": upper}

    # ------------------------------------------------------------------ MLR
    def _h1_trace(self) -> float:
        return float(sum(np.sum(Jm * Wi) for Jm, Wi in zip(self.Jm, self.Wm_inv)))

    def mlr(self, implied: list[tuple[np.ndarray, np.ndarray]], deltas: list[np.ndarray],
            evs: list[mpat.Evaluation], A0: np.ndarray, fit: dict) -> tuple[np.ndarray, dict]:
        """Huber-White covariance of the estimates and the Yuan-Bentler scaled indices (not the robust ones)."""
        A0_inv = _sym_inv(A0)
        B0 = np.zeros_like(A0)
        for f, mp, ev, (sigma, mu), D in zip(self.f, self.groups, evs, implied, deltas):
            Bg = np.zeros_like(A0)
            for _, Gs in mpat.casewise_scores(mp, ev, mu):
                S = D.T @ Gs  # scores in the parameters, as columns
                Bg += S @ S.T
            B0 += f * Bg / mp.n
        trace = self._h1_trace() - float(np.sum(B0 * A0_inv))
        df = fit["df"]
        vcov = A0_inv @ B0 @ A0_inv / self.N
        scaled = fi.scaled_indices(fit, trace / df if df > 0 else np.nan, trace, self._baseline_scaling(),
                                   int(self.N), len(self.groups))
        scaled = {k: v for k, v in scaled.items() if not k.endswith("_robust")}
        return (vcov + vcov.T) / 2.0, scaled

    def _baseline_scaling(self) -> float:
        """The independence model's Yuan-Bentler scaling factor: per variable j with n_j answers at its
        own mean and variance, the observed information is diag(n_j / s_j^2, n_j / (2 s_j^4)) and the
        casewise scores are (y - m_j)/s_j^2 and ((y - m_j)^2/s_j^4 - 1/s_j^2)/2 where answered."""
        p, G = self.p, len(self.groups)
        A0 = np.zeros(2 * p * G)
        B0 = np.zeros((2 * p * G, 2 * p * G))
        for g, (f, mp) in enumerate(zip(self.f, self.groups)):
            X = np.full((mp.n, p), np.nan)
            X[mp.complete] = mp.complete_rows
            X[mp.incomplete] = np.where(mp.mask > 0, mp.filled, np.nan)
            obs = ~np.isnan(X)
            dev = np.where(obs, X, 0.0)  # the rows are stored around the available-case means
            s2 = mp.var
            S = np.hstack([dev / s2, np.where(obs, 0.5 * (dev**2 / s2**2 - 1.0 / s2), 0.0)])
            sl = slice(2 * p * g, 2 * p * (g + 1))
            B0[sl, sl] = f * (S.T @ S) / mp.n
            A0[sl] = f * np.concatenate([mp.n_observed / s2, mp.n_observed / (2.0 * s2**2)]) / mp.n
        trace = self._h1_trace() - float(np.sum(np.diag(B0) / A0))
        return trace / (G * p * (p - 1) // 2)

