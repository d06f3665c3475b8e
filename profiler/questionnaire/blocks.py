"""Answers as numbers, fast: any numeric table read by row chunks, validated and summed on integer codes.

**Reading.** :func:`numeric_source` turns a table of answers into row chunks of one numeric 2-D array each,
without going through object arrays: a numpy array; a DataFrame of numpy columns of any numeric dtype (one
block is read in place); pandas' nullable columns (``Int8``, ``Float64``... : their values and mask); and
Arrow-backed columns (``int8[pyarrow]``...). A column of text, booleans or mixed objects gives ``None``, and
the caller takes the general path that words every problem.

**Codes.** Most questionnaires answer on integer-coded contiguous formats (Likert 1..5, yes/no 0/1, a whole
number from 0 to 50). For those an answer ``x`` of an item whose lowest answer is ``low`` and which allows
``K`` answers is the code ``c = x - low + 1`` (1..K), a ``uint8``; 0 marks an unanswered or invalid cell.
Validation is one cast and two comparisons (``c == x - low + 1`` and ``1 <= c <= K``), and a scale's keyed
total is ``low * n + (S+ - n+) + (K * n- - S-)``, with ``S+`` (``S-``) the sum of the codes of its
positively (negatively) keyed items and ``n+`` (``n-``) how many of them were answered: reverse keying
``low + high - x`` is ``low + K - c``. Questionnaires with other formats (fractional numbers, Likert values
with gaps) take the float path of :mod:`profiler.questionnaire.scoring`.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from profiler.questionnaire.plan import ScoringPlan
from profiler.questionnaire.spec import LikertFormat, NumberFormat

CHUNK_ROWS = 8_192  # rows validated and summed together: their temporaries stay in the CPU cache
MAX_CODES = 250  # answers an item may allow for its codes to fit a uint8 (0 = none)


# Reading --------------------------------------------------------------------------------------------------
# Rows start..stop of one column: its values and which are missing (None: none is, or NaN marks them)
Getter = Callable[[int, int], tuple[np.ndarray, np.ndarray | None]]


def _masked(data: np.ndarray, mask: np.ndarray) -> Getter:
    """Rows of values ``data`` with missing flags ``mask`` (None where a chunk has no missing value)."""
    return lambda a, b: (data[a:b], mask[a:b] if mask[a:b].any() else None)


def _column_getter(column: pd.Series | np.ndarray) -> Getter | None:
    """Rows of one column as a numpy array of numbers (NaN for missing), or None when it is not numeric."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind not in "iuf":
            return None
        values = column.to_numpy() if isinstance(column, pd.Series) else column
        return lambda a, b: (values[a:b], None)
    array = column.array
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa

        kind = dtype.pyarrow_dtype
        if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
            return None
        whole = array.__arrow_array__().combine_chunks()  # the column's own Arrow buffers (no copy for one chunk)
        n, offset = len(whole), whole.offset
        data = np.frombuffer(whole.buffers()[1], dtype=kind.to_pandas_dtype(), count=offset + n)[offset:]
        if not whole.null_count:
            return lambda a, b: (data[a:b], None)
        valid = np.unpackbits(np.frombuffer(whole.buffers()[0], dtype=np.uint8), bitorder="little")
        return _masked(data, ~valid[offset : offset + n].astype(bool))
    if isinstance(array, pd.arrays.IntegerArray | pd.arrays.FloatingArray):
        return _masked(array._data, array._mask)  # the values and missing flags: no object array
    return None


def column_as_float(column: pd.Series) -> np.ndarray:
    """A numeric column (numpy, nullable or Arrow-backed) as float64, NaN for missing, without Python objects;
    other columns through pandas' own conversion (which raises for text that is not a number)."""
    getter = _column_getter(column)
    if getter is None:
        return column.to_numpy(dtype=float, na_value=np.nan)
    values, missing = getter(0, len(column))
    values = values.astype(float)
    if missing is not None:
        values[missing] = np.nan
    return values


@dataclass
class NumericSource:
    """A table of answers readable by row chunks: ``rows(a, b)`` is an ``(b - a) x len(columns)`` numeric array.

    Attributes
    ----------
    n_rows : int
    columns : list of str
        The table's column names, in its order.
    """

    n_rows: int
    columns: list[str]
    _block: np.ndarray | None
    _getters: list[Getter] | None

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start..stop``, column-major; one dtype (the block's, else float64 with NaN for missing)."""
        x, missing = self.masked_rows(start, stop)
        if missing is None:
            return x
        out = x.astype(float, order="F")
        out[missing] = np.nan
        return out

    def masked_rows(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Rows ``start..stop``, column-major, and which cells are missing (None: none is, or NaN marks them).

        Integer columns with missing values (nullable, Arrow-backed) stay integers with a mask: validating
        small integers costs less than validating floats.
        """
        if self._block is not None:
            return self._block[start:stop], None
        parts = [get(start, stop) for get in self._getters]
        dtypes = {values.dtype for values, _ in parts}
        dtype = dtypes.pop() if len(dtypes) == 1 else np.result_type(*dtypes)
        masked = any(missing is not None for _, missing in parts)
        if dtype.kind == "f" or dtype.itemsize > 2:
            dtype = np.dtype(float)  # NaN marks the missing answers
        out = np.empty((stop - start, len(parts)), dtype=dtype, order="F")
        mask = np.zeros(out.shape, dtype=bool, order="F") if masked and dtype.kind != "f" else None
        for j, (values, missing) in enumerate(parts):
            out[:, j] = values
            if missing is not None:
                if mask is None:
                    np.copyto(out[:, j], np.nan, where=missing)
                else:
                    mask[:, j] = missing
        return out, mask


def numeric_source(responses: pd.DataFrame | np.ndarray, columns: list[str] | None = None) -> NumericSource | None:
    """A :class:`NumericSource` over ``responses``, or None when a column is not numeric.

    ``responses`` is a DataFrame (its columns) or a 2-D numpy array (``columns`` names them).
    """
    if isinstance(responses, np.ndarray):
        if responses.ndim != 2 or responses.dtype.kind not in "iuf" or columns is None:
            return None
        return NumericSource(len(responses), list(columns), responses, None)
    names = [str(c) for c in responses.columns]
    dtypes = list(responses.dtypes)
    if dtypes and all(isinstance(d, np.dtype) and d == dtypes[0] and d.kind in "iuf" for d in dtypes):
        block = responses.to_numpy()  # one block of one dtype: a view when pandas holds it as one
        return NumericSource(len(responses), names, block, None)
    getters = []
    for j in range(responses.shape[1]):
        getter = _column_getter(responses.iloc[:, j])
        if getter is None:
            return None
        getters.append(getter)
    return NumericSource(len(responses), names, None, getters)


# Codes ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CodePlan:
    """What the coded kernel needs, per present column and per scale (built by :func:`code_plan`)."""

    positions: np.ndarray  # each present column's position among the plan's item ids
    low: np.ndarray  # per column: the lowest answer (float) ...
    count: np.ndarray  # ... and the number of answers K
    gather: np.ndarray  # present-column indices, scale by scale: its + items, then its - items
    starts: np.ndarray  # where each non-empty group starts in ``gather`` ...
    stops: np.ndarray  # ... and where it stops
    groups: np.ndarray  # which of the 2 * scales groups (scale s: 2s for +, 2s + 1 for -) each start is
    scale_low: np.ndarray  # per scale: its items' lowest answer ...
    scale_count: np.ndarray  # ... and number of answers (shared by its keyed items)
    n_items: np.ndarray  # keyed items per scale


_PLANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # scoring plan -> {columns: CodePlan or None}


def _codes_of(fmt: object) -> tuple[float, int] | None:
    """``(low, K)`` of an integer-coded contiguous format, else None."""
    if isinstance(fmt, LikertFormat):
        values = np.array([o.value for o in fmt.options], dtype=float)
        if not (np.all(values == np.round(values)) and np.all(np.diff(values) == 1)):
            return None
        low, count = float(values[0]), len(values)
    elif isinstance(fmt, NumberFormat):
        if not fmt.integer or fmt.min != round(fmt.min) or fmt.max != round(fmt.max):
            return None
        low, count = float(fmt.min), int(fmt.max - fmt.min) + 1
    else:  # yes / no
        low, count = 0.0, 2
    return (low, count) if count <= MAX_CODES else None


def code_plan(plan: ScoringPlan, columns: list[str]) -> CodePlan | None:
    """The coded kernel's plan for a table whose columns are ``columns`` (item ids, any order, some absent),
    or None when an item's format is not integer-coded or a scale mixes formats."""
    cache = _PLANS.setdefault(plan, {})
    key = tuple(columns)
    if key not in cache:
        ranges = [_codes_of(plan.format_of(c)) for c in columns]
        cache[key] = _build(plan, columns, ranges) if all(r is not None for r in ranges) else None
    return cache[key]


def _build(plan: ScoringPlan, columns: list[str], ranges: list[tuple[float, int]]) -> CodePlan | None:
    where = {c: j for j, c in enumerate(columns)}
    scored = [plan.item_ids[i] for i in plan.columns]
    gather, starts, groups = [], [], []
    scale_low, scale_count = [], []
    for s in range(len(plan.scale_ids)):
        keyed = [scored[r] for r in np.flatnonzero(plan.positive[:, s] + plan.negative[:, s])]
        shared = {_codes_of(plan.format_of(i)) for i in keyed}
        if len(shared) > 1:
            return None
        low, count = shared.pop() if shared else (0.0, 1)
        scale_low.append(low)
        scale_count.append(count)
        for g, sign in ((2 * s, plan.positive), (2 * s + 1, plan.negative)):
            members = [where[scored[r]] for r in np.flatnonzero(sign[:, s]) if scored[r] in where]
            if members:
                starts.append(len(gather))
                groups.append(g)
                gather += members
    low = np.array([r[0] for r in ranges])
    return CodePlan(positions=np.array([plan.position(c) for c in columns], dtype=np.intp), low=low,
                    count=np.array([r[1] for r in ranges]), gather=np.array(gather, dtype=np.intp),
                    starts=np.array(starts, dtype=np.intp),
                    stops=np.array([*starts[1:], len(gather)], dtype=np.intp), groups=np.array(groups, dtype=np.intp),
                    scale_low=np.array(scale_low), scale_count=np.array(scale_count, dtype=float),
                    n_items=plan.n_items.astype(float))


@dataclass
class CodedChunk:
    """One chunk of rows, validated and summed.

    Attributes
    ----------
    invalid : ndarray of bool or None
        Rows x columns: an answer given that the item does not allow (None when there is none).
    missing : ndarray of bool or None
        Rows x columns: no answer (None when every cell holds one).
    totals, counts : ndarray
        Rows x scales: the keyed total of the valid answers and how many there are.
    """

    invalid: np.ndarray | None
    missing: np.ndarray | None
    totals: np.ndarray
    counts: np.ndarray


def code_chunk(cp: CodePlan, x: np.ndarray, missing: np.ndarray | None = None) -> CodedChunk:
    """Validate a chunk of answers (columns as :func:`code_plan` was given; ``missing`` flags the empty cells of
    integer answers) and sum each scale's keyed codes."""
    uniform = cp.low.min() == cp.low.max() and cp.count.min() == cp.count.max()
    low = cp.low[0] if uniform else cp.low
    count = int(cp.count[0]) if uniform else cp.count
    if x.dtype.kind == "f":
        with np.errstate(invalid="ignore", over="ignore"):
            y = x if uniform and low == 1 else x - (low - 1)  # answers 1..K are their own codes
            codes = y.astype(np.uint8)  # NaN, fractions and out-of-range values give codes that differ from y
            ok = codes.astype(float) == y  # a float comparison: several times faster than a mixed one
        missing = np.isnan(x)
    else:
        high = low + count - 1
        if uniform and np.can_cast(np.min_scalar_type(int(low)), x.dtype) and \
                np.can_cast(np.min_scalar_type(int(high)), x.dtype):
            ok = (x >= int(low)) & (x <= int(high))  # Python ints keep the comparison in the array's small type
            codes = x.astype(np.uint8) if low == 1 else (x - int(low - 1)).astype(np.uint8)
        else:
            ok = (x >= low) & (x <= high)
            codes = np.asarray(x - (low - 1)).astype(np.uint8)
        if missing is not None:
            ok &= ~missing  # what a masked cell holds is no answer
    if x.dtype.kind == "f":
        ok &= (codes - np.uint8(1)) < (count if uniform else cp.count.astype(np.uint8))
    codes *= ok  # 0: unanswered or invalid
    invalid = None
    if not ok.all():
        invalid = ~ok if missing is None else ~(ok | missing)
        if not invalid.any():
            invalid = None
    if missing is not None and not missing.any():
        missing = None
    n, groups = len(x), 2 * len(cp.scale_low)
    sums = np.zeros((n, groups), order="F")
    answered = np.zeros((n, groups), order="F")
    members = codes[:, cp.gather]  # column-major: each group's columns side by side
    given = None if invalid is None and missing is None else members != 0
    for g, a, b in zip(cp.groups.tolist(), cp.starts.tolist(), cp.stops.tolist(), strict=True):
        sums[:, g] = members[:, a:b].sum(axis=1, dtype=np.uint16)
        answered[:, g] = b - a if given is None else given[:, a:b].sum(axis=1, dtype=np.uint16)
    s_pos, s_neg = sums[:, 0::2], sums[:, 1::2]
    n_pos, n_neg = answered[:, 0::2], answered[:, 1::2]
    counts = n_pos + n_neg
    totals = cp.scale_low * counts + (s_pos - n_pos) + (cp.scale_count * n_neg - s_neg)
    return CodedChunk(invalid, missing, totals, counts)


def row_chunks(n_rows: int, size: int = CHUNK_ROWS) -> Iterator[tuple[int, int]]:
    for start in range(0, n_rows, size):
        yield start, min(n_rows, start + size)


__all__ = ["CHUNK_ROWS", "CodePlan", "CodedChunk", "NumericSource", "code_chunk", "code_plan", "column_as_float",
           "numeric_source", "row_chunks"]
