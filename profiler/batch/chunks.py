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

from profiler.batch.placement import Placement
from profiler.batch.reading import Chunk
from profiler.norms import MEASURES, RAW_MEASURES
from profiler.questionnaire import Questionnaire
from profiler.questionnaire.blocks import code_chunk, code_plan
from profiler.questionnaire.plan import describe_format
from profiler.questionnaire.scoring import score_answers, score_frames, scores_from_totals, validate_responses

DECIMALS = {"raw": 4, "z": 4, "T": 2, "percentile": 2, "sem": 4}  # T-unit values and percentiles to 2
MEASURE_DECIMALS = {m: DECIMALS.get(m.split("_")[0]) for m in (*MEASURES, *RAW_MEASURES)}  # None: a whole number (sten, stanine)


@dataclass
class ScoredChunk:
    """What one chunk gave: the output rows of its good respondents and the report of its bad ones."""

    rows: int  # respondents (blank rows excluded)
    blank: int
    table: Any  # pyarrow.Table of output rows, or None when no row was good
    bad_positions: np.ndarray  # line (row) numbers of the bad rows
    reports: list[list[str]] = field(default_factory=list)  # per bad row: "line N, item 'X': problem: value"
    rejected: list[list[str]] = field(default_factory=list)  # per bad row: its cells as read (after position, problems)
    span: tuple[int, int] = (0, 0)  # first and last line (row) of the chunk's respondents


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
        result = ScoredChunk(len(x), blank, None, positions[bad_rows])
        result.span = (int(positions[0]), int(positions[-1]))
        if len(bad_rows):
            result.reports, result.rejected = self._problems(cells, x, bad_cells, bad_rows, positions)
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

    def _problems(self, cells: Any, x: np.ndarray, bad_cells: np.ndarray, bad_rows: np.ndarray,
                  positions: np.ndarray) -> tuple[list[list[str]], list[list[str]]]:
        """Per bad row: ``line N, item 'X': problem: value`` for each bad cell, and its cells as read."""
        from profiler.batch.writers import cell_text

        reports = []
        rows_as_read = cells.take(bad_rows).to_pylist()
        for k, r in enumerate(bad_rows.tolist()):
            messages = []
            for c in np.flatnonzero(bad_cells[r]).tolist():
                item = self.item_columns[c]
                value = rows_as_read[k][item]
                if value is None or (isinstance(value, float) and np.isnan(value)):
                    message, shown = "required item not answered", ""
                elif np.isinf(x[r, c]) and not _is_number(value):
                    message, shown = "not a number", f": {_show(value)}"
                else:
                    fmt = describe_format(self.plan.format_of(item))
                    message, shown = f"not an answer of this item ({fmt})", f": {_show(value)}"
                messages.append(f"{self.position} {positions[r]}, item {item!r}: {message}{shown}")
            reports.append(messages)
        rejected = [[cell_text(row.get(name)) for name in self.header if name != self.id_column]
                    for row in rows_as_read]
        if self.id_column is not None:
            rejected = [[cell_text(row.get(self.id_column)), *rest] for row, rest in zip(rows_as_read, rejected,
                                                                                          strict=True)]
        return reports, rejected

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
        for scale in self.placement.scales:
            for measure in self.placement.measures:
                values = profiles[(scale, measure)]
                names.append(f"{scale}.{measure}")
                unit = measure.split("_")[0]
                if unit in DECIMALS:
                    arrays.append(pa.array(np.round(values.to_numpy(dtype=float), DECIMALS[unit])))
                else:  # sten, stanine: small integers, missing where there is no score
                    arrays.append(pa.array(values.to_numpy(dtype=np.int8, na_value=0), type=pa.int8(),
                                           mask=values.isna().to_numpy()))
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


__all__ = ["DECIMALS", "MEASURE_DECIMALS", "ChunkScorer", "ScoredChunk"]
