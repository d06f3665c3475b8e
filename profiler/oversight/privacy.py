"""A candidate's rights over their data (GDPR Art. 15 and 17) and the retention of finished cases.

- :func:`export_candidate`: everything held about one candidate, as JSON-ready data.
- :func:`erase_candidate`: deletes their answers, sessions, case records (profiles, scores, explanations,
  decisions), identity and protected attributes, invitations (with the vendor's reference), consents and
  webhook deliveries, and erases the payloads of their audit-log entries while
  keeping the chain verifiable; the erasure itself is logged and its entry is the proof.
- :func:`purge_expired`: erases finished cases once the retention period has passed, except those on
  legal hold, and logs what it did.

What stays after an erasure: the pseudonym with its dates and status ``erased``, the log entries about
it with event type, time, actor and hashes (no payload), and aggregate audit figures computed before. With
the identity gone, the pseudonym no longer leads to a person.

Deleted data must also leave the files. On SQLite deleted content is overwritten with zeros
(``secure_delete``, always on) and the erasure then waits for the write-ahead log to be copied into the
main file and emptied (:mod:`profiler.store.scrub`): until then the main file still holds the old pages.
Before erasing, it makes sure no process holds an old snapshot open; if one does, it refuses and names the
process, changing nothing. If a reader starts a long transaction in the moment between, the erasure is
recorded but the receipt says ``files_clean=False`` and names the process: :func:`scrub_files` finishes the
job later. On PostgreSQL deleted rows remain in the table files until ``VACUUM`` reclaims them and later
writes overwrite them; the receipt says so. Backups keep what they hold
until they expire: give them a lifetime shorter than the time allowed to answer an erasure request.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from profiler.oversight.candidates import (
    CandidateError,
    _candidate_row,
    check_candidate_id,
    delete_demographics,
    demographics_of,
    utc,
)
from profiler.store.audit_log import (
    AuditEvent,
    AuditLog,
    _checked,
    _insert,
    canonical_json,
    erasure_marker,
    lock_head,
    marker_seq,
    sha256_of,
    utc_text,
)
from profiler.store.scrub import holders, truncate_wal
from profiler.store.store import Store
from profiler.store.tables import (
    audit_log,
    candidate_identity,
    candidates,
    case_records,
    consents,
    invitations,
    session_events,
    sessions,
    webhook_attempts,
    webhook_deliveries,
)

EXPORT_FORMAT = "profiler.candidate-export/2"  # 2: "artefacts" became "records"
DEFAULT_RETENTION = timedelta(days=365)  # 29 CFR 1602.14: hiring records are kept at least one year
CHUNK = 500  # seqs per UPDATE: stays far below every database's limit on bound parameters
CHECKPOINT_WAIT_S = 30.0  # how long an erasure waits for readers of an older snapshot to finish


class ErasureBlockedError(CandidateError):
    """An erasure that would not leave the database file clean: another process holds an old snapshot of the
    store open; the message names it. Nothing was erased."""


@dataclass(frozen=True)
class ErasureReceipt:
    """What an erasure deleted, and the log entry that proves it.

    Attributes
    ----------
    candidate : str
    erased_at : datetime
    sessions, answers, records : int
        Sessions, recorded session events (answers, skips, moves) and case records deleted.
    identity, demographics : bool
        Whether identifying data and protected attributes were held (and are now deleted).
    log_entries : int
        Log entries whose payloads were erased (their hashes are kept).
    entry_seq, entry_hash : int, str
        The ``candidate.erased`` entry.
    files_clean : bool or None
        SQLite: True once the deleted data have left the database's files (zeroed and the write-ahead log
        copied in and emptied); False if a reader kept an old snapshot open (see ``remaining``; run
        :func:`scrub_files`). None on other databases, which keep deleted rows until ``VACUUM``.
    remaining : str or None
        What still holds deleted data, in words.
    """

    candidate: str
    erased_at: datetime
    sessions: int
    answers: int
    records: int
    identity: bool
    demographics: bool
    log_entries: int
    entry_seq: int
    entry_hash: str
    files_clean: bool | None = True
    remaining: str | None = None

    def __str__(self) -> str:
        files = {True: "; the deleted data are overwritten in the database file",
                 False: f"; NOT YET GONE FROM THE FILES: {self.remaining}",
                 None: f"; {self.remaining}"}[self.files_clean]
        return (f"erased candidate {self.candidate}: {self.sessions} session(s), {self.answers} answer event(s), "
                f"{self.records} case record(s), identity {'deleted' if self.identity else 'none held'}, "
                f"demographics {'deleted' if self.demographics else 'none held'}, {self.log_entries} log "
                f"payload(s) erased; proof: log entry {self.entry_seq} {self.entry_hash}{files}")

    @property
    def artefacts(self) -> int:
        """Deprecated name of :attr:`records`."""
        warnings.warn("ErasureReceipt.artefacts is deprecated; use ErasureReceipt.records", DeprecationWarning,
                      stacklevel=2)
        return self.records


@dataclass(frozen=True)
class PurgeReport:
    """The outcome of :func:`purge_expired`.

    Attributes
    ----------
    cutoff : datetime
        Cases finished before this moment were due.
    purged : tuple of str
        Candidates erased (or, in a dry run, that would be).
    held : tuple of str
        Candidates due but kept because of a legal hold.
    receipts : tuple of ErasureReceipt
    dry_run : bool
    entry_seq : int or None
        The ``retention.purged`` log entry (None in a dry run).
    """

    cutoff: datetime
    purged: tuple[str, ...]
    held: tuple[str, ...]
    receipts: tuple[ErasureReceipt, ...]
    dry_run: bool
    entry_seq: int | None

    def __str__(self) -> str:
        verb = "would purge" if self.dry_run else "purged"
        return (f"{verb} {len(self.purged)} case(s) finished before {self.cutoff:%Y-%m-%d %H:%M} UTC; "
                f"{len(self.held)} kept on legal hold")


# Export ------------------------------------------------------------------------------------------------
def export_candidate(store: Store, candidate_id: str, *, actor: str, log: AuditLog | None = None) -> dict[str, Any]:
    """Everything held about one candidate, as JSON-ready data (``json.dumps`` works on it as is).

    Keys: ``format``, ``candidate_id``, ``exported_at``, ``candidate`` (pseudonymous record), ``identity``,
    ``demographics``, ``sessions`` (each with its ``events``: answers, skips, moves, pauses), ``records`` (case records)
    and ``audit_log`` (entries about the candidate). The export is logged (``candidate.exported``, with the
    hash of the export, never its content).

    Raises
    ------
    CandidateError
        Nothing is held about ``candidate_id``.
    """
    check_candidate_id(candidate_id)
    log = log if log is not None else AuditLog(store)
    with store.read() as connection:  # one snapshot: the parts agree with each other
        record = _candidate_row(connection, candidate_id)
        identity = connection.execute(select(candidate_identity)
                                      .where(candidate_identity.c.candidate_id == candidate_id)).first()
        demographics = demographics_of(connection, candidate_id)
        session_list = _sessions_of(connection, candidate_id)
        record_rows = connection.execute(select(case_records).where(case_records.c.candidate_id == candidate_id)
                                         .order_by(case_records.c.id)).all()
        entries = connection.execute(select(audit_log).where(audit_log.c.candidate_id == candidate_id)
                                     .order_by(audit_log.c.seq)).all()
    if record is None and not session_list and not entries:
        raise CandidateError(f"nothing is held about candidate {candidate_id!r} in {store.name}")
    document = {
        "format": EXPORT_FORMAT,
        "candidate_id": candidate_id,
        "exported_at": utc_text(datetime.now(UTC)),
        "candidate": None if record is None else {
            "status": record.status, "created_at": _time(record.created_at), "closed_at": _time(record.closed_at),
            "legal_hold": bool(record.legal_hold), "legal_hold_reason": record.legal_hold_reason,
            "erased_at": _time(record.erased_at),
        },
        "identity": None if identity is None else {
            "name": identity.name, "email": identity.email, "details": _json(identity.details),
            "updated_at": _time(identity.updated_at),
        },
        "demographics": None if demographics is None else {**demographics,
                                                           "recorded_at": _time(demographics["recorded_at"])},
        "sessions": session_list,
        "records": [{
            "id": row.id, "kind": row.kind, "session_id": row.session_id, "payload": _json(row.payload),
            "payload_hash": row.payload_hash, "audit_seq": row.audit_seq, "recorded_by": row.recorded_by,
            "recorded_at": _time(row.recorded_at),
        } for row in record_rows],
        "audit_log": [{
            "seq": row.seq, "recorded_at": row.recorded_at, "event": row.event, "actor": row.actor,
            "payload": _json(row.payload), "erased": marker_seq(row.payload) is not None,
            "payload_hash": row.payload_hash, "prev_hash": row.prev_hash, "entry_hash": row.entry_hash,
        } for row in entries],
    }
    counts = {"sessions": len(session_list), "records": len(record_rows), "log_entries": len(entries),
              "identity": identity is not None, "demographics": demographics is not None}
    log.append(AuditEvent.EXPORTED, {"sha256": sha256_of(canonical_json(document)), "counts": counts}, actor=actor,
               candidate=candidate_id)
    return document


def _sessions_of(connection: Connection, candidate_id: str) -> list[dict[str, Any]]:
    rows = connection.execute(select(sessions).where(sessions.c.respondent == candidate_id)
                              .order_by(sessions.c.started_at, sessions.c.id)).all()
    found = []
    for row in rows:
        events = connection.execute(select(session_events).where(session_events.c.session_id == row.id)
                                    .order_by(session_events.c.seq)).all()
        found.append({
            "id": row.id, "questionnaire_id": row.questionnaire_id, "questionnaire_version": row.questionnaire_version,
            "content_hash": row.content_hash, "language": row.language, "seed": row.seed,
            "item_order": _json(row.item_order), "status": row.status, "expired": bool(row.expired),
            "started_at": _time(row.started_at), "finished_at": _time(row.finished_at),
            "events": [{
                "seq": e.seq, "kind": e.kind, "item_id": e.item_id, "position": e.position, "value": e.value,
                "shown_seconds": e.shown_seconds, "item_time_exceeded": bool(e.item_time_exceeded),
                "recorded_at": _time(e.recorded_at),
            } for e in events],
        })
    return found


# Erasure -----------------------------------------------------------------------------------------------
def erase_candidate(store: Store, candidate_id: str, *, actor: str, reason: str,
                    log: AuditLog | None = None, wait: float = CHECKPOINT_WAIT_S) -> ErasureReceipt:
    """Erase what is held about one candidate, in one transaction, keeping the audit log verifiable.

    Deletes the candidate's sessions with every recorded answer, their artefacts (profiles, scores,
    explanations, recommendations, decisions), identifying data and protected attributes. Each log entry
    about the candidate keeps its fields and hashes, but its payload is replaced by the erasure marker
    naming the new ``candidate.erased`` entry, which lists the erased entries and the counts deleted.
    :meth:`AuditLog.verify` accepts exactly those payloads.

    Parameters
    ----------
    store : Store
    candidate_id : str
    actor : str
        Who erases (e.g. the data-protection officer).
    reason : str
        Why (e.g. ``"erasure request of 2025-03-01"``); logged, so it must not identify the person.
    log : AuditLog, optional
    wait : float
        SQLite: seconds to wait for other processes' reads of an older snapshot to finish, before erasing
        (else :class:`ErasureBlockedError`) and after (else the receipt says ``files_clean=False``).

    Returns
    -------
    ErasureReceipt

    Raises
    ------
    CandidateError
        The candidate is on legal hold, nothing is held about them, or they were erased already and
        nothing has been recorded since.
    ErasureBlockedError
        Another process kept an old snapshot of the SQLite store open for ``wait`` seconds: the deleted data
        could not leave the file, so nothing was erased (the message names the process).
    """
    check_candidate_id(candidate_id)
    file = getattr(store, "file", None)
    if file is not None and not truncate_wal(store.engine, wait):
        raise ErasureBlockedError(f"cannot erase candidate {candidate_id!r} now: {_blocking(file)} keeps an older "
                                  f"snapshot of {store.name} open (waited {wait:g} s), so the erased data would stay "
                                  "in the database file; nothing was erased. Try again once it has finished, or "
                                  "stop it")
    if not isinstance(reason, str) or not reason.strip():
        raise CandidateError("an erasure is recorded with a reason (e.g. 'erasure request of 2025-03-01')")
    log = log if log is not None else AuditLog(store)

    def work(connection: Connection) -> ErasureReceipt:
        at = lock_head(connection)  # first: the markers name the erasure entry's seq
        record = _candidate_row(connection, candidate_id)
        if record is not None and record.legal_hold:
            raise CandidateError(f"candidate {candidate_id!r} is on legal hold ({record.legal_hold_reason}): "
                                 "their records cannot be erased until the hold is released")
        # Invitations (their vendor reference), consents and webhook bodies go first: they refer to the sessions.
        n_invitations = _delete_invitations(connection, candidate_id)
        session_ids = select(sessions.c.id).where(sessions.c.respondent == candidate_id).scalar_subquery()
        answers = connection.execute(delete(session_events).where(session_events.c.session_id.in_(session_ids))
                                     ).rowcount
        n_records = connection.execute(delete(case_records).where(case_records.c.candidate_id == candidate_id)
                                       ).rowcount
        n_sessions = connection.execute(delete(sessions).where(sessions.c.respondent == candidate_id)).rowcount
        identity = connection.execute(delete(candidate_identity)
                                      .where(candidate_identity.c.candidate_id == candidate_id)).rowcount > 0
        demographics = delete_demographics(connection, candidate_id)
        entries = connection.execute(select(audit_log.c.seq, audit_log.c.payload)
                                     .where(audit_log.c.candidate_id == candidate_id,
                                            audit_log.c.event != AuditEvent.ERASED.value)
                                     .order_by(audit_log.c.seq)).all()
        redacted = [row.seq for row in entries if marker_seq(row.payload) is None]
        if not (redacted or answers or n_records or n_sessions or identity or demographics or n_invitations):
            if record is None:
                raise CandidateError(f"nothing is held about candidate {candidate_id!r} in {store.name}")
            if record.status == "erased":
                raise CandidateError(f"candidate {candidate_id!r} was erased on {utc(record.erased_at):%Y-%m-%d} "
                                     "and nothing has been recorded since")
        marker = erasure_marker(at[0])
        for start in range(0, len(redacted), CHUNK):
            connection.execute(update(audit_log).where(audit_log.c.seq.in_(redacted[start:start + CHUNK]))
                               .values(payload=marker))
        now = datetime.now(UTC)
        if record is not None:
            connection.execute(update(candidates).where(candidates.c.id == candidate_id)
                               .values(status="erased", erased_at=now))
        deleted = {"sessions": n_sessions, "answers": answers, "records": n_records, "identity": identity,
                   "demographics": demographics, "invitations": n_invitations}
        payload = {"reason": reason, "deleted": deleted, "redacted": redacted, "erased_at": now}
        entry = _insert(connection, *_checked(AuditEvent.ERASED, payload, actor, candidate_id), at=at)
        return ErasureReceipt(candidate_id, now, n_sessions, answers, n_records, identity, demographics,
                              len(redacted), entry.seq, entry.entry_hash)

    receipt = log.transaction(work)
    if store.engine.dialect.name != "sqlite":
        return replace(receipt, files_clean=None, remaining=f"{store.engine.dialect.name} keeps deleted rows in "
                       "its files until VACUUM reclaims them and later writes overwrite them")
    if file is None or truncate_wal(store.engine, wait):
        return receipt  # in memory, or zeroed and copied into the file with the WAL emptied
    return replace(receipt, files_clean=False, remaining=f"{_blocking(file)} began reading an older snapshot "
                   f"of {store.name} during the erasure; the old pages stay in the file until it ends: run "
                   "scrub_files (profiler candidate scrub) again")


def _delete_invitations(connection: Connection, candidate_id: str) -> int:
    """Delete the candidate's invitations with their consents and webhook deliveries; return how many."""
    deliveries = select(webhook_deliveries.c.id).where(webhook_deliveries.c.candidate_id == candidate_id) \
        .scalar_subquery()
    connection.execute(delete(webhook_attempts).where(webhook_attempts.c.delivery_id.in_(deliveries)))
    connection.execute(delete(webhook_deliveries).where(webhook_deliveries.c.candidate_id == candidate_id))
    connection.execute(delete(consents).where(consents.c.candidate_id == candidate_id))
    return connection.execute(delete(invitations).where(invitations.c.candidate_id == candidate_id)).rowcount


def scrub_files(store: Store, *, wait: float = CHECKPOINT_WAIT_S) -> bool:
    """SQLite: copy the write-ahead log into the database file and empty it, so that what was deleted (zeroed
    by ``secure_delete``) leaves the files; True once done, False if another process kept an older snapshot
    open for ``wait`` seconds. Other databases: False (their files keep deleted rows until ``VACUUM``)."""
    if store.engine.dialect.name != "sqlite":
        return False
    return truncate_wal(store.engine, wait)


def _blocking(file: Path) -> str:
    found = holders(file)
    if not found:
        return "another connection (in this process, or a process this one cannot see)"
    return ("process " if len(found) == 1 else "processes ") + ", ".join(found)


# Retention ---------------------------------------------------------------------------------------------
def purge_expired(store: Store, *, actor: str, retention: timedelta = DEFAULT_RETENTION,
                  now: datetime | None = None, dry_run: bool = False, log: AuditLog | None = None) -> PurgeReport:
    """Erase every finished case older than the retention period, except those on legal hold.

    A case is due when the candidate was closed (:meth:`Candidates.close`) more than ``retention`` ago.
    A respondent without a candidate record (e.g. ``profiler take`` without ``--respondent`` of a
    registered candidate) is due when their last recorded activity (session finished, or last event) is
    older than that. Each case is erased in its own transaction (:func:`erase_candidate`), then one
    ``retention.purged`` entry lists the candidates purged and those kept on hold.

    Parameters
    ----------
    store : Store
    actor : str
    retention : timedelta
        How long finished cases are kept (default 365 days, the US minimum for hiring records; check the
        periods that apply to you).
    now : datetime, optional
        The present (tests pass a fixed one); timezone-aware.
    dry_run : bool
        Only report what would be purged; change and log nothing.
    log : AuditLog, optional

    Returns
    -------
    PurgeReport
    """
    if not isinstance(retention, timedelta) or retention <= timedelta(0):
        raise CandidateError(f"retention must be a positive timedelta, got {retention!r}")
    now = now if now is not None else datetime.now(UTC)
    if now.tzinfo is None:
        raise CandidateError("now must be timezone-aware")
    cutoff = now.astimezone(UTC) - retention
    log = log if log is not None else AuditLog(store)
    with store.read() as connection:
        due = connection.execute(select(candidates.c.id, candidates.c.legal_hold)
                                 .where(candidates.c.status == "closed", candidates.c.closed_at <= cutoff)
                                 .order_by(candidates.c.closed_at, candidates.c.id)).all()
        orphans = _inactive_respondents(connection, cutoff)
    held = tuple(row.id for row in due if row.legal_hold)
    todo = [row.id for row in due if not row.legal_hold] + orphans
    if dry_run:
        return PurgeReport(cutoff, tuple(todo), held, (), True, None)
    receipts, late_holds = [], []
    days = retention / timedelta(days=1)
    for candidate_id in todo:
        try:
            receipts.append(erase_candidate(store, candidate_id, actor=actor, log=log,
                                            reason=f"retention period of {days:g} days ended"))
        except ErasureBlockedError:
            raise  # another process holds the store: every erasure would be refused; the message names it
        except CandidateError:  # put on hold (or erased) since the list was read
            late_holds.append(candidate_id)
    purged = tuple(r.candidate for r in receipts)
    held = held + tuple(late_holds)
    entry = log.append(AuditEvent.PURGED, {"retention_days": days, "cutoff": cutoff, "purged": list(purged),
                                           "held": list(held)}, actor=actor)
    return PurgeReport(cutoff, purged, held, tuple(receipts), False, entry.seq)


def _inactive_respondents(connection: Connection, cutoff: datetime) -> list[str]:
    """Respondents without a candidate record whose last recorded activity is older than ``cutoff``."""
    last_event = (select(session_events.c.session_id, func.max(session_events.c.recorded_at).label("last"))
                  .group_by(session_events.c.session_id).subquery())
    activity = func.coalesce(sessions.c.finished_at, last_event.c.last, sessions.c.started_at)
    query = (select(sessions.c.respondent, func.max(activity).label("last"))
             .select_from(sessions.outerjoin(last_event, last_event.c.session_id == sessions.c.id))
             .where(sessions.c.respondent.not_in(select(candidates.c.id)))
             .group_by(sessions.c.respondent)
             .order_by(sessions.c.respondent))
    return [row.respondent for row in connection.execute(query) if _as_utc(row.last) <= cutoff]


def _as_utc(moment: Any) -> datetime:
    # An aggregate over datetimes can come back as text from SQLite.
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return utc(moment).astimezone(UTC)


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else utc_text(utc(moment))


def _json(text: str) -> Any:
    return json.loads(text)
