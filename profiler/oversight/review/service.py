"""The review service: reviewers' decisions and candidates' contests, each stored as a typed case record and
logged in the same transaction (see :mod:`profiler.oversight.review` for the workflow)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from profiler.oversight.candidates import Candidates
from profiler.oversight.control import ModelStoppedError, check_running
from profiler.oversight.review import queries
from profiler.oversight.review.cases import Confirmation, Contest, Decision, RecordedRecommendation, Refusal
from profiler.oversight.review.figures import (
    CONTEST_COLUMNS,
    DECISION_COLUMNS,
    OversightFigures,
    oversight_figures,
)
from profiler.oversight.review.rules import (
    DecisionRequest,
    ReviewError,
    ReviewSettings,
    RubberStampRule,
    check_against,
    check_reason_codes,
    due_moment,
    person,
    request,
    text,
)
from profiler.store.audit_log import AuditEvent, AuditLog, lock_head
from profiler.store.records import (
    JobModelRef,
    StoredConfirmation,
    StoredConfirmationRefusal,
    RecommendationSeen,
    RecordRef,
    StoredContest,
    StoredContestAssignment,
    StoredDecision,
)
from profiler.store.store import Store

if TYPE_CHECKING:
    import pandas as pd

SETTINGS_EVENT = "review.configured"
# Event names of the review log entries (beside AuditEvent.DECISION, "review.decision").
QUEUED_EVENT = "review.requested"
CONTESTED_EVENT = "review.contested"
ASSIGNED_EVENT = "review.contest_assigned"
CONFIRMED_EVENT = "review.confirmed"
REFUSED_EVENT = "review.confirmation_refused"


def configure_review(store: Store, *, actor: str, reason_codes: Mapping[str, str] | Iterable[str] | None = None,
                     contest_days: int | None = None, rubber_stamp: RubberStampRule | None = None,
                     log: AuditLog | None = None) -> ReviewSettings:
    """Set the store's review settings (what is not given keeps its current value); logged as
    ``review.configured`` with the complete settings, so that the log shows which codes applied when."""
    current = review_settings(store)
    settings = ReviewSettings(
        reason_codes=current.reason_codes if reason_codes is None else check_reason_codes(reason_codes),
        contest_days=current.contest_days if contest_days is None else contest_days,
        rubber_stamp=current.rubber_stamp if rubber_stamp is None else rubber_stamp,
    )
    (log if log is not None else AuditLog(store)).append(SETTINGS_EVENT, settings.to_dict(), actor=actor)
    return settings


def review_settings(store: Store, log: AuditLog | None = None) -> ReviewSettings:
    """The store's review settings: the last ``review.configured`` entry, or the defaults."""
    last = None
    # Not `log or AuditLog(store)`: the truth of a log is its len(), a count of every entry.
    for entry in (log if log is not None else AuditLog(store)).entries(event=SETTINGS_EVENT):
        last = entry
    return ReviewSettings() if last is None else ReviewSettings.from_dict(last.payload)


class Review:
    """Record reviewers' decisions and candidates' contests; read the queue and the figures.

    Parameters
    ----------
    store : Store
    reason_codes : mapping or iterable, optional
        The allowed reason codes for this use (default: the store's, see :func:`configure_review`).
    contest_days : int, optional
        Calendar days a second reviewer has to decide a contest (default: the store's, 14).
    log : AuditLog, optional
    clock : callable, optional
        Returns the current time (timezone-aware); tests pass a fixed one. Sets decision times and due dates.

    Examples
    --------
    See ``docs/oversight.md`` (Review workflow) for a whole case; in short::

        review = Review(store)
        rec = review.pending()[0]
        review.decide(rec.id, "override", outcome="advance", reason="job_related_evidence",
                      note="strong references for the same role", reviewer="jdoe", role="hiring_manager")
        contest = review.contest(review.latest_decision(rec.candidate).id, statement="...", received_by="hr:kim",
                                 assign_to="asmith")
        review.decide_contest(contest.id, "accept", reviewer="asmith", role="psychologist")
    """

    def __init__(self, store: Store, *, reason_codes: Mapping[str, str] | Iterable[str] | None = None,
                 contest_days: int | None = None, log: AuditLog | None = None,
                 clock: Callable[[], datetime] | None = None):
        self.store = store
        self.log = log if log is not None else AuditLog(store)
        stored = review_settings(store, self.log)
        self.settings = ReviewSettings(
            reason_codes=stored.reason_codes if reason_codes is None else check_reason_codes(reason_codes),
            contest_days=stored.contest_days if contest_days is None else contest_days,
            rubber_stamp=stored.rubber_stamp,
        )
        self._clock = clock or (lambda: datetime.now(UTC))
        self._candidates = Candidates(store, self.log)

    def __repr__(self) -> str:
        return f"Review({self.store.name!r})"

    @property
    def reason_codes(self) -> dict[str, str]:
        return dict(self.settings.reason_codes)

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ReviewError("the clock must return timezone-aware times")
        return now.astimezone(UTC)

    # Reading --------------------------------------------------------------------------------------------
    def recommendation(self, recommendation_id: int) -> RecordedRecommendation:
        """One recorded recommendation by its record id."""
        with self.store.read() as connection:
            return queries.recommendation(connection, recommendation_id, self.store.name)

    def recommendations(self, candidate: str | None = None, *,
                        job_model: str | None = None) -> list[RecordedRecommendation]:
        """Recorded recommendations (of one candidate, or one job model id), oldest first."""
        with self.store.read() as connection:
            found = queries.recommendations(connection, candidate)
        return [r for r in found if job_model is None or r.job_model_id == job_model]

    def pending(self, *, job_model: str | None = None) -> list[RecordedRecommendation]:
        """Recommendations nobody has decided yet (or whose override a second person refused to confirm): the
        review queue, oldest first."""
        with self.store.read() as connection:
            decided = {d.recommendation_id for d in queries.standing(connection, None) if d.stage == "first"}
        return [r for r in self.recommendations(job_model=job_model) if r.id not in decided]

    def decisions(self, candidate: str | None = None) -> list[Decision]:
        """Every decision (first and contest stage), in the order recorded."""
        with self.store.read() as connection:
            return queries.decisions(connection, candidate)

    def latest_decision(self, candidate: str) -> Decision:
        """The candidate's last first-stage decision that stands (the one a contest is filed against)."""
        with self.store.read() as connection:
            first = [d for d in queries.standing(connection, candidate) if d.stage == "first"]
        if not first:
            raise ReviewError(f"no decision has been recorded for candidate {candidate!r}")
        return first[-1]

    def contests(self, candidate: str | None = None, *, status: str | None = None) -> list[Contest]:
        """Contests (of one candidate; ``status`` ``open`` or ``decided``), in the order filed."""
        if status not in (None, "open", "decided"):
            raise ReviewError(f"status={status!r}; use 'open', 'decided' or None")
        with self.store.read() as connection:
            found = queries.contests(connection, candidate)
        return [c for c in found if status is None or c.status == status]

    def contest_of(self, contest_id: int) -> Contest:
        with self.store.read() as connection:
            return queries.contest(connection, contest_id, self.store.name)

    # Deciding -------------------------------------------------------------------------------------------
    def decide(self, recommendation_id: int, decision: str, *, reviewer: str, role: str,
               outcome: str | None = None, reason: str | None = None, note: str | None = None) -> Decision:
        """Record a reviewer's decision on a recommendation (see :mod:`profiler.oversight.review` for the rules).

        Parameters
        ----------
        recommendation_id : int
            The recommendation's record id (:meth:`pending`, :meth:`recommendations`).
        decision : {"accept", "override", "do_not_use"}
            ``"do-not-use"`` is accepted too.
        reviewer, role : str
            Who decides (an id, e.g. ``jdoe``) and in which role (``hiring_manager``, ``psychologist``).
        outcome : {"advance", "not_advance"}, optional
            Required for an override; for an accept it must be the recommended band if given.
        reason : str, optional
            A reason code (:attr:`reason_codes`); required for an override and "do not use".
        note : str, optional
            Free text; required with an override and "do not use". Keep identifying details out of it.

        Raises
        ------
        ReviewError
            Any rule broken (the message says which), or the recommendation decided already.
        """
        asked = request(self.settings, decision, reviewer, role, outcome, reason, note)

        def work(connection: Connection) -> Decision:
            lock_head(connection)  # serialise with other writers (PostgreSQL) before checking what is recorded
            rec = queries.recommendation(connection, recommendation_id, self.store.name)
            check_against(rec.id, rec.band, rec.routed_to_review, asked)
            _refuse_accept_while_stopped(connection, rec, asked.decision)
            for earlier in queries.standing(connection, rec.candidate):
                if earlier.recommendation_id == rec.id and earlier.stage == "first":
                    raise ReviewError(
                        f"recommendation {rec.id} was decided already ({earlier.decision} by {earlier.reviewer} on "
                        f"{earlier.decided_at:%Y-%m-%d}, decision {earlier.id}); a candidate who disagrees "
                        "can contest it and a second reviewer decides")
            return self._record_decision(connection, rec, asked, stage="first", contest=None)

        return self.log.transaction(work)

    def contest(self, decision_id: int, *, received_by: str, statement: str | None = None,
                assign_to: str | None = None, due: date | datetime | None = None) -> Contest:
        """Record a candidate's contest of a first decision and route it to a second reviewer.

        Parameters
        ----------
        decision_id : int
            The contested decision (:meth:`latest_decision`).
        received_by : str
            Who took the contest in (an HR actor, ``candidate-portal``, ...).
        statement : str, optional
            The candidate's reasons, in their words (kept in the case record, not in the log).
        assign_to : str, optional
            The second reviewer: anyone but the first (assign later with :meth:`assign`).
        due : date or datetime, optional
            When the second decision is due (default: filed + ``contest_days`` calendar days; a date means
            the end of that day, UTC).

        Raises
        ------
        ReviewError
            Unknown decision, a contest decision (final), a decision contested already, the first reviewer
            as second reviewer, a due date in the past.
        """
        received_by = person(received_by, "received_by")
        if assign_to is not None:
            assign_to = person(assign_to, "assign_to")
        if statement is not None:
            statement = text(statement, "statement")
        now = self._now()
        due_at = now + timedelta(days=self.settings.contest_days) if due is None else due_moment(due)
        if due_at <= now:
            raise ReviewError(f"the due date {due_at:%Y-%m-%d %H:%M} UTC lies in the past")

        def work(connection: Connection) -> Contest:
            lock_head(connection)  # serialise with other writers before checking what is recorded
            first = queries.decision(connection, decision_id, self.store.name)
            if first.stage != "first":
                raise ReviewError(f"decision {decision_id} is the second review of contest {first.contest_id}: it is "
                                  "final within profiler")
            _refuse_if_refused(connection, first, "contested")
            for existing in queries.contests(connection, first.candidate):
                if existing.decision_id == decision_id:
                    raise ReviewError(f"decision {decision_id} is contested already (contest {existing.id}, filed "
                                      f"{existing.filed_at:%Y-%m-%d}, {existing.status})")
            if assign_to is not None and assign_to == first.reviewer:
                raise ReviewError(f"{assign_to} made the contested decision: a contest goes to a second reviewer")
            record = StoredContest(
                decision=RecordRef(record=first.id, payload_hash=first.payload_hash),
                recommendation=RecordRef(record=first.recommendation_id, payload_hash=first.recommendation_hash),
                job_model=JobModelRef(id=first.job_model_id, version=first.job_model_version),
                first_reviewer=first.reviewer, statement=statement, received_by=received_by, filed_at=now,
                due=due_at, assigned_to=assign_to)
            stored = self._candidates.add_record(first.candidate, StoredContest.KIND, record, actor=received_by,
                                                 connection=connection)
            self.log.append(CONTESTED_EVENT, {
                "contest": stored.id, "contest_hash": stored.payload_hash, "decision": first.id,
                "decision_hash": first.payload_hash, "recommendation": first.recommendation_id,
                "first_reviewer": first.reviewer, "due": due_at, "assigned_to": assign_to,
            }, actor=received_by, candidate=first.candidate, connection=connection)
            if assign_to is not None:
                self._log_assignment(connection, first.candidate, stored.id, assign_to, received_by, due_at)
            return queries.contests(connection, first.candidate, only=stored.id)[0]

        return self.log.transaction(work)

    def assign(self, contest_id: int, reviewer: str, *, actor: str) -> Contest:
        """Assign (or reassign) an open contest to a second reviewer, never the first."""
        reviewer, actor = person(reviewer, "reviewer"), person(actor, "actor")

        def work(connection: Connection) -> Contest:
            lock_head(connection)  # serialise with other writers before checking what is recorded
            contest = queries.contest(connection, contest_id, self.store.name)
            if contest.status != "open":
                raise ReviewError(f"contest {contest_id} was decided already")
            if reviewer == contest.first_reviewer:
                raise ReviewError(f"{reviewer} made the contested decision: a contest goes to a second reviewer")
            self._record_assignment(connection, contest, reviewer, actor)
            return queries.contest(connection, contest_id, self.store.name)

        return self.log.transaction(work)

    def decide_contest(self, contest_id: int, decision: str, *, reviewer: str, role: str,
                       outcome: str | None = None, reason: str | None = None, note: str | None = None) -> Decision:
        """Record the second reviewer's decision on a contest (same rules as :meth:`decide`).

        Raises
        ------
        ReviewError
            The reviewer made the contested decision, the contest is assigned to someone else (reassign
            first), or it was decided already.
        """
        asked = request(self.settings, decision, reviewer, role, outcome, reason, note)

        def work(connection: Connection) -> Decision:
            lock_head(connection)  # serialise with other writers before checking what is recorded
            contest = queries.contest(connection, contest_id, self.store.name)
            if contest.status != "open":
                d = contest.second_decision
                raise ReviewError(f"contest {contest_id} was decided already ({d.decision} by {d.reviewer} on "
                                  f"{d.decided_at:%Y-%m-%d}, decision {d.id})")
            if asked.reviewer == contest.first_reviewer:
                raise ReviewError(f"{asked.reviewer} made the contested decision {contest.decision_id}: a contest is "
                                  "decided by a second reviewer")
            if contest.assigned_to is not None and contest.assigned_to != asked.reviewer:
                raise ReviewError(f"contest {contest_id} is assigned to {contest.assigned_to}; reassign it to "
                                  f"{asked.reviewer} first (Review.assign)")
            rec = queries.recommendation(connection, contest.recommendation_id, self.store.name)
            check_against(rec.id, rec.band, rec.routed_to_review, asked)
            if contest.assigned_to is None:
                self._record_assignment(connection, contest, asked.reviewer, f"reviewer:{asked.reviewer}")
            return self._record_decision(connection, rec, asked, stage="contest", contest=contest)

        return self.log.transaction(work)

    def confirm(self, decision_id: int, *, reviewer: str, role: str, note: str | None = None) -> Confirmation:
        """Record a second person's confirmation of an override (organisations that ask for one).

        Raises
        ------
        ReviewError
            The decision is not an override, the reviewer made it, or it was confirmed already.
        """
        reviewer = person(reviewer, "reviewer")
        role = person(role, "role")
        if note is not None:
            note = text(note, "note")

        def make(decided: Decision, now: datetime) -> StoredConfirmation:
            return StoredConfirmation(decision=_ref(decided), recommendation=_recommendation_ref(decided),
                                      decided_by=decided.reviewer, confirmed_by=reviewer, role=role, note=note,
                                      confirmed_at=now)

        return self._second_person(decision_id, reviewer, role, "confirmed", make, CONFIRMED_EVENT, "confirmation",
                                   {}, queries.confirmations)

    def refuse_confirmation(self, decision_id: int, *, reviewer: str, role: str, reason: str) -> Refusal:
        """Record a second person's refusal to confirm an override, with the reason.

        The override then does not stand: it stays on record (and in the figures, as its reviewer's decision),
        but the recommendation is back in the queue for a new decision, and the override can be neither
        confirmed nor contested. Recorded as a ``decision_confirmation_refusal`` case record and a
        ``review.confirmation_refused`` log entry (with the reason), in one transaction.

        Raises
        ------
        ReviewError
            No reason, the decision is not an override, the reviewer made it, or it was confirmed or refused
            already.
        """
        reviewer = person(reviewer, "reviewer")
        role = person(role, "role")
        if not isinstance(reason, str) or not reason.strip():
            raise ReviewError("a refusal to confirm needs a reason (it is logged, and the reviewer reads it)")
        reason = text(reason, "reason")

        def make(decided: Decision, now: datetime) -> StoredConfirmationRefusal:
            return StoredConfirmationRefusal(decision=_ref(decided), recommendation=_recommendation_ref(decided),
                                             decided_by=decided.reviewer, refused_by=reviewer, role=role,
                                             reason=reason, refused_at=now)

        return self._second_person(decision_id, reviewer, role, "refused", make, REFUSED_EVENT, "refusal",
                                   {"reason": reason}, queries.refusals)

    def _second_person(self, decision_id: int, reviewer: str, role: str, verb: str,
                       make: Callable[[Decision, datetime], StoredConfirmation | StoredConfirmationRefusal],
                       event: str, name: str, extra: Mapping[str, str],
                       read: Callable[[Connection, str], list[Any]]) -> Any:
        """Record a second person's answer to an override (``verb`` ``confirmed`` or ``refused``): the record
        ``make`` builds, and the ``event`` log entry naming it as ``name``, in one transaction."""

        def work(connection: Connection) -> Any:
            lock_head(connection)  # serialise with other writers before checking what is recorded
            decided = queries.decision(connection, decision_id, self.store.name)
            if decided.decision != "override":
                raise ReviewError(f"decision {decision_id} is {decided.decision!r}: only an override waits for a "
                                  "second person's confirmation")
            if decided.reviewer == reviewer:
                answer = "confirms it" if verb == "confirmed" else "confirms or refuses it"
                raise ReviewError(f"{reviewer} made decision {decision_id}: a second person {answer}")
            _refuse_if_refused(connection, decided, verb)
            for earlier in queries.confirmations(connection, decided.candidate):
                if earlier.decision_id == decision_id:
                    raise ReviewError(f"decision {decision_id} was confirmed already by {earlier.confirmed_by} on "
                                      f"{earlier.confirmed_at:%Y-%m-%d}")
            record = make(decided, self._now())
            actor = f"reviewer:{reviewer}"
            stored = self._candidates.add_record(decided.candidate, record.KIND, record, actor=actor,
                                                 connection=connection)
            self.log.append(event, {
                name: stored.id, f"{name}_hash": stored.payload_hash, "decision": decided.id,
                "decision_hash": decided.payload_hash, "recommendation": decided.recommendation_id,
                "decided_by": decided.reviewer, "reviewer": reviewer, "role": role, **extra,
            }, actor=actor, candidate=decided.candidate, connection=connection)
            return next(found for found in read(connection, decided.candidate) if found.id == stored.id)

        return self.log.transaction(work)

    def refusals(self, candidate: str | None = None) -> list[Refusal]:
        """Refusals to confirm an override, in the order recorded."""
        with self.store.read() as connection:
            return queries.refusals(connection, candidate)

    def confirmations(self, candidate: str | None = None) -> list[Confirmation]:
        """Confirmations of overrides, in the order recorded."""
        with self.store.read() as connection:
            return queries.confirmations(connection, candidate)

    def awaiting_confirmation(self, *, job_model: str | None = None) -> list[Decision]:
        """Overrides no second person has confirmed (or refused) yet, oldest first (whether one is needed is the
        organisation's setting)."""
        confirmed = {c.decision_id for c in self.confirmations()} | {r.decision_id for r in self.refusals()}
        return [d for d in self.decisions() if d.decision == "override" and d.id not in confirmed
                and (job_model is None or d.job_model_id == job_model)]

    # Figures --------------------------------------------------------------------------------------------
    def decision_frame(self) -> pd.DataFrame:
        """Every decision as a table (the input of :func:`oversight_figures`; columns in :data:`DECISION_COLUMNS`)."""
        import pandas as pd

        rows = [{"id": d.id, "candidate": d.candidate, "recommendation": d.recommendation_id, "band": d.band,
                 "job_model_id": d.job_model_id, "job_model_version": d.job_model_version, "reviewer": d.reviewer,
                 "role": d.role, "decision": d.decision, "outcome": d.outcome, "reason": d.reason, "stage": d.stage,
                 "contest": d.contest_id, "recommended_at": d.recommended_at, "decided_at": d.decided_at}
                for d in self.decisions()]
        return pd.DataFrame(rows, columns=list(DECISION_COLUMNS))

    def contest_frame(self) -> pd.DataFrame:
        """Every contest as a table (columns in :data:`CONTEST_COLUMNS`)."""
        import pandas as pd

        rows = []
        for c in self.contests():
            second = c.second_decision
            rows.append({"id": c.id, "candidate": c.candidate, "decision": c.decision_id,
                         "first_reviewer": c.first_reviewer, "job_model_id": c.job_model_id,
                         "job_model_version": c.job_model_version, "filed_at": c.filed_at, "due": c.due,
                         "assigned_to": c.assigned_to,
                         "second_decision": None if second is None else second.id,
                         "second_reviewer": None if second is None else second.reviewer,
                         "decided_at": None if second is None else second.decided_at})
        return pd.DataFrame(rows, columns=list(CONTEST_COLUMNS))

    def figures(self, *, job_model: str | None = None, rule: RubberStampRule | None = None) -> OversightFigures:
        """:func:`oversight_figures` of this store (of one job model id, if given)."""
        decisions, contests = self.decision_frame(), self.contest_frame()
        if job_model is not None:
            decisions = decisions[decisions["job_model_id"] == job_model]
            contests = contests[contests["job_model_id"] == job_model]
        return oversight_figures(decisions, contests, rule=rule or self.settings.rubber_stamp, now=self._now())

    # Recording ------------------------------------------------------------------------------------------
    def _record_decision(self, connection: Connection, rec: RecordedRecommendation, asked: DecisionRequest,
                         *, stage: str, contest: Contest | None) -> Decision:
        outcome = rec.band if asked.decision == "accept" else asked.outcome
        actor = f"reviewer:{asked.reviewer}"
        record = StoredDecision(
            recommendation=RecommendationSeen(record=rec.id, payload_hash=rec.payload_hash, band=rec.band,
                                              score=rec.score, recorded_at=rec.recorded_at),
            job_model=JobModelRef(id=rec.job_model_id, version=rec.job_model_version, hash=rec.job_model_hash),
            validity=rec.validity_verdict, reviewer=asked.reviewer, role=asked.role, decision=asked.decision,
            outcome=outcome, reason=asked.reason,
            reason_text=self.settings.reason_codes.get(asked.reason) if asked.reason else None, note=asked.note,
            stage=stage, contest=None if contest is None else contest.id, decided_at=self._now())
        stored = self._candidates.add_record(rec.candidate, StoredDecision.KIND, record, actor=actor,
                                             session_id=rec.session_id, connection=connection)
        self.log.append(AuditEvent.DECISION, {
            "decision": stored.id, "decision_hash": stored.payload_hash, "recommendation": rec.id,
            "recommendation_hash": rec.payload_hash, "band": rec.band, "job_model_id": rec.job_model_id,
            "job_model_version": rec.job_model_version, "job_model_hash": rec.job_model_hash,
            "reviewer": asked.reviewer, "role": asked.role, "kind": asked.decision, "outcome": outcome,
            "reason": asked.reason, "stage": stage, "contest": None if contest is None else contest.id,
        }, actor=actor, candidate=rec.candidate, connection=connection)
        return queries.decision(connection, stored.id, self.store.name)

    def _record_assignment(self, connection: Connection, contest: Contest, reviewer: str, actor: str) -> None:
        record = StoredContestAssignment(contest=contest.id, assigned_to=reviewer, previous=contest.assigned_to,
                                         assigned_at=self._now())
        self._candidates.add_record(contest.candidate, StoredContestAssignment.KIND, record, actor=actor,
                                    connection=connection)
        self._log_assignment(connection, contest.candidate, contest.id, reviewer, actor, contest.due)

    def _log_assignment(self, connection: Connection, candidate: str, contest_id: int, reviewer: str, actor: str,
                        due: datetime) -> None:
        self.log.append(ASSIGNED_EVENT, {"contest": contest_id, "assigned_to": reviewer, "due": due}, actor=actor,
                        candidate=candidate, connection=connection)


def _ref(decided: Decision) -> RecordRef:
    return RecordRef(record=decided.id, payload_hash=decided.payload_hash)


def _recommendation_ref(decided: Decision) -> RecordRef:
    return RecordRef(record=decided.recommendation_id, payload_hash=decided.recommendation_hash)


def _refuse_if_refused(connection: Connection, decided: Decision, what: str) -> None:
    """An override a second person refused to confirm does not stand: it cannot be confirmed, contested or
    refused again."""
    for refusal in queries.refusals(connection, decided.candidate):
        if refusal.decision_id == decided.id:
            raise ReviewError(f"decision {decided.id} cannot be {what}: {refusal.refused_by} refused to confirm it on "
                              f"{refusal.refused_at:%Y-%m-%d} ({refusal.reason}); the recommendation waits for a new "
                              "decision")


def _refuse_accept_while_stopped(connection: Connection, rec: RecordedRecommendation, kind: str) -> None:
    """While an operator has stopped a job model its recommendations are in doubt: a reviewer may still decide
    with a reason (override, do not use) but may not simply accept what the stopped model recommended."""
    if kind != "accept":
        return
    try:
        check_running(connection, rec.job_model_id, rec.job_model_version)
    except ModelStoppedError as stopped:
        raise ReviewError(f"{stopped}; its recommendation {rec.id} cannot be accepted while it is stopped: decide "
                          "with a reason (override, do_not_use) or wait until it is resumed") from None


__all__ = ["ASSIGNED_EVENT", "CONFIRMED_EVENT", "CONTESTED_EVENT", "QUEUED_EVENT", "REFUSED_EVENT", "SETTINGS_EVENT", "Review",
           "configure_review",
           "review_settings"]
