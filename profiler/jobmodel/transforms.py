"""Utility transforms of a job model, vectorized: the utility, its derivative and its inverse.

Every transform maps an input (a raw trait score or a piece of evidence, in its own units) to a utility
in [0, 1]. The formulas (``x`` the input):

- ``linear`` (``a0 = at_zero``, ``a1 = at_one``): ``u = clip((x - a0) / (a1 - a0), 0, 1)``; decreasing
  when ``a0 > a1``.
- ``target_range`` (``low``, ``high``, ``tolerance``): ``u = clip(1 - d / tolerance, 0, 1)`` with
  ``d = max(low - x, x - high, 0)`` the distance to the range.
- ``saturating`` (``half_at = h``, ``start``): ``u = 1 - 2 ** (-max(x - start, 0) / h)``: 0 at ``start``,
  1/2 at ``start + h``, 3/4 at ``start + 2h``, approaching 1 (exponential saturation, so that each
  further ``h`` halves what is left to gain).
- ``binary``: ``u = x`` for 0/1 inputs (and for the base rate, the average of a 0/1 input).

``derivative`` is the slope ``du/dx``; at a kink (where the slope jumps) it is the mean of the two
one-sided slopes, which is what measurement error around a kink sees on average. ``inverse(u, near)``
returns the input closest to ``near`` whose utility is ``u`` (NaN where no input has it), the basis of
counterfactuals.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from profiler.jobmodel.spec import BinaryTransform, LinearTransform, SaturatingTransform, TargetRangeTransform

_LN2 = math.log(2.0)


def _as_float(x: np.ndarray | float) -> np.ndarray:
    return np.asarray(x, dtype=float)


class Utility(ABC):
    """A utility function of one input; call it on an array of inputs."""

    kind: str

    @abstractmethod
    def __call__(self, x: np.ndarray | float) -> np.ndarray:
        """Utility in [0, 1] of each input."""

    @abstractmethod
    def derivative(self, x: np.ndarray | float) -> np.ndarray:
        """Slope ``du/dx`` of each input (the mean of the one-sided slopes at a kink)."""

    @abstractmethod
    def solutions(self, u: np.ndarray | float) -> list[np.ndarray]:
        """Inputs with utility ``u``: for each branch an array (NaN where the branch has none).

        For a utility reached on a whole interval (the 0 and 1 plateaus of a clipped transform) the
        branch gives the interval's end point, the nearest point of it from outside.
        """

    @classmethod
    @abstractmethod
    def stack(cls, utilities: list) -> Utility:
        """One utility of this kind with array parameters, standing for ``utilities`` side by side."""

    @property
    @abstractmethod
    def breakpoints(self) -> tuple[float, ...]:
        """Inputs where the slope changes; between them the utility is monotone."""

    @abstractmethod
    def edge(self, level: np.ndarray, rising: bool) -> np.ndarray:
        """The input at which the utility crosses ``level`` on its rising (or falling) part, unclipped.

        Meaningful for levels the utility takes there; callers check the ends of the range themselves.
        """

    def edge_line(self, rising: bool) -> tuple[float, float] | None:
        """``(c0, c1)`` with ``edge(level, rising) == c0 + c1 * level`` where the edge is affine in the level
        (None otherwise): counterfactual search then finds grid indices with one multiply-add."""
        return None

    def inverse(self, u: np.ndarray | float, near: np.ndarray | float, *, keep_level: bool = True) -> np.ndarray:
        """The input closest to ``near`` whose utility is ``u`` (NaN where none has it).

        With ``keep_level`` (default), an input already at utility ``u`` returns itself (it may lie on a
        plateau, away from the end point the branches give); callers that never ask for the current level
        can skip that check.
        """
        u = _as_float(u)
        near = _as_float(near)
        if u.shape != near.shape:
            u, near = np.broadcast_arrays(u, near)
        branches = self.solutions(u)
        best = branches[0]
        for branch in branches[1:]:  # both branches exist for the same utilities: keep the nearer
            best = np.where(np.abs(branch - near) < np.abs(best - near), branch, best)
        if keep_level:
            best = np.where(self(near) == u, near, best)
        return best

    def reach(self, u: np.ndarray, near: np.ndarray, low: Any, high: Any) -> np.ndarray:
        """:meth:`inverse` without the level check, NaN where the input needed lies outside ``[low, high]``."""
        x = self.inverse(u, near, keep_level=False)
        return np.where((x >= low) & (x <= high), x, np.nan)

    def extremes(self, low: np.ndarray | float, high: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """Smallest and largest utility over inputs in ``[low, high]`` (elementwise)."""
        low, high = np.broadcast_arrays(_as_float(low), _as_float(high))
        points = [low, high] + [np.clip(b, low, high) for b in self.breakpoints]
        values = np.stack([self(p) for p in points])
        return values.min(axis=0), values.max(axis=0)


def _param(value: Any) -> Any:
    """A parameter: a float, or an array of them for a stack of criteria of the same kind."""
    array = np.asarray(value, dtype=float)
    return float(array) if array.ndim == 0 else array


class Linear(Utility):
    kind = "linear"

    def __init__(self, at_zero: Any, at_one: Any):
        self.at_zero, self.at_one = _param(at_zero), _param(at_one)
        if np.any(np.asarray(self.at_zero) == np.asarray(self.at_one)):
            raise ValueError("at_zero and at_one must differ")
        self.slope = 1.0 / (self.at_one - self.at_zero)
        self.lo, self.hi = np.minimum(self.at_zero, self.at_one), np.maximum(self.at_zero, self.at_one)

    def __repr__(self) -> str:
        return f"Linear(at_zero={self.at_zero}, at_one={self.at_one})"

    def __call__(self, x: np.ndarray | float) -> np.ndarray:
        return np.minimum(np.maximum((_as_float(x) - self.at_zero) * self.slope, 0.0), 1.0)

    def derivative(self, x: np.ndarray | float) -> np.ndarray:
        x = _as_float(x)
        inside = (x > self.lo) & (x < self.hi)
        kink = (x == self.lo) | (x == self.hi)
        return np.where(inside, self.slope, np.where(kink, 0.5 * self.slope, 0.0))

    def solutions(self, u: np.ndarray | float) -> list[np.ndarray]:
        u = _as_float(u)
        valid = (u >= 0) & (u <= 1)
        return [np.where(valid, self.at_zero + u * (self.at_one - self.at_zero), np.nan)]

    def edge(self, level: np.ndarray, rising: bool) -> np.ndarray:
        return self.at_zero + level * (self.at_one - self.at_zero)

    def edge_line(self, rising: bool) -> tuple[float, float] | None:
        return float(self.at_zero), float(self.at_one - self.at_zero)

    def reach(self, u: np.ndarray, near: np.ndarray, low: Any, high: Any) -> np.ndarray:
        # utilities outside 0..1 map to inputs outside the anchors: one range check covers both
        x = self.at_zero + u * (self.at_one - self.at_zero)
        return np.where((x >= np.maximum(low, self.lo)) & (x <= np.minimum(high, self.hi)), x, np.nan)

    @property
    def breakpoints(self) -> tuple[Any, ...]:
        return (self.at_zero, self.at_one)

    @classmethod
    def stack(cls, utilities: list[Linear]) -> Linear:
        return cls([u.at_zero for u in utilities], [u.at_one for u in utilities])


class TargetRange(Utility):
    kind = "target_range"

    def __init__(self, low: Any, high: Any, tolerance: Any):
        self.low, self.high, self.tolerance = _param(low), _param(high), _param(tolerance)
        if np.any(np.asarray(self.low) > self.high) or np.any(np.asarray(self.tolerance) <= 0):
            raise ValueError("target_range needs low <= high and tolerance > 0")

    def __repr__(self) -> str:
        return f"TargetRange(low={self.low}, high={self.high}, tolerance={self.tolerance})"

    def __call__(self, x: np.ndarray | float) -> np.ndarray:
        x = _as_float(x)
        distance = np.maximum(np.maximum(self.low - x, x - self.high), 0.0)
        return np.maximum(1.0 - distance / self.tolerance, 0.0)

    def derivative(self, x: np.ndarray | float) -> np.ndarray:
        x = _as_float(x)
        slope = 1.0 / self.tolerance
        lo_edge, hi_edge = self.low - self.tolerance, self.high + self.tolerance
        out = np.where((x > lo_edge) & (x < self.low), slope, 0.0)
        out = np.where((x > self.high) & (x < hi_edge), -slope, out)
        out = np.where(x == lo_edge, 0.5 * slope, out)
        out = np.where(x == hi_edge, -0.5 * slope, out)
        # at the range's ends half a slope, except a single ideal point, where +s and -s meet
        point = self.low == self.high
        out = np.where((x == self.low) & ~point, 0.5 * slope, out)
        out = np.where((x == self.high) & ~point, -0.5 * slope, out)
        return np.where((x == self.low) & point, 0.0, out)

    def solutions(self, u: np.ndarray | float) -> list[np.ndarray]:
        u = _as_float(u)
        valid = (u >= 0) & (u <= 1)
        gap = self.tolerance * (1.0 - u)
        return [np.where(valid, self.low - gap, np.nan), np.where(valid, self.high + gap, np.nan)]

    @property
    def breakpoints(self) -> tuple[Any, ...]:
        return (self.low - self.tolerance, self.low, self.high, self.high + self.tolerance)

    def edge(self, level: np.ndarray, rising: bool) -> np.ndarray:
        gap = self.tolerance * (1.0 - level)
        return self.low - gap if rising else self.high + gap

    def edge_line(self, rising: bool) -> tuple[float, float] | None:
        tol = float(self.tolerance)
        return (float(self.low) - tol, tol) if rising else (float(self.high) + tol, -tol)

    @classmethod
    def stack(cls, utilities: list[TargetRange]) -> TargetRange:
        return cls([u.low for u in utilities], [u.high for u in utilities], [u.tolerance for u in utilities])


class Saturating(Utility):
    kind = "saturating"

    def __init__(self, half_at: Any, start: Any = 0.0):
        self.half_at, self.start = _param(half_at), _param(start)
        if np.any(np.asarray(self.half_at) <= 0):
            raise ValueError("half_at must be > 0")
        self.rate = _LN2 / self.half_at

    def __repr__(self) -> str:
        return f"Saturating(half_at={self.half_at}, start={self.start})"

    def __call__(self, x: np.ndarray | float) -> np.ndarray:
        excess = np.maximum(_as_float(x) - self.start, 0.0)
        return -np.expm1(-self.rate * excess)

    def derivative(self, x: np.ndarray | float) -> np.ndarray:
        x = _as_float(x)
        slope = self.rate * np.exp(-self.rate * np.maximum(x - self.start, 0.0))
        return np.where(x > self.start, slope, np.where(x == self.start, 0.5 * slope, 0.0))

    def solutions(self, u: np.ndarray | float) -> list[np.ndarray]:
        u = _as_float(u)
        valid = (u >= 0) & (u < 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            x = self.start - np.log1p(-u) / self.rate
        return [np.where(valid, x, np.nan)]

    @property
    def breakpoints(self) -> tuple[Any, ...]:
        return (self.start,)

    def edge(self, level: np.ndarray, rising: bool) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.start - np.log1p(-np.minimum(level, 1.0)) / self.rate

    @classmethod
    def stack(cls, utilities: list[Saturating]) -> Saturating:
        return cls([u.half_at for u in utilities], [u.start for u in utilities])


class Binary(Utility):
    kind = "binary"

    def __repr__(self) -> str:
        return "Binary()"

    def __call__(self, x: np.ndarray | float) -> np.ndarray:
        return _as_float(x).copy()

    def derivative(self, x: np.ndarray | float) -> np.ndarray:
        return np.ones_like(_as_float(x))

    def solutions(self, u: np.ndarray | float) -> list[np.ndarray]:
        u = _as_float(u)
        return [np.where((u == 0) | (u == 1), u, np.nan)]

    def reach(self, u: np.ndarray, near: np.ndarray, low: Any, high: Any) -> np.ndarray:
        # a 0/1 input can only flip: up to 1 or down to 0, reaching utility u or passing it
        up = u > near
        ok = np.where(up, (u <= 1) & (near < 1), (u >= 0) & (near > 0))
        return np.where(ok, np.where(up, 1.0, 0.0), np.nan)

    @property
    def breakpoints(self) -> tuple[Any, ...]:
        return ()

    def edge(self, level: np.ndarray, rising: bool) -> np.ndarray:
        return np.asarray(level, dtype=float)

    def edge_line(self, rising: bool) -> tuple[float, float] | None:
        return 0.0, 1.0

    @classmethod
    def stack(cls, utilities: list[Binary]) -> Binary:
        return cls()


class UtilityBank:
    """The utilities of all criteria, evaluated together on a matrix with one column per criterion.

    Criteria of the same kind are stacked into one :class:`Utility` with array parameters, so a model is
    evaluated in a few array operations, whatever its number of criteria.
    """

    def __init__(self, utilities: list[Utility]):
        self.utilities = list(utilities)
        by_kind: dict[type, list[int]] = {}
        for c, utility in enumerate(self.utilities):
            by_kind.setdefault(type(utility), []).append(c)
        self.groups = [(np.array(cols), kind.stack([self.utilities[c] for c in cols]))
                       for kind, cols in by_kind.items()]
        self._whole = len(self.groups) == 1  # one kind: no column selection needed

    def _apply(self, name: str, Xc: np.ndarray, *args: np.ndarray, **kwargs: Any) -> np.ndarray:
        if self._whole:
            return getattr(self.groups[0][1], name)(Xc, *args, **kwargs)
        shape = np.broadcast_shapes(Xc.shape, *(np.shape(a) for a in args))
        out = np.empty_like(Xc) if shape == Xc.shape else np.empty(shape)  # keeps Xc's memory layout
        for cols, utility in self.groups:
            picked = [a[..., cols] if np.ndim(a) else a for a in args]
            out[..., cols] = getattr(utility, name)(Xc[..., cols], *picked, **kwargs)
        return out

    def __call__(self, Xc: np.ndarray) -> np.ndarray:
        """Utilities of a matrix ``Xc`` whose column c holds criterion c's input."""
        return self._apply("__call__", Xc)

    def derivative(self, Xc: np.ndarray) -> np.ndarray:
        return self._apply("derivative", Xc)

    def inverse(self, U: np.ndarray, near: np.ndarray) -> np.ndarray:
        """Per criterion, the input nearest ``near`` with utility ``U`` (no level check)."""
        if self._whole:
            return self.groups[0][1].inverse(U, near, keep_level=False)
        out = np.empty(U.shape)
        for cols, utility in self.groups:
            out[..., cols] = utility.inverse(U[..., cols], near[..., cols], keep_level=False)
        return out

    def reach(self, U: np.ndarray, near: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """Per criterion, the input nearest ``near`` with utility ``U`` within ``[low, high]`` (else NaN)."""
        if self._whole:
            return self.groups[0][1].reach(U, near, low, high)
        out = np.empty(U.shape)
        for cols, utility in self.groups:
            out[..., cols] = utility.reach(U[..., cols], near[..., cols], low[cols], high[cols])
        return out


def utility_of(transform: LinearTransform | TargetRangeTransform | SaturatingTransform | BinaryTransform) -> Utility:
    """The :class:`Utility` of a transform declared in a job model."""
    if isinstance(transform, LinearTransform):
        return Linear(transform.at_zero, transform.at_one)
    if isinstance(transform, TargetRangeTransform):
        return TargetRange(transform.low, transform.high, transform.tolerance)
    if isinstance(transform, SaturatingTransform):
        return Saturating(transform.half_at, transform.start)
    if isinstance(transform, BinaryTransform):
        return Binary()
    raise TypeError(f"unknown transform {transform!r}")


__all__ = ["Binary", "Linear", "Saturating", "TargetRange", "Utility", "UtilityBank", "utility_of"]
