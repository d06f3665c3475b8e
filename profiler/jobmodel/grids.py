"""The values an input can take, and the score they give: the grids counterfactuals move on.

A counterfactual names a value the candidate's input could really have had:

- a trait scale: a score some pattern of complete answers reaches (:func:`profiler.norms.attainable_scores`:
  for a mean-scored scale of 10 five-point items, 1.0, 1.1, ..., 5.0); a scale with continuous items gets
  1,001 equally spaced values over its range;
- an interview rating: a mean of the raters' whole-number ratings (for 2 raters 1.0, 1.5, ..., 5.0);
- a test score: the declared ``min``, then steps of the declared ``step`` up to ``max`` (without ``step``,
  steps of a hundredth of the range's order of magnitude: 1 for a 0-100 test, 0.1 for 0-40);
- experience: whole years, 0 up to the declared ``max``;
- a certification or an education requirement: 0 or 1.

For each grid, :class:`Grid` holds the part of the score the input contributes at every grid value (the
sum over the criteria that read it of ``c_i u_i(v)``) and splits the grid into runs on which that part is
monotone, so that the values meeting a score condition are found by binary search for many candidates at
once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from profiler.jobmodel.compiled import CompiledModel

CONTINUOUS_POINTS = 1001  # grid of a trait scale whose items take any number in a range
FLAT = 1e-12  # score differences below this count as flat when the grid is split into monotone runs


def clamp(x: np.ndarray, low: Any, high: Any, out: np.ndarray | None = None) -> np.ndarray:
    """``np.clip`` as two ufunc calls: the same values, without ``np.clip``'s per-call overhead (the searches
    clamp many small arrays)."""
    out = np.maximum(x, low, out=out)
    return np.minimum(out, high, out=out)


@dataclass(frozen=True)
class Run:
    """Grid indices ``[start, stop)`` on which an input's score part never falls (``rising``) or never rises.

    :meth:`bound` finds where the part reaches a level for many levels at once: on an equally spaced grid of
    an input read by one criterion (``utility`` and ``coef`` set) from the utility's closed-form inverse,
    checked against the grid's own part so that the answer is exact; by binary search otherwise.
    """

    start: int
    stop: int
    rising: bool
    values: np.ndarray
    part: np.ndarray
    step: float | None = None
    utility: Any = None
    coef: float = 1.0
    # index estimate alpha + beta * level where the utility's edge is affine in the level (see __post_init__)
    line: tuple[float, float] | None = field(default=None, init=False, repr=False, compare=False)
    flat_start: bool = field(default=False, init=False, repr=False, compare=False)
    flat_end: bool = field(default=False, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        a, b, part = self.start, self.stop, self.part
        object.__setattr__(self, "flat_start", b - a > 1 and part[a] == part[a + 1])
        object.__setattr__(self, "flat_end", b - a > 1 and part[b - 2] == part[b - 1])
        edge = self.utility.edge_line(self.rising) if self.utility is not None else None
        if edge is not None:  # index = a + (c0 + c1 q / coef - values[a]) / step, nudged toward the safe side
            c0, c1 = edge
            nudge = -1e-9 if self.rising else 1e-9
            object.__setattr__(self, "line", (a + (c0 - float(self.values[a])) / self.step + nudge,
                                              c1 / (self.coef * self.step)))

    def bound(self, q: np.ndarray) -> np.ndarray:
        """Rising: the first index whose part is >= ``q`` (``stop``: none). Falling: the first index whose part
        is < ``q`` (the end of the prefix whose part is >= ``q``; ``start``: none)."""
        a, b, part = self.start, self.stop, self.part
        if self.line is not None:
            return self._bound_line(q)
        if len(q) and math.isinf(q[0]) and np.isinf(q).all():  # a band open on this side: nothing to search
            return np.where(q < 0, a if self.rising else b, b if self.rising else a)
        if self.utility is None:
            ascending = part[a:b] if self.rising else part[a:b][::-1]
            k = ascending.searchsorted(q)
            return a + k if self.rising else b - k
        v = self.utility.edge(q / self.coef, self.rising)
        offset = (v - self.values[a]) / self.step
        if self.rising:  # first value at or above the edge, then checked against the grid's own part
            est = np.fmin(np.fmax(np.ceil(offset - 1e-9) + a, a), b - 1).astype(np.intp)
            idx = est + 1 - (part[est] >= q)  # est if it qualifies, else the next
            idx -= (idx > a) & (part[np.maximum(idx - 1, a)] >= q)  # one further back if that qualifies too
            idx[q <= part[a]] = a
            idx[q > part[b - 1]] = b
            return idx
        est = np.fmin(np.fmax(np.floor(offset + 1e-9) + a, a), b - 1).astype(np.intp)
        end = est + (part[est] >= q)  # past est if it qualifies
        end += (end < b) & (part[np.minimum(end, b - 1)] >= q) & (end > est)  # one further if that does too
        end[q <= part[b - 1]] = b
        end[q > part[a]] = a
        return end

    def _bound_line(self, q: np.ndarray) -> np.ndarray:
        """:meth:`bound` where the edge is affine: the estimate ``alpha + beta q``, nudged by 1e-9 of an index
        toward the answer's safe side, is the answer or the index before it (rounding is far below that), so
        one look at the grid's part settles it; plateaus at the run's ends (clipped utilities) are where the
        estimate cannot tell the levels apart, and are settled by the part at the end."""
        a, b, part = self.start, self.stop, self.part
        alpha, beta = self.line
        est = q * beta
        est += alpha
        (np.ceil if self.rising else np.floor)(est, out=est)
        clamp(est, a, b - 1, out=est)
        k = est.astype(np.intp)
        if self.rising:
            k += part.take(k) < q
            if self.flat_start:
                k = np.where(q <= part[a], a, k)
            if self.flat_end:
                k = np.where(q > part[b - 1], b, k)
            return k
        k += part.take(k) >= q
        if self.flat_end:
            k = np.where(q <= part[b - 1], b, k)
        if self.flat_start:
            k = np.where(q > part[a], a, k)
        return k


@dataclass(frozen=True)
class Grid:
    """The attainable values of one input (ascending) and the score part each gives.

    ``runs`` split the grid where the part changes direction (:class:`Run`). ``knock`` is the first index at
    or above the input's minimum (0 without one). ``step`` is the spacing of an equally spaced grid (None
    otherwise).
    """

    values: np.ndarray
    part: np.ndarray
    runs: tuple[Run, ...]
    knock: int
    step: float | None
    _best: dict = field(default_factory=dict, repr=False, compare=False)

    @cached_property
    def part_max(self) -> float:
        return float(self.part.max())

    @cached_property
    def part_min(self) -> float:
        return float(self.part.min())

    def best(self, first: int = 0) -> tuple[tuple[float, int, int], tuple[float, int, int]]:
        """From index ``first`` on: the highest part and the index range where the grid gives it, and the
        lowest part and its range. A joint counterfactual moves an input to the nearest value of that range."""
        out = self._best.get(first)
        if out is None:
            allowed = self.part[first:]
            out = []
            for extreme in (allowed.max(), allowed.min()):
                at = first + np.flatnonzero(np.abs(allowed - extreme) <= FLAT)
                # one range (a plateau or one point) where the part is unimodal; otherwise its first range
                gaps = np.flatnonzero(np.diff(at) > 1)
                out.append((float(extreme), int(at[0]), int(at[gaps[0]] if len(gaps) else at[-1])))
            out = self._best[first] = tuple(out)
        return out

    def position(self, x: np.ndarray) -> np.ndarray:
        """Index of the first grid value at or above each ``x`` (within a hair, on an equally spaced grid)."""
        if self.step is None:
            return self.values.searchsorted(x)
        return clamp(np.ceil((x - self.values[0]) / self.step - 1e-9), 0, len(self.values)).astype(np.intp)

    def nearest(self, x: np.ndarray) -> np.ndarray:
        """Index of the grid value nearest each ``x``; clipped to an index range it is the nearest in that
        range (the distance falls, then rises, along the grid)."""
        last = len(self.values) - 1
        if self.step is not None:
            return clamp(np.rint((x - self.values[0]) / self.step), 0, last).astype(np.intp)
        above = np.minimum(self.values.searchsorted(x), last)
        below = np.maximum(above - 1, 0)
        return np.where(np.abs(self.values[below] - x) <= np.abs(self.values[above] - x), below, above)


def _runs(part: np.ndarray) -> list[tuple[int, int, bool]]:
    """Maximal runs on which ``part`` never falls or never rises (neighbouring runs share their end point)."""
    diff = np.diff(part)
    sign = np.where(diff > FLAT, 1, np.where(diff < -FLAT, -1, 0))
    runs = []
    start, direction = 0, 0
    for k, s in enumerate(sign):
        if s == 0 or s == direction or direction == 0:
            direction = direction or int(s)
            continue
        runs.append((start, k + 1, direction >= 0))
        start, direction = k, int(s)
    runs.append((start, len(part), direction >= 0))
    return runs


def _test_step(low: float, high: float) -> float:
    return 10.0 ** (math.floor(math.log10(high - low)) - 2)


def attainable_values(cm: CompiledModel, j: int, raters: int = 1) -> np.ndarray:
    """The grid of input ``j``, ascending (interviews: for ``raters`` raters)."""
    info = cm.inputs[j]
    if info.is_trait:
        from profiler.norms import attainable_scores

        grid = attainable_scores(cm.questionnaire, info.key)
        if grid is None:
            return np.linspace(info.low, info.high, CONTINUOUS_POINTS)
        return np.asarray(grid, dtype=float)
    if info.kind == "interview_rating":
        k = max(int(raters), 1)
        return (k + np.arange(4 * k + 1)) / k
    if info.kind == "test_score":
        step = info.spec.step or _test_step(info.low, info.high)
        count = int(math.floor((info.high - info.low) / step + 1e-9)) + 1
        values = np.round(info.low + step * np.arange(count), 12)
        return np.unique(np.append(values[values <= info.high], info.high))
    if info.kind == "experience":
        return np.arange(0.0, math.floor(info.high) + 1.0)
    return np.array([0.0, 1.0])


def input_part(cm: CompiledModel, j: int, values: np.ndarray) -> np.ndarray:
    """The score part of input ``j`` at ``values``: the sum of ``c_i u_i(v)`` over the criteria reading it."""
    part = np.zeros(len(values))
    for c in cm.criteria_of[j]:
        part += cm.coef[c] * cm.utilities[c](values)
    return part


def grid_of(cm: CompiledModel, j: int, raters: int = 1) -> Grid:
    """The :class:`Grid` of input ``j`` (interviews: for ``raters`` raters), built once per model."""
    info = cm.inputs[j]
    key = (j, int(raters) if info.kind == "interview_rating" else 1)
    grid = cm.grids.get(key)
    if grid is None:
        values = attainable_values(cm, j, key[1])
        part = input_part(cm, j, values)
        minimum = cm.input_minimum[j]
        knock = 0 if math.isnan(minimum) else int(np.searchsorted(values, minimum))
        spacing = np.diff(values)
        step = float(spacing.mean()) if len(values) > 1 and np.allclose(spacing, spacing.mean(), rtol=1e-9,
                                                                          atol=0) else None
        crits = cm.criteria_of[j]
        closed = step is not None and len(crits) == 1
        runs = tuple(Run(a, b, up, values, part, step, cm.utilities[crits[0]] if closed else None,
                         float(cm.coef[crits[0]]) if closed else 1.0) for a, b, up in _runs(part))
        grid = cm.grids[key] = Grid(values, part, runs, knock, step)
    return grid


__all__ = ["Grid", "Run", "clamp", "attainable_values", "grid_of", "input_part"]
