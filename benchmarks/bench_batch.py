"""Batch scoring at scale: ``profiler score`` on a 1M-row CSV, the Dask engine beside the local one, and
10,000,000 candidates scored, normed and evaluated against a job model (the scoring kernel for every input type
is timed by :mod:`benchmarks.bench_kernel`).

Times are CPU seconds (``time.process_time``, this process and its threads; ``getrusage`` for a subprocess) as
well as wall seconds: the development machine is shared and loaded, so wall times swing two to three times
while CPU times move much less. Every ratio compares figures measured in the same run.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
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
        f"Target: at most {TARGETS['cli_s']:g} s and {TARGETS['cli_mb']} MB: CPU {format_seconds(cpu)} "
        f"({'met' if cpu <= TARGETS['cli_s'] else 'NOT met'}), wall {format_seconds(wall)} on the loaded machine, "
        f"peak {peak_mb:.0f} MB ({'met' if peak_mb <= TARGETS['cli_mb'] else 'NOT met'}). Start-up taken off, a bad "
        f"row costs {bad_row * 1e6:.2f} µs of CPU and a good one {good_row * 1e6:.2f} µs: {bad_row / good_row:.2f}x "
        "(a bad row's problems and cells go to the rejects file; a good row's 80 columns to the profiles).",
    ])


def dask_section(questionnaire, folder: Path) -> str:
    from distributed import Client, LocalCluster

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
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        address = cluster.scheduler_address

        def cluster_run():
            score_file_dask(questionnaire, norms, path, folder / "cluster.parquet", options, scheduler=address)

        cluster_run()  # untimed: the workers import profiler
        workers_before = sum(client.run(_own_cpu).values())
        cluster_cpu, cluster_wall = cpu_median(cluster_run, warmup=False)
        workers_cpu = (sum(client.run(_own_cpu).values()) - workers_before) / REPEATS
    same = (folder / "local.parquet").read_bytes() == (folder / "cluster.parquet").read_bytes() == \
        (folder / "threads.parquet").read_bytes()
    cluster_total = cluster_cpu + workers_cpu
    rows = [
        ["local engine (baseline)", format_seconds(local_wall), format_seconds(local_cpu), "1.00", "1.00"],
        ["Dask, threaded scheduler", format_seconds(threads_wall), format_seconds(threads_cpu),
         f"{threads_wall / local_wall:.2f}", f"{threads_cpu / local_cpu:.2f}"],
        ["Dask, LocalCluster of 2 worker processes", format_seconds(cluster_wall),
         f"{format_seconds(cluster_total)} ({format_seconds(cluster_cpu)} client and scheduler, "
         f"{format_seconds(workers_cpu)} workers)", f"{cluster_wall / local_wall:.2f}", f"{cluster_total / local_cpu:.2f}"],
    ]
    ratio = cluster_wall / local_wall
    return "\n".join([
        f"### Dask beside the local engine: {N_FILE:,} rows",
        "",
        f"Timed: `score_file` and `score_file_dask` on the same Parquet file ({N_FILE:,} x 50 int8 answers, row groups "
        "of 125,000) to Parquet profiles, the run manifest included; medians of "
        f"{REPEATS} runs (after one untimed run, in which the cluster's workers import profiler). CPU: this "
        "process's (the client, and the threads of the threaded scheduler or of the LocalCluster's scheduler) plus, "
        "for the cluster, the workers' (`getrusage` on each). The three outputs are byte for byte the same: "
        f"{same}.",
        "",
        markdown_table(["engine", "wall (median)", "CPU (median)", "wall / local", "CPU / local"], rows),
        "",
        f"Target: the LocalCluster at most {TARGETS['cluster_ratio']:g}x the local engine: {ratio:.2f}x in wall time "
        f"({'met' if ratio <= TARGETS['cluster_ratio'] else 'NOT met'}), {cluster_total / local_cpu:.2f}x in CPU "
        f"time ({'met' if cluster_total / local_cpu <= TARGETS['cluster_ratio'] else 'NOT met'}). The Dask engine "
        "reads the file once (a partition per row group; the client numbers the rows as it takes the partitions "
        "in order) and its workers ship each partition's scored rows (Arrow tables) to the client, which writes "
        "them while the next partitions are scored; the local engine reads, scores and writes on three threads "
        "of one process.",
    ])


def _own_cpu() -> float:
    """CPU seconds of the calling process (run on each Dask worker)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


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
        f"Target: at most {TARGETS['big_s']:g} s with the local engine: {format_seconds(local_wall)} wall "
        f"({'met' if local_wall <= TARGETS['big_s'] else 'NOT met'} on the shared machine), "
        f"{format_seconds(local_cpu)} CPU ({'met' if local_cpu <= TARGETS['big_s'] else 'NOT met'}).",
    ])


def run() -> str:
    questionnaire = load_questionnaire("ipip-bfm-50")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cli = cli_section(questionnaire, folder)  # first: nothing else is in memory yet
        dasked = dask_section(questionnaire, folder)
    big = big_section(questionnaire)
    load = os.getloadavg()[0]
    return "\n\n".join([
        "## Batch scoring at scale",
        f"Machine: {machine_facts()}; 1-minute load average at the end of this run: {load:.1f} (the machine is "
        "shared: compare CPU times and the ratios).",
        cli, dasked, big,
    ]) + "\n"


if __name__ == "__main__":
    print(run())
