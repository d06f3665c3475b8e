"""Recording one answer: ``Session.answer`` on a SQLite file, beside a bare sqlite3 insert + commit.

Each call validates the answer, appends one event in its own committed transaction (``BEGIN IMMEDIATE``,
WAL) and moves to the next item. The baseline does only the insert and commit, with the same journal
mode, durability setting and primary key, through the standard library's sqlite3, so the ratio is
profiler's overhead (validation, SQLAlchemy Core, the session's bookkeeping). Both run with
``synchronous=NORMAL`` (profiler's default) and ``FULL`` (an fsync per commit).
"""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from benchmarks._timing import format_seconds, markdown_table, time_median
from profiler.administration import Session
from profiler.questionnaire import load_questionnaire
from profiler.store import Store

TARGET_S = 2e-3
REPEATS = {"NORMAL": 400, "FULL": 150}
WARMUP = 10

BASELINE_TABLE = """
CREATE TABLE session_events (
    session_id VARCHAR(32) NOT NULL, seq INTEGER NOT NULL, kind VARCHAR(16) NOT NULL, item_id VARCHAR(64),
    position INTEGER NOT NULL, value DOUBLE, shown_seconds DOUBLE, item_time_exceeded BOOLEAN NOT NULL,
    recorded_at DATETIME NOT NULL, PRIMARY KEY (session_id, seq))
"""


def baseline_recorder(path: Path, synchronous: str):
    """A function inserting and committing one event row with plain sqlite3 (and the connection to close)."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute(f"PRAGMA synchronous = {synchronous}")
    connection.execute(BASELINE_TABLE)
    seq = iter(range(1, 10**9))

    def record() -> None:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(
            "INSERT INTO session_events VALUES (?, ?, 'answer', 'E1', 0, 3.0, 1.5, 0, ?)",
            ("0" * 32, next(seq), datetime.now(UTC).isoformat(sep=" ")),
        )
        connection.execute("COMMIT")

    return record, connection


def profiler_recorder(store: Store, questionnaire, n_answers: int):
    """A function answering the next item of a pool of sessions started beforehand (starting is not timed)."""
    sessions = [Session.start(store, questionnaire, respondent=f"bench-{k}")
                for k in range(n_answers // len(questionnaire.item_ids) + 1)]
    values = iter(1 + (k * 7) % 5 for k in range(10**9))

    def record() -> None:
        while sessions[0].current() is None:
            sessions.pop(0)
        sessions[0].answer(next(values))

    return record


def run() -> str:
    questionnaire = load_questionnaire("ipip-bfm-50")
    rows, medians = [], {}
    with tempfile.TemporaryDirectory(prefix="profiler-bench-") as folder:
        for synchronous, repeats in REPEATS.items():
            record_bare, connection = baseline_recorder(Path(folder) / f"bare-{synchronous}.db", synchronous)
            with contextlib.closing(connection):
                bare = time_median("sqlite3", record_bare, repeats=repeats, warmup=WARMUP)
            with Store(Path(folder) / f"store-{synchronous}.db", synchronous=synchronous) as store:
                record = profiler_recorder(store, questionnaire, repeats + WARMUP)
                ours = time_median("profiler", record, repeats=repeats, warmup=WARMUP)
                with store.read() as connection:
                    stored = connection.exec_driver_sql("SELECT count(*) FROM session_events").scalar_one()
                if stored != repeats + WARMUP:
                    raise AssertionError(f"{stored} events stored for {repeats + WARMUP} answers")
            medians[synchronous] = ours.median_s
            default = " (default)" if synchronous == "NORMAL" else ""
            rows.append([f"`synchronous={synchronous}`{default}", str(repeats), format_seconds(bare.median_s),
                         format_seconds(ours.median_s), f"{ours.median_s / bare.median_s:.1f}"])
    verdict = "meets" if medians["NORMAL"] <= TARGET_S else "misses"
    return "\n".join([
        "## Sessions",
        "",
        "Timed: one `Session.answer` on ipip-bfm-50 in a SQLite store on disk (WAL): validate the answer, "
        "append one event in its own committed transaction, move to the next item; the median of single "
        "calls. Baseline, timed in the same run: one `BEGIN IMMEDIATE; INSERT; COMMIT` of the same row into "
        "a table with the same primary key through the standard library's `sqlite3`, same journal mode and "
        "durability setting.",
        "",
        markdown_table(["durability", "answers timed", "bare sqlite3 insert + commit (baseline)",
                        "profiler `Session.answer`", "ratio"], rows),
        "",
        f"The default (`synchronous=NORMAL`) {verdict} the target of {format_seconds(TARGET_S)} per answer. "
        "With WAL, NORMAL loses nothing when the process is killed (a commit has reached the operating "
        "system before it returns); FULL adds an fsync per commit, which survives an OS crash or power cut "
        "too and is what the FULL row costs on this disk. That fsync is erratic on a shared virtual disk "
        "(0.4 ms to 8 ms per commit from one run to the next), so the FULL ratio says little; the NORMAL row "
        "is the one to compare across runs.",
    ])
