"""Deprecated location: the jobmodel document's pydantic types moved to :mod:`profiler.jobmodel.spec` ("model" named
too many things). Names read from here still work and warn."""

from __future__ import annotations

import warnings
from typing import Any


def __getattr__(name: str) -> Any:
    from profiler.jobmodel import spec

    if name.startswith("__"):
        raise AttributeError(name)
    value = getattr(spec, name)
    warnings.warn(f"profiler.jobmodel.model.{name} moved to profiler.jobmodel.spec.{name}", DeprecationWarning, stacklevel=2)
    return value
