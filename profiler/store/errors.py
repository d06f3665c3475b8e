"""The error a store raises for a database it cannot use."""

from __future__ import annotations

from profiler.errors import ProfilerError


class StoreError(ProfilerError):
    """A store that cannot be opened or used: not a database, corrupt, locked, from a newer profiler, or missing.

    Raised instead of the driver's exception so that the user reads which file is concerned and what to do.
    """
