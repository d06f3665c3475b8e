"""Computerized adaptive testing on calibrated IRT item banks: item selection, exposure control, content
balancing, stopping rules, and simulation studies.

The engine (:class:`CATEngine`) is pure computation over a :class:`profiler.irt.ItemBank`; sessions
(:mod:`profiler.administration`) run it step by step and record every step, and simulation studies
(:func:`simulate`) run it for thousands of simulated respondents at once.
"""

from profiler.cat.engine import STOP_REASONS, CATEngine, Choice, step_draws
from profiler.cat.rules import CATError, CATRules
from profiler.cat.simulation import SimulationResult, calibrate_sympson_hetter, simulate, simulate_answers
from profiler.cat.synthetic import synthetic_bank

__all__ = [
    "CATEngine",
    "CATError",
    "CATRules",
    "Choice",
    "STOP_REASONS",
    "SimulationResult",
    "calibrate_sympson_hetter",
    "simulate",
    "simulate_answers",
    "step_draws",
    "synthetic_bank",
]
