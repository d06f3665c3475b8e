"""A reviewer's decision in the workspace, from the click to the committed audit entry, with 20 reviewers at
once on loopback, on SQLite and on PostgreSQL, beside the same decisions made by calling the pipeline directly.

``profiler serve`` runs as its own process (one uvicorn process, as deployed) on a store holding 20 x 25
recorded recommendations of one organisation's job model. Each of 20 reviewers is signed in (its session
started beforehand, not timed) and posts 25 "do not use" decisions one after another over a keep-alive
connection; the reviewers are coroutines on one asyncio event loop in this process (:mod:`benchmarks._http`),
so the load generator takes little CPU from the server. A request is timed from sending the form to receiving
the 303 that follows the commit of the decision and its ``review.decision`` entry.

Pacing: a reviewer reads a case (the explanation, the counterfactuals, the history) for minutes before
deciding; the paced run waits 1 to 3 s (uniform) between two decisions of a reviewer, deliberately faster
than people, and the saturation run not at all (answers/s is then what one server process sustains).

Baseline, timed in the same run on a store built the same way: 20 threads of this process calling
:func:`~profiler.pipeline.review_target.decide_for_candidate` themselves without pause. The ratio is what the
web layer (HTTP, sign-in check, CSRF, the organisation's check, the open contest) adds.
Afterwards every decision is checked: each recommendation decided once, the audit chain intact.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import statistics
import tempfile
import threading
import time
from pathlib import Path

from benchmarks._http import Connection, serve
from benchmarks._timing import format_seconds, markdown_table
from benchmarks.bench_web_load import _location

REVIEWERS = 20
EACH = int(os.environ.get("PROFILER_BENCH_DECISIONS", 25))
THINK_S = (1.0, 3.0)
MODEL = "customer-support"
TARGET_S = 0.100


def _build(location: str) -> list[list[tuple[str, int]]]:
    """The store; per reviewer, the (candidate, recommendation id) pairs it decides."""
    from argon2 import PasswordHasher

    from profiler.integration.staff import Staff
    from profiler.oversight import AuditEvent, Candidates
    from profiler.store import Store
    from profiler.store.records import StoredRecommendation, ValidityVerdict, Versions

    work: list[list[tuple[str, int]]] = [[] for _ in range(REVIEWERS)]
    with Store(location) as store:
        staff = Staff(store)
        staff.add_tenant("acme", "Acme", actor="bench")
        staff.assign_job_model("acme", MODEL, actor="bench")
        people = Candidates(store)
        for k in range(REVIEWERS * EACH):
            candidate = people.register(actor="bench", candidate_id=f"cand-{k:05d}").id
            record = StoredRecommendation(
                band="advance", score_band="advance", score=70.0,
                versions=Versions(job_model_id=MODEL, job_model_version="1.0.0", job_model_hash="sha256:" + "ab" * 32,
                                  questionnaire_id="ipip-bfm-50", questionnaire_version="1.0.0",
                                  content_hash="sha256:" + "cd" * 32, norm_group="general", norm_version="1.0.0",
                                  norms_sha256="sha256:" + "ef" * 32),
                validity=ValidityVerdict(verdict="valid", reasons=[]), routed_to_review=False,
                reasons=[{"code": "score", "text": "the score"}], stability={"label": "stable", "se_score": 4.0})
            rec = people.add_record(candidate, "recommendation", record, actor="bench",
                                    event=AuditEvent.RECOMMENDATION)
            work[k % REVIEWERS].append((candidate, rec.id))
        cheap = Staff(store, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        for r in range(REVIEWERS):
            cheap.add_user(f"reviewer{r}", "a long enough password", role="recruiter", tenant="acme", actor="bench")
    return work


def _direct(location: str, work, threads_n: int) -> tuple[list[float], float]:
    """Times of each call with ``threads_n`` threads deciding at once (1: one after another, no queue), and
    the CPU time per call."""
    from profiler.oversight import Review
    from profiler.pipeline.review_target import decide_for_candidate
    from profiler.store import Store

    times: list[list[float]] = [[] for _ in range(REVIEWERS)]
    with Store(location) as store:
        def task(rs: list[int]) -> None:
            for r in rs:
                for candidate, rec_id in work[r]:
                    start = time.perf_counter()
                    decide_for_candidate(Review(store), candidate, "do_not_use", reviewer=f"reviewer{r}",
                                         role="recruiter", reason="data_error", note="bench", recommendation=rec_id)
                    times[r].append(time.perf_counter() - start)

        cpu = time.process_time()
        threads = [threading.Thread(target=task, args=(list(range(k, REVIEWERS, threads_n)),))
                   for k in range(threads_n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        cpu = time.process_time() - cpu
    flat = [x for per in times for x in per]
    return flat, cpu / len(flat)


async def _reviewers(port: int, tokens: list[str], csrf: list[str], work, think: tuple[float, float]
                     ) -> tuple[list[float], float]:
    times: list[float] = []
    stamps: list[float] = []

    async def reviewer(r: int) -> None:
        rng = random.Random(r)
        browser = Connection(port, {"profiler_staff": tokens[r]})
        try:
            for _, rec_id in work[r]:
                if think[1] > 0:
                    await asyncio.sleep(rng.uniform(*think))
                form = {"csrf": csrf[r], "decision": "do_not_use", "reason": "data_error", "note": "bench"}
                start = time.perf_counter()
                reply = await browser.request("POST", f"/w/cases/{rec_id}/decide", form)
                times.append(time.perf_counter() - start)
                stamps.append(time.monotonic())
                if reply.status != 303:
                    raise RuntimeError(f"decision refused: {reply.status} {reply.text[:300]}")
        finally:
            await browser.close()

    await asyncio.gather(*(reviewer(r) for r in range(REVIEWERS)))
    return times, max(stamps) - min(stamps)


def _web(location: str, folder: Path, work, think: tuple[float, float]) -> dict:
    from profiler.integration.keys import SecretKey
    from profiler.integration.staff import Staff, token_hash
    from profiler.store import Store

    key = SecretKey.generate()
    secret_file = folder / f"secret-{secrets.token_hex(4)}"
    secret_file.write_text(key.to_text() + "\n")
    with Store(location) as store:
        staff = Staff(store)
        tokens = [staff.start_session(staff.user(f"reviewer{r}")) for r in range(REVIEWERS)]
    csrf = [key.sign("staff-form", token_hash(t)) for t in tokens]
    with serve(location, secret_file) as server:
        started, server_started = time.process_time(), server.cpu_now()
        times, span = asyncio.run(_reviewers(server.port, tokens, csrf, work, think))
        client, server_cpu = time.process_time() - started, server.cpu_now() - server_started
    return {"times": times, "rate": len(times) / span, "server_cpu": server_cpu, "client_cpu": client,
            "load": os.getloadavg()[0], "errors": server.errors}


def _check(location: str, work) -> str:
    """Each recommendation decided exactly once, and the audit chain intact."""
    from profiler.oversight import Review
    from profiler.store import Store
    from profiler.store.audit_log import AuditLog

    with Store(location) as store:
        first = [d.recommendation_id for d in Review(store).decisions() if d.stage == "first"]
        expected = sorted(rec for per in work for _, rec in per)
        once = sorted(first) == expected
        chain = AuditLog(store).verify().ok
    return f"{'each once' if once else 'NOT each once'}, chain {'intact' if chain else 'BROKEN'}"


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def run() -> str:
    backends = [("SQLite (WAL)", None)]
    url = os.environ.get("PROFILER_BENCH_POSTGRES_URL") or os.environ.get("PROFILER_TEST_POSTGRES_URL")
    if url:
        backends.append(("PostgreSQL 15", url))
    rows, verdicts = [], []
    with tempfile.TemporaryDirectory(prefix="profiler-bench-") as folder_name:
        folder = Path(folder_name)
        for label, base_url in backends:
            for threads_n in (1, REVIEWERS):
                with _location(base_url, folder) as location:
                    work = _build(location)
                    found, cpu = _direct(location, work, threads_n)
                    load = os.getloadavg()[0]
                    checked = _check(location, work)
                who = "one thread, one call after another" if threads_n == 1 else f"{threads_n} threads, no pause"
                rows.append([f"{label}: `decide_for_candidate` called directly, {who} (baseline)",
                             f"{len(found):,}", format_seconds(statistics.median(found)),
                             format_seconds(_p95(found)), "", "", f"({format_seconds(cpu)}/decision)", "",
                             f"{load:.1f}", checked])
                direct = found
            for who, think in ((f"paced, {THINK_S[0]:g}-{THINK_S[1]:g} s between decisions", THINK_S),
                               ("saturation, no pause", (0.0, 0.0))):
                with _location(base_url, folder) as location:
                    work = _build(location)
                    m = _web(location, folder, work, think)
                    checked = _check(location, work)
                times = m["times"]
                if m["errors"].strip():
                    checked += f"; the server logged {m['errors'].count('Traceback')} failed request(s)"
                rows.append([f"{label}: workspace POST /w/cases/N/decide over HTTP, {who}", f"{len(times):,}",
                             format_seconds(statistics.median(times)), format_seconds(_p95(times)),
                             f"{_p95(times) / _p95(direct):.2f}", f"{m['rate']:.0f}",
                             f"{m['server_cpu']:.1f} s ({m['server_cpu'] / len(times) * 1e3:.1f} ms/decision)",
                             f"{m['client_cpu']:.1f} s", f"{m['load']:.1f}", checked])
                verdicts.append(f"{label}, {who}: p95 {format_seconds(_p95(times))}, "
                                f"{'meets' if _p95(times) <= TARGET_S else 'misses'} the target of "
                                f"{format_seconds(TARGET_S)}")
    table = markdown_table(["path", "decisions", "median", "p95", "p95 / direct", "decisions/s", "server CPU",
                            "load generator CPU", "load avg (1 min)", "afterwards"], rows)
    pg_note = "" if url else " PostgreSQL was not measured in this run: set PROFILER_BENCH_POSTGRES_URL."
    return "\n".join([
        "## Deciding in the workspace",
        "",
        f"Timed: {REVIEWERS} signed-in reviewers at once, each posting {EACH} decisions (\"do not use\", with a "
        "reason and a note) to the workspace of `profiler serve` (its own process, one uvicorn process) on "
        "loopback, from sending the form to receiving the redirect that follows the commit of the decision and "
        "its audit entry. Pacing: a reviewer reads a case for minutes; the paced run waits "
        f"{THINK_S[0]:g} to {THINK_S[1]:g} s (uniform) between two decisions of a reviewer, deliberately faster "
        "than people, the saturation run not at all (decisions/s is then what one server process sustains). The "
        "reviewers are coroutines on one asyncio event loop in the benchmark's process (`benchmarks/_http.py`), "
        "whose CPU is reported beside the server's (its CPU during the load, start-up left out). Baselines, "
        "timed in the same run on stores built the same way: `decide_for_candidate` called directly, by one "
        "thread (the cost of a decision with no queue) and by 20 threads at once without pause (the p95 / direct "
        "column compares with this one). Afterwards: each recommendation "
        f"decided exactly once, the audit chain verified. Each run starts from a fresh store.{pg_note}",
        "",
        table,
        "",
        *(f"- {v}" for v in verdicts),
        "",
        f"How to read it: the paced rows are the target's case (reviewers who read a case before deciding). In the "
        f"saturation rows {REVIEWERS} reviewers who never wait form a closed loop whose latency is {REVIEWERS} / "
        f"throughput, so their p95 stays under {format_seconds(TARGET_S)} only when one server process records more "
        f"than about {REVIEWERS / TARGET_S:.0f} decisions a second (the decisions/s column). A decision costs the "
        "server the CPU in its column; the direct baselines show what `decide_for_candidate` itself costs without "
        "HTTP, sessions and CSRF. What keeps it small: the review settings are read without counting the audit log, "
        "a route makes one worker-thread call with one `Review`, SQLite writers wait on a per-file lock in the "
        "process instead of sleeping in SQLite's busy handler, and the hot SQLAlchemy statements are built once.",
    ])


if __name__ == "__main__":
    print(run())
