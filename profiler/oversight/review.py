"""Human review: a named person decides on every recommendation, candidates can contest, and the figures
that show whether the people really decide (AI Act Art. 14 and 26; GDPR Art. 22(3)).

A :class:`~profiler.jobmodel.Recommendation` is never a decision. The recorded pipeline
(:mod:`profiler.assessment`) stores each recommendation as an artefact of kind ``recommendation`` and puts
the case in the review queue; a reviewer (an id and a role) then records one of

``accept``
    the recommended band becomes the outcome. Not possible for the band ``review``: there a person
    chooses an outcome.
``override``
    another outcome (``advance`` or ``not_advance``) than the recommended one; on a ``review`` band the
    reviewer's choice of outcome. Needs a reason code and a note.
``do_not_use``
    the recommendation must not be used (an invalid profile, an accommodation needed, wrong data, ...);
    no outcome. Needs a reason code and a note.

Reason codes come from a configurable list (:data:`DEFAULT_REASON_CODES`; per store with
:func:`configure_review`, per call with ``Review(store, reason_codes=...)``). A recommendation is decided
once; a candidate who disagrees files a contest (:meth:`Review.contest`), which goes to a second
reviewer, never the first, with a due date (:data:`DEFAULT_CONTEST_DAYS` calendar days by default); the
second reviewer's decision is recorded against the contest and is final within profiler.

Every decision, contest and assignment is an artefact of the candidate (so that export and erasure cover
it, and :meth:`~profiler.oversight.AuditLog.verify` detects an edited one), followed in the same
transaction by a readable log entry: ``review.decision`` (reviewer, role, decision, outcome, reason code,
the recommendation's artefact id and hash), ``review.contested``, ``review.contest_assigned``. Notes and
statements are kept in the artefacts only.

:func:`oversight_figures` computes, per reviewer and per job model, the number of decisions, the
override and "do not use" rates, the time from recommendation to decision, contests and their outcomes,
and flags rubber-stamping (:class:`RubberStampRule`). :func:`override_rates_by_group` gives override rates
per group of candidates from demographics the caller passes in; nothing here reads them from the store.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from profiler.documents import did_you_mean
from profiler.errors import ProfilerError
from profiler.store.audit_log import AuditEvent, AuditLog, lock_head
from profiler.oversight.candidates import Candidates, check_candidate_id, utc
from profiler.oversight.control import ControlError, check_person
from profiler.store.store import Store
from profiler.store.tables import artefacts

if TYPE_CHECKING:
    import pandas as pd

DECISIONS = ("accept", "override", "do_not_use")
OUTCOMES = ("advance", "not_advance")
BANDS = ("advance", "review", "not_advance")

# The default reason codes: code -> what it means (shown to reviewers, recorded with each decision).
DEFAULT_REASON_CODES: Mapping[str, str] = {
    "job_related_evidence": "job-related evidence the model does not weigh supports another outcome",
    "measurement_error": "the result lies within measurement error, or an input was measured doubtfully",
    "invalid_profile": "the responses cannot be read as a profile (careless, too fast, checks failed)",
    "accommodation_needed": "the candidate needs an accommodation the assessment did not provide",
    "data_error": "an input is wrong (mis-keyed, another candidate's, out of date)",
    "other": "another reason, given in the note",
}
DEFAULT_CONTEST_DAYS = 14
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
ROLE_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_ .\-]{0,63}$")
MAX_NOTE = 4000
SETTINGS_EVENT = "review.configured"
# Marks the payloads of decisions, contests and assignments written here: artefacts of the same kinds
# recorded by other means (a bare Candidates.record_artefact) are not review records and are not read.
REVIEW_FORMAT = "profiler.review/1"
# Event names of the review log entries (beside AuditEvent.DECISION, "review.decision").
QUEUED_EVENT = "review.requested"
CONTESTED_EVENT = "review.contested"
ASSIGNED_EVENT = "review.contest_assigned"


class ReviewError(ProfilerError, ValueError):
    """A decision or contest that cannot be recorded: a missing or unknown reason code, accepting a
    ``review`` band, the same reviewer for a contest, a recommendation decided already, ..."""


# Settings ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RubberStampRule:
    """When a reviewer looks like they rubber-stamp recommendations (automation bias).

    Flagged when the reviewer acted on at least ``min_decisions`` recommendations with a definite band
    (accepted or overrode an ``advance`` or ``not_advance``) and overrode fewer than ``max_override_rate``
    of them. Default: 50 decisions and 2%, i.e. at most one override in 50-99 such decisions. A flag is a
    prompt to look at how the reviewer works (time per decision, cases seen), not proof of anything: a
    reviewer of a well-built model may rightly agree often.
    """

    min_decisions: int = 50
    max_override_rate: float = 0.02

    def __post_init__(self) -> None:
        if isinstance(self.min_decisions, bool) or not isinstance(self.min_decisions, int) or self.min_decisions < 1:
            raise ReviewError(f"min_decisions must be a whole number >= 1, got {self.min_decisions!r}")
        if not 0 <= float(self.max_override_rate) <= 1:
            raise ReviewError(f"max_override_rate must lie in [0, 1], got {self.max_override_rate!r}")

    def text(self) -> str:
        return (f">= {self.min_decisions} definite-band decisions and an override rate below "
                f"{100 * self.max_override_rate:g}%")


@dataclass(frozen=True)
class ReviewSettings:
    """The review settings of a store: reason codes, days to answer a contest, the rubber-stamp rule."""

    reason_codes: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_REASON_CODES))
    contest_days: int = DEFAULT_CONTEST_DAYS
    rubber_stamp: RubberStampRule = field(default_factory=RubberStampRule)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason_codes", check_reason_codes(self.reason_codes))
        if isinstance(self.contest_days, bool) or not isinstance(self.contest_days, int) or self.contest_days < 1:
            raise ReviewError(f"contest_days must be a whole number of days >= 1, got {self.contest_days!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"reason_codes": dict(self.reason_codes), "contest_days": self.contest_days,
                "rubber_stamp": {"min_decisions": self.rubber_stamp.min_decisions,
                                 "max_override_rate": self.rubber_stamp.max_override_rate}}


def check_reason_codes(codes: Mapping[str, str] | Iterable[str]) -> dict[str, str]:
    """Reason codes as ``code -> description`` (an iterable of codes gets the codes as descriptions)."""
    if not isinstance(codes, Mapping):
        if isinstance(codes, str):
            raise ReviewError("give reason codes as a mapping code -> description, or a list of codes")
        codes = {code: DEFAULT_REASON_CODES.get(code, code) for code in codes}
    if not codes:
        raise ReviewError("the list of reason codes is empty: reviewers could give no reason")
    out = {}
    for code, text in codes.items():
        if not isinstance(code, str) or not CODE_PATTERN.match(code):
            raise ReviewError(f"reason code {code!r} must be a lower-case name of up to 48 characters "
                              "(letters, digits, '_'), e.g. 'job_related_evidence'")
        if not isinstance(text, str) or not text.strip():
            raise ReviewError(f"reason code {code!r} needs a description in words")
        out[code] = text.strip()
    return out


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
    (log or AuditLog(store)).append(SETTINGS_EVENT, settings.to_dict(), actor=actor)
    return settings


def review_settings(store: Store, log: AuditLog | None = None) -> ReviewSettings:
    """The store's review settings: the last ``review.configured`` entry, or the defaults."""
    last = None
    for entry in (log or AuditLog(store)).entries(event=SETTINGS_EVENT):
        last = entry
    if last is None:
        return ReviewSettings()
    data = last.payload
    rule = data.get("rubber_stamp") or {}
    return ReviewSettings(reason_codes=data["reason_codes"], contest_days=int(data["contest_days"]),
                          rubber_stamp=RubberStampRule(int(rule.get("min_decisions", 50)),
                                                       float(rule.get("max_override_rate", 0.02))))


# Records -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RecordedRecommendation:
    """A recommendation as recorded by :mod:`profiler.assessment` (an artefact of kind ``recommendation``).

    ``validity_verdict`` and ``validity_reasons`` come first when it is shown: a profile the validity
    check judged ``invalid`` is routed to review (``routed_to_review``) and must not be read as fine.
    ``payload`` holds everything recorded (see :meth:`profiler.jobmodel.Recommendation.to_dict`).
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
            p_same = 1.0 - float(stability.get("p_flip_simulated", 0.0))
            lines.append(f"  decision stability: {stability.get('label')} ({100 * p_same:.0f}% same band on "
                         f"re-measurement; score SE {float(stability.get('se_score', float('nan'))):.1f} points)")
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


# The review ----------------------------------------------------------------------------------------------
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
        """One recorded recommendation by its artefact id."""
        with self.store.read() as connection:
            return _recommendation(connection, recommendation_id, self.store.name)

    def recommendations(self, candidate: str | None = None, *,
                        job_model: str | None = None) -> list[RecordedRecommendation]:
        """Recorded recommendations (of one candidate, or one job model id), oldest first."""
        with self.store.read() as connection:
            rows = _artefact_rows(connection, "recommendation", candidate)
        found = [r for r in map(_as_recommendation, rows) if r is not None]
        return [r for r in found if job_model is None or r.job_model_id == job_model]

    def pending(self, *, job_model: str | None = None) -> list[RecordedRecommendation]:
        """Recommendations nobody has decided yet: the review queue, oldest first."""
        decided = {d.recommendation_id for d in self.decisions() if d.stage == "first"}
        return [r for r in self.recommendations(job_model=job_model) if r.id not in decided]

    def decisions(self, candidate: str | None = None) -> list[Decision]:
        """Every decision (first and contest stage), in the order recorded."""
        with self.store.read() as connection:
            return _decisions(connection, candidate)

    def latest_decision(self, candidate: str) -> Decision:
        """The candidate's last first-stage decision (the one a contest is filed against)."""
        first = [d for d in self.decisions(candidate) if d.stage == "first"]
        if not first:
            raise ReviewError(f"no decision has been recorded for candidate {candidate!r}")
        return first[-1]

    def contests(self, candidate: str | None = None, *, status: str | None = None) -> list[Contest]:
        """Contests (of one candidate; ``status`` ``open`` or ``decided``), in the order filed."""
        if status not in (None, "open", "decided"):
            raise ReviewError(f"status={status!r}; use 'open', 'decided' or None")
        with self.store.read() as connection:
            found = _contests(connection, candidate)
        return [c for c in found if status is None or c.status == status]

    def contest_of(self, contest_id: int) -> Contest:
        for contest in self.contests():
            if contest.id == contest_id:
                return contest
        raise ReviewError(f"no contest {contest_id} in {self.store.name}")

    # Deciding -------------------------------------------------------------------------------------------
    def decide(self, recommendation_id: int, decision: str, *, reviewer: str, role: str,
               outcome: str | None = None, reason: str | None = None, note: str | None = None) -> Decision:
        """Record a reviewer's decision on a recommendation (see the module docstring for the rules).

        Parameters
        ----------
        recommendation_id : int
            The recommendation's artefact id (:meth:`pending`, :meth:`recommendations`).
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
        parts = self._checked(decision, reviewer, role, outcome, reason, note)

        def work(connection: Connection) -> Decision:
            lock_head(connection)  # serialise with other writers (PostgreSQL) before checking what is recorded
            rec = _recommendation(connection, recommendation_id, self.store.name)
            self._check_against(rec, *parts[:2])
            _refuse_accept_while_stopped(connection, rec, parts[0])
            for earlier in _decisions(connection, rec.candidate):
                if earlier.recommendation_id == rec.id and earlier.stage == "first":
                    raise ReviewError(
                        f"recommendation {rec.id} was decided already ({earlier.decision} by {earlier.reviewer} on "
                        f"{earlier.decided_at:%Y-%m-%d}, decision {earlier.id}); a candidate who disagrees "
                        "can contest it and a second reviewer decides")
            return self._record_decision(connection, rec, parts, stage="first", contest=None)

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
            The candidate's reasons, in their words (kept in the artefact, not in the log).
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
        received_by = _person(received_by, "received_by")
        if assign_to is not None:
            assign_to = _person(assign_to, "assign_to")
        if statement is not None:
            statement = _text(statement, "statement")
        now = self._now()
        due_at = now + timedelta(days=self.settings.contest_days) if due is None else _due(due)
        if due_at <= now:
            raise ReviewError(f"the due date {due_at:%Y-%m-%d %H:%M} UTC lies in the past")

        def work(connection: Connection) -> Contest:
            lock_head(connection)  # serialise with other writers before checking what is recorded
            first = _decision(connection, decision_id, self.store.name)
            if first.stage != "first":
                raise ReviewError(f"decision {decision_id} is the second review of contest {first.contest_id}: it is "
                                  "final within profiler")
            for existing in _contests(connection, first.candidate):
                if existing.decision_id == decision_id:
                    raise ReviewError(f"decision {decision_id} is contested already (contest {existing.id}, filed "
                                      f"{existing.filed_at:%Y-%m-%d}, {existing.status})")
            if assign_to is not None and assign_to == first.reviewer:
                raise ReviewError(f"{assign_to} made the contested decision: a contest goes to a second reviewer")
            payload = {
                "format": REVIEW_FORMAT, "decision": {"artefact": first.id, "payload_hash": first.payload_hash},
                "recommendation": {"artefact": first.recommendation_id, "payload_hash": first.recommendation_hash},
                "job_model": {"id": first.job_model_id, "version": first.job_model_version},
                "first_reviewer": first.reviewer, "statement": statement, "received_by": received_by,
                "filed_at": now, "due": due_at, "assigned_to": assign_to,
            }
            artefact = self._candidates.record_artefact(first.candidate, "contest", payload, actor=received_by,
                                                        connection=connection)
            self.log.append(CONTESTED_EVENT, {
                "contest": artefact.id, "contest_hash": artefact.payload_hash, "decision": first.id,
                "decision_hash": first.payload_hash, "recommendation": first.recommendation_id,
                "first_reviewer": first.reviewer, "due": due_at, "assigned_to": assign_to,
            }, actor=received_by, candidate=first.candidate, connection=connection)
            if assign_to is not None:
                self._log_assignment(connection, first.candidate, artefact.id, assign_to, received_by, due_at)
            return _contests(connection, first.candidate, only=artefact.id)[0]

        return self.log.transaction(work)

    def assign(self, contest_id: int, reviewer: str, *, actor: str) -> Contest:
        """Assign (or reassign) an open contest to a second reviewer, never the first."""
        reviewer, actor = _person(reviewer, "reviewer"), _person(actor, "actor")

        def work(connection: Connection) -> Contest:
            lock_head(connection)  # serialise with other writers before checking what is recorded
            contest = _contest(connection, contest_id, self.store.name)
            if contest.status != "open":
                raise ReviewError(f"contest {contest_id} was decided already")
            if reviewer == contest.first_reviewer:
                raise ReviewError(f"{reviewer} made the contested decision: a contest goes to a second reviewer")
            self._record_assignment(connection, contest, reviewer, actor)
            return _contest(connection, contest_id, self.store.name)

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
        parts = self._checked(decision, reviewer, role, outcome, reason, note)

        def work(connection: Connection) -> Decision:
            lock_head(connection)  # serialise with other writers before checking what is recorded
            contest = _contest(connection, contest_id, self.store.name)
            if contest.status != "open":
                d = contest.second_decision
                raise ReviewError(f"contest {contest_id} was decided already ({d.decision} by {d.reviewer} on "
                                  f"{d.decided_at:%Y-%m-%d}, decision {d.id})")
            if parts[2] == contest.first_reviewer:
                raise ReviewError(f"{parts[2]} made the contested decision {contest.decision_id}: a contest is decided "
                                  "by a second reviewer")
            if contest.assigned_to is not None and contest.assigned_to != parts[2]:
                raise ReviewError(f"contest {contest_id} is assigned to {contest.assigned_to}; reassign it to "
                                  f"{parts[2]} first (Review.assign)")
            rec = _recommendation(connection, contest.recommendation_id, self.store.name)
            self._check_against(rec, *parts[:2])
            if contest.assigned_to is None:
                self._record_assignment(connection, contest, parts[2], f"reviewer:{parts[2]}")
            return self._record_decision(connection, rec, parts, stage="contest", contest=contest)

        return self.log.transaction(work)

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

    # Internals ------------------------------------------------------------------------------------------
    def _checked(self, decision: str, reviewer: str, role: str, outcome: str | None, reason: str | None,
                 note: str | None) -> tuple[str, str | None, str, str, str | None, str | None]:
        kind = decision.replace("-", "_") if isinstance(decision, str) else decision
        if kind not in DECISIONS:
            raise ReviewError(f"decision {decision!r} is not one of accept, override, do_not_use"
                              f"{did_you_mean(decision, DECISIONS)}")
        reviewer = _person(reviewer, "reviewer")
        if not isinstance(role, str) or not ROLE_PATTERN.match(role):
            raise ReviewError(f"role {role!r} must name the reviewer's role in up to 64 characters "
                              "(e.g. 'hiring_manager', 'psychologist')")
        if outcome is not None and outcome not in OUTCOMES:
            raise ReviewError(f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}"
                              f"{did_you_mean(outcome, OUTCOMES)}")
        if reason is not None and reason not in self.settings.reason_codes:
            raise ReviewError(f"reason code {reason!r} is not in the list"
                              f"{did_you_mean(reason, self.settings.reason_codes)}; "
                              f"codes: {', '.join(self.settings.reason_codes)}")
        if note is not None:
            note = _text(note, "note")
        if kind == "override" and outcome is None:
            raise ReviewError("an override names the outcome the reviewer chooses: outcome='advance' or 'not_advance'")
        if kind == "do_not_use" and outcome is not None:
            raise ReviewError("'do not use' sets the recommendation aside: it has no outcome")
        if kind in ("override", "do_not_use") and (reason is None or note is None):
            words = "an override" if kind == "override" else "'do not use'"
            raise ReviewError(f"{words} needs a reason code (one of {', '.join(self.settings.reason_codes)}) and a "
                              "note saying why")
        return kind, outcome, reviewer, role, reason, note

    @staticmethod
    def _check_against(rec: RecordedRecommendation, kind: str, outcome: str | None) -> None:
        if kind == "accept":
            if rec.band == "review":
                why = " (its responses were judged invalid)" if rec.routed_to_review else ""
                raise ReviewError(f"recommendation {rec.id} has the band 'review'{why}: there is nothing to accept; "
                                  "choose an outcome (override with outcome=...) or set it aside (do_not_use)")
            if outcome is not None and outcome != rec.band:
                raise ReviewError(f"accepting recommendation {rec.id} gives its band {rec.band!r}; outcome {outcome!r} "
                                  "would be an override (with a reason code and a note)")
        if kind == "override" and outcome == rec.band:
            raise ReviewError(f"recommendation {rec.id} already recommends {rec.band!r}: that is an accept, not an "
                              "override")

    def _record_decision(self, connection: Connection, rec: RecordedRecommendation, parts: tuple,
                         *, stage: str, contest: Contest | None) -> Decision:
        kind, outcome, reviewer, role, reason, note = parts
        if kind == "accept":
            outcome = rec.band
        now = self._now()
        actor = f"reviewer:{reviewer}"
        payload = {
            "format": REVIEW_FORMAT,
            "recommendation": {"artefact": rec.id, "payload_hash": rec.payload_hash, "band": rec.band,
                               "score": rec.score, "recorded_at": rec.recorded_at},
            "job_model": {"id": rec.job_model_id, "version": rec.job_model_version, "hash": rec.job_model_hash},
            "validity": rec.validity_verdict, "reviewer": reviewer, "role": role, "decision": kind, "outcome": outcome,
            "reason": reason, "reason_text": self.settings.reason_codes.get(reason) if reason else None, "note": note,
            "stage": stage, "contest": None if contest is None else contest.id, "decided_at": now,
        }
        artefact = self._candidates.record_artefact(rec.candidate, "decision", payload, actor=actor,
                                                    session_id=rec.session_id, connection=connection)
        self.log.append(AuditEvent.DECISION, {
            "decision": artefact.id, "decision_hash": artefact.payload_hash, "recommendation": rec.id,
            "recommendation_hash": rec.payload_hash, "band": rec.band, "job_model_id": rec.job_model_id,
            "job_model_version": rec.job_model_version, "job_model_hash": rec.job_model_hash, "reviewer": reviewer,
            "role": role, "kind": kind, "outcome": outcome, "reason": reason, "stage": stage,
            "contest": None if contest is None else contest.id,
        }, actor=actor, candidate=rec.candidate, connection=connection)
        return _decision(connection, artefact.id, self.store.name)

    def _record_assignment(self, connection: Connection, contest: Contest, reviewer: str, actor: str) -> None:
        payload = {"format": REVIEW_FORMAT, "contest": contest.id, "assigned_to": reviewer,
                   "previous": contest.assigned_to, "assigned_at": self._now()}
        self._candidates.record_artefact(contest.candidate, "contest_assignment", payload, actor=actor,
                                         connection=connection)
        self._log_assignment(connection, contest.candidate, contest.id, reviewer, actor, contest.due)

    def _log_assignment(self, connection: Connection, candidate: str, contest_id: int, reviewer: str, actor: str,
                        due: datetime) -> None:
        self.log.append(ASSIGNED_EVENT, {"contest": contest_id, "assigned_to": reviewer, "due": due}, actor=actor,
                        candidate=candidate, connection=connection)


# Reading the artefacts (inside the caller's transaction) ------------------------------------------------
def _artefact_rows(connection: Connection, kind: str | Iterable[str], candidate: str | None = None,
                   artefact_id: int | None = None) -> list[Any]:
    kinds = [kind] if isinstance(kind, str) else list(kind)
    query = select(artefacts).where(artefacts.c.kind.in_(kinds)).order_by(artefacts.c.id)
    if candidate is not None:
        query = query.where(artefacts.c.candidate_id == check_candidate_id(candidate))
    if artefact_id is not None:
        query = query.where(artefacts.c.id == artefact_id)
    return connection.execute(query).all()


def _is_recommendation(payload: Any) -> bool:
    """A recommendation as the pipeline records it (a band and the job model's versions)."""
    return (isinstance(payload, dict) and payload.get("band") in BANDS and isinstance(payload.get("versions"), dict)
            and "job_model_id" in payload["versions"])


def _is_review_record(payload: Any) -> bool:
    return isinstance(payload, dict) and payload.get("format") == REVIEW_FORMAT


def _as_recommendation(row: Any) -> RecordedRecommendation | None:
    p = json.loads(row.payload)
    if not _is_recommendation(p):
        return None
    versions = p["versions"]
    validity = p.get("validity") or {}
    return RecordedRecommendation(
        id=row.id, candidate=row.candidate_id, session_id=row.session_id, band=p["band"],
        score_band=p.get("score_band", p["band"]), score=p.get("score"),
        job_model_id=versions.get("job_model_id", ""), job_model_version=versions.get("job_model_version", ""),
        job_model_hash=versions.get("job_model_hash", ""), payload_hash=row.payload_hash,
        recorded_at=utc(row.recorded_at), validity_verdict=validity.get("verdict"),
        validity_reasons=tuple(validity.get("reasons") or ()), routed_to_review=bool(p.get("routed_to_review")),
        payload=p,
    )


def _recommendation(connection: Connection, recommendation_id: int, where: str) -> RecordedRecommendation:
    if isinstance(recommendation_id, bool) or not isinstance(recommendation_id, numbers.Integral):
        raise ReviewError(f"a recommendation is named by its artefact id (a whole number), got {recommendation_id!r}")
    rows = _artefact_rows(connection, "recommendation", artefact_id=int(recommendation_id))
    found = _as_recommendation(rows[0]) if rows else None
    if found is None:
        raise ReviewError(f"no recommendation {recommendation_id} recorded by the assessment pipeline in {where}")
    return found


def _as_decision(row: Any) -> Decision | None:
    p = json.loads(row.payload)
    if not _is_review_record(p):
        return None
    rec, model = p["recommendation"], p["job_model"]
    return Decision(
        id=row.id, candidate=row.candidate_id, recommendation_id=rec["artefact"],
        recommendation_hash=rec["payload_hash"],
        band=rec["band"], job_model_id=model["id"], job_model_version=model["version"], reviewer=p["reviewer"],
        role=p["role"], decision=p["decision"], outcome=p["outcome"], reason=p["reason"], note=p["note"],
        stage=p["stage"], contest_id=p["contest"], recommended_at=_parse_time(rec["recorded_at"]),
        decided_at=_parse_time(p["decided_at"]), payload_hash=row.payload_hash, audit_seq=row.audit_seq,
    )


def _decisions(connection: Connection, candidate: str | None, only: int | None = None) -> list[Decision]:
    rows = _artefact_rows(connection, "decision", candidate, artefact_id=only)
    return [d for d in map(_as_decision, rows) if d is not None]


def _decision(connection: Connection, decision_id: int, where: str) -> Decision:
    if isinstance(decision_id, bool) or not isinstance(decision_id, numbers.Integral):
        raise ReviewError(f"a decision is named by its artefact id (a whole number), got {decision_id!r}")
    found = _decisions(connection, None, only=int(decision_id))
    if not found:
        raise ReviewError(f"no decision {decision_id} in {where}")
    return found[0]


def _contests(connection: Connection, candidate: str | None, only: int | None = None) -> list[Contest]:
    rows = _artefact_rows(connection, ("contest", "contest_assignment"), candidate)
    assigned: dict[int, str] = {}
    payloads = {row.id: json.loads(row.payload) for row in rows}
    rows = [row for row in rows if _is_review_record(payloads[row.id])]
    for row in rows:
        if row.kind == "contest_assignment":
            assigned[payloads[row.id]["contest"]] = payloads[row.id]["assigned_to"]
    seconds = {d.contest_id: d for d in _decisions(connection, candidate) if d.stage == "contest"}
    out = []
    for row in rows:
        if row.kind != "contest" or (only is not None and row.id != only):
            continue
        p = payloads[row.id]
        out.append(Contest(
            id=row.id, candidate=row.candidate_id, decision_id=p["decision"]["artefact"],
            decision_hash=p["decision"]["payload_hash"], recommendation_id=p["recommendation"]["artefact"],
            first_reviewer=p["first_reviewer"], job_model_id=p["job_model"]["id"],
            job_model_version=p["job_model"]["version"], statement=p["statement"], received_by=p["received_by"],
            filed_at=_parse_time(p["filed_at"]), due=_parse_time(p["due"]),
            assigned_to=assigned.get(row.id, p["assigned_to"]), second_decision=seconds.get(row.id),
        ))
    return out


def _contest(connection: Connection, contest_id: int, where: str) -> Contest:
    if isinstance(contest_id, bool) or not isinstance(contest_id, numbers.Integral):
        raise ReviewError(f"a contest is named by its artefact id (a whole number), got {contest_id!r}")
    rows = _artefact_rows(connection, "contest", artefact_id=int(contest_id))
    found = _contests(connection, rows[0].candidate_id, only=int(contest_id)) if rows else []
    if not found:
        raise ReviewError(f"no contest {contest_id} in {where}")
    return found[0]


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _due(due: date | datetime) -> datetime:
    if isinstance(due, datetime):
        if due.tzinfo is None:
            raise ReviewError("give the due date with a timezone (or as a date)")
        return due.astimezone(UTC)
    if isinstance(due, date):
        return datetime.combine(due, time(23, 59, 59, 999999), tzinfo=UTC)
    raise ReviewError(f"due must be a date or a timezone-aware datetime, got {type(due).__name__}")


def _person(value: object, what: str) -> str:
    try:
        return check_person(value, what)
    except ControlError as exc:
        raise ReviewError(str(exc)) from None


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ReviewError(f"{what} must be a non-empty text")
    if len(value) > MAX_NOTE:
        raise ReviewError(f"{what} is {len(value)} characters long; keep it under {MAX_NOTE}")
    return value.strip()


# Figures -------------------------------------------------------------------------------------------------
DECISION_COLUMNS = ("id", "candidate", "recommendation", "band", "job_model_id", "job_model_version", "reviewer",
                    "role", "decision", "outcome", "reason", "stage", "contest", "recommended_at", "decided_at")
CONTEST_COLUMNS = ("id", "candidate", "decision", "first_reviewer", "job_model_id", "job_model_version", "filed_at",
                   "due", "assigned_to", "second_decision", "second_reviewer", "decided_at")
REVIEWER_FIGURES = ("decisions", "accepted", "overridden", "chosen", "do_not_use", "override_rate", "do_not_use_rate",
                    "hours_median", "hours_p90", "contested", "contests_decided", "contests_changed", "second_reviews",
                    "rubber_stamp")
MODEL_FIGURES = ("decisions", "accepted", "overridden", "chosen", "do_not_use", "override_rate", "do_not_use_rate",
                 "hours_median", "hours_p90", "contests", "contests_open", "contests_overdue", "contests_upheld",
                 "contests_changed")


@dataclass(frozen=True)
class OversightFigures:
    """Oversight figures per reviewer and per job model (see :func:`oversight_figures`)."""

    by_reviewer: pd.DataFrame
    by_job_model: pd.DataFrame
    rule: RubberStampRule
    warnings: tuple[str, ...]

    def __str__(self) -> str:
        lines = ["Oversight figures (first-line decisions; override rate over accepted + overridden "
                 "advance/not_advance recommendations; hours from recommendation to decision)", "", "Per reviewer"]
        lines.append(_table(self.by_reviewer) if len(self.by_reviewer) else "  no decisions")
        lines += ["", "Per job model"]
        lines.append(_table(self.by_job_model) if len(self.by_job_model) else "  no decisions")
        lines += ["", f"Rubber-stamp rule: {self.rule.text()}"]
        lines += [f"WARNING: {w}" for w in self.warnings] or ["no reviewer flagged"]
        return "\n".join(lines)


def _refuse_accept_while_stopped(connection: Connection, rec: RecordedRecommendation, kind: str) -> None:
    """While an operator has stopped a job model its recommendations are in doubt: a reviewer may still decide
    with a reason (override, do not use) but may not simply accept what the stopped model recommended."""
    from profiler.oversight.control import ModelStoppedError, check_running

    if kind != "accept":
        return
    try:
        check_running(connection, rec.job_model_id, rec.job_model_version)
    except ModelStoppedError as stopped:
        raise ReviewError(f"{stopped}; its recommendation {rec.id} cannot be accepted while it is stopped: decide "
                          "with a reason (override, do_not_use) or wait until it is resumed") from None


def _table(frame: pd.DataFrame) -> str:
    import pandas as pd

    shown = frame.copy()
    for column in ("override_rate", "do_not_use_rate"):
        shown[column] = [("-" if pd.isna(v) else f"{100 * v:.1f}%") for v in shown[column]]
    for column in ("hours_median", "hours_p90"):
        shown[column] = [("-" if pd.isna(v) else f"{v:.1f}") for v in shown[column]]
    return shown.to_string()


def _tallies(first: pd.DataFrame) -> dict[str, Any]:
    """Counts, rates and times of a group of first-line decisions."""
    import numpy as np
    import pandas as pd

    definite = first["band"].isin(OUTCOMES)
    accepted = int((first["decision"] == "accept").sum())
    overridden = int(((first["decision"] == "override") & definite).sum())
    chosen = int(((first["decision"] == "override") & ~definite).sum())
    do_not_use = int((first["decision"] == "do_not_use").sum())
    n = len(first)
    hours = ((pd.to_datetime(first["decided_at"], utc=True) - pd.to_datetime(first["recommended_at"], utc=True))
             .dt.total_seconds().to_numpy(dtype=float) / 3600.0) if n else np.array([])
    return {
        "decisions": n, "accepted": accepted, "overridden": overridden, "chosen": chosen, "do_not_use": do_not_use,
        "override_rate": overridden / (accepted + overridden) if accepted + overridden else math.nan,
        "do_not_use_rate": do_not_use / n if n else math.nan,
        "hours_median": float(np.median(hours)) if n else math.nan,
        "hours_p90": float(np.quantile(hours, 0.9)) if n else math.nan,  # numpy "linear" = R quantile type 7
    }


def _results(decisions: pd.DataFrame) -> dict[int, str]:
    """Decision id -> its result (the outcome, or do_not_use)."""
    return {int(i): (o if isinstance(o, str) else "do_not_use")
            for i, o in zip(decisions["id"], decisions["outcome"], strict=True)}


def oversight_figures(decisions: pd.DataFrame, contests: pd.DataFrame | None = None, *,
                      rule: RubberStampRule | None = None, now: datetime | None = None) -> OversightFigures:
    """Oversight figures per reviewer and per job model, from tables of decisions and contests.

    Parameters
    ----------
    decisions : DataFrame
        One row per decision, columns :data:`DECISION_COLUMNS` (``Review.decision_frame()``): ``band`` is
        the recommended band, ``decision`` one of :data:`DECISIONS`, ``stage`` ``first`` or ``contest``.
    contests : DataFrame, optional
        One row per contest, columns :data:`CONTEST_COLUMNS` (``Review.contest_frame()``).
    rule : RubberStampRule, optional
    now : datetime, optional
        For overdue contests (default: now).

    Returns
    -------
    OversightFigures
        ``by_reviewer`` (index: reviewer) and ``by_job_model`` (index: job model id and version), computed
        on first-line decisions (``stage == "first"``):

        - ``decisions``; ``accepted``; ``overridden`` (an ``advance`` or ``not_advance`` recommendation
          overridden); ``chosen`` (an outcome chosen for a ``review`` band); ``do_not_use``; they add up
          to ``decisions``;
        - ``override_rate = overridden / (accepted + overridden)``: how often the reviewer departed from a
          definite recommendation they acted on (NaN without one);
        - ``do_not_use_rate = do_not_use / decisions``;
        - ``hours_median``, ``hours_p90``: hours from the recommendation to the decision (median; 90th
          percentile by linear interpolation, numpy's default and R's ``quantile(type = 7)``);
        - per reviewer: ``contested`` (contests of their decisions), ``contests_decided`` and
          ``contests_changed`` (of those, decided by a second reviewer, and with another result),
          ``second_reviews`` (contests they decided), ``rubber_stamp`` (the rule's flag);
        - per job model: ``contests``, ``contests_open``, ``contests_overdue``, ``contests_upheld``,
          ``contests_changed``.

        ``warnings`` names every reviewer flagged by the rule.
    """
    import pandas as pd

    rule = rule or RubberStampRule()
    now = now or datetime.now(UTC)
    missing = [c for c in ("id", "band", "reviewer", "decision", "outcome", "stage", "job_model_id",
                           "job_model_version", "recommended_at", "decided_at") if c not in decisions.columns]
    if missing:
        raise ReviewError(f"the decisions table lacks the column(s) {', '.join(missing)}")
    if contests is None:
        contests = pd.DataFrame(columns=list(CONTEST_COLUMNS))
    first = decisions[decisions["stage"] == "first"]
    second = decisions[decisions["stage"] == "contest"]
    results = _results(decisions)
    contest_result = {}
    for row in contests.itertuples(index=False):
        if row.second_decision is None or pd.isna(row.second_decision):
            contest_result[row.id] = "open"
        else:
            same = results.get(int(row.second_decision)) == results.get(int(row.decision))
            contest_result[row.id] = "upheld" if same else "changed"

    reviewers = []
    for reviewer in sorted(set(first["reviewer"]) | set(second["reviewer"])):
        mine = first[first["reviewer"] == reviewer]
        against = contests[contests["first_reviewer"] == reviewer]
        outcomes = [contest_result[c] for c in against["id"]]
        tallies = _tallies(mine)
        definite = tallies["accepted"] + tallies["overridden"]
        flagged = definite >= rule.min_decisions and tallies["override_rate"] < rule.max_override_rate
        reviewers.append({"reviewer": reviewer, **tallies, "contested": len(against),
                          "contests_decided": sum(o != "open" for o in outcomes),
                          "contests_changed": outcomes.count("changed"),
                          "second_reviews": int((second["reviewer"] == reviewer).sum()), "rubber_stamp": flagged})
    by_reviewer = pd.DataFrame(reviewers, columns=["reviewer", *REVIEWER_FIGURES]).set_index("reviewer")

    models = []
    keys = sorted(set(zip(first["job_model_id"], first["job_model_version"], strict=True))
                  | set(zip(contests["job_model_id"], contests["job_model_version"], strict=True)))
    for model_id, version in keys:
        mine = first[(first["job_model_id"] == model_id) & (first["job_model_version"] == version)]
        theirs = contests[(contests["job_model_id"] == model_id) & (contests["job_model_version"] == version)]
        outcomes = [contest_result[c] for c in theirs["id"]]
        overdue = sum(contest_result[c] == "open" and pd.Timestamp(d).to_pydatetime() < now
                      for c, d in zip(theirs["id"], theirs["due"], strict=True))
        models.append({"job_model_id": model_id, "job_model_version": version, **_tallies(mine),
                       "contests": len(theirs), "contests_open": outcomes.count("open"), "contests_overdue": overdue,
                       "contests_upheld": outcomes.count("upheld"), "contests_changed": outcomes.count("changed")})
    by_model = pd.DataFrame(models, columns=["job_model_id", "job_model_version", *MODEL_FIGURES]) \
        .set_index(["job_model_id", "job_model_version"])

    warnings = tuple(
        f"reviewer {name} overrode {int(row.overridden)} of {int(row.accepted + row.overridden)} advance/not_advance "
        f"recommendations ({100 * row.override_rate:.1f}%): possible rubber-stamping (rule: {rule.text()}); look "
        "at how these cases were reviewed"
        for name, row in by_reviewer.iterrows() if row.rubber_stamp)
    return OversightFigures(by_reviewer, by_model, rule, warnings)


def override_rates_by_group(decisions: pd.DataFrame, groups: pd.Series | Mapping[str, Any], *,
                            unknown: str = "unknown") -> pd.DataFrame:
    """Override rates of first-line decisions per group of candidates, from demographics passed in.

    The guide asks to track override rates per group (do reviewers override more often, or in one
    direction, for some groups?). Nothing here reads protected attributes: the caller passes them,
    e.g. a column of ``DemographicsVault.read(actor=..., purpose=...)``, whose read is logged.

    Parameters
    ----------
    decisions : DataFrame
        ``Review.decision_frame()`` (columns ``candidate``, ``band``, ``decision``, ``outcome``, ``stage``).
    groups : Series or mapping
        Candidate id -> group label (e.g. ``"female"``); candidates without one (or None/NaN) fall in
        ``unknown``.

    Returns
    -------
    DataFrame
        Index: group (sorted, ``unknown`` last); columns ``decisions``, ``accepted``, ``overridden``,
        ``override_rate`` (as in :func:`oversight_figures`), ``overridden_up`` (``not_advance`` overridden to
        ``advance``), ``overridden_down`` (``advance`` to ``not_advance``), ``do_not_use``,
        ``do_not_use_rate``. Every group is listed with its n, however small: read rates of small groups
        with their n.
    """
    import pandas as pd

    if isinstance(groups, Mapping):
        groups = pd.Series(groups, dtype=object)
    if not isinstance(groups, pd.Series):
        raise ReviewError("groups must be a Series or a mapping candidate id -> group label")
    if groups.index.has_duplicates:
        raise ReviewError("groups lists a candidate twice")
    first = decisions[decisions["stage"] == "first"]
    label = first["candidate"].map(groups).astype(object)
    label = label.where(label.notna(), unknown).astype(str)
    rows = []
    names = sorted(set(label) - {unknown}) + ([unknown] if unknown in set(label) else [])
    for name in names:
        mine = first[label == name]
        definite = mine["band"].isin(OUTCOMES)
        accepted = int((mine["decision"] == "accept").sum())
        over = (mine["decision"] == "override") & definite
        overridden = int(over.sum())
        do_not_use = int((mine["decision"] == "do_not_use").sum())
        rows.append({"group": name, "decisions": len(mine), "accepted": accepted, "overridden": overridden,
                     "override_rate": overridden / (accepted + overridden) if accepted + overridden else math.nan,
                     "overridden_up": int((over & (mine["outcome"] == "advance")).sum()),
                     "overridden_down": int((over & (mine["outcome"] == "not_advance")).sum()),
                     "do_not_use": do_not_use, "do_not_use_rate": do_not_use / len(mine)})
    columns = ["group", "decisions", "accepted", "overridden", "override_rate", "overridden_up", "overridden_down",
               "do_not_use", "do_not_use_rate"]
    return pd.DataFrame(rows, columns=columns).set_index("group")


__all__ = [
    "CONTEST_COLUMNS",
    "DECISIONS",
    "DECISION_COLUMNS",
    "DEFAULT_CONTEST_DAYS",
    "DEFAULT_REASON_CODES",
    "OUTCOMES",
    "Contest",
    "Decision",
    "OversightFigures",
    "RecordedRecommendation",
    "Review",
    "ReviewError",
    "ReviewSettings",
    "RubberStampRule",
    "configure_review",
    "oversight_figures",
    "override_rates_by_group",
    "review_settings",
]
