"""Making deleted data leave a SQLite store's files: the checkpoint an erasure waits for, and who blocks it.

In WAL mode a commit appends the changed pages to ``<db>-wal``; the main file keeps the *old* pages until a
checkpoint copies the new ones over them. Deleting a candidate therefore leaves their data in the main file
(and older copies in the WAL) until then. With ``secure_delete`` (always on: :mod:`profiler.store.engine`)
the new pages hold zeros where the data was; :func:`truncate_wal` copies every page into the main file and
empties the WAL. A reader still using an older snapshot blocks that: :func:`truncate_wal` waits for it in
short attempts (so that writers are never held up for long) and gives up after ``wait`` seconds;
:func:`holders` names the processes that have the database open, so that a refusal can say which.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import Engine

from profiler.store.engine import BUSY_TIMEOUT_MS

ATTEMPT_MS = 200  # the write lock is held at most this long per attempt while readers are waited for
PAUSE_S = 0.05


def truncate_wal(engine: Engine, wait: float) -> bool:
    """Copy the WAL into the main file and empty it; True once done, False if readers of an older snapshot
    still held it after ``wait`` seconds (then try again later)."""
    deadline = time.monotonic() + max(0.0, wait)
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        driver.execute(f"PRAGMA busy_timeout = {ATTEMPT_MS}")
        try:
            while True:
                busy, _log, _done = driver.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                if busy == 0:
                    return True
                if time.monotonic() >= deadline:
                    return False
                time.sleep(PAUSE_S)
        finally:
            driver.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    finally:
        raw.close()


def holders(database: Path) -> list[str]:
    """The other processes that have the database (or its WAL) open, as ``pid 123 (python3)``; Linux only (an
    empty list elsewhere, or when /proc cannot be read)."""
    targets = set()
    for suffix in ("", "-wal", "-shm"):
        try:
            targets.add(os.path.realpath(str(database) + suffix))
        except OSError:
            continue
    found = []
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            links = {os.readlink(fd) for fd in (entry / "fd").iterdir()}
        except OSError:
            continue
        if links & targets:
            try:
                name = (entry / "comm").read_text(encoding="utf-8", errors="replace").strip()
            except OSError:
                name = "?"
            found.append(f"pid {entry.name} ({name})")  # never the command line: it may hold a password
    return sorted(found, key=lambda text: int(text.split()[1]))


__all__ = ["holders", "truncate_wal"]
