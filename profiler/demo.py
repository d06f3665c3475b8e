"""``make demo``: the whole pipeline, as far as it exists, on bundled defaults and simulated candidates."""

from __future__ import annotations

import pandas as pd

from profiler.questionnaire import bundled_questionnaires, load_questionnaire
from profiler.questionnaire.checks import questionnaire_warnings
from profiler.simulation import simulate_responses
from profiler.yamlsource import read_yaml_file


def _heading(text: str) -> None:
    print(f"\n== {text} " + "=" * max(0, 72 - len(text)))


def run_demo(n_respondents: int = 5, seed: int = 2024) -> int:
    pd.set_option("display.width", 160)
    pd.set_option("display.max_columns", 60)

    _heading("1. Bundled questionnaires")
    for qid, path in bundled_questionnaires().items():
        questionnaire = load_questionnaire(qid)
        warnings = questionnaire_warnings(questionnaire, read_yaml_file(path))
        print(f"{qid}: ok — version {questionnaire.version}, {len(questionnaire.items)} items, "
              f"scales {', '.join(questionnaire.scale_ids)}; languages {', '.join(questionnaire.languages)}")
        print(f"  content hash {questionnaire.content_hash}")
        for warning in warnings:
            print(f"  {warning}")

    questionnaire = load_questionnaire("ipip-bfm-50")
    _heading(f"2. Administering {questionnaire.id} to {n_respondents} simulated respondents")
    answers = simulate_responses(questionnaire, n_respondents, seed=seed)
    order = questionnaire.item_order()
    print(f"items in order of administration: {' '.join(order[:10])} ... ({len(order)} items)")
    print(answers[order].astype(int).to_string())

    _heading("3. Raw scale scores (mean of keyed items, 1-5)")
    scores = questionnaire.score(answers)
    print(scores.round(2).to_string())
    print(f"scored with {questionnaire.id} {questionnaire.version} ({scores.attrs['content_hash']})")
    return 0
