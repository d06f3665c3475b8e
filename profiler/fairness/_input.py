"""Input checks shared by the fairness functions: align outcomes with group labels, name unknowns.

Demographic data enter profiler only as explicit arguments of the audit functions; nothing here reads
them from a store.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from profiler.errors import ProfilerError


class FairnessInputError(ProfilerError, ValueError):
    """Input a fairness analysis cannot use: outcomes and groups that do not line up, an unknown category, too few
    people, answers outside their items' range."""


INTERSECTION = " x "  # attribute name of an intersection: "sex x race"
JOIN = " & "  # category label of an intersection: "female & Caucasian"


def as_frame(groups: pd.Series | pd.DataFrame, name: str = "group") -> pd.DataFrame:
    """Group labels as a DataFrame, one column per attribute; missing labels (NaN/None) are unknown."""
    if isinstance(groups, pd.Series):
        return groups.to_frame(groups.name if groups.name is not None else name)
    if isinstance(groups, pd.DataFrame):
        if groups.shape[1] == 0:
            raise ValueError("groups has no columns: give at least one attribute (e.g. sex)")
        return groups.set_axis([str(c) for c in groups.columns], axis=1)
    raise TypeError(f"groups must be a pandas Series or DataFrame, not {type(groups).__name__}")


def align(data: pd.Series | pd.DataFrame, groups: pd.DataFrame, what: str) -> None:
    """Outcomes and groups must describe the same people in the same order (same index)."""
    if len(data) != len(groups):
        raise ValueError(f"{what} has {len(data)} rows but groups has {len(groups)}: "
                         "they must describe the same people")
    if not data.index.equals(groups.index):
        raise ValueError(f"{what} and groups have different indexes: align them (e.g. by candidate id) first")


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
        raise ValueError(f"{what} must be 0/1 or True/False for every person; found {bad!r} "
                         f"({int((~ok).sum())} such values)")
    return numeric == 1.0
