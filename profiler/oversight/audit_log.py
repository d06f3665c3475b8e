"""Deprecated location of the audit log: it moved to :mod:`profiler.store.audit_log` (the store's layer, so
that sessions below oversight can log). Names read from here still work and warn."""

from __future__ import annotations

import warnings
from typing import Any


def __getattr__(name: str) -> Any:
    from profiler.store import audit_log

    if name.startswith("__"):
        raise AttributeError(name)
    value = getattr(audit_log, name)  # AttributeError for a name that never existed
    warnings.warn(f"profiler.oversight.audit_log.{name} moved to profiler.store.audit_log.{name}",
                  DeprecationWarning, stacklevel=2)
    return value
