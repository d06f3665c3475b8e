"""Adaptive testing: choosing the next item on the synthetic 60-item, 6-facet bank (target: at most 5 ms).

Timed, for one respondent in the middle of a test (10 items answered; the same answers in every run):
``CATEngine.step`` (EAP theta and SE over 121 nodes from the bank's cached log-probability table, the
criterion of every item, content balancing, exposure control, the step's record) with maximum Fisher
information and with posterior-weighted KL, both with randomesque exposure control and each-facet content
balancing. Baseline, timed in the same run: the same choice computed the plain way, from the answers with
``profiler.irt``'s public functions (``theta_eap`` on the whole pattern, then ``ItemBank.information`` at that
theta and the best item not given), which recomputes the item curves at every step. Also the lockstep cost
per respondent of ``CATEngine.choose`` for 5,000 respondents at once (what ``simulate`` runs).
"""

from __future__ import annotations

import numpy as np

from benchmarks._timing import format_seconds, markdown_table, time_median
from profiler.cat import CATEngine, CATRules, synthetic_bank
from profiler.irt.scoring import theta_eap

TARGET_S = 0.005
GIVEN = 10
REPEATS = 200


def _answers(engine: CATEngine) -> list[tuple[str, int]]:
    """The first GIVEN steps of a respondent at theta 0.5 with seeded answers."""
    rng = np.random.default_rng(3)
    answers: list[tuple[str, int]] = []
    for _ in range(GIVEN):
        item = engine.step(answers, seed=5)["item"]
        p = engine.bank.probabilities(0.5)[0, engine.bank.items.index(item)]
        answers.append((item, int(rng.choice(len(p), p=p / p.sum()))))
    return answers


def _plain(engine: CATEngine, answers: list[tuple[str, int]]):
    bank = engine.bank
    position = {item: j for j, item in enumerate(bank.items)}
    codes = np.full((1, bank.n_items), -1)
    for item, code in answers:
        codes[0, position[item]] = code

    def choose() -> str:
        theta, _ = theta_eap(bank, codes)
        information = bank.information(theta)[0]
        information[codes[0] >= 0] = -np.inf
        return bank.items[int(np.argmax(information))]

    return choose


def run() -> str:
    bank, facets = synthetic_bank()
    rows = []
    steps = {}
    for selection in ("fisher", "kl"):
        rules = CATRules(selection=selection, exposure="randomesque", candidates=5, each_facet=1, se=0.3)
        engine = CATEngine("S", bank, rules, facets)
        answers = _answers(engine)
        ours = time_median(selection, lambda e=engine, a=answers: e.step(a, seed=5), repeats=REPEATS, warmup=5)
        plain = time_median("plain", _plain(engine, answers), repeats=REPEATS, warmup=5)
        steps[selection] = ours.median_s
        name = {"fisher": "maximum Fisher information", "kl": "posterior-weighted KL"}[selection]
        rows.append([name, format_seconds(plain.median_s), format_seconds(ours.median_s),
                     f"{ours.median_s / plain.median_s:.2f}"])
    engine = CATEngine("S", bank, CATRules(exposure="randomesque", candidates=5, each_facet=1, se=0.3), facets)
    n = 5000
    rng = np.random.default_rng(1)
    administered = np.zeros((n, bank.n_items), dtype=bool)
    for row in range(n):
        administered[row, rng.choice(bank.n_items, GIVEN, replace=False)] = True
    codes = np.where(administered, rng.integers(0, 5, administered.shape), -1)
    log_post = engine.log_posterior(codes)
    seeds = rng.integers(0, 2**62, n)
    many = time_median("lockstep", lambda: engine.choose(log_post, administered, seeds), repeats=5)
    verdict = "meets" if max(steps.values()) <= TARGET_S else "misses"
    return "\n".join([
        "## Adaptive testing",
        "",
        "Timed: choosing the next item for one respondent with 10 of the 60 items of the synthetic bank "
        "(`profiler.cat.synthetic_bank`: 6 facets, GRM, 5 categories) answered: `CATEngine.step` with "
        "randomesque exposure control (5 candidates) and each-facet content balancing, which estimates EAP "
        "theta and SE over 121 nodes from the bank's cached log-probability table, evaluates the criterion "
        "of every item and records the step. Baseline, timed in the same run: the same choice the plain way "
        "with `profiler.irt`'s public functions (`theta_eap` on the whole pattern, then "
        "`ItemBank.information` at that theta, the best item not given), which recomputes the item curves at "
        f"each step. Medians of {REPEATS} single calls.",
        "",
        markdown_table(["criterion", "plain EAP + information (baseline)", "`CATEngine.step`", "ratio"], rows),
        "",
        f"Choosing the next item {verdict} the target of {format_seconds(TARGET_S)}. In lockstep, "
        f"`CATEngine.choose` for {n:,} respondents at once takes {format_seconds(many.median_s)} "
        f"({format_seconds(many.median_s / n)} a respondent; median of 5 runs): what `simulate` and "
        "`profiler cat simulate` run at every step.",
    ])
