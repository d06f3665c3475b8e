"""Raw scale scores from a table of responses, vectorized.

Reverse keying is ``min + max - x`` on the item's response range (as psych::scoreItems); a scale score is
the mean (or sum) of its keyed items. A respondent who answered fewer than ``min_answered`` of a scale's
items gets a missing score; otherwise the score is prorated: the mean of the answered items, and for sum
scoring that mean times the number of items. :func:`answered_counts` gives the number of items each score
rests on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from profiler._arrays import is_broadcast_row
from profiler.documents import did_you_mean
from profiler.errors import ResponseError, ResponseProblem
from profiler.questionnaire.blocks import chunk_buffers, code_plan, code_rows, row_chunks
from profiler.questionnaire.numeric import numeric_source
from profiler.questionnaire.plan import Scorable, ScoringPlan, acceptable, describe_format
from profiler.questionnaire.spec import LikertFormat

MAX_PROBLEMS_KEPT = 1000
INVALID_POLICIES = ("raise", "allow-unanswered", "missing")


def _keyed_sums(x: np.ndarray, signed: np.ndarray) -> np.ndarray:
    """``x @ signed`` for a matrix of -1/0/+1, by adding whole columns when they are contiguous.

    A product with a handful of scales is slow in BLAS (a thin matrix); adding the contiguous columns of a
    column-major ``x`` is several times faster and, for whole-number answers, exactly the same.
    """
    if not x.flags.f_contiguous:
        return x @ signed
    totals = np.zeros((x.shape[0], signed.shape[1]), order="F")
    for j in range(signed.shape[1]):
        column = totals[:, j]
        for i in np.flatnonzero(signed[:, j] > 0):
            column += x[:, i]
        for i in np.flatnonzero(signed[:, j] < 0):
            column -= x[:, i]
    return totals


def validate_responses(
    questionnaire: Scorable, responses: pd.DataFrame, *, invalid: str = "raise"
) -> pd.DataFrame:
    """Check a responses table against the questionnaire and return it as floats, one column per item.

    Parameters
    ----------
    questionnaire : Questionnaire
    responses : DataFrame or ndarray
        One row per respondent, one column per item id; empty cells (NaN, ``pd.NA``, Arrow nulls) are
        unanswered items. Columns of any numeric dtype, pandas' nullable ones (``Int8``...) and Arrow-backed
        ones (``int8[pyarrow]``...) are read as numbers without a detour through Python objects. A 2-D
        numpy array has one column per item, in the questionnaire's item order.
    invalid : {"raise", "allow-unanswered", "missing"}
        ``"raise"`` (default): any out-of-range or non-numeric answer, unknown column or unanswered
        required item raises :class:`~profiler.errors.ResponseError` naming row and item.
        ``"allow-unanswered"``: the same, except that unanswered required items (an expired or incomplete
        session) are simply missing; the scales' ``min_answered`` rule then decides what can be scored.
        ``"missing"``: such answers are treated as unanswered and unknown columns are ignored.

    Returns
    -------
    DataFrame
        Float answers with the questionnaire's item ids as columns (absent items all NaN), same index.
    """
    if invalid not in INVALID_POLICIES:
        raise ValueError(f"invalid={invalid!r}; use one of {INVALID_POLICIES}")
    plan = questionnaire.scoring_plan
    responses = as_frame(plan, responses)
    strict = invalid != "missing"  # invalid answers and unknown columns raise
    require = invalid == "raise"  # ... and so do unanswered required items
    problems: list[ResponseProblem] = []
    total = 0
    columns = [str(c) for c in responses.columns]
    if len(set(columns)) != len(columns):
        duplicated = sorted({c for c in columns if columns.count(c) > 1})
        raise ResponseError([ResponseProblem(None, -1, c, None, "column appears more than once") for c in duplicated])
    for column in columns:
        if strict and not plan.has_item(column):
            problems.append(ResponseProblem(None, -1, column, None, "unknown column: not an item of "
                                            f"{plan.questionnaire_id!r}{did_you_mean(column, plan.item_ids)}"))
    frame = responses.set_axis(columns, axis=1)
    index = responses.index
    fast = _validate_numeric(plan, frame, strict, require)
    if fast is not None:
        return pd.DataFrame(fast, index=index, columns=plan.item_ids, copy=False)
    out = np.full((len(frame), len(plan.item_ids)), np.nan)
    for j, item_id in enumerate(plan.item_ids):
        required = require and bool(plan.required[j])
        if item_id not in frame.columns:
            if required:
                problems.append(ResponseProblem(None, -1, item_id, None, "required item is missing from the table"))
            continue
        fmt = plan.formats[j]
        raw = frame[item_id]
        values = np.array(pd.to_numeric(raw, errors="coerce"), dtype=float)  # a writable copy
        given = raw.notna().to_numpy()
        bad_type = given & np.isnan(values)
        bad_value = ~np.isnan(values) & ~acceptable(fmt, values)
        unanswered = ~given if required else np.zeros(len(values), bool)
        if strict:
            for mask, message in (
                (bad_type, "not a number"),
                (bad_value, f"not an answer of this item ({describe_format(fmt)})"),
                (unanswered, "required item not answered"),
            ):
                rows = np.flatnonzero(mask)
                total += len(rows)
                for r in rows[: max(0, MAX_PROBLEMS_KEPT - len(problems))]:
                    problems.append(ResponseProblem(index[r], int(r), item_id, raw.iloc[r], message))
        values[bad_type | bad_value] = np.nan
        out[:, j] = values
    if problems:
        column_problems = sum(1 for p in problems if p.position < 0)
        raise ResponseError(problems, total=total + column_problems)
    return pd.DataFrame(out, index=index, columns=plan.item_ids)


def as_frame(plan: ScoringPlan, responses: pd.DataFrame | np.ndarray) -> pd.DataFrame:
    """The responses as a DataFrame: a 2-D numpy array becomes one (a view) with the item ids as columns."""
    if isinstance(responses, pd.DataFrame):
        return responses
    if isinstance(responses, np.ndarray):
        if responses.ndim != 2 or responses.shape[1] != len(plan.item_ids):
            raise ValueError(f"a numpy array of responses must be 2-D with one column per item of "
                             f"{plan.questionnaire_id!r} ({len(plan.item_ids)}, in item order), got shape "
                             f"{responses.shape}")
        return pd.DataFrame(responses, columns=plan.item_ids, copy=False)
    raise TypeError(f"responses must be a pandas DataFrame or a 2-D numpy array, got {type(responses).__name__}")


def _validate_numeric(plan: ScoringPlan, frame: pd.DataFrame, strict: bool,
                      require: bool = True) -> np.ndarray | None:
    """The validated answers as one float array when every item column is numeric and nothing needs reporting.

    A fast path over whole blocks of columns: ``None`` (so the caller takes the column-by-column path that
    words every problem) when a column is not numeric, or, with ``strict``, when anything would be reported.
    Same result as that path: invalid answers become NaN when not ``strict``.
    """
    item_ids = plan.item_ids
    in_order = list(frame.columns) == item_ids  # the usual case: skip pandas' label lookups
    present = item_ids if in_order else [i for i in item_ids if i in frame.columns]
    if strict and len(present) != frame.shape[1]:
        return None
    if require and any(plan.is_required(i) for i in item_ids if i not in frame.columns):
        return None
    dtypes = frame.dtypes if in_order else frame.dtypes[present]
    if any(not isinstance(d, np.dtype) or d.kind not in "iuf" for d in dtypes):
        return None  # text, booleans, nullable or mixed columns: the general path converts them
    raw = frame.to_numpy() if in_order else frame[present].to_numpy()
    # A copy (invalid answers are blanked below), column-major: pandas keeps columns contiguous, and so does
    # the scoring, which adds whole columns.
    x = np.array(raw, dtype=float, order="F")
    floats = raw.dtype.kind == "f"
    groups: dict[int, list[int]] = {}
    for j, item_id in enumerate(present):
        groups.setdefault(id(plan.format_of(item_id)), []).append(j)
    invalid = []
    for columns in groups.values():
        whole = len(columns) == len(present)
        bad = ~_acceptable_block(
            plan.format_of(present[columns[0]]), raw if whole else raw[:, columns], x if whole else x[:, columns]
        )
        if floats:
            bad &= ~np.isnan(x if whole else x[:, columns])  # NaN is an unanswered item, not an invalid one
        if bad.any():
            invalid.append((columns, bad))
    if strict and invalid:
        return None
    if require:
        required = [j for j, item_id in enumerate(present) if plan.is_required(item_id)]
        if floats and required and np.isnan(x[:, required]).any():
            return None
    for columns, bad in invalid:
        block = x[:, columns]
        block[bad] = np.nan
        x[:, columns] = block
    if len(present) == len(item_ids):
        return x
    out = np.full((len(frame), len(item_ids)), np.nan, order="F")
    out[:, [plan.position(i) for i in present]] = x
    return out


def _acceptable_block(fmt: object, raw: np.ndarray, x: np.ndarray) -> np.ndarray:
    """:func:`~profiler.questionnaire.plan.acceptable` for several columns sharing a response format;
    whole-number options by range."""
    if isinstance(fmt, LikertFormat):
        values = np.array([option.value for option in fmt.options], dtype=float)
        steps = np.diff(values)
        if np.all(values == np.round(values)) and np.all(steps == 1):
            low, high = int(values[0]), int(values[-1])
            if raw.dtype.kind in "iu" and np.iinfo(raw.dtype).min <= low and high <= np.iinfo(raw.dtype).max:
                return (raw >= low) & (raw <= high)  # Python ints keep the comparison in the array's small type
            return (x >= values[0]) & (x <= values[-1]) & (x == np.floor(x))
    return acceptable(fmt, x.ravel()).reshape(x.shape)


def score_responses(questionnaire: Scorable, responses: pd.DataFrame, *, invalid: str = "raise") -> pd.DataFrame:
    """Raw scale scores for every respondent.

    Parameters
    ----------
    questionnaire : Questionnaire
    responses : DataFrame
        One row per respondent, one column per item id (see :func:`validate_responses`).
    invalid : {"raise", "missing"}
        What to do with invalid answers, unknown columns and unanswered required items.

    Returns
    -------
    DataFrame
        One column per scale (domains and facets, in file order), same index as ``responses``; NaN where
        too few items were answered. ``.attrs`` records the questionnaire id, version and content hash.
        How many items each score rests on: :func:`answered_counts`.

    Notes
    -----
    In R: ``psych::scoreItems(keys, items, totals = FALSE, impute = "none", min = , max = )`` gives the
    same means for respondents who answered every item.
    """
    return _scored(questionnaire, responses, invalid, with_counts=False)[0]


def answered_counts(questionnaire: Scorable, responses: pd.DataFrame, *, invalid: str = "raise") -> pd.DataFrame:
    """How many of each scale's keyed items every respondent answered (validly).

    Parameters and validation as for :func:`score_responses`.

    Returns
    -------
    DataFrame
        Integer counts, one column per scale (as :func:`score_responses`), same index as ``responses``.
        ``.attrs`` records the questionnaire's identity and ``items_total``, a mapping scale -> number of
        keyed items. A prorated score rests on fewer items than ``items_total`` (see
        :func:`profiler.norms.profile_scores` for what that does to its measurement error).
    """
    return score_and_count(questionnaire, responses, invalid=invalid)[1]


def score_and_count(
    questionnaire: Scorable, responses: pd.DataFrame | np.ndarray, *, invalid: str = "raise"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`score_responses` and :func:`answered_counts` with one validation (scoring counts anyway).

    Numeric answers on integer-coded formats are validated and summed as codes, row chunk by row chunk
    (:mod:`profiler.questionnaire.blocks`); anything else, or anything that must be reported, takes the general
    path (:func:`validate_responses`, which words every problem).
    """
    return _scored(questionnaire, responses, invalid, with_counts=True)


def _scored(questionnaire: Scorable, responses: pd.DataFrame | np.ndarray, invalid: str,
            with_counts: bool) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Scores, and answered counts if asked (else None: :func:`score_responses` does not write them)."""
    if invalid not in INVALID_POLICIES:
        raise ValueError(f"invalid={invalid!r}; use one of {INVALID_POLICIES}")
    plan = questionnaire.scoring_plan
    responses = as_frame(plan, responses)
    coded = _coded_scores(plan, responses, invalid, with_counts)
    if coded is None:
        return score_answers(questionnaire, validate_responses(questionnaire, responses, invalid=invalid))
    scores, counts = coded
    if counts is None:
        return scores_frame(plan, scores, responses.index), None
    return score_frames(plan, scores, counts, responses.index)


def _coded_scores(plan: ScoringPlan, frame: pd.DataFrame, invalid: str,
                  with_counts: bool) -> tuple[np.ndarray, np.ndarray | None] | None:
    """Scale scores and answered counts (if asked) from integer codes, or None for the general path (a format
    that is not integer-coded, a column that is not numeric, or a problem to report)."""
    columns = [str(c) for c in frame.columns.tolist()]  # tolist: no Python-level walk of an Arrow-backed Index
    present = set(columns)
    if len(present) != len(columns) or not all(plan.has_item(c) for c in columns):
        return None
    if invalid == "raise" and any(plan.required[j] for j, i in enumerate(plan.item_ids) if i not in present):
        return None
    cp = code_plan(plan, columns)
    source = numeric_source(frame) if cp is not None else None
    if source is None:
        return None
    required = plan.required[cp.positions] if invalid == "raise" else None
    n, k = len(frame), len(plan.scale_ids)
    # column-major, as a DataFrame holds its columns: the frames below are views of these
    scores = np.empty((n, k), order="F")
    counts = np.empty((n, k), dtype=np.int32, order="F") if with_counts else None
    buffers = chunk_buffers(cp, source)
    for start, stop in row_chunks(n):
        chunk = code_rows(cp, source, start, stop, buffers)
        if invalid != "missing" and len(chunk.invalid_cells[0]):
            return None
        if required is not None and chunk.blanks[required].any():
            return None
        scores_from_totals(plan, chunk.totals, chunk.counts, out=scores[start:stop])
        if counts is not None:
            counts[start:stop] = chunk.counts
    return scores, counts


def scores_from_totals(plan: ScoringPlan, totals: np.ndarray, counts: np.ndarray,
                       out: np.ndarray | None = None) -> np.ndarray:
    """Scale scores from keyed totals and answered counts: the prorated mean (times the number of keyed items
    for a sum score), missing where fewer than ``min_answered`` items were answered; into ``out`` if given."""
    if is_broadcast_row(counts):
        counts = counts[0]  # every row answered the same items (a broadcast row): divide by the row
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.divide(totals, counts, out=out)
    if counts.size and counts.min() < plan.needed.max():  # one reduction, cheaper than a mask of every count
        means[np.broadcast_to(counts < plan.needed, means.shape)] = np.nan
    if plan.is_sum.any():
        np.multiply(means, plan.n_items, out=means, where=plan.is_sum)
    return means


def score_frames(plan: ScoringPlan, scores: np.ndarray, counts: np.ndarray,
                   index: pd.Index) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores and answered counts (int32) as :func:`score_answers` returns them."""
    answered = pd.DataFrame(counts, index=index, columns=plan.scale_index.view(), copy=False)
    answered.attrs.update(plan.identity)
    answered.attrs["items_total"] = dict(zip(plan.scale_ids, plan.n_items.astype(int).tolist(), strict=True))
    return scores_frame(plan, scores, index), answered


def scores_frame(plan: ScoringPlan, scores: np.ndarray, index: pd.Index) -> pd.DataFrame:
    """Scale scores (rows x scales, a view of ``scores``) as :func:`score_responses` returns them."""
    frame = pd.DataFrame(scores, index=index, columns=plan.scale_index.view(), copy=False)
    frame.attrs.update(plan.identity)
    return frame


def score_answers(questionnaire: Scorable, answers: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scale scores and answered counts of answers that :func:`validate_responses` returned (not checked again).

    For callers that validated once at their boundary (a batch that also reports the bad rows) and score what
    passed. ``answers`` must have the questionnaire's item ids as columns, in order, as floats.

    Returns
    -------
    (DataFrame, DataFrame)
        As :func:`score_responses` and :func:`answered_counts`.
    """
    plan = questionnaire.scoring_plan
    if list(answers.columns) != plan.item_ids:
        raise ValueError("score_answers takes the answers validate_responses returned (every item id, in order)")
    scores, counts = _score(plan, answers, answers.index)
    n_items = plan.n_items.astype(np.int32)
    if counts is None:  # every item answered
        counts = np.broadcast_to(n_items, scores.shape).copy()
    else:
        counts = np.rint(counts).astype(np.int32)
    answered = pd.DataFrame(counts, index=answers.index, columns=plan.scale_ids, copy=False)
    answered.attrs.update(plan.identity)
    answered.attrs["items_total"] = dict(zip(plan.scale_ids, n_items.tolist(), strict=True))
    return scores, answered


def _score(
    plan: ScoringPlan, answers: pd.DataFrame, index: pd.Index
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """The scores of validated answers, and the answered items per scale (None when every item was answered)."""
    x = answers.to_numpy()[:, plan.columns]
    positive, negative, lows, highs, n_items = plan.positive, plan.negative, plan.lows, plan.highs, plan.n_items
    if not np.isnan(x).any():  # the common case: sum of x keyed +1, minus x keyed -1, plus min + max
        totals = _keyed_sums(x, positive - negative) + (lows + highs) @ negative
        counts = np.broadcast_to(n_items, totals.shape)
        partial = None
    else:
        answered = ~np.isnan(x)
        x_filled = np.where(answered, x, 0.0)
        reversed_filled = np.where(answered, (lows + highs) - x, 0.0)
        totals = x_filled @ positive + reversed_filled @ negative
        counts = partial = answered.astype(float) @ (positive + negative)
    scores = scores_from_totals(plan, totals, np.asarray(counts, dtype=float))
    result = pd.DataFrame(scores, index=index, columns=plan.scale_ids)
    result.attrs.update(plan.identity)
    return result, partial
