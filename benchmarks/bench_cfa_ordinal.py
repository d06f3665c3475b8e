"""Benchmark: ordinal data on BIG5 -- polychoric matrix, WLSMV CFA -- against lavaan.

Timed per call from a pandas DataFrame in memory: the polychoric matrix of the 50 items; the five-factor
CFA by WLSMV (polychoric statistics, NACOV, DWLS, robust SEs, every fit index). lavaan is timed in the
same run through ``Rscript benchmarks/lavaan_timing.R`` when R and lavaan are installed (the fit only,
not R's start-up or reading the data). The data loader and the lavaan runner serve bench_cfa_fiml too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks._timing import format_seconds, markdown_table, time_median

BIG5 = Path(__file__).resolve().parents[2] / "shared" / "data" / "big5" / "big5_openpsychometrics.tsv"
R_SCRIPT = Path(__file__).with_name("lavaan_timing.R")
FACTORS = ("E", "N", "A", "C", "O")
ITEMS = [f"{f}{i}" for f in FACTORS for i in range(1, 11)]
MODEL = "\n".join(f"{f} =~ " + " + ".join(f"{f}{i}" for i in range(1, 11)) for f in FACTORS)
MISSING_RATE, SEED = 0.05, 20240


def load() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Complete BIG5 rows (0 = missed answer) and the same rows with 5% of the cells removed (MCAR, seeded)."""
    raw = pd.read_csv(BIG5, sep="\t", usecols=ITEMS)
    data = raw[(raw[ITEMS] != 0).all(axis=1)].reset_index(drop=True).astype(float)
    values = data.to_numpy(copy=True)
    values[np.random.default_rng(SEED).random(values.shape) < MISSING_RATE] = np.nan
    return data, pd.DataFrame(values, columns=ITEMS)


def lavaan_seconds(task: str, frame: pd.DataFrame, repeats: int, timeout: float) -> tuple[float | None, str]:
    """Median seconds of lavaan's fit, or None with the reason."""
    if shutil.which("Rscript") is None:
        return None, "R is not installed"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        frame.to_csv(path, index=False, na_rep="NA")
        try:
            out = subprocess.run(["Rscript", str(R_SCRIPT), task, str(path), str(repeats)], capture_output=True,
                                 text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return None, f"did not finish in {timeout:.0f} s"
    times = [float(line.split()[1]) for line in out.stdout.splitlines() if line.startswith("seconds")]
    if not times:
        return None, f"failed: {out.stderr.strip()[-200:]}"
    chisq = [line.split()[1] for line in out.stdout.splitlines() if line.startswith("chisq")]
    return float(np.median(times)), f"chi-square {float(chisq[0]):.1f}" if chisq else ""


def run() -> str:
    from profiler.factors import CFA, polychoric

    data, _ = load()
    n = len(data)
    rows, notes = [], []

    def poly():
        return polychoric(data)

    def wlsmv():
        return CFA(MODEL, ordered=True).fit(data)

    cases = [
        ("polychoric matrix (1,225 correlations, thresholds)", "polychoric", poly, data, 7, 5, 600.0),
        ("5-factor CFA, WLSMV (NACOV, DWLS, robust SEs, every index)", "wlsmv", wlsmv, data, 5, 1, 1800.0),
    ]
    for label, task, func, frame, repeats, r_repeats, timeout in cases:
        result = func()
        ours = time_median(task, func, repeats=repeats, warmup=1).median_s
        theirs, note = lavaan_seconds(task, frame, r_repeats, timeout)
        ratio = f"{ours / theirs:.3f}" if theirs else "-"
        rows.append([label, format_seconds(ours), format_seconds(theirs) if theirs else f"not timed ({note})", ratio])
        if task != "polychoric":
            fit = result.fit_indices_
            notes.append(f"{task}: profiler chi-square {fit['chisq']:.1f} on {fit['df']:.0f} df"
                         + (f", lavaan {note}" if theirs and note else "") + ".")
    table = markdown_table(["task (BIG5)", "profiler median", "lavaan 0.6-14 (same run)", "profiler / lavaan"], rows)
    cpu = []
    for func in (poly, wlsmv):  # CPU time of this process: what a call costs when it has a core to itself
        start = time.process_time()
        func()
        cpu.append(time.process_time() - start)
    notes.append("CPU time of one call: " + ", ".join(f"{name} {format_seconds(c)}" for name, c in
                                                      zip(("polychoric", "WLSMV"), cpu)) + ".")
    return f"""## Ordinal data (polychoric, WLSMV)

BIG5 read in place from `../shared/data/big5/` ({n:,} complete rows x 50 items; rows with any 0 = missed
answer dropped). profiler: median of 7 / 5 runs; lavaan: timed in the same run by
`Rscript benchmarks/lavaan_timing.R` (the fit only; {", ".join(str(c[5]) for c in cases)} run(s)). Targets:
polychoric < 0.5 s; WLSMV <= 0.2 x lavaan. FIML: see "Incomplete data (FIML)".

{table}

{" ".join(notes)} Load average {os.getloadavg()[0]:.1f} at the end of this run.
"""
