"""IRT-scored trait profiles: theta with each person's own SE, normed like raw scores, bands from that SE.

Per scale with an IRT calibration (:mod:`profiler.irt.calibration`) and respondent:

- ``theta`` and ``se``: EAP (default), MAP or ML from the answers given (unanswered items drop out, so a
  respondent who skipped items gets a larger SE rather than a prorated score);
- ``z = (theta - mean) / sd`` against the norm group's theta distribution: by default the calibration
  sample's, N(0, 1) by the model's definition (the shipped IPIP-50 calibration and the ``general`` norms
  come from the same BIG5 sample); ``theta_norms`` places theta against another group's mean and SD
  (e.g. a :class:`profiler.irt.MultiGroupGRM`'s ``latent_``);
- ``T = 50 + 10 z``, ``percentile = 100 * Phi(z)`` (the latent trait is normal under the model),
  ``sten`` and ``stanine`` rounded as in :mod:`profiler.norms.profile`;
- bands ``theta +/- z_c * se`` and ``T +/- z_c * 10 * se / sd`` at 90% and 95%: the person's own
  measurement error, not one SEM for everybody.

:func:`irt_norm_profiles` places IRT scores against a raw-score norm table instead, so that everything that
reads trait profiles (job models, decision stability, reports) takes them unchanged: each calibrated scale's
score is its expected raw score at the person's theta (the test characteristic curve in the scale's own
scoring, the sum or mean of its keyed answers over all of its items; Lord's true score) with its own SEM by the
delta method, ``sem = |dE/dtheta| * se``, so that job models and decision stability use each person's own
measurement error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from profiler.cat.plan import bank_problems
from profiler.irt.calibration import IRTCalibration, IRTCalibrationError, load_irt_calibrations
from profiler.norms.profile import (
    _Z_CRIT,
    BAND_LEVELS,
    INTEGER_MEASURES,
    PercentileMethod,
    integer_measures,
    profile_scores,
)
from profiler.norms.table import NormsError, NormTable
from profiler.questionnaire.questionnaire import Questionnaire
from profiler.irt.scoring import score_responses
from profiler.questionnaire.scoring import score_answers, validate_responses

IRT_MEASURES: tuple[str, ...] = (
    "theta", "se", "z", "T", "percentile", "sten", "stanine",
    "theta_90_low", "theta_90_high", "theta_95_low", "theta_95_high",
    "T_90_low", "T_90_high", "T_95_low", "T_95_high", "n_answered",
)  # fmt: skip


def _calibrations(questionnaire: Questionnaire,
                  calibrations: Mapping[str, IRTCalibration] | str) -> Mapping[str, IRTCalibration]:
    if isinstance(calibrations, str):
        if calibrations != "bundled":
            raise NormsError(f"calibrations={calibrations!r}: give the calibrations or 'bundled'")
        return load_irt_calibrations(questionnaire.id)
    return calibrations


def irt_trait_profiles(
    questionnaire: Questionnaire,
    responses: pd.DataFrame,
    calibrations: Mapping[str, IRTCalibration] | str = "bundled",
    *,
    theta_norms: Mapping[str, tuple[float, float]] | None = None,
    method: str = "EAP",
    invalid: str = "raise",
) -> pd.DataFrame:
    """IRT-scored trait profiles of many respondents: theta, its SE, z, T, percentile, sten, stanine, bands.

    Parameters
    ----------
    questionnaire : Questionnaire
    responses : DataFrame
        Item answers, one row per respondent.
    calibrations : mapping of scale -> IRTCalibration, or "bundled"
        The scales' calibrations (:func:`profiler.irt.load_irt_calibrations`); "bundled" loads the ones
        shipped with the questionnaire.
    theta_norms : mapping of scale -> (mean, sd), optional
        The norm group's theta mean and SD per scale; default (0, 1), the calibration sample.
    method : {"EAP", "MAP", "ML"}
    invalid : {"raise", "allow-unanswered", "missing"}
        What to do with invalid answers and unanswered required items (as for scoring).

    Returns
    -------
    DataFrame
        One row per respondent (same index), columns ``(scale, measure)`` for the calibrated scales in
        the questionnaire's order and :data:`IRT_MEASURES`; ``.attrs`` records the questionnaire, each
        calibration's name, version and sha256, the scoring method and the theta norms.
    """
    calibrations = _calibrations(questionnaire, calibrations)
    scales = [s for s in questionnaire.scale_ids if s in calibrations]
    if not scales:
        raise NormsError(f"none of the calibrations ({', '.join(calibrations)}) is a scale of {questionnaire.id!r}")
    norms = {s: (0.0, 1.0) for s in scales} | dict(theta_norms or {})
    for scale, (_, sd) in norms.items():
        if not sd > 0:
            raise NormsError(f"theta norm of {scale!r}: the SD must be positive, got {sd}")
    answers = validate_responses(questionnaire, responses, invalid=invalid)
    columns: dict[tuple[str, str], Any] = {}
    for scale in scales:
        calibration = calibrations[scale]
        calibration.check_applies_to(questionnaire)
        scored = calibration.score(questionnaire, answers, method)
        theta, se = scored["theta"].to_numpy(), scored["se"].to_numpy()
        mean, sd = norms[scale]
        z = (theta - mean) / sd
        t = 50.0 + 10.0 * z
        finite = np.isfinite(z)
        measures: dict[str, Any] = {"theta": theta, "se": se, "z": z, "T": t, "percentile": 100.0 * special.ndtr(z)}
        z_filled = np.where(finite, z, 0.0)
        for name, values in zip(INTEGER_MEASURES, integer_measures(2.0 * z_filled), strict=True):
            measures[name] = pd.arrays.IntegerArray(values.astype(np.int8), ~finite)
        for level in BAND_LEVELS:
            measures[f"theta_{level}_low"] = theta - _Z_CRIT[level] * se
            measures[f"theta_{level}_high"] = theta + _Z_CRIT[level] * se
        for level in BAND_LEVELS:
            measures[f"T_{level}_low"] = t - 10.0 * _Z_CRIT[level] * se / sd
            measures[f"T_{level}_high"] = t + 10.0 * _Z_CRIT[level] * se / sd
        measures["n_answered"] = scored["n_answered"].to_numpy()
        columns.update({(scale, m): measures[m] for m in IRT_MEASURES})
    frame = pd.DataFrame(columns, index=answers.index, copy=False)
    frame.columns.names = ["scale", "measure"]
    frame.attrs.update(questionnaire.identity())
    frame.attrs["irt_calibrations"] = {s: f"{calibrations[s].name} {calibrations[s].version} ({calibrations[s].sha256})"
                                       for s in scales}
    frame.attrs["scoring"] = f"{method} theta with its own SE per person"
    frame.attrs["theta_norms"] = {s: {"mean": norms[s][0], "sd": norms[s][1]} for s in scales}
    return frame


def expected_scale_score(questionnaire: Questionnaire, calibration: IRTCalibration,
                         theta) -> tuple[np.ndarray, np.ndarray]:
    """A calibrated scale's expected raw score at each theta, in the questionnaire's scoring, and its derivative.

    The expected keyed answer of every item of the scale (a reverse-keyed answer ``x`` counts as
    ``min + max - x``, as when scoring), summed, or averaged for a scale scored by the mean: the test
    characteristic curve on the raw-score scale. Returns two arrays like ``theta``.
    """
    bank = calibration.bank()
    keys = {k.item: k.sign for k in questionnaire.keys(calibration.scale)}
    values = []
    for item, answers in zip(bank.items, bank.categories, strict=True):
        low, high = questionnaire.item_range(item)
        values.append(answers if keys[item] > 0 else low + high - answers)
    expected, slope = bank.expected_value(theta, values)
    if questionnaire.scale(calibration.scale).scoring == "mean":
        expected, slope = expected / len(values), slope / len(values)
    return expected, slope


def _check_calibration(questionnaire: Questionnaire, calibration: IRTCalibration) -> None:
    """The calibration must be of this content, or of items identical to this questionnaire's (an adaptive
    version of the calibrated questionnaire: same items, keys, texts and options)."""
    if calibration.questionnaire["content_hash"] == questionnaire.content_hash:
        return
    problems = bank_problems(questionnaire, calibration.scale, calibration)
    if problems:
        raise IRTCalibrationError(f"IRT calibration {calibration.name!r} ({calibration.scale}) does not apply to "
                                  f"{questionnaire.id} {questionnaire.version}: {problems[0][1]}")


def irt_norm_profiles(
    questionnaire: Questionnaire,
    responses: pd.DataFrame,
    norms: NormTable,
    calibrations: Mapping[str, IRTCalibration] | str = "bundled",
    *,
    method: str = "EAP",
    percentiles: PercentileMethod = "empirical",
    invalid: str = "raise",
) -> pd.DataFrame:
    """Trait profiles against a raw-score norm table with the calibrated scales IRT-scored (each person's SE).

    For every scale of ``norms`` with a calibration: theta and its SE (``method``; unanswered items drop
    out), the expected raw score at theta (:func:`expected_scale_score`) as the score placed against the norm
    group, and ``sem = |dE/dtheta| * se`` as its SEM, so the bands, a job model's inputs and decision stability
    carry the person's own measurement error. Scales without a calibration are scored as
    :func:`profiler.norms.trait_profiles` scores them. A calibrated scale with no answered item has no score.

    Parameters
    ----------
    questionnaire : Questionnaire
    responses : DataFrame
        Item answers, one row per respondent (an adaptive session's: only the items it gave).
    norms : NormTable
        Built for this questionnaire's content hash.
    calibrations : mapping of scale -> IRTCalibration, or "bundled"
        Each made for this questionnaire's content, or for items identical to its own (an adaptive version).
    method : {"EAP", "MAP", "ML"}
    percentiles : {"empirical", "normal"}
    invalid : {"raise", "allow-unanswered", "missing"}

    Returns
    -------
    DataFrame
        As :func:`profiler.norms.trait_profiles` (``raw`` is the expected raw score of the IRT-scored scales),
        plus ``(scale, "theta")`` and ``(scale, "theta_se")`` for them; ``.attrs["irt_calibrations"]`` and
        ``.attrs["scoring"]`` say which scales were IRT-scored and how.
    """
    norms.check_applies_to(questionnaire)
    calibrations = _calibrations(questionnaire, calibrations)
    scales = [s for s in norms.scale_ids if s in calibrations]
    if not scales:
        raise NormsError(f"none of the calibrations ({', '.join(calibrations)}) is a scale of norm group "
                         f"{norms.name!r}")
    answers = validate_responses(questionnaire, responses, invalid=invalid)
    scores, answered = score_answers(questionnaire, answers)
    scores = scores.copy()
    own_sem = pd.DataFrame(index=scores.index)
    thetas = {}
    for scale in scales:
        calibration = calibrations[scale]
        _check_calibration(questionnaire, calibration)
        scored = score_responses(calibration.bank(), answers[[i["id"] for i in calibration.items]], method)
        theta, se = scored["theta"].to_numpy(), scored["se"].to_numpy()
        expected, slope = expected_scale_score(questionnaire, calibration, theta)
        none = scored["n_answered"].to_numpy() == 0
        scores[scale] = np.where(none, np.nan, expected)
        own_sem[scale] = np.where(none, np.nan, np.abs(slope) * se)
        thetas[scale] = (np.where(none, np.nan, theta), np.where(none, np.nan, se))
    frame = profile_scores(scores, norms, percentiles=percentiles, answered=answered, sem=own_sem)
    for scale, (theta, se) in thetas.items():
        frame[(scale, "theta")] = theta
        frame[(scale, "theta_se")] = se
    attrs = dict(frame.attrs)
    frame = frame[[c for s in dict.fromkeys(frame.columns.get_level_values(0)) for c in frame.columns if c[0] == s]]
    frame.attrs = attrs
    frame.attrs["irt_calibrations"] = {s: f"{calibrations[s].name} {calibrations[s].version} ({calibrations[s].sha256})"
                                       for s in scales}
    frame.attrs["scoring"] = (f"IRT ({method} theta) for {', '.join(scales)}: the expected raw score at theta, its "
                              "SEM |dE/dtheta| x SE of theta, each person's own")
    return frame
