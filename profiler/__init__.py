"""profiler: open psychometric profiling and explainable, human-overseen scoring for hiring.

The public API is what ``__all__`` lists; everything else is private and may change.
"""

from profiler._version import __version__
from profiler.errors import (
    DocumentError,
    ErrorDetail,
    ProfilerError,
    QuestionnaireError,
    ResponseError,
    ResponseProblem,
)
from profiler.questionnaire import (
    Questionnaire,
    bundled_questionnaires,
    load_questionnaire,
    parse_questionnaire,
)

__all__ = [
    "DocumentError",
    "ErrorDetail",
    "ProfilerError",
    "Questionnaire",
    "QuestionnaireError",
    "ResponseError",
    "ResponseProblem",
    "__version__",
    "bundled_questionnaires",
    "load_questionnaire",
    "parse_questionnaire",
]
