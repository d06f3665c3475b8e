"""Pieces the reports share: band words, thresholds, version rows, the trait-profile rows."""

from __future__ import annotations

import math
from typing import Any

from profiler.jobmodel.recommendation import BAND_WORDS, Recommendation
from profiler.reports import _charts
from profiler.reports.case import CandidateCase

BAND_CLASS = {"advance": "advance", "review": "review", "not_advance": "not-advance"}


def thresholds(values: dict[str, float]) -> dict[str, float]:
    """The score thresholds in force: ``not_advance_below`` and ``advance_at_or_above`` (review margins applied).

    A recommendation records the job model's ``not_advance_below`` and, with a review margin, the score
    below which the band is not advance as ``not_advance_below_score``; that one is in force.
    """
    lower = values.get("not_advance_below_score", values["not_advance_below"])
    return {"not_advance_below": float(lower), "advance_at_or_above": float(values["advance_at_or_above"])}


def band_words(band: str) -> str:
    return BAND_WORDS.get(band, band.replace("_", " "))


def decision_words(d: Any) -> str:
    """What a reviewer did, in words: ``overrode the recommendation (advance): not advance``."""
    if d.decision == "accept":
        return f"accepted the recommendation: {band_words(d.result)}"
    if d.decision == "do_not_use":
        return "set the recommendation aside: do not use"
    if d.band == "review":
        return f"chose the outcome: {band_words(d.result)} (the recommendation left it to a person)"
    return f"overrode the recommendation ({band_words(d.band)}): {band_words(d.result)}"


def versions(rec: Recommendation) -> list[dict[str, str]]:
    """Rows ``what, id, version, hash`` of the questionnaire, norms and job model that produced ``rec``."""
    v = rec.versions
    return [
        {"what": "Job model", "id": v.get("job_model_id", ""), "version": v.get("job_model_version", ""),
         "hash": v.get("job_model_hash", "")},
        {"what": "Questionnaire", "id": v.get("questionnaire_id", ""), "version": v.get("questionnaire_version", ""),
         "hash": v.get("content_hash", "")},
        {"what": "Norm group", "id": v.get("norm_group", ""), "version": v.get("norm_version", ""),
         "hash": v.get("norms_sha256", "")},
    ]


def sten_position(t_score: float) -> float:
    """The unrounded sten of a T score: 5.5 + 2 z = 5.5 + (T - 50) / 5."""
    return 5.5 + (t_score - 50.0) / 5.0


def profile_rows(case: CandidateCase, *, chart_prefix: str = "sten") -> list[dict[str, Any]]:
    """One row per scale: names, both poles, the sten with its 90% band drawn, and its use in the model."""
    if case.profile is None:
        return []
    used: dict[str, list[tuple[str, float]]] = {}
    for c in case.recommendation.contributions:
        if c.input.startswith("trait."):
            used.setdefault(c.input[len("trait."):], []).append((c.criterion, c.weight_share))
    rows = []
    for k, s in enumerate(case.profile.scales):
        scored = not math.isnan(s.T)
        position = sten_position(s.T) if scored else None
        low, high = (sten_position(s.band_90_T[0]), sten_position(s.band_90_T[1])) if scored else (None, None)
        label = (f"{s.name}: sten {s.sten} of 10, 90% band from {low:.1f} to {high:.1f}" if scored
                 else f"{s.name}: no score")
        rows.append({
            "scale": s.scale, "name": s.name, "low": s.low, "high": s.high, "scored": scored, "raw": s.raw,
            "T": s.T, "percentile": s.percentile, "sten": s.sten, "sem": s.sem, "band_T": s.band_90_T,
            "band_raw": s.band_90_raw, "band_sten": (low, high), "reading": s.reading,
            "used": used.get(s.scale, []),
            "chart": _charts.sten_strip(f"{chart_prefix}-{k + 1}", position, low, high, label=label),
        })
    return rows


__all__ = ["BAND_CLASS", "band_words", "decision_words", "profile_rows", "sten_position", "thresholds", "versions"]
