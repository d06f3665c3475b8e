"""Score distributions per group: the standardized mean difference (Cohen's d) with its CI.

d = (mean_focal - mean_reference) / s_pooled, s_pooled^2 = ((n_f - 1) s_f^2 + (n_r - 1) s_r^2) / (n_f + n_r - 2);
SE(d) = sqrt((n_f + n_r) / (n_f n_r) + d^2 / (2 (n_f + n_r))) (Hedges & Olkin, 1985) and the CI is
d +/- z SE(d); Hedges' g = J d with J = 1 - 3 / (4 (n_f + n_r) - 9). A positive d means the focal group
scores higher. A difference in a self-reported trait is not by itself bias: it may be real, or partly
measurement (see :mod:`profiler.fairness.dif` and :mod:`profiler.fairness.invariance`).

In R: ``effsize::cohen.d(x, g)`` (d and its CI by the same formula with ``noncentral = FALSE``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from profiler.fairness._input import FairnessInputError, categories, paired

__all__ = ["standardized_mean_differences", "cohens_d"]

COLUMNS = ["score", "focal", "reference", "n_focal", "n_reference", "mean_focal", "mean_reference", "sd_focal",
           "sd_reference", "sd_pooled", "d", "se", "ci_lower", "ci_upper", "hedges_g"]


def cohens_d(x_focal, x_reference, level: float = 0.95) -> dict:
    """d, its standard error and CI, and Hedges' g, for two samples (NaN values are left out)."""
    f = np.asarray(x_focal, dtype=float)
    r = np.asarray(x_reference, dtype=float)
    f, r = f[~np.isnan(f)], r[~np.isnan(r)]
    n1, n2 = len(f), len(r)
    if n1 < 2 or n2 < 2:
        raise ValueError(f"each group needs at least 2 scores (got {n1} and {n2})")
    s1, s2 = f.std(ddof=1), r.std(ddof=1)
    pooled = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2))
    d = (f.mean() - r.mean()) / pooled
    se = np.sqrt((n1 + n2) / (n1 * n2) + d**2 / (2 * (n1 + n2)))
    z = stats.norm.ppf(0.5 + level / 2.0)
    return {"n_focal": n1, "n_reference": n2, "mean_focal": f.mean(), "mean_reference": r.mean(), "sd_focal": s1,
            "sd_reference": s2, "sd_pooled": pooled, "d": d, "se": se, "ci_lower": d - z * se,
            "ci_upper": d + z * se, "hedges_g": (1 - 3 / (4 * (n1 + n2) - 9)) * d}


def standardized_mean_differences(
    scores: pd.Series | pd.DataFrame,
    groups: pd.Series,
    *,
    reference=None,
    focal=None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Cohen's d with CI of every score, each focal category against the reference category.

    Parameters
    ----------
    scores : Series, DataFrame or array-like
        One column per score (trait scales, a job model's score); NaN = no score.
    groups : Series or array-like
        Category of each person (same index, or in the rows' order); NaN = unknown, left out.
    reference : optional
        The comparison category; default the largest.
    focal : optional
        One category or a list; default every other category with at least 2 people.
    level : float, default 0.95

    Returns
    -------
    DataFrame
        One row per (score, focal): n, mean and SD of both groups, the pooled SD, ``d``, ``se``,
        ``ci_lower``, ``ci_upper`` and ``hedges_g``.
    """
    table, frame = paired(scores, groups, "scores", "score")
    if frame.shape[1] != 1:
        raise FairnessInputError(f"groups must be one attribute, got {frame.shape[1]} columns")
    groups = frame.iloc[:, 0]
    counts = groups.value_counts()
    if reference is None:
        reference = counts.index[0]
    if reference not in counts.index:
        raise FairnessInputError(f"reference category {reference!r} does not occur in groups")
    if focal is None:
        focal = [c for c in categories(groups) if c != reference and counts[c] >= 2]
    elif np.ndim(focal) == 0:
        focal = [focal]
    rows = []
    labels = groups.to_numpy()
    for column in table.columns:
        values = pd.to_numeric(table[column], errors="raise").to_numpy(dtype=float)
        for f in focal:
            out = cohens_d(values[labels == f], values[labels == reference], level)
            rows.append({"score": str(column), "focal": f, "reference": reference, **out})
    return pd.DataFrame(rows, columns=COLUMNS)
