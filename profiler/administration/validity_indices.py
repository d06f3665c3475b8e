"""Careless-responding indices, one value per respondent, vectorized over respondents.

Plain functions: a DataFrame of answers in (one row per respondent, NaN = unanswered), a Series or
DataFrame out with the same index. They know nothing about questionnaires; :mod:`.validity` chooses
the items, reverses keyed items, applies the thresholds and words the verdict.

References
----------
Curran, P. G. (2016). Methods for the detection of carelessly invalid responses in survey data.
Journal of Experimental Social Psychology, 66, 4-19.
Dunn, A. M., Heggestad, E. D., Shanock, L. R., & Theilgard, N. (2018). Intra-individual response
variability as an indicator of insufficient effort responding. Journal of Business and Psychology, 33, 105-121.
Huang, J. L., Curran, P. G., Keeney, J., Poposki, E. M., & DeShon, R. P. (2012). Detecting and deterring
insufficient effort responding to surveys. Journal of Business and Psychology, 27, 99-114.
Johnson, J. A. (2005). Ascertaining the validity of individual protocols from Web-based personality
inventories. Journal of Research in Personality, 39, 103-129.
Meade, A. W., & Craig, S. B. (2012). Identifying careless responses in survey data. Psychological
Methods, 17, 437-455.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from profiler.errors import ValidityError
from scipy import stats

# Below this many usable pairs (synonyms, antonyms) or scales (even-odd) a within-person
# correlation says nothing: two points always correlate +-1.
MIN_CORRELATION_POINTS = 3
_TINY = 1e-12


def _as_frame(answers: pd.DataFrame, name: str = "answers") -> pd.DataFrame:
    if not isinstance(answers, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(answers).__name__}")
    return answers


def _floats(frame: pd.DataFrame) -> np.ndarray:
    if all(pd.api.types.is_numeric_dtype(dtype) for dtype in frame.dtypes):  # one conversion, not one per column
        return frame.to_numpy(dtype=float, na_value=np.nan, copy=True).reshape(frame.shape)
    return np.array(frame.apply(pd.to_numeric, errors="coerce"), dtype=float).reshape(frame.shape)


# Longstring ---------------------------------------------------------------------------------------
def longest_run(x: np.ndarray, joined: np.ndarray | None = None) -> np.ndarray:
    """Longest run of identical consecutive values per row of ``x`` (n x k, NaN ends a run).

    ``joined`` (length k - 1, optional) says whether columns j and j + 1 may belong to one run; False
    ends a run there (e.g. where the response format changes). Rows without any answer give NaN.
    """
    n, k = x.shape
    if k == 0:
        return np.full(n, np.nan)
    longest = np.ones(n)
    if k > 1:
        same = x[:, 1:] == x[:, :-1]  # NaN never equals anything
        if joined is not None:
            same &= np.asarray(joined, dtype=bool)[None, :]
        # Length of the run of equal pairs ending at each position: position minus the last break before it.
        position = np.arange(k - 1)
        last_break = np.maximum.accumulate(np.where(same, -1, position), axis=1)
        longest += (position - last_break).max(axis=1)
    longest[np.isnan(x).all(axis=1)] = np.nan
    return longest


def longstring(answers: pd.DataFrame, formats: Sequence[str] | None = None) -> pd.Series:
    """Longest run of identical consecutive answers, columns taken in the order given.

    Parameters
    ----------
    answers : DataFrame
        One row per respondent, items as columns **in order of administration**.
    formats : sequence of str, optional
        The response format of each column; a run never continues across a change of format.

    Returns
    -------
    Series
        Float (NaN for a respondent who answered nothing). An unanswered item ends a run.

    Notes
    -----
    Johnson (2005); Meade & Craig (2012); Curran (2016). Long runs reveal straight-lining, which
    consistency indices miss.
    """
    answers = _as_frame(answers)
    joined = None
    if formats is not None:
        formats = list(formats)
        if len(formats) != answers.shape[1]:
            raise ValidityError(f"formats has {len(formats)} entries for {answers.shape[1]} columns")
        joined = np.array([a == b for a, b in zip(formats[:-1], formats[1:], strict=True)], dtype=bool)
    return pd.Series(longest_run(_floats(answers), joined), index=answers.index, name="longstring")


# Intra-individual response variability -----------------------------------------------------------
def row_sd(x: np.ndarray) -> np.ndarray:
    """Sample standard deviation (n - 1) of each row's non-missing values; NaN with fewer than 2."""
    answered = ~np.isnan(x)
    count = answered.sum(axis=1)
    filled = np.where(answered, x, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=1) / count
        squares = np.where(answered, (x - mean[:, None]) ** 2, 0.0).sum(axis=1)
        sd = np.sqrt(squares / (count - 1))
    sd[count < 2] = np.nan
    return sd


def response_variability(answers: pd.DataFrame) -> pd.Series:
    """Intra-individual response variability (IRV): the SD of a person's answers across items.

    ``IRV = sqrt(sum_j (x_j - mean(x))**2 / (k - 1))`` over the k answered items, on the raw answers
    (reverse-keyed items are not reversed). Dunn et al. (2018): a very low IRV marks straight-lining
    or near straight-lining. NaN with fewer than 2 answers. In R: ``apply(x, 1, sd, na.rm = TRUE)``.
    """
    answers = _as_frame(answers)
    return pd.Series(row_sd(_floats(answers)), index=answers.index, name="irv")


# Within-person correlations -----------------------------------------------------------------------
def rowwise_correlation(a: np.ndarray, b: np.ndarray, min_points: int = MIN_CORRELATION_POINTS):
    """Pearson correlation of ``a[i]`` with ``b[i]`` for every row i, over the positions where both exist.

    Returns ``(r, points)``: r is NaN with fewer than ``min_points`` usable positions or when either
    side does not vary.
    """
    usable = ~(np.isnan(a) | np.isnan(b))
    points = usable.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_a = np.where(usable, a, 0.0).sum(axis=1) / points
        mean_b = np.where(usable, b, 0.0).sum(axis=1) / points
        da = np.where(usable, a - mean_a[:, None], 0.0)
        db = np.where(usable, b - mean_b[:, None], 0.0)
        var_a, var_b = (da * da).sum(axis=1), (db * db).sum(axis=1)
        r = (da * db).sum(axis=1) / np.sqrt(var_a * var_b)
    r[(points < min_points) | (var_a <= _TINY) | (var_b <= _TINY)] = np.nan
    return np.clip(r, -1.0, 1.0), points


def item_pair_correlation(answers: pd.DataFrame, pairs: Sequence[tuple[str, str]], *, name: str = "r") -> pd.Series:
    """Within-person correlation across item pairs: psychometric synonyms or antonyms.

    For each respondent, the answers to the first items of the pairs are correlated with the answers
    to the second items (Meade & Craig, 2012). With synonym pairs (items that correlate strongly
    positively in a calibration sample) attentive respondents give high positive values; with
    antonym pairs (strongly negative) they give strongly negative values, on the raw answers as in
    Meade & Craig. Careless respondents give values near zero either way.

    Parameters
    ----------
    answers : DataFrame
        Raw answers, items as columns.
    pairs : sequence of (item, item)
    name : str
        Name of the returned Series.

    Returns
    -------
    Series
        NaN when fewer than 3 pairs are answered or the answers do not vary within one side.
    """
    answers = _as_frame(answers)
    pairs = [tuple(p) for p in pairs]
    missing = sorted({item for pair in pairs for item in pair} - set(answers.columns))
    if missing:
        raise KeyError(f"item pairs name items that are not columns of the answers: {', '.join(missing)}")
    if not pairs:
        return pd.Series(np.nan, index=answers.index, name=name)
    x = _floats(answers)
    position = {item: j for j, item in enumerate(answers.columns)}
    first = x[:, [position[a] for a, _ in pairs]]
    second = x[:, [position[b] for _, b in pairs]]
    r, _ = rowwise_correlation(first, second)
    return pd.Series(r, index=answers.index, name=name)


def even_odd_consistency(keyed_answers: pd.DataFrame, scales: Mapping[str, Sequence[str]]) -> pd.Series:
    """Even-odd consistency, Jackson's individual reliability (Johnson, 2005; Meade & Craig, 2012).

    Each scale's items (in key order) are split into odd (1st, 3rd, ...) and even (2nd, 4th, ...)
    halves; a respondent's half-scale means are correlated across scales, odd halves against even
    halves, and the correlation r is stepped up with Spearman-Brown, ``2r / (1 + r)``.

    Parameters
    ----------
    keyed_answers : DataFrame
        Answers with reverse-keyed items already reversed (min + max - x), items as columns.
    scales : mapping of scale id to item ids
        Unidimensional scales in key order. Scales with fewer than 2 items cannot be split and are
        left out.

    Returns
    -------
    Series
        NaN when fewer than 3 scales have both halves answered, or the half means do not vary. The
        Spearman-Brown step-up is meant for r >= 0; below r = -1/3 it would fall under -1, so the
        value is bounded at -1 (the answers are then simply inconsistent).
    """
    keyed_answers = _as_frame(keyed_answers, "keyed_answers")
    x = _floats(keyed_answers)
    position = {item: j for j, item in enumerate(keyed_answers.columns)}
    odd_means, even_means = [], []
    for items in scales.values():
        items = list(items)
        if len(items) < 2:
            continue
        columns = [position[item] for item in items]
        odd_means.append(_row_mean(x[:, columns[0::2]]))
        even_means.append(_row_mean(x[:, columns[1::2]]))
    if not odd_means:
        return pd.Series(np.nan, index=keyed_answers.index, name="even_odd")
    r, _ = rowwise_correlation(np.column_stack(odd_means), np.column_stack(even_means))
    with np.errstate(invalid="ignore", divide="ignore"):
        stepped = np.where(r > -1 / 3, 2 * r / (1 + r), -1.0)
    stepped[np.isnan(r)] = np.nan
    return pd.Series(stepped, index=keyed_answers.index, name="even_odd")


def _row_mean(x: np.ndarray) -> np.ndarray:
    answered = ~np.isnan(x)
    count = answered.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(answered, x, 0.0).sum(axis=1) / count


# Mahalanobis distance -----------------------------------------------------------------------------
def mahalanobis_distance(answers: pd.DataFrame, mean: pd.Series, covariance: pd.DataFrame) -> pd.DataFrame:
    """Squared Mahalanobis distance of each respondent from a calibration mean and covariance.

    ``D2 = (x - mu)' S^-1 (x - mu)`` over the items the respondent answered, using the mean and
    covariance of those items only (the marginal distribution), so a missing answer neither crashes
    nor counts as an outlier. Under multivariate normality D2 follows a chi-square distribution with
    as many degrees of freedom as answered items; ``p`` is its upper tail. Likert answers are not
    normal, so read ``p`` as a rough guide and prefer the percentile in a calibration sample.

    Parameters
    ----------
    answers : DataFrame
        Raw answers; the items of ``mean`` must be columns.
    mean : Series
        Calibration means by item id.
    covariance : DataFrame
        Calibration covariance matrix, item ids as index and columns (same order as ``mean``).

    Returns
    -------
    DataFrame
        ``mahalanobis`` (D2), ``mahalanobis_df`` (answered items) and ``mahalanobis_p``; NaN for a
        respondent who answered none of the items.
    """
    answers = _as_frame(answers)
    items = list(mean.index)
    missing = [item for item in items if item not in answers.columns]
    if missing:
        raise KeyError(f"the calibration items are not all columns of the answers: {', '.join(missing)}")
    x = _floats(answers[items]) - np.asarray(mean, dtype=float)[None, :]
    sigma = np.asarray(covariance.loc[items, items], dtype=float)
    answered = ~np.isnan(x)
    d2 = np.full(len(x), np.nan)
    complete = answered.all(axis=1)
    if complete.any():
        solved = np.linalg.solve(sigma, x[complete].T).T
        d2[complete] = np.einsum("ij,ij->i", x[complete], solved)
    partial = ~complete & answered.any(axis=1)
    if partial.any():
        # One small solve per missing-data pattern (most real data has few patterns).
        patterns, which = np.unique(answered[partial], axis=0, return_inverse=True)
        rows = np.flatnonzero(partial)
        for p, pattern in enumerate(patterns):
            members = rows[which.ravel() == p]
            sub = x[np.ix_(members, np.flatnonzero(pattern))]
            solved = np.linalg.solve(sigma[np.ix_(pattern, pattern)], sub.T).T
            d2[members] = np.einsum("ij,ij->i", sub, solved)
    df = answered.sum(axis=1).astype(float)
    df[df == 0] = np.nan
    p = np.full(len(x), np.nan)
    known = ~np.isnan(d2)
    p[known] = stats.chi2.sf(d2[known], df[known])
    return pd.DataFrame({"mahalanobis": d2, "mahalanobis_df": df, "mahalanobis_p": p}, index=answers.index)


# Response time -------------------------------------------------------------------------------------
def response_speed(
    timings: pd.DataFrame | pd.Series, floor: float = 2.0, items_answered: pd.Series | None = None
) -> pd.DataFrame:
    """Seconds per item and the share of items answered faster than ``floor`` seconds.

    Parameters
    ----------
    timings : DataFrame or Series
        Either seconds spent on each item (one column per item, NaN where unknown), or the total
        seconds of each respondent's session.
    floor : float
        Seconds per item below which an answer is too fast to have been read (about 2 s; Huang et al., 2012).
    items_answered : Series, optional
        With total seconds only: how many items each respondent answered (the time is spread over them).

    Returns
    -------
    DataFrame
        ``seconds_per_item``: the median over items when per-item times are given (one long pause
        does not hide a run of instant answers), else total seconds / items answered;
        ``share_too_fast``: share of timed items under ``floor`` (NaN with totals only).
    """
    if isinstance(timings, pd.Series):
        if items_answered is None:
            raise ValidityError("with total seconds per respondent, pass items_answered")
        total = pd.to_numeric(timings, errors="coerce").to_numpy(dtype=float)
        count = items_answered.reindex(timings.index).to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            per_item = np.where(count > 0, total / count, np.nan)
        return pd.DataFrame({"seconds_per_item": per_item, "share_too_fast": np.nan}, index=timings.index)
    timings = _as_frame(timings, "timings")
    t = _floats(timings)
    t[t < 0] = np.nan  # a negative duration is a clock error, not an answer
    timed = ~np.isnan(t)
    count = timed.sum(axis=1)
    median = np.full(len(t), np.nan)
    some = count > 0
    if some.any():
        median[some] = np.nanmedian(t[some], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(timed, t < floor, False).sum(axis=1) / count
    return pd.DataFrame({"seconds_per_item": median, "share_too_fast": share}, index=timings.index)
