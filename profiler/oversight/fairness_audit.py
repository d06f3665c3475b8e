"""Deprecated location: the recorded fairness audit moved to :mod:`profiler.pipeline.fairness_audit` (the
figures to :mod:`profiler.fairness.audit`); ``run_fairness_audit`` here is
:func:`profiler.reports.write_fairness_audit`. Names read from here still work and warn."""

from __future__ import annotations

import warnings
from typing import Any


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    if name == "run_fairness_audit":
        from profiler.reports.fairness import write_fairness_audit as value

        new = "profiler.reports.write_fairness_audit"
    else:
        from profiler.pipeline import fairness_audit

        value, new = getattr(fairness_audit, name), f"profiler.pipeline.fairness_audit.{name}"
    warnings.warn(f"profiler.oversight.fairness_audit.{name} moved to {new}", DeprecationWarning, stacklevel=2)
    return value
