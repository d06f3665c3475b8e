"""Reading the review's case records inside a caller's transaction: recommendations, decisions, contests.

Payloads are read as their typed records (:func:`profiler.store.records.read_record`); an old payload of one
of these kinds that profiler did not write is passed over, a record profiler cannot read raises
:class:`~profiler.store.records.StoredRecordError`.
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, bindparam, or_, select

from profiler.oversight.candidates import check_candidate_id, utc
from profiler.oversight.review.cases import Confirmation, Contest, Decision, RecordedRecommendation, Refusal
from profiler.oversight.review.rules import ReviewError
from profiler.store.records import (
    StoredConfirmation,
    StoredConfirmationRefusal,
    StoredContest,
    StoredContestAssignment,
    StoredDecision,
    StoredRecommendation,
    StoredRecord,
    read_record,
)
from profiler.store.tables import case_records


def record_rows(connection: Connection, kind: str | Iterable[str], candidate: str | None = None,
                record_id: int | None = None) -> list[tuple[Any, StoredRecord]]:
    """``(row, typed record)`` of the case records of ``kind``, oldest first (foreign old payloads left out)."""
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    values = {}
    if candidate is not None:
        values["candidate"] = check_candidate_id(candidate)
    if record_id is not None:
        values["record_id"] = record_id
    out = []
    for row in connection.execute(_statement(kinds, candidate is not None, record_id is not None), values):
        record = read_record(row.kind, json.loads(row.payload), where=f"case record {row.id} ({row.kind})")
        if record is not None:
            out.append((row, record))
    return out


_STATEMENTS: dict[tuple[tuple[str, ...], bool, bool], Any] = {}


def _statement(kinds: tuple[str, ...], by_candidate: bool, by_id: bool) -> Any:
    """The query of :func:`record_rows`, built once per shape (a decision runs seven of them); ``kind = ...``
    rather than ``kind IN (...)``, whose list SQLAlchemy expands again at every execution."""
    key = (kinds, by_candidate, by_id)
    found = _STATEMENTS.get(key)
    if found is None:
        found = select(case_records).where(or_(*(case_records.c.kind == k for k in kinds))) \
            .order_by(case_records.c.id)
        if by_candidate:
            found = found.where(case_records.c.candidate_id == bindparam("candidate"))
        if by_id:
            found = found.where(case_records.c.id == bindparam("record_id"))
        _STATEMENTS[key] = found
    return found


def _recommendation(row: Any, record: StoredRecommendation) -> RecordedRecommendation:
    return RecordedRecommendation.from_record(record, id=row.id, candidate=row.candidate_id,
                                              session_id=row.session_id, payload_hash=row.payload_hash,
                                              recorded_at=utc(row.recorded_at))


def recommendations(connection: Connection, candidate: str | None = None,
                    record_id: int | None = None) -> list[RecordedRecommendation]:
    return [_recommendation(row, record) for row, record in
            record_rows(connection, StoredRecommendation.KIND, candidate, record_id)]


def recommendation(connection: Connection, recommendation_id: int, where: str) -> RecordedRecommendation:
    """One recorded recommendation by its record id; :class:`ReviewError` when there is none."""
    found = recommendations(connection, record_id=_record_id(recommendation_id, "recommendation"))
    if not found:
        raise ReviewError(f"no recommendation {recommendation_id} recorded by the assessment pipeline in {where}")
    return found[0]


def decisions(connection: Connection, candidate: str | None, only: int | None = None) -> list[Decision]:
    return [Decision.from_record(record, id=row.id, candidate=row.candidate_id, payload_hash=row.payload_hash,
                                 audit_seq=row.audit_seq)
            for row, record in record_rows(connection, StoredDecision.KIND, candidate, only)]


def decision(connection: Connection, decision_id: int, where: str) -> Decision:
    found = decisions(connection, None, only=_record_id(decision_id, "decision"))
    if not found:
        raise ReviewError(f"no decision {decision_id} in {where}")
    return found[0]


def contests(connection: Connection, candidate: str | None, only: int | None = None) -> list[Contest]:
    """Contests with their latest assignment and the second reviewer's decision, if any."""
    rows = record_rows(connection, (StoredContest.KIND, StoredContestAssignment.KIND), candidate)
    assigned = {record.contest: record.assigned_to for _, record in rows
                if isinstance(record, StoredContestAssignment)}
    seconds = {d.contest_id: d for d in decisions(connection, candidate) if d.stage == "contest"}
    return [Contest.from_record(record, id=row.id, candidate=row.candidate_id,
                                assigned_to=assigned.get(row.id, record.assigned_to),
                                second_decision=seconds.get(row.id))
            for row, record in rows
            if isinstance(record, StoredContest) and (only is None or row.id == only)]


def contest(connection: Connection, contest_id: int, where: str) -> Contest:
    contest_id = _record_id(contest_id, "contest")
    rows = record_rows(connection, StoredContest.KIND, record_id=contest_id)
    found = contests(connection, rows[0][0].candidate_id, only=contest_id) if rows else []
    if not found:
        raise ReviewError(f"no contest {contest_id} in {where}")
    return found[0]


def confirmations(connection: Connection, candidate: str | None) -> list[Confirmation]:
    return [Confirmation.from_record(record, id=row.id, candidate=row.candidate_id)
            for row, record in record_rows(connection, StoredConfirmation.KIND, candidate)]


def refusals(connection: Connection, candidate: str | None) -> list[Refusal]:
    return [Refusal.from_record(record, id=row.id, candidate=row.candidate_id)
            for row, record in record_rows(connection, StoredConfirmationRefusal.KIND, candidate)]


def standing(connection: Connection, candidate: str | None) -> list[Decision]:
    """The decisions that stand: every decision but overrides a second person refused to confirm."""
    refused = {r.decision_id for r in refusals(connection, candidate)}
    return [d for d in decisions(connection, candidate) if d.id not in refused]


def _record_id(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ReviewError(f"a {what} is named by its record id (a whole number), got {value!r}")
    return int(value)


__all__ = ["confirmations", "contest", "contests", "decision", "decisions", "recommendation", "recommendations",
           "record_rows", "refusals", "standing"]
