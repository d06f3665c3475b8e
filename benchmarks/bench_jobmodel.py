"""Job models and explanations: 100,000 candidates from raw answers to recommendations, beside the usual libraries.

profiler's path takes the raw answers to the 50 IPIP items (int8, as they sit in a file) and the skill
evidence, scores the scales (``Questionnaire.score``: validation, reverse keying, scale means) and runs
``JobModel.evaluate_many`` on the customer-support model: bands with knock-outs and missing-input
routing, scores, one SHAP contribution per criterion, analytic decision stability, coverage ranges and
counterfactuals (both directions, in input units and SEMs).

The baseline is what a user would assemble from the usual libraries in the same run: pandas reverse
keying and scale means, the utilities by hand, a scikit-learn ``LinearRegression`` fitted to reproduce the
weighted sum, and ``shap.LinearExplainer(...)(X)`` returning a ``shap.Explanation`` (the object shap's
plots take). It does less than profiler: no validation, no bands, stability or counterfactuals. The bare
baseline is the same pipeline with shap's bare ``.shap_values(X)`` (an array of contributions, no
``Explanation``): the least a user can do to get the contributions from these libraries.

One candidate end to end: a 1-row DataFrame of answers plus evidence records through ``Questionnaire.score``
and ``JobModel.evaluate`` (exact SHAP contributions in closed form, equal to shap's LinearExplainer's; 5,000
simulated re-measurements, counterfactuals, coverage, the recommendation's words).
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import statistics
import time

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from benchmarks._timing import format_seconds, markdown_table

N = 100_000
SEED = 7
AS_OF = dt.date(2026, 6, 1)
MODEL = "customer-support"
TARGET_RATIO = 20.0  # at least this many times faster than the baseline
TARGET_BARE = 2.0  # at most this many times the bare baseline's time
TARGET_ONE_S = 0.002
ROUNDS = 5  # timed rounds: one baseline run, then the bare baseline and profiler alternating REPEATS times
REPEATS = 3


def synthetic_answers(questionnaire, n: int, seed: int = SEED) -> pd.DataFrame:
    """Likert answers 1-5 with a five-factor structure (loading .7), one int8 column per item."""
    rng = np.random.default_rng(seed)
    matrix = questionnaire.scoring_matrix.loc[questionnaire.item_ids].to_numpy()
    home = np.argmax(np.abs(matrix), axis=1)
    sign = matrix[np.arange(len(home)), home].astype(float)
    latent = 0.7 * rng.standard_normal((n, matrix.shape[1]))[:, home] * sign
    latent += np.sqrt(1 - 0.49) * rng.standard_normal(latent.shape)
    answers = (1 + np.searchsorted(np.array([-1.2, -0.4, 0.3, 1.0]), latent.ravel())).reshape(latent.shape)
    return pd.DataFrame(answers.astype(np.int8), columns=questionnaire.item_ids)


def synthetic_evidence(n: int, seed: int = SEED + 1) -> pd.DataFrame:
    """Work sample 0-100, mean of two interview ratings, years of experience (about 3% missing each)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "evidence.email_work_sample": np.clip(np.round(rng.normal(60, 15, n)), 0, 100),
        "evidence.interview_customer_focus": rng.integers(2, 11, n) / 2,
        "evidence.support_experience": np.clip(np.round(rng.gamma(1.0, 2.5, n), 1), 0, 40),
    })  # fmt: skip
    for column in frame.columns:
        frame.loc[rng.random(n) < 0.03, column] = np.nan
    return frame


def profiler_pipeline(model, answers: pd.DataFrame, evidence: pd.DataFrame) -> pd.DataFrame:
    scales = [ref.removeprefix("trait.") for ref in model.inputs if ref.startswith("trait.")]
    scores = model.questionnaire.score(answers)[scales].add_prefix("trait.")
    return model.evaluate_many(pd.concat([scores, evidence], axis=1), as_of=AS_OF)


def baseline_pipeline(model, answers: pd.DataFrame, evidence: pd.DataFrame, *, bare: bool = False):
    """pandas scale means, utilities by hand, LinearRegression of the weighted sum, shap Explanation (``bare``:
    shap's ``.shap_values`` array instead)."""
    from sklearn.linear_model import LinearRegression

    from profiler.jobmodel.explanation import import_shap

    shap = import_shap()

    q = model.questionnaire
    frame = answers.astype(float)
    raw = {}
    for ref in model.inputs:
        if ref.startswith("trait."):
            keys = [str(k) for k in q.keys(ref.removeprefix("trait."))]
            items = [k.lstrip("-") for k in keys]
            reverse = [k[1:] for k in keys if k.startswith("-")]
            keyed = frame[items].copy()
            keyed[reverse] = 6 - keyed[reverse]
            raw[ref] = keyed.mean(axis=1)
    cm = model._compiled
    inputs = pd.concat([pd.DataFrame(raw), evidence], axis=1).fillna(
        {info.ref: info.mean for info in cm.inputs})  # unknown evidence at its norm mean
    utilities = pd.DataFrame({
        criterion.id: _utility(criterion.transform, inputs[criterion.input]) for criterion in model.criteria
    })  # fmt: skip
    weights = np.array([c.weight for c in model.criteria])
    score = 100 * utilities.to_numpy() @ weights / weights.sum()
    regression = LinearRegression().fit(utilities, score)
    background = pd.DataFrame([cm.reference_utility], columns=utilities.columns)
    explainer = shap.LinearExplainer(regression, shap.maskers.Independent(background, max_samples=1))
    return score, (explainer.shap_values(utilities) if bare else explainer(utilities))


def _utility(transform, x: pd.Series) -> np.ndarray:
    x = x.to_numpy(dtype=float)
    if transform.kind == "linear":
        return np.clip((x - transform.at_zero) / (transform.at_one - transform.at_zero), 0, 1)
    if transform.kind == "target_range":
        distance = np.maximum(np.maximum(transform.low - x, x - transform.high), 0)
        return np.clip(1 - distance / transform.tolerance, 0, 1)
    if transform.kind == "saturating":
        return 1 - 2.0 ** (-np.maximum(x - transform.start, 0) / transform.half_at)
    return x


def one_candidate(model, answers_row: pd.DataFrame, evidence: dict):
    scores = model.questionnaire.score(answers_row)
    raw = dict(zip(scores.columns, scores.to_numpy()[0].tolist(), strict=True))
    used = [ref.removeprefix("trait.") for ref in model.inputs if ref.startswith("trait.")]
    return model.evaluate({scale: raw[scale] for scale in used}, evidence, as_of=AS_OF)


def run() -> str:
    from profiler.jobmodel import load_job_model
    from profiler.jobmodel.explanation import import_shap

    import sklearn

    shap = import_shap()  # imported before timing: its import (numba) takes seconds once per process

    model = load_job_model(MODEL)
    answers = synthetic_answers(model.questionnaire, N)
    evidence = synthetic_evidence(N)

    # One candidate end to end, timed first (before the 100,000-row objects exist), with the scoring of the
    # answers alone timed in alternation with it.
    row = answers.iloc[[0]]
    record = {
        "email_work_sample": {"score": 72, "source": "work-sample platform", "date": "2026-05-01"},
        "interview_customer_focus": {"ratings": {"r1": 4, "r2": 3}, "source": "panel", "date": "2026-05-03"},
        "support_experience": {"years": 2, "source": "CV", "date": "2026-04-01"},
    }
    rec = one_candidate(model, row, record)
    scores = model.questionnaire.score(row)
    traits = {ref.removeprefix("trait."): float(scores[ref.removeprefix("trait.")].iloc[0])
              for ref in model.inputs if ref.startswith("trait.")}
    runs, score_runs, evaluate_runs = [], [], []
    with threadpool_limits(1):  # every timed side with the same single-threaded BLAS and OpenMP (see run's text)
        for _ in range(20):
            one_candidate(model, row, record)
        for _ in range(300):
            runs.append(_timed(lambda: one_candidate(model, row, record)))
            score_runs.append(_timed(lambda: model.questionnaire.score(row)))
            evaluate_runs.append(_timed(lambda: model.evaluate(traits, record, as_of=AS_OF)))
    one, score_only, evaluate_only = _medians(runs), _medians(score_runs), _medians(evaluate_runs)

    out = profiler_pipeline(model, answers, evidence)
    score, explanation = baseline_pipeline(model, answers, evidence)
    bare_gap = float(np.abs(baseline_pipeline(model, answers, evidence, bare=True)[1] - explanation.values).max())
    contributions = out[[f"contribution.{c.id}" for c in model.criteria]].to_numpy()
    additivity = float(np.abs(out.attrs["base_value"] + contributions.sum(axis=1) - out["score"].to_numpy()).max())
    shap_gap = float(np.abs(explanation.values - contributions).max())
    score_gap = float(np.abs(score - out["score"].to_numpy()).max())
    base_gap = abs(float(np.asarray(explanation.base_values).ravel()[0]) - out.attrs["base_value"])

    # Interleaved (one baseline run, then REPEATS of the bare baseline and of profiler, alternating, ROUNDS
    # times) so that all see the same load on a shared machine; medians over all runs. Garbage is collected
    # before each run: shap's Explanation leaves enough objects that the next run, whichever it is, would
    # otherwise pay a full collection (about 40 ms of profiler's runs in the section of 2026-12-05). BLAS and
    # OpenMP run one thread on every side: with two, shap's matrix products spin a second thread whose CPU time
    # swung the bare baseline between 51 and 102 ms from one run to the next.
    ours_runs, baseline_runs, bare_runs = [], [], []
    with threadpool_limits(1):
        profiler_pipeline(model, answers, evidence)  # warm-up
        baseline_pipeline(model, answers, evidence, bare=True)
        for _ in range(ROUNDS):
            baseline_runs.append(_timed(lambda: baseline_pipeline(model, answers, evidence), collect=True))
            for _ in range(REPEATS):
                bare_runs.append(_timed(lambda: baseline_pipeline(model, answers, evidence, bare=True),
                                        collect=True))
                ours_runs.append(_timed(lambda: profiler_pipeline(model, answers, evidence), collect=True))
    ours, baseline, bare = _medians(ours_runs), _medians(baseline_runs), _medians(bare_runs)
    load = os.getloadavg()  # the machine's load while the pipelines ran, read right after them
    ratio, bare_ratio = baseline[1] / ours[1], ours[1] / bare[1]  # on CPU time (see the section's text)
    wall_ratio, wall_bare_ratio = baseline[0] / ours[0], ours[0] / bare[0]

    # Stability, analytic against simulated: on a sample of candidates, and on those of them whose score is
    # locally linear (every measured input at least 1.5 SEM inside its anchors and its range, no minimum near).
    cm = model._compiled
    sample = out.sample(600, random_state=SEED)
    gaps, linear_gaps = [], []
    for label in sample.index:
        if out.loc[label, "n_missing"]:
            continue
        traits = model.questionnaire.score(answers.loc[[label]]).iloc[0]
        x = np.array([traits[info.key] if info.is_trait else evidence.loc[label, info.ref] for info in cm.inputs])
        rec_i = model.evaluate({info.key: float(traits[info.key]) for info in cm.inputs if info.is_trait},
                               evidence_records(evidence.loc[label]), as_of=AS_OF, draws=20_000)
        if rec_i.band == "review":  # no stability figure: a person decides
            continue
        gap = abs(rec_i.stability.p_flip_analytic - rec_i.stability.p_flip_simulated)
        gaps.append(gap)
        if _locally_linear(cm, x):
            linear_gaps.append(gap)

    rows = [
        ["baseline: pandas scale means + utilities + sklearn `LinearRegression` + "
         "`shap.LinearExplainer(...)(X)` (Explanation)", "scores, SHAP values", format_seconds(baseline[1]),
         format_seconds(baseline[0]), "1.0", "1.0"],
        ["bare baseline: the same with shap's bare `.shap_values(X)` (an array)", "scores, SHAP values",
         format_seconds(bare[1]), format_seconds(bare[0]), f"{baseline[1] / bare[1]:.1f}x faster",
         f"{baseline[0] / bare[0]:.1f}x faster"],
        ["profiler: `Questionnaire.score` + `JobModel.evaluate_many`",
         "validation, scores, bands and routing, SHAP values, stability, coverage, counterfactuals (single and "
         "joint)", format_seconds(ours[1]), format_seconds(ours[0]), f"{ratio:.1f}x faster",
         f"{wall_ratio:.1f}x faster"],
    ]  # fmt: skip
    bands = out["band"].value_counts(normalize=True)
    one_verdict = (f"met, {format_seconds(TARGET_ONE_S - one[1])} to spare" if one[1] <= TARGET_ONE_S
                   else "missed")
    return "\n".join([
        "## Job models and explanations",
        "",
        f"Timed: {N:,} synthetic candidates (raw int8 answers to the 50 ipip-bfm-50 items with a five-factor "
        f"structure, seed {SEED}; work sample, mean of two interview ratings and years of experience, about 3% "
        f"missing each) through the shipped `{MODEL}` job model, from the data in memory to recommendations. "
        "The baseline assembles the same scores and SHAP values from the usual libraries in the same run. "
        f"Runs interleaved (one baseline run, then the bare baseline and profiler alternating {REPEATS} times, "
        f"all {ROUNDS} times), each after a garbage collection outside its timing (without it, a run pays for the "
        "objects the previous pipeline left: shap's Explanation leaves enough that a full collection added "
        f"about 40 ms to profiler's runs); medians of the {len(baseline_runs)}, {len(bare_runs)} and "
        f"{len(ours_runs)} runs (shap {shap.__version__}, scikit-learn {sklearn.__version__}). Every timed side, "
        "the one candidate's too, runs with BLAS and OpenMP limited to one thread (threadpoolctl's "
        "`threadpool_limits(1)`, as the scoring kernel's benchmark): with two threads shap's matrix products "
        "spin a second thread whose CPU time swung the bare baseline between 51 and 102 ms from one run to the "
        "next, and profiler's figures would have been read against a moving target. The machine's two cores "
        "are shared with other work (1-minute load average "
        f"{load[0]:.1f} right after the timed runs, 5-minute {load[1]:.1f}), so each run's CPU time "
        "(`time.process_time`) is recorded beside its wall time. The targets are read on CPU time, which "
        "waiting for a busy core does not inflate; wall time is what a user waits on a quiet machine, and both "
        "pipelines are mostly single-threaded, so on a quiet machine the two readings agree and on a loaded "
        "one wall time measures the load as much as the code.",
        "",
        markdown_table(["pipeline", "out", "median CPU time", "median wall time", "speed (CPU)", "speed (wall)"],
                       rows),
        "",
        f"Targets: >= {TARGET_RATIO:g}x faster than the baseline: measured {ratio:.1f}x on CPU time "
        f"({_met(ratio >= TARGET_RATIO)}), {wall_ratio:.1f}x on wall time ({_met(wall_ratio >= TARGET_RATIO)}); "
        f"at most {TARGET_BARE:g}x the time of the bare baseline, which computes only the contributions: "
        f"measured {bare_ratio:.2f}x on CPU time ({_met(bare_ratio <= TARGET_BARE)}), {wall_bare_ratio:.2f}x on "
        f"wall time ({_met(wall_bare_ratio <= TARGET_BARE)}). Repeated runs on this shared machine vary by "
        "5-10%: a figure within that of its target is met in some runs and missed in others. Where profiler's "
        "time goes (each step timed apart from this run on the same 100,000 candidates, 2026-12-05, one BLAS "
        "thread): about 40 ms in the single-input counterfactual search (12 ms of it the binary searches on the "
        "inputs' grids, the rest choosing the rows to search, their targets and writing the changes), 8-9 ms in "
        "the joint counterfactuals of the about 20,000 candidates no single input moves, 8 ms in decision "
        "stability, 6 ms writing the 63 float columns (most of it the first touch of the output's 50 MB), "
        "about 10 ms reading and checking the inputs, utilities, bands and routing, and 3-4 ms "
        "`Questionnaire.score` of the int8 answers. CPU time includes the kernel's: zeroing the output's fresh "
        "pages, and in some processes (it depends on the allocator's state, not on the code path) re-faulting "
        "heap memory released between runs, which adds up to about 8 ms to profiler's figure.",
        "",
        f"One candidate end to end (a 1-row DataFrame of answers and three evidence records through "
        f"`Questionnaire.score` and `JobModel.evaluate`: exact SHAP contributions in closed form, "
        f"{rec.stability.draws:,} simulated re-measurements, counterfactuals, coverage): median CPU time "
        f"{format_seconds(one[1])} of 300 runs (wall {format_seconds(one[0])}); timed in alternation with it, "
        f"`Questionnaire.score` of the one row alone takes {format_seconds(score_only[1])} and `JobModel.evaluate` "
        f"alone {format_seconds(evaluate_only[1])}; target <= {format_seconds(TARGET_ONE_S)} ({one_verdict}).",
        "",
        "Checks in the same run: "
        f"max |base + sum of contributions - score| = {additivity:.1e} over the {N:,} candidates; "
        f"profiler's contributions against the baseline's shap values: max difference {shap_gap:.1e} "
        f"(scores {score_gap:.1e}, base value {base_gap:.1e}; the bare baseline's array against the "
        f"Explanation's values {bare_gap:.1e}). Decision stability, analytic (delta method, knock-outs allowed "
        f"for) against simulated (20,000 draws, bands and knock-outs), P(another recommendation), for the "
        f"{len(gaps)} of 600 sampled candidates without missing inputs and not in review: mean |difference| "
        f"{np.mean(gaps):.4f}, max {np.max(gaps):.4f}; for the {len(linear_gaps)} of "
        f"them whose score is locally linear (every input at least 1.5 SEM from a kink of its utility and from "
        f"the ends of its range): mean {_mean(linear_gaps)}, max {_max(linear_gaps)}. Kinks and clipping "
        "(ratings at 5, scales at their anchors) are where the two differ; the recommendation shows the "
        "simulated figure beside the analytic one its label reads. "
        f"Bands: advance {bands.get('advance', 0):.1%}, review {bands.get('review', 0):.1%}, "
        f"not advance {bands.get('not_advance', 0):.1%}.",
    ])  # fmt: skip


def _met(ok: bool) -> str:
    return "met" if ok else "missed"


def _timed(func, collect: bool = False) -> tuple[float, float]:
    """Wall time and CPU time of one call, in seconds; with ``collect``, Python's garbage collected first
    (untimed), so that the call does not pay for a collection of what the previous one left behind."""
    if collect:
        gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    func()
    return time.perf_counter() - wall, time.process_time() - cpu


def _medians(runs: list[tuple[float, float]]) -> tuple[float, float]:
    """Median wall time and median CPU time of runs from :func:`_timed`."""
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def _locally_linear(cm, x: np.ndarray) -> bool:
    """Every input at least 1.5 SEM from its range's ends and from every kink of its criteria's utilities."""
    for j, info in enumerate(cm.inputs):
        if info.sem == 0:
            continue
        points = [info.low, info.high] + [float(b) for c in np.flatnonzero(cm.input_of == j)
                                          for b in cm.utilities[c].breakpoints]
        if min(abs(x[j] - b) for b in points) < 1.5 * info.sem:
            return False
        for c in np.flatnonzero((cm.input_of == j) & ~np.isnan(cm.minimum)):
            if abs(x[j] - cm.minimum[c]) < 1.5 * info.sem:
                return False
    return True


def _mean(values: list) -> str:
    return f"{np.mean(values):.4f}" if values else "-"


def _max(values: list) -> str:
    return f"{np.max(values):.4f}" if values else "-"


def evidence_records(row: pd.Series) -> dict:
    """Evidence records equivalent to one row of the evidence frame (two raters giving the mean)."""
    out = {}
    if not np.isnan(row["evidence.email_work_sample"]):
        out["email_work_sample"] = {"score": float(row["evidence.email_work_sample"]), "source": "s",
                                    "date": "2026-05-01"}
    mean = row["evidence.interview_customer_focus"]
    if not np.isnan(mean):
        low = int(np.floor(mean))
        out["interview_customer_focus"] = {"ratings": {"a": low, "b": int(round(2 * mean)) - low}, "source": "s",
                                           "date": "2026-05-01"}
    if not np.isnan(row["evidence.support_experience"]):
        out["support_experience"] = {"years": float(row["evidence.support_experience"]), "source": "s",
                                     "date": "2026-05-01"}
    return out


if __name__ == "__main__":
    print(run())
