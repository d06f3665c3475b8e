"""profiler: open psychometric profiling and explainable, human-overseen scoring for hiring."""

from profiler._version import __version__

__all__ = ["__version__"]
