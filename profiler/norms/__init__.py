"""Norms and trait profiles: norm tables built from calibration samples, and scores placed against them.

Names load on first use (the package is imported by the command line, which needs few of them).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {  # public name -> module that defines it
    "attainable_scores": "profiler.norms.build",
    "build_norms": "profiler.norms.build",
    "IRT_MEASURES": "profiler.norms.irt",
    "expected_scale_score": "profiler.norms.irt",
    "irt_norm_profiles": "profiler.norms.irt",
    "irt_trait_profiles": "profiler.norms.irt",
    "bundled_norms": "profiler.norms.loading",
    "load_norms": "profiler.norms.loading",
    "MEASURES": "profiler.norms.profile",
    "PERCENTILE_METHODS": "profiler.norms.profile",
    "RAW_MEASURES": "profiler.norms.profile",
    "FactorScorer": "profiler.norms.profile",
    "ScaleResult": "profiler.norms.profile",
    "TraitProfile": "profiler.norms.profile",
    "profile_scores": "profiler.norms.profile",
    "profiles_of_answers": "profiler.norms.profile",
    "RawScoreSEM": "profiler.norms.profile",
    "raw_profiles": "profiler.norms.profile",
    "raw_profiles_of_answers": "profiler.norms.profile",
    "trait_profile": "profiler.norms.profile",
    "trait_profiles": "profiler.norms.profile",
    "NORMS_FORMAT": "profiler.norms.table",
    "NormSampleWarning": "profiler.norms.table",
    "NormsError": "profiler.norms.table",
    "NormsMismatchError": "profiler.norms.table",
    "NormTable": "profiler.norms.table",
    "RowRule": "profiler.norms.table",
    "ScaleNorm": "profiler.norms.table",
}

__all__ = [
    "IRT_MEASURES",
    "MEASURES",
    "NORMS_FORMAT",
    "PERCENTILE_METHODS",
    "RAW_MEASURES",
    "FactorScorer",
    "NormSampleWarning",
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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'profiler.norms' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
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
    from profiler.norms.table import (
        NORMS_FORMAT,
        NormSampleWarning,
        NormsError,
        NormsMismatchError,
        NormTable,
        RowRule,
        ScaleNorm,
    )
