"""Killing ``profiler take`` at random points loses no committed answer and doubles none.

One session of the 50-item IPIP questionnaire is answered across several processes. Each round starts
``profiler take`` (resuming from the second round on) in a child process, sends a random number of actions
(answers and going back), waiting for the next item to appear before sending the next action, then sends
one more action and kills the child with SIGKILL at a random moment: at once, after a random delay, or
once the next item is on screen. The store must then hold exactly the actions sent before the kill, the
last one either committed or not (never half-written or doubled), and the next round must resume at the
right item. A last round runs ``python -m profiler take --resume`` as a fresh interpreter and finishes.

The killed children are forked from the test process with ``profiler take`` running in them (its own
SQLite connection, its standard input and output on pipes): the same command as a new interpreter, minus
the second or two of imports per round that would make the test too slow for the suite.
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import profiler
from profiler.cli import main

ROUNDS = 10
SEED = 20240611
PROMPT_MARK = b"\n> "  # every screen ends with the input prompt


class Child:
    """``profiler take ARGS`` in a forked process whose standard input and output are pipes."""

    def __init__(self, args: list[str], stderr_path: Path):
        stdin_r, self.stdin = os.pipe()
        self.stdout, stdout_w = os.pipe()
        self.data = b""
        self.pid = os.fork()
        if self.pid == 0:  # the child: runs the command and exits, never returns into pytest
            code = 70
            gc.disable()  # a short life: not worth touching (and copying) every page of pytest's heap
            try:
                os.dup2(stdin_r, 0)
                os.dup2(stdout_w, 1)
                os.dup2(os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND), 2)
                sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
                sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8")
                sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8")
                code = main(["take", *args])
                sys.stdout.flush()
            finally:
                os._exit(code)
        os.close(stdin_r)
        os.close(stdout_w)

    def send(self, line: str) -> None:
        os.write(self.stdin, line.encode() + b"\n")

    def prompts(self) -> int:
        return self.data.count(PROMPT_MARK)

    def wait_for_prompts(self, count: int, timeout: float = 30.0) -> None:
        """Read the output until ``count`` prompts have appeared."""
        deadline = time.monotonic() + timeout
        while self.prompts() < count:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self.stdout], [], [], max(remaining, 0))
            chunk = os.read(self.stdout, 65536) if ready else b""
            if not chunk:
                raise AssertionError(f"no prompt {count} (timeout or exit); output so far:\n{self.text()}")
            self.data += chunk

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.stdin)
        os.close(self.stdout)

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


def _stored(db: Path) -> tuple[str, list[tuple], list[int]]:
    """The session id, its actions (answers and moves, not resumptions) and the event numbers."""
    with contextlib.closing(sqlite3.connect(db)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        session_id = connection.execute("SELECT id FROM sessions").fetchone()[0]
        rows = connection.execute("SELECT seq, kind, item_id, value FROM session_events ORDER BY seq").fetchall()
    return session_id, [r[1:] for r in rows if r[1] != "resume"], [r[0] for r in rows]


def _next_action(rng: random.Random, position: int, order: list[str]) -> tuple[str, tuple]:
    """A line to type and the event it should record, moving within the first 49 items."""
    if position > 0 and (rng.random() < 0.2 or position == len(order) - 1):
        return "b", ("back", order[position], None)
    value = rng.randint(1, 5)
    return str(value), ("answer", order[position], float(value))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")
def test_killed_process_loses_and_doubles_nothing(tmp_path):
    rng = random.Random(SEED)
    order = profiler.load_questionnaire("ipip-bfm-50").item_order()
    db = tmp_path / "kill.db"
    stderr = tmp_path / "stderr.txt"
    args = ["ipip-bfm-50", "--db", str(db), "--respondent", "kill-test"]
    committed: list[tuple] = []  # the actions the store must hold
    position, session_id = 0, None
    outcomes = []
    for _ in range(ROUNDS):
        child = Child(args + (["--resume", session_id] if session_id else []), stderr)
        try:
            child.wait_for_prompts(1)
            if session_id is not None:  # resumed at the item where the last committed action left it
                assert f"Resuming session {session_id} at item {position + 1} of 50." in child.text()
                assert f"] {position + 1}/50" in child.text()
            sent, positions = [], [position]
            for k in range(rng.randint(1, 8)):
                line, event = _next_action(rng, position, order)
                child.send(line)
                sent.append(event)
                position += 1 if event[0] == "answer" else -1
                positions.append(position)
                child.wait_for_prompts(k + 2)  # committed, and the next item is on screen
            line, event = _next_action(rng, position, order)
            child.send(line)  # the action in flight when the process dies
            sent.append(event)
            positions.append(position + (1 if event[0] == "answer" else -1))
            how = rng.choice(["at once", "after a delay", "after the commit"])
            if how == "after a delay":
                time.sleep(rng.uniform(0.0, 0.02))
            elif how == "after the commit":
                child.wait_for_prompts(len(sent) + 1)
        finally:
            child.kill()
        session_id, stored, seqs = _stored(db)
        assert seqs == list(range(1, len(seqs) + 1))  # nothing half-written, no gap
        if stored == committed + sent:
            outcomes.append("committed")
        else:
            assert stored == committed + sent[:-1], (how, sent[-1])  # only the action in flight is lost
            assert how != "after the commit"
            outcomes.append("lost in flight")
        committed = stored
        position = positions[len(sent) if outcomes[-1] == "committed" else len(sent) - 1]

    # A fresh interpreter resumes, goes back once, answers the rest and finishes (Enter on the last screen).
    assert position > 0
    again = str(rng.randint(1, 5))
    remaining = order[position:]
    answers = [str(rng.randint(1, 5)) for _ in remaining]
    lines = ["b", again, *answers, ""]
    result = subprocess.run([sys.executable, "-m", "profiler", "take", *args, "--resume", session_id],
                            input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"Resuming session {session_id} at item {position + 1} of 50." in result.stdout
    assert "Finished: 50 of 50 items answered" in result.stdout
    _, stored, _ = _stored(db)
    final = [("back", order[position], None), ("answer", order[position - 1], float(again))]
    final += [("answer", item, float(a)) for item, a in zip(remaining, answers, strict=True)]
    assert stored == committed + final + [("finish", None, None)]
    assert sorted({item for kind, item, _ in stored if kind == "answer"}) == sorted(order)
    with contextlib.closing(sqlite3.connect(db)) as connection:
        assert connection.execute("SELECT status FROM sessions").fetchone() == ("finished",)
    assert len(outcomes) == ROUNDS
