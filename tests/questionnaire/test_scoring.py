"""Scale scores: hand computations, prorating, error reporting, and BIG5 against an independent computation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import profiler

MINI = Path(__file__).parents[1] / "fixtures" / "questionnaires" / "mini.yaml"


@pytest.fixture(scope="module")
def mini():
    return profiler.load_questionnaire(MINI)


def _answers(**overrides):
    row = {"S1": 5, "S2": 1, "S3": 4, "T1": 4, "T2": 2, "T3": np.nan, "ATT1": 4, "TEN": 3}
    row.update(overrides)
    return pd.DataFrame([row], index=["cand-1"])


def test_hand_computed_scores(mini):
    scores = mini.score(_answers())
    # Voice: S1=5, S2 reversed 1+5-1=5, S3=4 -> 14/3. Trust: T1=4, T2 reversed 6-2=4, T3 unanswered:
    # 2 of 3 answered >= 0.6 -> mean 4. Climate: 5 of 6 answered < 1.0 required -> missing. Tenure: 3.
    assert scores.loc["cand-1", "Voice"] == pytest.approx(14 / 3, abs=1e-12)
    assert scores.loc["cand-1", "Trust"] == pytest.approx(4.0, abs=1e-12)
    assert np.isnan(scores.loc["cand-1", "Climate"])
    assert scores.loc["cand-1", "Tenure"] == 3
    assert list(scores.columns) == ["Voice", "Trust", "Climate", "Tenure"]
    assert scores.attrs["content_hash"] == mini.content_hash


def test_sum_scoring_of_a_domain(mini):
    scores = mini.score(_answers(T3=2))
    # Climate = sum of S1=5, rev S2=5, S3=4, T1=4, rev T2=4, T3=2 = 24
    assert scores.loc["cand-1", "Climate"] == pytest.approx(24.0)


def test_prorating_threshold(mini):
    # Trust with only T1 answered: 1/3 < 0.6 -> missing.
    with pytest.raises(profiler.ResponseError, match="row 0 \\('cand-1'\\), item 'T2': required item not answered"):
        mini.score(_answers(T2=np.nan))
    scores = mini.score(_answers(T2=np.nan), invalid="missing")
    assert np.isnan(scores.loc["cand-1", "Trust"])


def test_out_of_range_and_unknown_columns_name_row_and_item(mini):
    frame = pd.concat([_answers(), _answers(S1=6, TEN=2.5), _answers(S3="often")], ignore_index=True)
    frame["s3"] = 1
    with pytest.raises(profiler.ResponseError) as info:
        mini.score(frame)
    text = str(info.value)
    assert "column 's3': unknown column: not an item of 'team-climate-mini' (did you mean 'S3'?)" in text
    assert "row 1, item 'S1': not an answer of this item (one of 1, 2, 3, 4, 5)" in text
    assert "row 1, item 'TEN': not an answer of this item (a whole number from 0 to 50)" in text
    assert "row 2, item 'S3': not a number" in text
    assert info.value.total == 4
    assert isinstance(info.value, ValueError)


def test_treat_invalid_as_missing_when_asked(mini):
    frame = pd.concat([_answers(), _answers(S1=6)], ignore_index=True).assign(extra=1)
    scores = mini.score(frame, invalid="missing")
    # Row 1 lost S1: Voice = mean(5, 4) = 4.5, still 2 of 3 answered but min_answered is 1.0 -> missing.
    assert np.isnan(scores.loc[1, "Voice"])
    assert scores.loc[0, "Voice"] == pytest.approx(14 / 3)


def test_missing_required_column_is_reported(mini):
    with pytest.raises(profiler.ResponseError, match="column 'S1': required item is missing from the table"):
        mini.score(_answers().drop(columns="S1"))


def test_invalid_policy_is_checked(mini):
    with pytest.raises(ValueError, match="invalid="):
        mini.score(_answers(), invalid="drop")


def test_reverse_keying_matches_min_plus_max_minus_x(mini):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.integers(1, 6, size=(200, 6)), columns=["S1", "S2", "S3", "T1", "T2", "T3"])
    frame["ATT1"] = 4
    frame["TEN"] = 10
    scores = mini.score(frame)
    expected_voice = (frame.S1 + (6 - frame.S2) + frame.S3) / 3
    expected_climate = frame.S1 + (6 - frame.S2) + frame.S3 + frame.T1 + (6 - frame.T2) + frame.T3
    np.testing.assert_allclose(scores.Voice, expected_voice, atol=1e-12)
    np.testing.assert_allclose(scores.Climate, expected_climate, atol=1e-12)


def test_big5_scale_scores_equal_an_independent_computation(big5_raw):
    q = profiler.load_questionnaire("ipip-bfm-50")
    items = big5_raw[[f"{d}{i}" for d in "ENACO" for i in range(1, 11)]]
    complete = items[(items != 0).all(axis=1)]
    assert len(complete) == 19718
    scores = q.score(complete)
    # Independent computation straight from the item CSV's keying, without the questionnaire code.
    keying = pd.read_csv(Path(__file__).parents[3] / "shared" / "data" / "big5" / "ipip50_items_en.csv")
    for scale, rows in keying.groupby("scale"):
        keyed = [complete[r.id] if r.keyed == "+" else 6 - complete[r.id] for r in rows.itertuples()]
        expected = sum(keyed) / len(keyed)
        np.testing.assert_allclose(scores[scale].to_numpy(), expected.to_numpy(), atol=1e-12)
    # With zeros (= missed) as missing: prorated means over answered items, missing below 8 of 10.
    with_missing = items.replace(0, np.nan).iloc[:2000]
    prorated = q.score(with_missing, invalid="missing")
    e_items = with_missing[[f"E{i}" for i in range(1, 11)]].copy()
    for column in ["E2", "E4", "E6", "E8", "E10"]:
        e_items[column] = 6 - e_items[column]
    expected = e_items.mean(axis=1).where(e_items.notna().sum(axis=1) >= 8)
    np.testing.assert_allclose(prorated["Extraversion"], expected, atol=1e-12)


def test_scoring_exclusions_leave_items_out_of_scoring(mini):
    text = MINI.read_text(encoding="utf-8").replace(
        "scales:\n", "scoring_exclusions:\n  - {item: S3, reason: 'DIF class C by language', audit: 'fairness audit 2026-11'}\nscales:\n", 1)
    excluded = profiler.parse_questionnaire(text)
    assert excluded.excluded_items == ["S3"] and excluded.content_hash != mini.content_hash
    assert [str(k) for k in excluded.keys("Voice")] == ["S1", "-S2"]
    assert [str(k) for k in excluded.keys("Voice", include_excluded=True)] == ["S1", "-S2", "S3"]
    scores = excluded.score(_answers(T3=2))
    assert scores.loc["cand-1", "Voice"] == pytest.approx(5.0)  # (5 + rev 1 -> 5) / 2, S3 ignored
    assert scores.loc["cand-1", "Climate"] == pytest.approx(5 + 5 + 4 + 4 + 2)  # sum of the 5 scored items


def test_scoring_exclusion_of_an_unknown_item_is_an_error():
    text = MINI.read_text(encoding="utf-8").replace("scales:\n", "scoring_exclusions:\n  - {item: S4, reason: x}\nscales:\n", 1)
    with pytest.raises(profiler.QuestionnaireError, match="excluded item 'S4' does not exist"):
        profiler.parse_questionnaire(text)


def test_allow_unanswered_still_refuses_invalid_answers(mini):
    incomplete = _answers(T2=np.nan)  # T2 is required
    with pytest.raises(profiler.ResponseError, match="required item not answered"):
        mini.score(incomplete)
    scores = mini.score(incomplete, invalid="allow-unanswered")
    assert np.isnan(scores.loc["cand-1", "Trust"])  # 1 of 3 answered < 0.6
    assert scores.loc["cand-1", "Voice"] == pytest.approx(14 / 3)
    with pytest.raises(profiler.ResponseError, match="not an answer of this item"):
        mini.score(_answers(T2=np.nan, S1=9), invalid="allow-unanswered")
    with pytest.raises(profiler.ResponseError, match="unknown column"):
        mini.score(_answers(T2=np.nan).assign(extra=1), invalid="allow-unanswered")


def test_answered_counts_per_scale(mini):
    from profiler.questionnaire.scoring import score_and_count, answered_counts

    # T3 unanswered: Voice 3 of 3, Trust 2 of 3, Climate (Voice + Trust) 5 of 6, Tenure 1 of 1.
    counts = answered_counts(mini, _answers())
    assert counts.loc["cand-1"].to_dict() == {"Voice": 3, "Trust": 2, "Climate": 5, "Tenure": 1}
    assert counts.attrs["items_total"] == {"Voice": 3, "Trust": 3, "Climate": 6, "Tenure": 1}
    assert counts.attrs["content_hash"] == mini.content_hash
    assert list(counts.columns) == list(mini.score(_answers()).columns)
    assert counts.dtypes.map(lambda d: d.kind == "i").all()
    # Complete answers (the fast path) and an invalid answer treated as unanswered.
    complete = answered_counts(mini, _answers(T3=2))
    assert complete.loc["cand-1"].to_dict() == {"Voice": 3, "Trust": 3, "Climate": 6, "Tenure": 1}
    invalid = answered_counts(mini, _answers(T3=2, S1=9), invalid="missing")
    assert invalid.loc["cand-1"].to_dict() == {"Voice": 2, "Trust": 3, "Climate": 5, "Tenure": 1}
    # One validation for both: the same scores as score_responses, the same counts.
    scores, both = score_and_count(mini, _answers())
    pd.testing.assert_frame_equal(scores, mini.score(_answers()))
    pd.testing.assert_frame_equal(both, counts)


def test_score_frames_do_not_share_a_columns_object():
    """The scale names are built into an Index once per questionnaire; each frame gets its own Index object, so
    naming one frame's columns leaves every other frame as it was."""
    import profiler

    ipip = profiler.load_questionnaire("ipip-bfm-50")
    answers = profiler.simulate_responses(ipip, 3, seed=1)
    first, second = ipip.score(answers), ipip.score(answers)
    first.columns.name = "renamed"
    assert second.columns.name is None and ipip.score(answers).columns.name is None
    assert list(second.columns) == ipip.scale_ids and first.columns is not second.columns
