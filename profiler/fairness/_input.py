"""Input checks shared by the fairness functions: align outcomes with group labels, name unknowns.

Demographic data enter profiler only as explicit arguments of the audit functions; nothing here reads
them from a store.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from profiler.errors import ProfilerError


class FairnessInputError(ProfilerError, ValueError):
    """Input a fairness analysis cannot use: outcomes and groups that do not line up, an unknown category, too few
    people, answers outside their items' range."""


INTERSECTION = " x "  # attribute name of an intersection: "sex x race"
JOIN = " & "  # category label of an intersection: "female & Caucasian"


def as_frame(groups: Any, name: str = "group", index: pd.Index | None = None) -> pd.DataFrame:
    """Group labels as a DataFrame, one column per attribute; missing labels (NaN/None) are unknown.

    Besides a Series or DataFrame, an array-like (list, numpy array, pandas Categorical; 2-D for several
    attributes) or a mapping of attribute -> labels, as fairlearn's ``sensitive_features``; those take
    ``index`` (the data's, when it has one).
    """
    if isinstance(groups, pd.Series):
        return groups.to_frame(groups.name if groups.name is not None else name)
    if isinstance(groups, pd.DataFrame):
        if groups.shape[1] == 0:
            raise FairnessInputError("groups has no columns: give at least one attribute (e.g. sex)")
        return groups.set_axis([str(c) for c in groups.columns], axis=1)
    if isinstance(groups, dict):
        columns = {str(k): _plain_array(v) for k, v in groups.items()}
        length = len(next(iter(columns.values()), []))
        return pd.DataFrame(columns, index=_fitting(index, length))
    values = _plain_array(groups)
    if values.ndim == 2:
        return pd.DataFrame(values, index=_fitting(index, len(values)),
                            columns=[f"{name}_{j}" for j in range(values.shape[1])])
    return pd.DataFrame({name: values}, index=_fitting(index, len(values)))


def _fitting(index: pd.Index | None, length: int) -> pd.Index | None:
    """``index`` when it has one entry per value; otherwise positions (and :func:`align` names the mismatch)."""
    return index if index is not None and len(index) == length else None


def as_table(values: Any, name: str, index: pd.Index | None = None) -> pd.DataFrame:
    """Outcomes or scores as a DataFrame, one column each: a Series, a DataFrame, or an array-like (on ``index``)."""
    if isinstance(values, pd.DataFrame):
        return values
    if isinstance(values, pd.Series):
        return values.to_frame(values.name if values.name is not None else name)
    array = _plain_array(values)
    if array.ndim == 2:
        return pd.DataFrame(array, index=_fitting(index, len(array)),
                            columns=[f"{name}_{j}" for j in range(array.shape[1])])
    return pd.DataFrame({name: array}, index=_fitting(index, len(array)))


def paired(data: Any, groups: Any, what: str, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Data and group labels as aligned DataFrames; array-likes take the index of whichever side is pandas (or
    positions), so that ``adverse_impact([1, 0, 1], ["f", "m", "f"])`` works as fairlearn's metrics do."""
    pandas = (pd.Series, pd.DataFrame)
    index = data.index if isinstance(data, pandas) else groups.index if isinstance(groups, pandas) else None
    if index is None:
        n = len(data) if hasattr(data, "__len__") else 0
        index = pd.RangeIndex(n)
    table = as_table(data, name, index)
    frame = as_frame(groups, index=index)
    align(table, frame, what)
    return table, frame


def columns_of(*values: Any, names: tuple[str, ...]) -> list[pd.Series]:
    """Several per-person inputs (Series or array-likes) as Series on one index: the first pandas input's, else
    positions; each a single column, all of the same length and (for Series) the same index."""
    index = next((v.index for v in values if isinstance(v, (pd.Series, pd.DataFrame))), None)
    if index is None:
        index = pd.RangeIndex(len(values[0]) if hasattr(values[0], "__len__") else 0)
    out = []
    for value, name in zip(values, names, strict=True):
        table = as_table(value, name, index)
        if table.shape[1] != 1:
            raise FairnessInputError(f"{name} must be one column, got {table.shape[1]}")
        align(table, pd.DataFrame(index=index), name)
        out.append(table.iloc[:, 0])
    return out


def _plain_array(values: Any) -> np.ndarray:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise FairnessInputError(f"expected a pandas Series or DataFrame, or an array-like, not {type(values).__name__}")
    if isinstance(values, pd.Categorical):
        return np.asarray(values, dtype=object)
    array = np.asarray(values)
    if array.ndim not in (1, 2):
        raise FairnessInputError(f"expected one or two dimensions of values, got {array.ndim}")
    return array


def group_labels(groups: Any, index: pd.Index, what: str = "groups") -> pd.Series:
    """One label per row as a Series on ``index``: a Series with that index, or any 1-D array-like (list,
    numpy array, pandas Categorical) in the rows' order, as fairlearn's ``sensitive_features`` accept."""
    if isinstance(groups, pd.DataFrame):
        if groups.shape[1] != 1:
            raise FairnessInputError(f"{what} must be one column of labels, got {groups.shape[1]} columns")
        groups = groups.iloc[:, 0]
    if isinstance(groups, pd.Series):
        if len(groups) != len(index) or not groups.index.equals(index):
            raise FairnessInputError(f"{what} and the data must have the same index (the same people in the same "
                                     "order); pass a list or array to match by position")
        return groups
    array = _plain_array(groups)
    if array.ndim != 1:
        raise FairnessInputError(f"{what} must be one label per row, got a {array.ndim}-D array")
    values = pd.Series(array.astype(object))
    if len(values) != len(index):
        raise FairnessInputError(f"{what} has {len(values)} labels but the data has {len(index)} rows: they must "
                                 "describe the same people")
    return values.set_axis(index).rename(what)


def align(data: pd.Series | pd.DataFrame, groups: pd.DataFrame, what: str) -> None:
    """Outcomes and groups must describe the same people in the same order (same index)."""
    if len(data) != len(groups):
        raise FairnessInputError(f"{what} has {len(data)} rows but groups has {len(groups)}: "
                                 "they must describe the same people")
    if not data.index.equals(groups.index):
        raise FairnessInputError(f"{what} and groups have different indexes: align them (e.g. by candidate id) first")


def with_intersections(groups: pd.DataFrame, intersections: bool) -> pd.DataFrame:
    """Add one column per combination of two or more attributes ('sex x race'); unknown if any part is."""
    out = {c: groups[c] for c in groups.columns}
    if intersections and groups.shape[1] > 1:
        for size in range(2, groups.shape[1] + 1):
            for combo in combinations(groups.columns, size):
                parts = [groups[c] for c in combo]
                unknown = np.logical_or.reduce([p.isna().to_numpy() for p in parts])
                labels = parts[0].astype(str)
                for p in parts[1:]:
                    labels = labels + JOIN + p.astype(str)
                out[INTERSECTION.join(combo)] = labels.where(~unknown, None)
    return pd.DataFrame(out, index=groups.index)


def categories(labels: pd.Series) -> list:
    """Known categories in a stable order: a categorical's order, else sorted (numbers before text)."""
    if isinstance(labels.dtype, pd.CategoricalDtype):
        present = set(labels.dropna().unique())
        return [c for c in labels.cat.categories if c in present]
    values = labels.dropna().unique().tolist()
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def binary(values: pd.Series, what: str) -> np.ndarray:
    """0/1 (or boolean) outcomes as a bool array; anything else is an error."""
    arr = values.to_numpy()
    if arr.dtype == bool:
        return arr
    numeric = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    ok = np.isin(numeric, (0.0, 1.0))
    if not ok.all():
        bad = values[~ok].iloc[0]
        raise FairnessInputError(f"{what} must be 0/1 or True/False for every person; found {bad!r} "
                         f"({int((~ok).sum())} such values)")
    return numeric == 1.0
