"""The tables against the log: every row that decides is what its log entries say it is.

The hash chain protects the log; the tables beside it (the answers, sessions, candidates, identities,
demographics, stops of job models, stored questionnaires) are written in the same transaction as their log
entries, and each entry states the row it wrote. :func:`check_tables` replays the log and compares, row by
row, and names every row that disagrees: a column edited, a row deleted, a row inserted that no entry
records. It runs on the snapshot :meth:`~profiler.store.audit_log.AuditLog.verify` reads.

What an entry states:

- ``session.started``: every column of the session's row (the item order and start time since schema version
  5; before, the questionnaire, language and seed); the respondent is the entry's candidate.
- ``session.answered`` ... ``session.completed``, ``session.item_selected`` (an adaptive test's step): every
  column of one ``session_events`` row (the flag for an item's time limit and the event's time since version 5),
  and the session's status, expiry and finish time. Since version 9 ``session.started`` states the session's
  item banks, and each stored bank (``item_banks``) must verify against its sha256.
- ``candidate.registered``, ``candidate.closed``, ``candidate.legal_hold``, ``candidate.erased``: the
  candidate's row (status, legal hold and its reason; the times since version 5).
- ``candidate.registered`` / ``candidate.identity_updated`` and ``demographics.recorded`` /
  ``demographics.withdrawn``: whether an identity or demographics row exists, and since version 5 its keyed
  digest (:mod:`profiler.store.digests`), so that the values are checked without being in the log.
- ``model.stopped`` and ``model.resumed``: the row of ``model_stops`` (model, version, operator, reason and the
  entries' numbers).
- A stored questionnaire or job model is named by the hash of its content: its row must hash to its key; each
  session's questionnaire must be there, and each job model a ``job_model.version`` entry stored (since schema
  version 7).

An erased entry states nothing any more (its rows were deleted with it); the ``candidate.erased`` entry that
follows states that nothing but the pseudonym's row remains.

Memory stays bounded: candidates are checked a page of ids at a time, every table read by index.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, or_, select

from profiler.artifacts import content_sha256
from profiler.canonical import sha256_text, utc_text
from profiler.store.digests import demographics_content, identity_content, row_digest
from profiler.store.tables import (
    audit_log,
    candidate_demographics,
    candidate_identity,
    candidates,
    item_banks,
    job_models,
    model_stops,
    questionnaires,
    session_events,
    sessions,
)

PAGE = 200  # candidates per page
CHUNK = 500  # values per IN (...) list
MAX_PROBLEMS = 10_000  # listed; more are counted
ERASED_PREFIX = '{"$erased"'

SESSION_EVENTS = {"session.answered": "answer", "session.skipped": "skip", "session.went_forward": "forward",
                  "session.went_back": "back", "session.paused": "pause", "session.resumed": "resume",
                  "session.expired": "expire", "session.completed": "finish", "session.item_selected": "select"}
CANDIDATE_EVENTS = ("candidate.registered", "candidate.closed", "candidate.legal_hold", "candidate.erased",
                    "candidate.identity_updated", "demographics.recorded", "demographics.withdrawn")
STATING = ("session.started", *SESSION_EVENTS, *CANDIDATE_EVENTS)
UNKNOWN: Any = type("Unknown", (), {"__repr__": lambda self: "unknown"})()  # a value no entry states


class Problems:
    """The disagreements found, in order: the first :data:`MAX_PROBLEMS` in words, all counted."""

    def __init__(self) -> None:
        self.listed: list[str] = []
        self.count = 0

    def add(self, text: str) -> None:
        self.count += 1
        if len(self.listed) < MAX_PROBLEMS:
            self.listed.append(text)


@dataclass
class _Row:
    """A row as the log says it must be: column -> (value, the entry that said so)."""

    columns: dict[str, tuple[Any, int]] = field(default_factory=dict)
    seq: int = 0  # the entry that created it

    def state(self, seq: int, **values: Any) -> None:
        for name, value in values.items():
            self.columns[name] = (value, seq)


@dataclass
class _Case:
    """What one candidate's entries state: their rows, by table."""

    candidate: _Row | None = None
    identity: _Row | None = None
    demographics: _Row | None = None
    sessions: dict[str, _Row] = field(default_factory=dict)
    events: dict[tuple[str, int], _Row] = field(default_factory=dict)
    identity_known: bool = True  # False: an old entry that does not say whether a row was written


# Reading ----------------------------------------------------------------------------------------------------
def _ordered(column: Any, connection: Connection) -> Any:
    """The column compared byte by byte, so that paging agrees with Python's order on every database."""
    return column.collate("C") if connection.dialect.name == "postgresql" else column


def _candidate_pages(connection: Connection) -> Iterator[list[str]]:
    """Every id any table or entry holds about a candidate, a page at a time, in byte order."""
    sources = [audit_log.c.candidate_id, candidates.c.id, sessions.c.respondent, candidate_identity.c.candidate_id,
               candidate_demographics.c.candidate_id]
    after: str | None = None
    while True:
        lists = []
        for column in sources:
            key = _ordered(column, connection)
            # The collated expression itself is selected: PostgreSQL orders a DISTINCT only by what it selects.
            query = select(key.label("id")).distinct().where(column.is_not(None)).order_by(key).limit(PAGE)
            if after is not None:
                query = query.where(key > after)
            lists.append([row[0] for row in connection.execute(query)])
        full = [ids[-1] for ids in lists if len(ids) == PAGE]
        bound = min(full) if full else None
        page = sorted({i for ids in lists for i in ids if bound is None or i <= bound})
        if not page:
            return
        yield page
        after = page[-1]


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


def _payload(text: str) -> dict[str, Any] | None:
    """The parsed payload (None when erased or unreadable)."""
    if text.startswith(ERASED_PREFIX):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _time(value: Any) -> str | None:
    """A stored moment as the log's UTC text (SQLite hands back naive datetimes, written as UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return utc_text(value)


# Replaying one candidate's entries ---------------------------------------------------------------------------
def _replay(entries: Iterable[Any]) -> _Case:
    case = _Case()
    for entry in entries:
        seq, event, payload = entry.seq, entry.event, _payload(entry.payload)
        if event == "session.started":
            if payload is not None and isinstance(payload.get("session"), str):
                row = _Row(seq=seq)
                row.state(seq, respondent=entry.candidate_id, **{
                    k: payload[k] for k in ("questionnaire_id", "questionnaire_version", "content_hash", "language",
                                            "seed", "item_order", "started_at", "time_multiplier", "banks")
                    if k in payload})
                row.state(seq, status="open", expired=False, finished_at=None)
                case.sessions[payload["session"]] = row
        elif event in SESSION_EVENTS:
            if payload is not None and isinstance(payload.get("session"), str):
                _session_event(case, seq, SESSION_EVENTS[event], payload)
        else:
            _candidate_event(case, seq, event, payload)
    return case


def _session_event(case: _Case, seq: int, kind: str, payload: dict[str, Any]) -> None:
    session_id = payload["session"]
    row = _Row(seq=seq)
    row.state(seq, kind=kind, item_id=payload.get("item", UNKNOWN), position=payload.get("position", UNKNOWN),
              value=payload.get("value", UNKNOWN), shown_seconds=payload.get("shown_seconds", UNKNOWN),
              **{k: payload[k] for k in ("item_time_exceeded", "recorded_at") if k in payload})
    case.events[(session_id, payload.get("seq"))] = row
    session = case.sessions.get(session_id)
    if session is None:
        return
    if kind == "finish":
        session.state(seq, status="finished", finished_at=payload.get("finished_at", UNKNOWN))
    elif kind == "expire":
        session.state(seq, expired=True)


def _candidate_event(case: _Case, seq: int, event: str, payload: dict[str, Any] | None) -> None:
    known = payload is not None
    if event == "candidate.registered":
        case.candidate = _Row(seq=seq)
        case.candidate.state(seq, status="open", legal_hold=False, legal_hold_reason=None, closed_at=None,
                             erased_at=None, created_at=payload.get("created_at", UNKNOWN) if known else UNKNOWN)
        if known and ("identity_digest" in payload or "created_at" in payload):
            case.identity = _identity(seq, payload.get("identity_digest"), "identity") \
                if "identity_digest" in payload else None
            case.identity_known = True
        else:  # before schema version 5 an identity without fields was stored but not stated
            case.identity = _identity(seq, None, "identity") if known and payload.get("identity_fields") else None
            case.identity_known = known and bool(payload.get("identity_fields"))
    elif event == "candidate.identity_updated":
        case.identity = _identity(seq, payload.get("identity_digest") if known else None, "identity")
        case.identity_known = True
    elif event == "demographics.recorded":
        case.demographics = _identity(seq, payload.get("digest") if known else None, "demographics")
    elif event == "demographics.withdrawn":
        case.demographics = None
    elif event == "candidate.erased":
        case.sessions, case.events, case.identity, case.demographics = {}, {}, None, None
        case.identity_known = True
        if case.candidate is not None:
            case.candidate.state(seq, status="erased", legal_hold=False, legal_hold_reason=None,
                                 erased_at=payload.get("erased_at", UNKNOWN) if known else UNKNOWN)
    elif case.candidate is not None and event == "candidate.closed":
        case.candidate.state(seq, status="closed", closed_at=payload.get("closed_at", UNKNOWN) if known else UNKNOWN)
    elif case.candidate is not None and event == "candidate.legal_hold":
        hold = bool(payload.get("hold")) if known else UNKNOWN
        reason = (payload.get("reason") if hold else None) if known else UNKNOWN
        case.candidate.state(seq, legal_hold=hold, legal_hold_reason=reason)


def _identity(seq: int, digest: str | None, _what: str) -> _Row:
    row = _Row(seq=seq)
    row.state(seq, digest=digest if digest is not None else UNKNOWN)
    return row


# Comparing ---------------------------------------------------------------------------------------------------
def _same(stated: Any, stored: Any) -> bool:
    if stated is UNKNOWN:
        return True
    if isinstance(stated, bool) or isinstance(stored, bool):
        return isinstance(stated, bool) and isinstance(stored, bool) and stated == stored
    if isinstance(stated, int | float) and isinstance(stored, int | float):
        return float(stated) == float(stored)
    return stated == stored


TIMES = ("finished_at", "closed_at", "erased_at", "started_at", "recorded_at", "created_at", "resumed_at")


def _compare(problems: Problems, what: str, row: _Row, stored: dict[str, Any]) -> None:
    for column, (stated, seq) in row.columns.items():
        value = stored.get(column)
        if column in TIMES:
            value = _time(value)
        if not _same(stated, value):
            problems.add(f"{what}: {column} is {value!r}, but log entry {seq} recorded {stated!r} (edited)")


def _check_page(connection: Connection, page: list[str], problems: Problems) -> int:
    entries = connection.execute(
        select(audit_log.c.seq, audit_log.c.event, audit_log.c.candidate_id, audit_log.c.payload)
        .where(audit_log.c.candidate_id.in_(page), audit_log.c.event.in_(STATING)).order_by(audit_log.c.seq)).all()
    by_candidate: dict[str, list[Any]] = {}
    for entry in entries:
        by_candidate.setdefault(entry.candidate_id, []).append(entry)
    stored_candidates = {r.id: r._mapping for r in connection.execute(
        select(candidates).where(candidates.c.id.in_(page)))}
    identities = {r.candidate_id: r._mapping for r in connection.execute(
        select(candidate_identity).where(candidate_identity.c.candidate_id.in_(page)))}
    demographics = {r.candidate_id: r._mapping for r in connection.execute(
        select(candidate_demographics).where(candidate_demographics.c.candidate_id.in_(page)))}
    stored_sessions: dict[str, dict[str, Any]] = {}
    for r in connection.execute(select(sessions).where(sessions.c.respondent.in_(page))):
        row = dict(r._mapping)
        row["item_order"] = _json_or_text(row["item_order"])
        row["banks"] = _json_or_text(row["banks"]) if row.get("banks") is not None else None
        stored_sessions[r.id] = row
    sessions_of: dict[str, dict[str, dict[str, Any]]] = {}
    for sid, row in stored_sessions.items():
        sessions_of.setdefault(row["respondent"], {})[sid] = row
    stated_sessions = {key[0] for entries_ in by_candidate.values() for key in _session_ids(entries_)}
    stored_events: dict[str, dict[tuple[str, int], dict[str, Any]]] = {}  # session id -> (session, seq) -> row
    for ids in _chunks(sorted(set(stored_sessions) | stated_sessions)):
        for r in connection.execute(select(session_events).where(session_events.c.session_id.in_(ids))):
            stored_events.setdefault(r.session_id, {})[(r.session_id, r.seq)] = dict(r._mapping)
    checked = 0
    for candidate_id in page:
        case = _replay(by_candidate.get(candidate_id, []))
        checked += _check_candidate(candidate_id, case, stored_candidates.get(candidate_id),
                                    identities.get(candidate_id), demographics.get(candidate_id), problems)
        mine = sessions_of.get(candidate_id, {})
        events = {key: row for sid in set(mine) | set(case.sessions)
                  for key, row in stored_events.get(sid, {}).items()}
        checked += _check_sessions(case, mine, events, problems)
    return checked


def _session_ids(entries: list[Any]) -> Iterator[tuple[str]]:
    for entry in entries:
        if entry.event == "session.started" or entry.event in SESSION_EVENTS:
            payload = _payload(entry.payload)
            if payload is not None and isinstance(payload.get("session"), str):
                yield (payload["session"],)


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _presence(problems: Problems, what: str, stated: _Row | None, stored: Any, known: bool = True) -> bool:
    """Whether both exist (then compare); report one without the other."""
    if stated is None and stored is not None:
        if known:
            problems.add(f"{what} is in no log entry (inserted, or its entry was removed)")
        return False
    if stated is not None and stored is None:
        problems.add(f"{what}, recorded by log entry {stated.seq}, is missing (deleted)")
        return False
    return stated is not None


def _check_candidate(candidate_id: str, case: _Case, row: Any, identity: Any, demographics: Any,
                     problems: Problems) -> int:
    checked = 0
    what = f"candidates row {candidate_id}"
    if _presence(problems, what, case.candidate, row):
        _compare(problems, what, case.candidate, dict(row))
        checked += 1
    what = f"candidate_identity row {candidate_id}"
    if _presence(problems, what, case.identity, identity, case.identity_known):
        digest = row_digest(identity["digest_key"], identity_content(
            candidate_id, identity["name"], identity["email"], identity["details"]))
        _compare(problems, what, case.identity, {"digest": digest})
        checked += 1
    what = f"candidate_demographics row {candidate_id}"
    if _presence(problems, what, case.demographics, demographics):
        digest = row_digest(demographics["digest_key"], demographics_content(
            candidate_id, demographics["attributes"], demographics["source"]))
        _compare(problems, what, case.demographics, {"digest": digest})
        checked += 1
    return checked


def _check_sessions(case: _Case, stored: dict[str, dict[str, Any]],
                    stored_events: dict[tuple[str, int], dict[str, Any]], problems: Problems) -> int:
    checked = 0
    for session_id in sorted(set(case.sessions) | set(stored)):
        what = f"sessions row {session_id}"
        if _presence(problems, what, case.sessions.get(session_id), stored.get(session_id)):
            _compare(problems, what, case.sessions[session_id], stored[session_id])
            checked += 1
    keys = set(stored_events) | set(case.events)  # the events of this candidate's sessions
    for key in sorted(keys, key=lambda k: (k[0], k[1] if isinstance(k[1], int) else -1)):
        what = f"session_events row (session {key[0]}, seq {key[1]})"
        if _presence(problems, what, case.events.get(key), stored_events.get(key)):
            _compare(problems, what, case.events[key], stored_events[key])
            checked += 1
    return checked


def _check_documents(connection: Connection, table: Any, id_column: str, problems: Problems) -> int:
    """Stored questionnaires and job models: each row's document must hash to its key, and name its id/version."""
    checked = 0
    after: str | None = None
    key = _ordered(table.c.content_hash, connection)
    while True:
        query = select(table).order_by(key).limit(PAGE)
        if after is not None:
            query = query.where(key > after)
        rows = connection.execute(query).all()
        for row in rows:
            what = f"{table.name} row {row.content_hash}"
            if sha256_text(row.document) != row.content_hash:
                problems.add(f"{what}: its document does not hash to its content_hash (edited)")
            else:
                document = _json_or_text(row.document)
                stated = (document.get("id"), document.get("version")) if isinstance(document, dict) else None
                if stated != (getattr(row, id_column), row.version):
                    problems.add(f"{what}: {id_column}/version {getattr(row, id_column)!r} {row.version!r} are not "
                                 f"those of its document (edited)")
            checked += 1
        if len(rows) < PAGE:
            break
        after = rows[-1].content_hash
    return checked


def _check_item_banks(connection: Connection, problems: Problems) -> int:
    """Each stored item bank's document must be the sealed artifact its key names; each session's banks there."""
    checked = 0
    stored = set()
    for row in connection.execute(select(item_banks).order_by(item_banks.c.content_hash)):
        document = _json_or_text(row.document)
        recorded = document.get("sha256") if isinstance(document, dict) else None
        if recorded != row.content_hash or content_sha256(document) != recorded:
            problems.add(f"item_banks row {row.content_hash}: its document is not the sealed artifact of that sha256 "
                         "(edited)")
        elif (document.get("name"), document.get("version"), document.get("scale")) != (row.name, row.version,
                                                                                          row.scale):
            problems.add(f"item_banks row {row.content_hash}: name/version/scale are not those of its document "
                         "(edited)")
        stored.add(row.content_hash)
        checked += 1
    named: set[str] = set()
    for session_id, banks in connection.execute(select(sessions.c.id, sessions.c.banks)
                                                .where(sessions.c.banks.is_not(None)).order_by(sessions.c.id)):
        value = _json_or_text(banks)
        for sha in (value.values() if isinstance(value, dict) else []):
            if sha not in stored and sha not in named:
                problems.add(f"item_banks row {sha}, the bank of session {session_id}, is missing (deleted)")
                named.add(sha)
    return checked


def _check_questionnaires(connection: Connection, problems: Problems) -> int:
    checked = _check_item_banks(connection, problems)
    checked += _check_documents(connection, questionnaires, "questionnaire_id", problems)
    checked += _check_documents(connection, job_models, "job_model_id", problems)
    stored = set(connection.execute(select(job_models.c.content_hash)).scalars())
    entries = connection.execute(select(audit_log.c.seq, audit_log.c.payload)
                                 .where(audit_log.c.event == "job_model.version").order_by(audit_log.c.seq))
    for entry in entries:
        payload = _payload(entry.payload)
        if payload and payload.get("stored_as") == "job_models" and payload.get("job_model_hash") not in stored:
            problems.add(f"job_models row {payload.get('job_model_hash')}, stored with log entry {entry.seq}, is "
                         "missing (deleted)")
            stored.add(payload.get("job_model_hash"))  # named once
    stray = connection.execute(
        select(session_events.c.session_id, session_events.c.seq)
        .where(session_events.c.session_id.not_in(select(sessions.c.id)))
        .order_by(session_events.c.session_id, session_events.c.seq)).all()
    for row in stray:
        problems.add(f"session_events row (session {row.session_id}, seq {row.seq}) belongs to no session "
                     "(inserted, or its session was deleted)")
    orphans = connection.execute(
        select(sessions.c.id, sessions.c.content_hash)
        .where(sessions.c.content_hash.not_in(select(questionnaires.c.content_hash))).order_by(sessions.c.id)).all()
    for row in orphans:
        problems.add(f"questionnaires row {row.content_hash}, administered by session {row.id}, is missing (deleted)")
    return checked


def _check_stops(connection: Connection, problems: Problems) -> int:
    entries = connection.execute(
        select(audit_log.c.seq, audit_log.c.event, audit_log.c.payload)
        .where(or_(audit_log.c.event == "model.stopped", audit_log.c.event == "model.resumed"))
        .order_by(audit_log.c.seq)).all()
    stated: dict[int, _Row] = {}
    for entry in entries:
        payload = _payload(entry.payload)
        if payload is None or not isinstance(payload.get("stop"), int):
            continue
        stop = payload["stop"]
        if entry.event == "model.stopped":
            row = stated[stop] = _Row(seq=entry.seq)
            row.state(entry.seq, job_model_id=payload.get("job_model_id", UNKNOWN),
                      job_model_version=payload.get("job_model_version", UNKNOWN),
                      stopped_by=payload.get("operator", UNKNOWN), stop_reason=payload.get("reason", UNKNOWN),
                      stop_seq=entry.seq, resumed_by=None, resume_reason=None, resume_seq=None, resumed_at=None)
        elif stop in stated:
            stated[stop].state(entry.seq, resumed_by=payload.get("operator", UNKNOWN),
                               resume_reason=payload.get("reason", UNKNOWN), resume_seq=entry.seq, resumed_at=UNKNOWN)
    stored = {row.id: dict(row._mapping) for row in connection.execute(select(model_stops))}
    checked = 0
    for stop in sorted(set(stated) | set(stored)):
        what = f"model_stops row {stop}"
        if _presence(problems, what, stated.get(stop), stored.get(stop)):
            _compare(problems, what, stated[stop], stored[stop])
            checked += 1
    return checked


def check_tables(connection: Connection, problems: Problems) -> int:
    """Compare every decision-relevant table with the log (in ``connection``'s snapshot); add each
    disagreement to ``problems``; return the number of rows checked."""
    checked = 0
    for page in _candidate_pages(connection):
        checked += _check_page(connection, page, problems)
    checked += _check_questionnaires(connection, problems)
    checked += _check_stops(connection, problems)
    return checked


__all__ = ["MAX_PROBLEMS", "Problems", "check_tables"]
