"""Bootstrap of EFA loadings as ``psych::fa(..., n.iter = )`` does it.

Each replicate resamples the rows with replacement, refits the same model, and is rotated towards the
original loadings by psych's ``target.rot``: ``U = (X'X)^-1 X' L0`` (least squares from the replicate's
loadings ``X`` to the original ``L0``), columns rescaled so that the factors keep unit variance
(``U <- U diag(sqrt(diag((U'U)^-1)))``), replicate loadings ``X U``. That takes out the rotational
indeterminacy (order, sign and the rotation itself) before the replicates are summarised.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import clone

__all__ = ["BootstrapLoadings", "bootstrap_loadings"]


@dataclass(frozen=True)
class BootstrapLoadings:
    """Bootstrap distribution of the loadings (psych's ``f$cis``).

    Attributes
    ----------
    mean, sd : DataFrame
        Mean and standard deviation of each loading over the replicates (psych's ``means``, ``sds``).
    lower, upper : DataFrame
        ``mean -/+ z sd`` (psych's normal-theory ``ci``).
    phi_mean, phi_sd : DataFrame
        Of the factor correlations of the target-rotated replicates (``U^-1 Phi U^-T`` as correlations).
    replicates : ndarray of shape (n_iter, p, k)
    n_iter : int
    n_failed : int
        Replicates that raised an error (left out).
    confidence : float
    """

    mean: pd.DataFrame
    sd: pd.DataFrame
    lower: pd.DataFrame
    upper: pd.DataFrame
    phi_mean: pd.DataFrame
    phi_sd: pd.DataFrame
    replicates: np.ndarray = field(repr=False)
    n_iter: int
    n_failed: int
    confidence: float


def target_rotate(x: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """psych's ``target.rot(x, keys = target)``: the loadings ``x U`` and the transformation ``U``."""
    U = np.linalg.lstsq(x, target, rcond=None)[0]
    d = np.diag(np.linalg.inv(U.T @ U))
    U = U * np.sqrt(d)[None, :]
    return x @ U, U


def bootstrap_loadings(efa, X: np.ndarray, n_iter: int, random_state, confidence: float) -> BootstrapLoadings:
    """Refit a clone of the fitted ``efa`` on ``n_iter`` resamples of ``X`` (see the module docstring)."""
    L0 = efa.loadings_.to_numpy()
    names, factors = list(efa.loadings_.index), list(efa.loadings_.columns)
    rng = np.random.default_rng(random_state)
    n = X.shape[0]
    reps, phis, failed = [], [], 0
    model = clone(efa).set_params(standard_errors=False)
    for _ in range(n_iter):
        sample = X[rng.integers(0, n, n)]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a replicate's Heywood case or missing-data note
                fit = clone(model).fit(sample)
        except (ValueError, np.linalg.LinAlgError):
            failed += 1
            continue
        z, U = target_rotate(fit.loadings_.to_numpy(), L0)
        Ui = np.linalg.inv(U)
        reps.append(z)
        cov = Ui @ fit.phi_.to_numpy() @ Ui.T  # U rescales for orthogonal factors: back to correlations
        d = 1.0 / np.sqrt(np.diag(cov))
        phis.append(cov * np.outer(d, d))
    if not reps:
        raise ValueError("every bootstrap replicate failed to fit")
    R, P = np.array(reps), np.array(phis)
    mean, sd = R.mean(axis=0), R.std(axis=0, ddof=1) if len(reps) > 1 else np.full(L0.shape, np.nan)
    zq = float(stats.norm.ppf(0.5 + confidence / 2))

    def frame(a: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(a, index=names, columns=factors)

    return BootstrapLoadings(
        mean=frame(mean),
        sd=frame(sd),
        lower=frame(mean - zq * sd),
        upper=frame(mean + zq * sd),
        phi_mean=pd.DataFrame(P.mean(axis=0), index=factors, columns=factors),
        phi_sd=pd.DataFrame(P.std(axis=0, ddof=1) if len(phis) > 1 else np.nan, index=factors, columns=factors),
        replicates=R,
        n_iter=len(reps),
        n_failed=failed,
        confidence=confidence,
    )
