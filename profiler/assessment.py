"""Deprecated location: the recorded pipeline moved to :mod:`profiler.pipeline.assessment`. Names read from
here still work and warn (``profiler.assess_candidate`` and the other public names are unchanged)."""

from __future__ import annotations

import warnings
from typing import Any


def __getattr__(name: str) -> Any:
    from profiler.pipeline import assessment

    if name.startswith("__"):
        raise AttributeError(name)
    value = getattr(assessment, name)
    warnings.warn(f"profiler.assessment.{name} moved to profiler.pipeline.assessment.{name}", DeprecationWarning,
                  stacklevel=2)
    return value
