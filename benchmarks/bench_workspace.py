"""A reviewer's decision in the workspace, from the click to the committed audit entry, with 20 reviewers at
once on loopback, beside the same decisions made by calling the pipeline directly.

The app runs in uvicorn on 127.0.0.1 on a SQLite store (WAL, ``synchronous=NORMAL``) holding 20 x 25
recorded recommendations of one organisation's job model. Each of 20 threads is a signed-in reviewer (its
session started beforehand, not timed) who posts 25 "do not use" decisions, one after another, over
keep-alive HTTP; a request is timed from sending the form to receiving the 303 that follows the commit of
the decision and its ``review.decision`` entry. Baseline, timed in the same run on a copy of the store:
the same 20 threads call :func:`~profiler.pipeline.review_target.decide_for_candidate` themselves. The
ratio is what the web layer (HTTP, sign-in check, CSRF, tenant check, the case read before deciding)
adds. PostgreSQL was not measured here.
"""

from __future__ import annotations

import http.client
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from benchmarks._timing import format_seconds, markdown_table

REVIEWERS = 20
EACH = 25
MODEL = "customer-support"
TARGET_S = 0.100


def _build(path: Path) -> list[list[tuple[str, int]]]:
    """The store; per reviewer, the (candidate, recommendation id) pairs it decides."""
    from profiler.integration.staff import Staff
    from profiler.oversight import AuditEvent, Candidates
    from profiler.store import Store
    from profiler.store.records import StoredRecommendation, ValidityVerdict, Versions

    work: list[list[tuple[str, int]]] = [[] for _ in range(REVIEWERS)]
    with Store(path) as store:
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
        from argon2 import PasswordHasher

        cheap = Staff(store, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        for r in range(REVIEWERS):
            cheap.add_user(f"reviewer{r}", "a long enough password", role="recruiter", tenant="acme", actor="bench")
    return work


def _concurrently(task) -> list[float]:
    times: list[list[float]] = [[] for _ in range(REVIEWERS)]
    threads = [threading.Thread(target=task, args=(r, times[r])) for r in range(REVIEWERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [x for per in times for x in per]


def _web(path: Path, work) -> list[float]:
    import uvicorn

    from profiler.integration.keys import SecretKey
    from profiler.integration.staff import Staff, token_hash
    from profiler.store import Store
    from profiler.web.app import create_app

    key = SecretKey.generate()
    with Store(path) as store:
        app = create_app(store, key)
        staff = Staff(store)
        tokens = [staff.start_session(staff.user(f"reviewer{r}")) for r in range(REVIEWERS)]
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error", access_log=False))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]

        def task(r: int, times: list[float]) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port)
            headers = {"Cookie": f"profiler_staff={tokens[r]}", "Content-Type": "application/x-www-form-urlencoded"}
            csrf = key.sign("staff-form", token_hash(tokens[r]))
            for _, rec_id in work[r]:
                body = urlencode({"csrf": csrf, "decision": "do_not_use", "reason": "data_error", "note": "bench"})
                start = time.perf_counter()
                connection.request("POST", f"/w/cases/{rec_id}/decide", body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                times.append(time.perf_counter() - start)
                if response.status != 303:
                    raise RuntimeError(f"decision refused: {response.status}")
            connection.close()

        try:
            return _concurrently(task)
        finally:
            server.should_exit = True
            thread.join()


def _direct(path: Path, work) -> list[float]:
    from profiler.oversight import Review
    from profiler.pipeline.review_target import decide_for_candidate
    from profiler.store import Store

    with Store(path) as store:
        def task(r: int, times: list[float]) -> None:
            for candidate, rec_id in work[r]:
                start = time.perf_counter()
                decide_for_candidate(Review(store), candidate, "do_not_use", reviewer=f"reviewer{r}",
                                     role="recruiter", reason="data_error", note="bench", recommendation=rec_id)
                times.append(time.perf_counter() - start)

        return _concurrently(task)


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def run() -> str:
    with tempfile.TemporaryDirectory(prefix="profiler-bench-") as folder:
        web_db, direct_db = Path(folder) / "web.sqlite", Path(folder) / "direct.sqlite"
        work = _build(web_db)
        shutil.copyfile(web_db, direct_db)
        direct = _direct(direct_db, work)
        web = _web(web_db, work)
    rows = [[name, f"{len(v):,}", format_seconds(statistics.median(v)), format_seconds(_p95(v))]
            for name, v in (("`decide_for_candidate` called directly (baseline)", direct),
                            ("workspace: POST /w/cases/N/decide over HTTP", web))]
    ratio = _p95(web) / _p95(direct)
    verdict = "meets" if _p95(web) <= TARGET_S else "misses"
    return "\n".join([
        "## Deciding in the workspace",
        "",
        f"Timed: {REVIEWERS} reviewers at once, each posting {EACH} decisions one after another to the workspace in "
        "uvicorn on loopback (SQLite store, WAL), from sending the form to receiving the redirect that follows the "
        "commit of the decision and its audit entry. Baseline, timed in the same run: the same threads calling "
        "`decide_for_candidate` directly on a copy of the store.",
        "",
        markdown_table(["path", "decisions", "median", "p95"], rows),
        "",
        f"p95 ratio (workspace / direct): {ratio:.1f}. The workspace {verdict} the target of "
        f"{format_seconds(TARGET_S)} at the 95th percentile with {REVIEWERS} concurrent reviewers. Writers "
        "queue for SQLite's single write lock, so both rows are dominated by waiting for it; PostgreSQL was "
        "not measured.",
    ])


if __name__ == "__main__":
    print(run())
