"""The exceptions profiler raises for a user's mistake, in one place.

Every error a user can cause (a malformed file, an out-of-range answer, an unknown column) is a
:class:`ProfilerError`; anything else that escapes is a bug in profiler. Errors in YAML documents carry
one :class:`ErrorDetail` per problem, each located by file, line and column, so that ``str(error)``
reads like a compiler's output::

    ipip-bfm-50.yaml:112:7: scale 'Extraversion' names item 'E11', which does not exist (did you mean 'E1'?)

The whole hierarchy (every class is exported from :mod:`profiler`; those not defined here live beside the
code that raises them, so that each concept stays in one module):

- :class:`ProfilerError`
  - :class:`DocumentError` (ValueError): :class:`QuestionnaireError`, :class:`JobModelError` — located YAML problems
  - :class:`ResponseError` (ValueError) — answers that do not fit the questionnaire, by row and item
  - :class:`ValidityError` (ValueError) — input the response-validity checks cannot use
  - ``JsonValueError`` — :mod:`profiler.canonical` (a value with no canonical JSON form)
  - ``ResourceError`` (LookupError) — :mod:`profiler.resources` (a ``PROFILER_PATH`` folder that does not exist, an id
    defined in two places)
  - ``StoreError`` > ``StoredRecordError`` — :mod:`profiler.store` (missing, corrupt, foreign or newer database;
    a stored record of a newer schema version or that does not fit its type)
  - ``AuditLogError`` — :mod:`profiler.store.audit_log`; ``AnchorError`` — :mod:`profiler.store.anchoring` (a
    signing or trusted key that cannot be used, a checkpoint that cannot be written or read)
  - ``AnswerError``, ``SessionError`` > ``SessionExpiredError`` — :mod:`profiler.administration.errors`
  - ``FactorModelError`` — :mod:`profiler.factors.calibration`; ``ModelSyntaxError``, ``ModelSpecificationError``,
    ``CFADataError``, ``PolychoricError`` — :mod:`profiler.factors`
  - ``IRTDataError`` (responses an IRT model cannot use), ``IRTCalibrationError`` (an IRT calibration artifact
    that cannot be used) — :mod:`profiler.irt`
  - ``CATError`` (ValueError; adaptive-testing rules or an item bank that cannot be used) — :mod:`profiler.cat`
  - ``NormsError`` > ``NormsMismatchError`` — :mod:`profiler.norms.table`
  - ``JobModelInputError`` > ``UndeclaredInputError``, ``EvidenceError`` — :mod:`profiler.jobmodel.evidence`
  - ``FairnessInputError`` — :mod:`profiler.fairness` (outcomes, groups or answers a fairness analysis cannot use)
  - ``ReviewError``, ``ControlError``, ``ModelStoppedError``, ``CandidateError`` > ``ErasureBlockedError`` —
    :mod:`profiler.oversight`
  - ``AssessmentError``, ``BatchError``, ``ReportError``, ``FairnessAuditError``, ``SampleFileError``,
    ``NormBuildError``, ``CalibrationError`` — :mod:`profiler.pipeline`
  - ``IntegrationError`` (ValueError; ``.field`` names the field at fault) > ``InvitationError`` (a link that
    opens nothing), ``StaffError`` (an account, organisation or session request refused) > ``SignInRefused``
    (a provider's sign-in that names nobody of the organisation), ``OidcError`` (an OpenID Connect provider
    that cannot be used), ``IdTokenError`` (an ID token refused; ``.code`` says which check) —
    :mod:`profiler.integration`

Warnings (``UserWarning`` subclasses) say that a result deserves a second look without being wrong:
``HeywoodWarning``, ``MissingDataWarning``, ``CFAWarning`` > ``InadmissibleSolutionWarning``,
``CFAConvergenceWarning``, ``DominantCriterionWarning``, ``OrdinalConvergenceWarning``, ``LoadingSignWarning``,
``NormSampleWarning`` (a norm table from under 200 people or on scales with alpha under .70).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ProfilerError(Exception):
    """Base class of every error caused by input that profiler was given."""


class SettingError(ProfilerError, ValueError):
    """An environment variable that profiler reads holds a value it does not know (the message names both)."""


@dataclass(frozen=True)
class ErrorDetail:
    """One problem in a document, located where the author can find it.

    Attributes
    ----------
    file : str
        Name of the file (or ``"<string>"``) the document came from.
    line, column : int
        1-based position of the offending YAML node (0 when the whole document is concerned).
    path : str
        Dotted path of the node inside the document, e.g. ``items[3].text.en``.
    message : str
        Plain-language description of the problem.
    severity : str
        ``"error"``, ``"warning"``, or ``"hint"`` (one cause that explains several of the errors).
    code : str
        A warning's stable code (``"short-scale"``), by which an author can silence it; empty for errors.
    """

    file: str
    line: int
    column: int
    path: str
    message: str
    severity: str = "error"
    code: str = ""

    def __str__(self) -> str:
        prefix = f"{self.file}:{self.line}:{self.column}: "
        label = f"{self.severity}: " if self.severity in ("warning", "hint") else ""
        code = f" [{self.code}]" if self.code else ""
        return f"{prefix}{label}{self.message}{code}"


class DocumentError(ProfilerError, ValueError):
    """A YAML document (questionnaire, job model) that cannot be loaded; lists every problem found."""

    def __init__(self, errors: list[ErrorDetail]):
        self.errors = list(errors)
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)


class QuestionnaireError(DocumentError):
    """A questionnaire file with one or more problems; ``.errors`` holds them, located by line and column."""


class JobModelError(DocumentError):
    """A job-model file with one or more problems; ``.errors`` holds them, located by line and column."""


class ValidityError(ProfilerError, ValueError):
    """Input the response-validity checks cannot use: a calibration for other items, unknown timing columns..."""


@dataclass(frozen=True)
class ResponseProblem:
    """One invalid cell in a table of responses: its row (label and 0-based position), item and value.

    A problem with a whole column (an unknown or missing item) has ``position`` -1 and ``row`` None.
    """

    row: Any
    position: int
    item: str
    value: Any
    message: str

    def __str__(self) -> str:
        if self.position < 0:  # a whole column
            return f"column {self.item!r}: {self.message}"
        where = f"row {self.position}" if self.row == self.position else f"row {self.position} ({self.row!r})"
        return f"{where}, item {self.item!r}: {self.message}"


class ResponseError(ProfilerError, ValueError):
    """Responses that do not fit the questionnaire (out-of-range answers, unknown items, missing required items).

    ``.problems`` lists the offending cells (at most ``shown`` are spelled out in the message).
    """

    def __init__(self, problems: list[ResponseProblem], total: int | None = None, shown: int = 20):
        self.problems = list(problems)
        self.total = total if total is not None else len(self.problems)
        lines = [str(problem) for problem in self.problems[:shown]]
        if self.total > len(lines):
            lines.append(f"... and {self.total - len(lines)} more")
        super().__init__("invalid responses:\n" + "\n".join(lines))
