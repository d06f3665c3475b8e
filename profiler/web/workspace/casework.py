"""What the review pages read, limited to the signed-in person's organisation: its job models' queue, one
case (refused as unknown when it belongs to another organisation), the case's history from the audit log.

Reading only: every decision is recorded by :mod:`profiler.pipeline.review_target` and
:class:`profiler.oversight.Review`, as on the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from profiler.integration.staff import Staff, StaffUser
from profiler.oversight.control import ModelControl, Stop
from profiler.oversight.review import (
    Confirmation,
    Contest,
    Decision,
    RecordedRecommendation,
    Refusal,
    Review,
    ReviewError,
)
from profiler.store.audit_log import AuditLog, LogEntry
from profiler.store.store import Store

# Log payload keys that name a case record of the case (its recommendation, the records it is based on, its
# decisions, contests and confirmations).
_REFERENCES = ("record", "recommendation", "decision", "contest", "confirmation", "refusal")


class NotFound(Exception):
    """No such case in the signed-in person's organisation (another organisation's ids read alike)."""


def age(moment: datetime, now: datetime | None = None) -> str:
    """``3 d 4 h``, ``5 h 10 min`` or ``12 min``: how long something has waited."""
    minutes = max(0, int(((now or datetime.now(UTC)) - moment).total_seconds() // 60))
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


@dataclass(frozen=True)
class Queue:
    """One organisation's queue: recommendations waiting for a person, overrides waiting for a second
    person's confirmation, open contests and stopped models, oldest first."""

    models: list[str]
    pending: list[RecordedRecommendation]
    awaiting_confirmation: list[Decision]
    contests: list[Contest]
    stops: list[Stop]
    confirmation_required: bool


def queue(store: Store, staff: Staff, user: StaffUser, *, model: str | None = None,
          band: str | None = None) -> Queue:
    """The queue of ``user``'s organisation (one job model, one band, if given)."""
    models = staff.job_models(user.tenant)
    shown = [m for m in models if model in (None, "", m)]
    review = Review(store)
    pending = [r for r in review.pending() if r.job_model_id in shown and band in (None, "", r.band)]
    confirming = staff.tenant(user.tenant).second_confirmation
    awaiting = [d for d in review.awaiting_confirmation() if d.job_model_id in shown] if confirming else []
    contests = [c for c in review.contests(status="open") if c.job_model_id in shown]
    stops = [s for s in ModelControl(store).active() if s.job_model_id in shown]
    return Queue(models, pending, awaiting, contests, stops, confirming)


@dataclass(frozen=True)
class CaseFile:
    """One recommendation of the organisation, its review so far, and its history."""

    recommendation: RecordedRecommendation
    decisions: list[Decision]
    contests: list[Contest]
    confirmations: list[Confirmation]
    refusals: list[Refusal]
    history: list[LogEntry]
    confirmation_required: bool

    def refusal_of(self, decision: Decision) -> Refusal | None:
        """The second person's refusal to confirm ``decision``, if any (the decision then does not stand)."""
        return next((r for r in self.refusals if r.decision_id == decision.id), None)

    @property
    def first_decision(self) -> Decision | None:
        """The first-line decision that stands (an override a second person refused to confirm does not)."""
        first = [d for d in self.decisions if d.stage == "first" and self.refusal_of(d) is None]
        return first[-1] if first else None

    @property
    def open_contest(self) -> Contest | None:
        found = [c for c in self.contests if c.status == "open"]
        return found[-1] if found else None

    def unconfirmed(self) -> list[Decision]:
        """Overrides of this case that wait for a second person (when the organisation asks for one)."""
        if not self.confirmation_required:
            return []
        answered = {c.decision_id for c in self.confirmations} | {r.decision_id for r in self.refusals}
        return [d for d in self.decisions if d.decision == "override" and d.id not in answered]


def visible_recommendation(store: Store, staff: Staff, user: StaffUser, recommendation_id: int, *,
                           review: Review | None = None) -> RecordedRecommendation:
    """The recommendation if it belongs to one of the organisation's job models; :class:`NotFound` otherwise."""
    try:
        rec = (review or Review(store)).recommendation(recommendation_id)
    except ReviewError:
        raise NotFound(recommendation_id) from None
    if rec.job_model_id not in staff.job_models(user.tenant):
        raise NotFound(recommendation_id)
    return rec


def open_contest(store: Store, rec: RecordedRecommendation, *, review: Review | None = None) -> Contest | None:
    """The open contest of a decision on ``rec``, if any (a decision then decides it: the second review)."""
    found = [c for c in (review or Review(store)).contests(rec.candidate, status="open")
             if c.recommendation_id == rec.id]
    return found[-1] if found else None


def case_file(store: Store, staff: Staff, user: StaffUser, recommendation_id: int) -> CaseFile:
    rec = visible_recommendation(store, staff, user, recommendation_id)
    review = Review(store)
    decisions = [d for d in review.decisions(rec.candidate) if d.recommendation_id == rec.id]
    decided = {d.id for d in decisions}
    contests = [c for c in review.contests(rec.candidate) if c.decision_id in decided]
    confirmations = [c for c in review.confirmations(rec.candidate) if c.decision_id in decided]
    refusals = [r for r in review.refusals(rec.candidate) if r.decision_id in decided]
    ids = {rec.id, *decided, *(c.id for c in contests), *(c.id for c in confirmations), *(r.id for r in refusals)}
    ids |= {ref.record for ref in rec.record.based_on.values()} if rec.record is not None else set()
    history = [e for e in AuditLog(store).entries(candidate=rec.candidate) if _about(e, ids)]
    return CaseFile(rec, decisions, contests, confirmations, refusals, history,
                    staff.tenant(user.tenant).second_confirmation)


def _about(entry: LogEntry, ids: set[int]) -> bool:
    """Whether a log entry names one of the case's records (entries about the candidate's other cases, which
    another organisation may hold, are left out)."""
    payload: Any = entry.payload
    if not isinstance(payload, dict):
        return False
    return any(isinstance(payload.get(k), int) and not isinstance(payload.get(k), bool) and payload[k] in ids
               for k in _REFERENCES)


__all__ = ["CaseFile", "NotFound", "Queue", "age", "case_file", "open_contest", "queue", "visible_recommendation"]
