"""Creating the SQLAlchemy engine of a store: a file path, ``:memory:`` or any SQLAlchemy URL.

SQLite gets the settings the store relies on, on every new connection:

- ``journal_mode=WAL``: a commit appends to the write-ahead log, readers never block the writer, and a
  process killed at any instant leaves the database as of its last commit.
- ``synchronous=NORMAL`` by default (``FULL`` on request). In WAL mode NORMAL loses nothing when the
  *process* dies: a commit has reached the operating system before ``COMMIT`` returns. Only an OS crash
  or power cut can undo the last few commits (the database stays consistent). FULL adds an fsync per
  commit to survive that too; on the development machine that fsync costs from 0.4 ms to 8 ms per
  answer depending on the disk's load, up to four times the 2 ms budget for recording an answer (see
  docs/benchmarks.md). A respondent who loses the last answers to a power cut answers them again on
  resumption; deployments that want more pass ``synchronous="FULL"``.
- ``foreign_keys=ON`` (off by default in SQLite) and a ``busy_timeout`` so that a second process waits
  for the lock instead of failing at once.
- ``secure_delete=ON``: deleted content is overwritten with zeros (see :mod:`profiler.store.scrub` for how
  the zeroed pages replace the old ones in the files).
- pysqlite's own transaction handling is switched off and SQLAlchemy emits ``BEGIN`` itself (``BEGIN
  IMMEDIATE`` for writes, taking the write lock up front), so that DDL is transactional and a read
  followed by a write in one transaction cannot deadlock with another writer.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from profiler.store.errors import StoreError
from profiler.store.redaction import redact_text, redact_url

SYNCHRONOUS_MODES = ("NORMAL", "FULL")
BUSY_TIMEOUT_MS = 10_000
WRITE = "profiler_write"  # execution option asking for BEGIN IMMEDIATE


def store_url(location: str | os.PathLike[str] | None) -> str:
    """The SQLAlchemy URL of a store location: a path, ``":memory:"``/None (in memory) or a URL."""
    if location is None or str(location) == ":memory:":
        return "sqlite://"
    text = os.fspath(location)
    if "://" in text:
        try:
            make_url(text)
        except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
            raise StoreError(f"not a store location or database URL: {redact_url(text)!r} "
                             f"({redact_text(str(exc), text)})") from None
        return text
    return "sqlite:///" + str(Path(text).expanduser().resolve())


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (None in memory or for another backend)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def create_store_engine(url: str, *, synchronous: str = "NORMAL") -> Engine:
    """An engine for ``url``; for SQLite, with the durability and locking settings described above."""
    if synchronous not in SYNCHRONOUS_MODES:
        raise ValueError(f"synchronous={synchronous!r}; use one of {SYNCHRONOUS_MODES}")
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        try:
            return create_engine(parsed, pool_pre_ping=True, hide_parameters=True)
        except (ArgumentError, ImportError) as exc:
            raise StoreError(f"cannot use the database URL {redact_url(url)!r}: {redact_text(str(exc), url)}") from None
    in_memory = sqlite_file(url) is None
    # In memory, every connection would see its own empty database: share a single one.
    options = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}} if in_memory else {}
    # Stored values (identities, secrets, notes) never reach SQLAlchemy's statement log or its error texts.
    engine = create_engine(parsed, hide_parameters=True, **options)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see the module docstring)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            # Deleted content is overwritten with zeros, not left in free space (often the build's default,
            # not always): an erasure, a replaced identity, withdrawn demographics leave nothing behind.
            cursor.execute("PRAGMA secure_delete = ON")
            if not in_memory:
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute(f"PRAGMA synchronous = {synchronous}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        immediate = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
