"""Distinct rows of a few numeric columns, found once: for formatting a CSV and for shipping a scored chunk.

A scale's measures (raw, z, T, percentile, sten, stanine, SEM, bands) follow from its raw score and the number
of items answered, so a chunk of many thousand respondents holds only a few hundred distinct combinations.
:func:`distinct_rows` numbers them; :class:`PackedTable` uses the numbers to carry an output table from a Dask
worker to the client as each group's distinct rows and one small code per row, some thirty times fewer bytes than
the table (on a cluster the bytes cross the network and cost system time on both sides), restored bit for bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

_MIX = np.uint64(0x9E3779B97F4A7C15)  # an odd 64-bit multiplier (the golden ratio's): mixes columns into one key


def distinct_rows(bits: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Codes numbering the distinct rows of columns given as 64-bit patterns (in order of first appearance), and
    where each distinct row first appears.

    One hash of each row's bits (a 64-bit key, factorized once), checked: every row must equal its code's first
    row bit for bit; should two combinations share a key, the columns are grouped exactly one by one instead.
    """
    key = np.zeros(len(bits[0]), dtype=np.uint64)
    for b in bits:
        key = (key ^ b) * _MIX
    codes = pd.factorize(key)[0]
    first = _firsts(codes)
    if not all(np.array_equal(b, b[first][codes]) for b in bits):
        codes = _refined_codes(bits)
        first = _firsts(codes)
    return codes, first


def _firsts(codes: np.ndarray) -> np.ndarray:
    """Where each code first appears (codes numbered in order of first appearance)."""
    return np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0)


def _refined_codes(bits: list[np.ndarray]) -> np.ndarray:
    """Codes of the distinct combinations of columns (their bits), refined column by column: exact, slower."""
    codes = np.zeros(len(bits[0]), dtype=np.int64)
    for b in bits:
        column = pd.factorize(b)[0]
        codes = pd.factorize(codes * (int(column.max()) + 1) + column)[0]  # below n * n: no overflow
    return codes


class PackedTable:
    """An Arrow table as the distinct rows of each group of columns ``<group>.<name>`` holding numbers, and a code
    per row into them (other columns, and groups with too many distinct rows, as they are). :meth:`unpack` gives
    the table back: the same schema, values and missing cells, bit for bit."""

    def __init__(self, table: Any):
        import pyarrow as pa
        import pyarrow.compute as pc

        self.schema = table.schema
        self.parts: list[tuple[Any, Any]] = []  # (columns or their distinct rows, codes or None)
        names, j = table.schema.names, 0
        while j < len(names):
            group = names[j].rpartition(".")[0]
            members = [j]
            while group and _numeric(table.schema.field(j).type) and j + len(members) < len(names) and \
                    names[j + len(members)].rpartition(".")[0] == group and \
                    _numeric(table.schema.field(j + len(members)).type):
                members.append(j + len(members))
            part = table.select(members)
            if len(members) > 1:
                bits = [b for m in members for b in _bits(table.column(m))]
                codes, first = distinct_rows(bits)
                if 2 * len(first) <= table.num_rows:  # worth it: fewer distinct rows than half the rows
                    self.parts.append((part.take(pa.array(first)), _small(codes)))
                    j += len(members)
                    continue
            elif _is_text(part.schema.field(0).type) and table.num_rows:  # text repeated (the norms' provenance)
                encoded = pc.dictionary_encode(part.column(0).combine_chunks())
                if 2 * len(encoded.dictionary) <= table.num_rows:
                    part = pa.table([encoded.dictionary], schema=part.schema)
                    indices = encoded.indices
                    missing = indices.is_null().to_numpy(zero_copy_only=False) if indices.null_count else None
                    self.parts.append((part, _small(pc.fill_null(indices, 0).to_numpy(), missing)))
                    j += 1
                    continue
            self.parts.append((part, None))
            j += len(members)

    def unpack(self) -> Any:
        import pyarrow as pa

        columns = []
        for part, codes in self.parts:
            columns += (part if codes is None else part.take(pa.array(codes))).columns
        return pa.Table.from_arrays(columns, schema=self.schema)


def _small(codes: np.ndarray, missing: np.ndarray | None = None) -> Any:
    """Codes as an Arrow array of the smallest integers that hold them (``missing``: where a cell is missing)."""
    import pyarrow as pa

    width = np.int16 if int(codes.max(initial=0)) < 2**15 else np.int32
    return pa.array(codes.astype(width), mask=missing)


def _is_text(kind: Any) -> bool:
    import pyarrow as pa

    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _numeric(kind: Any) -> bool:
    """float64, or integers that float64 holds exactly (missing cells make Arrow give integers as floats)."""
    import pyarrow as pa

    return pa.types.is_float64(kind) or (pa.types.is_integer(kind) and kind.bit_width <= 32)


def _bits(column: Any) -> list[np.ndarray]:
    """A numeric column as 64-bit patterns (floats' own bits; integers as int64), and its validity when it has
    missing cells (a missing cell's value is whatever the buffer holds: only the validity tells)."""
    import pyarrow as pa

    values = column.to_numpy(zero_copy_only=False)
    if pa.types.is_float64(column.type):
        bits = np.ascontiguousarray(values).view(np.uint64)
    elif column.null_count:
        bits = np.nan_to_num(values, nan=0.0).astype(np.int64).view(np.uint64)  # nulls came back as NaN
    else:
        bits = values.astype(np.int64).view(np.uint64)
    if not column.null_count:
        return [bits]
    valid = column.is_valid().to_numpy(zero_copy_only=False).astype(np.uint64)
    return [np.where(valid == 1, bits, np.uint64(0)), valid]


__all__ = ["PackedTable", "distinct_rows"]
