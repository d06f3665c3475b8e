"""DIF: Mantel-Haenszel against statsmodels, Mantel/SMD by hand, ordinal logistic DIF against OrderedModel,
ETS classes, Benjamini-Hochberg, and a simulated item with DIF among clean ones."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.miscmodels.ordinal_model import OrderedModel
from statsmodels.stats.contingency_tables import StratifiedTable
from statsmodels.stats.multitest import multipletests

import profiler
from profiler.fairness import benjamini_hochberg, dif, score_without
from profiler.fairness.dif import _mantel, ets_class, ets_polytomous_class, logistic_class

EXTRAVERSION = [f"E{i}" for i in range(1, 11)]


@pytest.fixture(scope="module")
def simulated(simulated_questionnaire):
    """2,000 people, one trait, 8 items; item Q4 is much easier to endorse for the focal group."""
    rng = np.random.default_rng(42)
    n, k = 2000, 8
    group = np.where(rng.random(n) < 0.5, "focal", "reference")
    theta = rng.normal(size=n) + np.where(group == "focal", -0.3, 0.0)  # a real trait difference: not DIF
    loadings = rng.uniform(1.2, 1.8, k)
    shift = np.zeros(k)
    shift[3] = 1.5  # uniform DIF on Q4
    latent = theta[:, None] * loadings + (group == "focal")[:, None] * shift + rng.logistic(size=(n, k))
    answers = np.digitize(latent, [-2.0, -0.7, 0.7, 2.0]) + 1
    keyed_minus = [i for i in range(k) if (i + 1) % 3 == 0]
    answers[:, keyed_minus] = 6 - answers[:, keyed_minus]  # stored as answered: reverse-keyed items reversed
    responses = pd.DataFrame(answers.astype(float), columns=[f"Q{i}" for i in range(1, k + 1)])
    return simulated_questionnaire(k), responses, pd.Series(group, name="group")


@pytest.fixture(scope="module")
def big5_sex(big5):
    rows = big5[big5.sex.isin(["male", "female"])]
    return rows[EXTRAVERSION], rows.sex


@pytest.fixture(scope="module")
def big5_dif(big5_sex):
    responses, sex = big5_sex
    # rest-score matching on every item, as statsmodels is given it below
    return dif(responses, profiler.load_questionnaire("ipip-bfm-50"), sex, focal="female", reference="male",
               scales=["Extraversion"], matching="rest", anchors=None)


def keyed_extraversion(responses):
    x = responses[EXTRAVERSION].to_numpy().copy()
    x[:, 1::2] = 6 - x[:, 1::2]
    return x


def test_mantel_haenszel_against_statsmodels(big5_sex, big5_dif):
    responses, sex = big5_sex
    x = keyed_extraversion(responses)
    complete = ~np.isnan(x).any(axis=1)
    x, focal = x[complete], (sex.to_numpy() == "female")[complete]
    for j in (1, 8):  # E2, E9
        y = x[:, j] > 3
        rest = x.sum(axis=1) - x[:, j]
        tables = []
        for r in np.unique(rest):
            s = rest == r
            tables.append([[np.sum(s & ~focal & y), np.sum(s & ~focal & ~y)],
                           [np.sum(s & focal & y), np.sum(s & focal & ~y)]])
        tables = np.array(tables, dtype=float)
        keep = (tables.sum(axis=2) > 0).all(axis=1) & (tables.sum(axis=1) > 0).all(axis=1)
        st = StratifiedTable(tables[keep].transpose(1, 2, 0))
        row = big5_dif.items.iloc[j]
        assert row.mh_alpha == pytest.approx(st.oddsratio_pooled, rel=1e-10)
        assert row.mh_d == pytest.approx(-2.35 * np.log(st.oddsratio_pooled), rel=1e-10)
        assert row.mh_d_se == pytest.approx(2.35 * st.logodds_pooled_se, rel=1e-10)
        test = st.test_null_odds(correction=True)
        assert row.mh_chi2 == pytest.approx(test.statistic, rel=1e-10)
        assert row.mh_p == pytest.approx(test.pvalue, rel=1e-8, abs=1e-300)


def test_mantel_for_a_binary_item_is_cmh_without_correction():
    rng = np.random.default_rng(1)
    strata = rng.integers(0, 6, 500)
    focal = rng.random(500) < 0.4
    y = (rng.random(500) < 0.3 + 0.08 * strata).astype(float)
    tables = np.array([[[np.sum((strata == k) & focal & (y == 1)), np.sum((strata == k) & focal & (y == 0))],
                        [np.sum((strata == k) & ~focal & (y == 1)), np.sum((strata == k) & ~focal & (y == 0))]]
                       for k in range(6)], dtype=float)
    test = StratifiedTable(tables.transpose(1, 2, 0)).test_null_odds(correction=False)
    assert _mantel(y, focal, strata)["mantel_chi2"] == pytest.approx(test.statistic, rel=1e-10)


def test_mantel_and_smd_by_hand():
    rng = np.random.default_rng(4)
    strata = rng.integers(0, 4, 300)
    focal = rng.random(300) < 0.5
    y = rng.integers(1, 6, 300).astype(float)
    num = den = var = smd = 0.0
    for k in range(4):
        s = strata == k
        yk, fk = y[s], focal[s]
        N, nf, nr = len(yk), fk.sum(), (~fk).sum()
        num += yk[fk].sum()
        den += nf * yk.mean()
        var += nr * nf * (N * (yk**2).sum() - yk.sum() ** 2) / (N**2 * (N - 1))
        smd += nf / focal.sum() * (yk[fk].mean() - yk[~fk].mean())
    out = _mantel(y, focal, strata)
    assert out["mantel_chi2"] == pytest.approx((num - den) ** 2 / var, rel=1e-12)
    assert out["smd"] == pytest.approx(smd, rel=1e-12)
    assert out["smd_effect"] == pytest.approx(smd / y.std(ddof=1), rel=1e-12)


def test_ordinal_logistic_dif_against_ordered_model(big5_sex, big5_dif):
    responses, sex = big5_sex
    x = keyed_extraversion(responses)
    complete = ~np.isnan(x).any(axis=1)
    x, g = x[complete], (sex.to_numpy() == "female")[complete].astype(float)
    j = 8  # E9
    y = x[:, j].astype(int) - 1
    rest = x.sum(axis=1) - x[:, j]
    r = rest - rest.mean()
    lls = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for X in (r[:, None], np.column_stack([r, g]), np.column_stack([r, g, r * g])):
            lls.append(OrderedModel(y, X, distr="logit").fit(method="bfgs", disp=False, maxiter=5000, gtol=1e-9).llf)
    row = big5_dif.items.iloc[j]
    assert row.lr_chi2 == pytest.approx(2 * (lls[2] - lls[0]), rel=1e-6)
    assert row.lr_chi2_uniform == pytest.approx(2 * (lls[1] - lls[0]), rel=1e-6)
    assert row.lr_chi2_nonuniform == pytest.approx(2 * (lls[2] - lls[1]), abs=1e-5)
    counts = np.bincount(y)
    ll0 = np.sum(counts * np.log(counts / len(y)))
    nagelkerke = lambda ll: (1 - np.exp(2 * (ll0 - ll) / len(y))) / (1 - np.exp(2 * ll0 / len(y)))  # noqa: E731
    assert row.r2_change == pytest.approx(nagelkerke(lls[2]) - nagelkerke(lls[0]), abs=1e-8)


def test_benjamini_hochberg_against_statsmodels():
    p = np.random.default_rng(0).random(40) ** 3
    assert benjamini_hochberg(p) == pytest.approx(multipletests(p, method="fdr_bh")[1], rel=1e-12)
    assert np.isnan(benjamini_hochberg([0.01, np.nan, 0.04])[1])


def test_ets_classes():
    assert ets_class(-0.9, 0.1, 1e-9) == "A"
    assert ets_class(-1.2, 0.1, 1e-9) == "B-"
    assert ets_class(1.6, 0.2, 1e-9) == "C+"
    assert ets_class(1.6, 0.5, 1e-9) == "B+"  # not significantly beyond 1
    assert ets_class(2.0, 0.2, 0.2) == "A"    # not significant at all
    assert ets_polytomous_class(0.2, 0.001) == "BB+" and ets_polytomous_class(-0.3, 0.001) == "CC-"
    assert ets_polytomous_class(0.3, 0.2) == "AA"
    assert logistic_class(0.05, 0.001, (0.035, 0.070)) == "B"
    assert logistic_class(0.05, 0.001, (0.13, 0.26)) == "A"


def test_simulated_dif_item_is_flagged_and_the_others_are_not(simulated):
    questionnaire, responses, group = simulated
    result = dif(responses, questionnaire, group, focal="focal", reference="reference")
    items = result.items.set_index("item")
    # the focal group endorses Q4 more at equal rest score: "+"
    assert items.loc["Q4", "ets_class"] == "C+" and items.loc["Q4", "ets_poly_class"] == "CC+"
    assert items.loc["Q4", "jodoin_gierl_class"] == "C"
    others = items.drop("Q4")
    assert (others.ets_class.str[0] != "C").all() and (others.ets_poly_class.str[:2] != "CC").all()
    assert result.flagged("C") == ["Q4"]
    assert items.loc["Q4", "lr_chi2_uniform"] > 10 * items.loc["Q4", "lr_chi2_nonuniform"]
    json.dumps(result.to_dict())


def test_scoring_without_flagged_items(simulated):
    questionnaire, responses, group = simulated
    scores = score_without(questionnaire, responses, ["Q4"])
    keyed = responses.copy()
    for i in (3, 6):
        keyed[f"Q{i}"] = 6 - keyed[f"Q{i}"]
    expected = keyed.drop(columns="Q4").mean(axis=1)
    assert scores["Trait"].to_numpy() == pytest.approx(expected.to_numpy())
    assert scores.attrs["excluded_items"] == ["Q4"]
    assert scores.attrs["content_hash"] != questionnaire.content_hash
    assert questionnaire.score(responses)["Trait"].to_numpy() == pytest.approx(keyed.mean(axis=1).to_numpy())
    with pytest.raises(KeyError, match="no items"):
        score_without(questionnaire, responses, ["Q99"])
    with pytest.raises(ValueError, match="without items"):
        score_without(questionnaire, responses, [f"Q{i}" for i in range(1, 9)])


def test_input_errors(simulated):
    questionnaire, responses, group = simulated
    three = group.where(group.index % 10 != 0, "third")
    with pytest.raises(ValueError, match="name focal"):
        dif(responses, questionnaire, three)
    bad = responses.copy()
    bad.iloc[3, 0] = 0
    with pytest.raises(ValueError, match="outside 1..5"):
        dif(bad, questionnaire, group, logistic=False)
