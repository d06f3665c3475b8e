"""Evaluating candidates against a job model: one (with every explanation) or many (vectorized).

The score is ``100 * sum_i w_i u_i(x_i) / sum_i w_i`` over the criteria (``u_i`` the criterion's utility
transform of its input ``x_i``); its bands are

- ``advance`` when ``score >= advance_from + review_margin``,
- ``not_advance`` when ``score < not_advance_below - review_margin``,
- ``review`` otherwise (between the thresholds, or within ``review_margin`` of one).

Routing that is not additive sends a candidate to ``review`` whatever the score, never to rejection: an
input below a criterion's ``minimum`` (knock-out), an input that is missing or expired under the policy
``review``, and a minimum that cannot be checked because its input is missing (policy ``impute_mean``).

A missing or expired input is replaced by its norm mean: its contribution is exactly 0, and the coverage
report gives the score range had it taken plausible values instead.

The average candidate (the base value of the explanation) has every input at its norm mean: trait scales
at the means of the job model's norm group, evidence at the means (or base rates) the model declares.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from profiler.jobmodel.compiled import BANDS, DEFAULT_DRAWS, CompiledModel, row_count
from profiler.jobmodel.counterfactuals import EPS, JointRows, joint_counterfactuals
from profiler.jobmodel.engine import Evaluation, Inputs, evaluate_arrays
from profiler.jobmodel.grids import FLAT, grid_of
from profiler.jobmodel.reference import ReferencePoint
from profiler.jobmodel.evidence import (
    EvidenceError,
    JobModelInputError,
    ResolvedEvidence,
    interview_sem,
    resolve_evidence,
    undeclared,
)
from profiler.jobmodel.recommendation import (
    BAND_WORDS,
    LABEL_WORDS,
    Change,
    Contribution,
    Counterfactual,
    Coverage,
    InputCoverage,
    JointCounterfactual,
    Reason,
    Recommendation,
    Requirement,
    Stability,
)
from profiler.questionnaire.numeric import column_as_float


# One candidate ----------------------------------------------------------------------------------------------
def _as_date(value: Any) -> dt.date:
    if value is None:
        return dt.date.today()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise JobModelInputError([f"as_of: {value!r} is not a date (YYYY-MM-DD)"]) from None
    raise TypeError(f"as_of must be a date, a datetime or an ISO date string, got {type(value).__name__}")


def _trait_inputs(cm: CompiledModel, profile: Any) -> dict[str, tuple[float, float]]:
    """Raw score and SEM of each trait input the model uses, from a TraitProfile or a mapping."""
    from profiler.norms import NormsMismatchError, TraitProfile

    traits = [info for info in cm.inputs if info.is_trait]
    out: dict[str, tuple[float, float]] = {}
    if isinstance(profile, TraitProfile):
        if profile.questionnaire.get("content_hash") != cm.questionnaire.content_hash:
            raise NormsMismatchError("the profile comes from other questionnaire content than the job model's "
                                     f"({profile.questionnaire.get('content_hash')} vs "
                                     f"{cm.questionnaire.content_hash})")
        if profile.norms.get("norms_sha256") != cm.norms.sha256:
            raise NormsMismatchError(f"the profile was placed against norm group {profile.norms.get('norm_group')!r} "
                                     f"{profile.norms.get('norms_sha256')}, but job model {cm.job_model_id!r} uses "
                                     f"{cm.norms.name!r} {cm.norms.sha256}")
        for info in traits:  # the profile may hold more scales: only the declared ones are read
            try:
                result = profile[info.key]
            except KeyError:
                continue
            out[info.key] = (result.raw, result.sem)
        return out
    if profile is None:
        profile = {}
    if not isinstance(profile, Mapping):
        raise TypeError(f"profile must be a TraitProfile or a mapping scale -> raw score, got {type(profile).__name__}")
    declared = {info.key for info in traits}
    keys = {str(k): (str(k).removeprefix("trait.")) for k in profile}
    extra = [k for k, scale in keys.items() if scale not in declared]
    if extra:
        raise undeclared("trait scale", extra, [info.key for info in traits], cm.job_model_id)
    problems = []
    for given, scale in keys.items():
        value = profile[given]
        info = cm.inputs[cm.index["trait." + scale]]
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            problems.append(f"trait.{scale}: expected a raw score (a number), got {type(value).__name__}")
            continue
        value = float(value)
        if not info.low <= value <= info.high:
            problems.append(f"trait.{scale}: {value:g} is outside the scale's range {info.low:g}..{info.high:g}")
            continue
        out[scale] = (value, info.sem)
    if problems:
        raise EvidenceError(problems)
    return out


def _record_inputs(cm: CompiledModel, profile: Any, evidence: Mapping[str, Any] | None,
                   as_of: dt.date) -> tuple[Inputs, dict[str, ResolvedEvidence]]:
    """One candidate's profile and evidence records as a batch of one (values, SEMs, expiry, raters)."""
    traits = _trait_inputs(cm, profile)
    resolved = resolve_evidence(cm.evidence_specs, evidence, as_of, cm.job_model_id)
    p = len(cm.inputs)
    values = np.full((1, p), np.nan)
    sem = cm.sems[None, :].copy()
    expired = np.zeros((1, p), bool)
    raters = np.ones((1, p))
    for j, info in enumerate(cm.inputs):
        if info.is_trait:
            raw, trait_sem = traits.get(info.key, (math.nan, math.nan))
            values[0, j] = raw
            if not math.isnan(trait_sem):
                sem[0, j] = trait_sem
            continue
        if info.kind == "interview_rating":
            raters[0, j] = info.spec.min_raters  # an unknown interview is counted as the model requires
        record = resolved.get(info.key)
        if record is None:
            continue
        values[0, j], sem[0, j], expired[0, j] = record.value, record.sem, record.expired
        if record.agreement is not None:
            raters[0, j] = record.agreement.n_raters
    return Inputs(values, sem, expired, raters), resolved


def evaluate(cm: CompiledModel, profile: Any, evidence: Mapping[str, Any] | None = None, *, as_of: Any = None,
             draws: int = DEFAULT_DRAWS, seed: int = 0, reference: ReferencePoint | None = None) -> Recommendation:
    """The recommendation for one candidate; see :meth:`profiler.jobmodel.JobModel.evaluate`.

    The candidate is evaluated as a batch of one by the engine that :func:`evaluate_many` runs
    (:func:`profiler.jobmodel.engine.evaluate_arrays`); this function only reads the records and words the
    result.
    """
    as_of = _as_date(as_of)
    inputs, resolved = _record_inputs(cm, profile, evidence, as_of)
    reference = reference or cm.norm_reference
    ev = evaluate_arrays(cm, inputs, reference=reference, draws=draws, seed=seed)
    found = [None if info.is_trait else resolved.get(info.key) for info in cm.inputs]
    status = ["measured" if ev.measured[0, j] else "expired" if ev.expired[0, j] else "missing"
              for j in range(len(cm.inputs))]
    x, measured, U = ev.X[0], ev.measured[0], ev.U[0]
    score = float(ev.score[0])
    contributions = tuple(
        Contribution(
            criterion=cid, input=cm.inputs[j].ref, name=cm.inputs[j].name, value=float(x[j]),
            reference=float(reference.values[j]), utility=float(U[c]),
            reference_utility=float(reference.utility[c]), weight=float(cm.weights[c]),
            weight_share=float(cm.weights[c] / cm.total_weight), contribution=float(ev.contributions[0, c]),
            status="measured" if measured[j] else ("missing_review" if cm.review_if_missing[c] else "imputed"),
        )
        for c, (cid, j) in enumerate(zip(cm.criterion_ids, cm.input_of, strict=True))
    )  # fmt: skip
    thresholds = {"advance_from": cm.advance_from, "not_advance_below": cm.not_advance_below,
                  "review_margin": cm.margin, "advance_at_or_above": cm.upper, "not_advance_below_score": cm.lower}
    counterfactuals, joints = _counterfactuals(cm, ev, inputs)
    return Recommendation(
        band=str(BANDS[ev.band_code[0]]), score_band=str(BANDS[ev.score_code[0]]), score=score,
        base_value=ev.base_value, contributions=contributions, counterfactuals=counterfactuals,
        joint_counterfactuals=joints,
        stability=_stability(ev, draws, seed), coverage=_coverage(cm, ev, status, found),
        reasons=tuple(_reasons(cm, ev, status, found)),
        agreement=tuple(r.agreement for r in resolved.values() if r.agreement is not None),
        thresholds=thresholds, baseline=cm.baseline, versions=cm.versions(), as_of=as_of,
        engine=ENGINE, reference=reference.to_dict(), _utilities=U,
    )  # fmt: skip


ENGINE = ("exact interventional SHAP values of the additive score (closed form c_i (u_i(x_i) - r_i); equal to "
          "shap.LinearExplainer's and shap.ExactExplainer's to 1e-12, checked in the tests)")


def _reasons(cm: CompiledModel, ev: Evaluation, status: list[str], found: list) -> list[Reason]:
    """Plain-words reasons for the band, every threshold as in force (review margins applied)."""
    reasons: list[Reason] = []
    x, score = ev.X[0], float(ev.score[0])
    for c, cid in enumerate(cm.criterion_ids):
        j = cm.input_of[c]
        info = cm.inputs[j]
        minimum = cm.minimum[c]
        if ev.missing_review[0, c] or ev.unchecked[0, c]:
            what = "is missing" if status[j] == "missing" else f"has expired ({found[j].expiry})"
            if ev.missing_review[0, c]:
                reasons.append(Reason(status[j], f"{info.name} {what}; criterion {cid!r} asks a person to review "
                                      "such cases rather than guess.", cid))
            else:
                reasons.append(Reason("knock_out_unchecked", f"{info.name} {what}, so the minimum of {minimum:g} "
                                      f"set for criterion {cid!r} cannot be checked: a person reviews the case.", cid))
        elif ev.knock[0, c]:
            distance = minimum - x[j]
            in_sem = f" ({distance / ev.sem[0, j]:.1f} SEM)" if ev.sem[0, j] > 0 else ""
            reasons.append(Reason("knock_out", f"{info.name} is {x[j]:g}, {distance:.3g}{in_sem} below the minimum "
                                  f"of {minimum:g} set for criterion {cid!r}: a person reviews the case (a minimum "
                                  "never rejects on its own).", cid))
    if ev.uncertain[0]:
        lo, hi = float(ev.score_min[0]), float(ev.score_max[0])
        bands = " and ".join(BAND_WORDS[b] for b in bands_between(cm, lo, hi))
        if cm.review_if_unknown_could_change:
            then = "the recommendation would rest on what is not known, so a person reviews the case."
        else:
            then = "the score band stands (the job model's policy), but it rests on what is not known."
        reasons.append(Reason("unknown_could_change", f"With its unknown inputs at plausible values the score "
                              f"could lie anywhere in {lo:.1f}..{hi:.1f}, which reaches {bands}: {then}"))
    upper, lower = cm.upper, cm.lower
    code = int(ev.score_code[0])
    if ev.in_margin[0]:
        reasons.append(Reason("review_margin", f"The score {score:.1f} lies between {lower:g} and {upper:g}, in the "
                              f"review margin of {cm.margin:g} points around a threshold: too close to call without "
                              "a person."))
    elif code == 1:
        reasons.append(Reason("review_band", f"The score {score:.1f} lies between {lower:g} and {upper:g}: the "
                              "review band."))
    elif code == 2:
        reasons.append(Reason("score", f"The score {score:.1f} is at or above {upper:g}, where advance begins."))
    else:
        reasons.append(Reason("score", f"The score {score:.1f} is below {lower:g}, where not advance begins."))
    return reasons


def _counterfactuals(cm: CompiledModel, ev: Evaluation,
                     inputs: Inputs) -> tuple[tuple[Counterfactual, ...], tuple[JointCounterfactual, ...]]:
    """One candidate's counterfactuals (row 0 of the engine's arrays) in words and units."""
    singles, joints = [], []
    x, measured, raters = ev.X[0].tolist(), ev.measured[0].tolist(), inputs.raters[0].tolist()
    # percentiles of every input's value and of its counterfactual values, one call per input
    sets = list(ev.counterfactuals.values())
    news = [[float(cfs.new_value[0, j]) for cfs in sets] for j in range(len(cm.inputs))]
    percentiles = [info.percentile(np.array([x[j]] + news[j]))
                   if info.percentile_method is not None and not all(map(math.isnan, news[j])) else None
                   for j, info in enumerate(cm.inputs)]
    for d, (direction, cfs) in enumerate(ev.counterfactuals.items()):
        target = int(cfs.target[0])
        if target < 0:
            continue
        band = str(BANDS[target])
        threshold = float(cfs.upper[0] if target == 2 or (target == 1 and ev.band_code[0] == 2) else cfs.lower[0])
        required = _requirements(cm, cfs, 0)
        new_values, changes, sems = cfs.new_value[0].tolist(), cfs.change[0].tolist(), cfs.change_sem[0].tolist()
        after = cfs.score_after[0].tolist()
        after_bands = cm.score_band(np.nan_to_num(cfs.score_after[0])).tolist()
        alone = cfs.alone[0].tolist()
        for j, info in enumerate(cm.inputs):
            new = new_values[j]
            criterion = cm.criterion_ids[cm.criteria_of[j][0]]
            if math.isnan(new):
                why, short = _why(cm, ev, cfs, j, target, raters[j])
                singles.append(Counterfactual(
                    criterion=criterion, input=info.ref, name=info.name, direction=direction, target_band=band,
                    threshold=threshold, reachable=False, value=x[j], why=why, why_short=short,
                    imputed=not measured[j], is_trait=info.is_trait, checked=True,
                ))  # fmt: skip
                continue
            pct = None
            if percentiles[j] is not None:
                pct = float(percentiles[j][1 + d] - percentiles[j][0])
            minimum = cm.input_minimum[j]
            singles.append(Counterfactual(
                criterion=criterion, input=info.ref, name=info.name, direction=direction, target_band=band,
                threshold=threshold, reachable=True, value=x[j], new_value=new, change=changes[j],
                change_sem=sems[j] if math.isfinite(sems[j]) else None, change_percentile=pct,
                percentile_method=info.percentile_method if pct is not None else None, score_after=after[j],
                imputed=not measured[j], is_trait=info.is_trait,
                note=f"below the minimum of {minimum:g}: a person reviews the case whatever the score"
                if new < minimum else None,
                band_after=band, score_band_after=str(BANDS[after_bands[j]]), alone=alone[j],
                requirements=tuple(r for r in required if r.input != info.ref),
                units=units_text(cm, j, changes[j], raters[j]) if measured[j] else None, checked=True,
            ))  # fmt: skip
        if not math.isnan(cfs.joint_sem[0]):
            moved = []
            for j in np.flatnonzero(~np.isnan(cfs.joint_value[0])):
                info = cm.inputs[j]
                new = float(cfs.joint_value[0, j])
                start = x[j] if math.isnan(cfs.raise_to[0, j]) else float(cfs.raise_to[0, j])
                sem = ev.sem[0, j]
                moved.append(Change(info.ref, info.name, start, new, new - start,
                                    (new - start) / sem if sem > 0 else None,
                                    units_text(cm, j, new - start, raters[j])))
            joints.append(JointCounterfactual(
                direction=direction, target_band=band, changes=tuple(moved), total_sem=float(cfs.joint_sem[0]),
                score_after=float(cfs.joint_score[0]), band_after=band,
                requirements=tuple(r for r in required
                                   if r.action == "measure" or math.isnan(cfs.joint_value[0, cm.index[r.input]])),
            ))  # fmt: skip
    return tuple(singles), tuple(joints)


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _requirements(cm: CompiledModel, cfs: Any, row: int) -> tuple[Requirement, ...]:
    """What must change besides a counterfactual's own input: inputs raised to their minimum, unknown inputs
    measured."""
    out = []
    for j in np.flatnonzero(~np.isnan(cfs.raise_to[row]) | cfs.measure[row]):
        info = cm.inputs[j]
        if not math.isnan(cfs.raise_to[row, j]):
            out.append(Requirement(info.ref, info.name, "raise_to", float(cfs.raise_to[row, j])))
        elif cfs.measure[row, j]:
            minimum = cm.input_minimum[j]
            out.append(Requirement(info.ref, info.name, "measure", None if math.isnan(minimum) else float(minimum)))
    return tuple(out)


def units_text(cm: CompiledModel, j: int, change: float, raters: float) -> str | None:
    """A change of input ``j`` in units a person counts: answer steps, rating points, points, years."""
    info = cm.inputs[j]
    if info.binary or change == 0:
        return None
    more = "more" if change > 0 else "fewer"
    if info.is_trait:
        items, per_unit = info.items, (info.items if info.mean_scored else 1)
        steps = abs(change) * per_unit
        count = f"{round(steps):d}" if abs(steps - round(steps)) < 1e-6 else f"about {steps:.1f}"
        return f"{count} answer steps {'up' if change > 0 else 'down'} over its {items} statements"
    if info.kind == "interview_rating":
        points = abs(change) * raters
        count = f"{round(points):d}" if abs(points - round(points)) < 1e-6 else f"{points:.2g}"
        return f"{count} rating points {more} in total over the {int(raters)} raters"
    if info.kind == "experience":
        return f"{abs(change):.3g} years {more}"
    return f"{abs(change):.4g} points {'higher' if change > 0 else 'lower'}"


def _why(cm: CompiledModel, ev: Evaluation, cfs: Any, j: int, target: int, raters: float) -> tuple[str, str]:
    """Why no value of input ``j`` gives the target: in a sentence, and in a few words."""
    info = cm.inputs[j]
    grid = grid_of(cm, j, int(raters))
    rising = target > ev.band_code[0]
    crits = cm.criteria_of[j]
    here = math.fsum(float(cm.coef[c] * ev.U[0, c]) for c in crits)
    (top, _, _), (bottom, _, _) = grid.best(grid.knock if target != 1 else 0)
    room = (top - here) if rising else (bottom - here)
    if len(crits) == 1 and ev.measured[0, j]:
        c = crits[0]
        threshold = float(cfs.upper[0] if target == 2 or (target == 1 and not rising) else cfs.lower[0])
        threshold += EPS if rising else -EPS
        u_needed = float(ev.U[0, c] + (threshold - ev.score[0]) / cm.coef[c])
        if 0.0 <= u_needed <= 1.0:  # the utility could give it, but only beyond the input's possible range
            needed = float(cm.utilities[c].inverse(u_needed, float(ev.X[0, j])))
            if math.isfinite(needed) and not info.low <= needed <= info.high:
                return (f"it would take {needed:.3g}, outside the possible range {info.low:g}..{info.high:g} of "
                        f"{info.name}", f"would need {needed:.3g}, outside {info.low:g}..{info.high:g}")
    saturated = " (its utility is saturated)" if abs(room) <= FLAT else ""
    return (f"any value of {info.name} moves the score by at most {room:+.1f} points{saturated}",
            f"at most {room:+.1f} points")


def _stability(ev: Evaluation, draws: int, seed: int) -> Stability:
    simulated = ev.p_flip_simulated[0] if ev.p_flip_simulated is not None else math.nan
    score_flip = ev.p_score_flip_simulated[0] if ev.p_score_flip_simulated is not None else math.nan
    return Stability(se_score=float(ev.se[0]), p_flip_analytic=float(1.0 - ev.p_same[0]),
                     p_flip_simulated=float(simulated), p_score_flip_simulated=float(score_flip), draws=draws,
                     seed=seed, label=LABEL_WORDS[int(ev.label[0])], basis="analytic")


def bands_between(cm: CompiledModel, lo: float, hi: float) -> tuple[str, ...]:
    """The bands a score anywhere in ``lo..hi`` falls in (the job model's thresholds)."""
    bands = []
    if lo < cm.lower:
        bands.append("not_advance")
    if hi >= cm.lower and lo < cm.upper:
        bands.append("review")
    if hi >= cm.upper:
        bands.append("advance")
    return tuple(bands)


def _coverage(cm: CompiledModel, ev: Evaluation, status: list[str], found: list) -> Coverage:
    items = []
    score = float(ev.score[0])
    for j, info in enumerate(cm.inputs):
        record = found[j]
        source = record.source if record is not None else None
        date = record.date.isoformat() if record is not None else None
        if ev.measured[0, j]:
            items.append(InputCoverage(info.ref, info.name, "measured", "measured", source=source, date=date))
            continue
        crits = cm.criteria_of[j]
        handling = "review" if cm.review_if_missing[crits].any() else "imputed"
        detail = record.expiry if status[j] == "expired" else None
        d_lo, d_hi = cm.unknown_deltas[j]
        items.append(InputCoverage(info.ref, info.name, status[j], handling,
                                   detail=(detail + "; " if detail else "") + f"set to the norm mean {info.mean:.3g}",
                                   plausible=cm.plausible(j), score_range=(score + d_lo, score + d_hi),
                                   source=source, date=date))
    lo, hi = float(ev.score_min[0]), float(ev.score_max[0])
    return Coverage(tuple(items), (lo, hi), bands_between(cm, lo, hi))


# Many candidates ---------------------------------------------------------------------------------------------
_AUX = {"raters": ("interview_rating",), "date": None, "expires": ("certification",)}


def frame_inputs(cm: CompiledModel, frame: pd.DataFrame, as_of: dt.date) -> Inputs:
    """The inputs of a frame (one row per candidate) as arrays, every problem reported at once."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"evaluate_many takes a pandas DataFrame, got {type(frame).__name__}")
    allowed: dict[str, tuple[int, str | None]] = {}
    for j, info in enumerate(cm.inputs):
        allowed[info.ref] = (j, None)
        if info.is_trait:  # the person's own SEM of the trait score (e.g. an IRT score's); default the norms'
            allowed[f"{info.ref}.sem"] = (j, "sem")
        else:
            for aux, kinds in _AUX.items():
                if kinds is None or info.kind in kinds:
                    allowed[f"{info.ref}.{aux}"] = (j, aux)
    columns = [str(c) for c in frame.columns]
    extra = [c for c in columns if c not in allowed]
    if extra:
        raise undeclared("column", extra, list(allowed), cm.job_model_id)
    n, p = len(frame), len(cm.inputs)
    # columns contiguous (Fortran order): every input is read, checked and searched column by column
    X = np.full((n, p), np.nan, order="F")
    default_raters = [info.spec.min_raters if info.kind == "interview_rating" else 1.0 for info in cm.inputs]
    auxes = {allowed[c][1] for c in columns}
    if auxes & {"sem", "raters"}:  # some rows may have their own: every row's, filled column by column
        sem, raters = np.empty((n, p), order="F"), np.empty((n, p), order="F")
        for j in range(p):  # (a broadcast copied across is slow)
            sem[:, j] = cm.sems[j]
            raters[:, j] = default_raters[j]
    else:  # every row has the defaults: read-only views of them, no memory per row
        sem = np.broadcast_to(cm.sems, (n, p))
        raters = np.broadcast_to(np.array(default_raters, dtype=float), (n, p))
    too_old = np.zeros((n, p), bool, order="F")
    lapsed = np.zeros((n, p), bool, order="F")
    problems: list[str] = []

    def bad(column: str, mask: np.ndarray, message: str) -> None:
        rows = np.flatnonzero(mask)
        if len(rows):
            shown = ", ".join(repr(frame.index[r]) for r in rows[:5])
            problems.append(f"{column}: {len(rows)} row(s) {message} (rows {shown}{', ...' if len(rows) > 5 else ''})")

    for column, (j, aux) in zip(columns, (allowed[c] for c in columns), strict=True):
        info = cm.inputs[j]
        series = frame[column]
        if aux is None:
            try:
                values = column_as_float(series)
            except (TypeError, ValueError):
                problems.append(f"{column}: values must be numbers (NaN for missing)")
                continue
            given = ~np.isnan(values)
            if info.binary:
                bad(column, given & (values != 0) & (values != 1), "not 0 or 1")
            bad(column, given & ((values < info.low) | (values > info.high)),
                f"outside the input's range {info.low:g}..{info.high:g}")
            X[:, j] = values
        elif aux == "sem":
            try:
                own = column_as_float(series)
            except (TypeError, ValueError):
                problems.append(f"{column}: values must be numbers (NaN: the norm group's SEM)")
                continue
            bad(column, ~np.isnan(own) & ~((own > 0) & np.isfinite(own)), "not a positive, finite SEM")
            sem[:, j] = np.where(np.isnan(own), sem[:, j], own)
        elif aux == "raters":
            k = column_as_float(series)
            bad(column, ~np.isnan(k) & (k < info.spec.min_raters),
                f"with fewer than the {info.spec.min_raters} raters the model requires")
            bad(column, ~np.isnan(k) & (k != np.round(k)), "not a whole number of raters")
            k = np.where(np.isnan(k), info.spec.min_raters, np.maximum(k, 1))
            sem[:, j] = interview_sem(info.spec, k)
            raters[:, j] = k
        else:
            dates = pd.to_datetime(series, errors="coerce").to_numpy(dtype="datetime64[D]")
            bad(column, np.isnat(dates) & series.notna().to_numpy(), "not dates")
            days = (np.datetime64(as_of, "D") - dates).astype("timedelta64[D]").astype(float)
            days[np.isnat(dates)] = np.nan
            if aux == "date":
                bad(column, days < 0, f"dated after the evaluation date {as_of.isoformat()}")
                if info.spec.max_age_days is not None:
                    too_old[:, j] |= days > info.spec.max_age_days
            else:  # certification expiry: the last valid day
                lapsed[:, j] |= days > 0
    if problems:
        raise EvidenceError(problems)
    for j, info in enumerate(cm.inputs):
        if info.kind == "certification":  # only a certification held can lapse (as a record's `expires`)
            lapsed[:, j] &= X[:, j] == 1
    return Inputs(X, sem, too_old | lapsed, raters)


EVALUATION_CHUNK = 16_384  # rows computed together: temporaries stay in the CPU cache


def _output_names(cm: CompiledModel) -> list[str]:
    ids = cm.criterion_ids
    return (["score"] + [f"contribution.{c}" for c in ids] + [f"value.{c}" for c in ids]
            + ["se_score", "p_flip", "score_min", "score_max"]
            + [f"cf_{d}{unit}.{c}" for d in ("up", "down") for unit in ("", "_sem", "_joint") for c in ids]
            + ["cf_up_joint_sem", "cf_down_joint_sem"])


def _change_columns(cm: CompiledModel, out: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
    """The columns of ``out`` (one chunk's rows of the output block) that the counterfactual search writes its
    changes into directly, per direction: those of the criteria, when criterion c reads input c."""
    if not cm.inputs_in_criterion_order:
        return None
    C = len(cm.criterion_ids)
    k = 1 + 2 * C + 4
    return {direction: (out[:, k + 3 * C * d : k + 3 * C * d + C], out[:, k + 3 * C * d + C : k + 3 * C * d + 2 * C])
            for d, direction in enumerate(("up", "down"))}


def _write_rows(cm: CompiledModel, ev: Evaluation, out: np.ndarray, codes: np.ndarray, flags: np.ndarray,
                alone: np.ndarray, written: bool) -> None:
    """Write one chunk's evaluation into the float columns of :func:`_output_names`, ``codes`` (band, score
    band, stability label) and ``flags`` (in margin, unknown could change, knock-outs, missing under review).
    The joint counterfactuals' columns are left NaN: :func:`_write_joint` fills them for the whole batch;
    ``written``: the changes are there already (:func:`_change_columns`)."""
    C = len(cm.criterion_ids)
    # per-input columns in criterion order: as they are when criterion c reads input c (no gather to copy)
    per_criterion = cm.by_criterion
    out[:, 0] = ev.score
    out[:, 1 : 1 + C] = ev.contributions
    out[:, 1 + C : 1 + 2 * C] = per_criterion(ev.X)
    k = 1 + 2 * C
    out[:, k] = ev.se
    np.subtract(1.0, ev.p_same, out=out[:, k + 1])
    out[:, k + 2] = ev.score_min
    out[:, k + 3] = ev.score_max
    k += 4
    for direction in ("up", "down"):
        cf = ev.counterfactuals[direction]
        if not written:
            out[:, k : k + C] = per_criterion(cf.change)
            out[:, k + C : k + 2 * C] = per_criterion(cf.change_sem)
        out[:, k + 2 * C : k + 3 * C] = np.nan
        k += 3 * C
    out[:, k : k + 2] = np.nan
    alone[:, :C] = per_criterion(ev.counterfactuals["up"].alone)
    alone[:, C:] = per_criterion(ev.counterfactuals["down"].alone)
    codes[:, 0] = ev.band_code
    codes[:, 1] = ev.score_code
    codes[:, 2] = ev.label
    flags[:, 0] = ev.in_margin
    flags[:, 1] = ev.uncertain
    K = len(cm.knock_columns)
    flags[:, 2 : 2 + K] = ev.knock[:, cm.knock_columns]
    flags[:, 2 + K :] = ev.missing_review[:, cm.review_if_missing]


def _write_joint(cm: CompiledModel, block: np.ndarray, pending: dict[str, list[JointRows]],
                 offsets: list[int]) -> None:
    """Solve the joint counterfactuals of every chunk's rows that need one, all together (a row's answer is
    its own; one pass over the batch instead of one per chunk), and write them into the output block: the
    change of each input from its value (raised to its minimum where it was below it) and the total in SEMs."""
    C = len(cm.criterion_ids)
    k = 1 + 2 * C + 4
    for d, direction in enumerate(("up", "down")):
        rows = JointRows.concat(pending[direction], offsets)
        value, total, _ = joint_counterfactuals(cm, rows)
        base = k + d * 3 * C + 2 * C
        for c, j in enumerate(cm.input_of):
            block[rows.rows, base + c] = value[:, j] - rows.x[:, j]
        block[rows.rows, k + 6 * C + d] = total


def evaluate_many(cm: CompiledModel, frame: pd.DataFrame, *, as_of: Any = None, simulate: int = 0,
                  seed: int = 0, reference: ReferencePoint | None = None) -> pd.DataFrame:
    """Recommendations for many candidates at once; see :meth:`profiler.jobmodel.JobModel.evaluate_many`.

    Chunks of the frame go through the engine :func:`evaluate` runs on one candidate
    (:func:`profiler.jobmodel.engine.evaluate_arrays`).
    """
    as_of = _as_date(as_of)
    inputs = frame_inputs(cm, frame, as_of)
    if isinstance(reference, str):
        if reference != "cohort":
            raise ValueError(f"reference must be a ReferencePoint, None or 'cohort', got {reference!r}")
        reference = cm.cohort_reference(np.where(inputs.measured, inputs.values, cm.means),
                                        f"the {len(frame):,} candidates evaluated together")
    reference = reference or cm.norm_reference
    n = len(frame)
    ids = cm.criterion_ids
    names = _output_names(cm)
    block = np.empty((n, len(names)), order="F")  # columns contiguous: chunks write column segments
    codes = np.empty((n, 3), dtype=np.int8, order="F")  # band, score band, stability label
    flag_names = (["in_review_margin", "unknown_could_change"] + [f"knock_out.{ids[c]}" for c in cm.knock_columns]
                  + [f"missing_review.{ids[c]}" for c in np.flatnonzero(cm.review_if_missing)])
    flags = np.empty((n, len(flag_names)), dtype=bool, order="F")
    alone = np.empty((n, 2 * len(ids)), dtype=bool, order="F")
    simulated = np.empty(n) if simulate else None
    measured = np.empty((n, len(cm.inputs)), bool, order="F")  # read column by column (row_count)
    pending: dict[str, list[JointRows]] = {"up": [], "down": []}
    starts = list(range(0, n, EVALUATION_CHUNK))
    for start in starts:
        rows = slice(start, min(n, start + EVALUATION_CHUNK))
        into = _change_columns(cm, block[rows])
        ev = evaluate_arrays(cm, inputs.rows(rows), reference=reference, draws=simulate, seed=seed, scores=False,
                             joint=False, into=into)
        _write_rows(cm, ev, block[rows], codes[rows], flags[rows], alone[rows], written=into is not None)
        for direction, chunk_rows in pending.items():
            chunk_rows.append(ev.counterfactuals[direction].joint)
        measured[rows] = ev.measured
        if simulated is not None:
            simulated[rows] = ev.p_flip_simulated
    if starts:
        _write_joint(cm, block, pending, starts)

    result = pd.DataFrame(block, columns=names, copy=False)
    band_type = pd.CategoricalDtype(list(BANDS))
    result.insert(0, "band", pd.Categorical.from_codes(codes[:, 0], dtype=band_type))
    result.insert(1, "score_band", pd.Categorical.from_codes(codes[:, 1], dtype=band_type))
    labels = pd.CategoricalDtype(list(LABEL_WORDS))
    result.insert(result.columns.get_loc("p_flip") + 1, "stability",
                  pd.Categorical.from_codes(codes[:, 2], dtype=labels))
    expired = inputs.expired & ~np.isnan(inputs.values)
    unknown = ~measured
    imputing = cm.input_of[~cm.review_if_missing]  # the input of each criterion that imputes it when unknown
    counts = np.empty((n, 3), np.int64, order="F")
    counts[:, 0], counts[:, 1] = row_count(unknown & ~expired), row_count(expired)
    counts[:, 2] = row_count(unknown[:, imputing])  # criteria that impute an unknown input
    # the trailing columns as a few frames over the arrays as they are (a block per array, no copies) joined
    # once, rather than inserted one by one
    parts = [result] if simulated is None else [result, pd.DataFrame({"p_flip_simulated": simulated})]
    parts += [pd.DataFrame(flags[:, :2], columns=flag_names[:2], copy=False),
              pd.DataFrame(counts, columns=["n_missing", "n_expired", "n_imputed"], copy=False),
              pd.DataFrame(flags[:, 2:], columns=flag_names[2:], copy=False),
              pd.DataFrame(alone, columns=[f"cf_{d}_alone.{c}" for d in ("up", "down") for c in ids], copy=False)]
    result = pd.concat(parts, axis=1)
    result.index = frame.index
    result.attrs.update(cm.versions())
    result.attrs.update(base_value=reference.base_value, baseline=cm.baseline, reference=reference.to_dict(),
                        criteria=list(ids),
                        as_of=as_of.isoformat(),
                        thresholds={"advance_at_or_above": cm.upper, "not_advance_below": cm.lower},
                        contributions=ENGINE)
    return result


__all__ = ["ENGINE", "evaluate", "evaluate_many", "frame_inputs"]
