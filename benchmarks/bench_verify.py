"""Verifying a store: the audit log's chain and case records, beside the whole check of every table that decides.

A store of simulated candidates (each registered, with identity and demographics, one ipip-bfm-50 session of 50
answers, finished) is verified twice per run: ``verify(tables=False)``, the chain and the case records as
before the table checks existed (the baseline), and ``verify()``, which also replays the log against every
answer, session, candidate, identity, demographics row and stop, and checks the signed checkpoint.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks._timing import format_seconds, markdown_table, time_median
from profiler.administration import Session
from profiler.oversight import AuditLog, Candidates
from profiler.oversight.candidates import DemographicsVault, Identity
from profiler.questionnaire import load_questionnaire
from profiler.store import Store
from profiler.store.anchoring import generate_key, parse_signing_key, trusted_keys

SIZES = (50, 200)
REPEATS = 3


def _build(store: Store, questionnaire, n: int) -> None:
    people, vault = Candidates(store), DemographicsVault(store)
    for k in range(n):
        cid = f"cand-{k:05d}"
        people.register(Identity(name=f"Person {k}", email=f"p{k}@example.org"), actor="bench", candidate_id=cid)
        vault.record(cid, {"sex": "female" if k % 2 else "male"}, actor="bench")
        session = Session.start(store, questionnaire, respondent=cid)
        while session.current() is not None:
            session.answer(1 + (k + session.position) % 5)
        session.finish()


def run() -> str:
    questionnaire = load_questionnaire("ipip-bfm-50")
    key = parse_signing_key(generate_key("ed25519"))
    keys = trusted_keys(environ={}, signing=key)
    rows = []
    with tempfile.TemporaryDirectory(prefix="profiler-bench-") as folder:
        for n in SIZES:
            with Store(Path(folder) / f"verify-{n}.db") as store:
                _build(store, questionnaire, n)
                log = AuditLog(store)
                log.checkpoint(key)
                chain = time_median("chain", lambda: log.verify(tables=False, keys=keys), repeats=REPEATS)
                whole = time_median("whole", lambda: log.verify(keys=keys), repeats=REPEATS)
                result = log.verify(keys=keys)
                assert result.ok, result.problems
                rows.append([str(n), f"{result.entries:,}", f"{result.rows:,}", format_seconds(chain.median_s),
                             format_seconds(whole.median_s), f"{whole.median_s / chain.median_s:.1f}"])
    table = markdown_table(["candidates", "log entries", "table rows checked", "chain and case records (baseline)",
                            "everything: chain, checkpoint, every table", "ratio"], rows)
    return ("## Verifying the audit log\n\n"
            "Timed: `AuditLog.verify` on a SQLite store of simulated candidates, each registered with identity and "
            "demographics and one finished ipip-bfm-50 session of 50 answers, with one Ed25519 checkpoint. "
            "Baseline, timed in the same run: `verify(tables=False)`, the hash chain and the case records (what "
            "verify checked before the tables were compared with the log). Medians of "
            f"{REPEATS} runs.\n\n{table}\n\n"
            "Replaying the log against every row reads each table once more, a page of candidates at a time by "
            "index, so the cost grows linearly with the store and memory stays flat.\n")
