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

from profiler.jobmodel import explanation, stability
from profiler.jobmodel.compiled import BANDS, DEFAULT_DRAWS, CompiledModel
from profiler.jobmodel.contributions import shap_contributions
from profiler.jobmodel.evidence import (
    EvidenceError,
    JobModelInputError,
    ResolvedEvidence,
    interview_sem,
    resolve_evidence,
    undeclared,
)
from profiler.jobmodel.recommendation import (
    LABELS,
    Contribution,
    Counterfactual,
    Coverage,
    InputCoverage,
    Reason,
    Recommendation,
    Stability,
    stability_label,
)


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


def evaluate(cm: CompiledModel, profile: Any, evidence: Mapping[str, Any] | None = None, *, as_of: Any = None,
             draws: int = DEFAULT_DRAWS, seed: int = 0) -> Recommendation:
    """The recommendation for one candidate; see :meth:`profiler.jobmodel.JobModel.evaluate`."""
    as_of = _as_date(as_of)
    traits = _trait_inputs(cm, profile)
    resolved = resolve_evidence(cm.evidence_specs, evidence, as_of, cm.job_model_id)

    p = len(cm.inputs)
    x = cm.means.copy()
    sem = np.zeros(p)
    measured = np.zeros(p, bool)
    status: list[str] = []
    found: list[ResolvedEvidence | None] = []
    for j, info in enumerate(cm.inputs):
        record = resolved.get(info.key) if not info.is_trait else None
        found.append(record)
        if info.is_trait:
            raw, trait_sem = traits.get(info.key, (math.nan, math.nan))
            if math.isnan(raw):
                status.append("missing")
                continue
            x[j], sem[j], measured[j] = raw, (info.sem if math.isnan(trait_sem) else trait_sem), True
        elif record is None:
            status.append("missing")
            continue
        elif record.expired:
            status.append("expired")
            continue
        else:
            x[j], sem[j], measured[j] = record.value, record.sem, True
        status.append("measured")

    utilities = cm.utilities_of(x[None, :])[0]
    # The additive explanation comes from shap; the score from the model's own formula, so that their
    # agreement (base + contributions = score) is a check, not a tautology.
    explainer = cm.explainer
    base, phi = shap_contributions(explainer, utilities[None, :])
    phi = phi[0]
    score = float(np.dot(cm.coef, utilities))
    score_code = int(cm.score_band(np.array([score]))[0])

    reasons, fixed_review = _reasons(cm, x, measured, status, score, score_code, found)
    band_code = 1 if any(r.code in ("knock_out", "knock_out_unchecked", "missing", "expired") for r in reasons) \
        else score_code

    contributions = tuple(
        Contribution(
            criterion=cid, input=cm.inputs[j].ref, name=cm.inputs[j].name, value=float(x[j]),
            reference=float(cm.means[j]), utility=float(utilities[c]),
            reference_utility=float(cm.reference_utility[c]), weight=float(cm.weights[c]),
            weight_share=float(cm.weights[c] / cm.total_weight), contribution=float(phi[c]),
            status="measured" if measured[j] else ("missing_review" if cm.review_if_missing[c] else "imputed"),
        )
        for c, (cid, j) in enumerate(zip(cm.criterion_ids, cm.input_of, strict=True))
    )  # fmt: skip
    counterfactuals = _counterfactuals(cm, x, sem, measured, utilities, score, score_code)
    stab = _stability(cm, x, sem, measured, fixed_review, score, band_code, draws, seed)
    coverage = _coverage(cm, measured, status, found, score)
    agreement = tuple(r.agreement for r in resolved.values() if r.agreement is not None)
    thresholds = {"advance_from": cm.advance_from, "not_advance_below": cm.not_advance_below,
                  "review_margin": cm.margin, "advance_at_or_above": cm.upper, "not_advance_below_score": cm.lower}
    return Recommendation(
        band=str(BANDS[band_code]), score_band=str(BANDS[score_code]), score=score, base_value=base,
        contributions=contributions, counterfactuals=counterfactuals, stability=stab, coverage=coverage,
        reasons=tuple(reasons), agreement=agreement, thresholds=thresholds, baseline=cm.baseline,
        versions=cm.versions(), as_of=as_of, _explainer=explainer, _utilities=utilities,
    )  # fmt: skip


def _reasons(cm: CompiledModel, x: np.ndarray, measured: np.ndarray, status: list[str], score: float,
             score_code: int, found: list) -> tuple[list[Reason], bool]:
    """Plain-words reasons for the band; also whether review is fixed whatever re-measurement gives."""
    reasons: list[Reason] = []
    fixed = False
    for c, cid in enumerate(cm.criterion_ids):
        j = cm.input_of[c]
        info = cm.inputs[j]
        minimum = cm.minimum[c]
        if not measured[j]:
            what = "is missing" if status[j] == "missing" else f"has expired ({found[j].expiry})"
            if cm.review_if_missing[c]:
                fixed = True
                reasons.append(Reason(status[j], f"{info.name} {what}; criterion {cid!r} asks a person to review "
                                      "such cases rather than guess.", cid))
            elif not math.isnan(minimum):
                fixed = True
                reasons.append(Reason("knock_out_unchecked", f"{info.name} {what}, so the minimum of {minimum:g} "
                                      f"set for criterion {cid!r} cannot be checked: a person reviews the case.", cid))
        elif not math.isnan(minimum) and x[j] < minimum:
            distance = minimum - x[j]
            in_sem = f" ({distance / cm.sems[j]:.1f} SEM)" if cm.sems[j] > 0 else ""
            reasons.append(Reason("knock_out", f"{info.name} is {x[j]:g}, {distance:.3g}{in_sem} below the minimum "
                                  f"of {minimum:g} set for criterion {cid!r}: a person reviews the case (a minimum "
                                  "never rejects on its own).", cid))
    if cm.advance_from <= score < cm.upper:
        reasons.append(Reason("review_margin", f"The score {score:.1f} reaches the advance threshold "
                              f"{cm.advance_from:g} by less than the review margin of {cm.margin:g} points: too close "
                              "to call without a person."))
    elif cm.lower <= score < cm.not_advance_below:
        reasons.append(Reason("review_margin", f"The score {score:.1f} is below the threshold {cm.not_advance_below:g} "
                              f"by less than the review margin of {cm.margin:g} points: too close to call without a "
                              "person."))
    elif score_code == 1:
        reasons.append(Reason("review_band", f"The score {score:.1f} lies between {cm.not_advance_below:g} and "
                              f"{cm.advance_from:g}: the review band."))
    elif score_code == 2:
        reasons.append(Reason("score", f"The score {score:.1f} is at or above {cm.upper:g}."))
    else:
        reasons.append(Reason("score", f"The score {score:.1f} is below {cm.lower:g}."))
    return reasons, fixed


def _targets(cm: CompiledModel, score_code: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """For each direction: the threshold to reach (NaN where there is no next band) and the band reached."""
    up = np.where(score_code == 0, cm.lower, np.where(score_code == 1, cm.upper, np.nan))
    up_band = np.where(score_code == 0, 1, 2)
    down = np.where(score_code == 2, cm.upper, np.where(score_code == 1, cm.lower, np.nan))
    down_band = np.where(score_code == 2, 1, 0)
    return {"up": (up, up_band), "down": (down, down_band)}


def _counterfactuals(cm: CompiledModel, x: np.ndarray, sem: np.ndarray, measured: np.ndarray,
                     utilities: np.ndarray, score: float, score_code: int) -> tuple[Counterfactual, ...]:
    targets = [(direction, float(threshold[0]), int(band[0]))
               for direction, (threshold, band) in _targets(cm, np.array([score_code])).items()
               if not np.isnan(threshold[0])]
    k = len(targets)  # both directions in one vectorized call, one row each
    sems = np.where(measured, sem, cm.sems)
    cf = explanation.counterfactuals(cm, np.repeat(x[None, :], k, 0), np.repeat(utilities[None, :], k, 0),
                                     np.full(k, score), np.array([t[1] for t in targets]),
                                     np.repeat(sems[None, :], k, 0), details=True)
    out = []
    for row, (direction, threshold, band) in enumerate(targets):
        for c, cid in enumerate(cm.criterion_ids):
            j = cm.input_of[c]
            info = cm.inputs[j]
            reachable = bool(cf.reachable[row, c])
            change_sem, change_pct = cf.change_sem[row, c], cf.change_percentile[row, c]
            why = (None, None) if reachable else _why(cm, c, int(cf.why[row, c]), float(cf.new_value[row, c]),
                                                      float(utilities[c]), direction)
            out.append(Counterfactual(
                criterion=cid, input=info.ref, name=info.name, direction=direction, target_band=str(BANDS[band]),
                threshold=threshold, reachable=reachable, value=float(x[j]),
                new_value=float(cf.new_value[row, c]) if reachable else None,
                change=float(cf.change[row, c]) if reachable else None,
                change_sem=float(change_sem) if reachable and np.isfinite(change_sem) else None,
                change_percentile=float(change_pct) if reachable and np.isfinite(change_pct) else None,
                percentile_method=info.percentile_method if reachable else None,
                score_after=float(cf.score_after[row, c]) if reachable else None,
                why=None if reachable else why[0], why_short=None if reachable else why[1],
                imputed=not measured[j], is_trait=info.is_trait,
                note=f"below the minimum of {cm.minimum[c]:g}: a person would review the case whatever the score"
                if reachable and cf.new_value[row, c] < cm.minimum[c] else None,
            ))  # fmt: skip
    return tuple(out)


def _why(cm: CompiledModel, c: int, code: int, new_value: float, utility: float,
         direction: str) -> tuple[str, str]:
    """Why a counterfactual is out of reach: in a sentence, and in a few words."""
    info = cm.inputs[cm.input_of[c]]
    if code == explanation.OUT_OF_RANGE:
        return (f"it would take {new_value:.3g}, outside the possible range {info.low:g}..{info.high:g} of {info.name}",
                f"would need {new_value:.3g}, outside {info.low:g}..{info.high:g}")
    if code == explanation.SATURATED:
        room = cm.coef[c] * ((1.0 - utility) if direction == "up" else utility)
        sign = "+" if direction == "up" else "-"
        return (f"its utility is saturated: any value of {info.name} moves the score by at most {room:.1f} points "
                f"{direction}", f"at most {sign}{room:.1f} points")
    return explanation.WHY[code], explanation.WHY[code]


def _stability(cm: CompiledModel, x: np.ndarray, sem: np.ndarray, measured: np.ndarray, fixed_review: bool,
               score: float, band_code: int, draws: int, seed: int) -> Stability:
    se = float(stability.score_se(cm, x[None, :], sem[None, :], measured[None, :])[0])
    p_same = float(stability.p_same_band(cm, np.array([score]), np.array([se]))[0])
    sim = stability.simulate(cm, x[None, :], sem[None, :], measured[None, :], np.array([fixed_review]),
                             np.array([band_code]), draws=draws, seed=seed)
    p_flip = float(sim.p_flip[0])
    return Stability(se_score=se, p_flip_analytic=1.0 - p_same, p_flip_simulated=p_flip,
                     p_score_flip_simulated=float(sim.p_score_flip[0]), draws=draws, seed=seed,
                     label=stability_label(1.0 - p_flip))


def _bands_between(cm: CompiledModel, lo: float, hi: float) -> tuple[str, ...]:
    bands = []
    if lo < cm.lower:
        bands.append("not_advance")
    if hi >= cm.lower and lo < cm.upper:
        bands.append("review")
    if hi >= cm.upper:
        bands.append("advance")
    return tuple(bands)


def _coverage(cm: CompiledModel, measured: np.ndarray, status: list[str], found: list, score: float) -> Coverage:
    items = []
    lo_total, hi_total = score, score
    for j, info in enumerate(cm.inputs):
        record = found[j]
        source = record.source if record is not None else None
        date = record.date.isoformat() if record is not None else None
        if measured[j]:
            items.append(InputCoverage(info.ref, info.name, "measured", "measured", source=source, date=date))
            continue
        crits = np.flatnonzero(cm.input_of == j)
        handling = "review" if cm.review_if_missing[crits].any() else "imputed"
        detail = record.expiry if status[j] == "expired" else None
        d_lo, d_hi = cm._unknown_deltas[j]
        lo_total += d_lo
        hi_total += d_hi
        items.append(InputCoverage(info.ref, info.name, status[j], handling,
                                   detail=(detail + "; " if detail else "") + f"set to the norm mean {info.mean:.3g}",
                                   plausible=cm.plausible(j), score_range=(score + d_lo, score + d_hi),
                                   source=source, date=date))
    return Coverage(tuple(items), (lo_total, hi_total), _bands_between(cm, lo_total, hi_total))


# Many candidates ---------------------------------------------------------------------------------------------
_AUX = {"raters": ("interview_rating",), "date": None, "expires": ("certification",)}


def _frame_inputs(cm: CompiledModel, frame: pd.DataFrame,
                  as_of: dt.date) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Inputs (n, p), their SEMs, which are measured (present and not expired) and which expired."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"evaluate_many takes a pandas DataFrame, got {type(frame).__name__}")
    allowed: dict[str, tuple[int, str | None]] = {}
    for j, info in enumerate(cm.inputs):
        allowed[info.ref] = (j, None)
        if not info.is_trait:
            for aux, kinds in _AUX.items():
                if kinds is None or info.kind in kinds:
                    allowed[f"{info.ref}.{aux}"] = (j, aux)
    columns = [str(c) for c in frame.columns]
    extra = [c for c in columns if c not in allowed]
    if extra:
        raise undeclared("column", extra, list(allowed), cm.job_model_id)
    n, p = len(frame), len(cm.inputs)
    X = np.full((n, p), np.nan)
    sem = np.broadcast_to(cm.sems, (n, p)).copy()
    expired = np.zeros((n, p), bool)
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
                values = series.to_numpy(dtype=float, na_value=np.nan)
            except (TypeError, ValueError):
                problems.append(f"{column}: values must be numbers (NaN for missing)")
                continue
            given = ~np.isnan(values)
            if info.binary:
                bad(column, given & (values != 0) & (values != 1), "not 0 or 1")
            bad(column, given & ((values < info.low) | (values > info.high)),
                f"outside the input's range {info.low:g}..{info.high:g}")
            X[:, j] = values
        elif aux == "raters":
            k = series.to_numpy(dtype=float, na_value=np.nan)
            bad(column, ~np.isnan(k) & (k < info.spec.min_raters),
                f"with fewer than the {info.spec.min_raters} raters the model requires")
            k = np.where(np.isnan(k), info.spec.min_raters, np.maximum(k, 1))
            sem[:, j] = interview_sem(info.spec, k)
        else:
            dates = pd.to_datetime(series, errors="coerce").to_numpy(dtype="datetime64[D]")
            bad(column, np.isnat(dates) & series.notna().to_numpy(), "not dates")
            days = (np.datetime64(as_of, "D") - dates).astype("timedelta64[D]").astype(float)
            days[np.isnat(dates)] = np.nan
            if aux == "date":
                bad(column, days < 0, f"dated after the evaluation date {as_of.isoformat()}")
                if info.spec.max_age_days is not None:
                    expired[:, j] |= days > info.spec.max_age_days
            else:  # certification expiry: the last valid day
                expired[:, j] |= days > 0
    if problems:
        raise EvidenceError(problems)
    for j, info in enumerate(cm.inputs):
        if info.kind == "certification":  # a certification not held cannot lapse
            expired[:, j] &= X[:, j] == 1
    measured = ~np.isnan(X) & ~expired
    return X, sem, measured, expired


EVALUATION_CHUNK = 16_384  # rows computed together: temporaries stay in the CPU cache


def _output_names(cm: CompiledModel) -> list[str]:
    ids = cm.criterion_ids
    return (["score"] + [f"contribution.{c}" for c in ids] + ["se_score", "p_flip", "score_min", "score_max"]
            + [f"cf_{d}{unit}.{c}" for d in ("up", "down") for unit in ("", "_sem") for c in ids])


def _evaluate_rows(cm: CompiledModel, X: np.ndarray, sem: np.ndarray, measured: np.ndarray, out: np.ndarray,
                   codes: np.ndarray, flags: np.ndarray) -> None:
    """Evaluate a chunk of rows into ``out`` (the float columns of :func:`_output_names`), ``codes``
    (band, score band, stability label) and ``flags`` (in margin, knock-outs, missing under review).

    Sums over the criteria use ``einsum``, not BLAS: the inner dimension is a handful of criteria, and
    OpenBLAS's threads spin-wait on a busy machine (a 16k x 7 product measured 8 ms instead of 0.1 ms).
    """
    C = len(cm.criterion_ids)
    X = np.where(measured, X, cm.means)
    U = cm.utilities_of(X)
    score = np.einsum("ij,j->i", U, cm.coef, out=out[:, 0])
    # the closed form of shap's values (the tests check it against shap.LinearExplainer)
    np.multiply(U - cm.reference_utility, cm.coef, out=out[:, 1 : 1 + C])
    score_code = cm.score_band(score)

    crit_measured = measured[:, cm.input_of]
    knock = crit_measured[:, cm.knock_columns] & (X[:, cm.input_of[cm.knock_columns]] < cm.minimum[cm.knock_columns])
    missing_review = ~crit_measured & cm.review_if_missing
    fixed = (~crit_measured & cm.unchecked_if_missing).any(axis=1) | missing_review.any(axis=1)
    codes[:, 0] = np.where(fixed | knock.any(axis=1), 1, score_code)
    codes[:, 1] = score_code
    flags[:, 0] = ((score >= cm.advance_from) & (score < cm.upper)) | \
        ((score >= cm.lower) & (score < cm.not_advance_below))
    k = len(cm.knock_columns)
    flags[:, 1 : 1 + k] = knock
    flags[:, 1 + k :] = missing_review[:, cm.review_if_missing]

    k = 1 + C
    se = stability.score_se(cm, X, sem, measured)
    out[:, k] = se
    p_same = stability.p_same_band(cm, score, se)
    np.subtract(1.0, p_same, out=out[:, k + 1])
    codes[:, 2] = np.where(p_same >= LABELS[0][0], 0, np.where(p_same >= LABELS[1][0], 1, 2))
    unknown = ~measured
    out[:, k + 2] = score + np.einsum("ij,j->i", unknown, cm._unknown_deltas[:, 0])
    out[:, k + 3] = score + np.einsum("ij,j->i", unknown, cm._unknown_deltas[:, 1])
    k += 4
    for threshold, _band in _targets(cm, score_code).values():
        cf = explanation.counterfactuals(cm, X, U, score, threshold, sem)
        out[:, k : k + C] = cf.change
        out[:, k + C : k + 2 * C] = cf.change_sem
        k += 2 * C


def evaluate_many(cm: CompiledModel, frame: pd.DataFrame, *, as_of: Any = None, simulate: int = 0,
                  seed: int = 0) -> pd.DataFrame:
    """Recommendations for many candidates at once; see :meth:`profiler.jobmodel.JobModel.evaluate_many`."""
    as_of = _as_date(as_of)
    X, sem, measured, expired = _frame_inputs(cm, frame, as_of)
    n = len(frame)
    ids = cm.criterion_ids
    names = _output_names(cm)
    block = np.empty((n, len(names)), order="F")  # columns contiguous: chunks write column segments
    codes = np.empty((n, 3), dtype=np.int8)  # band, score band, stability label
    flag_names = (["in_review_margin"] + [f"knock_out.{ids[c]}" for c in cm.knock_columns]
                  + [f"missing_review.{ids[c]}" for c in np.flatnonzero(cm.review_if_missing)])
    flags = np.empty((n, len(flag_names)), dtype=bool)
    for start in range(0, n, EVALUATION_CHUNK):
        rows = slice(start, min(n, start + EVALUATION_CHUNK))
        _evaluate_rows(cm, X[rows], sem[rows], measured[rows], block[rows], codes[rows], flags[rows])

    result = pd.DataFrame(block, index=frame.index, columns=names, copy=False)
    band_type = pd.CategoricalDtype(list(BANDS))
    result.insert(0, "band", pd.Categorical.from_codes(codes[:, 0], dtype=band_type))
    result.insert(1, "score_band", pd.Categorical.from_codes(codes[:, 1], dtype=band_type))
    labels = pd.CategoricalDtype([label for _, label in LABELS])
    result.insert(result.columns.get_loc("p_flip") + 1, "stability",
                  pd.Categorical.from_codes(codes[:, 2], dtype=labels))
    if simulate:
        crit_measured = measured[:, cm.input_of]
        fixed = (~crit_measured & (cm.unchecked_if_missing | cm.review_if_missing)).any(axis=1)
        sim = stability.simulate(cm, np.where(measured, X, cm.means), sem, measured, fixed, codes[:, 0],
                                 draws=simulate, seed=seed)
        result["p_flip_simulated"] = sim.p_flip
    result["in_review_margin"] = flags[:, 0]
    result["n_missing"] = (~measured & ~expired).sum(axis=1)
    result["n_expired"] = expired.sum(axis=1)
    result["n_imputed"] = (~measured[:, cm.input_of] & ~cm.review_if_missing).sum(axis=1)
    for m, name in enumerate(flag_names[1:], start=1):
        result[name] = flags[:, m]
    result.attrs.update(cm.versions())
    result.attrs.update(base_value=cm.base_value, baseline=cm.baseline, as_of=as_of.isoformat(),
                        thresholds={"advance_at_or_above": cm.upper, "not_advance_below": cm.lower},
                        contributions="closed form phi_i = 100 w_i (u_i(x_i) - u_i(mean_i)) / sum w "
                        "(equal to shap.LinearExplainer's values; checked in the tests)")
    return result


__all__ = ["evaluate", "evaluate_many"]
