"""Deprecated location: the questionnaire document's pydantic types moved to :mod:`profiler.questionnaire.spec` ("model" named
too many things). Names read from here still work and warn."""

from __future__ import annotations

import warnings
from typing import Any


def __getattr__(name: str) -> Any:
    from profiler.questionnaire import spec

    if name.startswith("__"):
        raise AttributeError(name)
    value = getattr(spec, name)
    warnings.warn(f"profiler.questionnaire.model.{name} moved to profiler.questionnaire.spec.{name}", DeprecationWarning, stacklevel=2)
    return value
