"""What each scored chunk becomes: trait profiles against a norm group, or raw scale scores (not normed).

A new questionnaire has no norms yet: without them a batch writes raw scale scores only, labelled as such in
every row (``normed``: ``no``), with the SEM of a calibration (a factor model's reliabilities) where one exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import pandas as pd

from profiler.norms import MEASURES, RAW_MEASURES, NormTable, RawScoreSEM, profile_scores, raw_profiles
from profiler.questionnaire import Questionnaire


@dataclass(frozen=True)
class Placement:
    """The scales and measures of the output, what every row says about them, and how scores become them."""

    scales: list[str]
    measures: tuple[str, ...]
    provenance: dict[str, str]
    label: str  # for the run's summary
    place: Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame]  # (scores, answered counts) -> (scale, measure)


def placement(questionnaire: Questionnaire, norms: NormTable | None, calibration: RawScoreSEM | None,
              percentiles: str) -> Placement:
    """Against ``norms``; or, without them, raw scores with the SEM of ``calibration`` (when given; see
    :func:`profiler.pipeline.calibration.raw_score_sem`)."""
    if norms is not None:
        norms.check_applies_to(questionnaire)
        return Placement(norms.scale_ids, MEASURES, {"norm_group": norms.name, "norms_sha256": norms.sha256,
                                                     "percentiles": percentiles}, f"{norms.name} {norms.version}",
                         lambda s, a: profile_scores(s, norms, percentiles=percentiles, answered=a))
    sem = calibration.sem if calibration is not None else {}
    provenance = {"normed": "no", "calibration": calibration.label if calibration else "none",
                  "calibration_sha256": calibration.sha256 if calibration else ""}
    return Placement(list(questionnaire.scale_ids), RAW_MEASURES, provenance, "none (raw scores, not normed)",
                     lambda s, a: raw_profiles(s, a, sem))


__all__ = ["Placement", "placement"]
