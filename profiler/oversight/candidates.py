"""Pseudonymous candidates: identity and demographics kept apart, and the records produced about them.

A candidate is known everywhere by a random pseudonym (``cand-`` and 16 hex digits, or an id the caller
chooses under the same rule as session respondents: ``Session.start(..., respondent=candidate.id)``).
Identifying data (name, e-mail address, ...) sit in ``candidate_identity``, read only through
:meth:`Candidates.identity`, which logs who read it and why. Protected attributes for fairness audits sit
in ``candidate_demographics``, reachable only through :class:`DemographicsVault`, which the scoring code
never uses (GDPR Art. 9; the AI Act's data governance): they must never become features.

Profiles, scores, recommendations with their explanations and reviewers' decisions are *case records*:
one JSON payload of a ``kind`` per row, its hash recorded in the audit log, so that export and erasure
cover every kind, and :meth:`AuditLog.verify` detects an edited record. The kinds profiler writes are typed
(:mod:`profiler.store.records`): :meth:`Candidates.add_record` refuses a payload that does not fit its kind,
and :attr:`CaseRecord.record` reads it back as its class.
"""

from __future__ import annotations

import json
import re
import warnings
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from profiler.errors import ProfilerError
from profiler.store.audit_log import (
    CANDIDATE_PATTERN,
    AuditEvent,
    AuditLog,
    canonical_json,
    lock_head,
    sha256_of,
)
from profiler.store.audit_log import _checked as _checked_entry
from profiler.store.audit_log import _insert as _insert_entry
from profiler.store.digests import demographics_content, identity_content, keyed_digest, new_digest_key
from profiler.store.store import Store
from profiler.store.records import StoredRecord, check_record, read_record
from profiler.store.tables import candidate_demographics, candidate_identity, candidates, case_records, sessions

KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
ATTRIBUTE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_ATTRIBUTE_VALUE = 200


class CandidateError(ProfilerError, ValueError):
    """An unknown candidate, a malformed id or record, or an action the candidate's state forbids
    (writing to an erased candidate, erasing one on legal hold)."""


@dataclass(frozen=True)
class Identity:
    """Identifying data of a candidate: kept apart, never in the log, erased on request.

    Attributes
    ----------
    name, email : str or None
    details : mapping of str to str
        Further identifying fields (phone, address, applicant-tracking id, ...).
    """

    name: str | None = None
    email: str | None = None
    details: Mapping[str, str] = field(default_factory=dict)

    def fields(self) -> list[str]:
        """Names of the fields that hold a value (what the log may say about an identity)."""
        named = [k for k in ("name", "email") if getattr(self, k) is not None]
        return named + sorted(f"details.{k}" for k in self.details)


@dataclass(frozen=True)
class Candidate:
    """A candidate's pseudonymous record (no identifying data).

    Attributes
    ----------
    id : str
    status : str
        ``"open"``, ``"closed"`` (a finished case: the retention period runs) or ``"erased"``.
    created_at, closed_at, erased_at : datetime or None
    legal_hold : bool
        True while the records must be kept (litigation, an authority's request): no purge, no erasure.
    legal_hold_reason : str or None
    """

    id: str
    status: str
    created_at: datetime
    closed_at: datetime | None
    legal_hold: bool
    legal_hold_reason: str | None
    erased_at: datetime | None


@dataclass(frozen=True)
class CaseRecord:
    """A record stored about a candidate (inputs, profile, recommendation and explanation, decision, ...).

    ``payload_hash`` is the SHA-256 of the canonical JSON of ``payload``; ``audit_seq`` is the log entry
    that stored it; :attr:`record` is the payload as its typed class.
    """

    id: int
    candidate: str
    kind: str
    session_id: str | None
    payload: dict[str, Any]
    payload_hash: str
    audit_seq: int | None
    recorded_by: str
    recorded_at: datetime

    @property
    def record(self) -> StoredRecord | None:
        """The payload as its class of :mod:`profiler.store.records` (upgraded from older versions); None for
        an old payload of a typed kind that profiler did not write.

        Raises
        ------
        StoredRecordError
            A kind profiler does not define, a newer ``schema_version``, or content that does not fit.
        """
        return read_record(self.kind, self.payload, where=f"case record {self.id} ({self.kind})")


def utc(moment: datetime | None) -> datetime | None:
    """A timezone-aware UTC datetime (SQLite hands back naive ones, written as UTC)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def check_candidate_id(candidate_id: object) -> str:
    """Return ``candidate_id`` if it is a pseudonymous id; raise :class:`CandidateError` otherwise."""
    if not isinstance(candidate_id, str) or not CANDIDATE_PATTERN.match(candidate_id):
        raise CandidateError(f"candidate id {candidate_id!r} is not a pseudonymous id: use 1-64 letters, digits, "
                             "'_', '.', ':' or '-' (never a name or an e-mail address)")
    return candidate_id


class Candidates:
    """The store's candidates: pseudonyms, identities, case state and case records, every change logged.

    Parameters
    ----------
    store : Store
    log : AuditLog, optional
        The log to write to (default: the store's).

    Examples
    --------
    >>> store = Store()
    >>> people = Candidates(store)
    >>> c = people.register(Identity(name="Ada Lovelace", email="ada@example.org"), actor="recruiter:kim")
    >>> c.id.startswith("cand-"), c.status
    (True, 'open')
    >>> a = people.add_record(c.id, "interview_notes", {"rating": 4, "topic": "customer call"},
    ...                       actor="recruiter:kim")
    >>> people.records(c.id)[0].payload["rating"]
    4
    """

    def __init__(self, store: Store, log: AuditLog | None = None):
        self.store = store
        self.log = log if log is not None else AuditLog(store)

    def __repr__(self) -> str:
        return f"Candidates({self.store.name!r})"

    # Registering and reading ----------------------------------------------------------------------------
    def register(self, identity: Identity | None = None, *, actor: str, candidate_id: str | None = None,
                 connection: Connection | None = None) -> Candidate:
        """Create a candidate with a random pseudonym (or ``candidate_id``) and, optionally, an identity.

        With ``connection``, inside the caller's write transaction (an invitation and its candidate are
        recorded together).

        Raises
        ------
        CandidateError
            ``candidate_id`` is malformed or already taken.
        """
        candidate_id = check_candidate_id(candidate_id) if candidate_id is not None \
            else "cand-" + secrets.token_hex(8)
        identity_row = _identity_row(identity) if identity is not None else None
        now = datetime.now(UTC)

        def work(connection: Connection) -> None:
            if _candidate_row(connection, candidate_id) is not None:
                raise CandidateError(f"candidate {candidate_id!r} already exists")
            connection.execute(insert(candidates).values(
                id=candidate_id, status="open", created_at=now, closed_at=None, legal_hold=False,
                legal_hold_reason=None, erased_at=None,
            ))
            payload: dict[str, Any] = {"identity_fields": identity.fields() if identity is not None else [],
                                       "created_at": now}
            if identity_row is not None:
                payload["identity_digest"] = _insert_identity(connection, candidate_id, identity_row, now)
            self.log.append(AuditEvent.CANDIDATE_REGISTERED, payload, actor=actor, candidate=candidate_id,
                            connection=connection)

        if connection is not None:
            work(connection)
            return _candidate(_candidate_row(connection, candidate_id))
        self.log.transaction(work)
        return self.get(candidate_id)

    def get(self, candidate_id: str) -> Candidate:
        """The candidate's record.

        Raises
        ------
        CandidateError
            No such candidate.
        """
        with self.store.read() as connection:
            row = _candidate_row(connection, check_candidate_id(candidate_id))
        if row is None:
            raise CandidateError(f"no candidate {candidate_id!r} in {self.store.name}")
        return _candidate(row)

    def all(self, *, status: str | None = None) -> list[Candidate]:
        """Every candidate (or those of one ``status``), ordered by creation time then id."""
        query = select(candidates).order_by(candidates.c.created_at, candidates.c.id)
        if status is not None:
            query = query.where(candidates.c.status == status)
        with self.store.read() as connection:
            return [_candidate(row) for row in connection.execute(query)]

    def identity(self, candidate_id: str, *, actor: str, purpose: str) -> Identity | None:
        """The candidate's identifying data (None when none is held); the read is logged with its purpose."""
        self.get(candidate_id)

        def work(connection: Connection) -> Any:
            row = connection.execute(select(candidate_identity)
                                     .where(candidate_identity.c.candidate_id == candidate_id)).first()
            self.log.append(AuditEvent.IDENTITY_READ, {"purpose": purpose, "found": row is not None}, actor=actor,
                            candidate=candidate_id, connection=connection)
            return row

        row = self.log.transaction(work)
        return None if row is None else Identity(row.name, row.email, json.loads(row.details))

    # Changing -------------------------------------------------------------------------------------------
    def set_identity(self, candidate_id: str, identity: Identity, *, actor: str) -> None:
        """Record or replace the candidate's identifying data (the log names the fields, never the values)."""
        values = _identity_row(identity)
        now = datetime.now(UTC)

        def work(connection: Connection) -> None:
            self._writable(connection, candidate_id)
            connection.execute(delete(candidate_identity).where(candidate_identity.c.candidate_id == candidate_id))
            digest = _insert_identity(connection, candidate_id, values, now)
            self.log.append(AuditEvent.IDENTITY_UPDATED, {"identity_fields": identity.fields(),
                                                          "identity_digest": digest}, actor=actor,
                            candidate=candidate_id, connection=connection)

        self.log.transaction(work)

    def close(self, candidate_id: str, *, actor: str, outcome: str | None = None) -> Candidate:
        """Mark the case finished (a decision is final): the retention period starts now.

        ``outcome`` is a short code for the log (e.g. ``"hired"``, ``"rejected"``, ``"withdrawn"``).
        """
        now = datetime.now(UTC)

        def work(connection: Connection) -> None:
            row = self._writable(connection, candidate_id)
            if row.status == "closed":
                raise CandidateError(f"candidate {candidate_id!r} was closed already on {utc(row.closed_at):%Y-%m-%d}")
            connection.execute(update(candidates).where(candidates.c.id == candidate_id)
                               .values(status="closed", closed_at=now))
            self.log.append(AuditEvent.CANDIDATE_CLOSED, {"outcome": outcome, "closed_at": now}, actor=actor,
                            candidate=candidate_id, connection=connection)

        self.log.transaction(work)
        return self.get(candidate_id)

    def set_legal_hold(self, candidate_id: str, hold: bool, *, actor: str, reason: str) -> Candidate:
        """Put the candidate's records on legal hold (True) or release them (False), with a reason.

        While on hold the records are neither purged at the end of the retention period nor erased.
        """
        if not isinstance(reason, str) or not reason.strip():
            raise CandidateError("a legal hold is set or released with a reason")

        def work(connection: Connection) -> None:
            self._writable(connection, candidate_id)
            connection.execute(update(candidates).where(candidates.c.id == candidate_id)
                               .values(legal_hold=bool(hold), legal_hold_reason=reason if hold else None))
            self.log.append(AuditEvent.LEGAL_HOLD, {"hold": bool(hold), "reason": reason}, actor=actor,
                            candidate=candidate_id, connection=connection)

        self.log.transaction(work)
        return self.get(candidate_id)

    # Case records ---------------------------------------------------------------------------------------
    def add_record(self, candidate_id: str, kind: str, payload: Mapping[str, Any] | StoredRecord, *, actor: str,
                   session_id: str | None = None, event: str = AuditEvent.RECORD_STORED,
                   connection: Connection | None = None) -> CaseRecord:
        """Store a case record and log it (its id, kind and hash) in the same transaction.

        Parameters
        ----------
        candidate_id : str
        kind : str
            What it is (lower case, up to 32 characters). The kinds profiler writes (``inputs``,
            ``validity``, ``profile``, ``contributions``, ``recommendation``, ``decision``, ``contest``,
            ``contest_assignment``) take their record class (:mod:`profiler.store.records`); any other kind
            (``interview_notes``, ...) takes a mapping as given.
        payload : StoredRecord or mapping
            The content, as JSON-able values (see :func:`profiler.canonical.canonical_json`).
        actor : str
        session_id : str, optional
            The session it derives from.
        event : str
            The log's event type for it (default ``record.stored``; :meth:`AuditLog.verify` checks every
            record against the hash its entry logged).
        connection : Connection, optional
            Store inside the caller's write transaction.

        Raises
        ------
        CandidateError
            Unknown or erased candidate, malformed kind.
        StoredRecordError
            A payload that does not fit its kind's record class.
        """
        if str(event) == AuditEvent.ERASED:
            raise CandidateError("case records cannot be logged as candidate.erased")
        if not isinstance(kind, str) or not KIND_PATTERN.match(kind):
            raise CandidateError(f"record kind {kind!r} must be a lower-case name of up to 32 characters")
        text = canonical_json(check_record(kind, payload))
        digest = sha256_of(text)

        def work(c: Connection) -> CaseRecord:
            self._writable(c, candidate_id)
            if session_id is not None and c.execute(select(sessions.c.id).where(sessions.c.id == session_id)
                                                    ).first() is None:
                raise CandidateError(f"no session {session_id!r} in {self.store.name}")
            now = datetime.now(UTC)
            # The log entry and the record point at each other: take the entry's seq first.
            at = lock_head(c)
            record_id = c.execute(insert(case_records).values(
                candidate_id=candidate_id, session_id=session_id, kind=kind, payload=text, payload_hash=digest,
                audit_seq=at[0], recorded_by=actor, recorded_at=now,
            )).inserted_primary_key[0]
            entry = {"record": record_id, "kind": kind, "session": session_id, "payload_hash": digest}
            _insert_entry(c, *_checked_entry(event, entry, actor, candidate_id), at=at)
            return CaseRecord(record_id, candidate_id, kind, session_id, json.loads(text), digest, at[0], actor, now)

        return work(connection) if connection is not None else self.log.transaction(work)

    def records(self, candidate_id: str, kind: str | None = None) -> list[CaseRecord]:
        """The candidate's case records in the order stored (only those of ``kind`` if given)."""
        query = select(case_records).where(case_records.c.candidate_id == check_candidate_id(candidate_id)) \
            .order_by(case_records.c.id)
        if kind is not None:
            query = query.where(case_records.c.kind == kind)
        with self.store.read() as connection:
            return [case_record(row) for row in connection.execute(query)]

    def record_artefact(self, candidate_id: str, kind: str, payload: Mapping[str, Any], **kwargs: Any) -> CaseRecord:
        """Deprecated name of :meth:`add_record`."""
        warnings.warn("Candidates.record_artefact is deprecated; use Candidates.add_record", DeprecationWarning,
                      stacklevel=2)
        return self.add_record(candidate_id, kind, payload, **kwargs)

    def artefacts(self, candidate_id: str, kind: str | None = None) -> list[CaseRecord]:
        """Deprecated name of :meth:`records`."""
        warnings.warn("Candidates.artefacts is deprecated; use Candidates.records", DeprecationWarning, stacklevel=2)
        return self.records(candidate_id, kind)

    def _writable(self, connection: Connection, candidate_id: str) -> Any:
        row = _candidate_row(connection, check_candidate_id(candidate_id))
        if row is None:
            raise CandidateError(f"no candidate {candidate_id!r} in {self.store.name}")
        if row.status == "erased":
            raise CandidateError(f"candidate {candidate_id!r} was erased on {utc(row.erased_at):%Y-%m-%d}: "
                                 "nothing more is recorded about them")
        return row


class DemographicsVault:
    """The only access path to candidates' protected attributes: for fairness audits, never for scoring.

    Attributes (sex, race/ethnicity, age band, ...) are recorded per candidate as category -> value and
    read back as a table for an adverse-impact or item-bias audit. Every read is logged with its actor
    and purpose; the log names the categories, never the values.

    Parameters
    ----------
    store : Store
    log : AuditLog, optional

    Examples
    --------
    >>> store = Store()
    >>> c = Candidates(store).register(actor="recruiter:kim")
    >>> vault = DemographicsVault(store)
    >>> vault.record(c.id, {"sex": "female", "race_ethnicity": "Hispanic or Latino"}, actor="form:self-id")
    >>> vault.read(actor="auditor:lee", purpose="adverse impact 2025-Q1").loc[c.id, "sex"]
    'female'
    """

    def __init__(self, store: Store, log: AuditLog | None = None):
        self.store = store
        self.log = log if log is not None else AuditLog(store)

    def __repr__(self) -> str:
        return f"DemographicsVault({self.store.name!r})"

    def record(self, candidate_id: str, attributes: Mapping[str, str | None], *, actor: str,
               source: str = "self-reported") -> None:
        """Record (or replace) the candidate's protected attributes.

        Raises
        ------
        CandidateError
            Unknown or erased candidate, or a malformed category name or value.
        """
        values = _attributes(attributes)
        now = datetime.now(UTC)

        def work(connection: Connection) -> None:
            Candidates(self.store, self.log)._writable(connection, candidate_id)
            connection.execute(delete(candidate_demographics)
                               .where(candidate_demographics.c.candidate_id == candidate_id))
            key, attributes = new_digest_key(), canonical_json(values)
            connection.execute(insert(candidate_demographics).values(
                candidate_id=candidate_id, attributes=attributes, source=source, recorded_at=now, digest_key=key))
            digest = keyed_digest(key, demographics_content(candidate_id, attributes, source))
            self.log.append(AuditEvent.DEMOGRAPHICS_RECORDED, {"categories": sorted(values), "source": source,
                                                               "digest": digest},
                            actor=actor, candidate=candidate_id, connection=connection)

        self.log.transaction(work)

    def read(self, *, actor: str, purpose: str, candidates: Iterable[str] | None = None):
        """The attributes as a DataFrame (index: candidate id; one column per category; None: not given).

        Parameters
        ----------
        actor : str
            Who reads (an auditor).
        purpose : str
            Why (e.g. ``"adverse impact audit 2025-Q1"``), logged with the read.
        candidates : iterable of str, optional
            Only these candidates (default: all).
        """
        import pandas as pd

        if not isinstance(purpose, str) or not purpose.strip():
            raise CandidateError("protected attributes are read for a stated purpose: give purpose=...")
        wanted = None if candidates is None else [check_candidate_id(c) for c in candidates]

        def work(connection: Connection) -> list:
            query = select(candidate_demographics).order_by(candidate_demographics.c.candidate_id)
            if wanted is not None:
                query = query.where(candidate_demographics.c.candidate_id.in_(wanted))
            rows = connection.execute(query).all()
            self.log.append(AuditEvent.DEMOGRAPHICS_READ,
                            {"purpose": purpose, "candidates": len(rows), "selection": "all" if wanted is None
                             else "listed"}, actor=actor, connection=connection)
            return rows

        rows = self.log.transaction(work)
        records = {row.candidate_id: json.loads(row.attributes) for row in rows}
        frame = pd.DataFrame.from_dict(records, orient="index")
        frame.index.name = "candidate_id"
        return frame.reindex(columns=sorted(frame.columns)).astype(object).where(frame.notna(), None)

    def withdraw(self, candidate_id: str, *, actor: str) -> bool:
        """Delete the candidate's protected attributes (consent withdrawn); True if there were any."""
        check_candidate_id(candidate_id)

        def work(connection: Connection) -> bool:
            gone = delete_demographics(connection, candidate_id)
            self.log.append(AuditEvent.DEMOGRAPHICS_WITHDRAWN, {"deleted": gone}, actor=actor,
                            candidate=candidate_id, connection=connection)
            return gone

        return self.log.transaction(work)


# Helpers shared with profiler.oversight.privacy (the caller owns the transaction) ---------------------
def demographics_of(connection: Connection, candidate_id: str) -> dict[str, Any] | None:
    """The candidate's attributes row, for the candidate's own export only."""
    row = connection.execute(select(candidate_demographics)
                             .where(candidate_demographics.c.candidate_id == candidate_id)).first()
    if row is None:
        return None
    return {"attributes": json.loads(row.attributes), "source": row.source, "recorded_at": utc(row.recorded_at)}


def delete_demographics(connection: Connection, candidate_id: str) -> bool:
    """Delete the candidate's attributes; True if there were any."""
    result = connection.execute(delete(candidate_demographics)
                                .where(candidate_demographics.c.candidate_id == candidate_id))
    return result.rowcount > 0


def _insert_identity(connection: Connection, candidate_id: str, values: dict[str, Any], now: datetime) -> str:
    """Insert an identity row with a fresh digest key; return the keyed digest the log records."""
    key = new_digest_key()
    connection.execute(insert(candidate_identity).values(candidate_id=candidate_id, updated_at=now, digest_key=key,
                                                         **values))
    return keyed_digest(key, identity_content(candidate_id, values["name"], values["email"], values["details"]))


def _candidate_row(connection: Connection, candidate_id: str) -> Any:
    return connection.execute(select(candidates).where(candidates.c.id == candidate_id)).first()


def _candidate(row: Any) -> Candidate:
    return Candidate(row.id, row.status, utc(row.created_at), utc(row.closed_at), bool(row.legal_hold),
                     row.legal_hold_reason, utc(row.erased_at))


def case_record(row: Any) -> CaseRecord:
    """A row of ``case_records`` as a :class:`CaseRecord`."""
    return CaseRecord(row.id, row.candidate_id, row.kind, row.session_id, json.loads(row.payload), row.payload_hash,
                      row.audit_seq, row.recorded_by, utc(row.recorded_at))


Artefact = CaseRecord  # the name before schema version 4


def _identity_row(identity: Identity) -> dict[str, Any]:
    if not isinstance(identity, Identity):
        raise CandidateError(f"identity must be an Identity, got {type(identity).__name__}")
    for name in ("name", "email"):
        value = getattr(identity, name)
        if value is not None and not isinstance(value, str):
            raise CandidateError(f"identity {name} must be text, got {type(value).__name__}")
    details = dict(identity.details)
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in details.items()):
        raise CandidateError("identity details must map text to text")
    return {"name": identity.name, "email": identity.email, "details": canonical_json(details)}


def _attributes(attributes: Mapping[str, str | None]) -> dict[str, str | None]:
    if not isinstance(attributes, Mapping) or not attributes:
        raise CandidateError("give the protected attributes as a non-empty mapping of category -> value")
    values = {}
    for key, value in attributes.items():
        if not isinstance(key, str) or not ATTRIBUTE_PATTERN.match(key):
            raise CandidateError(f"category {key!r} must be a lower-case name of up to 32 characters "
                                 "(e.g. 'sex', 'race_ethnicity')")
        if value is not None and (not isinstance(value, str) or len(value) > MAX_ATTRIBUTE_VALUE):
            raise CandidateError(f"category {key!r}: value must be text of up to {MAX_ATTRIBUTE_VALUE} characters "
                                 "or None (not given)")
        values[key] = value
    return values
