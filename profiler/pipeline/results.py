"""What a vendor reads about an invitation: its status and, once assessed, its result.

:func:`invitation_view` gives an :class:`InvitationView`: where the invitation stands (created, started,
declined, completed, assessed, revoked; expired), and for an assessed one the :class:`AssessmentResult`: the
response-validity verdict first, the scale scores with their SEM and 90%/95% bands on the T scale, the
recommendation with its explanation (reasons, contributions that add up to the score, counterfactuals, decision
stability, coverage of unknown inputs), the review (a person's decision once made) and the report links.

The same types are the API's response bodies (``/api/v1``), so the OpenAPI document describes them (a
webhook only says what happened and links here). Every model forbids extra fields; numbers that are not
defined (a scale without a score) are null.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from profiler.integration.invitations import Invitation
from profiler.pipeline.case import CandidateCase
from profiler.pipeline.cases import case_from_store
from profiler.store.store import Store

API_VERSION = "v1"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScaleScore(_Model):
    """One scale of the trait profile against the job model's norm group."""

    scale: str
    name: str
    raw: float | None
    T: float | None
    percentile: float | None
    sten: int | None
    sem: float | None
    band_90_T: tuple[float | None, float | None]
    band_95_T: tuple[float | None, float | None]
    items_answered: int | None
    items_total: int | None
    reading: str


class Validity(_Model):
    """The response-validity verdict (read it before the scores): valid, questionable or invalid."""

    verdict: Literal["valid", "questionable", "invalid"]
    reasons: list[str]


class Norms(_Model):
    name: str
    version: str
    title: str
    n: int | None


class Contribution(_Model):
    """Score points an input adds to the score against its reference (they add up with ``base_value``)."""

    criterion: str
    input: str
    name: str
    value: float | None
    reference: float | None
    weight_share: float
    contribution: float
    status: Literal["measured", "imputed", "missing_review"]


class Counterfactual(_Model):
    """How far one input alone would have to move for the next band (a distance, not advice)."""

    criterion: str
    input: str
    direction: Literal["up", "down"]
    target_band: str
    reachable: bool
    change: float | None
    change_sem: float | None
    text: str


class Reason(_Model):
    code: str
    text: str
    criterion: str | None


class Stability(_Model):
    """How likely the recommendation is to stay on re-measurement (no figure for a review)."""

    label: str
    p_same: float | None
    se_score: float | None
    text: str


class Recommendation(_Model):
    """What the job model proposes: never a decision."""

    band: Literal["advance", "review", "not_advance"]
    score: float | None
    score_band: Literal["advance", "review", "not_advance"]
    base_value: float | None
    thresholds: dict[str, float]
    reasons: list[Reason]
    contributions: list[Contribution]
    counterfactuals: list[Counterfactual]
    stability: Stability
    score_range_with_unknown_inputs: tuple[float | None, float | None]
    job_model: dict[str, str]
    as_of: str


class Decision(_Model):
    """A person's decision (the one that stands: after a contest, the second reviewer's)."""

    decision: Literal["accept", "override", "do_not_use"]
    outcome: Literal["advance", "not_advance"] | None
    reviewer_role: str
    reason: str | None
    stage: Literal["first", "contest"]
    decided_at: str


class Review(_Model):
    state: Literal["awaiting review", "decided", "contested", "decided after contest"]
    decision: Decision | None
    contest_days: int


class Reports(_Model):
    """Links to the reports (fetched with the API key; HTML)."""

    recruiter: str
    candidate: str


class AssessmentResult(_Model):
    validity: Validity | None
    norms: Norms | None
    scores: list[ScaleScore]
    recommendation: Recommendation
    review: Review
    reports: Reports


class InvitationView(_Model):
    """An invitation as a vendor sees it; ``result`` once its session is assessed."""

    id: str
    candidate_id: str
    candidate_reference: str | None
    job_model: str
    job_model_version: str
    questionnaire: str
    language: str
    status: Literal["created", "started", "declined", "completed", "assessed", "revoked"]
    expired: bool
    report_to_candidate: bool
    time_multiplier: float
    callback_url: str | None
    created_at: datetime
    expires_at: datetime
    opened_at: datetime | None
    completed_at: datetime | None
    result: AssessmentResult | None


def invitation_path(invitation_id: str) -> str:
    """The API address of an invitation (relative to the app's root)."""
    return f"/api/{API_VERSION}/invitations/{invitation_id}"


def invitation_view(store: Store, invitation: Invitation, *, base_url: str = "") -> InvitationView:
    """The invitation's status and, when assessed, its result; report links under ``base_url``."""
    result = None
    if invitation.status == "assessed":
        result = assessment_result(case_from_store(store, invitation.candidate_id),
                                   base_url.rstrip("/") + invitation_path(invitation.id))
    return InvitationView(
        id=invitation.id, candidate_id=invitation.candidate_id, candidate_reference=invitation.reference,
        job_model=invitation.job_model_id, job_model_version=invitation.job_model_version,
        questionnaire=invitation.questionnaire_id, language=invitation.language, status=invitation.status,
        expired=invitation.expired(), report_to_candidate=invitation.report_to_candidate,
        time_multiplier=invitation.time_multiplier, callback_url=invitation.callback_url,
        created_at=invitation.created_at, expires_at=invitation.expires_at, opened_at=invitation.opened_at,
        completed_at=invitation.completed_at, result=result)


def assessment_result(case: CandidateCase, address: str) -> AssessmentResult:
    """The result of a recorded case; ``address`` is the invitation's API address (for the report links)."""
    rec = case.recommendation
    validity = None if case.validity is None else Validity(verdict=case.validity.verdict,
                                                           reasons=list(case.validity.reasons))
    norms = None if case.norms is None else Norms(name=case.norms.name, version=case.norms.version,
                                                  title=case.norms.title, n=case.norms.n)
    scores = [] if case.profile is None else [
        ScaleScore(scale=s.scale, name=s.name, raw=_n(s.raw), T=_n(s.T), percentile=_n(s.percentile), sten=s.sten,
                   sem=_n(s.sem), band_90_T=_pair(s.band_90_T), band_95_T=_pair(s.band_95_T),
                   items_answered=s.items_answered, items_total=s.items_total, reading=s.reading)
        for s in case.profile.scales]
    stability = rec.stability
    recommendation = Recommendation(
        band=rec.band, score=_n(rec.score), score_band=rec.score_band, base_value=_n(rec.base_value),
        thresholds={k: float(v) for k, v in rec.thresholds.items()},
        reasons=[Reason(code=r.code, text=r.text, criterion=r.criterion) for r in rec.reasons],
        contributions=[Contribution(criterion=c.criterion, input=c.input, name=c.name, value=_n(c.value),
                                    reference=_n(c.reference), weight_share=c.weight_share,
                                    contribution=c.contribution, status=c.status) for c in rec.contributions],
        counterfactuals=[Counterfactual(criterion=c.criterion, input=c.input, direction=c.direction,
                                        target_band=c.target_band, reachable=c.reachable, change=_n(c.change),
                                        change_sem=_n(c.change_sem), text=c.text) for c in rec.counterfactuals],
        stability=Stability(label=stability.label, p_same=_n(stability.p_same), se_score=_n(stability.se_score),
                            text=stability.text),
        score_range_with_unknown_inputs=_pair(rec.coverage.score_range),
        job_model={k: str(rec.versions[k]) for k in ("job_model_id", "job_model_version", "job_model_hash")},
        as_of=rec.as_of.isoformat())
    current = case.review.current
    decision = None if current is None else Decision(
        decision=current.decision, outcome=current.outcome, reviewer_role=current.role, reason=current.reason,
        stage=current.stage, decided_at=current.decided_at)
    review = Review(state=case.review.state, decision=decision, contest_days=case.review.contest_days)
    reports = Reports(recruiter=f"{address}/reports/recruiter", candidate=f"{address}/reports/candidate")
    return AssessmentResult(validity=validity, norms=norms, scores=scores, recommendation=recommendation,
                            review=review, reports=reports)


def _n(value: Any) -> float | None:
    """A number, or None where it is not defined (NaN)."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) or math.isinf(number) else number


def _pair(values: Any) -> tuple[float | None, float | None]:
    low, high = values
    return _n(low), _n(high)


__all__ = ["API_VERSION", "AssessmentResult", "InvitationView", "assessment_result", "invitation_path",
           "invitation_view"]
