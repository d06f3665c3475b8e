"""The fast path of questionnaire scoring (numeric tables) gives what the column-by-column path gives.

Object columns always take the general path, so the same table as numbers and as objects compares them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import profiler
from profiler.questionnaire.scoring import score_responses, validate_responses
from profiler.simulation import simulate_responses

MINI = Path(__file__).parents[1] / "fixtures" / "questionnaires" / "mini.yaml"


@pytest.fixture(scope="module")
def ipip():
    return profiler.load_questionnaire("ipip-bfm-50")


def _messy(questionnaire, seed: int) -> pd.DataFrame:
    answers = simulate_responses(questionnaire, 300, seed=seed)
    rng = np.random.default_rng(seed)
    values = answers.to_numpy(copy=True)
    mask = rng.random(values.shape)
    values[mask < 0.02] = np.nan
    values[(mask > 0.99)] = 7  # out of range
    values[(mask > 0.985) & (mask <= 0.99)] = 2.5  # not an option
    return pd.DataFrame(values, index=answers.index, columns=answers.columns)


@pytest.mark.parametrize("seed", [1, 2])
def test_same_answers_and_scores_when_invalid_is_missing(ipip, seed):
    messy = _messy(ipip, seed)
    fast = validate_responses(ipip, messy, invalid="missing")
    slow = validate_responses(ipip, messy.astype(object), invalid="missing")
    pd.testing.assert_frame_equal(fast, slow)
    pd.testing.assert_frame_equal(
        score_responses(ipip, messy, invalid="missing"), score_responses(ipip, messy.astype(object), invalid="missing")
    )


def test_integer_tables(ipip):
    answers = simulate_responses(ipip, 50, seed=4)
    for dtype in (np.int8, np.int64, np.uint8, np.float32):
        typed = answers.astype(dtype)
        pd.testing.assert_frame_equal(ipip.score(typed), ipip.score(answers.astype(object)))
    wrong = answers.astype(np.int8)
    wrong.iloc[2, 3] = 6
    with pytest.raises(profiler.ResponseError, match="row 2, item 'N1': not an answer of this item"):
        ipip.score(wrong)
    # N1 is blanked: Neuroticism is then the mean of the 9 others (9 of 10 answered >= 0.8).
    blanked = answers.astype(float)
    blanked.iloc[2, 3] = np.nan
    pd.testing.assert_frame_equal(ipip.score(wrong, invalid="missing"), ipip.score(blanked, invalid="missing"))


def test_same_errors_when_strict(ipip):
    messy = _messy(ipip, 3)
    with pytest.raises(profiler.ResponseError) as fast:
        validate_responses(ipip, messy)
    with pytest.raises(profiler.ResponseError) as slow:
        validate_responses(ipip, messy.astype(object))
    assert str(fast.value) == str(slow.value)
    assert fast.value.total == slow.value.total


def test_mini_with_optional_and_number_items():
    mini = profiler.load_questionnaire(MINI)
    answers = simulate_responses(mini, 100, seed=8)
    answers.loc[answers.index[:10], "T3"] = np.nan  # optional item
    answers.loc[answers.index[10:13], "TEN"] = 51  # above the range
    subset = answers.drop(columns=["TEN"])
    for frame in (answers, subset):
        fast = score_responses(mini, frame, invalid="missing")
        pd.testing.assert_frame_equal(fast, score_responses(mini, frame.astype(object), invalid="missing"))
    pd.testing.assert_frame_equal(mini.score(subset), mini.score(subset.astype(object)))
