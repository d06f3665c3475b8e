"""Calibrating a questionnaire in one call: artifact round trip, factor scores, reliabilities, the shipped model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import profiler
from profiler.factors import CFA, cronbach_alpha
from profiler.factors.calibration import (
    FactorModel,
    FactorModelError,
    calibrate_questionnaire,
    load_factor_model,
)
from profiler.factors.scale_keys import cfa_keys
from profiler.simulation import simulate_responses


@pytest.fixture(scope="module")
def ipip():
    return profiler.load_questionnaire("ipip-bfm-50")


@pytest.fixture(scope="module")
def sample(ipip):
    answers = simulate_responses(ipip, 3000, seed=21)
    answers.iloc[:7, 3] = np.nan  # incomplete rows are excluded listwise and counted
    return answers


@pytest.fixture(scope="module")
def model(ipip, sample):
    return calibrate_questionnaire(ipip, sample, name="simulated", source="simulated test sample")


def test_sample_accounting(model):
    assert model.sample == {"n": 2993, "rows_read": 3000, "rows_excluded": 7, "source": "simulated test sample"}
    assert model.questionnaire["questionnaire_id"] == "ipip-bfm-50"


def test_round_trip_is_identical_and_tampering_is_detected(model, tmp_path):
    path = model.write(tmp_path / "fm.json")
    again = FactorModel.read(path)
    assert again == model and again.to_json() == model.to_json()
    path.write_text(path.read_text().replace('"alpha": 0.', '"alpha": 0.0', 1))
    with pytest.raises(FactorModelError, match="edited after it was calibrated"):
        FactorModel.read(path)


def test_efa_factors_are_named_after_the_scales(model, ipip):
    assert model.factor_names == ipip.scale_ids
    assert min(model.efa["congruence_with_keys"].values()) > 0.85
    loadings = pd.DataFrame(model.efa["loadings"]).T
    assert loadings.loc["E1", "Extraversion"] > 0.4 and loadings.loc["E2", "Extraversion"] < -0.4


def test_factor_scores_equal_the_cfa_regression_scores(model, ipip, sample):
    complete = sample.dropna()
    cfa = CFA.from_scales(cfa_keys(ipip, ipip.scale_ids)).fit(complete)
    expected = cfa.transform(complete.iloc[:50])[ipip.scale_ids]
    got = model.factor_scores(ipip, complete.iloc[:50])
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), atol=1e-9)
    assert model.cfa["fit_indices"]["df"] == cfa.fit_indices_["df"]


def test_reliability_equals_direct_computation(model, ipip, sample):
    complete = sample.dropna()
    keys = [str(k) for k in ipip.keys("Openness")]
    alpha = cronbach_alpha(complete, keys, item_range=(1, 5))
    values = model.reliability["Openness"]
    assert values["alpha"] == pytest.approx(alpha.raw_alpha, abs=1e-12)
    scale_sd = ipip.score(complete)["Openness"].std(ddof=1)
    assert values["sem"] == pytest.approx(scale_sd * np.sqrt(1 - alpha.raw_alpha), abs=1e-12)


def test_factor_model_refuses_other_content(model):
    other = profiler.parse_questionnaire(
        profiler.bundled_questionnaires()["ipip-bfm-50"].read_text(encoding="utf-8").replace(
            "I am the life of the party.", "I am often the life of the party."))
    with pytest.raises(FactorModelError, match="calibrated on ipip-bfm-50"):
        model.factor_scores(other, pd.DataFrame())


def test_factor_scores_point_the_way_of_their_scales(model, ipip, sample):
    complete = sample.dropna()
    factors = model.factor_scores(ipip, complete)
    scales = ipip.score(complete)
    for name in ipip.scale_ids:
        assert np.corrcoef(factors[name], scales[name])[0, 1] > 0.9, name


def test_shipped_factor_model_loads_and_applies(ipip):
    shipped = load_factor_model("ipip-bfm-50")
    shipped.check_applies_to(ipip)
    assert shipped.sample["n"] == 19718 and shipped.sample["rows_excluded"] == 1
    assert shipped.reliability["Extraversion"]["alpha"] == pytest.approx(0.892, abs=5e-4)


def test_cfa_from_questionnaire_is_the_calibration_model(model, ipip, sample):
    cfa = CFA.from_questionnaire(ipip).fit(sample.dropna())
    assert cfa.latent_names_ == tuple(ipip.scale_ids)
    assert cfa.fit_indices_["chisq"] == pytest.approx(model.cfa["fit_indices"]["chisq"], rel=1e-9)
    loadings = cfa.estimates_[cfa.estimates_["op"] == "=~"]
    first = loadings.groupby("lhs", sort=False)["rhs"].first()
    assert first["Agreeableness"] == "A2"  # A1 is reverse keyed: not the marker
