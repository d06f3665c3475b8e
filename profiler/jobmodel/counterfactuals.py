"""Counterfactuals that are true: the smallest change of the inputs that gives another recommendation.

For every candidate and direction (``up``: toward advance, ``down``: toward not advance) the target is the
next recommendation: from not advance up to review, from review up to advance, from advance down to review,
from review down to not advance. For every input the counterfactual is the attainable value nearest the
candidate's (:mod:`profiler.jobmodel.grids`: an answer pattern, a rating grid, a whole year, a test step)
at which the recommendation *is* the target, everything else as it is:

- the score lands inside the target band by at least ``EPS`` (1e-9 points): never on a threshold, which
  belongs to the band it starts;
- a value below a criterion's minimum routes to review: such values are excluded when the target is advance
  or not advance, and count as reaching review when that is the target;
- with unknown inputs (missing or expired), the target must hold for every plausible value they take (the
  thresholds move by what they could add), so that the recommendation is the target whatever they turn out
  to be; an unknown input itself is "measured at" the value;
- when routing keeps the case in review whatever this input does (another input below its minimum, an
  unknown input under the policy ``review``, a minimum that cannot be checked), the counterfactual states
  what else must change (``requirements``: that input raised to its minimum, that input measured) and is
  computed with those changes made; ``alone`` says whether it needs none.

When no single input reaches the target, the joint counterfactual moves two or three inputs: inputs are
taken in order of score gained per SEM (per norm SD for recorded facts, which have no measurement error)
up to the most each can give, the last one only as far as needed. For utilities linear in the input (every
criterion of both shipped models but experience) that is the least total change in SEMs; for a saturating
utility it is the greedy allocation.

Everything is vectorised over candidates: per input and direction, a few binary searches on the input's
grid. :func:`profiler.jobmodel.engine.evaluate_arrays` computes it for one candidate and for many alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from profiler.jobmodel.compiled import row_sum
from profiler.jobmodel.grids import FLAT, Grid, grid_of

from profiler.jobmodel.arrays import Evaluation, Inputs

if TYPE_CHECKING:
    from profiler.jobmodel.compiled import CompiledModel

EPS = 1e-9  # a counterfactual's score lies at least this far inside its target band
MAX_JOINT = 3  # inputs a joint counterfactual may move
NOT_ADVANCE, REVIEW, ADVANCE = 0, 1, 2


@dataclass
class CounterfactualSet:
    """The counterfactuals of n candidates in one direction (rows: candidates, columns: inputs).

    ``target`` is the recommendation sought (-1: none in this direction). Per input: ``new_value`` (NaN
    where no value of it gives the target), ``change``, ``change_sem`` (NaN for recorded facts),
    ``score_after`` (with the change and the requirements), ``alone`` (no requirement). Requirements per
    candidate: ``raise_to`` (the value an input below its minimum must reach; NaN none) and ``measure``
    (unknown inputs that must be measured). The joint counterfactual: ``joint_value`` (NaN for inputs it
    leaves), ``joint_sem`` (total change in SEMs, NaN: none), ``joint_score``. ``lower`` and ``upper`` are
    the score thresholds the target was sought against (unknown inputs allowed for).
    """

    target: np.ndarray
    new_value: np.ndarray
    change: np.ndarray
    change_sem: np.ndarray
    score_after: np.ndarray
    alone: np.ndarray
    raise_to: np.ndarray
    measure: np.ndarray
    joint_value: np.ndarray
    joint_sem: np.ndarray
    joint_score: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def nearest_valid(grid: Grid, x: np.ndarray, qa: np.ndarray, qb: np.ndarray, above_min: np.ndarray,
                  knock_route: np.ndarray, near: np.ndarray | None = None) -> np.ndarray:
    """Index of the grid value nearest ``x`` whose score part lies in ``[qa, qb)`` (and that is at or above the
    input's minimum where ``above_min``), or of any value below the minimum where ``knock_route``; -1 where
    there is none. ``near`` is ``grid.nearest(x)`` when the caller has it.

    On each monotone run the values meeting the condition form one index range, and the nearest of them to
    ``near`` is ``near`` itself or an end of that range: the part at ``near`` tells which end, and one
    :meth:`~profiler.jobmodel.grids.Run.bound` finds it. Runs (and the values below the minimum) are then
    compared by distance, the first on a tie.
    """
    near = grid.nearest(x) if near is None else near
    knock = grid.knock
    route = knock > 0 and knock_route.any()
    best = best_d = None
    for run in grid.runs:
        k, ok = _in_run(run, near, qa, qb, above_min if knock > run.start else None, knock)
        if best is None and len(grid.runs) == 1 and not route:
            return np.where(ok, k, -1)
        d = np.abs(grid.values.take(k) - x)
        d[~ok] = np.inf
        if best is None:
            best, best_d = k, d
            continue
        better = d < best_d
        best = np.where(better, k, best)
        best_d = np.where(better, d, best_d)
    if route:  # values below the minimum route to review, the target of these rows
        k = np.minimum(near, knock - 1)
        d = np.where(knock_route, np.abs(grid.values.take(k) - x), np.inf)
        better = d < best_d
        best = np.where(better, k, best)
        best_d = np.where(better, d, best_d)
    return np.where(np.isfinite(best_d), best, -1)


def _in_run(run: Any, near: np.ndarray, qa: np.ndarray, qb: np.ndarray, above_min: np.ndarray | None,
            knock: int) -> tuple[np.ndarray, np.ndarray]:
    """The index of ``run`` nearest ``near`` whose part lies in ``[qa, qb)``, and whether there is one
    (``above_min``: rows that may not go below index ``knock``)."""
    a, b, part = run.start, run.stop, run.part
    if above_min is None:
        first: Any = a
        if a > 0 or b < len(part):
            near = np.clip(near, a, b - 1)
    elif knock >= b:  # the whole run lies below the minimum
        first = a
        near = np.clip(near, a, b - 1)
    else:
        first = np.where(above_min, max(a, knock), a)
        near = np.clip(near, first, b - 1)
    here = part.take(near)
    below, above = here < qa, here >= qb  # the part at near lies below the range, or above it
    if run.rising:  # the range lies after near (below) or before it (above)
        after, before, level = below, above, np.where(below, qa, qb)
    else:
        after, before, level = above, below, np.where(above, qb, qa)
    edge = run.bound(level)
    if not isinstance(first, int):
        np.maximum(edge, first, out=edge)
    k = np.where(after, edge, np.where(before, edge - 1, near))
    np.clip(k, first, b - 1, out=k)
    at = part.take(k)
    ok = (at >= qa) & (at < qb)
    if above_min is not None and knock >= b:
        ok &= ~above_min
    return k, ok


def _targets(band_code: np.ndarray, direction: str) -> np.ndarray:
    if direction == "up":
        return np.where(band_code == ADVANCE, -1, band_code + 1)
    return np.where(band_code == NOT_ADVANCE, -1, band_code - 1)


def _interval(target: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The scores ``[low, high)`` that give the target band, ``EPS`` inside it (empty where there is none)."""
    low = np.where(target == ADVANCE, upper + EPS, np.where(target == REVIEW, lower + EPS, -np.inf))
    high = np.where(target == NOT_ADVANCE, lower - EPS, np.where(target == REVIEW, upper - EPS, np.inf))
    return np.where(target < 0, np.inf, low), np.where(target < 0, -np.inf, high)


def _by_raters(cm: CompiledModel, j: int, raters: np.ndarray) -> list[tuple[Grid, np.ndarray | slice]]:
    """The grid of input ``j`` for each number of raters in the batch, with the rows it applies to."""
    if cm.inputs[j].kind != "interview_rating":
        return [(grid_of(cm, j), slice(None))]
    if len(raters) == 1:
        return [(grid_of(cm, j, int(raters[0, j])), slice(None))]
    counts = np.unique(raters[:, j])
    if len(counts) == 1:
        return [(grid_of(cm, j, int(counts[0])), slice(None))]
    return [(grid_of(cm, j, int(k)), raters[:, j] == k) for k in counts]


def _columns(n: int, p: int, fill: float = np.nan) -> np.ndarray:
    """An (n, p) array with contiguous columns: the search works input by input."""
    return np.full((n, p), fill, order="F")


def _per_input(cm: CompiledModel, by_criterion: np.ndarray) -> np.ndarray:
    """Criteria's columns gathered per input (boolean: any of its criteria; numbers: their sum)."""
    if cm.inputs_in_criterion_order:  # one criterion per input, in the same order: the columns as they are
        return by_criterion
    n = by_criterion.shape[0]
    out = np.zeros((n, len(cm.inputs)), by_criterion.dtype, order="F")
    if cm.one_input_each:
        out[:, cm.input_of] = by_criterion
        return out
    for c, j in enumerate(cm.input_of):
        if by_criterion.dtype == bool:
            out[:, j] |= by_criterion[:, c]
        else:
            out[:, j] += by_criterion[:, c]
    return out


def counterfactual_sets(cm: CompiledModel, ev: Evaluation, inputs: Inputs, *,
                        scores: bool = True) -> dict[str, CounterfactualSet]:
    """Both directions' counterfactuals of every candidate of an evaluation (see the module docstring).

    ``scores=False`` leaves ``score_after`` empty (NaN): the batch does not show it, the words of one
    candidate's recommendation do.
    """
    n, p = ev.X.shape
    X = ev.X
    measured = ev.measured
    # per input: below a minimum (to be raised to it), unknown and needed by the routing (to be measured)
    knocked = _per_input(cm, ev.knock)
    unchecked_in = _per_input(cm, ev.unchecked)
    to_measure = _per_input(cm, ev.missing_review) | unchecked_in
    part = _per_input(cm, ev.U * cm.coef)  # each input's share of the score as evaluated
    grids = [_by_raters(cm, j, inputs.raters) for j in range(p)]
    raise_to = _columns(n, p)
    fixed_part = part
    s_fixed = ev.score
    knocked_columns = np.flatnonzero(knocked.any(axis=0))
    if len(knocked_columns):
        fixed_part = np.array(part, order="F")
        for j in knocked_columns:
            for grid, rows in grids[j]:
                hit = knocked[rows, j]
                raise_to[rows, j] = np.where(hit, grid.values[grid.knock], np.nan)
                fixed_part[rows, j] = np.where(hit, grid.part[grid.knock], part[rows, j])
        # the score with every input below its minimum raised to it (the columns' sums in their order)
        s_fixed = ev.score + row_sum(fixed_part[:, knocked_columns] - part[:, knocked_columns])
    n_required = knocked.sum(axis=1) + to_measure.sum(axis=1)
    # unknown inputs the target must hold for: all under the policy review, those to be measured otherwise
    counted = ~measured & (cm.review_if_unknown_could_change | to_measure)
    counted_columns = np.flatnonzero(counted.any(axis=0))
    d_lo, d_hi = _columns(n, p, 0.0), _columns(n, p, 0.0)
    for j in counted_columns:
        above = unchecked_in[:, j]
        d_lo[:, j] = np.where(counted[:, j], np.where(above, cm.unknown_deltas_above_minimum[j, 0],
                                                      cm.unknown_deltas[j, 0]), 0.0)
        d_hi[:, j] = np.where(counted[:, j], np.where(above, cm.unknown_deltas_above_minimum[j, 1],
                                                      cm.unknown_deltas[j, 1]), 0.0)
    if len(counted_columns):
        lower_all, upper_all = cm.lower - row_sum(d_hi), cm.upper - row_sum(d_lo)
    else:
        lower_all, upper_all = np.full(n, float(cm.lower)), np.full(n, float(cm.upper))
    sem = inputs.sem  # the SEM the input has (or would have) when measured
    with np.errstate(divide="ignore"):
        per_sem = np.where(sem > 0, 1.0 / sem, np.nan)
    alone_base = (n_required[:, None] - knocked - to_measure) == 0
    near = [[grid.nearest(X[:, j] if isinstance(rows, slice) else X[rows, j]) for grid, rows in grids[j]]
            for j in range(p)]
    s_rest = s_fixed[:, None] - fixed_part  # the score without each input's part

    out = {}
    for direction in ("up", "down"):
        target = _targets(ev.band_code, direction)
        above_min = target != REVIEW
        knock_route = target == REVIEW
        low_all, high_all = _interval(target, lower_all, upper_all)
        new_value = _columns(n, p)
        score_after = _columns(n, p)
        for j in range(p):
            low, high = low_all, high_all
            counted_rows = np.flatnonzero(counted[:, j]) if j in counted_columns else ()
            if len(counted_rows):  # once measured, input j no longer counts among the unknown
                low, high = low_all.copy(), high_all.copy()
                low[counted_rows], high[counted_rows] = _interval(
                    target[counted_rows], lower_all[counted_rows] + d_hi[counted_rows, j],
                    upper_all[counted_rows] + d_lo[counted_rows, j])
            qa, qb = low - s_rest[:, j], high - s_rest[:, j]  # the part input j must give
            for g, (grid, rows) in enumerate(grids[j]):
                # only the candidates some value of the input could take to the target are searched
                can = (qa <= grid.part_max) & (qb > grid.part_min)
                if grid.knock > 0:
                    can |= knock_route
                if not isinstance(rows, slice):
                    can &= rows
                    sub = np.flatnonzero(can)
                    at = np.searchsorted(np.flatnonzero(rows), sub)  # the rows' places in near[j][g]
                    near_sub = near[j][g].take(at)
                else:
                    sub = np.flatnonzero(can)
                    near_sub = near[j][g].take(sub)
                if len(sub) == 0:
                    continue
                idx = nearest_valid(grid, X[:, j].take(sub), qa.take(sub), qb.take(sub), above_min.take(sub),
                                    knock_route.take(sub), near_sub)
                ok = idx >= 0
                sub, idx = sub[ok], idx[ok]
                new_value[sub, j] = grid.values.take(idx)
                if scores:
                    score_after[sub, j] = s_rest[:, j].take(sub) + grid.part.take(idx)
        # a measured input needing no change: the requirements alone give the target (said by theirs)
        same = measured & (new_value == X)
        if same.any():
            new_value[same] = np.nan
            score_after[same] = np.nan
        change = new_value - X
        found = ~np.isnan(new_value)
        joint = _joint(cm, ev, grids, target, s_fixed, fixed_part, raise_to, lower_all, upper_all,
                       ~found.any(axis=1) & (target >= 0), sem)
        out[direction] = CounterfactualSet(
            target=target.astype(np.int8), new_value=new_value, change=change, change_sem=change * per_sem,
            score_after=score_after, alone=alone_base & found, raise_to=raise_to, measure=to_measure,
            joint_value=joint[0], joint_sem=joint[1], joint_score=joint[2], lower=lower_all, upper=upper_all,
        )  # fmt: skip
    return out


def _joint(cm: CompiledModel, ev: Evaluation, grids: list, target: np.ndarray, s_fixed: np.ndarray,
           fixed_part: np.ndarray, raise_to: np.ndarray, lower: np.ndarray, upper: np.ndarray, wanted: np.ndarray,
           sem: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The joint counterfactual (up to ``MAX_JOINT`` measured inputs) of the rows ``wanted``."""
    n, p = ev.X.shape
    value = _columns(n, p)
    total = np.full(n, np.nan)
    score = np.full(n, np.nan)
    rows = np.flatnonzero(wanted)
    if len(rows) == 0:
        return value, total, score
    m = len(rows)
    low, high = _interval(target[rows], lower[rows], upper[rows])
    s = s_fixed[rows]
    rising = s < low  # the score must rise, or fall below high
    sign = np.where(rising, 1.0, -1.0)
    gap = np.where(rising, low - s, s - high)
    x = np.where(np.isnan(raise_to[rows]), ev.X[rows], raise_to[rows])
    unit = np.where(sem[rows] > 0, sem[rows], np.array([info.sd for info in cm.inputs]))
    above_min = target[rows] != REVIEW
    gain = np.zeros((m, p))
    best_value = np.full((m, p), np.nan)
    fp = fixed_part[rows]
    for j in range(p):
        for grid, sub in grids[j]:
            mine = np.ones(m, bool) if isinstance(sub, slice) else sub[rows]
            near = grid.nearest(x[:, j])
            for first in {0, grid.knock}:
                pick = mine & (above_min == (first == grid.knock)) if grid.knock else mine
                if not pick.any():
                    continue
                (top, top_a, top_b), (bottom, bottom_a, bottom_b) = grid.best(first)
                k = np.where(rising, np.clip(near, top_a, top_b), np.clip(near, bottom_a, bottom_b))
                gain[pick, j] = (sign * (np.where(rising, top, bottom) - fp[:, j]))[pick]
                best_value[pick, j] = grid.values[k][pick]
    gain = np.where(ev.measured[rows] & (unit > 0) & (gain > FLAT), gain, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        efficiency = np.where(gain > 0, gain / (np.abs(best_value - x) / unit), 0.0)
    order = np.argsort(-efficiency, axis=1, kind="stable")  # most score per SEM first
    reached = np.cumsum(np.take_along_axis(gain, order, axis=1), axis=1) >= gap[:, None]
    needed = np.where(reached.any(axis=1), reached.argmax(axis=1), p)  # rank of the last input moved
    feasible = (needed >= 1) & (needed < MAX_JOINT)
    rank = np.empty_like(order)  # each input's rank: the inverse permutation of the order
    np.put_along_axis(rank, order, np.arange(p), axis=1)
    moved = (rank < needed[:, None]) & feasible[:, None]
    last = np.take_along_axis(order, np.minimum(needed, p - 1)[:, None], axis=1)[:, 0]
    prior = row_sum(np.where(moved, gain, 0.0))
    for j in range(p):
        for grid, sub in grids[j]:
            mine = np.ones(m, bool) if isinstance(sub, slice) else sub[rows]
            pick = np.flatnonzero(feasible & (last == j) & mine)
            if len(pick) == 0:
                continue
            s_rest = s[pick] + sign[pick] * prior[pick] - fp[pick, j]
            idx = nearest_valid(grid, x[pick, j], low[pick] - s_rest, high[pick] - s_rest, above_min[pick],
                                np.zeros(len(pick), bool))
            ok = idx >= 0
            pick, idx, s_rest = pick[ok], idx[ok], s_rest[ok]
            row = rows[pick]
            value[row] = np.where(moved[pick], best_value[pick], np.nan)
            value[row, j] = grid.values[idx]
            score[row] = s_rest + grid.part[idx]
    changed = ~np.isnan(value[rows])
    total[rows] = np.where(changed.any(axis=1),
                           row_sum(np.where(changed, np.abs(value[rows] - x) / unit, 0.0)), np.nan)
    return value, total, score


__all__ = ["EPS", "MAX_JOINT", "CounterfactualSet", "counterfactual_sets", "nearest_valid"]
