"""Deprecated location: the files a batch writes moved to :mod:`profiler.batch.writers`. Names read from here
still work and warn."""

from __future__ import annotations

import warnings
from typing import Any


def __getattr__(name: str) -> Any:
    from profiler.batch import writers

    if name.startswith("__"):
        raise AttributeError(name)
    value = getattr(writers, name)
    warnings.warn(f"profiler.pipeline.batch_csv.{name} moved to profiler.batch.writers.{name}", DeprecationWarning,
                  stacklevel=2)
    return value
