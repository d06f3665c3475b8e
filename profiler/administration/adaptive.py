"""The adaptive part of a session: which scale's test is on, its next step, its scores, and replaying it.

A session of a questionnaire with ``administration.adaptive`` gives the items of no adaptive scale first (its
stored order), then each adaptive scale's test in turn (:class:`profiler.cat.plan.AdaptivePlan`). Each step of a
test (EAP theta, SE, the candidates considered, the random draws, the item chosen, or why the test stopped) is a
``select`` event of the session, written in the same transaction as the answer that led to it and logged in the
audit log with everything the step computed (``session.item_selected``). Nothing random is kept: a step is a
function of the bank, the rules, the answers so far and the session's seed, so a resumed session continues
exactly as it would have, and :func:`profiler.administration.replay.replay_session` recomputes every recorded step of any session and names
each one that differs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from profiler.administration.errors import SessionError
from profiler.administration.events import SessionState
from profiler.cat.plan import AdaptivePlan, AdaptiveScale

SELECTED_EVENT = "session.item_selected"


def category_code(scale: AdaptiveScale, item: str, value: float | None) -> int:
    """The bank's category code of an answer (-1: skipped)."""
    if value is None:
        return -1
    j = scale.engine.bank.items.index(item)
    matches = np.flatnonzero(scale.engine.bank.categories[j] == value)
    if not len(matches):
        raise SessionError(f"answer {value:g} to item {item!r} is not one of its calibrated answers")
    return int(matches[0])


def scale_answers(scale: AdaptiveScale, state: SessionState) -> list[tuple[str, int]]:
    """(item, code) of the scale's items given so far, in the order given."""
    mine = set(scale.items)
    return [(item, category_code(scale, item, state.answers.get(item))) for item in state.selected
            if item in mine and item in state.answers]


def next_steps(plan: AdaptivePlan, state: SessionState, seed: int) -> list[tuple[AdaptiveScale, dict[str, Any]]]:
    """The steps due now: a stopped test is followed by the next scale's first step, until an item is chosen
    or every scale's test has stopped."""
    steps = []
    stops = state.stops
    while stops < len(plan.scales):
        scale = plan.scales[stops]
        step = scale.engine.step(scale_answers(scale, state), seed)
        steps.append((scale, step))
        if step["item"] is not None:
            break
        stops += 1
    return steps


def adaptive_scores(plan: AdaptivePlan, state: SessionState, seed: int) -> pd.DataFrame:
    """Per adaptive scale: EAP theta and SE from the answers given, items given and answered, why it stopped."""
    rows = []
    for index, scale in enumerate(plan.scales):
        answers = scale_answers(scale, state)
        step = scale.engine.step(answers, seed)
        stopped = step["stop"] if index < state.stops else None
        rows.append({"scale": scale.scale, "theta": step["theta"], "se": step["se"], "items": len(answers),
                     "answered": sum(code >= 0 for _, code in answers), "stop": stopped,
                     "bank": scale.calibration.sha256})
    return pd.DataFrame(rows).set_index("scale")
