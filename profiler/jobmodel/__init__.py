"""Transparent job models: written weights over trait scales and skill evidence, with decision bands."""

from profiler.jobmodel.checks import DominantCriterionWarning
from profiler.jobmodel.contributions import batch_explanation
from profiler.jobmodel.evidence import (
    CertificationRecord,
    EducationRecord,
    EvidenceError,
    ExperienceRecord,
    InterviewRecord,
    JobModelInputError,
    RaterAgreement,
    TestScoreRecord,
    UndeclaredInputError,
)
from profiler.jobmodel.jobmodel import JobModel
from profiler.jobmodel.loader import bundled_job_models, load_job_model, parse_job_model
from profiler.jobmodel.reference import ReferencePoint
from profiler.jobmodel.spec import JobModelSpec
from profiler.jobmodel.recommendation import (
    Contribution,
    Counterfactual,
    Coverage,
    InputCoverage,
    Reason,
    Recommendation,
    Stability,
)

__all__ = [
    "CertificationRecord",
    "Contribution",
    "Counterfactual",
    "Coverage",
    "DominantCriterionWarning",
    "EducationRecord",
    "EvidenceError",
    "ExperienceRecord",
    "InputCoverage",
    "InterviewRecord",
    "JobModel",
    "JobModelInputError",
    "JobModelSpec",
    "RaterAgreement",
    "Reason",
    "ReferencePoint",
    "Recommendation",
    "Stability",
    "TestScoreRecord",
    "UndeclaredInputError",
    "batch_explanation",
    "bundled_job_models",
    "load_job_model",
    "parse_job_model",
]
