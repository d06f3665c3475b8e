"""Trait profiles against hand computations: T, both percentiles, sten, stanine, SEM and bands."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import profiler
from profiler.norms import (
    MEASURES,
    NormsMismatchError,
    NormTable,
    TraitProfile,
    load_norms,
    profile_scores,
    trait_profile,
    trait_profiles,
)
from profiler.simulation import simulate_responses

HASH = "sha256:" + "ab" * 32
Z90, Z95 = 1.6448536269514722, 1.959963984540054  # scipy.stats.norm.ppf(0.95), ppf(0.975)


@pytest.fixture(scope="module")
def hand_norms() -> NormTable:
    """Scale X: mean 3, SD 0.5, alpha .84 (SEM = 0.5 * 0.4 = 0.2); 25 people at 1.0, 1.5, ..., 5.0."""
    return NormTable.seal(
        name="hand",
        version="0.1",
        title="hand-made",
        questionnaire={"questionnaire_id": "q", "questionnaire_version": "1", "content_hash": HASH},
        population="nobody",
        collected="never",
        sampling="none",
        source="this test",
        sample={"rows_read": 25, "rows_excluded": 0, "n": 25},
        scales=[
            {
                "scale": "X",
                "n": 25,
                "mean": 3.0,
                "sd": 0.5,
                "reliability": {"value": 0.84, "n": 25, "ci95": (0.7, 0.9)},
                "distribution": {
                    "scores": [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0],
                    "counts": [1, 2, 3, 4, 5, 4, 3, 2, 1],
                },
            }
        ],
    )


def _profile(norms, raws, percentiles="empirical"):
    scores = pd.DataFrame({"X": raws}, index=[f"r{i}" for i in range(len(raws))])
    return profile_scores(scores, norms, percentiles=percentiles)["X"]


def test_hand_computed_measures(hand_norms):
    p = _profile(hand_norms, [3.75]).iloc[0]
    # z = (3.75 - 3) / 0.5 = 1.5
    assert p["z"] == pytest.approx(1.5, abs=1e-12)
    assert p["T"] == pytest.approx(65.0, abs=1e-12)
    assert p["sten"] == 9  # 5.5 + 3 = 8.5, a half, rounds up
    assert p["stanine"] == 8  # 5 + 3
    assert p["sem"] == pytest.approx(0.2, abs=1e-12)  # 0.5 * sqrt(1 - .84)
    assert p["raw_90_low"] == pytest.approx(3.75 - Z90 * 0.2, abs=1e-12)
    assert p["raw_90_high"] == pytest.approx(3.75 + Z90 * 0.2, abs=1e-12)
    assert p["raw_95_low"] == pytest.approx(3.75 - Z95 * 0.2, abs=1e-12)
    assert p["raw_95_high"] == pytest.approx(3.75 + Z95 * 0.2, abs=1e-12)
    # In T units the SEM is 10 * 0.2 / 0.5 = 4.
    assert p["T_90_low"] == pytest.approx(65 - Z90 * 4, abs=1e-12)
    assert p["T_90_high"] == pytest.approx(65 + Z90 * 4, abs=1e-12)
    assert p["T_95_low"] == pytest.approx(65 - Z95 * 4, abs=1e-12)
    assert p["T_95_high"] == pytest.approx(65 + Z95 * 4, abs=1e-12)
    # Empirical: between the mid-ranks at 3.5 ((15 + 4/2) / 25 = 68 %) and 4.0 ((19 + 3/2) / 25 = 82 %).
    assert p["percentile"] == pytest.approx(75.0, abs=1e-12)
    normal = _profile(hand_norms, [3.75], "normal").iloc[0]
    assert normal["percentile"] == pytest.approx(93.3192798731142, abs=1e-10)  # 100 * Phi(1.5)


def test_empirical_percentiles_at_attainable_scores(hand_norms):
    p = _profile(hand_norms, [1.0, 1.5, 3.0, 5.0])
    # Mid-rank: (below + at / 2) / n.
    assert p["percentile"].tolist() == pytest.approx([2.0, 8.0, 50.0, 98.0], abs=1e-12)
    assert hand_norms.scale("X").distribution.midrank_percentiles.tolist() == pytest.approx(
        [2, 8, 18, 32, 50, 68, 82, 92, 98], abs=1e-12
    )


@pytest.mark.parametrize(
    "raw, sten, stanine",
    [
        (3.0, 6, 5),  # z = 0: sten 6 covers 0 <= z < .5; stanine 5 covers -.25 <= z < .25
        (3.25, 7, 6),  # z = .5: upper band for sten (5.5 + 1 = 6.5 -> 7)
        (2.75, 5, 4),  # z = -.5: 4.5 -> 5 (sten), 4 -> 4 (stanine)
        (3.125, 6, 6),  # z = .25: stanine 5.5 -> 6
        (2.875, 5, 5),  # z = -.25: sten 5.5 - .5 = 5; stanine 5 - .5 = 4.5 -> 5 (stanine 5 is -.25 <= z < .25)
        (5.0, 10, 9),  # z = 4, clipped
        (1.0, 1, 1),  # z = -4, clipped
    ],
)
def test_sten_and_stanine_band_edges(hand_norms, raw, sten, stanine):
    p = _profile(hand_norms, [raw]).iloc[0]
    z = (raw - 3) / 0.5
    assert p["sten"] == min(10, max(1, math.floor(5.5 + 2 * z + 0.5)))
    assert p["stanine"] == min(9, max(1, math.floor(5 + 2 * z + 0.5)))
    assert (p["sten"], p["stanine"]) == (sten, stanine)


def test_missing_score_gives_missing_measures(hand_norms):
    p = _profile(hand_norms, [np.nan, 3.0])
    assert p.iloc[0][["raw", "z", "T", "percentile", "T_90_low"]].isna().all()
    assert pd.isna(p.iloc[0]["sten"]) and pd.isna(p.iloc[0]["stanine"])
    assert p.iloc[0]["sem"] == pytest.approx(0.2)
    assert str(p["sten"].dtype) == "Int8"


def test_columns_and_provenance(hand_norms):
    scores = pd.DataFrame({"X": [3.0]})
    profiles = profile_scores(scores, hand_norms)
    assert list(profiles.columns) == [("X", m) for m in MEASURES]
    assert profiles.columns.names == ["scale", "measure"]
    assert profiles.attrs["norm_group"] == "hand"
    assert profiles.attrs["norms_sha256"] == hand_norms.sha256
    assert profiles.attrs["percentile_method"].startswith("empirical")
    assert profiles.attrs["factor_scores"].startswith("none")
    assert profile_scores(scores, hand_norms, percentiles="normal").attrs["percentile_method"].startswith("normal")
    with pytest.raises(ValueError, match="percentiles='median'"):
        profile_scores(scores, hand_norms, percentiles="median")
    with pytest.raises(ValueError, match="lack the scale"):
        profile_scores(pd.DataFrame({"Y": [3.0]}), hand_norms)
    scores.attrs["content_hash"] = "sha256:" + "cd" * 32
    with pytest.raises(NormsMismatchError):
        profile_scores(scores, hand_norms)


@pytest.fixture(scope="module")
def ipip():
    return profiler.load_questionnaire("ipip-bfm-50")


@pytest.fixture(scope="module")
def general(ipip):
    return load_norms(ipip, "general")


def test_trait_profiles_many_respondents(ipip, general):
    answers = simulate_responses(ipip, 200, seed=11)
    answers.iloc[3, :8] = np.nan  # too few answered for Extraversion? E1 and E2 are among them
    profiles = trait_profiles(ipip, answers, general, invalid="missing")
    assert profiles.shape == (200, 5 * len(MEASURES))
    assert profiles.index.equals(answers.index)
    scores = ipip.score(answers, invalid="missing")
    for scale in general.scales:
        z = (scores[scale.scale] - scale.mean) / scale.sd
        np.testing.assert_allclose(profiles[(scale.scale, "T")], 50 + 10 * z, atol=1e-12)
        np.testing.assert_allclose(profiles[(scale.scale, "raw")], scores[scale.scale], atol=0)
    assert profiles.attrs["content_hash"] == ipip.content_hash
    assert profiles.attrs["norm_group"] == "general"


def test_small_and_large_profiles_are_made_alike(ipip, general, monkeypatch):
    """A few rows are made in one step, many by inserting the integer measures into the float block: the same
    frame, bit for bit (columns, dtypes, missing values, attributes)."""
    from profiler.norms import profile

    answers = simulate_responses(ipip, 300, seed=5)
    answers.iloc[:40, :12] = np.nan  # some scales without a score, some prorated
    one_step = trait_profiles(ipip, answers, general, invalid="missing")
    monkeypatch.setattr(profile, "SMALL_FRAME", 0)
    inserted = trait_profiles(ipip, answers, general, invalid="missing")
    pd.testing.assert_frame_equal(one_step, inserted, check_exact=True)
    assert one_step.attrs == inserted.attrs
    assert list(one_step.columns.names) == ["scale", "measure"]
    assert one_step[("Extraversion", "sten")].isna().sum() > 0


def test_trait_profiles_refuse_norms_of_other_content(ipip, general):
    text = (profiler.bundled_questionnaires()["ipip-bfm-50"]).read_text(encoding="utf-8")
    changed = profiler.parse_questionnaire(text.replace("I am the life of the party.", "I am the soul of the party."))
    assert changed.content_hash != ipip.content_hash
    answers = simulate_responses(changed, 2, seed=1)
    with pytest.raises(NormsMismatchError, match="content hash"):
        trait_profiles(changed, answers, general)


def test_single_profile_reads_well(ipip, general):
    answers = simulate_responses(ipip, 1, seed=5).iloc[0]
    profile = trait_profile(ipip, answers, general, respondent="cand-7")
    text = str(profile)
    assert "Trait profile of respondent 'cand-7'" in text
    assert "norm group     general 1.0.0" in text
    assert ipip.content_hash in text and general.sha256 in text
    assert "percentiles    empirical" in text
    assert "factor scores: not requested" in text
    assert "Neuroticism (low Emotional Stability)" in text
    e = profile["Extraversion"]
    norm = general.scale("Extraversion")
    assert e.T == pytest.approx(50 + 10 * (e.raw - norm.mean) / norm.sd)
    assert isinstance(e.sten, int)
    assert profile.to_frame().loc["Extraversion", "T"] == e.T
    assert "respondent='cand-7'" in repr(profile)


def test_reading_follows_the_90_percent_band(ipip, general):
    high = {item: 5 if k.sign > 0 else 1 for k in ipip.keys("Extraversion") for item in [k.item]}
    middle = {i: 3 for i in ipip.item_ids}
    profile = trait_profile(ipip, {**middle, **high}, general)
    assert profile["Extraversion"].reading.startswith("above the norm group's average")
    assert "Seeks out company" in profile["Extraversion"].reading
    low = {item: 1 if k.sign > 0 else 5 for k in ipip.keys("Extraversion") for item in [k.item]}
    assert trait_profile(ipip, {**middle, **low}, general)["Extraversion"].reading.startswith("below")
    # 3.0 is 0.01 below the mean: well within the band.
    assert trait_profile(ipip, middle, general)["Extraversion"].reading.startswith("within measurement error")


def test_from_profiles_matches_frame(ipip, general):
    answers = simulate_responses(ipip, 5, seed=2)
    answers.index = [f"c{i}" for i in range(5)]
    profiles = trait_profiles(ipip, answers, general, percentiles="normal")
    one = TraitProfile.from_profiles(profiles, "c3", ipip)
    assert one.percentile_method.startswith("normal")
    for result in one.scales:
        assert result.percentile == profiles.loc["c3", (result.scale, "percentile")]
        row = profiles.loc["c3", result.scale]
        assert result.band_95_T == (row["T_95_low"], row["T_95_high"])


class _Factors:
    """A stand-in for a calibrated factor model (the hook for factor scores)."""

    name, version, sha256 = "test-efa", "0", "sha256:" + "12" * 32

    def __init__(self, content_hash):
        self.content_hash = content_hash

    def check_applies_to(self, questionnaire):
        if questionnaire.content_hash != self.content_hash:
            raise profiler.ProfilerError("calibrated on other content")

    def factor_scores(self, questionnaire, responses):
        return pd.DataFrame({"F1": responses.mean(axis=1), "F2": -responses.mean(axis=1)}, index=responses.index)


def test_factor_score_hook(ipip, general):
    answers = simulate_responses(ipip, 4, seed=3)
    profiles = trait_profiles(ipip, answers, general, factor_model=_Factors(ipip.content_hash))
    np.testing.assert_allclose(profiles[("F1", "factor_score")], answers.mean(axis=1))
    assert profiles.attrs["factor_scores"] == "test-efa 0 (sha256:" + "12" * 32 + ")"
    assert profiles.attrs["norm_group"] == "general"
    with pytest.raises(profiler.ProfilerError, match="other content"):
        trait_profiles(ipip, answers, general, factor_model=_Factors("sha256:" + "0" * 64))
    with pytest.raises(TypeError, match="factor_model"):
        trait_profiles(ipip, answers, general, factor_model=object())
    with pytest.raises(ValueError, match="factor_model='shipped'"):
        trait_profiles(ipip, answers, general, factor_model="shipped")


def test_bundled_factor_model(ipip, general):
    from profiler.factors.calibration import load_factor_model

    answers = simulate_responses(ipip, 6, seed=4)
    answers.iloc[1, 0] = np.nan
    without = trait_profiles(ipip, answers, general, invalid="missing")
    assert without.attrs["factor_scores"].startswith("not requested: a calibrated factor model ships")
    profiles = trait_profiles(ipip, answers, general, invalid="missing", factor_model="bundled")
    model = load_factor_model("ipip-bfm-50")
    expected = model.factor_scores(ipip, answers.drop(index=answers.index[1]))
    for factor in model.factor_names:
        column = profiles[(factor, "factor_score")]
        assert np.isnan(column.iloc[1])  # an unanswered item: no factor score, nothing imputed
        np.testing.assert_allclose(column.drop(index=answers.index[1]), expected[factor], atol=1e-12)
    assert profiles.attrs["factor_scores"] == f"{model.name} {model.version} ({model.sha256})"
    one = TraitProfile.from_profiles(profiles, answers.index[0], ipip)
    assert one["Extraversion"].factor_score == pytest.approx(expected.loc[answers.index[0], "Extraversion"])
    assert "factor" in str(one).splitlines()[5]
    mini = profiler.load_questionnaire(Path(__file__).parents[1] / "fixtures" / "questionnaires" / "mini.yaml")
    from profiler.norms.profile import _factor_model

    assert _factor_model(mini, "bundled") == (None, "none: no calibrated factor model exists for 'team-climate-mini'")
    assert _factor_model(mini, None)[1] == "none: no calibrated factor model exists for 'team-climate-mini'"


def test_empirical_percentile_takes_a_plain_number():
    from profiler.norms import load_norms

    scale = load_norms("ipip-bfm-50", "general").scale("Extraversion")
    assert float(scale.empirical_percentile(3.0)) == float(scale.empirical_percentile([3.0])[0])
    assert np.isnan(scale.empirical_percentile(float("nan")))


# ------------------------------------------------------------------------------------------------
# Prorated scores: SEM * sqrt(k / k')
# ------------------------------------------------------------------------------------------------
def _answered(counts, total):
    frame = pd.DataFrame({"X": counts}, index=[f"r{i}" for i in range(len(counts))])
    frame.attrs["items_total"] = {"X": total}
    return frame


def test_prorated_sem_by_hand(hand_norms):
    # X has 4 items, SEM 0.2. r0 answered 4 (as before), r1 answered 1: SEM 0.2 * sqrt(4 / 1) = 0.4,
    # 90% raw band 3 -/+ 1.6449 * 0.4 = 2.3421..3.6579, 95% T band 50 -/+ 10 * 1.96 * 0.4 / 0.5 = 34.32..65.68;
    # r2 answered 3: SEM 0.2 * sqrt(4/3) = 0.23094; r3 has no score (its SEM stays that of the whole scale).
    scores = pd.DataFrame({"X": [3.0, 3.0, 3.5, np.nan]}, index=[f"r{i}" for i in range(4)])
    p = profile_scores(scores, hand_norms, answered=_answered([4, 1, 3, 0], 4))["X"]
    assert p.loc["r0", "sem"] == hand_norms.scale("X").sem  # exactly the norm group's SEM
    assert p.loc["r1", "sem"] == pytest.approx(0.4, abs=1e-15)
    assert (p.loc["r1", "raw_90_low"], p.loc["r1", "raw_90_high"]) == pytest.approx((3 - Z90 * 0.4, 3 + Z90 * 0.4))
    assert (p.loc["r1", "T_95_low"], p.loc["r1", "T_95_high"]) == pytest.approx((50 - 15.6797, 50 + 15.6797), abs=1e-4)
    assert p.loc["r2", "sem"] == pytest.approx(0.2 * math.sqrt(4 / 3), abs=1e-15)
    assert p.loc["r2", "raw_95_high"] - p.loc["r2", "raw"] == pytest.approx(Z95 * 0.2309401, abs=1e-7)
    assert p.loc["r3", "sem"] == 0.2 and np.isnan(p.loc["r3", "raw_90_low"])
    # Without counts, or with every item answered, the profile is exactly the old one.
    pd.testing.assert_frame_equal(p.loc[["r0"]], profile_scores(scores, hand_norms)["X"].loc[["r0"]])
    assert profile_scores(scores, hand_norms, answered=_answered([4] * 4, 4)).attrs["items_total"] == {"X": 4}


def test_answered_counts_are_checked(hand_norms):
    scores = pd.DataFrame({"X": [3.0, 3.0]}, index=["r0", "r1"])
    with pytest.raises(ValueError, match="items_total"):
        profile_scores(scores, hand_norms, answered=pd.DataFrame({"X": [4, 2]}, index=["r0", "r1"]))
    with pytest.raises(ValueError, match="same index"):
        profile_scores(scores, hand_norms, answered=_answered([4, 2, 1], 4))
    with pytest.raises(ValueError, match="from 1 to 4"):
        profile_scores(scores, hand_norms, answered=_answered([4, 0], 4))
    with pytest.raises(ValueError, match="from 1 to 4"):
        profile_scores(scores, hand_norms, answered=_answered([4, 5], 4))
    other = _answered([4, 2], 4)
    other.attrs["content_hash"] = "sha256:" + "cd" * 32
    with pytest.raises(NormsMismatchError):
        profile_scores(scores, hand_norms, answered=other)


def test_eight_of_ten_extraversion_items(ipip, general):
    # Extraversion: 10 items, min_answered .8; norm SD .922825, alpha .892570, SEM .302470.
    # 8 of 10 answered: SEM = .302470 * sqrt(10 / 8) = .338172; 90% raw band +/- 1.6449 * .338172 = .556244;
    # 90% T band +/- 10 * .556244 / .922825 = 6.0276.
    answers = simulate_responses(ipip, 3, seed=4)
    answers.loc[answers.index[1], ["E3", "E8"]] = np.nan
    norm = general.scale("Extraversion")
    assert norm.sem == pytest.approx(0.3024704, abs=1e-7)
    profiles = trait_profiles(ipip, answers, general, invalid="allow-unanswered")
    e = profiles["Extraversion"]
    assert e["sem"].iloc[1] == pytest.approx(0.3381722, abs=1e-7)
    assert e["sem"].iloc[1] == pytest.approx(norm.sem * math.sqrt(10 / 8), rel=1e-15)
    assert e["raw_90_high"].iloc[1] - e["raw"].iloc[1] == pytest.approx(0.5562437, abs=1e-7)
    assert e["T_90_high"].iloc[1] - e["T"].iloc[1] == pytest.approx(6.0276185, abs=1e-7)
    assert e["T"].iloc[1] - e["T_95_low"].iloc[1] == pytest.approx(10 * Z95 * 0.3381722 / 0.9228251, abs=1e-6)
    # The raw score is the mean of the 8 answered items, as before; other scales and respondents unchanged.
    assert e["raw"].iloc[1] == ipip.score(answers, invalid="allow-unanswered")["Extraversion"].iloc[1]
    old = profile_scores(ipip.score(answers, invalid="allow-unanswered"), general)
    complete = profiles.drop(columns=["Extraversion"], level=0)
    pd.testing.assert_frame_equal(complete, old.drop(columns=["Extraversion"], level=0), check_like=False)
    pd.testing.assert_frame_equal(profiles.iloc[[0, 2]], old.iloc[[0, 2]])
    assert profiles.attrs["items_total"]["Extraversion"] == 10

    profile = trait_profile(ipip, answers.iloc[1], general, invalid="allow-unanswered")
    result = profile["Extraversion"]
    assert (result.items_answered, result.items_total, result.prorated) == (8, 10, True)
    assert result.sem == e["sem"].iloc[1]
    assert result.band_90_T == (e["T_90_low"].iloc[1], e["T_90_high"].iloc[1])
    assert result.reading.endswith("(8 of 10 items answered; wider band)")
    assert "Extraversion: " in str(profile) and "8 of 10 items answered; wider band" in str(profile)
    openness = profile["Openness"]
    assert (openness.items_answered, openness.items_total, openness.prorated) == (10, 10, False)
    assert openness.sem == general.scale("Openness").sem
    assert "items answered" not in openness.reading
    assert TraitProfile.from_profiles(profiles, answers.index[1], ipip)["Extraversion"] == result


def test_too_few_items_keep_the_scale_sem(ipip, general):
    answers = simulate_responses(ipip, 1, seed=4)
    answers[["E1", "E2", "E3"]] = np.nan  # 7 of 10 < .8: no score
    profile = trait_profile(ipip, answers, general, invalid="allow-unanswered")
    e = profile["Extraversion"]
    assert math.isnan(e.raw) and e.sem == general.scale("Extraversion").sem
    assert (e.items_answered, e.items_total, e.prorated) == (None, 10, False)
    assert e.reading == "no score (too few items answered)"


def test_profile_payload_keeps_the_counts(ipip, general):
    from profiler.reports.case import profile_from_dict, profile_to_dict

    answers = simulate_responses(ipip, 1, seed=4)
    answers[["E3", "E8"]] = np.nan
    profile = trait_profile(ipip, answers, general, invalid="allow-unanswered")
    data = profile_to_dict(profile)
    assert data["scales"][0]["items_answered"] == 8 and data["scales"][0]["items_total"] == 10
    assert profile_from_dict(data) == profile
    # A payload written before the counts existed still reads; the counts are unknown.
    for scale in data["scales"]:
        del scale["items_answered"], scale["items_total"]
    old = profile_from_dict(data)
    assert old["Extraversion"].items_answered is None and not old["Extraversion"].prorated
    assert old["Extraversion"].sem == profile["Extraversion"].sem


JOB_MODEL = """
id: prorated-sem
version: "1"
role: {title: Test role}
job_analysis: {method: written for the tests}
questionnaire: ipip-bfm-50
norms: general
evidence:
  - {id: sample, kind: test_score, name: Work sample, min: 0, max: 100, reliability: 0.8,
     norm: {mean: 50, sd: 15, group: test applicants}}
criteria:
  - {id: sample, input: evidence.sample, transform: {kind: linear, at_zero: 0, at_one: 100}, weight: 2,
     rationale: r}
  - {id: e, input: trait.Extraversion, transform: {kind: linear, at_zero: 1, at_one: 5}, weight: 1, rationale: r}
  - {id: c, input: trait.Conscientiousness, transform: {kind: linear, at_zero: 1, at_one: 5}, weight: 1,
     rationale: r}
bands: {advance_from: 60, not_advance_below: 45, review_margin: 2}
"""


def test_job_model_uses_the_respondents_own_sem(ipip, general):
    from profiler.jobmodel import parse_job_model

    model = parse_job_model(JOB_MODEL)
    answers = simulate_responses(ipip, 1, seed=4)
    complete = trait_profile(ipip, answers, general)
    answers[["E3", "E8"]] = np.nan
    prorated = trait_profile(ipip, answers, general, invalid="allow-unanswered")
    # Score = (2 * sample + 100 * (E - 1) / 4 + 100 * (C - 1) / 4) / 4, so
    # SE = sqrt((SEM_sample / 2)^2 + (6.25 * SEM_E)^2 + (6.25 * SEM_C)^2), SEM_sample = 15 * sqrt(.2) = 6.7082,
    # SEM_C = .316005: complete sqrt(3.3541^2 + (6.25 * .302470)^2 + 1.9750^2) = 4.3272; with 8 of 10
    # Extraversion items answered SEM_E = .338172: sqrt(3.3541^2 + (6.25 * .338172)^2 + 1.9750^2) = 4.4292.
    sample = {"sample": {"score": 60, "source": "s", "date": "2026-05-01"}}
    se_complete = model.evaluate(complete, sample, as_of="2026-06-01").stability.se_score
    se_prorated = model.evaluate(prorated, sample, as_of="2026-06-01").stability.se_score
    sem_e, sem_c = general.scale("Extraversion").sem, general.scale("Conscientiousness").sem
    sample_part = 15 * math.sqrt(0.2) / 2
    assert se_complete == pytest.approx(math.hypot(sample_part, 6.25 * sem_e, 6.25 * sem_c), rel=1e-12)
    assert se_prorated == pytest.approx(math.hypot(sample_part, 6.25 * sem_e * math.sqrt(10 / 8), 6.25 * sem_c),
                                        rel=1e-12)
    assert (round(se_complete, 4), round(se_prorated, 4)) == (4.3272, 4.4292)
