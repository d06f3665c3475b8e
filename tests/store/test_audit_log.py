"""The hash-chained audit log: the entry format and hashes, tampering found and named, concurrent writers
(4 processes x 50 entries), and writers killed mid-loop (6 rounds) leaving no partial entry."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import random
import select
import signal
import sqlite3
import time
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import numpy as np
import pytest
from sqlalchemy.dialects import postgresql

import profiler.store.audit_log as audit_log_module
from profiler.cli import main
from profiler.errors import ProfilerError
from profiler.oversight import GENESIS_HASH, AuditEvent, AuditLog, AuditLogError, canonical_json
from profiler.store.audit_log import entry_hash, erasure_marker, lock_head, sha256_of
from profiler.store import Store

PROCESSES, ENTRIES_EACH = 4, 50
KILL_ROUNDS = 6


def _sha(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _spec_entry_hash(row: dict) -> str:
    # The documented definition, written out independently of the implementation.
    fields = {k: row[k] for k in ("seq", "recorded_at", "event", "actor", "payload_hash", "prev_hash")}
    fields["candidate"] = row["candidate_id"]
    return _sha(json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False))


@pytest.fixture
def db(tmp_path):
    """A store file with ten entries about three candidates (and one about no one)."""
    path = tmp_path / "log.db"
    with Store(path) as store:
        log = AuditLog(store)
        for i in range(10):
            candidate = None if i == 3 else f"cand-{i % 3}"
            log.append(AuditEvent.DECISION, {"decision": "advance", "i": i, "reason": "work sample"},
                       actor=f"reviewer:{i % 2}", candidate=candidate)
    return path


def _rows(path) -> list[dict]:
    with sqlite3.connect(path) as connection:
        connection.row_factory = sqlite3.Row
        return [dict(r) for r in connection.execute("SELECT * FROM audit_log ORDER BY seq")]


def _verify(path, **kwargs):
    with Store(path) as store:
        return AuditLog(store).verify(**kwargs)


# Format ------------------------------------------------------------------------------------------------
def test_entries_follow_the_documented_format(db):
    rows = _rows(db)
    assert [r["seq"] for r in rows] == list(range(1, 11))
    assert rows[0]["prev_hash"] == GENESIS_HASH == "sha256:" + "0" * 64
    for before, row in zip([None, *rows], rows, strict=False):
        assert row["payload"] == json.dumps(json.loads(row["payload"]), sort_keys=True, separators=(",", ":"))
        assert row["payload_hash"] == _sha(row["payload"])
        assert row["entry_hash"] == _spec_entry_hash(row)
        if before is not None:
            assert row["prev_hash"] == before["entry_hash"]
            assert row["recorded_at"] >= before["recorded_at"]
        moment = datetime.strptime(row["recorded_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        assert abs(datetime.now(UTC) - moment) < timedelta(minutes=5)
    assert rows[3]["candidate_id"] is None and rows[4]["candidate_id"] == "cand-1"


def test_iteration_and_reading(db):
    with Store(db) as store:
        log = AuditLog(store)
        entries = list(log)
        assert len(log) == 10 and [e.seq for e in entries] == list(range(1, 11))
        assert entries[4].payload == {"decision": "advance", "i": 4, "reason": "work sample"}
        assert entries[4].event == "review.decision" and entries[4].actor == "reviewer:0"
        assert entries[4].time.tzinfo is UTC and not entries[4].erased
        assert [e.seq for e in log.entries(candidate="cand-1")] == [2, 5, 8]
        assert [e.seq for e in log.entries(after=8)] == [9, 10]
        assert log.head() == (10, entries[-1].entry_hash)
        frame = log.frame(candidate="cand-0")
        assert list(frame.index) == [1, 7, 10] and frame.loc[7, "payload"]["i"] == 6


def test_paging_reads_every_entry(db, monkeypatch):
    monkeypatch.setattr(audit_log_module, "PAGE", 3)
    with Store(db) as store:
        log = AuditLog(store)
        assert [e.seq for e in log] == list(range(1, 11))
        assert log.verify().entries == 10


def test_canonical_json():
    aware = datetime(2025, 3, 1, 10, 30, tzinfo=timezone(timedelta(hours=1)))
    value = {"b": [1, 2.5, float("nan")], "a": "é", "t": aware, "n": np.float64(0.25), "k": np.arange(2),
             "e": AuditEvent.SCORES}
    assert canonical_json(value) == ('{"a":"é","b":[1,2.5,null],"e":"scoring.scores","k":[0,1],"n":0.25,'
                                     '"t":"2025-03-01T09:30:00.000000Z"}')
    for bad, message in [({"x": float("inf")}, "infinite"), ({"t": datetime(2025, 1, 1)}, "naive"),
                         ({1: "x"}, "not a string"), ({"s": {1, 2}}, "set"), ({"f": object()}, "object")]:
        with pytest.raises(AuditLogError, match=message):
            canonical_json(bad)


@pytest.mark.parametrize("kwargs, message", [
    ({"event": "Review Decision"}, "dotted lower-case"),
    ({"event": "x" * 65}, "dotted lower-case"),
    ({"actor": " "}, "actor"),
    ({"candidate": "ada@example.org"}, "pseudonymous"),
    ({"payload": ["not", "a", "mapping"]}, "mapping"),
    ({"payload": {"$erased": {"by_entry": 3}}}, "erasure marker"),
    ({"event": "candidate.erased"}, "erase_candidate only"),
])
def test_malformed_entries_are_refused(kwargs, message):
    with Store() as store:
        log = AuditLog(store)
        args = {"event": "review.decision", "payload": {}, "actor": "reviewer:1", "candidate": "cand-1", **kwargs}
        with pytest.raises(AuditLogError, match=message) as info:
            log.append(args.pop("event"), args.pop("payload"), **args)
        assert isinstance(info.value, ProfilerError)
        assert len(log) == 0


# Tampering ---------------------------------------------------------------------------------------------
def _edit_payload(c):
    c.execute("""UPDATE audit_log SET payload = '{"decision":"reject","i":4,"reason":"work sample"}' WHERE seq = 5""")


def _edit_payload_and_its_hash(c):
    payload = '{"decision":"reject","i":4,"reason":"work sample"}'
    c.execute("UPDATE audit_log SET payload = ?, payload_hash = ? WHERE seq = 5", (payload, _sha(payload)))


def _edit_actor(c):
    c.execute("UPDATE audit_log SET actor = 'reviewer:someone-else' WHERE seq = 5")


def _edit_entry_hash(c):
    c.execute("UPDATE audit_log SET entry_hash = ? WHERE seq = 5", (_sha("forged"),))


def _rewrite_with_fresh_hashes(c):
    # Everything of entry 5 recomputed: only entry 6's link can tell.
    row = dict(zip(["seq", "recorded_at", "event", "actor", "candidate_id", "prev_hash"],
                   c.execute("SELECT seq, recorded_at, event, actor, candidate_id, prev_hash FROM audit_log "
                             "WHERE seq = 5").fetchone(), strict=True))
    payload = '{"decision":"reject"}'
    row["payload_hash"] = _sha(payload)
    c.execute("UPDATE audit_log SET payload = ?, payload_hash = ?, entry_hash = ? WHERE seq = 5",
              (payload, row["payload_hash"], _spec_entry_hash(row)))


def _delete_middle(c):
    c.execute("DELETE FROM audit_log WHERE seq = 5")


def _delete_first(c):
    c.execute("DELETE FROM audit_log WHERE seq = 1")


def _delete_and_renumber(c):
    c.execute("DELETE FROM audit_log WHERE seq = 5")
    c.execute("UPDATE audit_log SET seq = seq - 1 WHERE seq > 5")


def _swap(c):
    c.execute("UPDATE audit_log SET seq = -1 WHERE seq = 5")
    c.execute("UPDATE audit_log SET seq = 5 WHERE seq = 6")
    c.execute("UPDATE audit_log SET seq = 6 WHERE seq = -1")


def _insert_and_renumber(c):
    c.execute("UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 5")
    c.execute("UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1000")
    prev = c.execute("SELECT entry_hash FROM audit_log WHERE seq = 4").fetchone()[0]
    payload = '{"decision":"advance","reason":"forged"}'
    row = {"seq": 5, "recorded_at": "2025-01-01T00:00:00.000000Z", "event": "review.decision", "actor": "x",
           "candidate_id": "cand-9", "payload_hash": _sha(payload), "prev_hash": prev}
    c.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
              (5, row["recorded_at"], row["event"], row["actor"], row["candidate_id"], payload, row["payload_hash"],
               prev, _spec_entry_hash(row)))


def _forged_erasure_marker(c):
    c.execute("UPDATE audit_log SET payload = ? WHERE seq = 5", (erasure_marker(9),))


@pytest.mark.parametrize("tamper, bad, message", [
    (_edit_payload, 5, r"entry 5: payload does not match its payload_hash \(payload edited\)"),
    (_edit_payload_and_its_hash, 5, r"entry 5: its fields do not match its entry_hash \(entry edited\)"),
    (_edit_actor, 5, r"entry 5: its fields do not match"),
    (_edit_entry_hash, 5, r"entry 5: its fields do not match"),
    (_rewrite_with_fresh_hashes, 5, r"entry 5 does not match the hash entry 6 recorded"),
    (_delete_middle, 5, r"entry 5 is missing \(deleted\): the log jumps from 4 to 6"),
    (_delete_first, 1, r"entry 1 is missing"),
    (_delete_and_renumber, 5, r"entry 5 is entry 6 renumbered: entry 5 was deleted"),
    (_swap, 5, r"entry 5 is entry 6 renumbered: .*reordered"),
    (_insert_and_renumber, 5, r"entry 6 is entry 5 renumbered: an entry was inserted at 5"),
    (_forged_erasure_marker, 5, r"entry 5: payload replaced by an erasure marker that no intact candidate.erased"),
])
def test_tampering_is_found_and_the_first_bad_entry_named(db, tamper, bad, message):
    assert _verify(db).ok
    with sqlite3.connect(db) as connection:
        tamper(connection)
    result = _verify(db)
    assert not result.ok and not result
    assert result.first_bad_seq == bad
    assert result.problem is not None and __import__("re").search(message, result.problem), result.problem
    assert str(result).startswith("TAMPERED: ")
    assert result.entries == bad - 1  # everything before the first bad entry checked out


def test_an_anchor_detects_a_log_cut_short_or_rewritten(db):
    head = _verify(db)
    assert (head.head_seq, head.entries) == (10, 10)
    anchor = (head.head_seq, head.head_hash)
    assert _verify(db, anchor=anchor).ok
    with sqlite3.connect(db) as connection:
        connection.execute("DELETE FROM audit_log WHERE seq >= 9")
    assert _verify(db).ok  # the chain alone cannot see a shortened end
    result = _verify(db, anchor=anchor)
    assert not result.ok and result.first_bad_seq == 9
    assert "ends at entry 8, before the anchor entry 10" in result.problem
    result = _verify(db, anchor=(8, _sha("other")))
    assert not result.ok and result.first_bad_seq == 8 and "not the anchored entry" in result.problem


def test_an_empty_log_verifies(store_location):
    with Store(store_location) as store:
        result = AuditLog(store).verify()
    assert result.ok and result.entries == 0 and result.head_seq is None
    assert "empty" in str(result)


# Writers -----------------------------------------------------------------------------------------------
def test_a_writer_that_loses_the_race_retries(store_location, monkeypatch):
    # Without a write lock (another database), two writers can read the same head: the primary key on
    # seq rejects the second insert and append retries with the new head.
    calls = []

    def stale_then_real(connection):
        calls.append(1)
        return (1, GENESIS_HASH) if len(calls) == 1 else lock_head(connection)

    with Store(store_location) as store:
        log = AuditLog(store)
        log.append("test.first", {}, actor="a")
        monkeypatch.setattr(audit_log_module, "lock_head", stale_then_real)
        entry = log.append("test.second", {}, actor="b")
        assert entry.seq == 2 and len(calls) == 2
        assert log.verify().ok


def test_writers_are_serialised_per_backend():
    # SQLite relies on BEGIN IMMEDIATE; PostgreSQL takes an advisory lock; others lock the last row.
    def statements(dialect_name):
        seen = []

        class Connection:
            dialect = SimpleNamespace(name=dialect_name)

            def execute(self, statement):
                seen.append(str(statement.compile(dialect=postgresql.dialect())))
                return SimpleNamespace(first=lambda: None)

        assert lock_head(Connection()) == (1, GENESIS_HASH)
        return seen

    assert len(statements("sqlite")) == 1 and "FOR UPDATE" not in statements("sqlite")[0]
    pg = statements("postgresql")
    assert "pg_advisory_xact_lock" in pg[0] and "FOR UPDATE" not in pg[1]
    assert "FOR UPDATE" in statements("mysql")[0]


def _append_many(path, worker: int, count: int, go) -> None:
    with Store(path) as store:
        log = AuditLog(store)
        go.wait(30)  # all writers start together
        for i in range(count):
            log.append("test.concurrent", {"worker": worker, "i": i}, actor=f"worker:{worker}")
            time.sleep(0.001)  # other work between two events: lets the other writers take the lock


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_concurrent_writers_keep_one_intact_chain(store_location):
    # On SQLite BEGIN IMMEDIATE serialises the writers, on PostgreSQL the advisory lock.
    path = store_location
    Store(path).close()  # migrated once, and no connection open while forking
    context = multiprocessing.get_context("fork")
    go = context.Event()
    workers = [context.Process(target=_append_many, args=(path, w, ENTRIES_EACH, go)) for w in range(PROCESSES)]
    for worker in workers:
        worker.start()
    go.set()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0] * PROCESSES
    result = _verify(path)
    assert result.ok, result.problem
    assert result.entries == PROCESSES * ENTRIES_EACH
    with Store(path) as store:
        entries = list(AuditLog(store))
    for w in range(PROCESSES):  # each writer's entries all there, in its own order
        assert [e.payload["i"] for e in entries if e.payload["worker"] == w] == list(range(ENTRIES_EACH))
    switches = sum(a.payload["worker"] != b.payload["worker"] for a, b in zip(entries, entries[1:], strict=False))
    assert switches >= PROCESSES  # the writers did interleave (not one after the other)


def _register_record_erase(path, rounds: int) -> None:
    from profiler.oversight import Candidates, erase_candidate

    with Store(path) as store:
        people = Candidates(store)
        for i in range(rounds):
            c = people.register(actor="recruiter", candidate_id=f"cand-{i}")
            people.add_record(c.id, "scores", {"E": i}, actor="system")
            erase_candidate(store, c.id, actor="dpo", reason="request")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_verify_while_others_append_and_erase(store_location):
    # verify reads one snapshot: concurrent appends and erasures never make the log look tampered with.
    path = store_location
    Store(path).close()
    context = multiprocessing.get_context("fork")
    go = context.Event()
    go.set()
    writers = [context.Process(target=_append_many, args=(path, 0, 150, go)),
               context.Process(target=_register_record_erase, args=(path, 25))]
    for writer in writers:
        writer.start()
    results = []
    with Store(path) as store:
        log = AuditLog(store)
        while any(w.is_alive() for w in writers) or not results:
            results.append(log.verify())
    for writer in writers:
        writer.join(timeout=60)
    assert [w.exitcode for w in writers] == [0, 0]
    assert [r.problem for r in results if not r.ok] == []
    assert len({r.entries for r in results}) > 1  # verified while the log grew
    assert any(r.erased for r in results[:-1])  # and while erasures happened
    assert results[-1].entries <= 150 + 25 * 3


def _writer_until_killed(path, ack_fd: int) -> None:
    """Child: append forever, writing the seq of each committed entry to ack_fd."""
    code = 70
    try:
        with Store(path) as store:
            log = AuditLog(store)
            while True:
                entry = log.append("test.crash", {"payload": "x" * 200}, actor="writer")
                os.write(ack_fd, f"{entry.seq}\n".encode())
    finally:
        os._exit(code)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")
def test_a_writer_killed_mid_write_leaves_no_partial_entry(tmp_path):
    path = tmp_path / "s.db"
    Store(path).close()
    rng = random.Random(20250301)
    acked: list[int] = []
    for _ in range(KILL_ROUNDS):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            _writer_until_killed(path, write_fd)
        os.close(write_fd)
        wanted, data = rng.randint(3, 40), b""
        deadline = time.monotonic() + 30
        while data.count(b"\n") < wanted and time.monotonic() < deadline:
            if select.select([read_fd], [], [], 1.0)[0]:
                data += os.read(read_fd, 4096)
        time.sleep(rng.uniform(0, 0.003))  # land anywhere inside the next append
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        while chunk := os.read(read_fd, 4096):
            data += chunk
        os.close(read_fd)
        acked += [int(line) for line in data.split()]
        with sqlite3.connect(path) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            count = connection.execute("SELECT count(*) FROM audit_log").fetchone()[0]
        # Every acknowledged entry is there; at most one more (committed, killed before the ack).
        assert acked == list(range(1, len(acked) + 1))
        assert count in (len(acked), len(acked) + 1)
        acked = list(range(1, count + 1))
        result = _verify(path)
        assert result.ok and result.entries == count, result.problem
    assert len(acked) >= KILL_ROUNDS * 3


# Command line ------------------------------------------------------------------------------------------
def test_cli_audit_verify(db, capsys):
    assert main(["audit", "verify", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "audit log intact: 10 entries" in out and "head 10 sha256:" in out
    head_hash = out.split("head 10 ")[1].split()[0]
    assert main(["audit", "verify", "--db", str(db), "--anchor", f"10:{head_hash}"]) == 0
    capsys.readouterr()
    with sqlite3.connect(db) as connection:
        _edit_payload(connection)
    assert main(["audit", "verify", "--db", str(db)]) == 1
    assert "TAMPERED: entry 5: payload does not match" in capsys.readouterr().out


def test_cli_audit_verify_usage_errors(tmp_path, capsys):
    assert main(["audit", "verify", "--db", str(tmp_path / "missing.db")]) == 2
    assert "no store at" in capsys.readouterr().err
    assert not (tmp_path / "missing.db").exists()
    with pytest.raises(SystemExit):
        main(["audit", "verify", "--db", str(tmp_path / "x.db"), "--anchor", "ten"])
    assert "is not SEQ:HASH" in capsys.readouterr().err


def test_sha256_of_refuses_text_without_utf8():
    assert sha256_of("é") == _sha("é")
    with pytest.raises(AuditLogError, match="UTF-8"):
        sha256_of("\ud800")
    assert entry_hash(1, "t", "e", "a", None, "p", "q") != entry_hash(1, "t", "e", "a", "c", "p", "q")
