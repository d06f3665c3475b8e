"""Tables of answers read as numbers, column by column, without going through object arrays.

:func:`numeric_source` reads a DataFrame's numpy columns of any numeric dtype (in place, whether pandas holds
them in one block or, as ``pd.read_csv`` gives them, one block per column); pandas' nullable columns (``Int8``,
``Float64``... : their values buffer and their mask); Arrow-backed columns (``int8[pyarrow]``...: the values
buffer and the validity bitmap, unpacked a chunk at a time). A row-major 2-D float array is read by rows. A column
of text, booleans or mixed objects gives ``None``, and the caller takes the general path that words every problem.

The scoring kernel (:mod:`profiler.questionnaire.blocks`) validates and sums what is read here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SMALL_ROWS = 1_024  # tables of at most this many rows are read as one float copy, by rows


@dataclass(frozen=True)
class NumericColumn:
    """One column's values buffer (1-D, numeric; what a missing cell holds is undefined) and what says which of
    its cells hold no value: pandas' mask (True: missing), or an Arrow validity bitmap (a set bit: a value)."""

    values: np.ndarray
    mask: np.ndarray | None = None
    bitmap: np.ndarray | None = None  # the bitmap's bytes, from the byte that holds the first row's bit
    bit: int = 0  # the first row's bit in ``bitmap[0]``

    def answered(self, start: int, stop: int, out: np.ndarray) -> bool:
        """Write into ``out`` which of rows ``start..stop`` hold a value; False (``out`` untouched) when all do."""
        if self.mask is not None:
            np.logical_not(self.mask[start:stop], out=out)
            return True
        if self.bitmap is not None:
            first = self.bit + start
            bits = np.unpackbits(self.bitmap[first // 8 : (self.bit + stop + 7) // 8], bitorder="little")
            np.copyto(out, bits[first % 8 : first % 8 + stop - start].view(bool))
            return True
        return False

    def floats(self, start: int, stop: int, out: np.ndarray, present: np.ndarray) -> np.ndarray:
        """Rows ``start..stop`` as floats with NaN where a cell holds no value (a nullable or Arrow column keeps
        some number under its missing cells: the value it had, 0..., which is no answer): a copy into ``out``
        (float64; ``present`` used as scratch). When every cell holds a value, the values themselves (their own
        dtype, not copied)."""
        values = self.values[start:stop]
        if not self.answered(start, stop, present[: stop - start]):
            return values
        out, absent = out[: stop - start], np.logical_not(present[: stop - start], out=present[: stop - start])
        np.copyto(out, values)
        np.copyto(out, np.nan, where=absent)
        return out


def read_column(column: pd.Series | pd.api.extensions.ExtensionArray | np.ndarray) -> NumericColumn | None:
    """One column's values buffer and missing cells, or None when it is not numeric."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind not in "iuf":
            return None
        return NumericColumn(column.to_numpy() if isinstance(column, pd.Series) else column)
    array = column.array if isinstance(column, pd.Series) else column
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa

        kind = dtype.pyarrow_dtype
        if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
            return None
        whole = array.__arrow_array__().combine_chunks()  # the column's own Arrow buffers (no copy for one chunk)
        n, offset = len(whole), whole.offset
        data = np.frombuffer(whole.buffers()[1], dtype=kind.to_pandas_dtype(), count=offset + n)[offset:]
        if not whole.null_count:
            return NumericColumn(data)
        bitmap = np.frombuffer(whole.buffers()[0], dtype=np.uint8)[offset // 8 :]
        return NumericColumn(data, bitmap=bitmap, bit=offset % 8)
    if isinstance(array, pd.arrays.IntegerArray | pd.arrays.FloatingArray):
        mask = array._mask  # the values and missing flags: no object array
        return NumericColumn(array._data, mask if mask.any() else None)
    return None


def column_as_float(column: pd.Series) -> np.ndarray:
    """A numeric column (numpy, nullable or Arrow-backed) as float64, NaN for missing, without Python objects;
    other columns through pandas' own conversion (which raises for text that is not a number)."""
    read = read_column(column)
    if read is None:
        return column.to_numpy(dtype=float, na_value=np.nan)
    n = len(read.values)
    if read.mask is None and read.bitmap is None:
        return read.values.astype(float)  # a copy: the caller may change it
    return read.floats(0, n, np.empty(n), np.empty(n, dtype=bool))


@dataclass
class NumericSource:
    """A table of answers readable by row chunks: one 2-D numpy array, or columns read one by one.

    Attributes
    ----------
    n_rows : int
    columns : list of str
        The table's column names, in its order.
    """

    n_rows: int
    columns: list[str]
    block: np.ndarray | None  # 2-D: any numeric dtype and layout
    parts: list[NumericColumn] | None = None

    def missing(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start..stop`` x columns: True where a cell holds no answer (NaN, or no value)."""
        if self.block is not None:
            x = self.block[start:stop]
            return np.isnan(x) if x.dtype.kind == "f" else np.zeros(x.shape, bool)
        out = np.zeros((stop - start, len(self.parts)), dtype=bool, order="F")
        for j, part in enumerate(self.parts):
            if part.answered(start, stop, out[:, j]):
                np.logical_not(out[:, j], out=out[:, j])
            elif part.values.dtype.kind == "f":
                np.isnan(part.values[start:stop], out=out[:, j])
        return out


def float_row_major(x: np.ndarray) -> bool:
    """Whether ``x`` (2-D) holds floats row by row (its columns strided): validated by rows, not by columns."""
    return x.dtype.kind == "f" and x.strides[1] == x.itemsize and (len(x) == 1 or x.strides[0] != x.itemsize)


def numeric_source(responses: pd.DataFrame) -> NumericSource | None:
    """A :class:`NumericSource` over the columns of ``responses``, or None when a column is not numeric (a 2-D
    numpy array of answers reaches scoring as a DataFrame over it)."""
    names = [str(c) for c in responses.columns.tolist()]
    if len(responses) <= SMALL_ROWS:
        # a few rows: one float copy, validated and summed by whole-table operations (a column at a time, or a
        # pandas Series per column, costs more than the rows)
        if not all(getattr(d, "kind", "O") in "iuf" for d in responses.dtypes):
            return None
        block = np.ascontiguousarray(responses.to_numpy(dtype=float, na_value=np.nan))
        return NumericSource(len(responses), names, block)
    # each column's array: pandas' own iterator is 10x cheaper than a Series per column (30 us, not 300, for 50)
    arrays = responses._iter_column_arrays() if hasattr(responses, "_iter_column_arrays") else \
        (column for _, column in responses.items())
    parts = []
    for array in arrays:
        part = read_column(array)
        if part is None:
            return None
        parts.append(part)
    dtypes = {p.values.dtype for p in parts}
    if len(dtypes) == 1 and all(p.mask is None and p.bitmap is None for p in parts) and \
            any(p.values.strides[0] != p.values.itemsize for p in parts):
        # one block of one dtype whose columns are strided (a row-major 2-D array): read it by rows
        return NumericSource(len(responses), names, responses.to_numpy())
    return NumericSource(len(responses), names, None, parts)


__all__ = ["NumericColumn", "NumericSource", "column_as_float", "float_row_major", "numeric_source", "read_column"]
