"""Skill evidence: typed, validated records of what a candidate showed, checked against the job model.

One record per declared evidence item, of the kind the job model declares for it:

=====================  ==========================  ========================================================
kind                   record                      value used by the model
=====================  ==========================  ========================================================
``test_score``         :class:`TestScoreRecord`    ``score`` (within the declared ``min``..``max``)
``interview_rating``   :class:`InterviewRecord`    mean of ``ratings`` (one per rater, 1-5; >= min_raters)
``certification``      :class:`CertificationRecord`  1 if ``held`` else 0; lapses after ``expires``
``experience``         :class:`ExperienceRecord`   ``years`` (0..declared ``max``)
``education``          :class:`EducationRecord`    1 if ``met`` else 0
=====================  ==========================  ========================================================

Every record names its ``source`` (who or what produced it) and its ``date``. Records are pydantic
models with ``extra="forbid"``; plain mappings are accepted too (the kind is taken from the model).

Data minimisation: only evidence the job model declares is accepted. Anything else is refused with
:class:`UndeclaredInputError`, naming the field, before anything is computed or stored.

Expiry: on the evaluation date, a record older than the item's ``max_age_days``, or a certification past
its ``expires`` date, is *expired*: the evaluation treats it as missing under the criterion's policy and
the coverage report says so.

Measurement error (standard error of measurement, SEM, in the input's units):

- test score: ``SD * sqrt(1 - reliability)`` with the declared norm SD and reliability;
- interview: the mean of ``k`` raters has reliability ``k r / (1 + (k - 1) r)`` (Spearman-Brown, ``r`` the
  declared single-rater ICC ``interrater_reliability``), SEM ``SD * sqrt(1 - that)`` with the declared
  norm SD taken as the SD of the combined rating;
- certification, education, experience: recorded facts, SEM 0.

Agreement of the raters of one interview (``k >= 2``) is reported as ``r_wg = 1 - s^2 / sigma_EU^2``
(James, Demaree & Wolf, 1984): ``s^2`` the variance of the ratings (n - 1 denominator), ``sigma_EU^2 =
(A^2 - 1) / 12 = 2`` the variance of uniformly random ratings on the A = 5 points; set to 0 when the raters
disagree more than random ratings would (the usual truncation).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictBool, TypeAdapter, ValidationError

from profiler.errors import ProfilerError
from profiler.jobmodel.spec import (
    CertificationEvidence,
    EducationEvidence,
    ExperienceEvidence,
    InterviewEvidence,
    TestScoreEvidence,
)

RATING_POINTS = 5
UNIFORM_NULL_VARIANCE = (RATING_POINTS**2 - 1) / 12.0  # sigma_EU^2 of r_wg on a 5-point scale


# Errors ------------------------------------------------------------------------------------------------
class JobModelInputError(ProfilerError, ValueError):
    """Inputs that a job model cannot evaluate; ``.problems`` lists each one in plain words."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class UndeclaredInputError(JobModelInputError):
    """An input the job model does not declare (data minimisation); ``.fields`` names each one."""

    def __init__(self, fields: list[str], problems: list[str]):
        self.fields = list(fields)
        super().__init__(problems)


class EvidenceError(JobModelInputError):
    """Evidence that does not fit its declaration: wrong kind, out of range, too few raters, dated later."""


# Records --------------------------------------------------------------------------------------------------
Source = Annotated[str, Field(min_length=1, description="Who or what produced the evidence.")]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Source
    date: dt.date = Field(description="When the evidence was produced (the test taken, the interview held, ...).")


class TestScoreRecord(_Record):
    """A test or work-sample score on the test's own scale."""

    __test__: ClassVar[bool] = False  # not a pytest test class
    kind: Literal["test_score"] = "test_score"
    score: float = Field(allow_inf_nan=False)


class InterviewRecord(_Record):
    """Structured-interview ratings of one competency: one rating 1-5 per rater (rater ids pseudonymous)."""

    kind: Literal["interview_rating"] = "interview_rating"
    ratings: dict[Annotated[str, Field(min_length=1)], Annotated[int, Field(ge=1, le=RATING_POINTS)]] = Field(
        min_length=1
    )


class CertificationRecord(_Record):
    """A certification held or not; ``expires`` is the last day it is valid."""

    kind: Literal["certification"] = "certification"
    held: StrictBool
    expires: dt.date | None = None


class ExperienceRecord(_Record):
    """Years of relevant experience."""

    kind: Literal["experience"] = "experience"
    years: float = Field(ge=0, allow_inf_nan=False)


class EducationRecord(_Record):
    """Whether the education requirement is met."""

    kind: Literal["education"] = "education"
    met: StrictBool


EvidenceRecord = Annotated[
    TestScoreRecord | InterviewRecord | CertificationRecord | ExperienceRecord | EducationRecord,
    Field(discriminator="kind"),
]
_RECORD_ADAPTER: TypeAdapter = TypeAdapter(EvidenceRecord)
RECORD_TYPES: dict[str, type[_Record]] = {
    "test_score": TestScoreRecord,
    "interview_rating": InterviewRecord,
    "certification": CertificationRecord,
    "experience": ExperienceRecord,
    "education": EducationRecord,
}


# Agreement and resolved evidence ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RaterAgreement:
    """Agreement and reliability of one interview's combined rating.

    ``r_wg`` is None for a single rater. ``reliability`` is the Spearman-Brown reliability of the mean of
    ``n_raters`` ratings from the declared single-rater ICC; ``sem`` follows from it and the norm SD.
    """

    evidence: str
    n_raters: int
    ratings: tuple[int, ...]
    mean: float
    r_wg: float | None
    icc_single: float
    reliability: float
    sem: float

    @property
    def reading(self) -> str:
        if self.r_wg is None:
            return "one rater: agreement cannot be assessed"
        level = "strong" if self.r_wg >= 0.9 else "moderate" if self.r_wg >= 0.7 else "weak"
        return f"{level} agreement between {self.n_raters} raters (r_wg = {self.r_wg:.2f})"


def r_wg(ratings: list[int] | tuple[int, ...]) -> float | None:
    """Within-group agreement against a uniform null on a 5-point scale (None for fewer than 2 ratings)."""
    k = len(ratings)
    if k < 2:
        return None
    mean = sum(ratings) / k
    variance = sum((r - mean) ** 2 for r in ratings) / (k - 1)
    return max(0.0, 1.0 - variance / UNIFORM_NULL_VARIANCE)


def spearman_brown(reliability: float, k: float) -> float:
    """Reliability of the mean of ``k`` parallel measurements, each of reliability ``reliability``."""
    return k * reliability / (1.0 + (k - 1.0) * reliability)


def interview_sem(spec: InterviewEvidence, k: Any) -> Any:
    """SEM of the mean of ``k`` raters' ratings (Spearman-Brown from the declared single-rater ICC);
    ``k`` may be an array."""
    return spec.norm.sd * np.sqrt(1.0 - spearman_brown(spec.interrater_reliability, k))


@dataclass(frozen=True)
class ResolvedEvidence:
    """One piece of evidence as the evaluation uses it: a number, its SEM, and whether it is still valid."""

    id: str
    kind: str
    value: float
    sem: float
    sem_source: str
    source: str
    date: dt.date
    expired: bool
    expiry: str | None
    agreement: RaterAgreement | None = None


def evidence_sem(spec: Any, k: float | None = None) -> tuple[float, str]:
    """Default SEM of an evidence item in its own units, and where it comes from in words."""
    if isinstance(spec, TestScoreEvidence):
        sem = spec.norm.sd * math.sqrt(1.0 - spec.reliability)
        return sem, f"SD {spec.norm.sd:g} x sqrt(1 - reliability {spec.reliability:g})"
    if isinstance(spec, InterviewEvidence):
        k = spec.min_raters if k is None else k
        rel = spearman_brown(spec.interrater_reliability, k)
        return float(interview_sem(spec, k)), (
            f"SD {spec.norm.sd:g} x sqrt(1 - {rel:.3f}); Spearman-Brown for {k:g} rater(s) from single-rater "
            f"ICC {spec.interrater_reliability:g}"
        )
    return 0.0, "a recorded fact: no measurement error"


def _check_value(spec: Any, record: Any, where: str, problems: list[str]) -> None:
    if isinstance(spec, TestScoreEvidence):
        if not spec.min <= record.score <= spec.max:
            problems.append(f"{where}.score: {record.score:g} is outside the test's range {spec.min:g}..{spec.max:g}")
    elif isinstance(spec, InterviewEvidence):
        if len(record.ratings) < spec.min_raters:
            problems.append(f"{where}.ratings: {len(record.ratings)} rater(s), but the model requires at least "
                            f"{spec.min_raters} for {spec.name!r}")
    elif isinstance(spec, ExperienceEvidence):
        if record.years > spec.max:
            problems.append(f"{where}.years: {record.years:g} exceeds the declared maximum {spec.max:g}")


def _value_of(spec: Any, record: Any) -> float:
    if isinstance(spec, TestScoreEvidence):
        return float(record.score)
    if isinstance(spec, InterviewEvidence):
        return sum(record.ratings.values()) / len(record.ratings)
    if isinstance(spec, CertificationEvidence):
        return 1.0 if record.held else 0.0
    if isinstance(spec, ExperienceEvidence):
        return float(record.years)
    if isinstance(spec, EducationEvidence):
        return 1.0 if record.met else 0.0
    raise TypeError(f"unknown evidence declaration {spec!r}")


def _expiry(spec: Any, record: Any, as_of: dt.date) -> str | None:
    """Why the record no longer counts on ``as_of`` (None while it does)."""
    age = (as_of - record.date).days
    if spec.max_age_days is not None and age > spec.max_age_days:
        return (f"dated {record.date.isoformat()}, {age} days before {as_of.isoformat()}: older than the "
                f"{spec.max_age_days} days the model accepts")
    if isinstance(record, CertificationRecord) and record.held and record.expires is not None:
        if record.expires < as_of:
            return f"certification expired on {record.expires.isoformat()}"
    return None


def _pydantic_problems(exc: ValidationError, where: str) -> list[str]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = ".".join(str(part) for part in error["loc"] if part not in RECORD_TYPES)
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "not a field of this kind of evidence (only declared fields are accepted)"
        problems.append(f"{where}{'.' + loc if loc else ''}: {message}")
    return problems


def undeclared(kind: str, names: list[str], declared: list[str], model_id: str) -> UndeclaredInputError:
    """The data-minimisation error for inputs a job model does not declare."""
    from profiler.documents import did_you_mean

    problems = [
        f"{kind} {name!r} is not declared by job model {model_id!r}{did_you_mean(name, declared)}: profiler "
        f"accepts only the inputs a job model uses (data minimisation); declared: {', '.join(declared) or 'none'}"
        for name in names
    ]
    return UndeclaredInputError(names, problems)


def resolve_evidence(
    specs: Mapping[str, Any], evidence: Mapping[str, Any] | None, as_of: dt.date, model_id: str = "?"
) -> dict[str, ResolvedEvidence]:
    """Validate evidence against its declarations and resolve each record to a value and SEM.

    Parameters
    ----------
    specs : mapping
        Declared evidence by id (``JobModel.evidence_specs``).
    evidence : mapping, optional
        Evidence id -> record (one of the ``*Record`` classes) or a plain mapping of its fields.
    as_of : date
        The evaluation date: records dated later are refused; older ones may be expired.

    Raises
    ------
    UndeclaredInputError
        Evidence ids the model does not declare (nothing is evaluated).
    EvidenceError
        Every other problem, all at once: wrong kind, unknown fields, out-of-range values, too few raters,
        records dated after ``as_of``.
    """
    evidence = dict(evidence or {})
    extra = [str(k) for k in evidence if k not in specs]
    if extra:
        raise undeclared("evidence", extra, list(specs), model_id)
    problems: list[str] = []
    resolved: dict[str, ResolvedEvidence] = {}
    for eid, given in evidence.items():
        spec = specs[eid]
        where = f"evidence.{eid}"
        if isinstance(given, BaseModel):
            record = given
        elif isinstance(given, Mapping):
            data = dict(given)
            data.setdefault("kind", spec.kind)
            try:
                record = _RECORD_ADAPTER.validate_python(data)
            except ValidationError as exc:
                problems += _pydantic_problems(exc, where)
                continue
        else:
            problems.append(f"{where}: expected a {RECORD_TYPES[spec.kind].__name__} or a mapping of its fields, "
                            f"got {type(given).__name__}")
            continue
        if getattr(record, "kind", None) != spec.kind:
            problems.append(f"{where}: the model declares {spec.name!r} as {spec.kind}, got a "
                            f"{getattr(record, 'kind', type(record).__name__)} record")
            continue
        before = len(problems)
        _check_value(spec, record, where, problems)
        if record.date > as_of:
            problems.append(f"{where}.date: {record.date.isoformat()} is after the evaluation date "
                            f"{as_of.isoformat()}")
        if len(problems) > before:
            continue
        agreement = None
        if isinstance(spec, InterviewEvidence):
            ratings = tuple(record.ratings.values())
            k = len(ratings)
            sem, sem_source = evidence_sem(spec, k)
            agreement = RaterAgreement(eid, k, ratings, sum(ratings) / k, r_wg(ratings), spec.interrater_reliability,
                                       spearman_brown(spec.interrater_reliability, k), sem)
        else:
            sem, sem_source = evidence_sem(spec)
        expiry = _expiry(spec, record, as_of)
        resolved[eid] = ResolvedEvidence(eid, spec.kind, _value_of(spec, record), sem, sem_source, record.source,
                                         record.date, expiry is not None, expiry, agreement)
    if problems:
        raise EvidenceError(problems)
    return resolved


__all__ = [
    "CertificationRecord",
    "EducationRecord",
    "EvidenceError",
    "EvidenceRecord",
    "ExperienceRecord",
    "InterviewRecord",
    "JobModelInputError",
    "RaterAgreement",
    "ResolvedEvidence",
    "TestScoreRecord",
    "UndeclaredInputError",
    "resolve_evidence",
    "r_wg",
    "spearman_brown",
]
