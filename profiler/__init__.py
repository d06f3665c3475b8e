"""profiler: open psychometric profiling and explainable, human-overseen scoring for hiring.

The public API is what ``__all__`` lists; everything else is private and may change.
"""

from profiler._version import __version__
from profiler.errors import (
    DocumentError,
    ErrorDetail,
    JobModelError,
    ProfilerError,
    QuestionnaireError,
    ResponseError,
    ResponseProblem,
)
from profiler.jobmodel import JobModel, bundled_job_models, load_job_model, parse_job_model
from profiler.questionnaire import (
    Questionnaire,
    bundled_questionnaires,
    load_questionnaire,
    parse_questionnaire,
)

__all__ = [
    "DocumentError",
    "ErrorDetail",
    "JobModel",
    "JobModelError",
    "ProfilerError",
    "Questionnaire",
    "QuestionnaireError",
    "ResponseError",
    "ResponseProblem",
    "__version__",
    "bundled_job_models",
    "bundled_questionnaires",
    "load_job_model",
    "load_questionnaire",
    "parse_job_model",
    "parse_questionnaire",
]
