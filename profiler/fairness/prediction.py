"""Differential prediction (Cleary, 1968): does one regression line predict the criterion for both groups?

criterion = b0 + b1 score + b2 group + b3 score x group + e, with group = 1 for the focal and 0 for the
reference category, by ordinary least squares. b3 is the slope difference (focal - reference); b2 the
intercept difference at the centring point of the score (the pooled mean by default, where it is best
estimated; ``center=False`` puts it at score 0). Following the step-down of Lautenschlager & Mendoza (1986)
the result also holds the omnibus F test of b2 = b3 = 0 (a common line for both groups) and the model
without the interaction (b2 there is the intercept difference under equal slopes).

``prediction_error`` is the mean residual of each group around the *common* line (criterion ~ score):
negative for a group whose criterion the common line over-predicts (Cleary's definition of a biased test is
systematic under- or over-prediction for a group).

The criterion must be a measure of job performance, never past hiring decisions (a model fitted to past
decisions learns who was hired before).

In R: ``summary(lm(criterion ~ score * group))``; in Python (tests only): statsmodels' OLS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from profiler.fairness._input import FairnessInputError, columns_of

__all__ = ["DifferentialPrediction", "differential_prediction", "ols"]


def ols(X: np.ndarray, y: np.ndarray) -> dict:
    """OLS estimates, standard errors (sigma^2 (X'X)^-1), t, two-sided p, residual SS and df."""
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    df = len(y) - X.shape[1]
    if df <= 0:
        raise ValueError(f"{len(y)} people are too few for {X.shape[1]} coefficients")
    sigma2 = resid @ resid / df
    cov = sigma2 * np.linalg.inv(X.T @ X)
    se = np.sqrt(np.diag(cov))
    t = beta / se
    return {"beta": beta, "se": se, "t": t, "p": 2 * stats.t.sf(np.abs(t), df), "rss": float(resid @ resid),
            "df": df, "resid": resid}


@dataclass(frozen=True)
class DifferentialPrediction:
    """Cleary-model results; see the module docstring.

    Attributes
    ----------
    coefficients : DataFrame
        Full model: ``term`` (intercept, score, group, score:group), ``estimate``, ``se``, ``t``, ``p``.
    equal_slopes : DataFrame
        The model without the interaction (intercept, score, group).
    slope_difference, intercept_difference : dict
        ``estimate, se, t, p`` of b3 (full model) and of b2 (model with equal slopes).
    omnibus : dict
        F test of one common line (b2 = b3 = 0): ``F``, ``df1``, ``df2``, ``p``.
    prediction_error : DataFrame
        Per group: n and mean residual around the common line.
    r2 : dict
        R^2 of the common, equal-slopes and full models.
    """

    focal: object
    reference: object
    center: float
    n: int
    coefficients: pd.DataFrame
    equal_slopes: pd.DataFrame
    slope_difference: dict
    intercept_difference: dict
    omnibus: dict
    prediction_error: pd.DataFrame
    r2: dict

    def to_dict(self) -> dict:
        return {
            "focal": str(self.focal), "reference": str(self.reference), "center": self.center, "n": self.n,
            "coefficients": self.coefficients.to_dict(orient="records"),
            "equal_slopes": self.equal_slopes.to_dict(orient="records"),
            "slope_difference": self.slope_difference, "intercept_difference": self.intercept_difference,
            "omnibus": self.omnibus, "r2": self.r2,
            "prediction_error": self.prediction_error.astype({"group": str}).to_dict(orient="records"),
        }


def _frame(fit: dict, terms: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"term": terms, "estimate": fit["beta"], "se": fit["se"], "t": fit["t"], "p": fit["p"]})


def differential_prediction(
    criterion: pd.Series,
    score: pd.Series,
    groups: pd.Series,
    *,
    focal,
    reference,
    center: bool = True,
) -> DifferentialPrediction:
    """Regress the criterion on score, group and their product (Cleary model), focal vs reference.

    Parameters
    ----------
    criterion : Series or array-like
        Job performance (not past hiring decisions); NaN rows are left out.
    score : Series or array-like
        The predictor: a trait scale or the job model's score (same index, or in the same order).
    groups : Series or array-like
        Category of each person; only ``focal`` and ``reference`` rows are used.
    focal, reference
        The two categories; the group dummy is 1 for ``focal``.
    center : bool, default True
        Centre the score at the pooled mean of the rows used, so that the intercept difference is at
        the average score.
    """
    criterion, score, groups = columns_of(criterion, score, groups, names=("criterion", "score", "groups"))
    y_all = pd.to_numeric(criterion, errors="raise").to_numpy(dtype=float)
    s_all = pd.to_numeric(score, errors="raise").to_numpy(dtype=float)
    g_all = groups.to_numpy()
    use = ((g_all == focal) | (g_all == reference)) & ~np.isnan(y_all) & ~np.isnan(s_all)
    y, s, g = y_all[use], s_all[use], (g_all[use] == focal).astype(float)
    if g.sum() < 3 or (1 - g).sum() < 3:
        raise FairnessInputError(f"need at least 3 people in each group (focal {int(g.sum())}, reference {int((1 - g).sum())})")
    c = float(s.mean()) if center else 0.0
    x = s - c
    one = np.ones_like(x)
    common = ols(np.column_stack([one, x]), y)
    equal = ols(np.column_stack([one, x, g]), y)
    full = ols(np.column_stack([one, x, g, x * g]), y)
    tss = float(((y - y.mean()) ** 2).sum())
    df1, df2 = 2, full["df"]
    F = ((common["rss"] - full["rss"]) / df1) / (full["rss"] / df2)
    pick = lambda fit, k: {key: float(fit[key][k]) for key in ("beta", "se", "t", "p")}  # noqa: E731
    rename = lambda d: {"estimate": d["beta"], "se": d["se"], "t": d["t"], "p": d["p"]}  # noqa: E731
    labels = np.where(g == 1, str(focal), str(reference))
    error = pd.DataFrame({"group": [focal, reference], "n": [int(g.sum()), int((1 - g).sum())],
                          "mean_residual": [float(common["resid"][labels == str(focal)].mean()),
                                            float(common["resid"][labels == str(reference)].mean())]})
    return DifferentialPrediction(
        focal=focal, reference=reference, center=c, n=int(use.sum()),
        coefficients=_frame(full, ["intercept", "score", "group", "score:group"]),
        equal_slopes=_frame(equal, ["intercept", "score", "group"]),
        slope_difference=rename(pick(full, 3)),
        intercept_difference=rename(pick(equal, 2)),
        omnibus={"F": float(F), "df1": df1, "df2": int(df2), "p": float(stats.f.sf(F, df1, df2))},
        prediction_error=error,
        r2={name: 1 - fit["rss"] / tss for name, fit in (("common", common), ("equal_slopes", equal), ("full", full))},
    )
