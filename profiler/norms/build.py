"""Building a norm table from a calibration sample of item answers."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from profiler.factors.reliability import _feldt_interval, cronbach_alpha
from profiler.norms.table import NormSampleWarning, NormsError, NormTable, RowRule, SampleDescription, ScaleNorm
from profiler.norms.weighting import weighted_alpha, weighted_mean_sd
from profiler.questionnaire.spec import LikertFormat, YesNoFormat
from profiler.questionnaire.questionnaire import Questionnaire
from profiler.questionnaire.scoring import score_responses, validate_responses

_DECIMALS = 9  # attainable scores and observed scores are matched after rounding to this many decimals
MIN_NORM_N = 200  # EFPA Test Review Model: a norm sample under 200 is inadequate
LOW_RELIABILITY = 0.70  # below it a scale's scores carry too large an error for decisions


def build_norms(
    questionnaire: Questionnaire,
    responses: pd.DataFrame,
    *,
    name: str,
    version: str,
    title: str,
    population: str,
    collected: str,
    sampling: str,
    source: str,
    rows_read: int | None = None,
    rules: Sequence[RowRule] = (),
    descriptives: Mapping[str, float | int | str] | None = None,
    notes: Sequence[str] = (),
    scales: Sequence[str] | None = None,
    invalid: str = "raise",
    weights: pd.Series | np.ndarray | None = None,
) -> NormTable:
    """A norm table from the item answers of a calibration sample.

    Parameters
    ----------
    questionnaire : Questionnaire
        The questionnaire the answers belong to; the table records its id, version and content hash.
    responses : DataFrame
        The norm sample, one row per respondent, one column per item (already cut by the row rules).
    name, version, title, population, collected, sampling, source : str
        Provenance written into the artifact; ``population`` says in words who the sample represents.
    rows_read : int, optional
        Rows of the source data before the row rules (default: ``len(responses)``, no rules).
    rules : sequence of RowRule
        The row rules applied, in order, with the rows each concerned; excluded rows must add up to
        ``rows_read - len(responses)``.
    descriptives : mapping, optional
        Facts describing the sample (median age, share by country, ...).
    notes : sequence of str
        Anything a user of the norms should know.
    scales : sequence of str, optional
        The scales to norm (default: all, in questionnaire order). Each needs 2 or more items, since
        Cronbach's alpha (and so the SEM) is undefined for one item.
    invalid : {"raise", "missing"}
        Passed to :func:`profiler.questionnaire.scoring.validate_responses`.
    weights : Series or array, optional
        A weight per respondent (e.g. :func:`profiler.norms.weighting.rake` to population margins). Means,
        SDs (``survey::svyvar``), alpha (from the weighted covariance matrix) and the distribution's
        percentiles are then weighted (the distribution keeps the respondent counts and adds
        ``weighted_shares``); the Feldt interval uses Kish's effective n. The weighting is described in
        ``descriptives`` by the caller.

    Returns
    -------
    NormTable
        Per scale (in questionnaire order): n, mean and SD (``ddof=1``) of the raw scores; Cronbach's
        alpha of the keyed items with its n and Feldt 95% interval (listwise, via
        :func:`profiler.factors.reliability.cronbach_alpha`); and the count of respondents at each
        attainable raw score among those who answered every item of the scale.
    """
    answers = validate_responses(questionnaire, responses, invalid=invalid)
    scores = score_responses(questionnaire, answers)
    chosen = list(questionnaire.scale_ids if scales is None else scales)
    for scale_id in chosen:
        questionnaire.scale(scale_id)  # KeyError naming an unknown scale
        if len(questionnaire.keys(scale_id)) < 2:
            raise NormsError(
                f"scale {scale_id!r} has one item: Cronbach's alpha, and so the SEM, needs 2 or more; leave it "
                "out with scales=[...]"
            )
    w = None if weights is None else np.asarray(weights, dtype=float)
    if w is not None and (w.shape != (len(responses),) or not np.isfinite(w).all() or (w <= 0).any()):
        raise NormsError(f"weights must be {len(responses)} positive numbers, one per respondent")
    norms = [_scale_norm(questionnaire, scale_id, answers, scores[scale_id], w) for scale_id in chosen]
    n = len(responses)
    rows_read = n if rows_read is None else int(rows_read)
    sample = SampleDescription(
        rows_read=rows_read,
        rows_excluded=rows_read - n,
        n=n,
        rules=list(rules),
        descriptives=dict(descriptives or {}),
    )
    table = NormTable.seal(
        name=name,
        version=version,
        title=title,
        questionnaire=questionnaire.identity(),
        population=population,
        collected=collected,
        sampling=sampling,
        source=source,
        sample=sample,
        scales=norms,
        notes=list(notes),
    )
    _warn_if_weak(name, n, norms)
    return table


def _warn_if_weak(name: str, n: int, norms: list[ScaleNorm]) -> None:
    """Say so when a table is built from too few people or on unreliable scales (the table is still built)."""
    problems = [f"n = {n}, below the minimum of {MIN_NORM_N} (EFPA Test Review Model: inadequate for "
                "norm-referenced interpretation)"] if n < MIN_NORM_N else []
    low = [f"{s.scale} {s.reliability.value:.2f}" for s in norms if s.reliability.value < LOW_RELIABILITY]
    if low:
        problems.append(f"alpha below {LOW_RELIABILITY:.2f} for {', '.join(low)} (large measurement error)")
    if problems:
        refuses = (" profiler norms build refuses a sample under the minimum unless forced, and marks the table"
                   if n < MIN_NORM_N else "")
        warnings.warn(f"norm table {name!r}: {'; '.join(problems)}.{refuses}", NormSampleWarning, stacklevel=3)


def _keyed_items(questionnaire: Questionnaire, scale_id: str, answers: pd.DataFrame) -> pd.DataFrame:
    """The scale's items with reverse-keyed ones turned around (``min + max - x``), in key order."""
    columns = {}
    for keyed in questionnaire.keys(scale_id):
        x = answers[keyed.item]
        if keyed.sign < 0:
            low, high = questionnaire.item_range(keyed.item)
            x = (low + high) - x
        columns[keyed.item] = x
    return pd.DataFrame(columns, index=answers.index)


def _scale_norm(questionnaire: Questionnaire, scale_id: str, answers: pd.DataFrame, raw: pd.Series,
                weights: np.ndarray | None) -> ScaleNorm:
    scored = raw.notna().to_numpy()
    if scored.sum() < 2:
        raise NormsError(f"scale {scale_id!r}: fewer than 2 respondents have a score")
    keyed = _keyed_items(questionnaire, scale_id, answers)
    complete = keyed.notna().all(axis=1).to_numpy()
    # Already keyed, so no item is reversed here; listwise = respondents who answered every item.
    alpha = cronbach_alpha(keyed, missing="listwise")
    value, n_alpha, interval = float(alpha.raw_alpha), int(alpha.n_obs), (float(alpha.ci_lower), float(alpha.ci_upper))
    mean, sd = float(raw[scored].mean()), float(raw[scored].std(ddof=1))
    if weights is not None:
        mean, sd = weighted_mean_sd(raw.to_numpy()[scored], weights[scored])
        w = weights[complete]
        value = weighted_alpha(keyed.to_numpy()[complete], w)
        interval = _feldt_interval(value, w.sum() ** 2 / (w**2).sum(), keyed.shape[1], 0.95)
    if not 0 <= value <= 1:
        raise NormsError(
            f"scale {scale_id!r}: Cronbach's alpha is {value:.3f} in this sample, outside [0, 1]: the "
            "items do not measure one thing here (check the keys); no SEM can be computed"
        )
    return ScaleNorm(
        scale=scale_id,
        n=int(scored.sum()),
        mean=mean,
        sd=sd,
        reliability={"value": value, "n": n_alpha, "ci95": tuple(map(float, interval))},
        distribution=_distribution(questionnaire, scale_id, raw.to_numpy()[complete],
                                   None if weights is None else weights[complete]),
    )


def attainable_scores(questionnaire: Questionnaire, scale_id: str) -> np.ndarray | None:
    """Every raw score a respondent who answers all the scale's items can get, ascending.

    ``None`` when an item takes numbers from a continuous range (there is no finite set).
    """
    keys = questionnaire.keys(scale_id)
    sums = {0.0}
    for keyed in keys:
        fmt = questionnaire.response_format(keyed.item)
        if isinstance(fmt, LikertFormat):
            values = [float(o.value) for o in fmt.options]
        elif isinstance(fmt, YesNoFormat):
            values = [0.0, 1.0]
        else:
            return None
        if keyed.sign < 0:
            low, high = questionnaire.item_range(keyed.item)
            values = [low + high - v for v in values]
        sums = {round(s + v, _DECIMALS) for s in sums for v in values}
    totals = np.array(sorted(sums))
    if questionnaire.scale(scale_id).scoring == "mean":
        totals = totals / len(keys)
    return np.unique(np.round(totals, _DECIMALS))


def _distribution(questionnaire: Questionnaire, scale_id: str, complete_scores: np.ndarray,
                  weights: np.ndarray | None = None) -> dict:
    observed = np.round(complete_scores, _DECIMALS)
    grid = attainable_scores(questionnaire, scale_id)
    if grid is None:
        grid, where = np.unique(observed, return_inverse=True)
    else:
        where = np.searchsorted(grid, observed)
        off_grid = (where >= len(grid)) | (grid[np.minimum(where, len(grid) - 1)] != observed)
        if off_grid.any():  # cannot happen for validated answers; a bug if it does
            raise AssertionError(f"scale {scale_id!r}: scores {observed[off_grid][:5]} are not attainable")
    counts = np.bincount(where, minlength=len(grid))
    out = {"scores": grid.tolist(), "counts": counts.tolist()}
    if weights is not None:
        out["weighted_shares"] = (np.bincount(where, weights=weights, minlength=len(grid)) / weights.sum()).tolist()
    return out
