"""Timing helpers shared by every benchmark: medians of repeated runs, ratios, machine facts."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    """Median wall time of ``repeats`` runs of one callable, in seconds."""

    label: str
    median_s: float
    runs_s: tuple[float, ...]


def time_median(label: str, func: Callable[[], object], repeats: int = 3, warmup: int = 1) -> Timing:
    """Run ``func`` ``warmup`` times untimed, then ``repeats`` times; return the median wall time."""
    for _ in range(warmup):
        func()
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        runs.append(time.perf_counter() - start)
    return Timing(label, statistics.median(runs), tuple(runs))


def cpu_median(func: Callable[[], object], repeats: int = 3, warmup: bool = True) -> tuple[float, float]:
    """Median CPU seconds (``time.process_time``: this process and its threads) and median wall seconds of
    ``repeats`` runs of ``func`` (after one untimed run)."""
    if warmup:
        func()
    cpu, wall = [], []
    for _ in range(repeats):
        c, w = time.process_time(), time.perf_counter()
        func()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return statistics.median(cpu), statistics.median(wall)


def machine_facts() -> str:
    """One line describing the machine, so figures in the docs can be read in context."""
    import numpy

    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {numpy.__version__}"
    )


def format_seconds(seconds: float) -> str:
    """Seconds with a unit that keeps three significant digits readable."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
