"""Killing an adaptive ``profiler take`` at random points: the resumed session chooses exactly the items an
uninterrupted one chooses, and its record replays and verifies.

The IPIP-50 is given adaptively (randomesque exposure control, so the draws matter) in rounds of a forked
``profiler take`` killed with SIGKILL (the child of ``tests/administration/test_kill_resume.py``); the k-th
answer typed is always the same value, so the uninterrupted session with the same seed is the reference. A
fresh interpreter finishes the session.
"""

from __future__ import annotations

import contextlib
import os
import random
import sqlite3
import subprocess
import sys
import time

import pytest

from profiler.administration import Session
from profiler.administration import replay_session
from profiler.oversight import AuditLog
from profiler.questionnaire.loader import load_questionnaire
from profiler.store import Store

from ..administration.test_kill_resume import Child
from .conftest import ipip_cat_yaml

SEED = 9
ADAPTIVE = "    bank: ipip-bfm-50\n    exposure: {method: randomesque, candidates: 3}\n    stop: {se: 0.45, max_items: 4}"


def _stored(db) -> tuple[str, list[str], int]:
    """The session id, the items its steps chose (in order) and how many answers are committed."""
    with contextlib.closing(sqlite3.connect(db)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        session_id = connection.execute("SELECT id FROM sessions").fetchone()[0]
        rows = connection.execute("SELECT kind, item_id FROM session_events ORDER BY seq").fetchall()
    return session_id, [i for k, i in rows if k == "select" and i is not None], sum(k == "answer" for k, _ in rows)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")
def test_a_killed_adaptive_session_resumes_with_the_same_items(tmp_path):
    path = tmp_path / "ipip-bfm-50-cat.yaml"
    path.write_text(ipip_cat_yaml(ADAPTIVE))
    questionnaire = load_questionnaire(path)
    rng = random.Random(20261205)
    values = [rng.randint(1, 5) for _ in range(20)]  # the k-th answer, whatever the item
    with Store(tmp_path / "reference.db") as store:
        reference = Session.start(store, questionnaire, respondent="reference", seed=SEED)
        while reference.current() is not None:
            reference.answer(values[len(reference.answers())])
        reference_order = list(reference.order)
        reference_scores = reference.adaptive_scores()
    assert 5 <= len(reference_order) <= 20

    db = tmp_path / "kill.db"
    args = [str(path), "--db", str(db), "--respondent", "kill-cat", "--seed", str(SEED)]
    session_id, answered = None, 0
    for _ in range(4):
        child = Child(args + (["--resume", session_id] if session_id else []), tmp_path / "stderr.txt")
        try:
            child.wait_for_prompts(1)
            for k in range(rng.randint(1, 3)):
                child.send(str(values[answered + k]))
                child.wait_for_prompts(k + 2)
            child.send(str(values[answered + k + 1]))  # in flight when the process dies
            time.sleep(rng.choice([0.0, rng.uniform(0.0, 0.02)]))
        finally:
            child.kill()
        session_id, chosen, answered = _stored(db)
        assert chosen == reference_order[:len(chosen)] and len(chosen) in (answered, answered + 1)

    lines = [str(v) for v in values[answered:len(reference_order)]]
    result = subprocess.run([sys.executable, "-m", "profiler", "take", *args, "--resume", session_id],
                            input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Scale scores (adaptive scales: EAP theta and SE):" in result.stdout
    with Store(db, create=False) as store:
        session = Session.load(store, session_id)
        assert session.finished and list(session.order) == reference_order
        assert session.adaptive_scores().equals(reference_scores)
        assert replay_session(store, session_id).ok
        assert AuditLog(store).verify().ok
