"""CMH, Mantel-Haenszel odds and rate ratios and Breslow-Day against statsmodels' StratifiedTable."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.contingency_tables import StratifiedTable

from profiler.fairness import breslow_day, cochran_mantel_haenszel, pooled_impact


@pytest.mark.parametrize("seed", range(5))
def test_against_statsmodels(seed):
    rng = np.random.default_rng(seed)
    tables = rng.integers(1, 80, size=(int(rng.integers(2, 9)), 2, 2)).astype(float)
    theirs = StratifiedTable(tables.transpose(1, 2, 0))
    ours = cochran_mantel_haenszel(tables)
    assert ours.odds_ratio == pytest.approx(theirs.oddsratio_pooled, rel=1e-12)
    assert ours.log_odds_ratio_se == pytest.approx(theirs.logodds_pooled_se, rel=1e-12)
    assert ours.odds_ratio_ci == pytest.approx(theirs.oddsratio_pooled_confint(), rel=1e-12)
    assert ours.rate_ratio == pytest.approx(theirs.riskratio_pooled, rel=1e-12)
    for correction in (False, True):
        test = theirs.test_null_odds(correction=correction)
        mine = cochran_mantel_haenszel(tables, correction=correction)
        assert mine.cmh_chi2 == pytest.approx(test.statistic, rel=1e-12)
        assert mine.cmh_p == pytest.approx(test.pvalue, rel=1e-10)
    for tarone in (True, False):
        test = theirs.test_equal_odds(adjust=tarone)
        bd = breslow_day(tables, tarone=tarone)
        assert bd["chi2"] == pytest.approx(test.statistic, rel=1e-10, abs=1e-12)
        assert bd["p"] == pytest.approx(test.pvalue, rel=1e-8, abs=1e-14)
        assert bd["df"] == len(tables) - 1


def test_rate_ratio_ci_by_hand_for_one_stratum():
    # one stratum: the MH rate ratio is the crude ratio and Greenland-Robins is the Katz log variance
    t = np.array([[[12, 28], [30, 30]]], dtype=float)
    r = cochran_mantel_haenszel(t)
    se = np.sqrt(1 / 12 - 1 / 40 + 1 / 30 - 1 / 60)
    assert r.rate_ratio == pytest.approx(0.6)
    z = 1.959963984540054
    assert r.rate_ratio_ci == pytest.approx((0.6 * np.exp(-z * se), 0.6 * np.exp(z * se)))


def test_uninformative_strata_are_dropped_and_counted():
    tables = np.array([[[5, 5], [3, 7]], [[4, 0], [0, 0]], [[6, 4], [2, 8]]], dtype=float)
    r = cochran_mantel_haenszel(tables)
    assert r.n_strata == 2 and r.n_strata_dropped == 1
    assert r.odds_ratio == pytest.approx(cochran_mantel_haenszel(tables[[0, 2]]).odds_ratio)


def test_pooled_impact_over_sites_warns_when_odds_ratios_differ():
    rng = np.random.default_rng(7)
    rows = []
    # site A: women hired less often; site B: more often -> heterogeneous
    for site, pf, pm in (("A", 0.2, 0.5), ("B", 0.6, 0.3), ("C", 0.4, 0.4)):
        for sex, p in (("f", pf), ("m", pm)):
            rows += [(site, sex, int(rng.random() < p)) for _ in range(300)]
    frame = pd.DataFrame(rows, columns=["site", "sex", "hired"])
    result = pooled_impact(frame.hired, frame.sex, frame.site, focal="f", reference="m")
    assert list(result.strata.stratum) == ["A", "B", "C"]
    assert result.homogeneity["p"] < 0.001 and result.homogeneity["tarone"]
    assert any("Breslow-Day" in n for n in result.notes)
    a = result.strata.iloc[0]
    assert a.impact_ratio == pytest.approx(a.rate_focal / a.rate_reference)
    json.dumps(result.to_dict())


def test_bad_tables():
    with pytest.raises(ValueError, match="shape"):
        cochran_mantel_haenszel(np.ones((3, 2, 3)))
    with pytest.raises(ValueError, match="nothing to pool"):
        cochran_mantel_haenszel(np.array([[[1, 0], [0, 0]]]))
