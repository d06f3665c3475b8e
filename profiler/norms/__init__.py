"""Norms and trait profiles: norm tables built from calibration samples, and scores placed against them."""

from profiler.norms.build import attainable_scores, build_norms
from profiler.norms.irt import IRT_MEASURES, expected_scale_score, irt_norm_profiles, irt_trait_profiles
from profiler.norms.loading import bundled_norms, load_norms
from profiler.norms.profile import (
    MEASURES,
    PERCENTILE_METHODS,
    RAW_MEASURES,
    FactorScorer,
    ScaleResult,
    TraitProfile,
    profile_scores,
    profiles_of_answers,
    RawScoreSEM,
    raw_profiles,
    raw_profiles_of_answers,
    trait_profile,
    trait_profiles,
)
from profiler.norms.table import NORMS_FORMAT, NormsError, NormsMismatchError, NormTable, RowRule, ScaleNorm

__all__ = [
    "IRT_MEASURES",
    "MEASURES",
    "NORMS_FORMAT",
    "PERCENTILE_METHODS",
    "RAW_MEASURES",
    "FactorScorer",
    "NormTable",
    "NormsError",
    "NormsMismatchError",
    "RowRule",
    "ScaleNorm",
    "ScaleResult",
    "TraitProfile",
    "attainable_scores",
    "build_norms",
    "expected_scale_score",
    "irt_norm_profiles",
    "irt_trait_profiles",
    "bundled_norms",
    "load_norms",
    "profile_scores",
    "profiles_of_answers",
    "RawScoreSEM",
    "raw_profiles",
    "raw_profiles_of_answers",
    "trait_profile",
    "trait_profiles",
]
