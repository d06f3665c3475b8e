"""Reading a responses file in chunks of rows with pyarrow: CSV (streamed blocks) or Parquet (row groups).

Every chunk gives the answers as one float block (NaN for an empty cell, ``+inf`` for text that is not a number,
so a bad row costs what a good one does), the cells as written (for messages and the rejects file), the
respondents' ids, and where each row is in the file:

- **CSV**: the line number (the header is line 1, the first respondent line 2). Blank lines are kept as rows
  of empty cells so that the count stays exact (the engine skips and counts them); a quoted value spanning
  lines would shift it. Item columns are read as text: a one-digit cell is its digit, read straight from
  Arrow's buffers; any other text (``" 3"``, ``"2.5"``, ``"often"``) is converted once per distinct text.
- **Parquet**: the row number (the first row is row 1). Item columns may be numbers (any integer or float
  type, nulls for missing) or text.
"""

from __future__ import annotations

from collections.abc import Iterator
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from profiler.batch.header import MAX_LINE_BYTES
from profiler.batch.options import BatchError
from profiler.batch.sources import Location, open_source, suffix

PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
CSV_BLOCK_BYTES = MAX_LINE_BYTES + 4096  # pyarrow's read block (it reads a few dozen ahead): the longest line fits
KNOWN_WORDS = 256  # distinct texts of a column whose numbers are kept for the next columns and chunks
# Cells read as empty (unanswered), by every reader alike (pandas' list, as ``profiler score`` always read them)
NULL_CELLS = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>",
              "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]


def is_parquet(path: Location) -> bool:
    return suffix(path) in PARQUET_SUFFIXES


@dataclass
class Chunk:
    """Rows of a responses file.

    Attributes
    ----------
    answers : ndarray
        Rows x item columns, float64, column-major: NaN for an empty cell, ``inf`` for text that is no number.
    cells : pyarrow.Table
        The item columns (and the id column) as read, for messages and rejected rows.
    ids : ndarray or None
        The id column as text (None for an empty cell).
    positions : ndarray
        Line numbers (CSV) or row numbers (Parquet) of the rows.
    done : int
        Bytes of the file consumed so far (an estimate for Parquet), for a progress bar.
    """

    answers: np.ndarray
    cells: Any
    ids: np.ndarray | None
    positions: np.ndarray
    done: int

    def rows(self, start: int, stop: int) -> Chunk:
        """Rows ``start`` to ``stop`` (views, not copies)."""
        return Chunk(self.answers[start:stop], self.cells.slice(start, stop - start),
                     None if self.ids is None else self.ids[start:stop], self.positions[start:stop], self.done)

    def cell(self, row: int, column: str) -> object:
        """One cell as read (text for CSV; the stored value for Parquet), None when empty."""
        return self.cells.column(column)[row].as_py()


def _numbers(column: Any, known: dict[tuple[str, ...], np.ndarray] | None = None) -> np.ndarray:
    """One column (a pyarrow ChunkedArray) as float64: NaN for null, inf for text that is not a number.

    ``known`` keeps the numbers of the distinct texts already met (a column of answers holds a handful, the same
    in every column and chunk), so that each is converted once per file, not once per column and chunk.
    """
    import pyarrow as pa

    out = np.empty(len(column))
    start = 0
    for part in column.chunks:
        stop = start + len(part)
        kind = part.type
        if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
            out[start:stop] = part.cast(pa.float64()).to_numpy(zero_copy_only=False)
        elif pa.types.is_null(kind):
            out[start:stop] = np.nan
        elif pa.types.is_string(kind) and len(part):
            out[start:stop] = _digits(part, known)
        else:
            out[start:stop] = _text_numbers(part, known)
        start = stop
    return out


def _text_numbers(part: Any, known: dict[tuple[str, ...], np.ndarray] | None) -> np.ndarray:
    """Text cells (an Arrow array, dictionary-encoded or not) as numbers, each distinct text converted once."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_dictionary(part.type):
        part = pc.dictionary_encode(part.cast(pa.string()))
    words = tuple(part.dictionary.to_pylist())
    table = known.get(words) if known is not None else None
    if table is None:
        values = np.array(pd.to_numeric(pd.Series(words, dtype=object).str.strip(), errors="coerce"), dtype=float)
        values[np.isnan(values)] = np.inf  # text that is not a number: an invalid answer, flagged later
        table = np.append(values, np.nan)  # the last entry is an empty cell
        if known is not None and len(words) <= KNOWN_WORDS:
            known[words] = table
    codes = pc.fill_null(part.indices, len(words)).to_numpy(zero_copy_only=False)
    return table[codes]


def _digits(part: Any, known: dict[tuple[str, ...], np.ndarray] | None) -> np.ndarray:
    """A text column as numbers, reading the usual cell (one digit) straight from Arrow's buffers; other cells
    (``" 3"``, ``"2.5"``, ``"often"``) through :func:`_numbers` (NaN for null, inf for text that is no number)."""
    import pyarrow as pa

    n = len(part)  # offsets: where each cell's bytes start; a one-byte cell "0".."9" is its digit
    offsets = np.frombuffer(part.buffers()[1], dtype=np.int32)[part.offset : part.offset + n + 1]
    data = part.buffers()[2]
    text = np.frombuffer(data, dtype=np.uint8) if data is not None and data.size else np.zeros(1, np.uint8)
    first = text[np.minimum(offsets[:-1], len(text) - 1)]
    digit = (np.diff(offsets) == 1) & (first >= 48) & (first <= 57)
    out = first.astype(float) - 48.0
    if part.null_count:
        digit &= part.is_valid().to_numpy(zero_copy_only=False)
    if not digit.all():
        other = np.flatnonzero(~digit)
        out[other] = _text_numbers(part.take(pa.array(other)), known)
    return out


def answers_of(table: Any, item_columns: list[str], known: dict[tuple[str, ...], np.ndarray] | None = None
               ) -> np.ndarray:
    """The item columns of a table as one float block (NaN empty, inf for text that is no number); ``known``
    as for :func:`_numbers`."""
    answers = np.empty((table.num_rows, len(item_columns)), order="F")
    known = {} if known is None else known
    for j, name in enumerate(item_columns):
        answers[:, j] = _numbers(table.column(name), known)
    return answers


def _chunk(table: Any, item_columns: list[str], id_column: str | None, positions: np.ndarray, done: int,
           known: dict[tuple[str, ...], np.ndarray] | None = None) -> Chunk:
    answers = answers_of(table, item_columns, known)
    ids = None
    if id_column is not None:
        ids = table.column(id_column).to_numpy(zero_copy_only=False)
    return Chunk(answers, table, ids, positions, done)


@dataclass
class ReadDigest:
    """The SHA-256 of a file hashed as it is read (for the run manifest): ``complete`` once read to its end."""

    digest: Any = field(default_factory=hashlib.sha256)
    size: int = 0
    complete: bool = False


class _Counting:
    """A binary file that counts (and hashes) the bytes read through it (pyarrow reads ahead; close enough for
    progress) and refuses a line longer than :data:`MAX_LINE_BYTES`, so that a file without line breaks (or a
    row of one huge field) cannot fill memory."""

    def __init__(self, handle: IO[bytes], path: Path, hashing: ReadDigest):
        self.handle, self.path, self.hashing = handle, path, hashing
        self.read_bytes = 0
        self.run = 0  # bytes since the last line break

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.read_bytes += len(data)
        self.hashing.digest.update(data)
        self.hashing.size += len(data)
        last = max(data.rfind(b"\n"), data.rfind(b"\r"))
        self.run = len(data) - last - 1 if last >= 0 else self.run + len(data)
        if self.run > MAX_LINE_BYTES:
            raise BatchError(f"{self.path}: a line is longer than {MAX_LINE_BYTES:,} bytes: not a row of answers")
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self.handle, name)


def csv_chunks(path: Path, header: list[str], item_columns: list[str], id_column: str | None, sep: str,
               chunk_size: int, hashing: ReadDigest | None = None) -> Iterator[Chunk]:
    """Chunks of ``chunk_size`` rows of a CSV whose header (line 1) is ``header`` (hashed into ``hashing``)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    types = {name: pa.string() for name in header}
    lines_read = 1  # the header
    wrong: list[Any] = []

    def refuse(row: Any) -> str:
        wrong.append(row)
        return "error"

    with open(path, "rb") as raw:
        hashing = hashing if hashing is not None else ReadDigest()
        counting = _Counting(raw, path, hashing)
        try:
            reader = pcsv.open_csv(
                counting,
                read_options=pcsv.ReadOptions(column_names=header, skip_rows=1, block_size=CSV_BLOCK_BYTES,
                                              use_threads=False, encoding="utf8"),
                parse_options=pcsv.ParseOptions(delimiter=sep, ignore_empty_lines=False, invalid_row_handler=refuse),
                convert_options=pcsv.ConvertOptions(column_types=types, strings_can_be_null=True,
                                                    null_values=NULL_CELLS, include_columns=header),
            )  # fmt: skip
            pending: list[Any] = []
            held = 0
            known: dict[tuple[str, ...], np.ndarray] = {}
            for batch in _batches(reader, path, wrong):
                pending.append(batch)
                held += batch.num_rows
                while held >= chunk_size:
                    table = pa.Table.from_batches(pending)
                    head, rest = table.slice(0, chunk_size), table.slice(chunk_size)
                    yield _chunk(head, item_columns, id_column, lines_read + 1 + np.arange(chunk_size),
                                 counting.read_bytes, known)
                    lines_read += chunk_size
                    pending, held = rest.to_batches(), rest.num_rows
            if held:
                table = pa.Table.from_batches(pending)
                yield _chunk(table, item_columns, id_column, lines_read + 1 + np.arange(held), counting.read_bytes,
                             known)
            hashing.complete = hashing.size == path.stat().st_size  # every byte went through the digest
        except pa.ArrowException as exc:
            raise _unreadable(path, exc, wrong) from None


def _batches(reader: Any, path: Path, wrong: list[Any]) -> Iterator[Any]:
    import pyarrow as pa

    while True:
        try:
            yield reader.read_next_batch()
        except StopIteration:
            return
        except (pa.ArrowException, UnicodeDecodeError) as exc:
            raise _unreadable(path, exc, wrong) from None


def _unreadable(path: Path, exc: Exception, wrong: list[Any]) -> BatchError:
    if wrong:
        row = wrong[0]
        where = f"line {row.number}" if row.number is not None else "a line"
        return BatchError(f"{path}: {where} has {row.actual_columns} field(s), but the header names "
                          f"{row.expected_columns}: {row.text[:80]!r}")
    message = str(exc)
    if "UTF8" in message or "utf8" in message.lower() or isinstance(exc, UnicodeDecodeError):
        return BatchError(f"{path}: the file is not UTF-8 text; save it as UTF-8 (CSV UTF-8)")
    return BatchError(f"{path}: cannot read the CSV: {message}")


def parquet_header(path: Location) -> list[str]:
    """The column names of a Parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        with open_source(path) as handle:
            return list(pq.ParquetFile(handle).schema_arrow.names)
    except (pa.ArrowException, OSError) as exc:
        raise BatchError(f"{path}: cannot read the Parquet file: {exc}") from None


def parquet_chunks(path: Path, item_columns: list[str], id_column: str | None, chunk_size: int,
                   other: list[str] = ()) -> Iterator[Chunk]:
    """Chunks of ``chunk_size`` rows of a Parquet file, numbered from row 1 (``other``: more columns to read)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path)
    total, size = max(file.metadata.num_rows, 1), path.stat().st_size
    columns = [*item_columns, *([id_column] if id_column else []), *other]
    done = 0
    known: dict[tuple[str, ...], np.ndarray] = {}
    try:
        for batch in file.iter_batches(batch_size=chunk_size, columns=columns):
            table = pa.Table.from_batches([batch])
            if id_column is not None:
                table = table.set_column(table.schema.get_field_index(id_column), id_column,
                                         table.column(id_column).cast(pa.string()))
            positions = done + 1 + np.arange(batch.num_rows)
            done += batch.num_rows
            yield _chunk(table, item_columns, id_column, positions, int(size * done / total), known)
    except pa.ArrowException as exc:
        raise BatchError(f"{path}: cannot read the Parquet file: {exc}") from None


__all__ = ["NULL_CELLS", "PARQUET_SUFFIXES", "Chunk", "ReadDigest", "answers_of", "csv_chunks", "is_parquet", "parquet_chunks", "parquet_header"]
