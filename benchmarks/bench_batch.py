"""Batch scoring at scale: ``profiler score`` on a 1M-row CSV, the Dask engine beside the local one, and
10,000,000 candidates scored, normed and evaluated against a job model (the scoring kernel for every input type
is timed by :mod:`benchmarks.bench_kernel`).

Times are CPU seconds (``time.process_time``, this process and its threads; ``getrusage`` for a subprocess) as
well as wall seconds: the development machine is shared and loaded, so wall times swing two to three times
while CPU times move much less. Every ratio compares figures measured in the same run.

The three sections take minutes together, so ``BENCH_BATCH_SECTIONS=cli,dask,big`` (any of them, comma-separated;
all by default) runs some and keeps the others as docs/benchmarks/batch.md has them: each section says when, at
which commit and at which load it was measured, and ends with its verdict, which the summary at the top repeats.
"""

from __future__ import annotations

import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks._timing import cpu_median, format_seconds, machine_facts, markdown_table
from benchmarks.bench_scoring import synthetic_answers
from profiler.jobmodel import load_job_model
from profiler.norms import load_norms, profile_scores
from profiler.questionnaire import load_questionnaire
from profiler.questionnaire.scoring import score_and_count

N_FILE = 1_000_000
N_BIG = 10_000_000
BIG_CHUNK = 100_000
REPEATS = 3
TARGETS = {"cli_s": 6.0, "cli_mb": 400, "big_s": 60.0,
           "cluster_ratio": 2.0}


SPAWNER = """
import json, os, subprocess, sys, time
wall = time.perf_counter()
child = subprocess.Popen(json.loads(sys.argv[1]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(json.dumps([usage.ru_utime + usage.ru_stime, usage.ru_maxrss, time.perf_counter() - wall, status]))
"""


def run_child(command: list[str], env: dict[str, str]) -> tuple[float, float, float, int]:
    """CPU seconds (user + system), peak RSS in MB, wall seconds and exit status of ``command``.

    Started from a small Python process that waits for it with ``wait4``: a child's peak RSS counts the memory
    of the process it was forked from, and this benchmark's own process holds gigabytes of test data.
    """
    import json

    done = subprocess.run([sys.executable, "-c", SPAWNER, json.dumps(command)], check=True, env=env,
                          capture_output=True, text=True)
    cpu, peak_kb, wall, status = json.loads(done.stdout)
    return cpu, peak_kb / 1024, wall, status


def cli_section(questionnaire, folder: Path) -> str:
    answers = synthetic_answers(questionnaire, N_FILE, seed=11)
    path = folder / "responses.csv"
    frame = pd.DataFrame(answers, columns=questionnaire.item_ids)
    frame.insert(0, "candidate_id", [f"c{i:07d}" for i in range(N_FILE)])
    frame.to_csv(path, index=False)
    bad_path = folder / "bad.csv"
    bad = frame.iloc[:200_000].copy()
    bad["E3"] = 9  # every row bad
    bad.to_csv(bad_path, index=False)
    env = {**os.environ, "PROFILER_DB": str(folder / "store.db")}
    command = [sys.executable, "-m", "profiler", "score", "ipip-bfm-50", str(path), "--norms", "general",
               "--out", str(folder / "profiles.csv"), "--id-column", "candidate_id"]
    runs = [run_child(command, env) for _ in range(REPEATS)]
    if any(r[3] != 0 for r in runs):
        raise RuntimeError(f"profiler score failed: {command}")
    cpu = statistics.median(r[0] for r in runs)
    wall = statistics.median(r[2] for r in runs)
    peak_mb = max(r[1] for r in runs)
    bad_command = [sys.executable, "-m", "profiler", "score", "ipip-bfm-50", str(bad_path), "--norms", "general",
                   "--out", str(folder / "bad-profiles.csv"), "--id-column", "candidate_id", "--on-error", "skip",
                   "--rejects", str(folder / "rejects.csv")]
    bad_runs = [run_child(bad_command, env) for _ in range(REPEATS)]  # exit status 1: every row was bad
    bad_cpu = statistics.median(r[0] for r in bad_runs)
    bad_wall = statistics.median(r[2] for r in bad_runs)
    bad_peak = max(r[1] for r in bad_runs)
    small = folder / "small.csv"
    frame.iloc[:100].to_csv(small, index=False)
    start_command = [sys.executable, "-m", "profiler", "score", "ipip-bfm-50", str(small), "--norms", "general",
                     "--out", str(folder / "small-profiles.csv"), "--id-column", "candidate_id"]
    start_runs = [run_child(start_command, env) for _ in range(REPEATS)]
    start_cpu = statistics.median(r[0] for r in start_runs)
    size_mb = path.stat().st_size / 2**20
    rows = [
        [f"{N_FILE:,} good rows ({size_mb:.0f} MiB CSV) -> profiles CSV", format_seconds(cpu), format_seconds(wall),
         f"{cpu / N_FILE * 1e6:.2f} µs", f"{peak_mb:.0f} MB"],
        ["200,000 rows, every one bad (--on-error skip --rejects)", format_seconds(bad_cpu), format_seconds(bad_wall),
         f"{bad_cpu / 200_000 * 1e6:.2f} µs", f"{bad_peak:.0f} MB"],
        ["start-up: the same command on 100 rows (imports, norms, store, manifest)", format_seconds(start_cpu),
         format_seconds(statistics.median(r[2] for r in start_runs)), "", f"{max(r[1] for r in start_runs):.0f} MB"],
    ]
    good_row = (cpu - start_cpu) / N_FILE
    bad_row = (bad_cpu - start_cpu) / 200_000
    return "\n".join([
        f"### `profiler score` on a {N_FILE:,}-row CSV",
        "",
        "Timed: the command in a fresh process (`python -m profiler score ipip-bfm-50 responses.csv --norms general "
        "--out profiles.csv --id-column candidate_id`: start-up, reading, validating every answer, profiling, writing "
        f"the 80-column CSV and the run manifest, recording the run in a store); CPU time of the child process "
        f"(user + system, from `wait4`) and wall time, medians of {REPEATS} runs; peak resident memory of the child "
        "(max RSS, the largest of the runs).",
        "",
        markdown_table(["file", "CPU (median)", "wall (median)", "CPU per row", "peak RSS"], rows),
        "",
        "How to read it: the target is wall time end to end, but on two shared cores the wall time follows the "
        "load; the CPU time is what the command itself spends (its reading, scoring and writing threads together), "
        "so CPU at most 6 s means the wall time is at most 6 s on a machine with one core to spare. Bad rows: "
        "the start-up (the table's last row) is taken off both files before dividing by their rows; a bad row's problems "
        "and cells as read go to the rejects file, a good row's 80 columns to the profiles.",
        "",
        f"{VERDICT}`profiler score`, {N_FILE:,}-row CSV, at most {TARGETS['cli_s']:g} s and {TARGETS['cli_mb']} MB: "
        f"wall {format_seconds(wall)} ({_met(wall <= TARGETS['cli_s'])} at this load), CPU {format_seconds(cpu)} "
        f"({_met(cpu <= TARGETS['cli_s'])}), peak {peak_mb:.0f} MB ({_met(peak_mb <= TARGETS['cli_mb'])}); "
        f"a bad row costs {bad_row / good_row:.2f}x a good one ({bad_row * 1e6:.2f} µs against "
        f"{good_row * 1e6:.2f} µs of CPU; target at most 1.00x: {_met(bad_row <= good_row)}).",
    ])


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


MMAP_ENV = {"MALLOC_MMAP_THRESHOLD_": 32 << 20}  # glibc: blocks below 32 MiB from the heap (its dynamic maximum)


def dask_section(questionnaire, folder: Path) -> str:
    from profiler.batch import ScoreOptions, score_file
    from profiler.batch.dask_engine import score_file_dask

    norms = load_norms(questionnaire, "general")
    answers = synthetic_answers(questionnaire, N_FILE, seed=12)
    path = folder / "responses.parquet"
    pd.DataFrame(answers, columns=questionnaire.item_ids).to_parquet(path, index=False, row_group_size=125_000)
    options = ScoreOptions(output_format="parquet", chunk_size=125_000)

    def local():
        score_file(questionnaire, norms, path, folder / "local.parquet", options)

    def threads():
        score_file_dask(questionnaire, norms, path, folder / "threads.parquet", options)

    local_cpu, local_wall = cpu_median(local)
    threads_cpu, threads_wall = cpu_median(threads)
    expected = (folder / "local.parquet").read_bytes()
    same = [(folder / "threads.parquet").read_bytes() == expected]

    def cluster(env: dict[str, int]) -> tuple[float, float, float, float]:
        """Wall, client CPU and the workers' user and system CPU of the Dask engine on a LocalCluster."""
        import dask
        from distributed import Client, LocalCluster

        out = folder / "cluster.parquet"
        with dask.config.set({f"distributed.nanny.pre-spawn-environ.{k}": v for k, v in env.items()}), \
                LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as running, \
                Client(running) as client:
            address = running.scheduler_address

            def run_once():
                score_file_dask(questionnaire, norms, path, out, options, scheduler=address)

            run_once()  # untimed: the workers import profiler
            before = client.run(_own_cpu)
            client_cpu, wall = cpu_median(run_once, warmup=False)
            after = client.run(_own_cpu)
        same.append(out.read_bytes() == expected)
        user = sum(after[w][0] - before[w][0] for w in before) / REPEATS
        system = sum(after[w][1] - before[w][1] for w in before) / REPEATS
        return wall, client_cpu, user, system

    clusters = {"Dask, LocalCluster of 2 worker processes (Dask's worker settings)": cluster({}),
                "the same, workers started with `MALLOC_MMAP_THRESHOLD_=33554432`": cluster(MMAP_ENV)}
    rows = [
        ["local engine (baseline)", format_seconds(local_wall), format_seconds(local_cpu), "1.00", "1.00"],
        ["Dask, threaded scheduler", format_seconds(threads_wall), format_seconds(threads_cpu),
         f"{threads_wall / local_wall:.2f}", f"{threads_cpu / local_cpu:.2f}"],
    ]
    for label, (wall, client_cpu, user, system) in clusters.items():
        total = client_cpu + user + system
        rows.append([label, format_seconds(wall), f"{format_seconds(total)} (client and scheduler "
                     f"{format_seconds(client_cpu)}; workers {format_seconds(user)} user, {format_seconds(system)} "
                     "system)", f"{wall / local_wall:.2f}", f"{total / local_cpu:.2f}"])
    plain, tuned = clusters.values()
    ratio, cpu_ratio = plain[0] / local_wall, sum(plain[1:]) / local_cpu
    return "\n".join([
        f"### Dask beside the local engine: {N_FILE:,} rows",
        "",
        f"Timed: `score_file` and `score_file_dask` on the same Parquet file ({N_FILE:,} x 50 int8 answers, row groups "
        "of 125,000) to Parquet profiles, the run manifest included; medians of "
        f"{REPEATS} runs (after one untimed run, in which the cluster's workers import profiler). CPU: this "
        "process's (the client, and the threads of the threaded scheduler or of the LocalCluster's scheduler) plus, "
        "for a cluster, the workers' (`getrusage` on each, user and system apart). Every output is byte for byte the "
        f"local engine's: {all(same)}.",
        "",
        markdown_table(["engine", "wall (median)", "CPU (median)", "wall / local", "CPU / local"], rows),
        "",
        "How to read it: the Dask engine reads the file once (a partition per row group; the client numbers the "
        "rows as it takes the partitions in order); each worker scores its partition 32,768 rows at a time and "
        "ships the result packed (each scale's distinct rows of measures and a code per row, about 3 MB for "
        "125,000 rows instead of 80 MB), and the client unpacks and writes the partitions in order while the "
        "next ones are scored; the local engine reads, scores and writes on three threads of one process. Dask's "
        "nanny starts workers with `MALLOC_TRIM_THRESHOLD_=65536`, which (glibc) also fixes the mmap threshold "
        "at 128 KiB: every array above it is mapped afresh and its pages faulted in and zeroed, the workers' "
        "system time. Starting the workers with `MALLOC_MMAP_THRESHOLD_` raised (the second cluster row; a "
        "worker environment setting, `distributed.nanny.pre-spawn-environ`, see docs/administration.md) "
        "takes most of it away.",
        "",
        f"{VERDICT}Dask LocalCluster on {N_FILE:,} rows, at most {TARGETS['cluster_ratio']:g}x the local engine: "
        f"{ratio:.2f}x wall ({_met(ratio <= TARGETS['cluster_ratio'])}), {cpu_ratio:.2f}x CPU "
        f"({_met(cpu_ratio <= TARGETS['cluster_ratio'])}) with Dask's worker settings; "
        f"{tuned[0] / local_wall:.2f}x wall and {sum(tuned[1:]) / local_cpu:.2f}x CPU with the workers' mmap "
        f"threshold raised; the threaded scheduler {threads_wall / local_wall:.2f}x wall.",
    ])


def _own_cpu() -> tuple[float, float]:
    """User and system CPU seconds of the calling process (run on each Dask worker)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def _big_chunk(questionnaire, norms, job_model, block: np.ndarray) -> float:
    frame = pd.DataFrame(block, columns=questionnaire.item_ids)
    scores, answered = score_and_count(questionnaire, frame)
    profiles = profile_scores(scores, norms, answered=answered)
    inputs = pd.DataFrame({i: scores[i.removeprefix("trait.")] for i in job_model.inputs if i.startswith("trait.")})
    evaluated = job_model.evaluate_many(inputs, as_of="2026-03-01")
    return float(profiles.iloc[:, 2].sum() + evaluated["score"].sum())


def big_section(questionnaire) -> str:
    import dask

    norms = load_norms(questionnaire, "general")
    job_model = load_job_model("customer-support")
    block = synthetic_answers(questionnaire, BIG_CHUNK, seed=13)
    chunks = N_BIG // BIG_CHUNK
    # the 10M answers are 100 blocks of 100,000 (generating 500 MB of answers is not what is timed)
    blocks = [np.roll(block, k, axis=0) for k in range(4)]

    def local():
        return sum(_big_chunk(questionnaire, norms, job_model, blocks[k % 4]) for k in range(chunks))

    def threaded():
        tasks = [dask.delayed(_big_chunk)(questionnaire, norms, job_model, blocks[k % 4]) for k in range(chunks)]
        return sum(dask.compute(*tasks, scheduler="threads"))

    results = {}
    for label, func in (("local engine (one process, chunk by chunk)", local),
                        ("Dask threaded scheduler (2 threads)", threaded)):
        c, w = time.process_time(), time.perf_counter()
        func()
        results[label] = (time.process_time() - c, time.perf_counter() - w)
    local_cpu, local_wall = results["local engine (one process, chunk by chunk)"]
    threaded_wall = results["Dask threaded scheduler (2 threads)"][1]
    rows = [[label, format_seconds(w), format_seconds(c), f"{N_BIG / w:,.0f}"] for label, (c, w) in results.items()]
    return "\n".join([
        f"### {N_BIG:,} candidates scored, normed and evaluated against a job model",
        "",
        f"Timed: {chunks} chunks of {BIG_CHUNK:,} respondents x 50 int8 answers in memory, each validated and scored "
        "(`score_and_count`), placed against the `general` norms (`profile_scores`: z, T, percentile, sten, "
        "stanine, SEM, bands) and evaluated against the `customer-support` job model (`evaluate_many`: band, score, "
        "SHAP contributions, stability, coverage, counterfactual distances); one run each (a run takes minutes).",
        "",
        markdown_table(["engine", "wall", "CPU", "candidates per second (wall)"], rows),
        "",
        "How to read it: the local engine runs the chunks one after another in one thread (BLAS and Arrow may "
        "use the second core now and then); Dask's threaded scheduler runs two chunks at a time, so its wall "
        "time is lower while its CPU time is about the same.",
        "",
        f"{VERDICT}{N_BIG:,} candidates scored, normed and evaluated with contributions, at most "
        f"{TARGETS['big_s']:g} s with the local engine: {format_seconds(local_wall)} wall "
        f"({_met(local_wall <= TARGETS['big_s'])}), {format_seconds(local_cpu)} CPU "
        f"({_met(local_cpu <= TARGETS['big_s'])}); Dask threaded {format_seconds(threaded_wall)} wall.",
    ])


SECTIONS = ("cli", "dask", "big")
ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "benchmarks" / "batch.md"
MARK = "<!-- section: {} -->"
VERDICT = "**Verdict:** "


def _measured(started_load: float) -> str:
    """When, at which commit and at which load a section was measured."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=ROOT, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!docs"],
                               capture_output=True, text=True, cwd=ROOT, check=True).stdout.strip()  # code only
    except (OSError, subprocess.CalledProcessError):
        commit, dirty = "unknown", ""
    return (f"*Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at commit {commit}"
            f"{' with uncommitted changes' if dirty else ''}; 1-minute load average {started_load:.1f} at the "
            f"start, {os.getloadavg()[0]:.1f} at the end.*")


def _kept_sections() -> dict[str, str]:
    """The sections of the last run, as docs/benchmarks/batch.md holds them."""
    if not DOCS.exists():
        return {}
    text = DOCS.read_text(encoding="utf-8")
    found = {}
    for name in SECTIONS:
        match = re.search(re.escape(MARK.format(name)) + r"\n(.*?)(?=\n<!-- section: |\Z)", text, re.S)
        if match:
            found[name] = match.group(1).strip()
    return found


def run() -> str:
    wanted = [w.strip() for w in os.environ.get("BENCH_BATCH_SECTIONS", ",".join(SECTIONS)).split(",") if w.strip()]
    unknown = sorted(set(wanted) - set(SECTIONS))
    if unknown:
        raise SystemExit(f"BENCH_BATCH_SECTIONS: unknown section(s) {unknown}; choose from {list(SECTIONS)}")
    questionnaire = load_questionnaire("ipip-bfm-50")
    sections = _kept_sections()
    with tempfile.TemporaryDirectory() as tmp:
        for name in SECTIONS:  # in this order: the CLI first, while nothing else is in memory
            if name in wanted:
                load = os.getloadavg()[0]
                if name == "big":
                    body = big_section(questionnaire)
                else:
                    body = (cli_section if name == "cli" else dask_section)(questionnaire, Path(tmp))
                heading, _, rest = body.partition("\n")
                sections[name] = "\n".join([heading, "", _measured(load), rest])
    verdicts = [line.removeprefix(VERDICT) for name in SECTIONS if name in sections
                for line in sections[name].splitlines() if line.startswith(VERDICT)]
    parts = [
        "## Batch scoring at scale",
        "Issue 17's numbers on one of the project's 2-core machines (" + machine_facts() + "), shared with other "
        "work: wall times depend on what else runs, so each figure comes with CPU time and the load average, and "
        "each ratio is taken against a baseline measured in the same run. The scoring kernel itself "
        "(`Questionnaire.score`, `trait_profiles` and `JobModel.evaluate_many` for every input type) has its own "
        "section, *The scoring kernel*.",
        "Targets and where they stand:\n\n" + "\n".join(f"- {v}" for v in verdicts),
    ]
    parts += [f"{MARK.format(name)}\n{sections[name]}" for name in SECTIONS if name in sections]
    return "\n\n".join(parts) + "\n"


if __name__ == "__main__":
    print(run())
