"""Raking to population margins and weighted norms, against R's survey package (raking_reference.json)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

import profiler
from profiler.norms import NormsError, NormTable, build_norms, trait_profiles
from profiler.norms.weighting import rake, read_margins, weighted_mean_sd

FIXTURES = Path(__file__).parents[1] / "fixtures"
REFERENCE = json.loads((FIXTURES / "reference" / "raking_reference.json").read_text(encoding="utf-8"))
SAMPLE = pd.read_csv(FIXTURES / "reference" / "raking_sample.csv", dtype={"age_band": str, "region": str})
MINI = profiler.load_questionnaire(FIXTURES / "questionnaires" / "mini.yaml")


@pytest.fixture(scope="module")
def raked():
    return rake(SAMPLE, REFERENCE["margins"])


def test_weights_equal_survey_rake(raked):
    assert raked.converged
    np.testing.assert_allclose(raked.weights.to_numpy(), REFERENCE["weights"], rtol=0, atol=1e-9)
    assert raked.effective_n == pytest.approx(REFERENCE["effective_n"], abs=1e-9)
    for variable, shares in REFERENCE["margins"].items():
        achieved = raked.weights.groupby(SAMPLE[variable]).sum() / raked.weights.sum()
        for category, share in shares.items():
            assert achieved[category] == pytest.approx(share, abs=1e-10)


def test_one_variable_is_post_stratification():
    # By hand: with one variable, each weight is the population share over the sample share of its category.
    margins = {"region": {"north": 0.45, "south": 0.35, "east": 0.20}}
    weights = rake(SAMPLE, margins).weights
    observed = SAMPLE["region"].value_counts(normalize=True)
    expected = SAMPLE["region"].map(lambda c: margins["region"][c] / observed[c])
    np.testing.assert_allclose(weights, expected, rtol=1e-12)


def test_weighted_norm_table_equals_survey(raked):
    with pytest.warns(profiler.NormSampleWarning, match=r"alpha below 0.70 for Voice 0.66 \(large measurement error\)\.$"):
        table = build_norms(MINI, SAMPLE[MINI.item_ids], name="raked", version="1", title="t", population="p",
                            collected="c", sampling="s", source="simulated", scales=["Voice", "Trust", "Climate"],
                            weights=raked.weights)
    worst = {}
    for scale, ref in REFERENCE["scales"].items():
        norm = table.scale(scale)
        worst[scale] = max(abs(norm.mean - ref["mean"]), abs(norm.sd - ref["sd"]),
                           abs(norm.reliability.value - ref["alpha"]))
        np.testing.assert_allclose(norm.distribution.scores, ref["scores"], atol=1e-9)
        np.testing.assert_allclose(norm.distribution.midrank_percentiles, ref["percentiles"], atol=1e-9)
        assert norm.distribution.counts == SAMPLE.pipe(lambda d: MINI.score(d[MINI.item_ids]))[scale].round(9) \
            .value_counts().sort_index().tolist()
    assert max(worst.values()) < 1e-9, worst
    # The weighted table survives its artifact round trip, and profiles read its weighted percentiles.
    again = NormTable.from_json(table.to_json())
    assert again == table
    profile = trait_profiles(MINI, SAMPLE[MINI.item_ids].head(3), again)
    voice = SAMPLE[MINI.item_ids].head(3).pipe(MINI.score)["Voice"]
    grid = np.array(REFERENCE["scales"]["Voice"]["scores"])
    expected = [REFERENCE["scales"]["Voice"]["percentiles"][int(np.argmin(abs(grid - v)))] for v in voice]
    np.testing.assert_allclose(profile[("Voice", "percentile")], expected, atol=1e-9)


def test_unweighted_tables_keep_their_content_and_hash():
    shipped = profiler.load_norms("ipip-bfm-50", "general")
    assert "weighted_shares" not in shipped.to_json()
    assert NormTable.from_json(shipped.to_json()).sha256 == shipped.sha256


def test_weighted_mean_sd_with_equal_weights_is_the_ordinary_one():
    x = np.array([1.0, 2.0, 4.0, 7.0])
    mean, sd = weighted_mean_sd(x, np.full(4, 3.0))
    assert mean == pytest.approx(3.5) and sd == pytest.approx(np.std(x, ddof=1))


def test_margins_are_checked():
    frame = pd.DataFrame({"variable": ["age", "age", "region"], "category": ["a", "b", "n"],
                          "share": ["60", "40", "100"]})
    assert read_margins(frame) == {"age": {"a": 0.6, "b": 0.4}, "region": {"n": 1.0}}
    with pytest.raises(NormsError, match="the shares of 'age' add up to 0.9, not 1"):
        read_margins(pd.DataFrame({"variable": ["age"] * 2, "category": ["a", "b"], "share": [0.5, 0.4]}))
    with pytest.raises(NormsError, match="line 3: share 'many' is not a number"):
        read_margins(pd.DataFrame({"variable": ["age"] * 2, "category": ["a", "b"], "share": ["1", "many"]}))
    with pytest.raises(NormsError, match="categories the margins do not give: 50"):
        rake(SAMPLE.replace({"age_band": {"50+": "50"}}), REFERENCE["margins"])
    with pytest.raises(NormsError, match="nobody in the sample has 'region' = west"):
        rake(SAMPLE, {"region": {"north": 0.4, "south": 0.3, "east": 0.2, "west": 0.1}})
    with pytest.raises(NormsError, match="which is not a column"):
        rake(SAMPLE, {"country": {"x": 1.0}})


def test_impossible_margins_warn():
    # Everybody of region east is 50+: no weights give 'east' 40% and '50+' 10%.
    data = pd.DataFrame({"a": ["young", "old", "old"], "r": ["n", "e", "e"]})
    with pytest.warns(ConvergenceWarning, match="raking did not meet the margins"):
        result = rake(data, {"a": {"young": 0.9, "old": 0.1}, "r": {"n": 0.2, "e": 0.8}}, max_iter=50)
    assert not result.converged
