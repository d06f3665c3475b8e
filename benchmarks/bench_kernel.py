"""The scoring kernel on one machine: ``Questionnaire.score``, ``trait_profiles`` and ``JobModel.evaluate_many``
for every input type (numeric dtypes; pandas, numpy and Arrow-backed), against plain pandas and the bare
matmul floor timed in the same run (issue 17, "one machine").

Times are CPU seconds (``time.process_time``) beside wall seconds: the development machine is shared, so wall
times swing while CPU times move much less. BLAS is limited to one thread, so the floor is one core's.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from benchmarks._timing import cpu_median, format_seconds, machine_facts, markdown_table
from benchmarks.bench_scoring import synthetic_answers
from profiler.jobmodel import load_job_model
from profiler.norms import load_norms, trait_profiles
from profiler.questionnaire import load_questionnaire
from profiler.questionnaire.scoring import score_and_count

N_KERNEL = 1_000_000
N_EVALUATE = 200_000
TARGETS = {"kernel_vs_pandas": 0.25, "kernel_vs_floor": 5.0}
BLANKS = "float64 with 1% blanks (a CSV read by pandas: one block per column)"
ONE_BLOCK = "float64 with 1% blanks, one 2-D block (a DataFrame of a 2-D array; read_csv with engine='pyarrow')"


def _pandas_baseline(questionnaire, frame: pd.DataFrame) -> pd.DataFrame:
    """The plain pandas way: reverse keying by ``6 - x`` and the mean of each scale's items (no validation)."""
    keyed = frame.astype(float)
    reverse = [k[1:] for s in questionnaire.scale_ids for k in map(str, questionnaire.keys(s)) if k.startswith("-")]
    keyed[reverse] = 6 - keyed[reverse]
    return pd.DataFrame({s: keyed[[str(k).lstrip("-") for k in questionnaire.keys(s)]].mean(axis=1)
                         for s in questionnaire.scale_ids})


def kernel_inputs(questionnaire, n: int) -> tuple[dict[str, pd.DataFrame | np.ndarray], np.ndarray, np.ndarray]:
    """The same answers as every input type, the int8 answers without blanks, and the float64 ones with."""
    answers = synthetic_answers(questionnaire, n)
    rng = np.random.default_rng(5)
    with_blanks = answers.astype(float)
    with_blanks[rng.random(with_blanks.shape) < 0.01] = np.nan
    columns = questionnaire.item_ids
    # pd.read_csv (its default C engine) gives one block per column, not one 2-D block: build the same layout
    as_read = pd.concat([pd.Series(with_blanks[:, j], name=c) for j, c in enumerate(columns)], axis=1)
    inputs = {
        BLANKS: as_read,
        ONE_BLOCK: pd.DataFrame(with_blanks, columns=columns),
        "int8 (no blanks)": pd.DataFrame(answers, columns=columns),
        "float64, the same answers as int8 (no blanks)": pd.DataFrame(answers.astype(float), columns=columns),
        "nullable Int8 with 1% pd.NA": pd.DataFrame(with_blanks, columns=columns).astype("Int8"),
        "Arrow-backed int8[pyarrow] with 1% nulls": pd.DataFrame(with_blanks, columns=columns).astype("int8[pyarrow]"),
        "2-D numpy float64 with 1% NaN": with_blanks,
    }
    return inputs, answers, with_blanks


def run() -> str:
    questionnaire = load_questionnaire("ipip-bfm-50")
    inputs, answers, with_blanks = kernel_inputs(questionnaire, N_KERNEL)
    columns = questionnaire.item_ids
    norms = load_norms(questionnaire, "general")
    scoring = questionnaire.scoring_plan
    keys = scoring.positive - scoring.negative  # the keyed sum of every scale as one product
    ready = np.ascontiguousarray(np.nan_to_num(with_blanks)[:, scoring.columns])  # floats, no blanks, in key order
    rows = []
    with threadpool_limits(1):
        pandas_cpu, pandas_wall = cpu_median(lambda: _pandas_baseline(questionnaire, inputs[BLANKS]))
        floor_cpu, floor_wall = cpu_median(lambda: ready @ keys)
        rows.append(["plain pandas (baseline): reverse keying, scale means, no validation", "float64 with blanks",
                     format_seconds(pandas_cpu), format_seconds(pandas_wall), "1.00", f"{pandas_cpu / floor_cpu:.2f}"])
        rows.append(["matmul floor: `X @ keys`, X float64 without blanks, items in key order (not timed: "
                     "making it)", "float64", format_seconds(floor_cpu), format_seconds(floor_wall),
                     f"{floor_cpu / pandas_cpu:.2f}", "1.00"])
        scored = {}
        for label, table in inputs.items():
            cpu, wall = cpu_median(lambda t=table: score_and_count(questionnaire, t, invalid="allow-unanswered"))
            scored[label] = cpu
            rows.append(["profiler `Questionnaire.score` (validates every answer)", label, format_seconds(cpu),
                         format_seconds(wall), f"{cpu / pandas_cpu:.2f}", f"{cpu / floor_cpu:.2f}"])
        profiles = {}
        for label, table in inputs.items():
            frame = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table, columns=columns)
            cpu, wall = cpu_median(lambda t=frame: trait_profiles(questionnaire, t, norms, invalid="allow-unanswered"))
            profiles[label] = cpu
            rows.append(["profiler `trait_profiles` (validation, all 15 measures per scale)", label,
                         format_seconds(cpu), format_seconds(wall), f"{cpu / pandas_cpu:.2f}", f"{cpu / floor_cpu:.2f}"])
        scores, _ = score_and_count(questionnaire, answers[:N_EVALUATE])
        job_model = load_job_model("customer-support")
        traits = pd.DataFrame({i: scores[i.removeprefix("trait.")] for i in job_model.inputs if i.startswith("trait.")})
        evaluated = []
        for label, table in {"float64": traits, "float32": traits.astype("float32"), "nullable Float64":
                             traits.astype("Float64"), "Arrow-backed double[pyarrow]": traits.astype("double[pyarrow]")
                             }.items():
            cpu, wall = cpu_median(lambda t=table: job_model.evaluate_many(t, as_of="2026-03-01"))
            evaluated.append(cpu)
            rows.append([f"profiler `JobModel.evaluate_many` ({N_EVALUATE:,} candidates, `customer-support`)", label,
                         format_seconds(cpu), format_seconds(wall), "", ""])
    worst = max(scored.values())
    spread = {what: (max(v for k, v in times.items() if "no blanks" not in k) /
                     min(v for k, v in times.items() if "no blanks" not in k),
                     times["int8 (no blanks)"] / times["float64, the same answers as int8 (no blanks)"])
              for what, times in (("scores", scored), ("trait profiles", profiles))}
    target = TARGETS["kernel_vs_pandas"]
    short = [f"{label} ({cpu / pandas_cpu:.2f}x)" for label, cpu in scored.items() if cpu / pandas_cpu > target]
    verdict = (f"Slowest input for `Questionnaire.score`: {format_seconds(worst)} CPU, {worst / pandas_cpu:.2f}x the "
               f"pandas baseline (target <= {target}: {'met' if worst / pandas_cpu <= target else 'NOT met'}) and "
               f"{worst / floor_cpu:.2f}x the matmul floor (target <= {TARGETS['kernel_vs_floor']:g}: "
               f"{'met' if worst / floor_cpu <= TARGETS['kernel_vs_floor'] else 'NOT met'}). "
               + (f"Above {target}x pandas: {'; '.join(short)}. " if short else f"Every input within {target}x. ")
               + "Across input types (CPU, slowest / fastest of the four holding the same answers with blanks; "
               f"int8 / float64 for the same answers without blanks): scores {spread['scores'][0]:.2f} and "
               f"{spread['scores'][1]:.2f}, trait profiles {spread['trait profiles'][0]:.2f} and "
               f"{spread['trait profiles'][1]:.2f}, job-model evaluation {max(evaluated) / min(evaluated):.2f} "
               "(slowest / fastest of four).")
    how = ("How the kernel gets there (profiler/questionnaire/blocks.py): int8 answers on 1..K are their own codes, "
           "read in place; float answers are cast to uint8 and back once, and only the cells that differ (blanks, "
           "fractions, values out of range) are listed; nullable and Arrow columns give their values buffer and "
           "the rows their mask or validity bitmap leaves out. A chunk holds no invalid answer when its zero codes "
           "are its listed cells' and its largest code is at most K: only then is a chunk searched cell by cell. "
           "Each scale is one integer reduction of its gathered codes (reverse keying K + 1 - c), and what a "
           "blank cell added is taken off again from the list, which also gives the answered counts. Totals are "
           "exact integers, so every input type gives bit-identical scores (a property test compares them with "
           "the general float path). What remains for float input is the cast and the comparison of 8-byte "
           "answers (each reads the 400 MB once), and for row-major 2-D numpy input the transposition of its "
           "codes into columns; blanks cost the listing of their cells, and downstream their prorated SEM and "
           "bands.")
    load = os.getloadavg()
    return "\n".join([
        f"## The scoring kernel: {N_KERNEL:,} respondents x 50 items, every input type",
        "",
        f"Machine: {machine_facts()}; load average (1, 5, 15 minutes) at the end of this run: "
        f"{load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f} (the machine is shared: compare CPU times and the ratios).",
        "",
        "Timed: raw scale scores and answered counts of ipip-bfm-50 (`Questionnaire.score` / `score_and_count` with "
        "`invalid=\"allow-unanswered\"`: every answer validated, unanswered items allowed) and trait profiles against "
        "the `general` norms from a table in memory, the same answers as each input type; the job model evaluated "
        f"on the scale scores of the first {N_EVALUATE:,} as each input type; BLAS limited to one thread; CPU time "
        "of this process, medians of 3 runs (after one untimed run).",
        "",
        markdown_table(["what", "input", "CPU (median)", "wall (median)", "CPU / pandas", "CPU / matmul floor"], rows),
        "",
        verdict,
        "",
        how,
    ]) + "\n"


if __name__ == "__main__":
    print(run())
