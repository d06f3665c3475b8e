"""Deprecated location: reading cases from a store moved to :mod:`profiler.pipeline.cases` (the reports render;
the pipeline reads and records). Names read from here still work and warn."""

from __future__ import annotations

import warnings
from typing import Any


def __getattr__(name: str) -> Any:
    from profiler.pipeline import cases

    if name.startswith("__"):
        raise AttributeError(name)
    value = getattr(cases, name)
    warnings.warn(f"profiler.reports.stored.{name} moved to profiler.pipeline.cases.{name}", DeprecationWarning,
                  stacklevel=2)
    return value
