"""Attack: read an erased candidate's data back from the database's files, while another process reads it.

The erasure must wait for readers and force the write-ahead log into the main file: afterwards not one byte of
the planted name, e-mail address, protected attribute or note is left in ``store.db``, ``-wal`` or ``-shm``.
A reader that keeps an old snapshot open makes the erasure refuse, name the process and change nothing.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from profiler.oversight import AuditLog, Candidates
from profiler.oversight.candidates import DemographicsVault, Identity
from profiler.oversight.privacy import ErasureBlockedError, erase_candidate, scrub_files
from profiler.store import Store

PLANTED = ["Zebulon Quixote-Planted", "planted.zq@example.org", "planted-attribute-5c1e", "planted-note-7f3a9b",
           "planted-hold-reason-e2d4"]

READER = textwrap.dedent("""
    import sqlite3, sys, time
    connection = sqlite3.connect(sys.argv[1], isolation_level=None)
    connection.execute("PRAGMA busy_timeout = 10000")
    mode, seconds = sys.argv[2], float(sys.argv[3])
    end = time.monotonic() + seconds
    if mode == "hold":  # one read transaction, kept open on its snapshot
        connection.execute("BEGIN")
        connection.execute("SELECT count(*) FROM candidate_identity").fetchall()
        print("ready", flush=True)
        time.sleep(seconds)
    else:  # a busy reader: short read transactions, one after the other
        print("ready", flush=True)
        while time.monotonic() < end:
            connection.execute("BEGIN")
            connection.execute("SELECT * FROM candidate_identity").fetchall()
            connection.execute("SELECT * FROM audit_log ORDER BY seq DESC LIMIT 20").fetchall()
            connection.execute("COMMIT")
            time.sleep(0.002)
""")


def _build(path: Path) -> None:
    with Store(path) as store:
        people = Candidates(store)
        for i in range(30):  # neighbours on the same pages
            people.register(Identity(name=f"Person {i}", email=f"p{i}@example.org"), actor="hr:kim",
                            candidate_id=f"cand-{i:02d}")
        people.register(Identity(name=PLANTED[0], email=PLANTED[1], details={"phone": "+1 555 0100"}),
                        actor="hr:kim", candidate_id="cand-x")
        DemographicsVault(store).record("cand-x", {"sex": "female", "note": PLANTED[2]}, actor="form:self-id")
        people.add_record("cand-x", "interview_notes", {"note": PLANTED[3], "rating": 4}, actor="hr:kim")
        people.set_legal_hold("cand-x", True, actor="legal:li", reason=PLANTED[4])
        people.set_legal_hold("cand-x", False, actor="legal:li", reason="claim settled")


def _file_bytes(path: Path) -> bytes:
    return b"".join(Path(str(path) + suffix).read_bytes() for suffix in ("", "-wal", "-shm")
                    if Path(str(path) + suffix).exists())


def _reader(path: Path, mode: str, seconds: float) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", READER, str(path), mode, str(seconds)], stdout=subprocess.PIPE,
                               text=True)
    assert process.stdout.readline().strip() == "ready"
    return process


def test_erasure_with_a_concurrent_reader_leaves_no_byte_of_the_person(tmp_path):
    path = tmp_path / "store.db"
    _build(path)
    before = _file_bytes(path)
    assert all(text.encode() in before for text in PLANTED)  # the search can find them
    reader = _reader(path, "busy", 30)
    try:
        with Store(path, create=False) as store:
            receipt = erase_candidate(store, "cand-x", actor="dpo:sam", reason="erasure request", wait=20)
            assert receipt.files_clean is True and receipt.remaining is None
            assert "overwritten in the database file" in str(receipt)
            after = _file_bytes(path)  # while the reader goes on reading
            assert AuditLog(store).verify().ok
    finally:
        reader.kill()
        reader.communicate()
    found = [text for text in PLANTED if text.encode() in after]
    assert found == [], f"erased data still in the files: {found}"
    assert b"Person 7" in after  # the neighbours are intact


def test_a_reader_holding_an_old_snapshot_blocks_the_erasure_and_is_named(tmp_path):
    path = tmp_path / "store.db"
    _build(path)
    reader = _reader(path, "hold", 60)
    try:
        with Store(path, create=False) as store:
            # Something written after the reader's snapshot, so that the log has frames it still needs.
            Candidates(store).register(actor="hr:kim", candidate_id="cand-late")
            with pytest.raises(ErasureBlockedError) as caught:
                erase_candidate(store, "cand-x", actor="dpo:sam", reason="erasure request", wait=1)
            message = str(caught.value)
            assert f"pid {reader.pid} (python" in message and "nothing was erased" in message
            assert Candidates(store).get("cand-x").status == "open"  # nothing changed
            assert not scrub_files(store, wait=0.5)
    finally:
        reader.kill()
        reader.communicate()
    with Store(path, create=False) as store:
        assert scrub_files(store, wait=5)
        receipt = erase_candidate(store, "cand-x", actor="dpo:sam", reason="erasure request")
        assert receipt.files_clean and AuditLog(store).verify().ok
    assert not any(text.encode() in _file_bytes(path) for text in PLANTED)


def test_the_command_says_what_is_left(tmp_path, capsys):
    from profiler.cli import main

    path = tmp_path / "store.db"
    _build(path)
    assert main(["candidate", "erase", "cand-x", "--db", str(path), "--reason", "request", "--yes"]) == 0
    assert "the deleted data are overwritten in the database file" in capsys.readouterr().out
    assert main(["candidate", "scrub", "--db", str(path)]) == 0
    assert "emptied" in capsys.readouterr().out
    assert not any(text.encode() in _file_bytes(path) for text in PLANTED)
