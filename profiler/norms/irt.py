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
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from profiler.irt.calibration import IRTCalibration, load_irt_calibrations
from profiler.norms.profile import _Z_CRIT, BAND_LEVELS, round_half_up
from profiler.norms.table import NormsError
from profiler.questionnaire.questionnaire import Questionnaire
from profiler.questionnaire.scoring import validate_responses

IRT_MEASURES: tuple[str, ...] = (
    "theta", "se", "z", "T", "percentile", "sten", "stanine",
    "theta_90_low", "theta_90_high", "theta_95_low", "theta_95_high",
    "T_90_low", "T_90_high", "T_95_low", "T_95_high", "n_answered",
)  # fmt: skip


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
    if isinstance(calibrations, str):
        if calibrations != "bundled":
            raise NormsError(f"calibrations={calibrations!r}: give the calibrations or 'bundled'")
        calibrations = load_irt_calibrations(questionnaire.id)
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
        for name, centre, top in (("sten", 5.5, 10), ("stanine", 5.0, 9)):
            values = np.clip(round_half_up(centre + 2.0 * z_filled), 1, top).astype(np.int8)
            measures[name] = pd.arrays.IntegerArray(values, ~finite)
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
