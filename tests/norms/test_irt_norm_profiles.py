"""IRT scores placed against raw-score norms: the expected raw score at theta with each person's own SEM, which
job models and decision stability then use."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import profiler
from profiler.cat import synthetic_bank
from profiler.irt import ItemBank, load_irt_calibration
from profiler.norms import TraitProfile, expected_scale_score, irt_norm_profiles, trait_profiles

Z90 = 1.6448536269514722


@pytest.fixture(scope="module")
def ipip():
    return profiler.load_questionnaire("ipip-bfm-50")


@pytest.fixture(scope="module")
def job_model():
    return profiler.load_job_model("customer-support")


@pytest.fixture(scope="module")
def answers(ipip):
    full = profiler.simulate_responses(ipip, 60, seed=11)
    half = full.copy()
    half.iloc[30:, [i for i, item in enumerate(ipip.item_ids) if item[-1] in "13579"]] = np.nan  # 5 of 10 left
    return half


def test_expected_value_is_the_probability_weighted_total_and_its_derivative():
    bank, _ = synthetic_bank(12, 3)
    gpcm = ItemBank(["g1", "g2"], ["gpcm", "gpcm"], [1.3, 0.8], [[0.5, 0.2, -0.9], [1.0, 0.4]],
                    [[1, 2, 3, 4], [0, 1, 2]])
    theta = np.linspace(-3, 3, 13)
    for b in (bank, gpcm):
        values = [np.cos(np.arange(len(c))) * 3 + j for j, c in enumerate(b.categories)]  # any values
        total, slope = b.expected_value(theta, values)
        p = b.probabilities(theta)
        explicit = sum((p[:, j, : len(v)] * v).sum(axis=1) for j, v in enumerate(values))
        np.testing.assert_allclose(total, explicit, rtol=1e-13, atol=1e-13)
        h = 1e-5
        numeric = (b.expected_value(theta + h, values)[0] - b.expected_value(theta - h, values)[0]) / (2 * h)
        np.testing.assert_allclose(slope, numeric, rtol=1e-7, atol=1e-9)
    # The GRM's closed form: dE/dtheta = sum_k (v_k - v_(k-1)) a P*_k (1 - P*_k) over the boundaries.
    a, d = bank.slopes[0], bank.intercepts[0]
    star = 1 / (1 + np.exp(-(a * theta[:, None] + d[None, :])))
    values = [np.arange(5.0)] + [np.zeros(5)] * (bank.n_items - 1)
    np.testing.assert_allclose(bank.expected_value(theta, values)[1], (a * star * (1 - star)).sum(axis=1), rtol=1e-12)


def test_the_expected_scale_score_runs_the_scales_way_over_its_range(ipip):
    for scale in ("Extraversion", "Neuroticism"):  # both have reverse-keyed items
        calibration = load_irt_calibration("ipip-bfm-50", scale)
        expected, slope = expected_scale_score(ipip, calibration, [-6.0, 0.0, 6.0])
        assert 1.0 < expected[0] < 1.1 and 4.9 < expected[2] < 5.0 and np.all(slope > 0)
        # theta = 0 is the calibration sample's mean: its expected score is near the norm group's mean
        assert abs(expected[1] - profiler.load_norms("ipip-bfm-50", "general").scale(scale).mean) < 0.15


def test_irt_scores_with_their_own_sem_against_raw_norms(ipip, job_model, answers):
    norms = job_model.norms
    profiles = irt_norm_profiles(ipip, answers, norms, invalid="allow-unanswered")
    classical = trait_profiles(ipip, answers, norms, invalid="allow-unanswered")
    calibration = load_irt_calibration("ipip-bfm-50", "Extraversion")
    scored = calibration.score(ipip, answers)
    e = profiles["Extraversion"]
    expected, slope = expected_scale_score(ipip, calibration, scored["theta"].to_numpy())
    np.testing.assert_allclose(e["theta"], scored["theta"], rtol=0, atol=0)
    np.testing.assert_allclose(e["raw"], expected, rtol=1e-14)
    np.testing.assert_allclose(e["sem"], slope * scored["se"], rtol=1e-14)
    np.testing.assert_allclose(e["raw_90_high"], e["raw"] + Z90 * e["sem"], rtol=1e-12)
    scale = norms.scale("Extraversion")
    np.testing.assert_allclose(e["z"], (e["raw"] - scale.mean) / scale.sd, rtol=1e-12)
    # Half the items answered: a larger SEM of its own (about sqrt(2) times), not one prorated for everybody
    ratio = e["sem"].iloc[30:].mean() / e["sem"].iloc[:30].mean()
    assert 1.25 < ratio < 1.6
    assert e["sem"].std() > 0 and classical[("Extraversion", "sem")].iloc[:30].nunique() == 1
    # The IRT score and the raw score rank people alike
    assert np.corrcoef(e["raw"].iloc[:30], classical[("Extraversion", "raw")].iloc[:30])[0, 1] > 0.95
    # Only the calibrated scales given are IRT-scored
    some = irt_norm_profiles(ipip, answers, norms, {"Extraversion": calibration}, invalid="allow-unanswered")
    pd.testing.assert_frame_equal(some["Openness"], classical["Openness"])
    assert list(some["Extraversion"].columns)[-2:] == ["theta", "theta_se"]


def test_job_models_and_stability_use_each_persons_sem(ipip, job_model, answers):
    profiles = irt_norm_profiles(ipip, answers, job_model.norms, invalid="allow-unanswered")
    traits = [i.key for i in job_model._compiled.inputs if i.is_trait]
    frame = pd.DataFrame({f"trait.{s}": profiles[(s, "raw")] for s in traits}
                         | {f"trait.{s}.sem": profiles[(s, "sem")] for s in traits})
    many = job_model.evaluate_many(frame)
    without = job_model.evaluate_many(frame[[f"trait.{s}" for s in traits]])
    for respondent in (profiles.index[0], profiles.index[40]):
        one = job_model.evaluate(TraitProfile.from_profiles(profiles, respondent, ipip))
        assert one.stability.se_score == pytest.approx(many.loc[respondent, "se_score"], rel=1e-12)
        assert one.score == pytest.approx(many.loc[respondent, "score"], rel=1e-12)
    # The person's own SEM changes the score's SE (larger where half the items were left out)
    assert not np.allclose(many["se_score"], without["se_score"])
    assert many["se_score"].iloc[30:].mean() > many["se_score"].iloc[:30].mean()
    # The norm table's SEM given as the person's own is the default
    norm_sem = {f"trait.{s}.sem": job_model.norms.scale(s).sem for s in traits}
    same = job_model.evaluate_many(frame[[f"trait.{s}" for s in traits]].assign(**norm_sem))
    pd.testing.assert_series_equal(same["se_score"], without["se_score"])
    bad = frame.assign(**{f"trait.{traits[0]}.sem": -1.0})
    with pytest.raises(profiler.EvidenceError, match=f"trait.{traits[0]}.sem: 60 row"):
        job_model.evaluate_many(bad)
