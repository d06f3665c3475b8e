"""Benchmark: full-information ML (FIML) CFA on BIG5 with 5% of the cells missing, against lavaan.

Timed per call from a pandas DataFrame in memory: the five-factor CFA with ``missing="fiml"`` by ML and
by MLR (EM for the saturated model, the FIML estimates, observed-information or Huber-White standard
errors, every fit index including the FIML-corrected robust ones). Baselines timed in the same run: the
same model by ML on the complete data before the cells were removed (what the missing cells cost), and
lavaan's ``cfa(..., missing = "ml")`` through ``Rscript benchmarks/lavaan_timing.R`` when R is installed
(the fit only, not R's start-up or reading the data).
"""

from __future__ import annotations

import os
import time

from benchmarks._timing import format_seconds, markdown_table, time_median
from benchmarks.bench_cfa_ordinal import MISSING_RATE, MODEL, SEED, lavaan_seconds, load

LAVAAN_TIMEOUT = 300.0  # a separate run of this lavaan fit had not finished after 23 min (7 min of CPU)


def run() -> str:
    from profiler.factors import CFA

    data, holes = load()
    n = len(data)

    def complete():
        return CFA(MODEL).fit(data)

    def fiml():
        return CFA(MODEL, missing="fiml").fit(holes)

    def fiml_mlr():
        return CFA(MODEL, missing="fiml", estimator="MLR").fit(holes)

    base = time_median("complete", complete, repeats=7, warmup=1).median_s
    rows, medians = [], []
    for call, label, func, repeats in (
            ('missing="fiml"', "ML, SEs from the observed information", fiml, 7),
            ('missing="fiml", estimator="MLR"', "Huber-White SEs, scaled and robust indices", fiml_mlr, 5)):
        median = time_median(label, func, repeats=repeats, warmup=1).median_s
        start = time.process_time()
        result = func()
        cpu = time.process_time() - start
        medians.append((median, result))
        rows.append([f"profiler `CFA(model, {call})`: {label}", format_seconds(median), format_seconds(cpu),
                     f"{median / base:.1f}"])
    rows.append(["profiler `CFA(model)` on the complete data (baseline)", format_seconds(base), "", "1.0"])
    theirs, note = lavaan_seconds("fiml", holes, 1, LAVAAN_TIMEOUT)
    rows.append(['lavaan 0.6-14 `cfa(model, missing = "ml")` + `fitMeasures()` (same run, 1 run)',
                 format_seconds(theirs) if theirs else f"not timed ({note})", "",
                 f"{theirs / base:.0f}" if theirs else "-"])
    median_ml, ours_ml = medians[0]
    versus = f" profiler FIML (ML) / lavaan = {median_ml / theirs:.4f}." if theirs else ""
    table = markdown_table(["what (BIG5, 5-factor CFA)", "median", "CPU of one call", "ratio to complete-data ML"],
                           rows)
    fit = ours_ml.fit_indices_
    return f"""## Incomplete data (FIML)

BIG5 read in place from `../shared/data/big5/` ({n:,} complete rows x 50 items; rows with any 0 = missed
answer dropped), then {MISSING_RATE:.0%} of the cells removed completely at random (numpy seed {SEED}):
{int(holes.isna().to_numpy().sum()):,} missing cells, {int(holes.isna().any(axis=1).sum()):,} incomplete rows.
Each call starts from the DataFrame in memory and includes EM for the saturated model, the FIML
estimates, standard errors and every fit index (with the FIML-corrected robust CFI/TLI/RMSEA).
profiler limits OpenBLAS to one thread during a fit. Target: under 1 s.

{table}

profiler FIML (ML): chi-square {fit['chisq']:.1f} on {fit['df']:.0f} df, {ours_ml.n_iter_} iterations
(lavaan: {note or 'not run'}).{versus} Wall times are higher than CPU times when other processes share the
machine's cores (load average {os.getloadavg()[0]:.1f} at the end of this run). History: before rows were
grouped by pattern and the observed information computed exactly (up to commit 6b66d5d), the ML fit took
28.98 s median, 8.80 s CPU, in this benchmark (load average 12.5).
"""
