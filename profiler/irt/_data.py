"""Item responses as category codes: validation at the boundary, response patterns, one-hot design.

Categories are the distinct answers observed for an item, in increasing order, coded 0..K-1 (as mirt
recodes them); a missing answer (NaN) is coded -1 and drops out of that row's likelihood. A calibrated
bank may list an item's answers in decreasing order (a reverse-keyed item: category 0 is the highest
answer), and :func:`encode` codes answers by their position in that list.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from profiler.errors import ProfilerError

MISSING = -1


class IRTDataError(ProfilerError, ValueError):
    """Responses an IRT model cannot use: non-numeric answers, an item with one category, unknown answers."""


@dataclass(frozen=True)
class Responses:
    """Validated responses: item names, row labels and category codes (n_rows, n_items), -1 = missing."""

    items: list[str]
    index: pd.Index
    codes: np.ndarray


def as_frame(X, items: list[str] | None = None) -> pd.DataFrame:
    """A DataFrame of the responses; arrays get the fitted item names or ``Item.1..`` (as mirt)."""
    if isinstance(X, pd.DataFrame):
        return X
    array = np.asarray(X)
    if array.ndim != 2:
        raise IRTDataError(f"responses must be a table (rows x items), got an array of shape {array.shape}")
    names = items if items is not None and len(items) == array.shape[1] else [f"Item.{j + 1}" for j in range(array.shape[1])]
    return pd.DataFrame(array, columns=names)


def numeric_columns(frame: pd.DataFrame) -> np.ndarray:
    """The responses as float (NaN = missing); a non-numeric answer is an error naming its row and column."""
    out = np.empty(frame.shape, dtype=float)
    for j, column in enumerate(frame.columns):
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() & frame[column].notna()
        if bad.any():
            position = int(np.flatnonzero(bad.to_numpy())[0])
            raise IRTDataError(f"row {position} ({frame.index[position]!r}), item {column!r}: answer "
                               f"{frame[column].iloc[position]!r} is not a number ({int(bad.sum())} such answers)")
        out[:, j] = values.to_numpy(dtype=float)
    return out


def learn_categories(frame: pd.DataFrame) -> tuple[list[str], list[np.ndarray]]:
    """Item names and the sorted distinct answers of each item (at least two are needed to estimate it)."""
    if frame.shape[1] < 2:
        raise IRTDataError(f"an IRT model needs at least 2 items, got {frame.shape[1]}")
    if frame.shape[0] < 2:
        raise IRTDataError(f"an IRT model needs responses from at least 2 people, got {frame.shape[0]}")
    values = numeric_columns(frame)
    items = [str(c) for c in frame.columns]
    if len(set(items)) != len(items):
        raise IRTDataError("item names must be unique")
    categories = []
    for j, item in enumerate(items):
        seen = np.unique(values[~np.isnan(values[:, j]), j])
        if len(seen) < 2:
            shown = "no answers" if len(seen) == 0 else f"only the answer {seen[0]:g}"
            raise IRTDataError(f"item {item!r} has {shown}: it needs at least two observed categories")
        categories.append(seen)
    return items, categories


def encode(frame: pd.DataFrame, items: list[str], categories: list[np.ndarray]) -> Responses:
    """Category codes of ``frame``'s answers to ``items`` (extra columns are an error, as are unknown answers)."""
    columns = [str(c) for c in frame.columns]
    missing = [i for i in items if i not in columns]
    extra = [c for c in columns if c not in items]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing item column(s) {missing}")
        if extra:
            parts.append(f"unknown column(s) {extra}")
        raise IRTDataError("responses do not match the calibrated items: " + "; ".join(parts))
    frame = frame.set_axis(columns, axis=1)[items]
    values = numeric_columns(frame)
    codes = np.full(values.shape, MISSING, dtype=np.int64)
    for j, (item, cats) in enumerate(zip(items, categories, strict=True)):
        column = values[:, j]
        answered = ~np.isnan(column)
        order = np.argsort(cats, kind="stable")  # categories may run downwards (a reverse-keyed item)
        position = np.minimum(np.searchsorted(cats[order], column[answered]), len(cats) - 1)
        known = cats[order][position] == column[answered]
        position = order[position]
        if not known.all():
            row = int(np.flatnonzero(answered)[np.flatnonzero(~known)[0]])
            raise IRTDataError(f"row {row} ({frame.index[row]!r}), item {item!r}: answer {column[row]:g} is not one of "
                               f"the calibrated categories {[float(c) for c in cats]}")
        codes[answered, j] = position
    return Responses(items=list(items), index=frame.index, codes=codes)


@dataclass(frozen=True)
class Patterns:
    """Distinct response patterns (rows of codes), how often each occurs, and each row's pattern."""

    codes: np.ndarray
    counts: np.ndarray
    inverse: np.ndarray


def patterns(codes: np.ndarray) -> Patterns:
    """Collapse identical rows: the likelihood of a pattern is computed once, weighted by its count."""
    n_rows, n_items = codes.shape
    base = int(codes.max(initial=0)) + 2
    if n_items * np.log2(base) < 62:  # one int64 key per row: a 1-D unique is much faster than axis=0
        key = (codes + 1) @ (base ** np.arange(n_items, dtype=np.int64))
        _, first, inverse, counts = np.unique(key, return_index=True, return_inverse=True, return_counts=True)
        unique = codes[first]
    else:
        unique, inverse, counts = np.unique(codes, axis=0, return_inverse=True, return_counts=True)
    return Patterns(codes=unique, counts=counts.astype(float), inverse=inverse.reshape(-1))


def offsets(n_categories: list[int]) -> np.ndarray:
    """Start column of each item's categories in the one-hot design (length n_items + 1)."""
    return np.concatenate([[0], np.cumsum(n_categories)]).astype(np.int64)


def one_hot(codes: np.ndarray, n_categories: list[int]) -> np.ndarray:
    """(n_rows, sum K) indicator matrix of the answered categories; a missing answer is a row of zeros."""
    starts = offsets(n_categories)
    out = np.zeros((codes.shape[0], int(starts[-1])))
    rows, cols = np.nonzero(codes >= 0)
    out[rows, starts[cols] + codes[rows, cols]] = 1.0
    return out
