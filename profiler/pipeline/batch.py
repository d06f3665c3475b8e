"""Deprecated location: batch scoring moved to the package :mod:`profiler.batch`. Names read from here still
work and warn (``profiler.BatchError`` is unchanged)."""

from __future__ import annotations

import warnings
from typing import Any


def __getattr__(name: str) -> Any:
    import profiler.batch

    if name.startswith("__"):
        raise AttributeError(name)
    value = getattr(profiler.batch, name)
    warnings.warn(f"profiler.pipeline.batch.{name} moved to profiler.batch.{name}", DeprecationWarning, stacklevel=2)
    return value
