"""Intraclass correlations (the six Shrout & Fleiss forms) and test-retest reliability, as R's psych.

:func:`icc` takes targets (rows: people, items, ...) rated by judges or occasions (columns) and gives
``ICC1``, ``ICC2``, ``ICC3`` (single ratings) and ``ICC1k``, ``ICC2k``, ``ICC3k`` (the mean of k
ratings) with their F tests and confidence intervals, exactly as ``psych::ICC``.

:func:`retest_reliability` compares two administrations of a scale to the same people, as
``psych::testRetest``: the correlation of the scale scores, each item's test-retest correlation, each
person's profile stability, and the ICCs of the scores.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from profiler.factors.missing import MissingDataWarning
from profiler.factors.reliability import _as_frame, _check_item_range, _keyed_values, _parse_key_list

__all__ = ["ICC", "RetestReliability", "icc", "retest_reliability"]

_FORMS = ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")
_ROW_NAMES = ("Single_raters_absolute", "Single_random_raters", "Single_fixed_raters",
              "Average_raters_absolute", "Average_random_raters", "Average_fixed_raters")


@dataclass(frozen=True)
class ICC:
    """Intraclass correlations of n targets rated by k judges (``psych::ICC``).

    Attributes
    ----------
    table : DataFrame
        One row per form (index ``ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k``) with ``icc``, ``F``, ``df1``,
        ``df2``, ``p`` and the ``lower`` / ``upper`` confidence bounds, plus ``name`` (psych's row
        names, e.g. ``Single_random_raters``).
    mean_squares : Series
        ``MSB`` (targets), ``MSJ`` (judges), ``MSE`` (residual), ``MSW`` (within targets), after the
        variance components are kept non-negative as psych's default (``lmer = TRUE``) keeps them.
    variance_components : Series
        ``targets``, ``judges``, ``residual`` (REML on the balanced design).
    n_targets, n_judges : int
    n_rows_dropped : int
        Targets left out because a rating was missing.
    confidence : float
    """

    table: pd.DataFrame
    mean_squares: pd.Series
    variance_components: pd.Series
    n_targets: int
    n_judges: int
    n_rows_dropped: int = 0
    confidence: float = 0.95

    def __getitem__(self, form: str) -> float:
        """The coefficient of one form, e.g. ``result["ICC2k"]``."""
        return float(self.table.loc[form, "icc"])


def _reml_variances(ms: dict[str, float], df: dict[str, float]) -> dict[str, float]:
    """Expected mean squares of the balanced two-way random model, fitted by REML with non-negative
    variance components.

    The REML likelihood factors into independent scaled chi-squares for MSB, MSJ and MSE with
    expectations theta_B >= theta_E, theta_J >= theta_E. A mean square below the residual's is pooled
    with it (weighted by degrees of freedom), the lower one first, until the order holds: the
    maximum-likelihood solution under that tree order. Without pooling these are the ANOVA mean squares.
    """
    theta = dict(ms)
    pooled_ss, pooled_df = ms["E"] * df["E"], df["E"]
    for c in sorted(("B", "J"), key=lambda c: ms[c]):
        if ms[c] < pooled_ss / pooled_df:
            pooled_ss += ms[c] * df[c]
            pooled_df += df[c]
    error = pooled_ss / pooled_df
    theta["E"] = error
    for c in ("B", "J"):
        theta[c] = max(ms[c], error)
    return theta


def icc(data: pd.DataFrame | np.ndarray, *, confidence: float = 0.95, missing: str = "listwise") -> ICC:
    r"""The six Shrout-Fleiss intraclass correlations with F tests and confidence intervals.

    Parameters
    ----------
    data : DataFrame or ndarray of shape (n_targets, n_judges)
        One row per target (person rated, respondent), one column per judge or occasion.
    confidence : float, default 0.95
        Level of the intervals (psych's ``alpha = 1 - confidence``).
    missing : {"listwise", "raise"}, default "listwise"
        Targets with a missing rating are dropped, with a :class:`MissingDataWarning` giving how many
        (psych's default fits lme4 to the incomplete ratings instead; that is not reproduced here), or
        refused.

    Returns
    -------
    ICC

    Notes
    -----
    From the two-way ANOVA of n targets x k judges (mean squares MSB for targets, MSJ for judges, MSE
    residual, MSW = (SSJ + SSE) / (n(k - 1)) within targets), with variance components kept
    non-negative as REML keeps them (:func:`_reml_variances`; psych's default ``lmer = TRUE``):

    - ICC1 = (MSB - MSW) / (MSB + (k-1) MSW): one-way random, absolute agreement, single rating;
    - ICC2 = (MSB - MSE) / (MSB + (k-1) MSE + k (MSJ - MSE)/n): two-way random, absolute agreement;
    - ICC3 = (MSB - MSE) / (MSB + (k-1) MSE): two-way mixed, consistency;
    - ICC1k = (MSB - MSW)/MSB, ICC2k = (MSB - MSE)/(MSB + (MSJ - MSE)/n), ICC3k = (MSB - MSE)/MSB.

    F = MSB/MSW on (n-1, n(k-1)) df for ICC1/ICC1k, MSB/MSE on (n-1, (n-1)(k-1)) for the others. The
    intervals are Shrout & Fleiss's: F-based for ICC1 and ICC3 (and their k forms), Satterthwaite's
    approximate df for ICC2.

    In R: ``psych::ICC(x, alpha = 1 - confidence)``.
    """
    frame = _as_frame(data)
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if missing not in ("listwise", "raise"):
        raise ValueError(f"missing must be 'listwise' or 'raise', got {missing!r}")
    if np.isinf(values).any():
        raise ValueError("ratings contain infinite values")
    incomplete = np.isnan(values).any(axis=1)
    if incomplete.any():
        if missing == "raise":
            raise ValueError(f"{int(incomplete.sum())} target(s) have a missing rating; pass missing='listwise'")
        warnings.warn(
            f"icc: {int(incomplete.sum())} of {len(values)} targets with a missing rating were dropped "
            f"(listwise); the ICCs use n = {int((~incomplete).sum())}.",
            MissingDataWarning,
            stacklevel=2,
        )
        values = values[~incomplete]
    n, k = values.shape
    if n < 2 or k < 2:
        raise ValueError(f"ICCs need at least 2 targets and 2 judges with complete ratings; got {n} x {k}")
    grand = values.mean()
    ss_b = k * float(np.sum((values.mean(axis=1) - grand) ** 2))
    ss_j = n * float(np.sum((values.mean(axis=0) - grand) ** 2))
    ss_e = float(np.sum((values - grand) ** 2)) - ss_b - ss_j
    df = {"B": n - 1.0, "J": k - 1.0, "E": (n - 1.0) * (k - 1.0)}
    theta = _reml_variances({"B": ss_b / df["B"], "J": ss_j / df["J"], "E": ss_e / df["E"]}, df)
    MSB, MSJ, MSE = theta["B"], theta["J"], theta["E"]
    if MSE <= 0:
        raise ValueError("the ratings have no residual variance (every judge gives every target the same "
                         "score up to a constant): the ICCs are not defined")
    MSW = MSE + (MSJ - MSE) / n
    table = _icc_table(MSB, MSJ, MSE, MSW, n, k, 1.0 - confidence)
    return ICC(
        table=table,
        mean_squares=pd.Series({"MSB": MSB, "MSJ": MSJ, "MSE": MSE, "MSW": MSW}, name="mean_square"),
        variance_components=pd.Series(
            {"targets": (MSB - MSE) / k, "judges": (MSJ - MSE) / n, "residual": MSE}, name="variance"
        ),
        n_targets=n,
        n_judges=k,
        n_rows_dropped=int(incomplete.sum()),
        confidence=confidence,
    )


def _icc_table(MSB: float, MSJ: float, MSE: float, MSW: float, n: int, k: int, alpha: float) -> pd.DataFrame:
    icc1 = (MSB - MSW) / (MSB + (k - 1) * MSW)
    icc2 = (MSB - MSE) / (MSB + (k - 1) * MSE + k * (MSJ - MSE) / n)
    icc3 = (MSB - MSE) / (MSB + (k - 1) * MSE)
    icc1k = (MSB - MSW) / MSB
    icc2k = (MSB - MSE) / (MSB + (MSJ - MSE) / n)
    icc3k = (MSB - MSE) / MSB
    F1, d1n, d1d = MSB / MSW, n - 1.0, n * (k - 1.0)
    F2, d2n, d2d = MSB / MSE, n - 1.0, (n - 1.0) * (k - 1.0)
    p1, p2 = float(stats.f.sf(F1, d1n, d1d)), float(stats.f.sf(F2, d2n, d2d))
    q = 1.0 - alpha / 2.0
    F1L, F1U = F1 / stats.f.ppf(q, d1n, d1d), F1 * stats.f.ppf(q, d1d, d1n)
    F3L, F3U = F2 / stats.f.ppf(q, d2n, d2d), F2 * stats.f.ppf(q, d2d, d2n)
    # ICC2: Satterthwaite's df for the denominator (Shrout & Fleiss 1979, eq. 8), as psych
    Fj = MSJ / MSE
    vn = (k - 1) * (n - 1) * (k * icc2 * Fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    vd = (n - 1) * k**2 * icc2**2 * Fj**2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    v = vn / vd
    FU, FL = stats.f.ppf(q, n - 1, v), stats.f.ppf(q, v, n - 1)
    denom = k * MSJ + (k * n - k - n) * MSE
    L2 = n * (MSB - FU * MSE) / (FU * denom + n * MSB)
    U2 = n * (FL * MSB - MSE) / (denom + n * FL * MSB)
    rows = [
        (icc1, F1, d1n, d1d, p1, (F1L - 1) / (F1L + k - 1), (F1U - 1) / (F1U + k - 1)),
        (icc2, F2, d2n, d2d, p2, L2, U2),
        (icc3, F2, d2n, d2d, p2, (F3L - 1) / (F3L + k - 1), (F3U - 1) / (F3U + k - 1)),
        (icc1k, F1, d1n, d1d, p1, 1 - 1 / F1L, 1 - 1 / F1U),
        (icc2k, F2, d2n, d2d, p2, L2 * k / (1 + L2 * (k - 1)), U2 * k / (1 + U2 * (k - 1))),
        (icc3k, F2, d2n, d2d, p2, 1 - 1 / F3L, 1 - 1 / F3U),
    ]
    table = pd.DataFrame(rows, index=pd.Index(_FORMS, name="type"),
                         columns=["icc", "F", "df1", "df2", "p", "lower", "upper"])
    table.insert(0, "name", _ROW_NAMES)
    return table


@dataclass(frozen=True)
class RetestReliability:
    """Two administrations of a scale to the same people (``psych::testRetest``).

    Attributes
    ----------
    r12 : float
        Correlation of the scale scores (means of the keyed items each person answered) at the two
        times, over the people with both scores (psych's ``r12``).
    items : DataFrame
        Per item: ``rii`` (its test-retest correlation, pairwise), ``mean1``, ``mean2`` (the answers as
        given, before reversal, as psych reports them).
    persons : DataFrame
        Per person: ``score1``, ``score2``; ``rqq`` (the correlation of the person's keyed answers at the
        two times: how stable the profile is; NaN when a time has no spread), ``dxy`` (mean squared
        change), ``sd1``, ``sd2``.
    icc : ICC
        Intraclass correlations of the two scale scores (ICC2 is absolute agreement across occasions,
        ICC3 consistency).
    n_obs : int
        People in both administrations.
    keys : tuple of str
    """

    r12: float
    items: pd.DataFrame = field(repr=False)
    persons: pd.DataFrame = field(repr=False)
    icc: ICC = field(repr=False)
    n_obs: int
    keys: tuple[str, ...]


def retest_reliability(
    time1: pd.DataFrame,
    time2: pd.DataFrame,
    keys: Sequence[str] | None = None,
    *,
    item_range: tuple[float, float] | None = None,
    id: str | None = None,
    confidence: float = 0.95,
) -> RetestReliability:
    """Test-retest reliability of a scale given twice to the same people.

    Parameters
    ----------
    time1, time2 : DataFrame
        Answers at the two times, one row per person. Rows are matched by the ``id`` column when given
        (people in only one administration are left out, with a :class:`MissingDataWarning`),
        otherwise by position (then both must have the same number of rows).
    keys : list of str, optional
        psych-style keys (``["q1", "-q2"]``); default every column but ``id``.
    item_range : (float, float), optional
        Declared response range, required to reverse items (``min + max - x``).
    id : str, optional
        Column identifying people.
    confidence : float, default 0.95
        For the ICC intervals.

    Returns
    -------
    RetestReliability

    Notes
    -----
    Missing answers are handled as psych does: a score is the mean of the answered keyed items, each
    correlation uses the pairs present. psych reverses items with the observed minimum and maximum of
    each administration; here with the declared ``item_range`` (the same when both ends were used).

    In R: ``psych::testRetest(t1, t2, keys = keys, check.keys = FALSE, lmer = FALSE)`` for ``r12``,
    ``item.stats$rii`` and ``scores$rqq``; ``psych::ICC(cbind(t1scores, t2scores))`` for ``icc``.
    """
    a, b = _as_frame(time1, "time1"), _as_frame(time2, "time2")
    if id is not None:
        for frame, name in ((a, "time1"), (b, "time2")):
            if id not in frame.columns:
                raise ValueError(f"{name} has no id column {id!r}")
            if frame[id].duplicated().any():
                raise ValueError(f"{name} has repeated ids in column {id!r}")
        common = pd.Index(a[id]).intersection(pd.Index(b[id]), sort=False)
        unmatched = len(a) + len(b) - 2 * len(common)
        if unmatched:
            warnings.warn(f"retest_reliability: {unmatched} row(s) in only one administration were left out",
                          MissingDataWarning, stacklevel=2)
        a = a.set_index(id).loc[common]
        b = b.set_index(id).loc[common]
    elif len(a) != len(b):
        raise ValueError(f"time1 has {len(a)} rows and time2 {len(b)}: pass id= to match people")
    columns = [c for c in a.columns if c != id]
    items = _parse_key_list(keys if keys is not None else [str(c) for c in columns], a.columns)
    missing_in_b = [n for n in items.names if n not in b.columns]
    if missing_in_b:
        raise ValueError(f"time2 lacks the items {missing_in_b}")
    rng = _check_item_range(item_range)
    x = _keyed_values(a, items, rng)
    y = _keyed_values(b, items, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a person without answers gets a NaN score
        s1, s2 = np.nanmean(x, axis=1), np.nanmean(y, axis=1)
    r12 = _pairwise_r(s1, s2)
    rii = np.array([_pairwise_r(x[:, j], y[:, j]) for j in range(x.shape[1])])
    persons = _profile_stability(x, y)
    persons.insert(0, "score2", s2)
    persons.insert(0, "score1", s1)
    persons.index = a.index
    raw1 = a.loc[:, list(items.names)].to_numpy(dtype=float, na_value=np.nan)
    raw2 = b.loc[:, list(items.names)].to_numpy(dtype=float, na_value=np.nan)
    table = pd.DataFrame(
        {"rii": rii, "mean1": np.nanmean(raw1, axis=0), "mean2": np.nanmean(raw2, axis=0)},
        index=pd.Index(items.names, name="item"),
    )
    scores = np.column_stack([s1, s2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingDataWarning)  # counted in icc.n_rows_dropped
        agreement = icc(scores, confidence=confidence)
    key_names = tuple(("-" if r else "") + n for n, r in zip(items.names, items.reversed))
    return RetestReliability(r12=r12, items=table, persons=persons, icc=agreement, n_obs=len(a), keys=key_names)


def _pairwise_r(u: np.ndarray, v: np.ndarray) -> float:
    ok = ~(np.isnan(u) | np.isnan(v))
    if ok.sum() < 3:
        return float("nan")
    uu, vv = u[ok] - u[ok].mean(), v[ok] - v[ok].mean()
    den = np.sqrt(np.sum(uu * uu) * np.sum(vv * vv))
    return float(np.sum(uu * vv) / den) if den > 0 else float("nan")


def _profile_stability(x: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """psych's ``dist``: per person, the correlation of the two answer vectors and the mean squared change."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # rows without answers give NaN, as in R
        sd1 = np.nanstd(x, axis=1, ddof=1)
        sd2 = np.nanstd(y, axis=1, ddof=1)
        dxy = np.nanmean((x - y) ** 2, axis=1)
    ok = ~(np.isnan(x) | np.isnan(y))
    xc = np.where(ok, x, 0.0)
    yc = np.where(ok, y, 0.0)
    m = ok.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx, my = xc.sum(axis=1) / m, yc.sum(axis=1) / m
        dx, dy = np.where(ok, x - mx[:, None], 0.0), np.where(ok, y - my[:, None], 0.0)
        rqq = np.sum(dx * dy, axis=1) / np.sqrt(np.sum(dx * dx, axis=1) * np.sum(dy * dy, axis=1))
    rqq = np.where((sd1 > 0) & (sd2 > 0) & np.isfinite(rqq), rqq, np.nan)
    return pd.DataFrame({"rqq": rqq, "dxy": dxy, "sd1": sd1, "sd2": sd2})
