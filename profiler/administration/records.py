"""Reading and writing sessions in the store (SQLAlchemy Core statements; the caller owns the transaction)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from profiler.administration.events import Event
from profiler.artifacts import canonical_json
from profiler.questionnaire.spec import QuestionnaireSpec
from profiler.questionnaire.questionnaire import Questionnaire
from profiler.irt.calibration import IRTCalibration
from profiler.store.tables import item_banks, questionnaires, session_events, sessions


def utc(moment: datetime | None) -> datetime | None:
    """A timezone-aware UTC datetime (SQLite hands back naive ones, written as UTC)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def has_questionnaire(connection: Connection, content_hash: str) -> bool:
    query = select(questionnaires.c.content_hash).where(questionnaires.c.content_hash == content_hash)
    return connection.execute(query).first() is not None


def save_questionnaire(connection: Connection, questionnaire: Questionnaire) -> None:
    """Store the questionnaire's content under its hash (once; the same hash means the same content)."""
    if has_questionnaire(connection, questionnaire.content_hash):
        return
    # The canonical JSON its content hash is computed from (document_hash), so the row matches its key.
    document = canonical_json(questionnaire.spec.model_dump(mode="json"))
    connection.execute(insert(questionnaires).values(
        content_hash=questionnaire.content_hash, questionnaire_id=questionnaire.id,
        version=questionnaire.version, document=document,
        stored_at=datetime.now(UTC),
    ))


def load_questionnaire(connection: Connection, content_hash: str) -> Questionnaire | None:
    """The questionnaire stored under ``content_hash`` (None when absent)."""
    query = select(questionnaires.c.document).where(questionnaires.c.content_hash == content_hash)
    document = connection.execute(query).scalar_one_or_none()
    if document is None:
        return None
    spec = QuestionnaireSpec.model_validate_json(document)
    return Questionnaire(spec, source=f"store:{content_hash}")


def insert_session(connection: Connection, **row: Any) -> None:
    connection.execute(insert(sessions).values(**row))


# Read on every request of a respondent: built once, values bound at execution.
_SESSION = select(sessions).where(sessions.c.id == bindparam("session_id"))
_EVENTS = select(session_events).where(session_events.c.session_id == bindparam("session_id")) \
    .order_by(session_events.c.seq)


def load_session(connection: Connection, session_id: str) -> dict[str, Any] | None:
    """The session's row as a dict (None when there is no such session)."""
    row = connection.execute(_SESSION, {"session_id": session_id}).mappings().first()
    if row is None:
        return None
    record = dict(row)
    record["item_order"] = json.loads(record["item_order"])
    for key in ("started_at", "finished_at"):
        record[key] = utc(record[key])
    return record


# A session known up to event ``seq``: its row with the events from ``seq`` on, in one statement (one snapshot).
_SESSION_SINCE = select(sessions, *[c.label(f"event_{c.name}") for c in session_events.c if c.name != "session_id"]) \
    .select_from(sessions.outerjoin(session_events, (session_events.c.session_id == sessions.c.id)
                                    & (session_events.c.seq >= bindparam("seq")))) \
    .where(sessions.c.id == bindparam("session_id")).order_by(session_events.c.seq)


def load_session_since(connection: Connection, session_id: str,
                       seq: int) -> tuple[dict[str, Any], list[Event]] | None:
    """The session's row (``item_order`` as stored: JSON text) and its events from ``seq`` on; None when there is
    no such session."""
    rows = connection.execute(_SESSION_SINCE, {"session_id": session_id, "seq": seq}).mappings().all()
    if not rows:
        return None
    record = {c.name: rows[0][c.name] for c in sessions.c}
    for key in ("started_at", "finished_at"):
        record[key] = utc(record[key])
    events = [Event(seq=r["event_seq"], kind=r["event_kind"], item_id=r["event_item_id"],
                    position=r["event_position"], value=r["event_value"], shown_seconds=r["event_shown_seconds"],
                    item_time_exceeded=bool(r["event_item_time_exceeded"]), recorded_at=utc(r["event_recorded_at"]))
              for r in rows if r["event_seq"] is not None]
    return record, events


def update_session(connection: Connection, session_id: str, **values: Any) -> None:
    connection.execute(update(sessions).where(sessions.c.id == session_id).values(**values))


# Built once: values are bound at execution, so the compiled statement is reused for every answer.
_INSERT_EVENT = insert(session_events)


def append_event(connection: Connection, session_id: str, event: Event) -> None:
    """Insert one event; a second event with the same ``seq`` fails (the primary key), never doubles."""
    connection.execute(_INSERT_EVENT, {
        "session_id": session_id, "seq": event.seq, "kind": event.kind, "item_id": event.item_id,
        "position": event.position, "value": event.value, "shown_seconds": event.shown_seconds,
        "item_time_exceeded": event.item_time_exceeded, "recorded_at": event.recorded_at,
    })


def load_events(connection: Connection, session_id: str) -> list[Event]:
    """Every event of the session, in order."""
    return [
        Event(seq=r.seq, kind=r.kind, item_id=r.item_id, position=r.position, value=r.value,
              shown_seconds=r.shown_seconds, item_time_exceeded=bool(r.item_time_exceeded),
              recorded_at=utc(r.recorded_at))
        for r in connection.execute(_EVENTS, {"session_id": session_id})
    ]


def save_item_bank(connection: Connection, calibration: IRTCalibration) -> None:
    """Store an adaptive session's IRT calibration under its sha256 (once)."""
    query = select(item_banks.c.content_hash).where(item_banks.c.content_hash == calibration.sha256)
    if connection.execute(query).first() is not None:
        return
    connection.execute(insert(item_banks).values(
        content_hash=calibration.sha256, name=calibration.name, version=calibration.version,
        scale=calibration.scale, document=canonical_json(calibration.to_dict()), stored_at=datetime.now(UTC)))


def load_item_banks(connection: Connection, hashes: list[str]) -> dict[str, IRTCalibration | None]:
    """The calibrations stored under ``hashes`` (None where absent), each checked against its sha256."""
    rows = connection.execute(select(item_banks.c.content_hash, item_banks.c.document)
                              .where(item_banks.c.content_hash.in_(hashes))).all()
    found = {row.content_hash: IRTCalibration.from_json(row.document, f"item_banks:{row.content_hash}")
             for row in rows}
    return {h: found.get(h) for h in hashes}
