"""The global stop of a job model (EU AI Act Art. 14(4)(e)): an operator halts it, leaving a safe state.

An operator stops one version of a job model, or every version of it, with a reason. While a stop is in
force the recorded pipeline (:mod:`profiler.pipeline.assessment`) produces no recommendation with that model: it
raises :class:`ModelStoppedError`, which names the operator, the time and the reason. The check runs
inside the write transaction that records a candidate's results, so a stop that commits while a batch is
running halts it at the next candidate and leaves no half-written case behind: each candidate's records
commit together or not at all. Recommendations recorded before the stop stay, and reviewers can still
decide on them (a stop halts the machine, not the people).

A resumption, again with a reason, ends the stop. Stops and resumptions are rows of ``model_stops``
(never deleted) and entries ``model.stopped`` / ``model.resumed`` of the audit log, written together.
Whether a model may run is read from both: a stop is in force while its row *or its log entries* say so, so
deleting or editing a row of ``model_stops`` cannot make a stopped model usable, and a stop or resumption
entry that fails its own hashes stops every model until the log is restored (``profiler audit verify``
names it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from profiler.errors import ProfilerError
from profiler.oversight.candidates import utc
from profiler.store.audit_log import AuditEvent, AuditLog, entries_of, lock_head
from profiler.store.records import StoredModelResume, StoredModelStop, StoredRecordError, read_log_record
from profiler.store.store import Store
from profiler.store.tables import model_stops

# People acting on the record (operators, reviewers): an id without spaces; staff ids may be e-mail addresses.
PERSON_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@+\-]{0,99}$")
MODEL_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$")  # a job model id (profiler.questionnaire ID_PATTERN)


class ControlError(ProfilerError, ValueError):
    """A stop or resumption that cannot be done: no reason, a malformed id, a model already stopped or not stopped."""


class ModelStoppedError(ProfilerError):
    """The job model is stopped: no recommendation is produced with it until an operator resumes it.

    Attributes
    ----------
    stop : Stop
        The stop in force (operator, time, reason, scope).
    """

    def __init__(self, stop: Stop, job_model_id: str, job_model_version: str | None):
        self.stop = stop
        scope = "every version" if stop.job_model_version is None else f"version {stop.job_model_version}"
        asked = job_model_id if job_model_version is None else f"{job_model_id} {job_model_version}"
        super().__init__(
            f"job model {asked} is stopped ({scope}) by operator {stop.stopped_by} since "
            f"{stop.stopped_at:%Y-%m-%d %H:%M:%S} UTC: {stop.reason}. No recommendation is produced until "
            f"an operator resumes it (profiler model resume {job_model_id} --operator ID --reason TEXT)"
        )


@dataclass(frozen=True)
class Stop:
    """One stop of a job model, and its resumption once resumed.

    Attributes
    ----------
    id : int
    job_model_id : str
    job_model_version : str or None
        The version stopped; None for every version.
    stopped_by, reason : str
        The operator and why.
    stopped_at : datetime
    stop_seq : int or None
        The ``model.stopped`` entry of the audit log.
    resumed_by, resume_reason : str or None
    resumed_at : datetime or None
        None while the stop is in force.
    resume_seq : int or None
    """

    id: int
    job_model_id: str
    job_model_version: str | None
    stopped_by: str
    reason: str
    stopped_at: datetime
    stop_seq: int | None
    resumed_by: str | None = None
    resume_reason: str | None = None
    resumed_at: datetime | None = None
    resume_seq: int | None = None

    @property
    def active(self) -> bool:
        return self.resumed_at is None

    def covers(self, version: str | None) -> bool:
        """Whether this stop applies to ``version`` of its model (None: any version is asked about)."""
        return self.job_model_version is None or version is None or self.job_model_version == version


def model_key(model: Any, version: str | None = None) -> tuple[str, str | None]:
    """``(id, version)`` of a job model given as a :class:`~profiler.jobmodel.JobModel` or an id."""
    if hasattr(model, "spec") and hasattr(model, "version"):
        return str(model.id), version
    if not isinstance(model, str) or not MODEL_PATTERN.match(model):
        raise ControlError(f"job model {model!r} is not a job model id (a letter, then letters, digits, '_', '.', '-')")
    if version is not None and (not isinstance(version, str) or not version.strip()):
        raise ControlError(f"version {version!r} must be a non-empty text (or None for every version)")
    return model, version


def check_person(value: object, what: str) -> str:
    """Return ``value`` if it is a person's id (no spaces, up to 100 characters); raise otherwise."""
    if not isinstance(value, str) or not PERSON_PATTERN.match(value):
        raise ControlError(f"{what} {value!r} must be an id of 1-100 letters, digits or '_ . : @ + -' "
                           "(no spaces)")
    return value


def check_reason(value: object, what: str = "reason") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ControlError(f"a {what} is required: say why, in words")
    return value.strip()


class ModelControl:
    """Stop and resume job models; check that a model may run.

    Parameters
    ----------
    store : Store
    log : AuditLog, optional
        The log to write to (default: the store's).

    Examples
    --------
    >>> control = ModelControl(Store())
    >>> stop = control.stop("customer-support", operator="ops-kim", reason="norm table under investigation")
    >>> control.is_stopped("customer-support", "1.0.0")
    True
    >>> [s.id for s in control.resume("customer-support", operator="ops-kim", reason="norms verified")]
    [1]
    >>> control.is_stopped("customer-support", "1.0.0")
    False
    """

    def __init__(self, store: Store, log: AuditLog | None = None):
        self.store = store
        self.log = log if log is not None else AuditLog(store)

    def __repr__(self) -> str:
        return f"ModelControl({self.store.name!r})"

    def stop(self, model: Any, *, operator: str, reason: str, version: str | None = None) -> Stop:
        """Stop a job model: ``version`` only, or every version when ``version`` is None.

        Raises
        ------
        ControlError
            No reason, a malformed id, or the same scope already stopped.
        """
        model_id, version = model_key(model, version)
        operator, reason = check_person(operator, "operator"), check_reason(reason)
        now = datetime.now(UTC)

        def work(connection: Connection) -> int:
            lock_head(connection)  # serialise with other writers (PostgreSQL) before checking what is in force
            for stop in active_stops(connection, model_id):
                if stop.job_model_version == version:
                    raise ControlError(f"job model {_scope(model_id, version)} is already stopped by "
                                       f"{stop.stopped_by} since {stop.stopped_at:%Y-%m-%d %H:%M:%S} UTC: "
                                       f"{stop.reason}")
            stop_id = connection.execute(insert(model_stops).values(
                job_model_id=model_id, job_model_version=version, stopped_by=operator, stop_reason=reason,
                stopped_at=now)).inserted_primary_key[0]
            entry = self.log.append(AuditEvent.MODEL_STOPPED, StoredModelStop(
                stop=stop_id, job_model_id=model_id, job_model_version=version,
                scope="all versions" if version is None else "version", operator=operator, reason=reason,
            ).payload(), actor=f"operator:{operator}", connection=connection)
            connection.execute(update(model_stops).where(model_stops.c.id == stop_id).values(stop_seq=entry.seq))
            return stop_id

        stop_id = self.log.transaction(work)
        return self.get(stop_id)

    def resume(self, model: Any, *, operator: str, reason: str, version: str | None = None) -> list[Stop]:
        """End the stops of a job model: with ``version``, the stop of that version only; without, every
        stop of the model (all-versions and single-version ones). Returns the stops ended.

        Raises
        ------
        ControlError
            No reason, a malformed id, or nothing of that scope is stopped (the message says what is).
        """
        model_id, version = model_key(model, version)
        operator, reason = check_person(operator, "operator"), check_reason(reason)
        now = datetime.now(UTC)

        def work(connection: Connection) -> list[int]:
            lock_head(connection)
            active = active_stops(connection, model_id)
            ending = [s for s in active if version is None or s.job_model_version == version]
            if not ending:
                if active:
                    raise ControlError(f"job model {_scope(model_id, version)} has no stop of its own; in force: "
                                       + "; ".join(f"{_scope(model_id, s.job_model_version)} by {s.stopped_by}"
                                                   for s in active)
                                       + ". Resume without a version to end every stop of the model")
                raise ControlError(f"job model {_scope(model_id, version)} is not stopped")
            for stop in ending:
                entry = self.log.append(AuditEvent.MODEL_RESUMED, StoredModelResume(
                    stop=stop.id, job_model_id=model_id, job_model_version=stop.job_model_version,
                    operator=operator, reason=reason, stopped_by=stop.stopped_by, stopped_at=stop.stopped_at,
                ).payload(), actor=f"operator:{operator}", connection=connection)
                connection.execute(update(model_stops).where(model_stops.c.id == stop.id).values(
                    resumed_by=operator, resume_reason=reason, resumed_at=now, resume_seq=entry.seq))
            return [s.id for s in ending]

        return [self.get(stop_id) for stop_id in self.log.transaction(work)]

    # Reading --------------------------------------------------------------------------------------------
    def get(self, stop_id: int) -> Stop:
        with self.store.read() as connection:
            row = connection.execute(select(model_stops).where(model_stops.c.id == stop_id)).first()
        if row is None:
            raise ControlError(f"no stop {stop_id} in {self.store.name}")
        return _stop(row)

    def active(self, model: Any = None, version: str | None = None) -> list[Stop]:
        """Stops in force (of one model, and covering one version, if given), oldest first; read from the table
        and the log (see :func:`active_stops`)."""
        with self.store.read() as connection:
            if model is None:
                return active_stops(connection)
            model_id, version = model_key(model, version)
            return [s for s in active_stops(connection, model_id) if s.covers(version)]

    def history(self, model: Any = None) -> list[Stop]:
        """Every stop, resumed or not (of one model, if given), oldest first."""
        query = select(model_stops).order_by(model_stops.c.id)
        if model is not None:
            query = query.where(model_stops.c.job_model_id == model_key(model)[0])
        with self.store.read() as connection:
            return [_stop(row) for row in connection.execute(query)]

    def is_stopped(self, model: Any, version: str | None = None) -> bool:
        """Whether a stop covers the model (``version`` of it, or any version when None)."""
        return bool(self.active(model, version))

    def check(self, model: Any, version: str | None = None, *, connection: Connection | None = None) -> None:
        """Raise :class:`ModelStoppedError` if a stop covers the model; pass ``connection`` to check inside
        the caller's transaction (what :mod:`profiler.pipeline.assessment` does before it records anything)."""
        if hasattr(model, "spec") and version is None:
            version = model.version
        model_id, version = model_key(model, version)
        if connection is None:
            with self.store.read() as c:
                check_running(c, model_id, version)
        else:
            check_running(connection, model_id, version)


def logged_stops(connection: Connection) -> tuple[dict[int, Stop], list[int]]:
    """Every stop as the audit log records it (``model.stopped`` and ``model.resumed`` entries, each checked
    against its own hashes), by stop id; and the entries that fail those checks."""
    entries, edited = entries_of(connection, (AuditEvent.MODEL_STOPPED.value, AuditEvent.MODEL_RESUMED.value))
    stops: dict[int, Stop] = {}
    for entry in entries:
        try:
            record = read_log_record(entry.event, entry.payload, where=f"log entry {entry.seq}")
        except StoredRecordError:
            edited.append(entry.seq)  # intact hashes, unreadable content: written by no profiler
            continue
        if isinstance(record, StoredModelStop):
            stops[record.stop] = Stop(record.stop, record.job_model_id, record.job_model_version, record.operator,
                                      record.reason, entry.time, entry.seq)
        elif isinstance(record, StoredModelResume) and record.stop in stops:
            stops[record.stop] = replace(stops[record.stop], resumed_by=record.operator, resume_reason=record.reason,
                                         resumed_at=entry.time, resume_seq=entry.seq)
    return stops, sorted(edited)


def active_stops(connection: Connection, model_id: str | None = None) -> list[Stop]:
    """Stops in force (of ``model_id``, if given), oldest first: rows of ``model_stops`` without a resumption,
    and stops whose ``model.stopped`` entry no ``model.resumed`` entry follows, whatever the table says.

    Raises
    ------
    ModelStoppedError
        A stop or resumption entry of the log fails its own hashes: every model is treated as stopped.
    """
    query = select(model_stops).where(model_stops.c.resumed_at.is_(None)).order_by(model_stops.c.id)
    if model_id is not None:
        query = query.where(model_stops.c.job_model_id == model_id)
    found = {row.id: _stop(row) for row in connection.execute(query)}
    logged, edited = logged_stops(connection)
    if edited:
        raise ModelStoppedError(_tampered(edited), model_id or "every job model", None)
    for stop in logged.values():
        if stop.active and (model_id is None or stop.job_model_id == model_id):
            found.setdefault(stop.id, stop)  # the row was deleted or marked resumed: the log decides
    return [found[key] for key in sorted(found)]


def check_running(connection: Connection, model_id: str, version: str | None) -> None:
    """Raise :class:`ModelStoppedError` if a stop in force covers ``model_id`` ``version`` (in ``connection``),
    by the table or by the log (see :func:`active_stops`)."""
    for stop in active_stops(connection, model_id):
        if stop.covers(version):
            raise ModelStoppedError(stop, model_id, version)


def _tampered(seqs: list[int]) -> Stop:
    """The stop in force when stop or resumption entries of the log were edited: everything stops."""
    shown = ", ".join(map(str, seqs[:5])) + (" ..." if len(seqs) > 5 else "")
    return Stop(0, "*", None, "profiler", f"log entr{'ies' if len(seqs) > 1 else 'y'} {shown} of job-model stops "
                f"and resumptions fail their hashes (edited): every job model is treated as stopped until the log is "
                "restored (profiler audit verify names what was changed)", datetime.now(UTC), seqs[0])


def _scope(model_id: str, version: str | None) -> str:
    return f"{model_id} (every version)" if version is None else f"{model_id} {version}"


def _stop(row: Any) -> Stop:
    return Stop(row.id, row.job_model_id, row.job_model_version, row.stopped_by, row.stop_reason,
                utc(row.stopped_at), row.stop_seq, row.resumed_by, row.resume_reason, utc(row.resumed_at),
                row.resume_seq)


__all__ = ["ControlError", "ModelControl", "ModelStoppedError", "Stop"]
