"""Weighting a norm sample to known population margins (raking), and the weighted statistics norms need.

A self-selected sample rarely has the population's make-up (too many young people, too few of one region).
Raking (iterative proportional fitting; Deming & Stephan, 1940) finds weights that reproduce the known
share of every category of several variables at once: it scales the weights of each variable's categories
to their target share in turn, until every margin matches. The result is the weighting closest to equal
weights (in the raking-ratio sense) among those that hit the margins, and it does not depend on the order
of the variables. In R: ``survey::rake(design, sample.margins, population.margins)``.

Weighted statistics follow R's survey package: the weighted mean; the variance
``sum(w (x - m)^2) / sum(w) * n / (n - 1)`` (``survey::svyvar``); Kish's effective sample size
``(sum w)^2 / sum(w^2)``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from profiler.norms.table import NormsError

TOLERANCE = 1e-10  # largest allowed difference between a weighted share and its target


@dataclass(frozen=True)
class Raking:
    """Weights that reproduce population margins, and how they were found.

    Attributes
    ----------
    weights : pandas.Series
        One weight per respondent (same index as the data), scaled to sum to n.
    margins : dict
        Variable -> category -> target share, as given (each variable's shares sum to 1).
    iterations : int
        Full passes over the variables until every margin was within :data:`TOLERANCE`.
    converged : bool
    effective_n : float
        Kish's effective sample size, ``(sum w)^2 / sum(w^2)``.
    """

    weights: pd.Series
    margins: dict[str, dict[str, float]]
    iterations: int
    converged: bool
    effective_n: float

    def describe(self) -> dict[str, float | int | str]:
        """Facts for a norm table's ``descriptives``."""
        w = self.weights.to_numpy()
        return {
            "weighting": "raked to population margins of " + ", ".join(self.margins),
            "weighting_iterations": self.iterations,
            "weighting_effective_n": round(self.effective_n, 1),
            "weight_min": round(float(w.min()), 4),
            "weight_max": round(float(w.max()), 4),
        }


def read_margins(frame: pd.DataFrame, source: str = "margins") -> dict[str, dict[str, float]]:
    """Margins from a table with columns ``variable``, ``category`` and ``share`` (one row per category).

    Shares may be proportions or percentages; each variable's are checked to add up (to 1 or 100).
    """
    missing = {"variable", "category", "share"} - set(frame.columns)
    if missing:
        raise NormsError(f"{source}: needs the columns variable, category and share (missing: "
                         f"{', '.join(sorted(missing))})")
    margins: dict[str, dict[str, float]] = {}
    for row, (variable, category, share) in enumerate(frame[["variable", "category", "share"]].itertuples(index=False),
                                                       start=2):
        value = pd.to_numeric(pd.Series([share]), errors="coerce").iloc[0]
        if pd.isna(value) or value < 0:
            raise NormsError(f"{source}, line {row}: share {share!r} is not a number >= 0")
        categories = margins.setdefault(str(variable), {})
        if str(category) in categories:
            raise NormsError(f"{source}, line {row}: category {category!r} of {variable!r} is given twice")
        categories[str(category)] = float(value)
    for variable, shares in margins.items():
        total = sum(shares.values())
        scale = 100.0 if abs(total - 100) < 1e-6 else 1.0
        if abs(total - scale) > 1e-6:
            raise NormsError(f"{source}: the shares of {variable!r} add up to {total:g}, not 1 (or 100)")
        margins[variable] = {c: s / scale for c, s in shares.items()}
    return margins


def rake(data: pd.DataFrame, margins: Mapping[str, Mapping[str, float]], *, max_iter: int = 1000) -> Raking:
    """Raking weights for ``data`` (one row per respondent) to the population ``margins``.

    Parameters
    ----------
    data : DataFrame
        Holds one column per variable of ``margins``; values are compared as text.
    margins : mapping
        Variable -> category -> population share (each variable's shares sum to 1).
    max_iter : int
        Passes over the variables before giving up with a ``ConvergenceWarning`` (margins that no weights can
        meet, e.g. a combination of categories nobody in the sample has, never converge).

    Raises
    ------
    NormsError
        A variable missing from the data, a respondent without a value or with a category the margins do not
        give, or a category with a population share but nobody in the sample.
    """
    codes, targets = [], []
    for variable, shares in margins.items():
        if variable not in data.columns:
            raise NormsError(f"the margins weight by {variable!r}, which is not a column of the data")
        values = data[variable]
        if values.isna().any():
            raise NormsError(f"{int(values.isna().sum())} respondent(s) have no {variable!r}: raking needs every "
                             "respondent's category (exclude them first, and say so in the norm table)")
        text = values.astype(str)
        unknown = sorted(set(text) - set(shares))
        if unknown:
            raise NormsError(f"{variable!r} has categories the margins do not give: {', '.join(unknown)}")
        categories = list(shares)
        zero = [c for c in categories if shares[c] == 0 and (text == c).any()]
        if zero:
            raise NormsError(f"the margins give {variable!r} = {', '.join(zero)} a population share of 0, but the "
                             "sample has such respondents: exclude them first (and say so in the norm table)")
        empty = [c for c in categories if shares[c] > 0 and not (text == c).any()]
        if empty:
            raise NormsError(f"nobody in the sample has {variable!r} = {', '.join(empty)}, which the margins give a "
                             "population share: no weighting can represent them")
        codes.append(pd.Categorical(text, categories=categories).codes)
        targets.append(np.array([shares[c] for c in categories], dtype=float))
    n = len(data)
    w = np.ones(n)
    converged = False
    iterations = 0
    for iterations in range(1, max_iter + 1):
        for code, target in zip(codes, targets, strict=True):
            current = np.bincount(code, weights=w, minlength=len(target)) / w.sum()
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = np.where(current > 0, target / current, 0.0)
            w = w * factor[code]
        worst = max(np.abs(np.bincount(c, weights=w, minlength=len(t)) / w.sum() - t).max()
                    for c, t in zip(codes, targets, strict=True))
        if worst < TOLERANCE:
            converged = True
            break
    if not converged:
        warnings.warn(f"raking did not meet the margins within {TOLERANCE:g} after {max_iter} passes (largest "
                      f"difference {worst:.2g}): the margins may be impossible for this sample", ConvergenceWarning,
                      stacklevel=2)
    w = w * n / w.sum()
    return Raking(pd.Series(w, index=data.index, name="weight"), {v: dict(s) for v, s in margins.items()},
                  iterations, converged, float(w.sum() ** 2 / (w**2).sum()))


def weighted_mean_sd(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted mean and SD as ``survey::svymean`` and ``sqrt(survey::svyvar)``."""
    total = w.sum()
    mean = float(np.dot(w, x) / total)
    variance = float(np.dot(w, (x - mean) ** 2) / total * len(x) / (len(x) - 1))
    return mean, float(np.sqrt(variance))


def weighted_alpha(items: np.ndarray, w: np.ndarray) -> float:
    """Cronbach's alpha of keyed item answers (complete rows) from the weighted covariance matrix.

    ``k / (k - 1) * (1 - tr C / 1'C1)``; the covariance's divisor cancels, so any weighted covariance gives it.
    """
    centred = items - (w @ items) / w.sum()
    cov = (centred * w[:, None]).T @ centred
    k = items.shape[1]
    return float(k / (k - 1) * (1 - np.trace(cov) / cov.sum()))
