"""One chunk of respondents, scored: the pure computation every engine runs (locally, or in a Dask partition).

:class:`ChunkScorer` validates a :class:`~profiler.batch.reading.Chunk` once (integer codes where the formats
allow, :mod:`profiler.questionnaire.blocks`; otherwise the general float path), words the problems of its bad
rows in :func:`~profiler.questionnaire.scoring.validate_responses`' words, and places the good rows against the
norms (and, with a job model, evaluates them): the result is an Arrow table of output rows and the rejected rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from profiler.batch.options import SHOWN_PROBLEMS
from profiler.batch.placement import Placement
from profiler.batch.reading import Chunk
from profiler.norms import MEASURES, RAW_MEASURES
from profiler.questionnaire import Questionnaire
from profiler.questionnaire.blocks import code_chunk, code_plan
from profiler.questionnaire.plan import describe_format
from profiler.questionnaire.scoring import score_answers, score_frames, scores_from_totals, validate_responses

DECIMALS = {"raw": 4, "z": 4, "T": 2, "percentile": 2, "sem": 4}  # T-unit values and percentiles to 2
# Rows scored at a time, whatever the chunk: larger blocks are not faster (a respondent's scores take a few
# vectorised passes), and blocks above glibc's 32 MB mmap threshold are mapped afresh each time, the kernel
# zeroing every page (a 125,000-row partition cost a Dask worker as much system time as scoring)
SLICE_ROWS = 32_768
MEASURE_DECIMALS = {m: DECIMALS.get(m.split("_")[0]) for m in (*MEASURES, *RAW_MEASURES)}  # None: a whole number (sten, stanine)


@dataclass
class ScoredChunk:
    """What one chunk gave: the output rows of its good respondents and the report of its bad ones."""

    rows: int  # respondents (blank rows excluded)
    blank: int
    table: Any  # pyarrow.Table of output rows, or None when no row was good
    bad_positions: np.ndarray  # line (row) numbers of the bad rows
    problems: int = 0  # problems of the bad rows (one per bad cell)
    notes: list[tuple[int, str]] = field(default_factory=list)  # the first SHOWN_PROBLEMS: (line, "item 'X': ...")
    rejects: Any = None  # pyarrow.Table of the rejects file's rows (id, position, problems, cells as read), or None
    span: tuple[int, int] = (0, 0)  # first and last line (row) of the chunk's respondents
    where: str = "line"  # what a position is: "line" (CSV) or "row" (Parquet)
    position_column: int = 0  # the column of positions in ``table`` and ``rejects`` (1 after an id column)

    @property
    def messages(self) -> list[str]:
        """The first problems, worded: ``line N, item 'X': problem: value``."""
        return [f"{self.where} {position}, {text}" for position, text in self.notes]

    @classmethod
    def joined(cls, parts: list[ScoredChunk], where: str, position_column: int) -> ScoredChunk:
        """Consecutive chunks' results as one."""
        import pyarrow as pa

        def tables(name: str) -> Any:
            found = [getattr(p, name) for p in parts if getattr(p, name) is not None]
            return pa.concat_tables(found, promote_options="default") if found else None

        scored = [p for p in parts if p.rows]
        notes = [note for p in parts for note in p.notes][:SHOWN_PROBLEMS]
        return cls(sum(p.rows for p in parts), sum(p.blank for p in parts), tables("table"),
                   np.concatenate([p.bad_positions for p in parts]), sum(p.problems for p in parts), notes,
                   tables("rejects"), (scored[0].span[0], scored[-1].span[1]) if scored else (0, 0), where,
                   position_column)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (a Dask worker's result on its way to the client) with its output rows packed: each scale's
        measures as their distinct rows and a code per row (:class:`~profiler.batch.distinct.PackedTable`)."""
        from profiler.batch.distinct import PackedTable

        state = dict(self.__dict__)
        if self.table is not None:
            state["table"] = PackedTable(self.table)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        from profiler.batch.distinct import PackedTable

        if isinstance(state.get("table"), PackedTable):
            state["table"] = state["table"].unpack()
        self.__dict__.update(state)

    def shift(self, offset: int) -> None:
        """Number the chunk's rows from ``offset`` on rather than from 0 (a Dask partition, scored before the
        rows before it were counted)."""
        import pyarrow.compute as pc

        self.bad_positions = self.bad_positions + offset
        self.span = (self.span[0] + offset, self.span[1] + offset)
        self.notes = [(position + offset, text) for position, text in self.notes]
        j = self.position_column
        for name in ("table", "rejects"):
            table = getattr(self, name)
            if table is not None:
                setattr(self, name, table.set_column(j, table.schema.field(j), pc.add(table.column(j), offset)))


class ChunkScorer:
    """Scores chunks of one file: the questionnaire, norms, options and output layout, fixed once."""

    def __init__(self, questionnaire: Questionnaire, placement: Placement, header: list[str],
                 item_columns: list[str], id_column: str | None, position: str, evaluator: Any = None):
        self.questionnaire, self.placement, self.header = questionnaire, placement, header
        self.item_columns, self.id_column = item_columns, id_column
        self.position = position  # "line" (CSV) or "row" (Parquet)
        self.plan = questionnaire.scoring_plan
        self.codes = code_plan(self.plan, item_columns)
        self.required = np.array([questionnaire.is_required(c) for c in item_columns], dtype=bool)
        self.evaluator = evaluator

    def score(self, chunk: Chunk) -> ScoredChunk:
        """The chunk's output rows and rejects, scored :data:`SLICE_ROWS` rows at a time."""
        n = len(chunk.positions)
        if n <= SLICE_ROWS:
            return self._score(chunk)
        return ScoredChunk.joined([self._score(chunk.rows(a, min(a + SLICE_ROWS, n))) for a in range(0, n, SLICE_ROWS)],
                                  self.position, int(self.id_column is not None))

    def _score(self, chunk: Chunk) -> ScoredChunk:
        x, ids, positions, cells = chunk.answers, chunk.ids, chunk.positions, chunk.cells
        empty = np.isnan(x).all(axis=1)
        if ids is not None:
            empty &= pd.isna(ids)
        blank = int(empty.sum())
        if blank:  # blank lines (a trailing newline, say) are no respondents: skip and count them
            keep = ~empty
            x, positions = x[keep], positions[keep]
            ids = ids[keep] if ids is not None else None
            cells = cells.filter(keep)
        if len(x) == 0:
            return ScoredChunk(0, blank, None, np.zeros(0, np.int64))
        if self.codes is not None:
            coded = code_chunk(self.codes, x)
            invalid, missing, answers = coded.invalid, coded.missing, None
        else:
            frame = pd.DataFrame(x, columns=self.item_columns)
            answers = validate_responses(self.questionnaire, frame, invalid="missing")
            missing = np.isnan(x)
            invalid = np.isnan(answers[self.item_columns].to_numpy()) & ~missing
        bad_cells = np.zeros(x.shape, bool) if invalid is None else invalid
        if missing is not None and self.required.any():
            bad_cells = bad_cells | (missing & self.required)
        bad = bad_cells.any(axis=1)
        bad_rows = np.flatnonzero(bad)
        result = ScoredChunk(len(x), blank, None, positions[bad_rows], where=self.position,
                             position_column=int(self.id_column is not None))
        result.span = (int(positions[0]), int(positions[-1]))
        if len(bad_rows):
            self._problems(result, cells, x, bad_cells, bad_rows, positions)
        good = ~bad
        if not good.any():
            return result
        index = pd.RangeIndex(int(good.sum()))
        if self.codes is not None:
            scores = scores_from_totals(self.plan, coded.totals[good], coded.counts[good])
            scores, answered = score_frames(self.plan, scores, coded.counts[good].astype(np.int32), index)
        else:
            scores, answered = score_answers(self.questionnaire, answers[good].reset_index(drop=True))
        profiles = self.placement.place(scores, answered)
        evaluated = None
        if self.evaluator is not None:
            evaluated = self.evaluator(scores, cells.filter(pa_mask(good)) if self.evaluator.evidence else None)
        result.table = self._table(profiles, positions[good], ids[good] if ids is not None else None, evaluated)
        return result

    def empty_table(self) -> Any:
        """An output table without rows (its columns name the header of a run that scored nobody)."""
        empty = np.zeros((0, len(self.plan.scale_ids)))
        scores, answered = score_frames(self.plan, empty, empty.astype(np.int32), pd.RangeIndex(0))
        profiles = self.placement.place(scores, answered)
        evaluated = self.evaluator(scores, None) if self.evaluator is not None else None
        ids = np.array([], dtype=object) if self.id_column is not None else None
        return self._table(profiles, np.zeros(0, np.int64), ids, evaluated)

    def _problems(self, result: ScoredChunk, cells: Any, x: np.ndarray, bad_cells: np.ndarray, bad_rows: np.ndarray,
                  positions: np.ndarray) -> None:
        """The bad rows' problems (``item 'X': problem: value`` for each bad cell; the first as messages with their
        line) and their rows for the rejects file, by column and by distinct value rather than cell by cell, so
        that a bad row costs what a good one does."""
        import pyarrow as pa
        import pyarrow.compute as pc

        from profiler.batch.writers import safe_text

        rows, columns = np.nonzero(bad_cells[bad_rows])  # by bad row, then by column: the order of the messages
        words: list[str] = []  # each distinct problem worded once; a bad cell is the number of its words
        codes = np.empty(len(rows), dtype=np.int64)
        for c in np.unique(columns).tolist():
            at = np.flatnonzero(columns == c)
            where = bad_rows[rows[at]]
            worded, coded = self._cell_problems(c, cells.column(self.item_columns[c]).take(pa.array(where)),
                                                x[where, c])
            codes[at] = coded + len(words)
            words += worded
        result.problems = len(codes)
        shown = min(len(codes), SHOWN_PROBLEMS)
        result.notes = [(int(positions[bad_rows[rows[i]]]), words[codes[i]]) for i in range(shown)]
        texts = pa.array(words, type=pa.string()).take(pa.array(codes))
        if len(rows) > len(bad_rows):  # a row with several bad cells: their problems joined
            starts = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=len(bad_rows)))]).astype(np.int32)
            texts = pc.binary_join(pa.ListArray.from_arrays(pa.array(starts), texts), "; ")
        taken = cells if len(bad_rows) == cells.num_rows else cells.take(pa.array(bad_rows))
        arrays = [pa.array(positions[bad_rows].astype(np.int64)), safe_text(texts)]
        arrays += [self._as_read(taken, name) for name in self.header if name != self.id_column]
        if self.id_column is not None:
            arrays.insert(0, self._as_read(taken, self.id_column))
        result.rejects = pa.Table.from_arrays(arrays, names=[f"c{j}" for j in range(len(arrays))])

    def _cell_problems(self, c: int, values: Any, answers: np.ndarray) -> tuple[list[str], np.ndarray]:
        """``item 'X': problem[: value]`` for bad cells of item column ``c`` (as read, and as numbers), worded
        once per distinct value: the words, and for each cell the number of its words."""
        import pyarrow.compute as pc

        item = self.item_columns[c]
        encoded = pc.dictionary_encode(values).combine_chunks()
        codes = pc.fill_null(encoded.indices, len(encoded.dictionary)).to_numpy(zero_copy_only=False)
        first = np.full(len(encoded.dictionary) + 1, -1)
        first[codes[::-1]] = np.arange(len(codes))[::-1]  # where each distinct value is first met
        words = []
        for value, k in zip([*encoded.dictionary.to_pylist(), None], first.tolist(), strict=True):
            if value is None or (isinstance(value, float) and np.isnan(value)):
                words.append(f"item {item!r}: required item not answered")
            elif k >= 0 and np.isinf(answers[k]) and not _is_number(value):
                words.append(f"item {item!r}: not a number: {_show(value)}")
            else:
                fmt = describe_format(self.plan.format_of(item))
                words.append(f"item {item!r}: not an answer of this item ({fmt}): {_show(value)}")
        return words, codes

    @staticmethod
    def _as_read(taken: Any, name: str) -> Any:
        """A column of the rejected rows as the text the rejects file shows (empty for a missing cell, whole
        numbers without a decimal point), safe in a spreadsheet; empty when the column was not read."""
        import pyarrow as pa
        import pyarrow.compute as pc

        from profiler.batch.writers import cell_text, safe_text

        if name not in taken.column_names:
            return pa.array([""] * taken.num_rows, type=pa.string())
        column = taken.column(name).combine_chunks()
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            return safe_text(pc.fill_null(column, ""))
        encoded = pc.dictionary_encode(column)  # numbers and others: each distinct value shown once, as cell_text
        words = [cell_text(v) for v in encoded.dictionary.to_pylist()] + [""]
        codes = pc.fill_null(encoded.indices, len(words) - 1)
        return safe_text(pa.array(words, type=pa.string()).take(codes))

    def _table(self, profiles: pd.DataFrame, positions: np.ndarray, ids: np.ndarray | None,
               evaluated: pd.DataFrame | None) -> Any:
        import pyarrow as pa

        from profiler.batch.writers import safe_text_array

        n = len(profiles)
        names, arrays = [], []
        if self.id_column is not None:
            names.append(self.id_column)
            arrays.append(safe_text_array(ids))
        names.append(self.position)
        arrays.append(pa.array(np.asarray(positions, dtype=np.int64)))
        # one conversion of the whole frame (sten and stanine are nullable integers: NaN where missing), then
        # columns by position: pandas' per-column access costs more than the arrays it returns
        # (the measures are rounded to MEASURE_DECIMALS when written: a CSV rounds each distinct value once)
        block = np.asfortranarray(profiles.to_numpy(dtype=float, na_value=np.nan))
        where = {column: j for j, column in enumerate(profiles.columns)}
        for scale in self.placement.scales:
            for measure in self.placement.measures:
                values = block[:, where[(scale, measure)]]
                names.append(f"{scale}.{measure}")
                if MEASURE_DECIMALS[measure] is not None:
                    arrays.append(pa.array(values))
                else:  # sten, stanine: small integers, missing where there is no score
                    missing = np.isnan(values)
                    arrays.append(pa.array(np.where(missing, 0, values).astype(np.int8), type=pa.int8(), mask=missing))
        if evaluated is not None:
            for column in evaluated.columns:
                names.append(str(column))
                arrays.append(_arrow_column(evaluated[column]))
        for name, value in self.placement.provenance.items():
            names.append(name)
            arrays.append(pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), [value]).cast(pa.string()))
        return pa.Table.from_arrays(arrays, names=names)


def pa_mask(mask: np.ndarray) -> Any:
    import pyarrow as pa

    return pa.array(mask, type=pa.bool_())


def _arrow_column(column: pd.Series) -> Any:
    """A job-model output column as Arrow: floats rounded to 6 decimals, categories as text, counts as ints."""
    import pyarrow as pa

    if isinstance(column.dtype, pd.CategoricalDtype):
        return pa.array(column.astype(str).to_numpy(dtype=object), type=pa.string())
    values = column.to_numpy()
    if values.dtype.kind == "f":
        return pa.array(np.round(values, 6))
    return pa.array(values)


def _is_number(value: object) -> bool:
    if isinstance(value, int | float):
        return True
    try:
        float(str(value).strip())
    except ValueError:
        return False
    return True


def _show(value: object) -> str:
    """A cell as the user wrote it: numbers plain (``7``, ``2.5``), other text quoted."""
    if isinstance(value, str) and _is_number(value) and value.strip().lower() not in ("inf", "-inf", "+inf"):
        value = float(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return repr(value) if isinstance(value, str) else str(value)


__all__ = ["DECIMALS", "MEASURE_DECIMALS", "SLICE_ROWS", "ChunkScorer", "ScoredChunk"]
