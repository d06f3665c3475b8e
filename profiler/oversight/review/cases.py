"""What a reviewer works with, read back from the store: recorded recommendations, decisions and contests.

Each is built from its typed stored record (:mod:`profiler.store.records`) and the row that holds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from profiler.store.records import (
    StoredConfirmation,
    StoredConfirmationRefusal,
    StoredContest,
    StoredDecision,
    StoredRecommendation,
)


@dataclass(frozen=True)
class RecordedRecommendation:
    """A recommendation as recorded by the assessment pipeline (a case record of kind ``recommendation``).

    ``validity_verdict`` and ``validity_reasons`` come first when it is shown: a profile the validity
    check judged ``invalid`` is routed to review (``routed_to_review``) and must not be read as fine.
    ``record`` is the typed record; ``payload`` the same as plain data
    (:meth:`profiler.jobmodel.Recommendation.to_dict` with the validity verdict and the records it is based on).
    """

    id: int
    candidate: str
    session_id: str | None
    band: str
    score_band: str
    score: float | None
    job_model_id: str
    job_model_version: str
    job_model_hash: str
    payload_hash: str
    recorded_at: datetime
    validity_verdict: str | None
    validity_reasons: tuple[str, ...]
    routed_to_review: bool
    payload: dict[str, Any] = field(repr=False, compare=False)
    record: StoredRecommendation | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_record(cls, record: StoredRecommendation, *, id: int, candidate: str, session_id: str | None,
                    payload_hash: str, recorded_at: datetime) -> RecordedRecommendation:
        v = record.versions
        return cls(id=id, candidate=candidate, session_id=session_id, band=record.band, score_band=record.score_band,
                   score=record.score, job_model_id=v.job_model_id, job_model_version=v.job_model_version,
                   job_model_hash=v.job_model_hash, payload_hash=payload_hash, recorded_at=recorded_at,
                   validity_verdict=record.validity.verdict, validity_reasons=tuple(record.validity.reasons),
                   routed_to_review=record.routed_to_review, payload=record.payload(), record=record)

    def summary(self) -> str:
        """For the reviewer, in the order the guide asks: validity and measurement error first."""
        p = self.payload
        lines = [f"Recommendation {self.id} for candidate {self.candidate} ({self.recorded_at:%Y-%m-%d %H:%M} UTC), "
                 f"job model {self.job_model_id} {self.job_model_version}"]
        verdict = self.validity_verdict or "not assessed"
        lines.append(f"  response validity: {verdict.upper() if verdict == 'invalid' else verdict}")
        lines += [f"    - {reason}" for reason in self.validity_reasons]
        stability = p.get("stability") or {}
        if stability:
            se = float(stability.get("se_score") or float("nan"))
            flip = stability.get("p_flip_analytic" if stability.get("basis") == "analytic" else "p_flip_simulated")
            if stability.get("label") == "not applicable" or flip is None:
                lines.append(f"  decision stability: not applicable, a person decides this review (score SE {se:.1f} "
                             "points)")
            else:
                lines.append(f"  decision stability: {stability.get('label')} ({100 * (1.0 - float(flip)):.0f}% same "
                             f"recommendation on re-measurement; score SE {se:.1f} points)")
        coverage = p.get("coverage") or {}
        unknown = [c for c in coverage.get("inputs", []) if c.get("status") != "measured"]
        for c in unknown:
            lines.append(f"  {c.get('name', c.get('input'))}: {c.get('status')}, {c.get('handling')}")
        if unknown and coverage.get("score_range"):
            lo, hi = coverage["score_range"]
            lines.append(f"  with unknown inputs at plausible values the score lies in {lo:.1f}..{hi:.1f}")
        score = "-" if self.score is None else f"{self.score:.1f}"
        lines.append(f"  recommendation: {self.band} (score {score}, score band {self.score_band})")
        lines += [f"    - {r.get('text')}" for r in p.get("reasons", [])]
        lines.append("  A person decides: accept (not for the band review), override with an outcome, or do not "
                     "use; overrides and do-not-use need a reason code and a note.")
        return "\n".join(lines)


@dataclass(frozen=True)
class Decision:
    """A reviewer's decision on a recommendation (``stage`` ``first``) or on a contest (``contest``).

    ``result`` is what the decision means for the candidate: the outcome, or ``do_not_use``.
    """

    id: int
    candidate: str
    recommendation_id: int
    recommendation_hash: str
    band: str
    job_model_id: str
    job_model_version: str
    reviewer: str
    role: str
    decision: str
    outcome: str | None
    reason: str | None
    note: str | None
    stage: str
    contest_id: int | None
    recommended_at: datetime
    decided_at: datetime
    payload_hash: str
    audit_seq: int | None

    @classmethod
    def from_record(cls, record: StoredDecision, *, id: int, candidate: str, payload_hash: str,
                    audit_seq: int | None) -> Decision:
        rec = record.recommendation
        return cls(id=id, candidate=candidate, recommendation_id=rec.record, recommendation_hash=rec.payload_hash,
                   band=rec.band, job_model_id=record.job_model.id, job_model_version=record.job_model.version,
                   reviewer=record.reviewer, role=record.role, decision=record.decision, outcome=record.outcome,
                   reason=record.reason, note=record.note, stage=record.stage, contest_id=record.contest,
                   recommended_at=rec.recorded_at, decided_at=record.decided_at, payload_hash=payload_hash,
                   audit_seq=audit_seq)

    @property
    def result(self) -> str:
        return self.outcome if self.outcome is not None else "do_not_use"


@dataclass(frozen=True)
class Contest:
    """A candidate's contest of a first decision, routed to a second reviewer with a due date.

    ``status`` is ``open`` until the second reviewer decides (``decided``); ``result`` is then
    ``upheld`` (same result as the first decision) or ``changed``.
    """

    id: int
    candidate: str
    decision_id: int
    decision_hash: str
    recommendation_id: int
    first_reviewer: str
    job_model_id: str
    job_model_version: str
    statement: str | None
    received_by: str
    filed_at: datetime
    due: datetime
    assigned_to: str | None
    second_decision: Decision | None = None

    @classmethod
    def from_record(cls, record: StoredContest, *, id: int, candidate: str, assigned_to: str | None,
                    second_decision: Decision | None) -> Contest:
        return cls(id=id, candidate=candidate, decision_id=record.decision.record,
                   decision_hash=record.decision.payload_hash, recommendation_id=record.recommendation.record,
                   first_reviewer=record.first_reviewer, job_model_id=record.job_model.id,
                   job_model_version=record.job_model.version, statement=record.statement,
                   received_by=record.received_by, filed_at=record.filed_at, due=record.due,
                   assigned_to=assigned_to, second_decision=second_decision)

    @property
    def status(self) -> str:
        return "open" if self.second_decision is None else "decided"

    def overdue(self, now: datetime | None = None) -> bool:
        """Open past its due date."""
        return self.second_decision is None and (now or datetime.now(UTC)) > self.due

    def result(self, first: Decision) -> str | None:
        if self.second_decision is None:
            return None
        return "upheld" if self.second_decision.result == first.result else "changed"


@dataclass(frozen=True)
class Confirmation:
    """A second person's confirmation of an override (decision ``decision_id``)."""

    id: int
    candidate: str
    decision_id: int
    recommendation_id: int
    decided_by: str
    confirmed_by: str
    role: str
    note: str | None
    confirmed_at: datetime

    @classmethod
    def from_record(cls, record: StoredConfirmation, *, id: int, candidate: str) -> Confirmation:
        return cls(id=id, candidate=candidate, decision_id=record.decision.record,
                   recommendation_id=record.recommendation.record, decided_by=record.decided_by,
                   confirmed_by=record.confirmed_by, role=record.role, note=record.note,
                   confirmed_at=record.confirmed_at)


@dataclass(frozen=True)
class Refusal:
    """A second person's refusal to confirm an override (decision ``decision_id``), with the reason; the
    override then does not stand and the recommendation waits for a decision again."""

    id: int
    candidate: str
    decision_id: int
    recommendation_id: int
    decided_by: str
    refused_by: str
    role: str
    reason: str
    refused_at: datetime

    @classmethod
    def from_record(cls, record: StoredConfirmationRefusal, *, id: int, candidate: str) -> Refusal:
        return cls(id=id, candidate=candidate, decision_id=record.decision.record,
                   recommendation_id=record.recommendation.record, decided_by=record.decided_by,
                   refused_by=record.refused_by, role=record.role, reason=record.reason, refused_at=record.refused_at)


__all__ = ["Confirmation", "Contest", "Decision", "RecordedRecommendation", "Refusal"]
