"""One candidate's recorded case: :class:`CandidateCase` and its parts, as objects or plain data.

What the reports render and the recruiter's workspace shows (:func:`profiler.pipeline.cases.case_from_store`
reads one from a store).

A case gathers, for one pseudonymous candidate and one job model: the :class:`Recommendation` (with its
explanation), the trait profile, the norm group it was placed against, the response-validity findings
and the review (decisions and contests). Every part converts to plain JSON-ready data and back
(:meth:`CandidateCase.to_dict`, :meth:`CandidateCase.from_dict`), so a case can be read from stored
artefacts, kept as a test fixture, and rendered again to the same bytes.

Nothing here holds a protected attribute: a case has no field for one, and the reports read only a case.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from profiler.canonical import fields_of, to_plain
from profiler.jobmodel.jobmodel import JobModel
from profiler.jobmodel.recommendation import (
    Recommendation,
)
from profiler.norms.profile import TraitProfile


# Norm group ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NormGroup:
    """The comparison group a profile is placed against, as the reports name it."""

    name: str
    version: str
    sha256: str
    title: str
    n: int | None = None
    collected: str | None = None
    population: str | None = None

    @classmethod
    def from_table(cls, table: Any) -> NormGroup:
        """From a :class:`profiler.norms.NormTable`."""
        return cls(name=table.name, version=table.version, sha256=table.sha256, title=table.title,
                   n=int(table.sample.n), collected=table.collected, population=table.population)

    @property
    def sentence(self) -> str:
        """``relative to <title> (norm group general), n = 19,635, collected c. 2012, version 1.0.0``."""
        parts = [f"relative to {self.title} (norm group {self.name})"]
        if self.n is not None:
            parts.append(f"n = {self.n:,}")
        if self.collected:
            parts.append(f"collected {self.collected}")
        parts.append(f"version {self.version}")
        return ", ".join(parts)


# Response validity ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ValidityFindings:
    """The response-validity verdict of one candidate's answers, with reasons and the checks not run.

    ``verdict`` is ``valid``, ``questionable`` or ``invalid`` (:func:`profiler.assess_validity`);
    ``not_checked`` maps a check to why it could not run (no timings, no attention-check items, ...);
    ``administration`` says how the questionnaire was taken (e.g. ``unsupervised, online``), if known.
    """

    verdict: str
    reasons: tuple[str, ...] = ()
    flagged: tuple[str, ...] = ()
    not_checked: Mapping[str, str] = field(default_factory=dict)
    administration: str | None = None

    @classmethod
    def from_assessment(cls, assessment: Any, respondent: Any = None, *,
                        administration: str | None = None) -> ValidityFindings:
        """From :func:`profiler.assess_validity`'s result (its row for ``respondent``, default the only row)."""
        if respondent is None:
            if len(assessment) != 1:
                raise ValueError(f"the assessment has {len(assessment)} rows: name the respondent")
            row = assessment.iloc[0]
        else:
            row = assessment.loc[respondent]
        return cls(verdict=str(row["verdict"]), reasons=tuple(str(r) for r in row["reasons"]),
                   flagged=tuple(str(f) for f in row["flagged"]),
                   not_checked=dict(sorted(dict(assessment.attrs.get("not_available", {})).items())),
                   administration=administration)


# Review -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DecisionRecord:
    """A reviewer's decision, as the reports show it (from :class:`profiler.oversight.review.Decision`).

    ``decision`` is ``accept``, ``override`` or ``do_not_use``; ``outcome`` ``advance`` or ``not_advance``
    (None for "do not use"); ``band`` the band recommended; ``reason`` the reason code and ``reason_text``
    its description; ``stage`` ``first`` or ``contest`` (a second reviewer's decision on a contest).
    """

    decision: str
    outcome: str | None
    band: str
    reviewer: str
    role: str
    decided_at: str
    reason: str | None = None
    reason_text: str | None = None
    note: str | None = None
    stage: str = "first"

    @property
    def result(self) -> str:
        """What the decision means for the candidate: the outcome, or ``do_not_use``."""
        return self.outcome if self.outcome is not None else "do_not_use"

    @property
    def follows_recommendation(self) -> bool:
        return self.decision == "accept"


@dataclass(frozen=True)
class ContestRecord:
    """A candidate's contest of a first decision: filed, due, assigned, and the second decision once made."""

    filed_at: str
    due: str
    assigned_to: str | None = None
    second_decision: DecisionRecord | None = None
    result: str | None = None  # "upheld" or "changed" once decided

    @property
    def status(self) -> str:
        return "open" if self.second_decision is None else "decided"


@dataclass(frozen=True)
class ReviewStatus:
    """The review of one recommendation: the first decision (if any) and the contests of it.

    ``contest_days`` is the number of calendar days a second reviewer has to decide a contest.
    """

    decision: DecisionRecord | None = None
    contests: tuple[ContestRecord, ...] = ()
    contest_days: int = 14

    @property
    def current(self) -> DecisionRecord | None:
        """The decision that stands: the last contest's second decision if there is one, else the first."""
        for contest in reversed(self.contests):
            if contest.second_decision is not None:
                return contest.second_decision
        return self.decision

    @property
    def state(self) -> str:
        """``awaiting review``, ``decided``, ``contested`` (a contest open) or ``decided after contest``."""
        if any(c.status == "open" for c in self.contests):
            return "contested"
        if self.contests:
            return "decided after contest"
        return "decided" if self.decision is not None else "awaiting review"


# The case ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CandidateCase:
    """Everything one candidate's reports show (see the module docstring).

    Attributes
    ----------
    candidate : str
        The pseudonymous candidate id (never a name).
    recommendation : Recommendation
    job_model : JobModel
        The model that produced the recommendation (its criteria, rationales and role).
    profile : TraitProfile, optional
    norms : NormGroup, optional
        The norm group of the profile; by default the job model's.
    validity : ValidityFindings, optional
        None: not assessed (the reports say so).
    review : ReviewStatus
    """

    candidate: str
    recommendation: Recommendation
    job_model: JobModel
    profile: TraitProfile | None = None
    norms: NormGroup | None = None
    validity: ValidityFindings | None = None
    review: ReviewStatus = field(default_factory=ReviewStatus)

    def __post_init__(self) -> None:
        if not isinstance(self.recommendation, Recommendation):
            object.__setattr__(self, "recommendation", Recommendation.from_dict(self.recommendation))
        if self.profile is not None and not isinstance(self.profile, TraitProfile):
            object.__setattr__(self, "profile", TraitProfile.from_dict(self.profile))
        if self.norms is None and self.profile is not None:
            table = self.job_model.norms
            if table.sha256 == self.profile.norms.get("norms_sha256"):
                object.__setattr__(self, "norms", NormGroup.from_table(table))
        elif isinstance(self.norms, Mapping):
            object.__setattr__(self, "norms", NormGroup(**self.norms))
        if isinstance(self.validity, Mapping):
            object.__setattr__(self, "validity", _validity_from_dict(self.validity))
        if isinstance(self.review, Mapping):
            object.__setattr__(self, "review", _review_from_dict(self.review))

    @property
    def job_model_matches(self) -> bool:
        """The job model given is the one that produced the recommendation (same content hash)."""
        return self.recommendation.versions.get("job_model_hash") == self.job_model.content_hash

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (the job model as its id, version, hash and normalized document)."""
        return {
            "candidate": self.candidate,
            "recommendation": self.recommendation.to_dict(),
            "job_model": self.job_model.spec.model_dump(mode="json"),
            "profile": None if self.profile is None else self.profile.to_dict(),
            "norms": None if self.norms is None else dataclasses.asdict(self.norms),
            "validity": None if self.validity is None else _plain(dataclasses.asdict(self.validity)),
            "review": _plain(dataclasses.asdict(self.review)),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, job_model: JobModel | None = None) -> CandidateCase:
        """The case :meth:`to_dict` wrote; ``job_model`` replaces the stored document when given."""
        if job_model is None:
            from profiler.jobmodel.spec import JobModelSpec
            from profiler.questionnaire.loader import load_questionnaire

            spec = JobModelSpec.model_validate(data["job_model"])
            job_model = JobModel(spec, load_questionnaire(spec.questionnaire), source="<case>")
        return cls(candidate=data["candidate"], recommendation=Recommendation.from_dict(data["recommendation"]),
                   job_model=job_model,
                   profile=None if data.get("profile") is None else TraitProfile.from_dict(data["profile"]),
                   norms=None if data.get("norms") is None else NormGroup(**data["norms"]),
                   validity=None if data.get("validity") is None else _validity_from_dict(data["validity"]),
                   review=_review_from_dict(data.get("review") or {}))


# Conversions --------------------------------------------------------------------------------------------
def _validity_from_dict(data: Mapping[str, Any]) -> ValidityFindings:
    return ValidityFindings(verdict=data["verdict"], reasons=tuple(data.get("reasons", ())),
                            flagged=tuple(data.get("flagged", ())), not_checked=dict(data.get("not_checked", {})),
                            administration=data.get("administration"))


def _decision_from_dict(data: Mapping[str, Any] | None) -> DecisionRecord | None:
    return None if data is None else DecisionRecord(**fields_of(DecisionRecord, data))


def _review_from_dict(data: Mapping[str, Any]) -> ReviewStatus:
    contests = tuple(ContestRecord(**{**fields_of(ContestRecord, c),
                                      "second_decision": _decision_from_dict(c.get("second_decision"))})
                     for c in data.get("contests", ()))
    return ReviewStatus(decision=_decision_from_dict(data.get("decision")), contests=contests,
                        contest_days=int(data.get("contest_days", 14)))


def _plain(value: Any) -> Any:
    return to_plain(value, "case", nonfinite="null")


__all__ = ["CandidateCase", "ContestRecord", "DecisionRecord", "NormGroup", "ReviewStatus", "ValidityFindings"]
