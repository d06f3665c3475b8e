"""``profiler take``: scripted standard input, in a subprocess and in process."""

from __future__ import annotations

import io
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import profiler
from profiler.administration import Session
from profiler.cli import main
from profiler.store import Store

MINI = Path(__file__).parents[1] / "fixtures" / "questionnaires" / "mini.yaml"
MINI_ORDER_SEED_1 = ["T3", "S1", "S2", "T2", "S3", "ATT1", "T1", "TEN"]

TWO_ITEMS = """
id: two
version: "1"
title: {en: Two items}
default_language: en
languages: {en: {status: original}}
response_formats:
  agree3:
    type: likert
    options:
      - {value: 0, label: {en: "No"}}
      - {value: 1, label: {en: Maybe}}
      - {value: 2, label: {en: "Yes"}}
defaults: {response_format: agree3}
items:
  - {id: A, text: {en: First statement.}}
  - {id: B, text: {en: Second statement.}}
scales:
  - {id: Both, name: {en: Both items}, keys: [A, B]}
"""


def _events(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT kind, item_id, value FROM session_events ORDER BY seq").fetchall()


def _session(db: Path) -> tuple:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT id, status, seed, respondent, language FROM sessions").fetchone()


def _take(monkeypatch, capsys, lines: str, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(lines))
    code = main(["take", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_scripted_run_in_a_subprocess_with_invalid_input_skip_quit_and_resume(tmp_path, monkeypatch, capsys):
    db = tmp_path / "sessions.db"
    command = [sys.executable, "-m", "profiler", "take", str(MINI), "--db", str(db), "--seed", "1",
               "--respondent", "cand-7"]
    # T3 skipped; S1: two invalid answers then 2; S2: Enter (nothing to keep) and b (not allowed), then 4;
    # T2: s refused (required), then 3; end of input quits.
    first = subprocess.run(command, input="s\n7\nx\n2\n\nb\n4\ns\n3\n", capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    out = first.stdout
    assert "'7' is not an answer here: type a number from 1 to 5 or q" in out
    assert "'x' is not an answer here" in out
    assert "! type a number from 1 to 5" in out
    assert "does not allow going back" in out
    assert "'T2' is required: it cannot be skipped" in out
    assert "[" + "-" * 24 + "] 1/8" in out and "] 5/8" in out and "10:00 left" in out
    session_id, status, seed, respondent, language = _session(db)
    assert (status, seed, respondent, language) == ("open", 1, "cand-7", "en")
    assert f"--resume {session_id}" in out and "Paused. Your answers are saved." in out
    assert _events(db) == [("skip", "T3", None), ("answer", "S1", 2.0), ("answer", "S2", 4.0),
                           ("answer", "T2", 3.0), ("pause", "S3", None)]

    # Resumed in process (a fresh interpreter resumes in test_kill_resume.py).
    code, out, _ = _take(monkeypatch, capsys, "5\n4\n3\n12\n", str(MINI), "--db", str(db), "--resume", session_id)
    assert code == 0
    assert f"Resuming session {session_id} at item 5 of 8." in out
    assert "I ask questions in meetings." in out.split("> ")[0]  # S3, where it stopped
    assert "Finished: 7 of 8 items answered" in out and "Raw scale scores:" in out
    assert "Voice         3.00" in out  # S1 = 2, S2 = 4 reversed to 2, S3 = 5
    assert _session(db)[1] == "finished"
    assert [e[0] for e in _events(db)][5:] == ["resume", "answer", "answer", "answer", "answer", "finish"]


def test_back_and_enter_keeps_an_answer(tmp_path, monkeypatch, capsys):
    db = tmp_path / "s.db"
    code, out, _ = _take(monkeypatch, capsys, "2\n4\nb\n\n5\nq\n", "ipip-bfm-50", "--db", str(db))
    assert code == 0
    assert "(Enter keeps Slightly agree, b back, q quit)" in out or "Enter keeps" in out
    assert _events(db) == [("answer", "E1", 2.0), ("answer", "A1", 4.0), ("back", "C1", None),
                           ("forward", "A1", None), ("answer", "C1", 5.0), ("pause", "N1", None)]


def test_the_last_screen_offers_finish_and_back(tmp_path, monkeypatch, capsys):
    path = tmp_path / "two.yaml"
    path.write_text(TWO_ITEMS)
    db = tmp_path / "s.db"
    code, out, _ = _take(monkeypatch, capsys, "3\n3\nx\nb\n\n\n", str(path), "--db", str(db))
    assert code == 0
    assert "All 2 items are done. Enter = finish, b = back, q = quit." in out
    assert "! press Enter to finish, b to go back or q to quit" in out
    assert "Finished: 2 of 2 items answered" in out and "Both items  2.00" in out
    assert [e[0] for e in _events(db)] == ["answer", "answer", "back", "forward", "finish"]


def test_end_of_input_at_once_leaves_a_resumable_session(tmp_path, monkeypatch, capsys):
    db = tmp_path / "s.db"
    code, out, err = _take(monkeypatch, capsys, "", "ipip-bfm-50", "--db", str(db), "--language", "de")
    assert code == 0 and "Paused" in out
    assert "unvalidated translation" in err
    assert _events(db) == [("pause", "E1", None)]
    session_id = _session(db)[0]
    code, out, _ = _take(monkeypatch, capsys, "1\n", "ipip-bfm-50", "--db", str(db), "--resume", session_id)
    assert code == 0 and "Stimme nicht zu" in out  # resumed in the session's language
    assert _events(db)[-2:] == [("answer", "E1", 1.0), ("pause", "A1", None)]


@pytest.mark.parametrize(("args", "message"), [
    (["--resume", "0123"], "no session '0123'"),
    (["--respondent", "Jane Doe"], "not a pseudonymous id"),
    (["--language", "xx"], "not offered in 'xx'"),
])
def test_usage_errors_are_clear(tmp_path, monkeypatch, capsys, args, message):
    Store(tmp_path / "s.db").close()
    code, _, err = _take(monkeypatch, capsys, "", "ipip-bfm-50", "--db", str(tmp_path / "s.db"), *args)
    assert code == 2 and message in err and "Traceback" not in err


def test_resume_needs_an_existing_store_and_an_open_session_in_its_language(tmp_path, monkeypatch, capsys):
    code, _, err = _take(monkeypatch, capsys, "", "ipip-bfm-50", "--db", str(tmp_path / "none.db"), "--resume", "x")
    assert code == 2 and "no store at" in err
    assert not (tmp_path / "none.db").exists()
    db = tmp_path / "s.db"
    with Store(db) as store:
        session = Session.start(store, profiler.parse_questionnaire(TWO_ITEMS))
    path = tmp_path / "two.yaml"
    path.write_text(TWO_ITEMS)
    code, _, err = _take(monkeypatch, capsys, "", str(path), "--db", str(db), "--resume", session.id,
                         "--language", "fr")
    assert code == 2 and "is in 'en'; it cannot change language" in err
    code, _, err = _take(monkeypatch, capsys, "", "ipip-bfm-50", "--db", str(db), "--resume", session.id)
    assert code == 2 and "was started with two 1" in err
    _take(monkeypatch, capsys, "1\n1\n\n", str(path), "--db", str(db), "--resume", session.id)
    code, _, err = _take(monkeypatch, capsys, "", str(path), "--db", str(db), "--resume", session.id)
    assert code == 2 and "is finished; it cannot be resumed" in err


def test_an_expired_session_is_closed_with_its_answers(tmp_path, monkeypatch, capsys):
    db = tmp_path / "s.db"
    mini = profiler.load_questionnaire(MINI)
    now = [0.0]
    with Store(db) as store:
        session = Session.start(store, mini, seed=1, clock=lambda: now[0])
        session.answer(4)
        now[0] = 700.0  # past the 600 s limit
        session.pause()
    code, out, _ = _take(monkeypatch, capsys, "", str(MINI), "--db", str(db), "--resume", session.id)
    assert code == 0
    assert "Time is up" in out and "Finished (time limit reached): 1 of 8 items answered" in out
    assert [e[0] for e in _events(db)][-3:] == ["resume", "expire", "finish"]
