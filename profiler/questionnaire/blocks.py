"""Answers as numbers, fast: any numeric table read by row chunks, validated and summed on integer codes.

**Reading.** :func:`numeric_source` turns a table of answers into row chunks of one numeric 2-D array each,
without going through object arrays: a numpy array; a DataFrame of numpy columns of any numeric dtype (one
block is read in place); pandas' nullable columns (``Int8``, ``Float64``... : their values buffer, and the rows
their mask flags); and Arrow-backed columns (``int8[pyarrow]``...: the values buffer, and the rows the validity
bitmap leaves out, read from its bytes). A column of text, booleans or mixed objects gives ``None``, and the
caller takes the general path that words every problem. Missing cells travel as a short list of (row, column)
positions, not as a mask: blanks are rare, and a pass over a mask costs as much as one over the answers.

**Codes.** Most questionnaires answer on integer-coded contiguous formats (Likert 1..5, yes/no 0/1, a whole
number from 0 to 50). For those an answer ``x`` of an item whose lowest answer is ``low`` and which allows
``K`` answers is the code ``c = x - low + 1`` (1..K), a ``uint8``: for ``int8`` answers on 1..K the answers
themselves, read in place. Validation costs one cast per chunk and a few reductions: float answers are cast to
``uint8`` and back, and the cells that differ (blanks, fractions, values out of range) are listed; for every
other cell, a code of 0 or above K is an invalid answer, which the count of zero codes and the largest code
rule out at once (only a chunk that holds an invalid answer is searched cell by cell).

**Keyed totals.** Each scale's items are gathered side by side, a reverse-keyed item's code becomes ``K + 1 - c``
(reverse keying ``low + high - x`` is ``(K + 1 - c) + low - 1``), and each scale's codes are added in one
integer reduction. Whatever an unanswered or invalid cell added (its code, or ``K + 1`` minus it) is taken off
again from the short list of such cells, which also gives the answered counts; a scale's keyed total is then
its codes' total plus ``(low - 1)`` per answered item. Every total is an exact integer, so the scores are the
same, bit for bit, as those of the float path of :mod:`profiler.questionnaire.scoring`, which takes the
questionnaires with other formats (fractional numbers, Likert values with gaps).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from profiler.questionnaire.plan import ScoringPlan
from profiler.questionnaire.spec import LikertFormat, NumberFormat

CHUNK_ROWS = 16_384  # rows validated and summed together: their temporaries stay in the CPU cache (L3)
MAX_CODES = 250  # answers an item may allow for its codes to fit a uint8 (0 = none)

# Some cells of a chunk: their rows and their columns (two integer arrays of the same length)
Cells = tuple[np.ndarray, np.ndarray]
_NO_CELLS: Cells = (np.zeros(0, np.intp), np.zeros(0, np.intp))


# Reading --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Column:
    values: np.ndarray  # 1-D, numeric: what a missing cell holds is undefined
    missing: np.ndarray | None  # the rows that hold no value, ascending (None: every row holds one)


def _null_rows(bitmap: object, offset: int, n: int) -> np.ndarray:
    """The rows an Arrow validity bitmap marks null: only the bytes that are not all ones are unpacked."""
    packed = np.frombuffer(bitmap, dtype=np.uint8)[offset // 8 : (offset + n + 7) // 8]
    partial = np.flatnonzero(packed != 0xFF)
    byte, bit = np.nonzero(np.unpackbits(packed[partial], bitorder="little").reshape(-1, 8) == 0)
    rows = (partial[byte] + offset // 8) * 8 + bit - offset
    return rows[(rows >= 0) & (rows < n)]


def _column(column: pd.Series | np.ndarray) -> _Column | None:
    """One column's values buffer and missing rows, or None when it is not numeric."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind not in "iuf":
            return None
        return _Column(column.to_numpy() if isinstance(column, pd.Series) else column, None)
    array = column.array
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa

        kind = dtype.pyarrow_dtype
        if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
            return None
        whole = array.__arrow_array__().combine_chunks()  # the column's own Arrow buffers (no copy for one chunk)
        n, offset = len(whole), whole.offset
        data = np.frombuffer(whole.buffers()[1], dtype=kind.to_pandas_dtype(), count=offset + n)[offset:]
        return _Column(data, _null_rows(whole.buffers()[0], offset, n) if whole.null_count else None)
    if isinstance(array, pd.arrays.IntegerArray | pd.arrays.FloatingArray):
        rows = np.flatnonzero(array._mask)  # the values and missing flags: no object array
        return _Column(array._data, rows if len(rows) else None)
    return None


def column_as_float(column: pd.Series) -> np.ndarray:
    """A numeric column (numpy, nullable or Arrow-backed) as float64, NaN for missing, without Python objects;
    other columns through pandas' own conversion (which raises for text that is not a number)."""
    read = _column(column)
    if read is None:
        return column.to_numpy(dtype=float, na_value=np.nan)
    values = read.values.astype(float)
    if read.missing is not None:
        values[read.missing] = np.nan
    return values


@dataclass
class NumericSource:
    """A table of answers readable by row chunks: ``masked_rows(a, b)`` is an ``(b - a) x len(columns)`` array.

    Attributes
    ----------
    n_rows : int
    columns : list of str
        The table's column names, in its order.
    """

    n_rows: int
    columns: list[str]
    _block: np.ndarray | None
    _columns: list[_Column] | None = None
    _dtype: np.dtype | None = None  # of a chunk assembled from columns
    _missing: np.ndarray | None = None  # column * n_rows + row of every missing cell, ascending

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start..stop``; one dtype (the block's, else float64 with NaN for missing)."""
        x, missing = self.masked_rows(start, stop)
        if missing is None:
            return x
        out = x.astype(float, order="F")
        out[missing] = np.nan
        return out

    def masked_rows(self, start: int, stop: int) -> tuple[np.ndarray, Cells | None]:
        """Rows ``start..stop`` and which of their cells are missing (None: none is, or NaN marks them).

        Integer columns with missing values (nullable, Arrow-backed) of at most 16 bits stay integers, their
        missing cells listed: validating small integers costs less than validating floats. Column-major, as
        pandas holds columns and as scoring adds them.
        """
        if self._block is not None:
            return self._block[start:stop], None
        out = np.empty((stop - start, len(self._columns)), dtype=self._dtype, order="F")
        for j, column in enumerate(self._columns):
            out[:, j] = column.values[start:stop]
        if self._missing is None:
            return out, None
        cells = self._missing_cells(start, stop)
        if out.dtype.kind == "f":
            out[cells] = np.nan
            return out, None
        return out, cells

    def _missing_cells(self, start: int, stop: int) -> Cells:
        n, keys = self.n_rows, self._missing
        first = np.arange(len(self._columns)) * n
        lo, hi = np.searchsorted(keys, first + start), np.searchsorted(keys, first + stop)
        lengths = hi - lo
        taken = keys[np.repeat(lo - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())]
        return taken % n - start, taken // n


def numeric_source(responses: pd.DataFrame | np.ndarray, columns: list[str] | None = None) -> NumericSource | None:
    """A :class:`NumericSource` over ``responses``, or None when a column is not numeric.

    ``responses`` is a DataFrame (its columns) or a 2-D numpy array (``columns`` names them).
    """
    if isinstance(responses, np.ndarray):
        if responses.ndim != 2 or responses.dtype.kind not in "iuf" or columns is None:
            return None
        return NumericSource(len(responses), list(columns), responses)
    names = [str(c) for c in responses.columns.tolist()]
    dtypes = list(responses.dtypes)
    if dtypes and all(isinstance(d, np.dtype) and d == dtypes[0] and d.kind in "iuf" for d in dtypes):
        block = responses.to_numpy()  # one block of one dtype: a view when pandas holds it as one
        return NumericSource(len(responses), names, block)
    read = []
    for j in range(responses.shape[1]):
        column = _column(responses.iloc[:, j])
        if column is None:
            return None
        read.append(column)
    n = len(responses)
    dtype = np.result_type(*[c.values.dtype for c in read]) if read else np.dtype(float)
    if dtype.kind == "f" or dtype.itemsize > 2:
        dtype = np.dtype(float)  # NaN marks the missing answers
    gaps = [j * n + c.missing for j, c in enumerate(read) if c.missing is not None]
    return NumericSource(n, names, None, read, dtype, np.concatenate(gaps) if gaps else None)


# Codes ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CodePlan:
    """What the coded kernel needs, per present column and per scale (built by :func:`code_plan`)."""

    positions: np.ndarray  # each present column's position among the plan's item ids
    shift: np.ndarray  # per column: its lowest answer minus 1 (an answer's code is the answer minus this)
    count: np.ndarray  # ... and the number of answers K
    uniform: tuple[int, int] | None  # (shift, K) when every column shares them
    gather: np.ndarray  # present-column indices, scale by scale: its + items, then its - items
    bounds: np.ndarray  # scale s's columns in ``gather``: bounds[s]:bounds[s + 1]
    flips: tuple[tuple[int, int, int], ...]  # (start, stop, K + 1): spans of ``gather`` that are reverse keyed
    member_ptr: np.ndarray  # column j's scales: member_scale[member_ptr[j]:member_ptr[j + 1]] ...
    member_scale: np.ndarray
    member_flip: np.ndarray  # ... and K + 1 where the column is reverse keyed there (else 0)
    scale_shift: np.ndarray  # per scale: its items' lowest answer minus 1
    present: np.ndarray  # per scale: keyed items among the columns (float)
    single: bool  # every column belongs to one scale at most
    acc: type  # the integer type that holds a scale's total of codes


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
    gather: list[int] = []
    bounds, flips, scale_shift = [0], [], []
    members: list[list[tuple[int, int]]] = [[] for _ in columns]  # per column: (scale, K + 1 or 0)
    for s in range(len(plan.scale_ids)):
        keyed = [scored[r] for r in np.flatnonzero(plan.positive[:, s] + plan.negative[:, s])]
        shared = {_codes_of(plan.format_of(i)) for i in keyed}
        if len(shared) > 1:
            return None
        low, count = shared.pop() if shared else (1.0, 1)
        scale_shift.append(low - 1)
        for sign, flip in ((plan.positive, 0), (plan.negative, count + 1)):
            group = [where[scored[r]] for r in np.flatnonzero(sign[:, s]) if scored[r] in where]
            if flip and group:
                flips.append((len(gather), len(gather) + len(group), flip))
            for j in group:
                members[j].append((s, flip))
            gather += group
        bounds.append(len(gather))
    shift = np.array([int(r[0]) - 1 for r in ranges], dtype=np.int64)
    count = np.array([r[1] for r in ranges], dtype=np.int64)
    uniform = (int(shift[0]), int(count[0])) if len(columns) and (shift == shift[0]).all() and \
        (count == count[0]).all() else None
    present = np.diff(bounds)
    flat = [m for column in members for m in column]
    return CodePlan(
        positions=np.array([plan.position(c) for c in columns], dtype=np.intp), shift=shift, count=count,
        uniform=uniform, gather=np.array(gather, dtype=np.intp), bounds=np.array(bounds, dtype=np.intp),
        flips=tuple(flips), member_ptr=np.cumsum([0] + [len(m) for m in members]).astype(np.intp),
        member_scale=np.array([m[0] for m in flat], dtype=np.intp),
        member_flip=np.array([m[1] for m in flat], dtype=np.int64), scale_shift=np.array(scale_shift),
        present=present.astype(float), single=all(len(m) <= 1 for m in members),
        # garbage in an unanswered cell is up to 255 before it is taken off again: no total may wrap
        acc=np.uint16 if 255 * max(present, default=0) < 2**16 else np.uint32,
    )


@dataclass
class CodedChunk:
    """One chunk of rows, validated and summed.

    Attributes
    ----------
    invalid_cells, missing_cells : (ndarray, ndarray)
        Rows and columns of the answers given that the item does not allow, and of the cells without an answer.
    totals, counts : ndarray
        Rows x scales: the keyed total of the valid answers and how many there are (floats).
    """

    shape: tuple[int, int]
    invalid_cells: Cells
    missing_cells: Cells
    totals: np.ndarray
    counts: np.ndarray

    @property
    def invalid(self) -> np.ndarray | None:
        """Rows x columns: an answer given that the item does not allow (None when there is none)."""
        return self._dense(self.invalid_cells)

    @property
    def missing(self) -> np.ndarray | None:
        """Rows x columns: no answer (None when every cell holds one)."""
        return self._dense(self.missing_cells)

    def _dense(self, cells: Cells) -> np.ndarray | None:
        if not len(cells[0]):
            return None
        out = np.zeros(self.shape, dtype=bool, order="F")
        out[cells] = True
        return out


def code_chunk(cp: CodePlan, x: np.ndarray, missing: Cells | None = None) -> CodedChunk:
    """Validate a chunk of answers (columns as :func:`code_plan` was given; ``missing`` lists the empty cells of
    integer answers, NaN marks those of floats) and total each scale's keyed answers."""
    if x.dtype.kind == "f":
        codes, missing, invalid = _float_codes(cp, x)
    else:
        codes, invalid = _integer_codes(cp, x, _NO_CELLS if missing is None else missing)
        missing = _NO_CELLS if missing is None else missing
    totals, counts = _keyed_totals(cp, codes, missing if not len(invalid[0]) else
                                   (np.concatenate([missing[0], invalid[0]]), np.concatenate([missing[1], invalid[1]])))
    return CodedChunk(x.shape, invalid, missing, totals, counts)


def _float_codes(cp: CodePlan, x: np.ndarray) -> tuple[np.ndarray, Cells, Cells]:
    """Codes of float answers, the blank cells and the invalid ones (in the layout of ``x``: row-major for a 2-D
    numpy array, column-major for a DataFrame's block)."""
    shift, count = cp.uniform if cp.uniform is not None else (None, None)
    with np.errstate(invalid="ignore", over="ignore"):
        y = x if shift == 0 else x - (cp.shift if shift is None else shift)  # answers 1..K are their own codes
        codes = np.empty_like(x, dtype=np.uint8)
        np.copyto(codes, y, casting="unsafe")  # NaN, fractions and out-of-range values: codes that differ from y
        back = np.empty_like(codes, dtype=y.dtype)
        np.copyto(back, codes)
    rows, cols = _cells(np.not_equal(back, y, out=np.empty_like(codes, dtype=bool)))  # float == float: 3x mixed
    blank = np.isnan(x[rows, cols])
    wrong = ~blank
    invalid = (rows[wrong], cols[wrong])
    return codes, (rows[blank], cols[blank]), _out_of_range(cp, codes, (rows, cols), invalid, None)


def _cells(flags: np.ndarray) -> Cells:
    """Rows and columns of the true cells of a contiguous (row- or column-major) mask."""
    m, p = flags.shape
    if flags.flags.f_contiguous:
        flat = np.flatnonzero(flags.ravel(order="F"))
        return flat % m, flat // m
    flat = np.flatnonzero(np.ascontiguousarray(flags))
    return flat // p, flat % p


def _integer_codes(cp: CodePlan, x: np.ndarray, missing: Cells) -> tuple[np.ndarray, Cells]:
    """Codes of integer answers (in place for bytes already coded 1..K) and the invalid cells."""
    shift, count = cp.uniform if cp.uniform is not None else (None, None)
    if x.dtype.itemsize == 1 and shift == 0 and (x.dtype.kind == "u" or count <= 127):
        # bytes: -1 reads as 255, 0 as 0; no answer out of range reads as a code within it
        return x.view(np.uint8), _out_of_range(cp, x.view(np.uint8), missing, _NO_CELLS, None)
    low, high = cp.shift + 1, cp.shift + cp.count
    if len(x) and ((x.min(axis=0) < low) | (x.max(axis=0) > high)).any():
        outside = (x < low) | (x > high)  # rare: an invalid answer, or what a missing cell happens to hold
    else:
        outside = None
    codes = np.empty(x.shape, np.uint8, order="F")
    np.copyto(codes, x if shift == 0 else x - (cp.shift if shift is None else np.int64(shift)), casting="unsafe")
    if outside is None:
        return codes, _NO_CELLS
    return codes, _out_of_range(cp, codes, missing, _NO_CELLS, outside)


def _out_of_range(cp: CodePlan, codes: np.ndarray, skipped: Cells, invalid: Cells,
                  outside: np.ndarray | None) -> Cells:
    """``invalid`` and the other cells, ``skipped`` aside, whose code is 0 or above K (or that are ``outside``).

    The zero codes are counted and the largest code taken: only when they say that an invalid answer is there
    is the chunk searched cell by cell.
    """
    if outside is None:
        zeros = codes.size - np.count_nonzero(codes)
        if cp.uniform is not None:
            over = codes.max(initial=0) > cp.uniform[1]
        else:
            over = bool((codes.max(axis=0, initial=0) > cp.count).any())
        if not over and zeros == np.count_nonzero(codes[skipped] == 0):
            return invalid
        outside = (codes == 0) | (codes > cp.count)
    outside[skipped] = False
    rows, cols = _cells(outside)
    return np.concatenate([invalid[0], rows]), np.concatenate([invalid[1], cols])


def _keyed_totals(cp: CodePlan, codes: np.ndarray, unanswered: Cells) -> tuple[np.ndarray, np.ndarray]:
    """Keyed totals and answered counts (rows x scales, floats) of ``codes`` but for the ``unanswered`` cells."""
    m, n_scales = len(codes), len(cp.bounds) - 1
    gathered = np.empty((m, len(cp.gather)), np.uint8, order="F")
    for k, j in enumerate(cp.gather.tolist()):
        gathered[:, k] = codes[:, j]
    for a, b, flip in cp.flips:
        np.subtract(np.uint8(flip), gathered[:, a:b], out=gathered[:, a:b])  # K + 1 - c (wraps for non-codes)
    sums = np.empty((m, n_scales), cp.acc, order="F")
    for s, (a, b) in enumerate(zip(cp.bounds[:-1].tolist(), cp.bounds[1:].tolist(), strict=True)):
        np.add.reduce(gathered[:, a:b], axis=1, dtype=cp.acc, out=sums[:, s])
    totals = np.empty((m, n_scales), order="F")
    np.copyto(totals, sums)
    rows, cols = unanswered
    if len(rows):
        # every scale an unanswered cell belongs to: take off what it added, and one answered item (both in one
        # bincount: a scale's unanswered cells add less than ``base``, the range of its total of codes)
        if cp.single:  # each column in one scale at most: no expansion
            kept = cp.member_ptr[cols + 1] > cp.member_ptr[cols]  # columns of no scale add nothing
            member, cell = cp.member_ptr[cols][kept], kept
        else:
            per_cell = cp.member_ptr[cols + 1] - cp.member_ptr[cols]
            cell = np.repeat(np.arange(len(rows)), per_cell)
            member = cp.member_ptr[cols][cell] + np.arange(len(cell)) - np.repeat(np.cumsum(per_cell) - per_cell,
                                                                                    per_cell)
        flip = cp.member_flip[member]
        held = codes[rows[cell], cols[cell]].astype(np.int64)
        base = float(np.iinfo(cp.acc).max) + 1
        added = np.where(flip == 0, held, (flip - held) & 0xFF) + base
        lost = np.bincount(cp.member_scale[member] * m + rows[cell], weights=added,
                           minlength=n_scales * m).reshape(n_scales, m).T
        counts = np.floor(lost * (1 / base))  # a power of two: exact (floor_divide on floats is 20x slower)
        totals -= lost - counts * base
        counts = cp.present - counts
    else:
        counts = np.broadcast_to(cp.present, (m, n_scales))
    if cp.scale_shift.any():
        totals += cp.scale_shift * counts
    return totals, counts


def row_chunks(n_rows: int, size: int | None = None) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` of consecutive chunks of ``size`` rows (default :data:`CHUNK_ROWS`)."""
    size = size or CHUNK_ROWS
    for start in range(0, n_rows, size):
        yield start, min(n_rows, start + size)


__all__ = ["CHUNK_ROWS", "Cells", "CodePlan", "CodedChunk", "NumericSource", "code_chunk", "code_plan",
           "column_as_float", "numeric_source", "row_chunks"]
