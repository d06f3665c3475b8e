"""IRT-scored trait profiles: theta and each person's SE, normed, with bands from that SE."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import profiler
from profiler.irt import load_irt_calibration
from profiler.norms import IRT_MEASURES, NormsError, irt_trait_profiles, trait_profiles


@pytest.fixture(scope="module")
def ipip():
    return profiler.load_questionnaire("ipip-bfm-50")


@pytest.fixture(scope="module")
def answers(ipip):
    return profiler.simulate_responses(ipip, 400, seed=8)


@pytest.fixture(scope="module")
def profiles(ipip, answers):
    return irt_trait_profiles(ipip, answers)


def test_columns_and_provenance(profiles, ipip):
    assert list(profiles.columns.get_level_values(0).unique()) == ipip.scale_ids
    assert list(profiles["Neuroticism"].columns) == list(IRT_MEASURES)
    assert profiles.attrs["content_hash"] == ipip.content_hash
    assert profiles.attrs["irt_calibrations"]["Openness"].startswith("big5-2012 1.0.0 (sha256:")
    assert profiles.attrs["theta_norms"]["Openness"] == {"mean": 0.0, "sd": 1.0}


def test_theta_is_the_calibrations_eap_and_the_measures_follow(profiles, ipip, answers):
    scored = load_irt_calibration("ipip-bfm-50", "Extraversion").score(ipip, answers)
    e = profiles["Extraversion"]
    assert e["theta"].to_numpy() == pytest.approx(scored["theta"].to_numpy())
    assert e["se"].to_numpy() == pytest.approx(scored["se"].to_numpy())
    assert e["T"].to_numpy() == pytest.approx(50 + 10 * e["theta"].to_numpy())
    assert e["percentile"].to_numpy() == pytest.approx(100 * stats.norm.cdf(e["theta"].to_numpy()))
    assert e["sten"].to_numpy(dtype=int) == pytest.approx(np.clip(np.floor(5.5 + 2 * e["theta"] + 0.5), 1, 10))
    half = 10 * stats.norm.ppf(0.95) * e["se"].to_numpy()
    assert (e["T_90_high"] - e["T_90_low"]).to_numpy() == pytest.approx(2 * half)
    assert (e["theta_95_high"] - e["theta"]).to_numpy() == pytest.approx(stats.norm.ppf(0.975) * e["se"].to_numpy())


def test_agrees_with_classical_profiles(profiles, ipip, answers):
    classical = trait_profiles(ipip, answers, profiler.load_norms(ipip, "general"))
    for scale in ipip.scale_ids:
        assert np.corrcoef(profiles[scale]["T"], classical[scale]["T"])[0, 1] > 0.95, scale


def test_skipped_items_widen_the_persons_band(ipip, answers):
    partial = answers.head(3).astype(float).copy()
    partial.loc[partial.index[1], ["E1", "E3", "E5", "E7"]] = np.nan
    profile = irt_trait_profiles(ipip, partial, invalid="allow-unanswered")["Extraversion"]
    full = irt_trait_profiles(ipip, answers.head(3))["Extraversion"]
    assert profile["n_answered"].tolist() == [10, 6, 10]
    assert profile["se"].iloc[1] > full["se"].iloc[1]
    assert profile["se"].iloc[[0, 2]].to_numpy() == pytest.approx(full["se"].iloc[[0, 2]].to_numpy())


def test_theta_norms_of_another_group(ipip, answers):
    normed = irt_trait_profiles(ipip, answers.head(5), theta_norms={"Neuroticism": (0.36, 0.97)})
    n = normed["Neuroticism"]
    assert n["z"].to_numpy() == pytest.approx(((n["theta"] - 0.36) / 0.97).to_numpy())
    assert (n["T_95_high"] - n["T_95_low"]).to_numpy() == pytest.approx(
        2 * 10 * stats.norm.ppf(0.975) * n["se"].to_numpy() / 0.97)
    with pytest.raises(NormsError, match="SD must be positive"):
        irt_trait_profiles(ipip, answers.head(5), theta_norms={"Neuroticism": (0.0, 0.0)})
    with pytest.raises(NormsError, match="give the calibrations or 'bundled'"):
        irt_trait_profiles(ipip, answers.head(5), "shipped")
