"""The append-only, hash-chained audit log (EU AI Act Art. 12 and 19: automatic, tamper-evident records).

Every event of a case (sessions, versions and hashes of the questionnaire, norms and job model, inputs,
scores, contributions, recommendations, reviewers' decisions and reasons, stops and resumptions, audits,
exports and erasures) is one entry of one chain, in the store's ``audit_log`` table.

Entry format
------------
``seq``
    1, 2, 3, ... without gaps; the primary key, so two writers can never both write the same number.
``recorded_at``
    UTC time as ISO 8601 text with microseconds, ``2025-03-01T09:30:00.123456Z``, stored exactly as hashed.
``event``
    Dotted lower-case name, e.g. ``review.decision`` (see :class:`AuditEvent`).
``actor``
    Who or what caused the event (``reviewer:jdoe``, ``system``, ``cli:alice``).
``candidate``
    The pseudonymous candidate id, or None for events about no one in particular.
``payload``
    A JSON object as canonical JSON (:func:`canonical_json`), or an erasure marker (below).
``payload_hash``
    ``"sha256:" + hex(SHA-256(UTF-8 bytes of the canonical payload))``.
``prev_hash``
    The ``entry_hash`` of entry ``seq - 1``; for entry 1, :data:`GENESIS_HASH` (64 zeros).
``entry_hash``
    ``"sha256:" + hex(SHA-256(canonical_json({"actor", "candidate", "event", "payload_hash", "prev_hash",
    "recorded_at", "seq"})))``: every field, the payload through its hash.

Hashing the payload through its own hash is what makes erasure compatible with the chain: erasing a
candidate replaces the payloads of their entries with the marker ``{"$erased":{"by_entry":N}}`` and
keeps ``payload_hash``, so every ``entry_hash`` still holds. :meth:`AuditLog.verify` accepts a payload that
does not match its hash only in that exact form, and only if entry ``N`` is a valid ``candidate.erased``
entry for the same candidate that lists the erased entry. Editing, deleting, reordering or inserting
entries is detected; so is rewriting an entry with fresh hashes, except at the very end of the log,
which needs an anchor (a ``seq`` and ``entry_hash`` noted earlier, see ``verify(anchor=...)``). Case records
(profiles, scores, decisions; :mod:`profiler.oversight.candidates`) are recorded with their hash in the
log, so an edited or deleted case record is detected too.

Writers are serialised, so that several processes appending at once never fork the chain: on SQLite the
store's write transaction takes the write lock up front (``BEGIN IMMEDIATE``); on PostgreSQL a
transaction-level advisory lock; on any other database the last entry is read ``FOR UPDATE``. In every
case the primary key on ``seq`` rejects a second entry with the same number, and :meth:`AuditLog.append`
retries. One entry is one transaction: a writer killed mid-write leaves no partial entry.
"""

from __future__ import annotations

import json
import random
import re
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import Enum, StrEnum
from typing import Any, TypeVar

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError

from profiler.canonical import canonical_json as _canonical_json
from profiler.canonical import sha256_text, utc_text
from profiler.errors import ProfilerError
from profiler.store.anchoring import (
    Checkpoint,
    SigningKey,
    TrustedKey,
    check_checkpoints,
    checkpoints,
    create_checkpoint,
    signing_key,
    trusted_keys,
)
from profiler.store.consistency import Problems, check_tables
from profiler.store.store import Store
from profiler.store.tables import audit_checkpoints, audit_log, case_records

T = TypeVar("T")

GENESIS_HASH = "sha256:" + "0" * 64
ERASED_KEY = "$erased"
EVENT_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
MAX_EVENT, MAX_ACTOR = 64, 128
CANDIDATE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$")  # the session respondent rule
PAGE = 2000  # entries read per query while iterating or verifying
# The payload of the entry that stores a case record (Candidates.add_record): canonical JSON, keys sorted, so
# it starts with "kind"; entries written before schema version 4 name the record "artefact", which sorts first.
RECORD_PAYLOAD_STARTS = ('{"kind":', '{"artefact":')
PG_LOCK_KEY = 0x70726F66_696C6572 & 0x7FFF_FFFF_FFFF_FFFF  # "profiler": one advisory lock for the log


class AuditLogError(ProfilerError, ValueError):
    """An entry that cannot be appended: a malformed event name, actor, candidate id or payload."""


class AuditEvent(StrEnum):
    """Event types of the audit log. Other well-formed dotted names are accepted too."""

    SESSION_STARTED = "session.started"
    SESSION_ANSWERED = "session.answered"
    SESSION_SKIPPED = "session.skipped"
    SESSION_FORWARD = "session.went_forward"
    SESSION_BACK = "session.went_back"
    SESSION_PAUSED = "session.paused"
    SESSION_RESUMED = "session.resumed"
    SESSION_EXPIRED = "session.expired"
    SESSION_COMPLETED = "session.completed"  # the respondent finished (written by the session itself)
    SESSION_SELECTED = "session.item_selected"  # an adaptive test's step: theta, SE, candidates, draws, the item
    SESSION_FINISHED = "session.finished"  # the pipeline took the finished session: answer count and hash
    QUESTIONNAIRE = "questionnaire.version"  # id, version and content hash administered
    NORMS = "norms.version"  # norm group, version and hash
    JOB_MODEL = "job_model.version"  # id, version and content hash
    INPUTS = "scoring.inputs"
    SCORES = "scoring.scores"
    CONTRIBUTIONS = "scoring.contributions"
    RECOMMENDATION = "scoring.recommendation"
    DECISION = "review.decision"  # reviewer, decision, reason
    CONFIRMATION_REFUSED = "review.confirmation_refused"  # a second person refused to confirm an override
    MODEL_STOPPED = "model.stopped"
    MODEL_RESUMED = "model.resumed"
    AUDIT = "audit.run"
    BATCH = "batch.scored"  # a batch scoring run: its files' hashes, what scored them, counts (profiler.batch)
    CHECKPOINT = "audit.checkpoint"  # a signed head of the log (profiler.store.anchoring)
    CANDIDATE_REGISTERED = "candidate.registered"
    IDENTITY_UPDATED = "candidate.identity_updated"
    IDENTITY_READ = "candidate.identity_read"
    CANDIDATE_CLOSED = "candidate.closed"
    LEGAL_HOLD = "candidate.legal_hold"
    DEMOGRAPHICS_RECORDED = "demographics.recorded"
    DEMOGRAPHICS_READ = "demographics.read"
    DEMOGRAPHICS_WITHDRAWN = "demographics.withdrawn"
    RECORD_STORED = "record.stored"  # a case record stored (Candidates.add_record)
    ARTEFACT = "artefact.recorded"  # the same, as written before schema version 4
    EXPORTED = "candidate.exported"
    ERASED = "candidate.erased"  # written by profiler.oversight.privacy only: it authorises erased payloads
    PURGED = "retention.purged"


# Canonical JSON ----------------------------------------------------------------------------------------
def canonical_json(value: Any) -> str:
    """The canonical JSON text of a payload (:func:`profiler.canonical.canonical_json`; bad values raise
    :class:`AuditLogError` naming their place).

    Examples
    --------
    >>> canonical_json({"b": 1.5, "a": ["é", None]})
    '{"a":["é",null],"b":1.5}'
    """
    return _canonical_json(value, where="payload", error=AuditLogError)


def sha256_of(text: str) -> str:
    """``"sha256:"`` + the hex SHA-256 of the UTF-8 bytes of ``text``."""
    return sha256_text(text, error=AuditLogError)


def erasure_marker(erasure_seq: int) -> str:
    """The payload text that replaces an erased payload: ``{"$erased":{"by_entry":N}}``."""
    return canonical_json({ERASED_KEY: {"by_entry": int(erasure_seq)}})


def marker_seq(payload: str) -> int | None:
    """The erasure entry named by an erasure marker (None when ``payload`` is not exactly a marker)."""
    if not payload.startswith('{"' + ERASED_KEY):
        return None
    try:
        seq = json.loads(payload)[ERASED_KEY]["by_entry"]
    except (ValueError, KeyError, TypeError):
        return None
    return seq if isinstance(seq, int) and payload == erasure_marker(seq) else None


def entry_hash(seq: int, recorded_at: str, event: str, actor: str, candidate: str | None, payload_hash: str,
               prev_hash: str) -> str:
    """The hash of an entry: SHA-256 of the canonical JSON of all its fields, the payload by its hash."""
    fields = {"seq": seq, "recorded_at": recorded_at, "event": event, "actor": actor, "candidate": candidate,
              "payload_hash": payload_hash, "prev_hash": prev_hash}
    return sha256_of(canonical_json(fields))


# Entries and results -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class LogEntry:
    """One entry of the audit log, as stored (see the module docstring for the fields and hashes).

    ``payload`` is the parsed payload; for an erased entry (``erased`` True), the erasure marker.
    """

    seq: int
    recorded_at: str
    event: str
    actor: str
    candidate: str | None
    payload: dict[str, Any]
    payload_hash: str
    prev_hash: str
    entry_hash: str
    erased: bool = False

    @property
    def time(self) -> datetime:
        """``recorded_at`` as a timezone-aware datetime."""
        return datetime.strptime(self.recorded_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)

    def to_dict(self) -> dict[str, Any]:
        """The entry as plain JSON-ready values."""
        return {"seq": self.seq, "recorded_at": self.recorded_at, "event": self.event, "actor": self.actor,
                "candidate": self.candidate, "payload": self.payload, "payload_hash": self.payload_hash,
                "prev_hash": self.prev_hash, "entry_hash": self.entry_hash, "erased": self.erased}


@dataclass(frozen=True)
class Verification:
    """The outcome of :meth:`AuditLog.verify`.

    Attributes
    ----------
    ok : bool
        The whole chain (and every case record stored through the log) is intact.
    entries : int
        Entries checked (up to the first problem).
    erased : int
        Entries with an erased payload, accepted with their erasure marker.
    head_seq, head_hash : int or None
        The last intact entry: note them down as an anchor for a later ``verify(anchor=...)``.
    first_bad_seq : int or None
        The first entry found tampered with or missing.
    bad_record : int or None
        The first case record whose payload no longer matches its recorded hash, or that the log records but
        the ``case_records`` table no longer holds.
    problem : str or None
        What is wrong, in words (the first of :attr:`problems`).
    records : int
        Case records checked against their hashes.
    problems : tuple of str
        Every problem found: the first problem of the chain (later entries cannot be trusted past it), the
        first case record that disagrees, and every row of the other tables that disagrees with the log
        (up to :data:`~profiler.store.consistency.MAX_PROBLEMS`; :attr:`problem_count` counts them all).
    rows : int
        Rows of the other tables (sessions, answers, candidates, identities, demographics, stops, stored
        questionnaires) checked against the log.
    problem_count : int
        How many problems were found.
    checkpoint : str or None
        The latest signed checkpoint the log was checked against (None: there is none yet).
    authenticated : bool
        Whether the checkpoints' signatures were checked with trusted keys (False: none were configured, so a
        rewrite of the log *and* its checkpoints by someone with write access would go unnoticed).
    """

    ok: bool
    entries: int
    erased: int
    head_seq: int | None
    head_hash: str | None
    first_bad_seq: int | None = None
    bad_record: int | None = None
    problem: str | None = None
    records: int = 0
    problems: tuple[str, ...] = ()
    rows: int = 0
    problem_count: int = 0
    checkpoint: str | None = None
    authenticated: bool = False

    @property
    def bad_artefact(self) -> int | None:
        """Deprecated name of :attr:`bad_record`."""
        _renamed("Verification.bad_artefact", "Verification.bad_record")
        return self.bad_record

    @property
    def artefacts(self) -> int:
        """Deprecated name of :attr:`records`."""
        _renamed("Verification.artefacts", "Verification.records")
        return self.records

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        if not self.ok:
            more = self.problem_count - 1
            return f"TAMPERED: {self.problem}" + (f" (and {more} more problem{'s' * (more > 1)})" if more > 0 else "")
        if self.head_seq is None and not self.rows:
            return "audit log empty: nothing to verify"
        if self.checkpoint is None:
            anchored = "no checkpoint yet: profiler audit checkpoint signs the head"
        else:
            anchored = f"{self.checkpoint} holds" + ("" if self.authenticated else
                                                     "; signature not checked: no trusted key configured")
        return (f"audit log intact: {self.entries} entries ({self.erased} with erased payloads), "
                f"{self.records} case records, {self.rows} table rows agree with it; head {self.head_seq} "
                f"{self.head_hash} ({anchored})")


# The log -----------------------------------------------------------------------------------------------
class AuditLog:
    """The store's append-only, hash-chained audit log.

    Parameters
    ----------
    store : Store
    max_attempts : int
        How many times :meth:`append` and :meth:`transaction` retry when another writer took the same
        sequence number (only possible on databases without a write lock; see the module docstring).

    Examples
    --------
    >>> log = AuditLog(Store())
    >>> entry = log.append("review.decision", {"decision": "advance", "reason": "strong work sample"},
    ...                    actor="reviewer:jdoe", candidate="cand-0042")
    >>> entry.seq, entry.prev_hash == GENESIS_HASH
    (1, True)
    >>> log.verify().ok
    True
    """

    def __init__(self, store: Store, *, max_attempts: int = 50):
        self.store = store
        self.max_attempts = max_attempts

    def __repr__(self) -> str:
        return f"AuditLog({self.store.name!r})"

    # Writing --------------------------------------------------------------------------------------------
    def append(self, event: str, payload: Mapping[str, Any] | None = None, *, actor: str,
               candidate: str | None = None, connection: Connection | None = None) -> LogEntry:
        """Append one entry, committed in its own transaction (or in the caller's ``connection``).

        Parameters
        ----------
        event : str
            A dotted lower-case name, preferably an :class:`AuditEvent`.
        payload : mapping, optional
            What happened, as JSON-able values (see :func:`canonical_json`). Never put a name, e-mail
            address or protected attribute here: log entries are kept after the records they describe.
        actor : str
            Who or what caused the event.
        candidate : str, optional
            The candidate's pseudonymous id.
        connection : Connection, optional
            Append inside the caller's write transaction (opened with ``store.write()``), so that a
            record and its log entry commit together. Not retried: on a sequence conflict (never on
            SQLite) the caller's transaction fails and is retried by the caller (see :meth:`transaction`).

        Returns
        -------
        LogEntry

        Raises
        ------
        AuditLogError
            A malformed event name, actor, candidate id or payload; ``candidate.erased`` (written by
            erasure only).
        """
        if str(event) == AuditEvent.ERASED:
            raise AuditLogError("candidate.erased entries are written by profiler.oversight.privacy.erase_candidate "
                                "only: they authorise erased payloads")
        return self._append(event, payload, actor=actor, candidate=candidate, connection=connection)

    def _append(self, event: str, payload: Mapping[str, Any] | None, *, actor: str, candidate: str | None,
                connection: Connection | None) -> LogEntry:
        fields = _checked(event, payload, actor, candidate)
        if connection is not None:
            return _insert(connection, *fields)
        return self.transaction(lambda c: _insert(c, *fields))

    def transaction(self, work: Callable[[Connection], T]) -> T:
        """Run ``work(connection)`` in one write transaction, retried if another writer took its log entry's
        sequence number; ``work`` must append with ``connection=`` and have no effect outside the database."""
        for attempt in range(self.max_attempts):
            try:
                with self.store.write() as connection:
                    return work(connection)
            except IntegrityError as exc:
                if "audit_log" not in str(exc.orig) or attempt == self.max_attempts - 1:
                    raise
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))  # spread the retries of colliding writers
        raise AssertionError("unreachable")

    # Reading --------------------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[LogEntry]:
        return self.entries()

    def entries(self, *, candidate: str | None = None, event: str | None = None,
                after: int = 0) -> Iterator[LogEntry]:
        """Entries in order, optionally only those about ``candidate`` or of one ``event`` type, from
        ``after + 1`` on. Read page by page, each page in a short read transaction."""
        while True:
            query = select(audit_log).where(audit_log.c.seq > after).order_by(audit_log.c.seq).limit(PAGE)
            if candidate is not None:
                query = query.where(audit_log.c.candidate_id == candidate)
            if event is not None:
                query = query.where(audit_log.c.event == str(event))
            with self.store.read() as connection:
                rows = connection.execute(query).all()
            for row in rows:
                yield _entry(row)
            if len(rows) < PAGE:
                return
            after = rows[-1].seq

    def __len__(self) -> int:
        with self.store.read() as connection:
            return connection.execute(select(func.count()).select_from(audit_log)).scalar_one()

    def head(self) -> tuple[int, str] | None:
        """The last entry's ``(seq, entry_hash)``, or None for an empty log."""
        with self.store.read() as connection:
            row = connection.execute(_head_query()).first()
        return None if row is None else (row.seq, row.entry_hash)

    def frame(self, *, candidate: str | None = None):
        """The entries as a pandas DataFrame indexed by ``seq`` (payloads as dicts)."""
        import pandas as pd  # only here: the log itself needs no pandas

        columns = ["seq", "recorded_at", "event", "actor", "candidate", "payload", "payload_hash", "prev_hash",
                   "entry_hash", "erased"]
        rows = [e.to_dict() for e in self.entries(candidate=candidate)]
        return pd.DataFrame(rows, columns=columns).set_index("seq")

    # Verifying ------------------------------------------------------------------------------------------
    def checkpoint(self, key: SigningKey, *, actor: str = "system", if_new: bool = False) -> Checkpoint | None:
        """Sign the log's head with ``key`` and record it: a row of ``audit_checkpoints`` and an
        ``audit.checkpoint`` entry after the head, in one transaction (see :mod:`profiler.store.anchoring`).

        With ``if_new``, nothing is written (None is returned) when the head is the previous checkpoint's own
        entry: a schedule that runs often adds nothing to an idle log.

        Raises
        ------
        AnchorError
            The log is empty.
        """
        _checked(AuditEvent.CHECKPOINT, {}, actor, None)

        def work(connection: Connection) -> Checkpoint | None:
            at = lock_head(connection)
            if if_new:
                latest = connection.execute(select(func.max(audit_checkpoints.c.log_seq))).scalar_one()
                if latest is not None and latest == at[0] - 1:
                    return None
            made = create_checkpoint(connection, key, at)
            payload = {"checkpoint": made.id, "seq": made.seq, "entry_hash": made.entry_hash,
                       "created_at": made.created_at, "algorithm": made.algorithm, "key_id": made.key_id,
                       "signature": made.signature}
            _insert(connection, *_checked(AuditEvent.CHECKPOINT, payload, actor, None), at=at)
            return made

        return self.transaction(work)

    def latest_checkpoint(self) -> Checkpoint | None:
        """The most recent checkpoint (None before the first)."""
        with self.store.read() as connection:
            found = checkpoints(connection)
        return found[-1] if found else None

    # Verifying ------------------------------------------------------------------------------------------
    def verify(self, *, anchor: tuple[int, str] | Checkpoint | None = None, records: bool = True,
               artefacts: bool | None = None, tables: bool = True,
               keys: Mapping[str, TrustedKey] | None = None, max_age: timedelta | None = None) -> Verification:
        """Recompute the chain from the first entry and report the first tampered or missing entry, then every
        checkpoint and every row that disagrees with it.

        Checks, entry by entry: sequence numbers without gaps from 1; the payload's hash (or, for an
        erased payload, the exact erasure marker confirmed by its ``candidate.erased`` entry); the entry's
        hash over all its fields; and the link to the previous entry's hash. Then every stored checkpoint
        (its signature, when keys are trusted; that the log still holds the head it signed: a log cut short
        or rewritten is named); each case record's payload against its hash and the hash its log entry
        recorded, and that every case record the log records (and no erasure removed) is still there; and
        every other table that decides.

        Parameters
        ----------
        anchor : (int, str) or Checkpoint, optional
            An entry's ``seq`` and ``entry_hash`` noted earlier (e.g. printed by ``profiler audit
            verify``), or an exported head (:func:`~profiler.store.anchoring.read_head`, its signature checked
            when keys are trusted): the log must still hold it.
        records : bool
            Also check the case records (default True).
        tables : bool
            Also check every other table that decides (answers, sessions, candidates, identities, demographics,
            stops, stored questionnaires) against the entries that wrote it, naming every row that disagrees
            (:mod:`profiler.store.consistency`; default True).
        keys : mapping of key id to TrustedKey, optional
            The keys trusted to check checkpoint signatures; default: those of the environment
            (:func:`~profiler.store.anchoring.trusted_keys`). Without any, checkpoints are compared with the
            chain but their signatures cannot be checked (``Verification.authenticated`` is False).
        max_age : timedelta, optional
            Report a problem when the latest checkpoint is older than this (or there is none): checkpoints
            written on a schedule that stopped, or deleted with the end of the log, show up here.
        artefacts : bool, optional
            Deprecated name of ``records``.

        Returns
        -------
        Verification
        """
        if artefacts is not None:
            _renamed("verify(artefacts=...)", "verify(records=...)")
            records = artefacts
        if keys is None:
            keys = trusted_keys(signing=signing_key())
        exported = anchor if isinstance(anchor, Checkpoint) else None
        if exported is not None:
            anchor = (exported.seq, exported.entry_hash)
        # One read transaction, so that writers appending or erasing meanwhile cannot make a consistent
        # log look tampered with (PostgreSQL: its default isolation gives each statement a new snapshot).
        with self.store.read() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            erasures = _erasure_entries(connection)
            stored = checkpoints(connection)
            watched = {c.seq for c in stored} | ({anchor[0]} if anchor is not None else set())
            checker = _ChainChecker(erasures, watched)
            logged_records: dict[int, int] = {}  # record id -> seq of the intact entry that stored it
            logged_checkpoints: list[tuple[int, int]] = []  # (entry seq, checkpoint id)
            after = 0
            while checker.problem is None:
                query = select(audit_log).where(audit_log.c.seq > after).order_by(audit_log.c.seq).limit(PAGE)
                rows = connection.execute(query).all()
                for row in rows:
                    if not checker.check(row):
                        break
                    if row.payload.startswith(RECORD_PAYLOAD_STARTS):
                        record_id = _stored_record_id(_json_object(row.payload))
                        if record_id is not None:
                            logged_records[record_id] = row.seq
                    elif row.event == AuditEvent.CHECKPOINT.value:
                        checkpoint_id = _json_object(row.payload).get("checkpoint")
                        if isinstance(checkpoint_id, int):
                            logged_checkpoints.append((row.seq, checkpoint_id))
                if len(rows) < PAGE:
                    break
                after = rows[-1].seq
            result = checker.result()
            found = Problems()
            if result.problem is not None:
                found.add(result.problem)
            chain_ok = result.problem is None  # past a broken link, the chain says nothing about heads
            for problem in check_checkpoints(stored, checker.anchored, result.head_seq or 0, keys,
                                             logged_checkpoints, compare=chain_ok):
                found.add(problem)
            if exported is not None and keys:
                wrong = exported.check(keys)
                if wrong is not None:
                    found.add(f"the exported head given as anchor: {wrong}")
            if anchor is not None and chain_ok:
                result = _check_anchor(result, anchor, checker.anchored.get(anchor[0]))
                if result.problem is not None:
                    found.add(result.problem)
            if result.ok and records:
                with_records = _verify_records(connection, result, logged_records)
                result = _replace(result, records=with_records.records, bad_record=with_records.bad_record)
                if with_records.problem is not None:
                    found.add(with_records.problem)
            rows = check_tables(connection, found) if tables else 0
        latest = stored[-1] if stored else None
        if max_age is not None and (latest is None or datetime.now(UTC) - _checkpoint_time(latest) > max_age):
            when = "there is none" if latest is None else f"the latest is {latest.describe()}"
            found.add(f"no checkpoint in the last {max_age}: {when} (the schedule stopped, or checkpoints were "
                      "deleted with the end of the log: compare with the exported heads)")
        return _replace(result, ok=found.count == 0, problem=found.listed[0] if found.listed else None,
                        problems=tuple(found.listed), problem_count=found.count, rows=rows,
                        first_bad_seq=result.first_bad_seq, checkpoint=latest.describe() if latest else None,
                        authenticated=bool(keys) and latest is not None)


# Internals ---------------------------------------------------------------------------------------------
def _renamed(old: str, new: str) -> None:
    warnings.warn(f"{old} is deprecated; use {new}", DeprecationWarning, stacklevel=3)


def _stored_record_id(logged: dict[str, Any]) -> int | None:
    """The case record a log payload stores (None when it is no such payload); entries before schema
    version 4 call it ``artefact``."""
    key = "record" if "record" in logged else "artefact"
    if set(logged) != {key, "kind", "payload_hash", "session"} or isinstance(logged[key], bool):
        return None
    return logged[key] if isinstance(logged[key], int) else None


def _verify_records(connection: Connection, result: Verification,
                    logged_records: dict[int, int]) -> Verification:
    # Run after the chain checked out, so the log entry a record points to can be trusted.
    checked = 0
    after = 0
    while True:
        table = case_records
        query = (select(table.c.id, table.c.payload, table.c.payload_hash, table.c.audit_seq, table.c.candidate_id,
                        table.c.kind, table.c.session_id, table.c.recorded_by, audit_log.c.payload.label("logged"),
                        audit_log.c.candidate_id.label("logged_candidate"), audit_log.c.actor.label("logged_actor"))
                 .select_from(table.outerjoin(audit_log, audit_log.c.seq == table.c.audit_seq))
                 .where(table.c.id > after).order_by(table.c.id).limit(PAGE))
        rows = connection.execute(query).all()
        for row in rows:
            problem = None
            if sha256_of(row.payload) != row.payload_hash:
                problem = f"case record {row.id}: payload does not match its payload_hash (edited)"
            elif row.audit_seq is None:
                problem = f"case record {row.id} is in no log entry (inserted)"
            else:
                logged = _json_object(row.logged)
                stated = {"candidate_id": row.logged_candidate, "kind": logged.get("kind"),
                          "session_id": logged.get("session"), "recorded_by": row.logged_actor}
                edited = [name for name, value in stated.items() if getattr(row, name) != value]
                if _stored_record_id(logged) != row.id:
                    problem = f"case record {row.id}: log entry {row.audit_seq} does not record it"
                elif logged.get("payload_hash") != row.payload_hash:
                    problem = (f"case record {row.id}: payload_hash differs from the one log entry "
                               f"{row.audit_seq} recorded (edited)")
                elif edited:
                    problem = (f"case record {row.id}: {', '.join(edited)} differ from what log entry "
                               f"{row.audit_seq} recorded (edited)")
            if problem is not None:
                return _replace(result, ok=False, bad_record=row.id, problem=problem, records=checked)
            logged_records.pop(row.id, None)
            checked += 1
        if len(rows) < PAGE:
            break
        after = rows[-1].id
    if logged_records:  # recorded in the log, gone from the table without an erasure
        missing = min(logged_records)
        return _replace(result, ok=False, bad_record=missing, records=checked,
                        problem=f"case record {missing}, stored by log entry {logged_records[missing]}, is "
                                "missing (deleted)")
    return _replace(result, records=checked)


def _checked(event: str, payload: Mapping[str, Any] | None, actor: str,
             candidate: str | None) -> tuple[str, str, str, str, str | None]:
    """Validate an entry's fields; return (event, payload text, payload hash, actor, candidate)."""
    event = event.value if isinstance(event, Enum) else event
    if not isinstance(event, str) or len(event) > MAX_EVENT or not EVENT_PATTERN.match(event):
        raise AuditLogError(f"event {event!r} is not a dotted lower-case name of up to {MAX_EVENT} characters "
                            "(e.g. 'review.decision')")
    if not isinstance(actor, str) or not actor.strip() or len(actor) > MAX_ACTOR:
        raise AuditLogError(f"actor {actor!r} must be a non-empty text of up to {MAX_ACTOR} characters "
                            "naming who or what caused the event")
    if candidate is not None and (not isinstance(candidate, str) or not CANDIDATE_PATTERN.match(candidate)):
        raise AuditLogError(f"candidate {candidate!r} is not a pseudonymous id (1-64 letters, digits, '_', '.', "
                            "':' or '-')")
    if payload is None:
        payload = {}
    if not isinstance(payload, Mapping):
        raise AuditLogError(f"payload must be a mapping (a JSON object), got {type(payload).__name__}")
    text = canonical_json(payload)
    if marker_seq(text) is not None:
        raise AuditLogError(f"payload {text} has the form of an erasure marker")
    return event, text, sha256_of(text), actor, candidate


# Statements run on every write, built once (values are bound at execution): building a statement costs
# more CPU than SQLite takes to run it, and every answer and decision appends to the log.
_HEAD = select(audit_log.c.seq, audit_log.c.entry_hash).order_by(audit_log.c.seq.desc()).limit(1)
_INSERT = insert(audit_log)


def _head_query():
    return _HEAD


def lock_head(connection: Connection) -> tuple[int, str]:
    """Serialise writers of the log and return the next ``seq`` and the hash it links to.

    Call inside a write transaction. SQLite: the transaction already holds the write lock (BEGIN
    IMMEDIATE). PostgreSQL: a transaction-level advisory lock, released at commit or rollback. Elsewhere:
    the last entry is read FOR UPDATE; a writer that still races is stopped by the primary key on seq.
    """
    dialect = connection.dialect.name
    query = _head_query()
    if dialect == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(PG_LOCK_KEY)))
    elif dialect != "sqlite":
        query = query.with_for_update()
    row = connection.execute(query).first()
    return (1, GENESIS_HASH) if row is None else (row.seq + 1, row.entry_hash)


def _insert(connection: Connection, event: str, payload: str, payload_hash: str, actor: str,
            candidate: str | None, *, at: tuple[int, str] | None = None) -> LogEntry:
    """Insert the next entry; ``at`` is a (seq, prev_hash) already obtained from :func:`lock_head`."""
    seq, prev = at if at is not None else lock_head(connection)
    recorded_at = utc_text(datetime.now(UTC))  # taken under the lock, so times follow seq
    own = entry_hash(seq, recorded_at, event, actor, candidate, payload_hash, prev)
    connection.execute(_INSERT, {
        "seq": seq, "recorded_at": recorded_at, "event": event, "actor": actor, "candidate_id": candidate,
        "payload": payload, "payload_hash": payload_hash, "prev_hash": prev, "entry_hash": own,
    })
    return LogEntry(seq, recorded_at, event, actor, candidate, json.loads(payload), payload_hash, prev, own)


def _json_object(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text) if text is not None else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def entries_of(connection: Connection, events: tuple[str, ...]) -> tuple[list[LogEntry], list[int]]:
    """The entries of some event types, in order, read in the caller's transaction, each checked on its own:
    its payload against its ``payload_hash`` and its fields against its ``entry_hash``. Returns the intact
    entries and the numbers of those that fail (edited); what lies between them is for :meth:`AuditLog.verify`.
    """
    rows = connection.execute(select(audit_log).where(audit_log.c.event.in_(events)).order_by(audit_log.c.seq)).all()
    intact, edited = [], []
    for row in rows:
        own = entry_hash(row.seq, row.recorded_at, row.event, row.actor, row.candidate_id, row.payload_hash,
                         row.prev_hash)
        if own != row.entry_hash or sha256_of(row.payload) != row.payload_hash:
            edited.append(row.seq)
        else:
            intact.append(_entry(row))
    return intact, edited


def _entry(row: Any) -> LogEntry:
    return LogEntry(row.seq, row.recorded_at, row.event, row.actor, row.candidate_id, json.loads(row.payload),
                    row.payload_hash, row.prev_hash, row.entry_hash, erased=marker_seq(row.payload) is not None)


def _erasure_entries(connection: Connection) -> dict[int, tuple[str | None, frozenset[int]]]:
    """Intact ``candidate.erased`` entries: seq -> (candidate, the seqs whose payloads they erased)."""
    query = select(audit_log.c.seq, audit_log.c.candidate_id, audit_log.c.payload, audit_log.c.payload_hash) \
        .where(audit_log.c.event == AuditEvent.ERASED.value)
    found = {}
    for row in connection.execute(query):
        if sha256_of(row.payload) != row.payload_hash:
            continue  # an edited erasure entry confirms nothing (the chain check reports it)
        try:
            redacted = frozenset(int(s) for s in json.loads(row.payload)["redacted"])
        except (ValueError, KeyError, TypeError):
            continue
        found[row.seq] = (row.candidate_id, redacted)
    return found


class _ChainChecker:
    """Checks entries one by one in seq order; stops at the first problem."""

    def __init__(self, erasures: dict[int, tuple[str | None, frozenset[int]]], watched: set[int]):
        self.erasures = erasures
        self.watched = watched  # seqs of checkpoints and anchors
        self.anchored: dict[int, str] = {}  # the entry_hash found at each watched seq
        self.expected = 1
        self.prev = GENESIS_HASH
        self.before_prev = GENESIS_HASH  # a problem can lie in the entry before the one being checked
        self.entries = self.erased = 0
        self.problem: str | None = None
        self.bad: int | None = None

    def check(self, row: Any) -> bool:
        seq = row.seq
        if seq != self.expected:
            if seq > self.expected:
                missing = (f"entry {self.expected} is missing" if seq == self.expected + 1 else
                           f"entries {self.expected} to {seq - 1} are missing")
                return self._fail(self.expected, f"{missing} (deleted): the log jumps from {self.expected - 1} "
                                                 f"to {seq}")
            return self._fail(seq, f"entry {seq} is out of sequence (expected {self.expected})")
        fields = (row.recorded_at, row.event, row.actor, row.candidate_id, row.payload_hash, row.prev_hash)
        if entry_hash(seq, *fields) != row.entry_hash:
            return self._fail(*self._diagnose(row, fields))
        if row.prev_hash != self.prev:
            # The entry is consistent in itself, so the one before it was rewritten (hashes recomputed) or
            # this one was inserted in its place.
            return self._fail(seq - 1, f"entry {seq - 1} does not match the hash entry {seq} recorded for it: "
                                       f"entry {seq - 1} was rewritten, or an entry was inserted or removed there")
        if sha256_of(row.payload) != row.payload_hash:
            erasure = marker_seq(row.payload)
            if erasure is None:
                return self._fail(seq, f"entry {seq}: payload does not match its payload_hash (payload edited)")
            confirmed = self.erasures.get(erasure)
            if erasure <= seq or confirmed is None or confirmed[0] != row.candidate_id or seq not in confirmed[1]:
                return self._fail(seq, f"entry {seq}: payload replaced by an erasure marker that no intact "
                                       f"candidate.erased entry {erasure} confirms")
            self.erased += 1
        if seq in self.watched:
            self.anchored[seq] = row.entry_hash
        self.before_prev, self.prev = self.prev, row.entry_hash
        self.expected += 1
        self.entries += 1
        return True

    def _diagnose(self, row: Any, fields: tuple) -> tuple[int, str]:
        # An entry consistent with a neighbouring sequence number was moved: say so, it is more useful than
        # "edited" when entries were reordered, or deleted or inserted with the later ones renumbered.
        seq = row.seq
        for other in (seq + 1, seq - 1):
            if other > 0 and entry_hash(other, *fields) == row.entry_hash:
                if other == seq + 1:
                    return seq, (f"entry {seq} is entry {other} renumbered: entry {seq} was deleted or the "
                                 f"entries were reordered")
                return seq - 1, (f"entry {seq} is entry {other} renumbered: an entry was inserted at "
                                 f"{seq - 1} or the entries were reordered")
        return seq, f"entry {seq}: its fields do not match its entry_hash (entry edited)"

    def _fail(self, seq: int, problem: str) -> bool:
        self.bad, self.problem = seq, problem
        return False

    def result(self) -> Verification:
        intact, head_hash = self.entries, self.prev
        if self.bad is not None and self.bad <= intact:  # the entry before the one checked last was bad
            intact, head_hash = self.bad - 1, self.before_prev
        return Verification(ok=self.problem is None, entries=intact, erased=self.erased,
                            head_seq=intact or None, head_hash=head_hash if intact else None,
                            first_bad_seq=self.bad, problem=self.problem)


def _check_anchor(result: Verification, anchor: tuple[int, str], found: str | None) -> Verification:
    seq, expected = anchor
    if found is None:
        return _replace(result, ok=False, first_bad_seq=(result.head_seq or 0) + 1,
                        problem=f"the log ends at entry {result.head_seq or 0}, before the anchor entry {seq}: "
                                "entries were removed from its end")
    if found != expected:
        return _replace(result, ok=False, first_bad_seq=seq,
                        problem=f"entry {seq} is not the anchored entry ({expected}): the log was rewritten up "
                                "to there")
    return result


def _checkpoint_time(checkpoint: Checkpoint) -> datetime:
    try:
        return checkpoint.time
    except ValueError:  # an edited time: as old as can be
        return datetime.min.replace(tzinfo=UTC)


def _replace(result: Verification, **changes: Any) -> Verification:
    return replace(result, **changes)
