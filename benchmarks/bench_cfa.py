"""Benchmark: 5-factor CFA of the BIG5 data (19,718 complete rows x 50 items), profiler vs semopy.

Timed per call, from a pandas DataFrame already in memory: the sample moments (one pass over the
data), ML estimation, standard errors and every fit index. semopy is timed in the same run doing the
same work (``Model.fit``, ``inspect`` for standard errors, ``calc_stats`` for fit indices); lavaan's
figure was measured elsewhere and is quoted, not timed here.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from benchmarks._timing import format_seconds, markdown_table, time_median

BIG5 = Path(__file__).resolve().parents[2] / "shared" / "data" / "big5" / "big5_openpsychometrics.tsv"
FACTORS = ("E", "N", "A", "C", "O")
ITEMS = [f"{f}{i}" for f in FACTORS for i in range(1, 11)]
MODEL = "\n".join(f"{f} =~ " + " + ".join(f"{f}{i}" for i in range(1, 11)) for f in FACTORS)
LAVAAN_SECONDS = 0.83  # lavaan 0.6-14, cfa(MODEL, data) + fitMeasures, measured elsewhere
SEMOPY_ELSEWHERE = 0.19


def load_big5() -> pd.DataFrame:
    """The 50 items, rows with no missed answer (0 = missed), read in place from ../shared."""
    raw = pd.read_csv(BIG5, sep="\t", usecols=ITEMS)
    return raw[(raw[ITEMS] != 0).all(axis=1)].reset_index(drop=True)


def run() -> str:
    from profiler.factors.cfa import CFA

    data = load_big5()
    n = len(data)

    def profiler_fit() -> CFA:
        return CFA(MODEL).fit(data)

    fit = profiler_fit()
    profiler = time_median("profiler", profiler_fit, repeats=15, warmup=2)
    rows = [[
        "profiler `CFA(model).fit(data)`",
        "moments, ML (Fisher scoring), SEs, all fit indices",
        format_seconds(profiler.median_s),
        "",
    ]]
    notes = [
        f"profiler: chi-square {fit.fit_indices_['chisq']:.1f} on {fit.fit_indices_['df']:.0f} df, "
        f"CFI {fit.fit_indices_['cfi']:.3f}, RMSEA {fit.fit_indices_['rmsea']:.4f}, "
        f"{fit.n_iter_} iterations, converged: {fit.converged_}."
    ]
    try:
        import semopy
    except Exception as exc:  # the baseline is optional: say so rather than fail
        rows.append(["semopy", f"not available in this environment ({type(exc).__name__})", "-", "-"])
    else:

        def semopy_fit():
            model = semopy.Model(MODEL)
            model.fit(data)
            model.inspect()  # estimates with standard errors
            return semopy.calc_stats(model)

        start = time.perf_counter()
        stats = semopy_fit()
        single = time.perf_counter() - start
        repeats = 5 if single < 2 else 3
        baseline = time_median("semopy", semopy_fit, repeats=repeats, warmup=0)
        rows[0][3] = f"{profiler.median_s / baseline.median_s:.2f}"
        rows.append([
            f"semopy {semopy.__version__} `Model.fit` + `inspect` + `calc_stats`",
            "ML (Wishart), SEs, fit indices",
            format_seconds(baseline.median_s),
            "1.00",
        ])
        notes.append(f"semopy: chi-square {float(stats['chi2'].iloc[0]):.1f} on {float(stats['DoF'].iloc[0]):.0f} df.")
    rows.append([
        "lavaan 0.6-14 `cfa()` (**measured elsewhere, not in this run**)",
        "ML, SEs, fit indices",
        format_seconds(LAVAAN_SECONDS),
        "",
    ])
    table = markdown_table(["implementation", "work per call", "median", "ratio to semopy"], rows)
    return f"""## Confirmatory factor analysis

Five-factor CFA (E, N, A, C, O; ten items each, first loading fixed to 1) of the BIG5 data read in place
from `../shared/data/big5/` ({n:,} complete rows x 50 items; rows with any 0 = missed answer dropped
before timing). Each call starts from the DataFrame in memory. profiler: {profiler.median_s * 1e3:.1f} ms
median of {len(profiler.runs_s)} runs (target <= 100 ms); semopy median of its runs in the same process.
For reference, semopy took {SEMOPY_ELSEWHERE} s and lavaan {LAVAAN_SECONDS} s when measured elsewhere.

{table}

{" ".join(notes)}
"""
