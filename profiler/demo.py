"""``make demo``: the whole pipeline, as far as it exists, on bundled defaults and simulated candidates.

Every stage uses the public API on the bundled questionnaire, norms and job models; the candidates are
simulated (no real person's data). Output goes to the terminal and to ``demo-output/`` (the store and
reports), which is recreated on each run.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from profiler.administration import Session
from profiler.administration.validity import assess_validity
from profiler.norms import load_norms, trait_profiles
from profiler.questionnaire import Questionnaire, bundled_questionnaires, load_questionnaire
from profiler.questionnaire.checks import questionnaire_warnings
from profiler.simulation import simulate_responses
from profiler.store import Store
from profiler.yamlsource import read_yaml_file

OUTPUT = Path("demo-output")


def _heading(text: str) -> None:
    print(f"\n== {text} " + "=" * max(0, 100 - len(text)))


@dataclass
class SimulatedCandidate:
    """A simulated person: their intended answers, how long they take per item, and how they answer."""

    candidate: str
    answers: pd.Series
    seconds_per_item: np.ndarray
    style: str


class _Clock:
    """A simulated clock for sessions: each answer takes the candidate's time, without waiting for real."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def simulated_candidates(questionnaire: Questionnaire, n: int, seed: int) -> list[SimulatedCandidate]:
    """``n`` candidates with realistic answers; the last two answer carelessly (a straight-liner, a speeder)."""
    rng = np.random.default_rng(seed)
    answers = simulate_responses(questionnaire, n, seed=seed)
    candidates = []
    for i in range(n):
        row = answers.iloc[i].copy()
        seconds = rng.lognormal(np.log(4.5), 0.35, size=len(questionnaire.item_ids))
        style = "attentive"
        if i == n - 2:
            row[:] = 3.0
            style = "straight-lining"
        elif i == n - 1:
            seconds = rng.uniform(0.4, 1.0, size=len(questionnaire.item_ids))
            row[:] = rng.integers(1, 6, size=len(row)).astype(float)
            style = "speeding, random answers"
        candidates.append(SimulatedCandidate(f"cand-{i + 1:03d}", row, seconds, style))
    return candidates


def administer(store: Store, questionnaire: Questionnaire, person: SimulatedCandidate) -> Session:
    """Take the questionnaire through a real, stored session, answer by answer."""
    clock = _Clock()
    session = Session.start(store, questionnaire, respondent=person.candidate, clock=clock)
    position = {item: j for j, item in enumerate(questionnaire.item_ids)}
    while (prompt := session.current()) is not None:
        clock.now += float(person.seconds_per_item[position[prompt.item_id]])
        session.answer(float(person.answers[prompt.item_id]))
    session.finish()
    return session


def run_demo(n_respondents: int = 8, seed: int = 2024) -> int:
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 60)
    n_respondents = max(n_respondents, 3)
    if OUTPUT.exists():
        shutil.rmtree(OUTPUT)
    OUTPUT.mkdir(parents=True)

    _heading("1. Bundled questionnaires")
    for qid, path in bundled_questionnaires().items():
        q = load_questionnaire(qid)
        warnings = questionnaire_warnings(q, read_yaml_file(path))
        print(f"{qid}: ok — version {q.version}, {len(q.items)} items, scales {', '.join(q.scale_ids)}; "
              f"languages {', '.join(q.languages)}; content hash {q.content_hash}")
        for warning in warnings:
            print(f"  {warning}")

    questionnaire = load_questionnaire("ipip-bfm-50")
    store = Store(OUTPUT / "profiler.sqlite")
    people = simulated_candidates(questionnaire, n_respondents, seed)
    _heading(f"2. Administering {questionnaire.id} to {len(people)} simulated candidates in stored sessions")
    sessions = [administer(store, questionnaire, person) for person in people]
    responses = pd.concat([s.responses() for s in sessions])
    timings = pd.concat([s.timings() for s in sessions])
    responses.index = timings.index = pd.Index([p.candidate for p in people], name="candidate")
    print(f"store: {store.name}; sessions {', '.join(s.id[:8] for s in sessions)} (finished, every answer committed)")
    order = questionnaire.item_order()
    shown = responses[order[:15]].astype(int)
    shown["..."] = "..."
    print(shown.to_string())

    _heading("3. Response validity (shown before any profile)")
    validity = assess_validity(questionnaire, responses, timings=timings)
    table = pd.DataFrame({
        "style (simulated)": [p.style for p in people],
        "verdict": validity["verdict"],
        "reasons": validity["reasons"].map(lambda r: "; ".join(r) if len(r) else "—"),
    }, index=responses.index)
    print(table.to_string(max_colwidth=110))

    norms = load_norms(questionnaire, "general")
    _heading(f"4. Trait profiles against norm group '{norms.name}' (n = {norms.sample.n:,})")
    profiles = trait_profiles(questionnaire, responses, norms, factor_model="bundled")
    short = {"Extraversion": "E", "Neuroticism": "N", "Agreeableness": "A", "Conscientiousness": "C", "Openness": "O"}
    compact = pd.DataFrame(index=profiles.index)
    for scale in questionnaire.scale_ids:
        tag = short.get(scale, scale)
        compact[f"{tag} raw"] = profiles[(scale, "raw")].round(2)
        compact[f"{tag} T [90%]"] = [f"{t:.0f} [{lo:.0f}-{hi:.0f}]" for t, lo, hi in zip(
            profiles[(scale, "T")], profiles[(scale, "T_90_low")], profiles[(scale, "T_90_high")], strict=True)]
        compact[f"{tag} sten"] = profiles[(scale, "sten")].astype(int)
    compact.insert(0, "validity", validity["verdict"])
    print(compact.to_string())
    print(f"T = 50 + 10 z with its 90% band (raw score +/- 1.645 SEM); percentiles ({profiles.attrs['percentile_method']}) "
          f"and factor scores ({profiles.attrs['factor_scores']}) are in the full table.")
    print(f"Norms: {profiles.attrs['norm_title']}, version {norms.version} ({norms.sha256[:19]}...); "
          f"questionnaire {questionnaire.content_hash[:19]}...")
    return 0
