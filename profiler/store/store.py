"""The :class:`Store`: one database (SQLite file, in memory, or a SQLAlchemy URL) holding profiler's records."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from profiler.store.engine import WRITE, create_store_engine, sqlite_file, store_url
from profiler.store.errors import StoreError
from profiler.store.migrations import apply_pending
from profiler.store.redaction import redact_text, redact_url


class Store:
    """A database holding profiler's records, at the latest schema version.

    Opening a store creates it if needed and applies the pending schema migrations in order. Every
    write happens in :meth:`write`, one committed transaction per call.

    Parameters
    ----------
    location : str, path-like or None
        A file path (SQLite), ``":memory:"`` or None (SQLite in memory, gone when closed), or a
        SQLAlchemy URL such as ``postgresql+psycopg://user@host/db``.
    create : bool
        Create a SQLite file that does not exist (default). With False a missing file is an error.
    synchronous : {"NORMAL", "FULL"}
        SQLite durability: NORMAL survives a killed process, FULL also an OS crash or power cut at the
        cost of an fsync per commit (see :mod:`profiler.store.engine`).

    Raises
    ------
    StoreError
        The file is missing (``create=False``), is not a SQLite database or is corrupt, belongs to
        another application, or was written by a newer profiler.

    Examples
    --------
    >>> from profiler.store import LATEST_VERSION
    >>> with Store(":memory:") as store:
    ...     store.schema_version == LATEST_VERSION
    True
    """

    def __init__(self, location: str | os.PathLike[str] | None = None, *, create: bool = True,
                 synchronous: str = "NORMAL"):
        url = store_url(location)
        path = sqlite_file(url)
        self._url = url  # never shown: it may hold a password (see profiler.store.redaction)
        self.file = path  # the SQLite database file (None in memory or on a server)
        # What every message names the store by: the file, or the URL without its password.
        self.name = str(path) if path is not None else ("memory" if url.startswith("sqlite") else redact_url(url))
        if path is not None:
            if path.is_dir():
                raise StoreError(f"{path} is a directory, not a store file")
            if not path.parent.is_dir():
                raise StoreError(f"cannot create store {path}: directory {path.parent} does not exist")
            if not create and not path.exists():
                raise StoreError(f"no store at {path}")
        self.engine = create_store_engine(url, synchronous=synchronous)
        self._local = threading.local()  # a thread's shared connection, see one_connection()
        self._writers: AbstractContextManager[object] = nullcontext() if path is None else _file_lock(path)
        try:
            self.schema_version = apply_pending(self.write, self.name)
        except BaseException:
            self.engine.dispose()
            raise

    def __repr__(self) -> str:
        return f"Store({self.name!r}, schema_version={self.schema_version})"

    @contextmanager
    def read(self, *, snapshot: bool = True) -> Iterator[Connection]:
        """A connection in a read transaction (a consistent snapshot), closed at the end.

        With ``snapshot=False`` each statement sees what is committed when it runs, as in PostgreSQL's default
        isolation (READ COMMITTED) anyway: for a single statement, or statements that need no common snapshot.
        On a database server the connection then runs without BEGIN and COMMIT, two round trips fewer (the
        web app reads this way on every request); SQLite still reads in a transaction (it costs nothing there).
        """
        with self._translated(), self._connection(write=False, autocommit=not snapshot) as connection:
            if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
                try:
                    yield connection
                finally:  # ends SQLAlchemy's own record of a transaction; nothing to undo on the server
                    connection.rollback()
                return
            with connection.begin():
                yield connection

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection in a write transaction, committed when the block ends (rolled back on error).

        On SQLite the write lock is taken at the start (``BEGIN IMMEDIATE``); a second writer waits for it.
        Writers of one process queue for the file on a lock of their own first: waiting in SQLite's busy
        handler means sleeping in steps of up to 100 ms, which under a web server's load made the slowest
        answers wait for nothing; another process still waits in the busy handler (``busy_timeout``).
        """
        with self._writers, self._translated(), self._connection(write=True, autocommit=False) as connection:
            with connection.begin():
                yield connection

    @contextmanager
    def one_connection(self) -> Iterator[None]:
        """Let the reads and writes of the block, one after the other, share one connection of the pool.

        Each read or write otherwise takes a connection from the pool, and on a database server checks first
        that it is alive: a round trip each. A web request runs its few transactions inside this block, so it
        checks once. Transactions begin and commit exactly as without it; a read or write nested in another
        takes a connection of its own, as always.
        """
        if getattr(self._local, "connection", None) is not None:
            yield
            return
        with self._translated(), self.engine.connect() as connection:
            self._local.connection, self._local.busy = connection, False
            try:
                yield
            finally:
                self._local.connection = None

    @contextmanager
    def _connection(self, *, write: bool, autocommit: bool) -> Iterator[Connection]:
        """The thread's shared connection when it is free (see one_connection), else one from the pool; set for
        a write (SQLite: BEGIN IMMEDIATE) or a read, and for reading without a transaction where that helps."""
        autocommit = autocommit and self.engine.dialect.name != "sqlite"
        shared = getattr(self._local, "connection", None)
        if shared is not None and not self._local.busy:
            self._local.busy = True
            try:
                yield _set(shared, write, autocommit)
            finally:
                self._local.busy = False
            return
        with self.engine.connect() as connection:
            yield _set(connection, write, autocommit)

    @contextmanager
    def _translated(self) -> Iterator[None]:
        # Driver errors about the database itself become a StoreError naming the store; constraint
        # violations stay IntegrityError for the caller to interpret.
        try:
            yield
        except IntegrityError:
            raise
        except DBAPIError as exc:
            raise StoreError(redact_text(_explain(self.name, exc), self._url)) from None

    def close(self) -> None:
        """Close every connection (an in-memory store is gone afterwards)."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _set(connection: Connection, write: bool, autocommit: bool) -> Connection:
    """``connection`` set for the next transaction (options are changed only when they differ)."""
    options = connection.get_execution_options()
    if options.get(WRITE, False) != write:
        connection.execution_options(**{WRITE: write})
    if (options.get("isolation_level") == "AUTOCOMMIT") != autocommit:
        connection.execution_options(isolation_level="AUTOCOMMIT" if autocommit
                                     else connection.default_isolation_level)
    return connection


_FILE_LOCKS: dict[str, threading.RLock] = {}
_FILE_LOCKS_GUARD = threading.Lock()


def _file_lock(path: os.PathLike[str]) -> threading.RLock:
    """One lock per SQLite file in this process, shared by every Store on it (re-entrant, as SQLite would
    refuse a nested write transaction anyway)."""
    with _FILE_LOCKS_GUARD:
        return _FILE_LOCKS.setdefault(os.fspath(path), threading.RLock())


def _explain(name: str, exc: DBAPIError) -> str:
    message = str(exc.orig) if exc.orig is not None else str(exc)
    lowered = message.lower()
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return f"{name} is not a profiler store or is corrupt ({message})"
    if "locked" in lowered or "busy" in lowered:
        return f"{name} is locked by another process; try again ({message})"
    if "unable to open" in lowered or "readonly" in lowered or "read-only" in lowered:
        return f"cannot open or write {name} ({message})"
    return f"database error in {name}: {message}"
