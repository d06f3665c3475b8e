"""The files a batch writes: profiles as CSV (fast, a block of rows at a time) and the rejected rows.

Every text cell is safe to open in a spreadsheet (:func:`spreadsheet_safe`, OWASP's rule against CSV
injection), and every file is written under a temporary name and renamed when the run completes
(:class:`StagedFile`), so a run that stops or fails leaves nothing partial.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from profiler.batch.background import WriteBehind
from profiler.batch.distinct import distinct_rows
from profiler.batch.options import BatchError

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what makes a spreadsheet read a cell as a formula
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def spreadsheet_safe(text: str) -> str:
    """A text cell that a spreadsheet shows as text: a leading apostrophe when it would start a formula.

    OWASP's rule for CSV injection: a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
    gets a leading ``'``. A plain number (``-1``, ``+2.5``, ``-3e2``) is left alone: it is a number, not a formula.
    """
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\r\n') else text


def csv_field(text: str) -> str:
    """A CSV field, safe in a spreadsheet (:func:`spreadsheet_safe`), quoted (inner quotes doubled) when it
    holds a separator, a quote or a line break."""
    return _quoted(spreadsheet_safe(text))


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell (and column name) made :func:`spreadsheet_safe`, for ``to_csv``."""
    out = frame.copy()
    out.columns = [spreadsheet_safe(str(c)) for c in frame.columns]
    for j in range(out.shape[1]):
        column = out.iloc[:, j]
        if column.dtype == object or isinstance(column.dtype, pd.StringDtype):
            out.isetitem(j, column.map(lambda v: spreadsheet_safe(v) if isinstance(v, str) else v))
    return out


class StagedFile:
    """A file written under ``<name>.partial`` and renamed to its name by :meth:`commit`, or removed by
    :meth:`discard`: readers never see half of it. Opening checks the place first, with a clear error.

    What goes through :meth:`write` is hashed on the way (SHA-256, for the run manifest), so that a large output
    is not read back to be hashed; :attr:`sha256` is None once a writer was given the file itself (:meth:`binary`).
    """

    def __init__(self, path: Path, what: str):
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.name + ".partial")
        if self.path.is_dir():
            raise BatchError(f"{what} {self.path} is a folder: give the name of a file to write")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.handle: IO[bytes] = open(self.partial, "wb")
        except OSError as exc:
            raise BatchError(f"cannot write {what} {self.path}: {exc.strerror or exc}") from None
        self._digest: Any = hashlib.sha256()
        self.size = 0

    def write(self, data: str | bytes | memoryview) -> None:
        """Append text (UTF-8) or bytes, hashing them."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        if self._digest is not None:
            self._digest.update(data)
        self.size += memoryview(data).nbytes
        self.handle.write(data)

    @property
    def sha256(self) -> str | None:
        """``sha256:<hex>`` of everything written, or None when a writer wrote to the file directly."""
        return None if self._digest is None else f"sha256:{self._digest.hexdigest()}"

    def binary(self) -> IO[bytes]:
        """The file for a binary writer (pyarrow's Parquet writer); what it writes is not hashed here."""
        self._digest = None
        return self.handle

    def commit(self) -> None:
        self.handle.close()
        os.replace(self.partial, self.path)

    def discard(self) -> None:
        self.handle.close()
        self.partial.unlink(missing_ok=True)


def cell_text(value: object) -> str:
    """A cell as read, as text for the rejects file: empty for a missing value, numbers plain."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def safe_text_array(values: np.ndarray) -> Any:
    """Text cells (None for empty) as a pyarrow string array, each :func:`spreadsheet_safe`."""
    import pyarrow as pa

    return safe_text(pa.array(values, type=pa.string(), from_pandas=True))


def safe_text(array: Any) -> Any:
    """A pyarrow string array with each cell :func:`spreadsheet_safe`."""
    import pyarrow as pa

    if _any_byte(array, _RISKY_FIRST, first=True):  # rare: then the cells go through Python
        array = pa.array([None if v is None else spreadsheet_safe(v) for v in array.to_pylist()], type=pa.string())
    return array


_RISKY_FIRST = "".join(FORMULA_STARTS).encode()  # bytes a spreadsheet-safe cell may not start with
_CSV_SPECIAL = b',"\r\n'  # a field holding one of these is quoted


def _any_byte(array: Any, wanted: bytes, first: bool = False) -> bool:
    """Whether a cell of a pyarrow (large) string array holds a byte of ``wanted`` (with ``first``: starts with
    one), read from the array's buffers: a regular expression over every cell costs ten times more, and the
    rejects file has a text column per item. Null cells may count (a false alarm only costs the slow path)."""
    import pyarrow as pa

    if isinstance(array, pa.ChunkedArray):
        return any(_any_byte(part, wanted, first) for part in array.chunks)
    if len(array) == 0:
        return False
    buffers = array.buffers()
    if buffers[2] is None or buffers[2].size == 0:
        return False
    width = np.int64 if pa.types.is_large_string(array.type) else np.int32
    offsets = np.frombuffer(buffers[1], dtype=width)[array.offset : array.offset + len(array) + 1]
    if first:  # an empty cell's "first byte" is the next cell's (or the last one's): a false alarm at worst
        text = np.frombuffer(buffers[2], dtype=np.uint8)
        data = text[np.minimum(offsets[:-1], len(text) - 1)].tobytes()
    else:
        data = memoryview(buffers[2])[int(offsets[0]) : int(offsets[-1])].tobytes()
    return any(data.find(byte) >= 0 for byte in wanted)  # bytes.find: memchr's pace


class ProfileOutput:
    """The output rows (Arrow tables, chunk by chunk) written as CSV or Parquet to a :class:`StagedFile`.

    CSV: millions of numbers cannot be formatted one by one in Python fast enough, but a scale's measures
    (raw, z, T, percentile, sten, stanine, SEM, bands) take few distinct combinations (they follow from the raw
    score and its SEM), so each distinct combination is formatted once and the rows are joined from the pieces.
    Other numeric columns are formatted by Arrow. Numbers carry their decimals (``%.4f``; T-unit values and
    percentiles ``%.2f``); an empty field is a missing value.

    The tables are formatted and written on a worker thread (:class:`~profiler.batch.background.WriteBehind`),
    in order, while the caller scores the next chunks: :meth:`close` waits for them, :meth:`abort` abandons them.
    """

    ROW_GROUP = 65_536  # Parquet rows per row group, whatever the chunks: the file's bytes do not depend on them

    def __init__(self, staged: StagedFile, fmt: str, decimals: dict[str, int | None] | None = None):
        self.staged, self.fmt, self.decimals = staged, fmt, decimals or {}
        self.writer: Any = None
        self.names: list[str] | None = None
        self.pending: list[Any] = []
        self.held = 0
        self.behind = WriteBehind()

    def write(self, table: Any) -> None:
        """Queue a table of output rows (its columns as the first table's) for writing."""
        self.behind.submit(self._write, table)

    def _write(self, table: Any) -> None:
        if self.names is None:
            self.names = [spreadsheet_safe(n) for n in table.schema.names]
            if self.fmt == "parquet":
                import pyarrow.parquet as pq

                schema = table.rename_columns(self.names).schema.with_metadata(None)
                self.writer = pq.ParquetWriter(self.staged.binary(), schema)
            else:
                self.staged.write(",".join(csv_field(n) for n in table.schema.names) + "\n")
        if self.fmt == "parquet":
            self.pending.append(rounded(table, self.decimals).rename_columns(self.names))
            self.held += table.num_rows
            if self.held >= self.ROW_GROUP:
                self._flush(whole_groups=True)
        elif table.num_rows:
            self.staged.write(csv_text(table, self.decimals))

    def _flush(self, whole_groups: bool) -> None:
        import pyarrow as pa

        table = pa.concat_tables(self.pending)
        cut = (table.num_rows // self.ROW_GROUP) * self.ROW_GROUP if whole_groups else table.num_rows
        for start in range(0, cut, self.ROW_GROUP):
            self.writer.write_table(table.slice(start, min(self.ROW_GROUP, cut - start)), row_group_size=self.ROW_GROUP)
        rest = table.slice(cut)
        self.pending, self.held = ([rest] if rest.num_rows else []), rest.num_rows

    def close(self, empty: Any = None) -> None:
        """Write what is queued, and the end of the file (with ``empty``, an output table without rows: the header
        of a run that scored nobody)."""
        self.behind.drain()
        if self.names is None and empty is not None:  # no row scored: the header (schema) alone
            self._write(empty)
        if self.fmt == "parquet" and self.pending:
            self._flush(whole_groups=False)
        if self.writer is not None:
            self.writer.close()

    def abort(self) -> None:
        """Stop writing (the run failed or stopped): what is queued is dropped, the worker has finished."""
        self.behind.stop()


def rounded(table: Any, decimals: dict[str, int | None]) -> Any:
    """``table`` with its ``<group>.<measure>`` float columns rounded to the measure's ``decimals``."""
    import pyarrow as pa

    for j, name in enumerate(table.schema.names):
        digits = decimals.get(name.rpartition(".")[2]) if "." in name else None
        if digits is not None and pa.types.is_floating(table.schema.field(j).type):
            values = np.round(table.column(j).to_numpy(zero_copy_only=False), digits)
            table = table.set_column(j, table.schema.field(j), pa.array(values))
    return table


def csv_text(table: Any, decimals: dict[str, int | None]) -> memoryview:
    """CSV rows (no header) of an Arrow table, as UTF-8 bytes; consecutive columns ``<group>.<measure>`` with a
    measure in ``decimals`` (its digits after the point, None for an integer) are formatted by distinct
    combination within their group. The rows are joined by Arrow, not one by one in Python."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.large_string()  # 64-bit offsets: a chunk's text may pass 2 GB
    table = table.combine_chunks()
    pieces = []
    names = table.schema.names
    j = 0
    while j < len(names):
        group, _, measure = names[j].rpartition(".")
        members = [j]
        if group and measure in decimals:
            while j + len(members) < len(names) and names[j + len(members)].rpartition(".")[0] == group and \
                    names[j + len(members)].rpartition(".")[2] in decimals:
                members.append(j + len(members))
            texts, codes = _grouped_text(table, members, decimals)
            pieces.append(pa.array(texts, type=text).take(pa.array(codes)))
            j += len(members)
            continue
        column = _single(table.column(j))
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            # the cells were made spreadsheet-safe when the table was built; here they are quoted where needed
            column = pc.fill_null(column.cast(text), pa.scalar("", text))
            if _any_byte(column, _CSV_SPECIAL):
                special = pc.match_substring_regex(column, '[,"\r\n]')
                mark = pa.scalar('"', text)
                quoted = pc.binary_join_element_wise(mark, pc.replace_substring(column, '"', '""'), mark,
                                                     pa.scalar("", text))
                column = pc.if_else(special, quoted, column)
            pieces.append(column)
        else:
            pieces.append(pc.fill_null(pc.cast(column, text), pa.scalar("", text)))
        j += 1
    # Columns that hold one value in every row (the norms' provenance) end each row as one constant: joined
    # with the line break, they cost no text of their own (the rows are one large text; each copy counts)
    tail: list[str] = []
    while len(pieces) > 1 and (value := _constant(pieces[-1])) is not None:
        tail.insert(0, value)
        pieces.pop()
    if tail:
        rows = pc.binary_join_element_wise(*pieces, pa.scalar(",".join(tail) + "\n", text), pa.scalar(",", text))
    else:
        rows = pc.binary_join_element_wise(pc.binary_join_element_wise(*pieces, pa.scalar(",", text)),
                                           pa.scalar("\n", text), pa.scalar("", text))
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)[rows.offset : rows.offset + len(rows) + 1]
    return memoryview(rows.buffers()[2])[int(offsets[0]) : int(offsets[-1])]


def _constant(piece: Any) -> str | None:
    """The text every row of ``piece`` (a text array without nulls) holds, or None when they differ."""
    import pyarrow.compute as pc

    first = piece[0].as_py()
    return first if pc.all(pc.equal(piece, piece[0])).as_py() else None


def _single(column: Any) -> Any:
    """A column of a table whose chunks were combined, as one array."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _grouped_text(table: Any, members: list[int], decimals: dict[str, int]) -> tuple[list[str], np.ndarray]:
    """The text of several numeric columns joined by commas, formatted once per distinct combination: the texts
    and, per row, the index of its text.

    The combinations are those of the values' bits (:func:`~profiler.batch.distinct.distinct_rows`), so ``-0.0``
    stays apart from ``0.0``, as ``%f`` prints them.
    """
    columns = []
    for j in members:
        values = np.asarray(table.column(j).to_numpy(zero_copy_only=False), dtype=float)
        columns.append(np.where(np.isnan(values), np.nan, values))  # one NaN (bits), whatever its payload
    codes, first = distinct_rows([values.view(np.uint64) for values in columns])
    fields = []  # per column, the text of each distinct combination's value
    for j, values in zip(members, columns, strict=True):
        digits = decimals[table.schema.names[j].rpartition(".")[2]]
        chosen = values[first]
        if digits is not None:
            chosen = np.round(chosen, digits)  # as numpy rounds (what a Parquet output holds), then printed
        fmt = "%d" if digits is None else f"%.{digits}f"
        fields.append(["" if v != v else fmt % v for v in chosen.tolist()])
    texts = [",".join(row) for row in zip(*fields, strict=True)]
    return texts, codes


def write_rejects_header(handle: IO[str], header: list[str], id_column: str | None, position: str = "line") -> None:
    """The rejects file's header: the id column, ``line`` (``row`` for Parquet), ``problems``, the other columns."""
    columns = [id_column] if id_column else []
    names = [*columns, position, "problems", *(c for c in header if c not in columns)]
    handle.write(",".join(csv_field(str(n)) for n in names) + "\n")


def write_rejects(handle: Any, rows: Any) -> None:
    """Bad rows (a table built by :class:`profiler.batch.chunks.ChunkScorer`: the id, line or row number,
    problems ``item 'X': problem; ...`` and the cells as read, each safe in a spreadsheet) to the rejects file."""
    if rows is not None and rows.num_rows:
        handle.write(csv_text(rows, {}))


__all__ = ["FORMULA_STARTS", "ProfileOutput", "StagedFile", "cell_text", "csv_field", "safe_frame", "safe_text", "safe_text_array",
           "spreadsheet_safe", "write_rejects", "write_rejects_header"]
