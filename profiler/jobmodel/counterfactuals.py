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

Everything is vectorised over candidates: per input, one binary search on the input's grid for the rows
of both directions together (a row's answer is its own). :func:`profiler.jobmodel.engine.evaluate_arrays`
computes it for one candidate and for many alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from profiler._arrays import is_broadcast_row
from profiler.jobmodel.compiled import row_any, row_sum
from profiler.jobmodel.grids import FLAT, Grid, clamp, grid_of

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
    ``score_after`` (with the change and the requirements; both None where the caller asked for changes
    only), ``alone`` (no requirement). Requirements per
    candidate: ``raise_to`` (the value an input below its minimum must reach; NaN none; None where the caller
    asked for changes only) and ``measure``
    (unknown inputs that must be measured). The joint counterfactual: ``joint_value`` (NaN for inputs it
    leaves), ``joint_sem`` (total change in SEMs, NaN: none), ``joint_score`` (None while the caller has
    deferred them); ``joint`` the candidates that need one. ``lower`` and ``upper`` are the score thresholds
    the target was sought against (unknown inputs allowed for).
    """

    target: np.ndarray
    new_value: np.ndarray | None
    change: np.ndarray
    change_sem: np.ndarray
    score_after: np.ndarray | None
    alone: np.ndarray
    raise_to: np.ndarray | None
    measure: np.ndarray
    joint_value: np.ndarray | None
    joint_sem: np.ndarray | None
    joint_score: np.ndarray | None
    lower: np.ndarray
    upper: np.ndarray
    joint: JointRows | None = None


def nearest_valid(grid: Grid, x: np.ndarray, qa: np.ndarray, qb: np.ndarray, above_min: np.ndarray | None,
                  knock_route: np.ndarray | None, near: np.ndarray | None = None) -> np.ndarray:
    """Index of the grid value nearest ``x`` whose score part lies in ``[qa, qb)`` (and that is at or above the
    input's minimum where ``above_min``), or of any value below the minimum where ``knock_route``; -1 where
    there is none. ``near`` is ``grid.nearest(x)`` when the caller has it. For a grid without a minimum
    (``grid.knock == 0``) ``above_min`` and ``knock_route`` are not read (None will do).

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
            near = clamp(near, a, b - 1)
    elif knock >= b:  # the whole run lies below the minimum
        first = a
        near = clamp(near, a, b - 1)
    else:
        first = np.where(above_min, max(a, knock), a)
        near = clamp(near, first, b - 1)
    here = part.take(near)
    below, above = here < qa, here >= qb  # the part at near lies below the range, or above it
    if run.rising:  # the range lies after near (below) or before it (above)
        after, before, level = below, above, np.where(below, qa, qb)
    else:
        after, before, level = above, below, np.where(above, qb, qa)
    edge = run.bound(level)
    if not isinstance(first, int):
        np.maximum(edge, first, out=edge)
    edge -= before & ~after  # the range lies before near: its last index (after wins where both hold)
    k = np.where(after | before, edge, near)
    clamp(k, first, b - 1, out=k)
    at = part.take(k)
    ok = (at >= qa) & (at < qb)
    if above_min is not None and knock >= b:
        ok &= ~above_min
    return k, ok


_NEXT = {"up": np.array([REVIEW, ADVANCE, -1]), "down": np.array([-1, NOT_ADVANCE, REVIEW])}  # by band code


def _targets(band_code: np.ndarray, direction: str) -> np.ndarray:
    """The next recommendation in ``direction`` from each band code (-1: none)."""
    return _NEXT[direction].take(band_code)


def _interval(target: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The scores ``[low, high)`` that give the target band, ``EPS`` inside it (empty where there is none)."""
    low = np.where(target == ADVANCE, upper + EPS, np.where(target == REVIEW, lower + EPS, -np.inf))
    high = np.where(target == NOT_ADVANCE, lower - EPS, np.where(target == REVIEW, upper - EPS, np.inf))
    return np.where(target < 0, np.inf, low), np.where(target < 0, -np.inf, high)


def _by_raters(cm: CompiledModel, j: int, raters: np.ndarray) -> list[tuple[Grid, np.ndarray | slice]]:
    """The grid of input ``j`` for each number of raters in the batch, with the rows it applies to."""
    if cm.inputs[j].kind != "interview_rating":
        return [(grid_of(cm, j), slice(None))]
    column = raters[:, j]
    if len(column) and column.min() == column.max():  # one number of raters (checked without sorting)
        return [(grid_of(cm, j, int(column[0])), slice(None))]
    return [(grid_of(cm, j, int(k)), column == k) for k in np.unique(column)]


def _columns(n: int, p: int) -> np.ndarray:
    """An (n, p) array of NaN with contiguous columns: the search works input by input."""
    return np.full((n, p), np.nan, order="F")


def counterfactual_sets(cm: CompiledModel, ev: Evaluation, inputs: Inputs, *, scores: bool = True,
                        defer_joint: bool = False,
                        into: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> dict[str, CounterfactualSet]:
    """Both directions' counterfactuals of every candidate of an evaluation (see the module docstring).

    ``scores=False`` leaves ``new_value`` and ``score_after`` out (None): the batch shows the change, the
    words of one candidate's recommendation show these too. ``defer_joint=True`` leaves the joint
    counterfactuals to the caller: each set's ``joint`` holds the rows that need one (:class:`JointRows`),
    which :func:`joint_counterfactuals` solves, for this evaluation or for the rows of many evaluations
    together (a row's answer is its own). ``into`` gives, per direction, the (n, inputs) arrays to write
    ``change`` and ``change_sem`` into (a batch's output block) instead of new ones.
    """
    n, p = ev.X.shape
    X = ev.X
    measured = ev.measured
    # per input: below a minimum (to be raised to it), unknown and needed by the routing (to be measured)
    knocked = cm.by_input(ev.knock)
    unchecked_in = cm.by_input(ev.unchecked)
    to_measure = cm.by_input(ev.missing_review) | unchecked_in
    # each input's share of the score as evaluated, column by column (criterion c's when it reads input c)
    if cm.inputs_in_criterion_order:
        part = [ev.U[:, j] * cm.coef[j] for j in range(p)]
    else:
        per_input = cm.by_input(ev.U * cm.coef)
        part = [per_input[:, j] for j in range(p)]
    grids = [_by_raters(cm, j, inputs.raters) for j in range(p)]
    raise_to = _columns(n, p) if scores else None  # only one candidate's words state it
    # the parts and values with every input below its minimum raised to it (columns shared where none is)
    fixed_part, x_fixed = list(part), [X[:, j] for j in range(p)]
    s_fixed = ev.score
    knocked_any, measure_any = knocked.any(axis=0), to_measure.any(axis=0)
    knocked_columns = np.flatnonzero(knocked_any)
    if len(knocked_columns):
        for j in knocked_columns:
            fixed_part[j], x_fixed[j] = part[j].copy(), X[:, j].copy()
            for grid, rows in grids[j]:
                hit = knocked[rows, j]
                if raise_to is not None:
                    raise_to[rows, j] = np.where(hit, grid.values[grid.knock], np.nan)
                fixed_part[j][rows] = np.where(hit, grid.part[grid.knock], part[j][rows])
                x_fixed[j][rows] = np.where(hit, grid.values[grid.knock], X[rows, j])
        # the score with every input below its minimum raised to it (the columns' sums in their order)
        s_fixed = ev.score + _in_order(fixed_part[j] - part[j] for j in knocked_columns)
    # requirements per candidate (inputs to raise to a minimum or to measure), summed column by column
    n_required = np.zeros(n, np.int64)
    for j in range(p):
        if knocked_any[j]:
            n_required += knocked[:, j]
        if measure_any[j]:
            n_required += to_measure[:, j]
    # unknown inputs the target must hold for: all under the policy review, those to be measured otherwise
    counted = ~measured & (cm.review_if_unknown_could_change | to_measure)
    counted_columns = np.flatnonzero(counted.any(axis=0)).tolist()
    d_lo, d_hi = {}, {}  # per counted input: what it could add to the score at a plausible value
    for j in counted_columns:
        above = unchecked_in[:, j]
        lo_j, hi_j = cm.unknown_deltas[j]
        if above.any():  # a minimum that cannot be checked: plausible values at or above it
            lo_j = np.where(above, cm.unknown_deltas_above_minimum[j, 0], lo_j)
            hi_j = np.where(above, cm.unknown_deltas_above_minimum[j, 1], hi_j)
        d_lo[j], d_hi[j] = np.where(counted[:, j], lo_j, 0.0), np.where(counted[:, j], hi_j, 0.0)
    if counted_columns:  # the columns' sums in input order (the columns of uncounted inputs add 0)
        lower_all = cm.lower - _in_order(d_hi[j] for j in counted_columns)
        upper_all = cm.upper - _in_order(d_lo[j] for j in counted_columns)
    else:
        lower_all, upper_all = np.full(n, float(cm.lower)), np.full(n, float(cm.upper))
    sem = inputs.sem  # the SEM the input has (or would have) when measured
    # per input: no requirement but (perhaps) the input's own (one array for the inputs without any)
    no_requirement = n_required == 0
    alone_base = [n_required == (knocked[:, j] + to_measure[:, j].astype(np.int64))
                  if knocked_any[j] or measure_any[j] else no_requirement for j in range(p)]
    # the score without each input's part
    s_rest = [s_fixed - fixed_part[j] for j in range(p)]

    sets, searched = {}, []
    for direction in ("up", "down"):
        target = _targets(ev.band_code, direction)
        if into is None:
            change, change_sem = _columns(n, p), _columns(n, p)
        else:
            change, change_sem = into[direction]
            change[:], change_sem[:] = np.nan, np.nan
        cfs = sets[direction] = CounterfactualSet(
            target=target.astype(np.int8), new_value=_columns(n, p) if scores else None, change=change,
            change_sem=change_sem, score_after=_columns(n, p) if scores else None,
            alone=np.zeros((n, p), bool, order="F"), raise_to=raise_to, measure=to_measure, joint_value=None,
            joint_sem=None, joint_score=None, lower=lower_all, upper=upper_all,
        )  # fmt: skip
        if (target >= 0).any():  # none has a target this way: nothing to search
            searched.append((direction, target, _interval(target, lower_all, upper_all)))
    found = [np.zeros((n, p), bool, order="F") for _ in searched]  # per direction searched
    for j in range(p) if searched else ():
        x = X[:, j]
        counted_rows = counted[:, j].nonzero()[0] if j in d_lo else ()
        if len(counted_rows):  # once measured, input j no longer counts among the unknown: its thresholds
            lower_c = lower_all[counted_rows] + d_hi[j][counted_rows]
            upper_c = upper_all[counted_rows] + d_lo[j][counted_rows]
            rest_c = s_rest[j][counted_rows]
        bounds = []  # per direction searched: the part input j must give, [qa, qb)
        for _, target, (low, high) in searched:
            qa, qb = low - s_rest[j], high - s_rest[j]
            if len(counted_rows):
                low_c, high_c = _interval(target[counted_rows], lower_c, upper_c)
                qa[counted_rows], qb[counted_rows] = low_c - rest_c, high_c - rest_c
            bounds.append((qa, qb))
        per_sem = _per_sem(sem[:, j])
        for grid, rows in grids[j]:
            # only the candidates some value of the input could take to the target are searched: the rows of
            # both directions in one search (a row's answer is its own)
            subs = []
            for (_, target, _), (qa, qb) in zip(searched, bounds, strict=True):
                can = (qa <= grid.part_max) & (qb > grid.part_min)
                if grid.knock > 0:
                    can |= target == REVIEW
                if not isinstance(rows, slice):
                    can &= rows
                subs.append(can.nonzero()[0])  # (the method: np.flatnonzero adds Python calls)
            sub = _joined(subs)
            if len(sub) == 0:
                continue
            x_sub = x.take(sub)
            qa = _gathered([qa for qa, _ in bounds], subs)
            qb = _gathered([qb for _, qb in bounds], subs)
            above_min = knock_route = None  # where the input has no minimum, neither is read
            if grid.knock > 0:
                route = _gathered([target for _, target, _ in searched], subs)
                above_min, knock_route = route != REVIEW, route == REVIEW
            idx = nearest_valid(grid, x_sub, qa, qb, above_min, knock_route, grid.nearest(x_sub))
            v = grid.values.take(idx)
            keep = idx >= 0
            same = v == x_sub
            if same.any():  # a measured input needing no change: the requirements alone give it (said by theirs)
                keep &= ~(measured[:, j].take(sub) & same)
            # the rows kept, both directions one after the other (a cut where the second begins)
            kk = keep.nonzero()[0]
            at_all = sub.take(kk)
            v_k = v.take(kk)
            moved = v_k - x_sub.take(kk)
            if per_sem is None:
                sem_k = sem[:, j].take(at_all)
                with np.errstate(divide="ignore"):
                    moved_sem = moved * np.where(sem_k > 0, 1.0 / sem_k, np.nan)  # NaN: a fact has no SEM
            else:
                moved_sem = moved * per_sem
            alone_k = alone_base[j].take(at_all)
            after = s_rest[j].take(at_all) + grid.part.take(idx.take(kk)) if scores else None
            cuts = [0, *([int(kk.searchsorted(len(subs[0])))] if len(subs) == 2 else []), len(kk)]
            for d, ((direction, _, _), found_d) in enumerate(zip(searched, found, strict=True)):
                cfs = sets[direction]
                part = slice(cuts[d], cuts[d + 1])
                at = at_all[part]
                found_d[:, j][at] = True
                cfs.alone[:, j][at] = alone_k[part]
                cfs.change[:, j][at] = moved[part]
                cfs.change_sem[:, j][at] = moved_sem[part]
                if scores:
                    cfs.new_value[:, j][at] = v_k[part]
                    cfs.score_after[:, j][at] = after[part]
    # the joint counterfactuals: for the candidates with a target that no single input reaches
    wanted = {direction: ~row_any(found_d) & (target >= 0) for (direction, target, _), found_d in zip(searched, found)}
    out = {}
    for direction, cfs in sets.items():
        cfs.joint = JointRows.of(cm, wanted.get(direction, np.zeros(n, bool)), cfs.target, s_fixed, fixed_part,
                                 x_fixed, lower_all, upper_all, ev.measured, sem, inputs.raters)
        if not defer_joint:
            value, total, score = joint_counterfactuals(cm, cfs.joint)
            cfs.joint_value, cfs.joint_sem, cfs.joint_score = _columns(n, p), np.full(n, np.nan), np.full(n, np.nan)
            cfs.joint_value[cfs.joint.rows] = value
            cfs.joint_sem[cfs.joint.rows], cfs.joint_score[cfs.joint.rows] = total, score
        out[direction] = cfs
    return out


def _joined(arrays: list[np.ndarray]) -> np.ndarray:
    """The arrays one after the other (the one itself when there is one)."""
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


def _gathered(arrays: list[np.ndarray], subs: list[np.ndarray]) -> np.ndarray:
    """Each array taken at its rows, one after the other (:func:`_joined` of the takes, without the copy)."""
    if len(arrays) == 1:
        return arrays[0].take(subs[0])
    out = np.empty(sum(len(rows) for rows in subs), arrays[0].dtype)
    start = 0
    for array, rows in zip(arrays, subs, strict=True):
        array.take(rows, out=out[start : start + len(rows)], mode="clip")  # rows are valid indices
        start += len(rows)
    return out


def _per_sem(sem: np.ndarray) -> float | None:
    """``1 / SEM`` when every row has the same SEM (NaN for a recorded fact, which has none); None when the
    rows differ (interviews by different numbers of raters, a person's own SEM)."""
    if len(sem) == 0:
        return None
    if is_broadcast_row(sem):  # one value broadcast over the rows (frame_inputs' default)
        low = sem[0]
    elif not (low := sem.min()) == sem.max():
        return None
    return 1.0 / low if low > 0 else np.nan


def _rows_of(A: np.ndarray | list[np.ndarray], rows: np.ndarray) -> np.ndarray:
    """``A[rows]`` gathered column by column (fast for the engine's column-ordered arrays; ``A`` may be given
    as its list of columns)."""
    columns = [A[:, j] for j in range(A.shape[1])] if isinstance(A, np.ndarray) else A
    out = np.empty((len(rows), len(columns)), A.dtype if isinstance(A, np.ndarray) else columns[0].dtype, order="F")
    for j, column in enumerate(columns):
        column.take(rows, out=out[:, j], mode="clip")  # rows are valid: "clip" spares the buffered bounds check
    return out


def _in_order(columns: Any) -> np.ndarray:
    """The sum of columns, added in their order (as :func:`row_sum` adds them)."""
    columns = iter(columns)
    total = next(columns).copy()
    for column in columns:
        total += column
    return total


@dataclass
class JointRows:
    """The candidates (``rows`` of their batch) that no single input takes to the target, with what their joint
    counterfactual depends on: the target, the score and each input's part with inputs below a minimum raised
    to it (``s``, ``part``, ``x``), the thresholds, which inputs are measured, the unit of a change (the SEM,
    or the norm SD for recorded facts) and the raters of each input (the grid an interview moves on)."""

    rows: np.ndarray
    target: np.ndarray
    s: np.ndarray
    part: np.ndarray
    x: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    measured: np.ndarray
    unit: np.ndarray
    raters: np.ndarray

    @classmethod
    def of(cls, cm: CompiledModel, wanted: np.ndarray, target: np.ndarray, s: np.ndarray,
           part: np.ndarray | list[np.ndarray], x: np.ndarray | list[np.ndarray], lower: np.ndarray,
           upper: np.ndarray, measured: np.ndarray, sem: np.ndarray, raters: np.ndarray) -> JointRows:
        rows = wanted.nonzero()[0]
        shape = (len(rows), sem.shape[1])
        if is_broadcast_row(sem):  # every row has the default SEM (a broadcast of them): so has every row's unit
            unit = np.broadcast_to(np.where(sem[0] > 0, sem[0], cm.sds), shape)
        else:
            sem = _rows_of(sem, rows)
            unit = np.where(sem > 0, sem, cm.sds)
        raters = np.broadcast_to(raters[0], shape) if is_broadcast_row(raters) else _rows_of(raters, rows)
        return cls(rows, target[rows], s[rows], _rows_of(part, rows), _rows_of(x, rows), lower[rows], upper[rows],
                   _rows_of(measured, rows), unit, raters)

    @classmethod
    def concat(cls, parts: list[JointRows], offsets: list[int]) -> JointRows:
        """The rows of several batches as one (``offsets``: where each batch starts)."""
        return cls(*(_stacked([getattr(part, name) + offset if name == "rows" else getattr(part, name)
                               for part, offset in zip(parts, offsets, strict=True)])
                     for name in cls.__dataclass_fields__))


def _first_max(A: np.ndarray) -> np.ndarray:
    """``A.argmax(axis=1)`` of a column-ordered array without NaN, column by column (the first on a tie)."""
    best, arg = A[:, 0].copy(), np.zeros(len(A), np.intp)
    for j in range(1, A.shape[1]):
        column = A[:, j]
        arg = np.where(column > best, j, arg)
        np.maximum(best, column, out=best)
    return arg


def _stacked(arrays: list[np.ndarray]) -> np.ndarray:
    """The arrays one after the other; one row broadcast over all of them stays a broadcast."""
    rows = [a for a in arrays if len(a)]
    if rows and all(is_broadcast_row(a) and np.array_equal(a[0], rows[0][0]) for a in rows):
        return np.broadcast_to(rows[0][0], (sum(len(a) for a in arrays), *rows[0].shape[1:]))
    return np.concatenate(arrays)


def joint_counterfactuals(cm: CompiledModel, rows: JointRows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The joint counterfactuals (up to ``MAX_JOINT`` measured inputs) of :class:`JointRows`: the values
    (NaN for inputs left as they are), the total change in SEMs and the score (NaN where there is none)."""
    m, p = rows.x.shape
    value = np.full((m, p), np.nan, order="F")
    total = np.full(m, np.nan)
    score = np.full(m, np.nan)
    if m == 0:
        return value, total, score
    low, high = _interval(rows.target, rows.lower, rows.upper)
    s = rows.s
    rising = s < low  # the score must rise, or fall below high
    sign = np.where(rising, 1.0, -1.0)
    gap = np.where(rising, low - s, s - high)
    x = rows.x
    unit = rows.unit
    above_min = rows.target != REVIEW
    # per input (column by column: the arrays are column-ordered): the most it can add toward the target
    # (0 where it cannot move: unknown, no unit, nothing to gain), the value that gives it, and the score it
    # gains per unit of change
    gain = np.zeros((m, p), order="F")
    best_value = np.full((m, p), np.nan, order="F")
    efficiency = np.empty((m, p), order="F")
    fp = rows.part
    grids = [_by_raters(cm, j, rows.raters) for j in range(p)]
    for j in range(p):
        gain_j, best_j = gain[:, j], best_value[:, j]
        for grid, mine in grids[j]:
            near = None
            for first in {0, grid.knock}:
                pick = mine
                if grid.knock:
                    pick = above_min == (first == grid.knock)
                    if not isinstance(mine, slice):
                        pick &= mine
                whole = isinstance(pick, slice)
                if not whole and not pick.any():
                    continue
                (top, top_a, top_b), (bottom, bottom_a, bottom_b) = grid.best(first)
                if top_a == top_b and bottom_a == bottom_b:  # one best value each way (a strictly monotone part)
                    k = np.where(rising, top_a, bottom_a)
                else:  # a plateau: its value nearest the input's
                    near = grid.nearest(x[:, j]) if near is None else near
                    k = np.where(rising, clamp(near, top_a, top_b), clamp(near, bottom_a, bottom_b))
                if whole:
                    np.multiply(sign, np.where(rising, top, bottom) - fp[:, j], out=gain_j)
                    grid.values.take(k, out=best_j)
                else:
                    gain_j[pick] = (sign * (np.where(rising, top, bottom) - fp[:, j]))[pick]
                    best_j[pick] = grid.values[k][pick]
        gain_j[~(rows.measured[:, j] & (unit[:, j] > 0) & (gain_j > FLAT))] = 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            efficiency[:, j] = np.where(gain_j > 0, gain_j / (np.abs(best_j - x[:, j]) / unit[:, j]), 0.0)
    # the inputs in order of score per SEM (the first on a tie), as far as a joint change can reach: the rank
    # of the last input moved is the first whose gains, added up in that order, close the gap (p: none)
    ranked, r = [], np.arange(m)
    left = efficiency
    for _ in range(min(MAX_JOINT, p)):
        ranked.append(_first_max(left))
        left[r, ranked[-1]] = -np.inf
    gained = gain[r, ranked[0]]
    needed = np.where(gained >= gap, 0, p)
    for q in range(1, len(ranked)):
        gained = gained + gain[r, ranked[q]]
        needed = np.where((needed == p) & (gained >= gap), q, needed)
    feasible = (needed >= 1) & (needed < MAX_JOINT)
    moved = np.zeros((m, p), bool, order="F")
    last = np.full(m, -1)
    for q, inputs_q in enumerate(ranked):
        moved[r, inputs_q] = (q < needed) & feasible
        last = np.where(np.minimum(needed, p - 1) == q, inputs_q, last)
    prior = row_sum(np.where(moved, gain, 0.0))
    solved = np.zeros(m, bool)  # the rows whose last input reaches the target
    for j in range(p):
        for grid, mine in grids[j]:
            pick = feasible & (last == j)
            if not isinstance(mine, slice):
                pick &= mine
            pick = pick.nonzero()[0]
            if len(pick) == 0:
                continue
            s_rest = s[pick] + sign[pick] * prior[pick] - fp[pick, j]
            idx = nearest_valid(grid, x[pick, j], low[pick] - s_rest, high[pick] - s_rest, above_min[pick],
                                np.zeros(len(pick), bool))
            ok = idx >= 0
            pick, idx, s_rest = pick[ok], idx[ok], s_rest[ok]
            solved[pick] = True
            value[pick, j] = grid.values[idx]  # the last input is not among the moved ones
            score[pick] = s_rest + grid.part[idx]
    np.copyto(value, best_value, where=moved & solved[:, None])
    # the total change in units, the changed inputs' columns added in their order
    changed = ~np.isnan(value)
    total_all = _in_order(np.where(changed[:, j], np.abs(value[:, j] - x[:, j]) / unit[:, j], 0.0) for j in range(p))
    np.copyto(total, total_all, where=solved)
    return value, total, score


__all__ = ["EPS", "MAX_JOINT", "CounterfactualSet", "JointRows", "counterfactual_sets", "joint_counterfactuals",
           "nearest_valid"]
