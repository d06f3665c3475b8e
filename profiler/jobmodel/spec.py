"""The job-model format as pydantic models: role, evidence it accepts, weighted criteria and decision bands.

A job model is written by people from a job analysis, never fitted to past hiring decisions. Each
criterion turns one input (a trait scale of a questionnaire, or a piece of skill evidence) into a 0-1
utility, weighs it, and may set a minimum that routes a candidate to human review. The score is
``100 * sum(w_i * u_i) / sum(w_i)``; bands map it to advance / review / not advance.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, ValidationError, model_serializer, model_validator
from pydantic_core import InitErrorDetails

from profiler.jobmodel.protected import scan as scan_protected
from profiler.questionnaire.spec import ID_PATTERN, Identifier, NonEmptyText, Strict, Text

INPUT_PATTERN = r"^(trait|evidence)\.[A-Za-z][A-Za-z0-9_.\-]*$"
InputRef = Annotated[
    str,
    Field(
        pattern=INPUT_PATTERN,
        description="trait.<scale id of the questionnaire> or evidence.<id of a declared evidence item>",
    ),
]


class Versioned(Strict):
    """A format model whose later-added fields are left out of its serialised form while they hold their default.

    A job model's content hash is computed over its serialised form with defaults filled in; a field added
    to the format later would otherwise change the hash of every existing model that does not use it, and
    recorded recommendations would no longer match their model. Fields named in ``OMIT_WHEN_DEFAULT`` appear
    only when set to something else.
    """

    OMIT_WHEN_DEFAULT: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _omit_defaults(self, handler: Any) -> Any:
        data = handler(self)
        for name in self.OMIT_WHEN_DEFAULT:
            if name in data and getattr(self, name) == type(self).model_fields[name].get_default(
                    call_default_factory=True):
                del data[name]
        return data


# Bounds (documented in docs/job-models.md): every number finite, within these limits --------------------
MAX_VALUE = 1e6  # evidence limits, norm means and SDs, transform anchors and minimums, in the input's units
MAX_WEIGHT = 1000.0  # weights are relative: their ratios matter, not their size
MAX_RATERS = 20
MAX_AGE_DAYS = 36_500  # a hundred years
MAX_YEARS = 100.0  # the most years of experience a model may declare
MAX_NORM_N = 1_000_000_000
Value = Annotated[float, Field(allow_inf_nan=False, ge=-MAX_VALUE, le=MAX_VALUE)]
PositiveValue = Annotated[float, Field(allow_inf_nan=False, gt=0, le=MAX_VALUE)]
Share = Annotated[float, Field(allow_inf_nan=False, ge=0, le=1)]
Reliability = Annotated[float, Field(allow_inf_nan=False, gt=0, lt=1)]


# Evidence declarations ------------------------------------------------------------------------------
class EvidenceNorm(Strict):
    """Distribution of an evidence input in the reference group: what the average candidate looks like."""

    mean: Value
    sd: PositiveValue
    n: int | None = Field(default=None, ge=1, le=MAX_NORM_N)
    group: NonEmptyText = Field(description="Who the figures describe, e.g. 'applicants 2024-2025, all sites'.")


def _norm_within(norm: EvidenceNorm, low: float, high: float) -> None:
    """A declared norm must describe values the input can take: its mean within the range, its SD no wider."""
    if not low <= norm.mean <= high:
        raise ValueError(f"norm mean {norm.mean:g} lies outside the possible range {low:g}..{high:g}")
    if norm.sd > high - low:
        raise ValueError(f"norm SD {norm.sd:g} is wider than the possible range {low:g}..{high:g}")


class _EvidenceBase(Strict):
    id: Identifier
    name: NonEmptyText
    description: Text | None = None
    max_age_days: int | None = Field(
        default=None, gt=0, le=MAX_AGE_DAYS, description="Evidence older than this on the evaluation date counts as expired."
    )


class TestScoreEvidence(_EvidenceBase, Versioned):
    """An ability or work-sample test score on its own scale, with its reliability and norm.

    ``step`` is the smallest difference between two scores the test reports (1 for whole-number scores);
    counterfactuals name only scores on that grid.
    """

    OMIT_WHEN_DEFAULT: ClassVar[frozenset[str]] = frozenset({"step"})
    kind: Literal["test_score"]
    min: Value
    max: Value
    reliability: Reliability
    norm: EvidenceNorm
    step: PositiveValue | None = Field(default=None, description="The smallest difference between two reported "
                                       "scores (1 for whole numbers); default: a hundredth of the range's order of "
                                       "magnitude.")

    @model_validator(mode="after")
    def _ordered(self) -> TestScoreEvidence:
        if not self.min < self.max:
            raise ValueError(f"min ({self.min:g}) must be below max ({self.max:g})")
        _norm_within(self.norm, self.min, self.max)
        if self.step is not None and self.step > self.max - self.min:
            raise ValueError(f"step ({self.step:g}) is larger than the test's range {self.min:g}..{self.max:g}")
        return self


class InterviewEvidence(_EvidenceBase):
    """Structured interview ratings of one competency on an anchored 1-5 scale, one per rater.

    Several raters are averaged; ``interrater_reliability`` (single-rater ICC from the interview's
    validation) gives the standard error of the mean of k raters by Spearman-Brown.
    """

    kind: Literal["interview_rating"]
    competency: NonEmptyText
    anchors: dict[Annotated[str, Field(pattern=r"^[1-5]$")], NonEmptyText] | None = Field(
        default=None, description="What each rating 1..5 means for this competency (behavioural anchors)."
    )
    min_raters: int = Field(default=1, ge=1, le=MAX_RATERS)
    interrater_reliability: Reliability
    norm: EvidenceNorm

    @model_validator(mode="after")
    def _on_the_scale(self) -> InterviewEvidence:
        _norm_within(self.norm, 1.0, 5.0)
        return self


class CertificationEvidence(_EvidenceBase):
    """A certification held (1) or not (0); an expiry date on the evidence makes it lapse."""

    kind: Literal["certification"]
    base_rate: Share = Field(description="Share of the reference group holding it.")


class ExperienceEvidence(_EvidenceBase):
    """Years of relevant experience."""

    kind: Literal["experience"]
    max: float = Field(default=50, gt=0, le=MAX_YEARS, allow_inf_nan=False)
    norm: EvidenceNorm

    @model_validator(mode="after")
    def _within(self) -> ExperienceEvidence:
        _norm_within(self.norm, 0.0, self.max)
        return self


class EducationEvidence(_EvidenceBase):
    """Whether an education requirement is met (1) or not (0)."""

    kind: Literal["education"]
    requirement: NonEmptyText
    base_rate: Share = Field(description="Share of the reference group meeting it.")


EvidenceSpec = Annotated[
    TestScoreEvidence | InterviewEvidence | CertificationEvidence | ExperienceEvidence | EducationEvidence,
    Field(discriminator="kind"),
]


# Transforms to utility ---------------------------------------------------------------------------------
class LinearTransform(Strict):
    """Utility 0 at ``at_zero`` and 1 at ``at_one``, linear between, clipped outside (decreasing if at_zero > at_one)."""

    kind: Literal["linear"]
    at_zero: Value
    at_one: Value

    @model_validator(mode="after")
    def _distinct(self) -> LinearTransform:
        if self.at_zero == self.at_one:
            raise ValueError("at_zero and at_one must differ")
        return self


class TargetRangeTransform(Strict):
    """Ideal point / target range: utility 1 inside [low, high], falling linearly to 0 ``tolerance`` outside it."""

    kind: Literal["target_range"]
    low: Value
    high: Value
    tolerance: PositiveValue

    @model_validator(mode="after")
    def _ordered(self) -> TargetRangeTransform:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        return self


class SaturatingTransform(Strict):
    """Diminishing returns: utility 0 at ``start``, 1/2 at ``start + half_at``, approaching 1 (e.g. experience)."""

    kind: Literal["saturating"]
    half_at: PositiveValue
    start: Value = 0.0


class BinaryTransform(Strict):
    """For 0/1 inputs (certification held, requirement met): utility equals the input."""

    kind: Literal["binary"]


Transform = Annotated[
    LinearTransform | TargetRangeTransform | SaturatingTransform | BinaryTransform, Field(discriminator="kind")
]


# Criteria, bands, the model --------------------------------------------------------------------------
class Criterion(Strict):
    """One weighted criterion: an input, its utility transform, a weight with its rationale."""

    id: Identifier
    input: InputRef
    transform: Transform
    weight: float = Field(gt=0, le=MAX_WEIGHT, allow_inf_nan=False,
                          description="Relative importance from the job analysis (not fitted to data).")
    rationale: NonEmptyText = Field(description="Why this criterion and this weight, from the job analysis.")
    minimum: Value | None = Field(
        default=None,
        description="Knock-out in the input's own units: below it the candidate goes to human review "
        "(never to automatic rejection).",
    )
    missing: Literal["impute_mean", "review"] = Field(
        default="review",
        description="impute_mean: use the norm group's mean (contributes exactly 0) and flag it; "
        "review: route the candidate to human review.",
    )


class Bands(Versioned):
    """Thresholds on the 0-100 score, with a review zone of ``review_margin`` points around each.

    ``if_unknown_could_change`` is the policy for a candidate whose unknown inputs (missing or expired), at
    plausible values, could put the score in another band: ``review`` (default) routes the case to a person,
    ``report`` keeps the score band and says so in the recommendation's headline.
    """

    OMIT_WHEN_DEFAULT: ClassVar[frozenset[str]] = frozenset({"if_unknown_could_change"})
    advance_from: float = Field(ge=0, le=100, allow_inf_nan=False)
    not_advance_below: float = Field(ge=0, le=100, allow_inf_nan=False)
    review_margin: float = Field(default=0, ge=0, le=50, allow_inf_nan=False)
    if_unknown_could_change: Literal["review", "report"] = Field(
        default="review",
        description="review: a candidate whose unknown inputs could change the band goes to a person; report: "
        "the score band stands and the headline says that unknown inputs could change it.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Bands:
        if self.not_advance_below > self.advance_from:
            raise ValueError(
                f"not_advance_below ({self.not_advance_below}) must not exceed advance_from ({self.advance_from})"
            )
        return self


class JobAnalysis(Strict):
    """Where the criteria and weights come from."""

    method: NonEmptyText
    date: Text | None = None
    by: list[NonEmptyText] = Field(default_factory=list)
    reference: Text | None = None


class Role(Strict):
    title: NonEmptyText
    description: Text | None = None


class ProtectedException(Strict):
    """A reviewed exception to the protected-attribute check: one evidence item, criterion or input that names a
    protected attribute or proxy, declared legitimate for this role with a written justification.

    Example: an interpreter role whose criterion is a native-level Dutch test (``native``); a reviewer names
    why the requirement is job-related and what was considered. The declaration is part of the model's content,
    so it is in the content hash every recommendation records.
    """

    applies_to: NonEmptyText = Field(description="The evidence id, criterion id or input (evidence.X, trait.X).")
    justification: Annotated[str, Field(min_length=40, description="Why this is job-related and lawful, in "
                                                                   "words (at least 40 characters).")]
    reviewed_by: list[NonEmptyText] = Field(min_length=1, description="Who reviewed it (psychologist, counsel).")
    date: NonEmptyText


class JobModelSpec(Versioned):
    """A job model file.

    Protected attributes and their proxies are refused here, by the type itself: a model written in code
    (``JobModelSpec(...)``) is checked as a YAML file is (:mod:`profiler.jobmodel.protected`).
    """

    OMIT_WHEN_DEFAULT: ClassVar[frozenset[str]] = frozenset({"protected_exceptions"})

    id: Identifier
    version: NonEmptyText
    role: Role
    job_analysis: JobAnalysis
    questionnaire: Identifier = Field(description="Id of the questionnaire whose scales the trait inputs name.")
    questionnaire_hash: Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")] | None = Field(
        default=None, description="Pin the exact questionnaire content; a different content is refused."
    )
    norms: Identifier = Field(description="Name of the norm group that defines the average candidate.")
    evidence: list[EvidenceSpec] = Field(default_factory=list)
    criteria: list[Criterion] = Field(min_length=1)
    bands: Bands
    protected_exceptions: list[ProtectedException] = Field(
        default_factory=list, description="Reviewed exceptions to the protected-attribute check, each justified.")

    @model_validator(mode="wrap")
    @classmethod
    def _no_protected_attributes(cls, data: Any, handler: Any) -> Any:
        """Refuse protected attributes and proxies, located, together with every other problem of the model."""
        problems = [] if isinstance(data, JobModelSpec) else scan_protected(data)
        try:
            spec = handler(data)
        except ValidationError as exc:
            if not problems:
                raise
            raise ValidationError.from_exception_data(cls.__name__, [*_details(exc), *_problem_details(problems)],
                                                      hide_input=False) from None
        if problems:
            raise ValidationError.from_exception_data(cls.__name__, _problem_details(problems))
        return spec


def _problem_details(problems: list[tuple[tuple[Any, ...], str, Any]]) -> list[InitErrorDetails]:
    return [InitErrorDetails(type="value_error", loc=location, input=text, ctx={"error": ValueError(message)})
            for location, message, text in problems]


def _details(exc: ValidationError) -> list[InitErrorDetails]:
    """The errors of ``exc`` as they can be raised again, with others."""
    out = []
    for error in exc.errors(include_url=False):
        detail = InitErrorDetails(type=error["type"], loc=error["loc"], input=error.get("input"))
        if "ctx" in error:
            detail["ctx"] = error["ctx"]
        out.append(detail)
    return out


__all__ = ["ID_PATTERN", "JobModelSpec", "ProtectedException"]
