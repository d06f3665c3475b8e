"""Data in, sample moments out: validation, missing-data policy, one pass over the rows.

Also :func:`single_threaded_blas`, which a CFA fit runs under (see its docstring for why).
"""

from __future__ import annotations

import ctypes
import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

from profiler.errors import ProfilerError
from profiler.factors.model_syntax import ParsedModel, suggest
from profiler.factors.missing import MissingData, describe_missing


class CFADataError(ProfilerError, ValueError):
    """Data a CFA cannot be fitted to: missing columns or values, no variance, a singular covariance matrix."""


# ------------------------------------------------------------------ BLAS threads
_SETTERS = ("openblas_set_num_threads", "scipy_openblas_set_num_threads", "openblas_set_num_threads64_",
            "scipy_openblas_set_num_threads64_")
_GETTERS = ("openblas_get_num_threads", "scipy_openblas_get_num_threads", "openblas_get_num_threads64_",
            "scipy_openblas_get_num_threads64_")


@functools.cache
def _openblas_controls() -> tuple[tuple[object, object], ...]:
    """(get, set) thread-count functions of every OpenBLAS already loaded (numpy's and scipy's).

    Linux only (read from /proc/self/maps); elsewhere, or if anything is unexpected, none.
    """
    try:
        with open("/proc/self/maps", encoding="utf-8") as fh:
            paths = sorted({line.split()[-1] for line in fh if "openblas" in line.lower() and "/" in line})
    except OSError:
        return ()
    controls = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path, mode=os.RTLD_NOLOAD | os.RTLD_LAZY)  # only libraries already loaded
        except (OSError, AttributeError):
            continue
        get = next((getattr(lib, n) for n in _GETTERS if hasattr(lib, n)), None)
        set_ = next((getattr(lib, n) for n in _SETTERS if hasattr(lib, n)), None)
        if get is not None and set_ is not None:
            get.restype, get.argtypes = ctypes.c_int, []
            set_.restype, set_.argtypes = None, [ctypes.c_int]
            controls.append((get, set_))
    return tuple(controls)


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run the block with OpenBLAS limited to one thread, then restore the previous counts.

    Every product in a CFA fit is small (p x p, p x n_par) or a pass over the data that one core does
    in milliseconds; OpenBLAS's worker threads bring nothing there, and on a machine whose cores are
    busy they spin-wait and make a fit several times slower (measured: 66 ms single-threaded against
    270-360 ms with two threads on a loaded two-core machine). This is what threadpoolctl's
    ``threadpool_limits(1)`` does, for OpenBLAS only; other BLAS libraries are left alone. Other Python
    threads using OpenBLAS meanwhile also run single-threaded.
    """
    controls = _openblas_controls()
    previous = [get() for get, _ in controls]
    try:
        for _, set_ in controls:
            set_(1)
        yield
    finally:
        for (_, set_), n in zip(controls, previous):
            set_(n)


@dataclass(frozen=True)
class Moments:
    """Sample moments per group: size, mean vector and biased (N) covariance matrix."""

    n: np.ndarray
    mean: tuple[np.ndarray, ...]
    cov: tuple[np.ndarray, ...]
    labels: tuple
    rows: tuple[np.ndarray, ...] | None = None  # the rows themselves, when casewise scores are needed

    @property
    def n_total(self) -> int:
        return int(self.n.sum())


_BLOCK = 4096  # rows per block: the cross-product pass needs O(p^2) memory beyond the data


def moments(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and biased covariance of complete data in one blockwise pass (shifted for accuracy)."""
    n, p = X.shape
    shift = X[0].astype(np.float64, copy=True)
    total = np.zeros(p)
    cp = np.zeros((p, p))
    for start in range(0, n, _BLOCK):
        block = X[start : start + _BLOCK] - shift
        total += block.sum(axis=0)
        cp += block.T @ block
    d = total / n
    cov = cp / n - np.outer(d, d)
    return shift + d, (cov + cov.T) / 2.0


@dataclass(frozen=True)
class ModelData:
    """The model's variables as a float array (NaN = missing) and the group of each row, validated."""

    X: np.ndarray
    labels: np.ndarray | None  # group label per row (None: one group)
    names: list[str]
    missing_rows: np.ndarray  # bool: a missing value among the model's variables
    missing_group: np.ndarray  # bool: the group label is missing


def model_data(data: pd.DataFrame, model: ParsedModel, group: str | None) -> ModelData:
    """Validate the data once: every model variable present and numeric, no infinities, the group column."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame (the model names its columns), not {type(data).__name__}")
    names = list(model.observed)
    columns = [str(c) for c in data.columns]
    missing_cols = [n for n in names if n not in data.columns]
    if missing_cols:
        lines = []
        for n in missing_cols:
            line, col = model.locate(n)
            where = f" (model line {line}, column {col})" if line else ""
            lines.append(f"- {n!r}{where}{suggest(n, columns)}")
        raise CFADataError("the data have no column for these model variables:\n" + "\n".join(lines))
    if group is not None and group not in data.columns:
        raise CFADataError(f"group column {group!r} is not in the data{suggest(str(group), columns)}")
    if group is not None and group in names:
        raise CFADataError(f"group column {group!r} is also a variable of the model")
    frame = data[names]
    non_numeric = [c for c, dtype in zip(names, frame.dtypes) if not pd.api.types.is_numeric_dtype(dtype)]
    if non_numeric:
        raise CFADataError(f"model variables must be numeric; not numeric: {non_numeric}")
    X = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isfinite(X).all():  # the usual case: one pass, nothing missing
        bad = np.zeros(len(X), dtype=bool)
    else:
        if np.isinf(X).any():
            raise CFADataError("the data contain infinite values")
        bad = np.isnan(X).any(axis=1)
    labels_col = data[group].to_numpy() if group is not None else None
    bad_group = pd.isna(labels_col) if labels_col is not None else np.zeros(len(X), dtype=bool)
    return ModelData(X, labels_col, names, bad, np.asarray(bad_group, dtype=bool))


def raise_missing(md: ModelData, group: str | None, n_bad: int, what: str) -> None:
    """The error for missing values under ``missing="raise"``, naming the items concerned."""
    cols = [n for n, has in zip(md.names, np.isnan(md.X).any(axis=0)) if has]
    if md.missing_group.any():
        cols.append(f"{group} (group)")
    raise CFADataError(
        f"{n_bad} of {len(md.X)} rows have missing values (in {', '.join(cols[:10])}"
        f"{', ...' if len(cols) > 10 else ''}). {what}; profiler never imputes."
    )


def split_groups(X: np.ndarray, labels_col: np.ndarray | None) -> tuple[tuple, list[np.ndarray]]:
    """Rows of each group, groups in order of first appearance (lavaan's order)."""
    if labels_col is None:
        return (None,), [X]
    groups = tuple(pd.unique(labels_col))
    return groups, [X[labels_col == lab] for lab in groups]


def missing_summary(md: ModelData, method: str, n_rows_used: int, **extra) -> MissingData:
    """What was missing among the model's variables and what was done (a row without a group label is
    dropped and counted, not a missing cell)."""
    return describe_missing(~np.isnan(md.X), method, n_rows_used, **extra)


def sample_moments(
    data: pd.DataFrame, model: ParsedModel, group: str | None, missing: str, keep_rows: bool = False
) -> tuple[Moments, MissingData]:
    """Validate the data once and reduce it to per-group sample moments (one pass over the rows).

    Returns the moments and what was missing (rows dropped with ``missing="listwise"``); with
    ``missing="raise"`` incomplete rows are an error. Groups are ordered by first appearance, as lavaan.
    """
    md = model_data(data, model, group)
    names, X, labels_col = md.names, md.X, md.labels
    bad = md.missing_rows | md.missing_group
    n_bad = int(bad.sum())
    if n_bad and missing == "raise":
        raise_missing(md, group, n_bad, "Pass missing='listwise' (or 'fiml') to CFA(...) to use those rows")
    if n_bad:
        X = X[~bad]
        labels_col = labels_col[~bad] if labels_col is not None else None
    groups, subsets = split_groups(X, labels_col)
    n, means, covs = [], [], []
    p = len(names)
    for lab, Xg in zip(groups, subsets):
        where = "" if lab is None else f" in group {lab!r}"
        if len(Xg) < 2:
            raise CFADataError(f"at least 2 complete rows are needed{where}; got {len(Xg)}")
        mean, cov = moments(Xg)
        flat = [names[i] for i in np.flatnonzero(~(np.diag(cov) > 0))]
        if flat:
            raise CFADataError(f"variables without variance{where}: {flat}")
        if np.linalg.eigvalsh(cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov))))[0] <= 1e-12:
            if len(Xg) <= p:
                hint = f" ({len(Xg)} rows for {p} variables)"
            else:
                hint = " (some variable is a linear combination of others)"
            raise CFADataError(f"the sample covariance matrix{where} is not positive definite{hint}; ML needs it to be")
        n.append(len(Xg))
        means.append(mean)
        covs.append(cov)
    kept = tuple(subsets) if keep_rows else None
    return Moments(np.asarray(n), tuple(means), tuple(covs), groups, kept), missing_summary(md, missing, len(md.X) - n_bad)
