"""Response validity: each index on tiny hand-computed examples, constructed respondents (straight-liners,
alternating patterns, random responders, speeders, failed attention checks), plausible simulated
respondents, missing answers, the calibration artifact, and the BIG5 counts quoted in docs/administration.md."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import profiler
from profiler.administration import validity_indices as vi
from profiler.administration.validity import (
    COLUMNS,
    VERDICTS,
    ValidityCalibration,
    assess_validity,
    bundled_validity_calibrations,
    derive_validity_calibration,
    load_validity_calibration,
)
from profiler.artifacts import content_sha256
from profiler.simulation import simulate_responses

PROJECT = Path(__file__).resolve().parents[2]
MINI = PROJECT / "tests" / "fixtures" / "questionnaires" / "mini.yaml"
NAN = np.nan
BIG5_ORDER = [f"{d}{i}" for i in range(1, 11) for d in "ENACO"]  # as the BIG5 respondents saw the items


@pytest.fixture(scope="module")
def ipip():
    return profiler.load_questionnaire("ipip-bfm-50")


@pytest.fixture(scope="module")
def mini():
    return profiler.load_questionnaire(MINI)


@pytest.fixture(scope="module")
def calibration():
    return load_validity_calibration("ipip-bfm-50")


def mini_with(extra_yaml: str = "", items_yaml: str = "", block_items: str = ""):
    """mini.yaml with extra top-level YAML, extra items, and extra ids in the first block."""
    text = MINI.read_text(encoding="utf-8")
    if items_yaml:
        text = text.replace("scales:\n", items_yaml + "scales:\n", 1)
    if block_items:
        text = text.replace("T3, ATT1]}", f"T3, ATT1, {block_items}]}}", 1)
    return profiler.parse_questionnaire(text + extra_yaml, "mini-variant.yaml")


# Indices on tiny hand-computed examples ------------------------------------------------------------
def test_longstring_by_hand():
    answers = pd.DataFrame(
        [
            [1, 1, 2, 2, 2, 3],  # runs 2, 3, 1 -> 3
            [4, 4, 4, 4, 4, 4],  # 6
            [1, NAN, 1, 1, 5, 1],  # a missing answer ends a run: 1, 2, 1, 1 -> 2
            [NAN] * 6,  # nothing answered
            [2, 3, 2, 3, 2, 3],  # alternating -> 1
        ]
    )
    assert vi.longstring(answers).tolist()[:3] == [3, 6, 2]
    assert math.isnan(vi.longstring(answers)[3])
    assert vi.longstring(answers)[4] == 1
    # A change of response format ends a run: columns 0-2 in one format, 3-5 in another.
    split = vi.longstring(answers, formats=["a", "a", "a", "b", "b", "b"])
    assert split.tolist()[:3] == [2, 3, 1] and split[4] == 1
    assert vi.longstring(answers.iloc[:, :1]).tolist()[:3] == [1, 1, 1]


def test_irv_by_hand():
    answers = pd.DataFrame([[1, 2, 3, 4, 5], [1, NAN, 3, NAN, NAN], [3, 3, 3, 3, 3], [2, NAN, NAN, NAN, NAN]])
    irv = vi.response_variability(answers)
    # [1..5]: mean 3, squares 4+1+0+1+4 = 10, / (5 - 1) -> sqrt(2.5); [1, 3]: squares 1+1, / 1 -> sqrt(2)
    assert irv[0] == pytest.approx(math.sqrt(2.5))
    assert irv[1] == pytest.approx(math.sqrt(2))
    assert irv[2] == 0
    assert math.isnan(irv[3])  # one answer has no spread


def test_item_pair_correlation_by_hand():
    answers = pd.DataFrame(
        {"a1": [1, 1, 5], "b1": [2, 3, 1], "a2": [2, 2, 4], "b2": [2, 3, 2], "a3": [3, 3, 3],
         "b3": [4, 3, NAN], "a4": [4, 4, NAN], "b4": [4, 3, 2]}
    )
    pairs = [("a1", "b1"), ("a2", "b2"), ("a3", "b3"), ("a4", "b4")]
    r = vi.item_pair_correlation(answers, pairs)
    # Row 0: a = [1, 2, 3, 4], b = [2, 2, 4, 4]; deviations (-1.5, -.5, .5, 1.5) and (-1, -1, 1, 1):
    # cross products 4, squares 5 and 4 -> r = 4 / sqrt(20).
    assert r[0] == pytest.approx(4 / math.sqrt(20))
    # Row 1: b does not vary (3, 3, 3, 3) -> undefined.
    assert math.isnan(r[1])
    # Row 2: only pairs 1 and 2 are complete -> fewer than 3 points -> undefined.
    assert math.isnan(r[2])
    with pytest.raises(KeyError, match="zz"):
        vi.item_pair_correlation(answers, [("a1", "zz")])


def test_even_odd_by_hand():
    keyed = pd.DataFrame(
        {"A1": [5, 1], "A2": [4, 3], "A3": [5, 2], "A4": [4, 3],
         "B1": [1, 2], "B2": [2, 2], "B3": [2, 2], "B4": [1, 2],
         "C1": [3, 3], "C2": [2, 2], "C3": [4, 1],
         "D1": [5, 1]}
    )
    scales = {"A": ["A1", "A2", "A3", "A4"], "B": ["B1", "B2", "B3", "B4"], "C": ["C1", "C2", "C3"], "D": ["D1"]}
    result = vi.even_odd_consistency(keyed, scales)
    # Row 0: odd halves (items 1, 3): A 5, B 1.5, C 3.5; even halves (items 2, 4): A 4, B 1.5, C 2.
    # D has one item and is left out. Deviations from the means 10/3 and 5/2: (5/3, -11/6, 1/6) and
    # (3/2, -1, -1/2); cross products 17/4, squares 37/6 and 7/2.
    r = (17 / 4) / math.sqrt(37 / 6 * 7 / 2)
    assert result[0] == pytest.approx(2 * r / (1 + r))
    # Row 1: odd (1.5, 2, 2), even (3, 2, 2): r = -1, and Spearman-Brown is bounded at -1.
    assert result[1] == -1
    assert math.isnan(vi.even_odd_consistency(keyed, {"A": scales["A"], "B": scales["B"], "D": ["D1"]})[0])


def test_mahalanobis_by_hand():
    mean = pd.Series([0.0, 0.0], index=["a", "b"])
    cov = pd.DataFrame([[1.0, 0.5], [0.5, 1.0]], index=["a", "b"], columns=["a", "b"])
    answers = pd.DataFrame({"a": [1, 2, NAN], "b": [1, NAN, NAN]})
    d = vi.mahalanobis_distance(answers, mean, cov)
    # inverse = [[1, -.5], [-.5, 1]] / .75, so (1, 1) gives (1 - .5 - .5 + 1) / .75 = 4/3, chi-square 2 df.
    assert d.mahalanobis[0] == pytest.approx(4 / 3)
    assert d.mahalanobis_p[0] == pytest.approx(math.exp(-2 / 3))
    # Only a answered: its marginal variance 1 -> D2 = 4 on 1 df.
    assert (d.mahalanobis[1], d.mahalanobis_df[1]) == (pytest.approx(4.0), 1)
    assert d.mahalanobis_p[1] == pytest.approx(stats.chi2.sf(4, 1))
    assert d.iloc[2].isna().all()


def test_response_speed_by_hand():
    per_item = pd.DataFrame({"a": [1.0, 4.0], "b": [1.0, 5.0], "c": [3.0, 6.0], "d": [NAN, -1.0]})
    speed = vi.response_speed(per_item, floor=2.0)
    assert speed.seconds_per_item.tolist() == [1.0, 5.0]  # medians of (1, 1, 3) and (4, 5, 6); -1 is a clock error
    assert speed.share_too_fast.tolist() == [pytest.approx(2 / 3), 0.0]
    totals = vi.response_speed(pd.Series([60.0, 300.0]), items_answered=pd.Series([50, 50]))
    assert totals.seconds_per_item.tolist() == [1.2, 6.0]
    assert totals.share_too_fast.isna().all()


# Constructed respondents on ipip-bfm-50 ------------------------------------------------------------
def respondents(ipip, patterns: dict[str, list[float]]) -> pd.DataFrame:
    """Answers given in order of administration, one row per named pattern."""
    order = ipip.item_order()
    return pd.DataFrame({name: dict(zip(order, values, strict=True)) for name, values in patterns.items()}).T[
        ipip.item_ids
    ]


def test_straight_liners_are_invalid(ipip):
    result = assess_validity(ipip, respondents(ipip, {"all 3": [3] * 50, "all 5": [5] * 50}))
    assert result.longstring.tolist() == [50, 50]
    assert result.irv.tolist() == [0, 0]
    assert result.verdict.tolist() == ["invalid", "invalid"]
    assert result.flagged["all 3"] == ["longstring", "irv"]
    assert result.reasons["all 3"][0].startswith("longstring: 50 identical answers in a row (more than 10 is flagged")
    assert result.reasons["all 3"][1].startswith("little variation: the answers' standard deviation is 0.00 (below 0.5")
    # All 5s also lies far from the calibration mean, and its keyed halves disagree (reversed items become 1).
    assert {"mahalanobis", "even_odd"} <= set(result.flagged["all 5"])
    assert math.isnan(result.synonyms["all 3"])  # no variation, no correlation


def test_alternating_pattern(ipip, calibration):
    alternating = [1, 5] * 25
    result = assess_validity(ipip, respondents(ipip, {"1-5": alternating, "1-2-3-4-5": [1, 2, 3, 4, 5] * 10}))
    assert result.longstring.tolist() == [1, 1]
    # 25 answers 1 and 25 answers 5: squares 50 * 4, / 49.
    assert result.irv["1-5"] == pytest.approx(math.sqrt(200 / 49))
    assert "mahalanobis" in result.flagged["1-5"] and result.verdict["1-5"] != "valid"
    assert result.verdict["1-2-3-4-5"] == "invalid"
    # Mahalanobis D2 against the calibration, computed directly.
    x = respondents(ipip, {"1-5": alternating}).loc["1-5", list(calibration.items)].to_numpy(float)
    centred = x - calibration.mean.to_numpy()
    d2 = centred @ np.linalg.inv(calibration.covariance.to_numpy()) @ centred
    assert result.mahalanobis["1-5"] == pytest.approx(d2)
    assert result.mahalanobis_p["1-5"] == pytest.approx(stats.chi2.sf(d2, 50))


def test_consistent_profile_has_even_odd_one(ipip):
    # Keyed answers E 5, N 1, A 4, C 2, O 3 on every item: both halves of every scale agree exactly.
    level = {"Extraversion": 5, "Neuroticism": 1, "Agreeableness": 4, "Conscientiousness": 2, "Openness": 3}
    row = {}
    for scale, value in level.items():
        for keyed in ipip.keys(scale):
            row[keyed.item] = value if keyed.sign > 0 else 6 - value
    result = assess_validity(ipip, pd.DataFrame([row])[ipip.item_ids])
    assert result.even_odd[0] == pytest.approx(1.0)


def test_uniform_random_responders_are_mostly_flagged(ipip):
    rng = np.random.default_rng(7)
    answers = pd.DataFrame(rng.integers(1, 6, size=(500, 50)).astype(float), columns=ipip.item_ids)
    result = assess_validity(ipip, answers)
    by_synonyms_or_distance = np.mean([bool({"synonyms", "mahalanobis"} & set(f)) for f in result.flagged])
    assert by_synonyms_or_distance > 0.9
    assert (result.verdict == "invalid").mean() > 0.7
    assert (result.verdict == "valid").mean() < 0.02


def test_plausible_simulated_respondents_are_mostly_valid(ipip, mini):
    # Against a calibration of their own population: simulate_responses gives every option the same
    # share, unlike real people, so against BIG5 most simulated respondents look unusual (see the docs).
    own = derive_validity_calibration(ipip, simulate_responses(ipip, 4000, seed=11), source="simulated")
    result = assess_validity(ipip, simulate_responses(ipip, 500, seed=3), calibration=own)
    assert (result.verdict == "valid").mean() > 0.8
    assert (result.verdict == "invalid").mean() < 0.05
    small = assess_validity(mini, simulate_responses(mini, 300, seed=3), seeds=pd.Series(range(300)))
    assert (small.verdict == "valid").mean() > 0.95


def test_speeders(ipip):
    answers = simulate_responses(ipip, 3, seed=5)
    per_item = pd.DataFrame(6.0, index=answers.index, columns=ipip.item_ids)
    per_item.iloc[0] = 1.0
    per_item.iloc[1, :30] = 1.0  # 30 of 50 items under the floor: the median too
    result = assess_validity(ipip, answers, timings=per_item, calibration=None)
    assert result.seconds_per_item.tolist() == [1.0, 1.0, 6.0]
    assert result.share_too_fast.tolist() == [1.0, 0.6, 0.0]
    assert [("speed" in f) for f in result.flagged] == [True, True, False]
    assert result.reasons[0][-1] == "answered too fast: 1.0 seconds per item (median over items; below 2 is flagged)"
    totals = assess_validity(ipip, answers, timings=pd.Series([60.0, 90.0, 400.0], index=answers.index),
                             calibration=None)
    assert totals.seconds_per_item.tolist() == [1.2, 1.8, 8.0]
    assert "total time / items answered" in totals.reasons[0][-1]
    assert "speed" not in assess_validity(ipip, answers, calibration=None).attrs["calibration"]
    assert assess_validity(ipip, answers, calibration=None).attrs["not_available"]["speed"] == "no timings were given"
    with pytest.raises(ValueError, match="not items"):
        assess_validity(ipip, answers, timings=per_item.rename(columns={"E1": "E11"}), calibration=None)


# mini.yaml: attention check, custom calibration, order ----------------------------------------------
def mini_row(**answers) -> dict:
    row = {"S1": 5, "S2": 1, "S3": 4, "T1": 2, "T2": 4, "T3": 1, "ATT1": 4, "TEN": 10}
    row.update(answers)
    return row


def test_failed_attention_check_is_invalid(mini):
    answers = pd.DataFrame([mini_row(), mini_row(ATT1=2), mini_row(ATT1=NAN)])
    result = assess_validity(mini, answers, seeds=pd.Series([1, 2, 3]))
    assert result.attention_checks_failed.tolist()[:2] == [0, 1]
    assert math.isnan(result.attention_checks_failed[2])  # not answered: neither passed nor failed
    assert result.verdict.tolist() == ["valid", "invalid", "valid"]
    assert result.reasons[1] == ["failed 1 of 1 attention checks answered (ATT1; more than 0 is flagged)"]


def test_rules_from_the_questionnaire(mini):
    lenient = mini_with("validity_rules:\n  decisive: []\n  irv_min: null\n  attention_checks_failed_max: 0\n")
    result = assess_validity(lenient, pd.DataFrame([mini_row(ATT1=2), mini_row(S1=1, S3=1, T1=1, T3=1, S2=1,
                                                                                 T2=1)]), seeds=pd.Series([1, 2]))
    assert result.verdict.tolist() == ["questionable", "valid"]  # not decisive; IRV switched off
    assert result.irv[1] == 0
    misspelt = r"unknown key 'longstring_mx' \(did you mean 'longstring_max'\?\)"
    with pytest.raises(profiler.QuestionnaireError, match=misspelt):
        mini_with("validity_rules:\n  longstring_mx: 4\n")
    with pytest.raises(profiler.QuestionnaireError):
        mini_with("validity_rules:\n  mahalanobis_p_min: 2\n")


def test_infrequency_items(mini):
    questionnaire = mini_with(
        items_yaml="  - id: INF1\n    text: {en: I have never used a telephone., de: Ich habe nie telefoniert.}\n"
        "    validity: {kind: infrequency, expected: [1, 2]}\n",
        block_items="INF1",
    )
    answers = pd.DataFrame([mini_row(INF1=1), mini_row(INF1=5)])
    result = assess_validity(questionnaire, answers, seeds=pd.Series([1, 2]))
    assert result.infrequent_answers.tolist() == [0, 1]
    assert result.verdict.tolist() == ["valid", "questionable"]
    assert result.reasons[1] == ["1 infrequent answer to infrequency items (INF1; more than 0 is flagged)"]


def mini_calibration(mini) -> ValidityCalibration:
    items = ("S1", "S2", "S3", "T1", "T2", "T3")
    return ValidityCalibration(
        questionnaire_id=mini.id, questionnaire_version=mini.version, content_hash=mini.content_hash,
        items=items, response_values={i: (1.0, 2.0, 3.0, 4.0, 5.0) for i in items},
        synonym_pairs=(("S1", "S3", 0.7), ("T1", "T3", 0.7), ("S1", "T1", 0.65)),
        antonym_pairs=(("S1", "S2", -0.7), ("T1", "T2", -0.7), ("S3", "S2", -0.65)),
        synonym_cutoff=0.6, antonym_cutoff=0.6,
        mean=pd.Series(3.0, index=list(items)), covariance=pd.DataFrame(np.eye(6), index=items, columns=items),
        n=100, source="hand-made",
    )


def test_synonyms_antonyms_and_distance_by_hand(mini):
    result = assess_validity(mini, pd.DataFrame([mini_row()]), calibration=mini_calibration(mini), seeds=pd.Series([1]))
    # Synonyms: (S1, T1, S1) = (5, 2, 5) against (S3, T3, T1) = (4, 1, 2): deviations (1, -2, 1) and
    # (5/3, -4/3, -1/3); cross products 4, squares 6 and 14/3 -> r = 4 / sqrt(28).
    assert result.synonyms[0] == pytest.approx(4 / math.sqrt(28))
    # Antonyms: (S1, T1, S3) = (5, 2, 4) against (S2, T2, S2) = (1, 4, 1): cross products -5,
    # squares 14/3 and 6 -> r = -5 / sqrt(28).
    assert result.antonyms[0] == pytest.approx(-5 / math.sqrt(28))
    # Identity covariance, mean 3: D2 = 4 + 4 + 1 + 1 + 1 + 4 = 15 on 6 items.
    assert result.mahalanobis[0] == pytest.approx(15)
    assert result.mahalanobis_p[0] == pytest.approx(stats.chi2.sf(15, 6))
    # IRV of (5, 1, 4, 2, 4, 1): mean 17/6, squares 89/6, / 5.
    assert result.irv[0] == pytest.approx(math.sqrt(89 / 30))
    assert result.verdict[0] == "valid"


def test_longstring_follows_each_respondents_order(mini):
    answers = pd.DataFrame([mini_row(S1=2, S2=2, S3=2, T1=5, T2=5, T3=1, ATT1=4)] * 3)
    fixed = ["S1", "S2", "S3", "T1", "T2", "T3", "ATT1", "TEN"]
    assert assess_validity(mini, answers, order=fixed).longstring.tolist() == [3, 3, 3]
    seeds = pd.Series([4, 5, 6])
    result = assess_validity(mini, answers, seeds=seeds)
    for row, seed in enumerate(seeds):
        shown = [answers.iloc[row][item] for item in mini.item_order(seed)]
        longest = run = 1
        for before, now in zip(shown, shown[1:]):
            run = run + 1 if now == before else 1
            longest = max(longest, run)
        assert result.longstring[row] == longest
    # Shuffled per session and no order known: longstring is not available, the rest still is.
    unknown = assess_validity(mini, answers)
    assert unknown.longstring.isna().all() and "shuffled" in unknown.attrs["not_available"]["longstring"]
    # A change of response format ends a run: seven 4s on the Likert items, then TEN = 4.
    same = pd.DataFrame([{**{i: 4 for i in fixed}, "TEN": 4}])
    assert assess_validity(mini, same, order=fixed).longstring[0] == 7


def test_even_odd_needs_three_scales(mini):
    result = assess_validity(mini, pd.DataFrame([mini_row()]), seeds=pd.Series([1]))
    assert math.isnan(result.even_odd[0])
    assert result.attrs["not_available"]["even_odd"].startswith("needs at least 3 scales")


# Missing and invalid answers; nobody dropped ---------------------------------------------------------
def test_missing_answers_do_not_crash_and_nobody_is_dropped(ipip):
    answers = simulate_responses(ipip, 200, seed=8)
    answers.index = [f"cand-{i:03d}" for i in range(200)]
    rng = np.random.default_rng(1)
    answers = answers.mask(rng.random(answers.shape) < 0.2)
    answers.iloc[0] = NAN
    answers.iloc[1] = NAN
    answers.iloc[1, 0] = 3
    result = assess_validity(ipip, answers)
    assert list(result.index) == list(answers.index) and list(result.columns) == list(COLUMNS)
    assert result.verdict.notna().all() and list(result.verdict.cat.categories) == list(VERDICTS)
    assert result.verdict.iloc[0] == "questionable"
    assert result.reasons.iloc[0] == ["only 0 of 50 scored items answered: too few answers to judge their validity"]
    assert result.longstring.iloc[1] == 1 and math.isnan(result.irv.iloc[1])
    assert result.mahalanobis_df.iloc[2] == answers.iloc[2].notna().sum()
    assert result.items_answered.iloc[2] == answers.iloc[2].notna().sum()


def test_invalid_answers_raise_or_count_as_missing(ipip):
    answers = simulate_responses(ipip, 3, seed=2)
    answers.loc[1, "E3"] = 7
    with pytest.raises(profiler.ResponseError, match="E3"):
        assess_validity(ipip, answers)
    assert assess_validity(ipip, answers, invalid="missing").items_answered.tolist() == [50, 49, 50]
    with pytest.raises(profiler.ResponseError, match="unknown column"):
        assess_validity(ipip, answers.assign(age=30))
    with pytest.raises(ValueError, match="invalid="):
        assess_validity(ipip, answers, invalid="drop")


# The calibration artifact ---------------------------------------------------------------------------
def test_bundled_calibration(ipip, calibration):
    assert "ipip-bfm-50" in bundled_validity_calibrations()
    assert calibration.n == 19718 and len(calibration.items) == 50
    calibration.check_fits(ipip)
    assert calibration.synonym_cutoff == 0.55 and len(calibration.synonym_pairs) == 12
    assert calibration.antonym_cutoff == 0.45 and len(calibration.antonym_pairs) == 16
    assert calibration.pair_counts["synonyms"]["0.60"] == 6 and calibration.pair_counts["antonyms"]["0.60"] == 0
    assert all(r >= 0.55 for *_, r in calibration.synonym_pairs)
    assert all(r <= -0.45 for *_, r in calibration.antonym_pairs)
    assert any("lowered to 0.55" in note for note in calibration.notes)
    np.testing.assert_allclose(calibration.covariance, calibration.covariance.T)
    assert np.linalg.eigvalsh(calibration.covariance.to_numpy()).min() > 0
    text = (PROJECT / "models" / "ipip-bfm-50" / "validity-calibration.json").read_text(encoding="utf-8")
    assert calibration.to_json() == text  # reading and writing loses nothing
    document = json.loads(text)  # derived statistics only, never a respondent's answers
    assert set(document) == {"format", "format_version", "version", "questionnaire", "sample", "notes", "items",
                             "response_values", "pairs", "mahalanobis", "distributions", "sha256"}
    assert document["questionnaire"]["content_hash"].startswith("sha256:")
    assert all(len(v) == 1001 for k, v in document["distributions"].items() if k != "levels")


def test_calibration_is_sealed_and_round_trips(mini, calibration, tmp_path):
    document = json.loads(calibration.to_json())
    assert calibration.sha256 == document["sha256"] == content_sha256(document)
    assert calibration.sha256 == json.loads(  # the shipped file records the hash it is checked against
        (PROJECT / "models" / "ipip-bfm-50" / "validity-calibration.json").read_text(encoding="utf-8"))["sha256"]
    path = calibration.write(tmp_path / "sub" / "calibration.json")
    again = load_validity_calibration(path)
    assert again.to_json() == calibration.to_json() and again.sha256 == calibration.sha256
    assert again.origin == str(path)
    # A hand-made calibration is sealed the same way and reads back identical.
    made = mini_calibration(mini)
    back = ValidityCalibration.from_json(made.to_json())
    assert back.to_json() == made.to_json() and back.sha256 == made.sha256
    # The assessment records which calibration gave the verdicts.
    info = assess_validity(mini, pd.DataFrame([mini_row()]), calibration=made, seeds=pd.Series([1])).attrs
    assert info["calibration"]["sha256"] == made.sha256


@pytest.mark.parametrize("edit", [
    lambda d: d["mahalanobis"]["mean"].__setitem__(0, d["mahalanobis"]["mean"][0] + 0.5),
    lambda d: d["pairs"]["synonyms"]["pairs"].pop(),
    lambda d: d["distributions"]["mahalanobis"].__setitem__(-1, 1e6),
    lambda d: d["sample"].update(n=100),
])
def test_an_edited_calibration_is_refused(calibration, tmp_path, edit):
    document = json.loads(calibration.to_json())
    edit(document)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(profiler.ValidityError, match=r"edited\.json: sha256 does not match the content .*"
                                                     r"edited after it was sealed"):
        load_validity_calibration(path)
    # Whatever the layout: the text of the shipped file with one digit changed.
    text = calibration.to_json().replace('"n": 19718', '"n": 19719', 1)
    with pytest.raises(profiler.ValidityError, match="edited after it was sealed"):
        ValidityCalibration.from_json(text, origin="edited.json")


def test_an_unsealed_or_unreadable_calibration_is_refused(calibration, tmp_path):
    document = json.loads(calibration.to_json())
    del document["sha256"]
    with pytest.raises(profiler.ValidityError, match="has no sha256"):
        ValidityCalibration.from_dict(document, origin="old.json")
    with pytest.raises(profiler.ValidityError, match=r"bad\.json: not a JSON profiler validity calibration "
                                                     r"\(.* at line 1, column 2\)"):
        ValidityCalibration.from_json("{oops", origin="bad.json")
    with pytest.raises(FileNotFoundError, match="no validity calibration file"):
        load_validity_calibration(tmp_path / "absent.json")


def test_percentiles(calibration):
    pct = calibration.percentile("longstring", [1, 3, 50, 200, NAN])
    assert pct[0] < pct[1] < pct[2] <= pct[3] == 100 and math.isnan(pct[4])
    assert calibration.percentile("irv", [-1])[0] == 0
    with pytest.raises(KeyError, match="no distribution"):
        calibration.percentile("speed", [1])


def test_calibration_errors(ipip, mini, calibration, tmp_path):
    with pytest.raises(FileNotFoundError, match="bundled: ipip-bfm-50"):
        load_validity_calibration("ipip-bfm-5")
    document = calibration.to_dict()
    for change, message in ((("format",), "not a profiler validity calibration"),
                            (("format_version",), "format version 99"),
                            (("items",), "malformed")):
        broken = dict(document)
        broken[change[0]] = 99
        path = tmp_path / "broken.json"
        path.write_text(json.dumps(broken), encoding="utf-8")
        with pytest.raises(ValueError, match=message):
            load_validity_calibration(path)
    with pytest.raises(ValueError, match="is for questionnaire 'ipip-bfm-50'"):
        assess_validity(mini, pd.DataFrame([mini_row()]), calibration=calibration, seeds=pd.Series([1]))
    # Other answer options than those calibrated: refuse. Another content hash only: note it.
    text = (PROJECT / "questionnaires" / "ipip-bfm-50.yaml").read_text(encoding="utf-8")
    seven = profiler.parse_questionnaire(text.replace(
        '      - value: 5\n', '      - value: 6\n        label: {en: "x", fr: "x", de: "x"}\n      - value: 7\n'))
    with pytest.raises(ValueError, match="answer options"):
        assess_validity(seven, simulate_responses(seven, 2))
    stricter = profiler.parse_questionnaire(text + "validity_rules:\n  longstring_max: 12\n")
    result = assess_validity(stricter, simulate_responses(ipip, 2))
    assert result.attrs["calibration"]["content_hash_matches"] is False
    assert assess_validity(ipip, simulate_responses(ipip, 2)).attrs["calibration"]["content_hash_matches"] is True


def test_attrs_report_thresholds_as_percentiles(ipip):
    attrs = assess_validity(ipip, simulate_responses(ipip, 2)).attrs
    assert attrs["questionnaire_id"] == "ipip-bfm-50"
    assert set(attrs["threshold_percentiles"]) == {
        "longstring", "irv", "synonyms", "antonyms", "even_odd", "mahalanobis"}
    assert list(attrs["not_available"]) == ["speed", "attention_checks", "infrequency"]
    assert attrs["validity_rules"]["longstring_max"] == 10


# BIG5 -----------------------------------------------------------------------------------------------
def test_calibration_is_reproduced_from_big5(big5_raw):
    path = PROJECT / "tools" / "build_ipip50_validity.py"
    spec = importlib.util.spec_from_file_location("build_ipip50_validity", path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    shipped = (PROJECT / "models" / "ipip-bfm-50" / "validity-calibration.json").read_text(encoding="utf-8")
    assert tool.build().to_json() == shipped


def test_big5_counts_quoted_in_the_docs(big5_raw, ipip):
    items = big5_raw[ipip.item_ids]
    missed = (items == 0).any(axis=1)
    assert (int((~missed).sum()), int(missed.sum()), int((items == 0).all(axis=1).sum())) == (19718, 1, 1)
    result = assess_validity(ipip, items.replace(0, NAN).astype(float), order=BIG5_ORDER)
    assert len(result) == len(big5_raw)  # every row has a verdict, the empty one too
    assert result.verdict.value_counts().to_dict() == {"valid": 16625, "questionable": 2414, "invalid": 680}
    assert result.flagged.explode().value_counts().to_dict() == {
        "mahalanobis": 1431, "even_odd": 1363, "antonyms": 643, "synonyms": 421, "longstring": 66, "irv": 33}
    assert result.verdict[missed].tolist() == ["questionable"]
    assert int((result.longstring == 50).sum()) == 26
    assert list(result.attrs["not_available"]) == ["speed", "attention_checks", "infrequency"]
