"""Answers as numbers, fast: a numeric table (see :mod:`profiler.questionnaire.numeric`) validated and summed by
row chunks on integer codes.

**Codes.** Most questionnaires answer on integer-coded contiguous formats (Likert 1..5, yes/no 0/1, a whole
number from 0 to 50). For those an answer ``x`` of an item whose lowest answer is ``low`` and which allows
``K`` answers is the code ``c = x - low + 1`` (1..K), a ``uint8``. A chunk's codes are written column by column
straight into the order in which the scales add them up ("slots"), and every cell without a valid answer gets
code 0; beside them, a flag per cell says "answered validly". Float answers are cast to bytes and compared
back with the answers, exactly (``code + low - 1 == x``: 3.0000000000000004, NaN, -1, 256 or inf never
equal what their cast gives, whatever that is); only a column with a cell that differs is looked at again, to
tell its blanks (NaN) from its invalid answers. Integer answers are copied (bytes coded 1..K as they are);
a nullable or Arrow column's mask gives its blanks. The count of zero codes and the largest code then rule out,
for the whole chunk at once, an answer whose code is 0 or above K (only a chunk that holds one is searched
column by column). A chunk of 131,072 rows keeps one float column and its flags in the CPU's L2 cache, so the
float answers are read from memory once.

**Compiled loops.** A chunk of at least :data:`FUSED_ROWS` rows of float64 or float32 answers can be validated by
one compiled loop per column (:mod:`profiler.questionnaire.fused`, numba) instead of the five numpy passes
above: the same codes and flags, the same counts. When a process loads them is said there; shorter chunks
always take numpy's passes (one candidate's answers never wait for numba).

**Keyed totals.** A reverse-keyed slot's code becomes ``K + 1 - c`` (reverse keying ``low + high - x`` is
``(K + 1 - c) + low - 1``), and each scale's slots are added in one byte-wide integer reduction. In a chunk
without blanks or invalid answers, that is all; otherwise the reverse-keyed slots are multiplied by their flags
(a blank's ``K + 1 - 0`` back to 0) and the flags are added up the same way (answered items per scale).
A scale's keyed total is then its codes' total plus ``(low - 1)`` per answered item. Every total is an exact
integer, so the scores are the same, bit for bit, as those of the float path of
:mod:`profiler.questionnaire.scoring`, which takes the questionnaires with other formats (fractional numbers,
Likert values with gaps).

**Row-major floats** (a C-ordered 2-D array) are validated by blocks of :data:`ROW_BLOCK` rows in place, without
transposing: each cell becomes ``2**b`` plus its keyed code where answered validly (else 0), and one float32
matrix product with the scales' membership adds a block up: a scale's sum is ``2**b`` times its answered items
plus its keyed total (below ``2**b``), exact in float32.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from profiler.questionnaire import fused
from profiler.questionnaire.numeric import NumericColumn, NumericSource, float_row_major
from profiler.questionnaire.plan import ScoringPlan
from profiler.questionnaire.spec import LikertFormat, NumberFormat

CHUNK_ROWS = 131_072  # rows validated and summed together: one float column of them (1 MiB) stays in L2
ROW_BLOCK = 2_048  # rows of a row-major float table validated and summed together (800 KiB for 50 columns: L2)
MAX_CODES = 250  # answers an item may allow for its codes to fit a uint8 (0 = none)
FUSED_ROWS = 8_192  # chunks of float answers at least this long take the compiled loops (see the module notes)
FUSED_TYPES = (np.dtype(np.float64), np.dtype(np.float32))  # ... when their answers are of these types

# Some cells of a chunk: their rows and their columns (two integer arrays of the same length)
Cells = tuple[np.ndarray, np.ndarray]
_NO_CELLS: Cells = (np.zeros(0, np.intp), np.zeros(0, np.intp))


# Codes ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CodePlan:
    """What the coded kernel needs, per present column and per scale (built by :func:`code_plan`).

    Codes are written into a chunk of ``width`` byte columns ("slots"): each present column's home slot (the
    first ``len(home)`` slots, scale by scale: its + items, then its - items; columns of no scale last), then
    a copy for each further scale of a column keyed on several. A scale adds up ``spans`` of slots.
    """

    positions: np.ndarray  # each present column's position among the plan's item ids
    shift: np.ndarray  # per column: its lowest answer minus 1 (an answer's code is the answer minus this)
    count: np.ndarray  # ... and the number of answers K
    lows: np.ndarray  # ... its lowest answer and its highest (floats)
    highs: np.ndarray
    uniform: tuple[int, int] | None  # (shift, K) when every column shares them
    home: np.ndarray  # per column: its slot
    slot_count: np.ndarray  # per home slot: its column's K
    slots: tuple[int, ...]  # ... as Python integers (read once per column and chunk)
    shifts: tuple[int, ...]  # per column: ``shift`` as Python integers
    copies: tuple[tuple[int, int], ...]  # (home slot, slot): the further slots of a column in several scales
    width: int
    spans: tuple[tuple[tuple[int, int], ...], ...]  # per scale: the slots (start, stop) it adds up ...
    reversed: tuple[tuple[tuple[int, int], ...], ...]  # ... and those of them reverse keyed
    flip: np.ndarray  # per scale: K + 1 (a reverse-keyed code c counts K + 1 - c)
    scale_shift: np.ndarray  # per scale: its items' lowest answer minus 1
    present: np.ndarray  # per scale: keyed items among the columns (float)
    acc: type  # the integer type that holds a scale's total of keyed codes
    weights: np.ndarray | None  # columns x scales, float32: 1 where the column is keyed (see _float_rows) ...
    bits: int
    signs: np.ndarray  # ... per column: -1 where reverse keyed, else 1 ...
    offsets: np.ndarray  # ... and K + 1 where reverse keyed (else 0), plus 2**bits


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
    groups, flip, scale_shift = [], [], []  # per scale: (+ columns, - columns)
    for s in range(len(plan.scale_ids)):
        keyed = [scored[r] for r in np.flatnonzero(plan.positive[:, s] + plan.negative[:, s])]
        shared = {_codes_of(plan.format_of(i)) for i in keyed}
        if len(shared) > 1:
            return None
        low, count = shared.pop() if shared else (1.0, 1)
        scale_shift.append(low - 1)
        flip.append(count + 1)
        groups.append([[where[scored[r]] for r in np.flatnonzero(sign[:, s]) if scored[r] in where]
                       for sign in (plan.positive, plan.negative)])
    home = np.full(len(columns), -1, dtype=np.intp)
    order = [j for pair in groups for group in pair for j in group] + list(range(len(columns)))
    for j in order:  # home slots: in the order the scales add them up, then the columns of no scale
        if home[j] < 0:
            home[j] = (home >= 0).sum()
    width, copies, spans, reversed_ = len(columns), [], [], []
    for pair in groups:
        mine = ([j for j in pair[0] if _first(groups, j, pair)], [j for j in pair[1] if _first(groups, j, pair)])
        others = ([j for j in pair[0] if j not in mine[0]], [j for j in pair[1] if j not in mine[1]])
        a = int(home[mine[0][0]]) if mine[0] else int(home[mine[1][0]]) if mine[1] else 0
        b = a + len(mine[0])
        c = b + len(mine[1])
        for group in others:
            for j in group:
                copies.append((int(home[j]), width))
                width += 1
        d = width - len(others[0]) - len(others[1])
        e = d + len(others[0])
        spans.append(tuple(span for span in ((a, c), (d, width)) if span[1] > span[0]))
        reversed_.append(tuple(span for span in ((b, c), (e, width)) if span[1] > span[0]))
    shift = np.array([int(r[0]) - 1 for r in ranges], dtype=np.int64)
    count = np.array([r[1] for r in ranges], dtype=np.int64)
    uniform = (int(shift[0]), int(count[0])) if len(columns) and (shift == shift[0]).all() and \
        (count == count[0]).all() else None
    present = np.array([sum(b - a for a, b in spans_of) for spans_of in spans])
    largest = max((p * f for p, f in zip(present.tolist(), flip, strict=True)), default=0)
    # row-major floats: a cell becomes 2**b + its keyed code (c, or K + 1 - c) if answered validly, else 0, and
    # one float32 product with the scales' membership adds them up: sums below 2**24 are exact in float32
    direction = {}
    for plus, minus in groups:
        for j in plus:
            direction.setdefault(j, set()).add(1)
        for j in minus:
            direction.setdefault(j, set()).add(-1)
    b = max((len(p) + len(q)) * (f - 1) for (p, q), f in zip(groups, flip, strict=True)).bit_length() if groups else 0
    weights = None
    if all(len(d) == 1 for d in direction.values()) and len(columns) * (2**b + MAX_CODES) < 2**24:
        weights = np.zeros((len(columns), len(groups)), dtype=np.float32)
        for s, (plus, minus) in enumerate(groups):
            weights[plus + minus, s] = 1
    minus_of = np.array([direction.get(j) == {-1} for j in range(len(columns))], dtype=bool)
    flip_of = np.zeros(len(columns))
    for (_, minus), f in zip(groups, flip, strict=True):
        flip_of[minus] = f
    return CodePlan(
        positions=np.array([plan.position(c) for c in columns], dtype=np.intp), shift=shift, count=count,
        lows=(shift + 1).astype(float), highs=(shift + count).astype(float),
        uniform=uniform, home=home, slot_count=count[np.argsort(home)], slots=tuple(home.tolist()),
        shifts=tuple(shift.tolist()), copies=tuple(copies),
        width=width, spans=tuple(spans),
        reversed=tuple(reversed_), flip=np.array(flip, dtype=float),
        scale_shift=np.array(scale_shift), present=present.astype(float),
        acc=np.uint8 if largest < 2**8 else np.uint16 if largest < 2**16 else np.uint32, weights=weights, bits=b,
        signs=np.where(minus_of, -1.0, 1.0), offsets=flip_of + 2**b,
    )


def _first(groups: list[list[list[int]]], j: int, pair: list[list[int]]) -> bool:
    """Whether ``pair`` (a scale's + and - columns) is the first scale that keys column ``j``."""
    for other in groups:
        if j in other[0] or j in other[1]:
            return other is pair
    return False


@dataclass
class CodedChunk:
    """One chunk of rows, validated and summed.

    Attributes
    ----------
    shape : (int, int)
        Rows x columns.
    invalid_cells : (ndarray, ndarray)
        Rows and columns of the answers given that the item does not allow.
    totals, counts : ndarray
        Rows x scales: the keyed total of the valid answers and how many there are (exact integers, held as
        integers or floats); views of working arrays that the thread's next chunk overwrites.
    """

    shape: tuple[int, int]
    invalid_cells: Cells
    totals: np.ndarray
    counts: np.ndarray
    _blanks: np.ndarray | None  # per column (None: some, counted from the mask when asked)
    _missing: Callable[[], np.ndarray]  # makes the mask of cells without an answer
    _mask: np.ndarray | None = None  # ... once made

    @property
    def blanks(self) -> np.ndarray:
        """Per column: how many of its cells hold no answer."""
        if self._blanks is None:
            self._blanks = np.count_nonzero(self._missing_mask(), axis=0)
        return self._blanks

    @property
    def invalid(self) -> np.ndarray | None:
        """Rows x columns: an answer given that the item does not allow (None when there is none)."""
        if not len(self.invalid_cells[0]):
            return None
        out = np.zeros(self.shape, dtype=bool, order="F")
        out[self.invalid_cells] = True
        return out

    @property
    def missing(self) -> np.ndarray | None:
        """Rows x columns: no answer (None when every cell holds one)."""
        return self._missing_mask() if self.blanks.any() else None

    def _missing_mask(self) -> np.ndarray:
        if self._mask is None:
            self._mask = self._missing()
        return self._mask


class _Buffers:
    """A chunk's working arrays, used again for every chunk (and, through :func:`chunk_buffers`, by the thread's
    next scoring run): fresh pages of memory cost more than the byte work done on them."""

    def __init__(self, cp: CodePlan, rows: int):
        n_scales = len(cp.spans)
        self.codes = np.empty((rows, cp.width), np.uint8, order="F")  # every slot is written before it is read
        self.ok = np.empty((rows, cp.width), bool, order="F")  # answered validly (written where needed)
        self.scratch = np.empty(rows)
        self.nan = np.empty(rows, bool)
        self.filled = np.empty(rows)  # a nullable float column's values, NaN where missing (NumericColumn.floats)
        self.present = np.empty(rows, bool)
        self.sums = np.empty((rows, n_scales), cp.acc, order="F")
        self.part = np.empty(rows, cp.acc)
        tally = np.uint8 if cp.width < 2**8 else np.uint16  # answered items per scale
        self.answered = np.empty((rows, n_scales), tally, order="F")
        self.totals = np.empty((rows, n_scales), order="F")
        self.row_block: _RowBlock | None = None  # working arrays of a row-major chunk (made on first use)
        self.plan = cp


def code_chunk(cp: CodePlan, x: np.ndarray) -> CodedChunk:
    """Validate a 2-D chunk of answers (numeric; columns as :func:`code_plan` was given, NaN for no answer)
    and total each scale's keyed answers. The totals and counts are the thread's working arrays (for a chunk of
    at most :data:`CHUNK_ROWS` rows): valid until this thread scores its next chunk."""
    source = NumericSource(len(x), [], x)
    buffers = chunk_buffers(cp, source) if len(x) <= CHUNK_ROWS else _Buffers(cp, len(x))
    return code_rows(cp, source, 0, len(x), buffers)


def code_rows(cp: CodePlan, source: NumericSource, start: int, stop: int, buffers: _Buffers) -> CodedChunk:
    """Validate rows ``start..stop`` of ``source`` and total each scale's keyed answers (see the module notes)."""
    m, p = stop - start, len(cp.home)
    codes, ok = buffers.codes[:m], buffers.ok[:m]
    blanks = np.zeros(p, dtype=np.int64)
    bad = np.zeros(p, dtype=np.int64)  # per column: cells coded 0 (blank or invalid)
    wrong: list[tuple[np.ndarray, int]] = []  # (rows, column) of invalid answers
    flagged = np.zeros(p, dtype=bool)  # columns whose ``ok`` slot was written for this chunk
    with np.errstate(invalid="ignore", over="ignore"):
        x = source.block[start:stop] if source.block is not None else None
        if x is not None and cp.weights is not None and float_row_major(x):
            return _float_rows(cp, x, buffers, lambda: source.missing(start, stop))
        for j, slot in enumerate(cp.slots):
            if x is not None:
                values, part = x[:, j], None
            else:
                part = source.parts[j]
                values = part.values[start:stop]
                if values.dtype.kind == "f":
                    values = part.floats(start, stop, buffers.filled, buffers.present)
            if values.dtype.kind == "f":
                _float_column(cp, j, values, codes[:, slot], ok[:, slot], buffers, blanks, bad, wrong)
                flagged[j] = True
            else:
                flagged[j] = _integer_column(cp, j, values, part, start, stop, codes[:, slot], ok[:, slot],
                                             blanks, bad, wrong)
    _check_codes(cp, codes, ok, flagged, bad, wrong)
    totals, counts = _keyed_totals(cp, buffers, m, bad.any(), flagged)
    rows = [r for r, _ in wrong]
    invalid = (np.concatenate(rows), np.concatenate([np.full(len(r), j) for r, j in wrong])) if rows else _NO_CELLS
    return CodedChunk((m, p), invalid, totals, counts, blanks, lambda: source.missing(start, stop))


def _float_column(cp: CodePlan, j: int, values: np.ndarray, codes: np.ndarray, ok: np.ndarray,
                  buffers: _Buffers, blanks: np.ndarray, bad: np.ndarray, wrong: list) -> None:
    """Codes of one column of float answers, checked exactly: by the compiled loop, or by numpy's passes (cast to
    bytes and compared back)."""
    shift = cp.shifts[j]
    loops = _loops_for_chunk(values)
    nan = None
    if loops is not None:
        n_bad, n_nan = loops.float_codes(values, cp.lows[j], cp.highs[j], shift, codes, ok)
    else:
        _cast_and_compare(values, shift == 0, np.float64(shift), codes, ok, buffers.scratch[: len(values)])
        n_bad, n_nan = len(values) - np.count_nonzero(ok), 0
        if n_bad:
            np.multiply(codes, ok.view(np.uint8), out=codes)  # blanks and invalid answers: code 0
            nan = np.isnan(values, out=buffers.nan[: len(values)])
            n_nan = np.count_nonzero(nan)
    blanks[j], bad[j] = n_nan, n_bad
    if n_nan != n_bad:  # rare: an invalid answer
        wrong.append((np.flatnonzero(~ok & ~(np.isnan(values) if nan is None else nan)), j))


def _cast_and_compare(values: np.ndarray, unshifted: bool, shift: np.floating | np.ndarray, codes: np.ndarray,
                      ok: np.ndarray, scratch: np.ndarray) -> None:
    """numpy's exact check of float answers: ``codes`` the answers minus ``shift`` cast to bytes, ``ok`` whether
    a code plus ``shift`` gives its answer back exactly (``unshifted``: every shift is 0, answers 1..K are their
    own codes). What NaN or a value beyond a byte casts to does not matter: only cells whose code gives their
    answer back are kept."""
    if unshifted:
        np.copyto(codes, values, casting="unsafe")
        np.equal(values, codes, out=ok)
        return
    np.subtract(values, shift, out=scratch)
    np.copyto(codes, scratch, casting="unsafe")
    np.add(codes, shift, out=scratch)  # code + shift: exact, so equal only for exact answers
    np.equal(scratch, values, out=ok)


def _float_rows(cp: CodePlan, x: np.ndarray, buffers: _Buffers, missing: Callable[[], np.ndarray]) -> CodedChunk:
    """Validate and total a row-major chunk of float answers, by blocks of rows that stay in cache.

    Each cell of a block becomes ``(2**b + keyed code) * flag`` (the keyed code ``c``, or ``K + 1 - c`` where
    reverse keyed; the flag: answered validly), and one matrix product with the scales' membership adds them up:
    a scale's sum is ``2**b`` times its answered items plus its keyed total (below ``2**b``), exact in float32.
    No transposition of codes.
    """
    m, p = x.shape
    if buffers.row_block is None or len(buffers.row_block.cells) < min(len(buffers.codes), ROW_BLOCK):
        buffers.row_block = _RowBlock(cp, len(buffers.codes))
    work = buffers.row_block
    loops = _loops_for_chunk(x)
    wrong: list[Cells] = []
    nan_cells = 0
    for a, b in row_chunks(m, ROW_BLOCK):
        xs, cells = x[a:b], work.cells[: b - a]
        if loops is not None:
            n_bad, n_nan = loops.float_cells(xs, cp.lows, cp.highs, cp.shift, cp.signs, cp.offsets, cells)
            if n_bad != n_nan:  # rare: an invalid answer (a cell of 0 that is not blank)
                rows, cols = _cells((cells == 0) & ~np.isnan(xs))
                wrong.append((rows + a, cols))
        else:
            n_nan = _numpy_cells(cp, xs, work, a, wrong)
        nan_cells += n_nan
        np.matmul(cells, cp.weights, out=work.sums[a:b])
    totals, counts, sums = work.totals[:m], work.counts[:m], work.sums[:m]  # column-major, as the scores are
    if loops is not None:
        loops.unpack_sums(sums, cp.bits, totals, counts)
    else:
        np.multiply(sums, 2.0 ** -cp.bits, out=counts)
        np.floor(counts, out=counts)  # answered items
        np.multiply(counts, -(2.0 ** cp.bits), out=totals)
        totals += sums  # keyed totals
    if cp.scale_shift.any():
        totals += cp.scale_shift * counts
    invalid = (np.concatenate([r for r, _ in wrong]), np.concatenate([c for _, c in wrong])) if wrong else _NO_CELLS
    return CodedChunk((m, p), invalid, totals, counts, None if nan_cells else np.zeros(p, dtype=np.int64), missing)


class _RowBlock:
    """Working arrays of :func:`_float_rows` for blocks of up to :data:`ROW_BLOCK` rows of a chunk, and the plan's
    per-column numbers laid out per cell of a block (made once, used for every block)."""

    def __init__(self, cp: CodePlan, chunk_rows: int):
        rows, n_scales, n_columns = min(chunk_rows, ROW_BLOCK), len(cp.spans), len(cp.home)
        self.cells = np.empty((rows, n_columns), np.float32)
        self.sums = np.empty((chunk_rows, n_scales), np.float32)
        self.totals = np.empty((chunk_rows, n_scales), order="F")
        self.counts = np.empty((chunk_rows, n_scales), order="F")
        # numpy's passes only (_numpy_cells), from here to the offsets
        self.codes = np.empty((rows, n_columns), np.uint8)
        self.ok = np.empty((rows, n_columns), bool)
        self.nan = np.empty((rows, n_columns), bool)
        self.scratch = np.empty((rows, n_columns))
        self.packed = cp.offsets.max(initial=0) + cp.count.max(initial=0) < 256  # a cell's sum fits a byte
        kind = np.uint8 if self.packed else np.float32
        self.keyed = np.empty((rows, n_columns), kind)
        # per cell of a block, not per column: an operation on a (rows, 50) array broadcasting a row of 50 runs
        # numpy's inner loop once per row (several times slower)
        self.signs = np.tile(cp.signs.astype(np.int64).astype(kind), (rows, 1))
        self.offsets = np.tile(cp.offsets.astype(kind), (rows, 1))
        self.shift, self.count = cp.shift.astype(float), cp.count.astype(np.uint8)


def _numpy_cells(cp: CodePlan, xs: np.ndarray, work: _RowBlock, start: int, wrong: list[Cells]) -> int:
    """numpy's passes for one block of :func:`_float_rows` (``xs``, its first row ``start`` in the chunk): writes
    its cells into ``work.cells``, adds its invalid answers to ``wrong`` and returns its count of blank cells."""
    m = len(xs)
    codes, ok, n = work.codes[:m], work.ok[:m], xs.size
    _cast_and_compare(xs, cp.uniform is not None and cp.uniform[0] == 0, work.shift, codes, ok, work.scratch[:m])
    n_bad = n - np.count_nonzero(ok)
    flags = ok.view(np.uint8)
    n_nan = 0
    if n_bad:
        np.multiply(codes, flags, out=codes)
        nan = np.isnan(xs, out=work.nan[:m])
        n_nan = np.count_nonzero(nan)
        if n_nan != n_bad:
            rows, cols = _cells(~ok & ~nan)
            wrong.append((rows + start, cols))
    zeros = n - np.count_nonzero(codes)
    if zeros != n_bad or (codes.max(initial=0) > cp.uniform[1] if cp.uniform is not None
                          else bool((codes.max(axis=0, initial=0) > work.count).any())):  # each column, its K
        outside = ((codes == 0) | (codes > work.count)) & ok  # rare: codes 0 or above K among valid-looking cells
        if outside.any():
            rows, cols = _cells(outside)
            wrong.append((rows + start, cols))
            ok &= ~outside
            codes[outside] = 0
    cells = work.cells[:m]
    if work.packed:  # byte arithmetic (wrapping: 256 - c + K + 1 is K + 1 - c), then one cast
        keyed = work.keyed[:m]
        np.multiply(codes, work.signs[:m], out=keyed)
        np.add(keyed, work.offsets[:m], out=keyed)
        np.multiply(keyed, flags, out=keyed)
        np.copyto(cells, keyed)
    else:
        np.multiply(codes, work.signs[:m], out=cells)
        np.add(cells, work.offsets[:m], out=cells)
        np.multiply(cells, ok, out=cells)
    return n_nan


def _loops_for_chunk(values: np.ndarray) -> SimpleNamespace | None:
    """The compiled loops for a chunk of these float answers, or None for numpy's passes."""
    setting = fused.mode()  # read (and a wrong value named) whatever the chunk's size
    if len(values) < FUSED_ROWS or values.dtype not in FUSED_TYPES:
        return None
    return fused.loops_for(values.size, setting)


def _cells(flags: np.ndarray) -> Cells:
    """Rows and columns of the true cells of a row-major mask."""
    flat = np.flatnonzero(flags)
    return flat // flags.shape[1], flat % flags.shape[1]


def _integer_column(cp: CodePlan, j: int, values: np.ndarray, part: NumericColumn | None, start: int, stop: int,
                    codes: np.ndarray, ok: np.ndarray, blanks: np.ndarray, bad: np.ndarray, wrong: list) -> bool:
    """Codes of one column of integer answers (bytes coded 1..K copied as they are); whether ``ok`` was written."""
    shift, count = int(cp.shift[j]), int(cp.count[j])
    flagged = part is not None and part.answered(start, stop, ok)
    if flagged:
        blanks[j] = len(values) - np.count_nonzero(ok)
    if values.dtype.itemsize == 1 and shift == 0 and (values.dtype.kind == "u" or count <= 127):
        np.copyto(codes, values.view(np.uint8))  # -1 reads as 255: out of range, as every invalid answer
    else:
        if len(values) and (values.min() <= shift or values.max() > shift + count):
            outside = (values <= shift) | (values > shift + count)  # rare: an invalid answer, or a blank's value
            if flagged:
                outside &= ok
            if outside.any():
                wrong.append((np.flatnonzero(outside), j))
                if not flagged:
                    ok[:] = True
                    flagged = True
                ok &= ~outside
        np.copyto(codes, values if shift == 0 else values - np.int64(shift), casting="unsafe")  # wraps
    bad[j] = len(values) - np.count_nonzero(ok) if flagged else 0
    if bad[j]:
        np.multiply(codes, ok, out=codes)
    return flagged


def _check_codes(cp: CodePlan, codes: np.ndarray, ok: np.ndarray, flagged: np.ndarray, bad: np.ndarray,
                 wrong: list) -> None:
    """Find the answers whose code is 0 or above K among the cells not yet known as blank or invalid.

    The zero codes are counted and the largest code taken: only when they say that such an answer is there is
    the chunk searched column by column.
    """
    homes = codes[:, : len(cp.home)]
    zeros = homes.size - np.count_nonzero(homes)
    if cp.uniform is not None:
        over = homes.max(initial=0) > cp.uniform[1]
    else:
        over = bool((homes.max(axis=0, initial=0) > cp.slot_count).any())
    if not over and zeros == bad.sum():
        return
    for j in range(len(cp.home)):
        slot = int(cp.home[j])
        column = codes[:, slot]
        outside = (column == 0) | (column > cp.count[j])
        if flagged[j]:
            outside &= ok[:, slot]
        if outside.any():
            wrong.append((np.flatnonzero(outside), j))
            if not flagged[j]:
                ok[:, slot] = True
                flagged[j] = True
            ok[:, slot] &= ~outside
            column[outside] = 0
            bad[j] += np.count_nonzero(outside)


def _keyed_totals(cp: CodePlan, buffers: _Buffers, m: int, any_bad: bool,
                  flagged: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keyed totals and answered counts (rows x scales, exact integers) of a chunk's codes (0: no valid answer)."""
    codes, ok = buffers.codes[:m], buffers.ok[:m]
    if any_bad:
        for j in np.flatnonzero(~flagged).tolist():
            ok[:, int(cp.home[j])] = True
    for home, slot in cp.copies:
        np.copyto(codes[:, slot], codes[:, home])
        if any_bad:
            np.copyto(ok[:, slot], ok[:, home])
    flags = ok.view(np.uint8)
    for s, spans in enumerate(cp.reversed):
        for a, b in spans:
            np.subtract(np.uint8(cp.flip[s]), codes[:, a:b], out=codes[:, a:b])  # K + 1 - c
            if any_bad:
                np.multiply(codes[:, a:b], flags[:, a:b], out=codes[:, a:b])  # ... and 0 again for no answer
    sums = buffers.sums[:m]
    _add_spans(codes, cp.spans, sums, buffers.part[:m])
    if any_bad:
        counts = buffers.answered[:m]
        _add_spans(flags, cp.spans, counts, None)
    else:
        counts = np.broadcast_to(cp.present, sums.shape)
    if not cp.scale_shift.any():
        return sums, counts  # integers: the scores divide them as they are
    totals = buffers.totals[:m]
    np.copyto(totals, sums)
    totals += cp.scale_shift * counts
    return totals, counts


def _add_spans(slots: np.ndarray, spans: tuple, out: np.ndarray, part: np.ndarray | None) -> None:
    """``out[:, s]``: the row sums of the slots of ``spans[s]`` (one integer reduction per span)."""
    for s, spans_of in enumerate(spans):
        if not spans_of:
            out[:, s] = 0
            continue
        (a, b), *more = spans_of
        np.add.reduce(slots[:, a:b], axis=1, dtype=out.dtype, out=out[:, s])
        for a, b in more:
            extra = np.add.reduce(slots[:, a:b], axis=1, dtype=out.dtype, out=part)
            np.add(out[:, s], extra, out=out[:, s])


def row_chunks(n_rows: int, size: int | None = None) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` of consecutive chunks of ``size`` rows (default :data:`CHUNK_ROWS`)."""
    size = size or CHUNK_ROWS
    for start in range(0, n_rows, size):
        yield start, min(n_rows, start + size)


_KEPT = threading.local()  # per thread: the working arrays of its last scoring run


def chunk_buffers(cp: CodePlan, source: NumericSource) -> _Buffers:
    """Working arrays for scoring ``source`` by :func:`row_chunks`.

    The thread's last ones are used again when they fit: fresh pages of memory cost a page fault each on first
    use (about 3 ms for the 13 MB of a chunk of 131,072 rows x 50 columns, 60% of scoring 200,000 rows of
    bytes). So each thread keeps about two bytes per cell of one chunk between runs.
    """
    rows = min(CHUNK_ROWS, max(source.n_rows, 1))
    kept = getattr(_KEPT, "buffers", None)
    if kept is not None and kept.plan is cp and len(kept.codes) >= rows:
        return kept
    _KEPT.buffers = None  # let the old ones go first
    _KEPT.buffers = _Buffers(cp, rows)
    return _KEPT.buffers


__all__ = ["CHUNK_ROWS", "Cells", "CodePlan", "CodedChunk", "chunk_buffers", "code_chunk", "code_plan", "code_rows",
           "row_chunks"]
