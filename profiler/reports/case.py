"""What a candidate's reports are made of: the recorded case (:mod:`profiler.pipeline.case`), re-exported here
with the plain-data converters the reports have always offered."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from profiler.jobmodel.recommendation import Recommendation
from profiler.norms.profile import TraitProfile
from profiler.pipeline.case import (
    CandidateCase,
    ContestRecord,
    DecisionRecord,
    NormGroup,
    ReviewStatus,
    ValidityFindings,
)


def recommendation_from_dict(data: Mapping[str, Any]) -> Recommendation:
    """:meth:`Recommendation.from_dict <profiler.jobmodel.Recommendation.from_dict>` (kept for this name)."""
    return Recommendation.from_dict(data)


def profile_to_dict(profile: TraitProfile) -> dict[str, Any]:
    """:meth:`TraitProfile.to_dict <profiler.norms.TraitProfile.to_dict>` (kept for this name)."""
    return profile.to_dict()


def profile_from_dict(data: Mapping[str, Any]) -> TraitProfile:
    """:meth:`TraitProfile.from_dict <profiler.norms.TraitProfile.from_dict>` (kept for this name)."""
    return TraitProfile.from_dict(data)


__all__ = [
    "CandidateCase",
    "ContestRecord",
    "DecisionRecord",
    "NormGroup",
    "ReviewStatus",
    "ValidityFindings",
    "profile_from_dict",
    "profile_to_dict",
    "recommendation_from_dict",
]
