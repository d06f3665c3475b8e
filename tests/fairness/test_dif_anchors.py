"""DIF that holds up: matching on the total score (ETS, difR) against statsmodels, given anchors, iterative
purification when many items are biased the same way, non-uniform (crossing) DIF flags, each person's effect
against statsmodels' OrderedModel, and group labels as plain arrays."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.miscmodels.ordinal_model import OrderedModel
from statsmodels.stats.contingency_tables import StratifiedTable

from profiler.fairness import FairnessInputError, dif


def simulate(simulated_questionnaire, n: int, k: int, *, uniform=(), crossing=(), seed: int = 1, shift: float = 1.0):
    """``n`` people, one trait, ``k`` items on 1-5 (every third reverse keyed). Items in ``uniform`` are easier to
    endorse for the focal group by ``shift`` logits; items in ``crossing`` have a focal slope a quarter of the
    reference's, so the groups' curves cross near the middle of the trait. The focal group's mean is 0.3 SD lower:
    a real difference, not DIF."""
    rng = np.random.default_rng(seed)
    group = np.where(rng.random(n) < 0.5, "focal", "reference")
    focal = group == "focal"
    theta = rng.normal(size=n) + np.where(focal, -0.3, 0.0)
    slopes = np.tile(rng.uniform(1.3, 1.8, k), (n, 1))
    offsets = np.zeros((n, k))
    offsets[np.ix_(focal, list(uniform))] = shift
    slopes[np.ix_(focal, list(crossing))] *= 0.25
    answers = np.digitize(theta[:, None] * slopes + offsets + rng.logistic(size=(n, k)), [-2.0, -0.7, 0.7, 2.0]) + 1
    reverse = [i for i in range(k) if (i + 1) % 3 == 0]
    answers[:, reverse] = 6 - answers[:, reverse]
    responses = pd.DataFrame(answers.astype(float), columns=[f"Q{i}" for i in range(1, k + 1)])
    return simulated_questionnaire(k), responses, pd.Series(group, name="group")


@pytest.fixture(scope="module")
def many_biased(simulated_questionnaire):
    """20 items, 6 of them (Q1, Q4, ..., Q16) biased in the same direction."""
    return simulate(simulated_questionnaire, 2000, 20, uniform=(0, 3, 6, 9, 12, 15), seed=3)


def keyed(questionnaire, responses):
    signs = {k.item: k.sign for k in questionnaire.keys("Trait")}
    return np.column_stack([responses[i] if signs[i] > 0 else 6 - responses[i] for i in responses.columns])


def mh_by_hand(y, focal, match):
    tables = np.array([[[np.sum((match == m) & ~focal & y), np.sum((match == m) & ~focal & ~y)],
                        [np.sum((match == m) & focal & y), np.sum((match == m) & focal & ~y)]]
                       for m in np.unique(match)], dtype=float)
    keep = (tables.sum(axis=2) > 0).all(axis=1) & (tables.sum(axis=1) > 0).all(axis=1)
    return StratifiedTable(tables[keep].transpose(1, 2, 0))


@pytest.mark.parametrize("anchors", [None, ["Q2", "Q3", "Q5", "Q8", "Q11"]])
def test_total_score_matching_against_statsmodels(many_biased, anchors):
    questionnaire, responses, group = many_biased
    result = dif(responses, questionnaire, group, focal="focal", reference="reference", anchors=anchors,
                 logistic=False)
    x = keyed(questionnaire, responses)
    focal = (group == "focal").to_numpy()
    columns = list(responses.columns)
    anchor_sum = x[:, [columns.index(a) for a in (anchors or columns)]].sum(axis=1)
    for item in ("Q1", "Q3", "Q7"):
        j = columns.index(item)
        match = anchor_sum + (0 if anchors is None or item in anchors else x[:, j])  # ETS: the studied item counts
        st = mh_by_hand(x[:, j] > 3, focal, match)
        row = result.items.set_index("item").loc[item]
        assert row.mh_alpha == pytest.approx(st.oddsratio_pooled, rel=1e-10)
        assert row.mh_d_se == pytest.approx(2.35 * st.logodds_pooled_se, rel=1e-10)
        assert row.mh_chi2 == pytest.approx(st.test_null_odds(correction=True).statistic, rel=1e-10)
        assert row.anchor == (anchors is None or item in anchors)


def test_purification_removes_the_artificial_dif_of_a_contaminated_matching_score(many_biased):
    questionnaire, responses, group = many_biased
    biased = ["Q1", "Q4", "Q7", "Q10", "Q13", "Q16"]
    contaminated = dif(responses, questionnaire, group, focal="focal", reference="reference", anchors=None)
    false_alarms = sorted(set(contaminated.flagged("B")) - set(biased), key=lambda i: int(i[1:]))
    assert false_alarms == ["Q6", "Q11", "Q12"]  # clean items made to look biased the other way
    assert contaminated.items.set_index("item").loc[false_alarms, "mh_d"].lt(0).all()
    purified = dif(responses, questionnaire, group, focal="focal", reference="reference")
    assert sorted(purified.flagged("B"), key=lambda i: int(i[1:])) == biased
    assert purified.anchors == {"Trait": [f"Q{i}" for i in range(1, 21) if f"Q{i}" not in biased]}
    assert purified.purification["converged"] and len(purified.purification["rounds"]) == 2
    # A fixed point: analysed with the anchors purification ended on, the same figures.
    again = dif(responses, questionnaire, group, focal="focal", reference="reference", anchors=purified.anchors)
    pd.testing.assert_frame_equal(again.items, purified.items)


def test_crossing_dif_is_flagged_as_non_uniform(simulated_questionnaire):
    questionnaire, responses, group = simulate(simulated_questionnaire, 3000, 12, crossing=(1, 5, 9), seed=1)
    result = dif(responses, questionnaire, group, focal="focal", reference="reference")
    assert result.flagged("B") == ["Q2", "Q6", "Q10"]
    items = result.items.set_index("item")
    assert (items.loc[["Q2", "Q6", "Q10"], "nonuniform_class"] != "A").all()
    assert (items.loc[["Q2", "Q6", "Q10"], "dif_type"].isin(["non-uniform", "both"])).all()
    assert items.loc["Q6", "dif_type"] == "non-uniform"
    # Mantel-Haenszel and Mantel alone (the default before non-uniform flags) miss Q6.
    assert "Q6" not in result.flagged("B", methods=("mh", "mantel"))
    assert (items.drop(["Q2", "Q6", "Q10"]).dif_type == "").all()


def test_each_persons_effect_against_ordered_model(many_biased):
    questionnaire, responses, group = many_biased
    result = dif(responses, questionnaire, group, focal="focal", reference="reference")
    x = keyed(questionnaire, responses)
    focal = (group == "focal").to_numpy()
    columns = list(responses.columns)
    anchor_sum = x[:, [columns.index(a) for a in result.anchors["Trait"]]].sum(axis=1)
    expected = np.zeros(len(x))
    for item in result.flagged("B"):
        j = columns.index(item)
        match = anchor_sum + x[:, j]
        r = match - match.mean()
        codes = np.unique(x[:, j], return_inverse=True)[1]
        values = np.unique(x[:, j])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = OrderedModel(codes, np.column_stack([r, focal, r * focal]), distr="logit").fit(
                method="bfgs", disp=False, maxiter=5000, gtol=1e-10)
        as_focal = fit.model.predict(fit.params, exog=np.column_stack([r, np.ones_like(r), r]))
        as_reference = fit.model.predict(fit.params, exog=np.column_stack([r, np.zeros_like(r), 0 * r]))
        expected += (as_focal - as_reference) @ values
    expected /= 20  # a mean score of 20 items
    effects = result.effects["Trait"]
    assert effects.index.equals(responses.index[focal])
    np.testing.assert_allclose(effects.to_numpy(), expected[focal], atol=1e-5)
    summary = result.effect_summary.set_index("scale").loc["Trait"]
    assert summary.mean_effect == pytest.approx(expected[focal].mean(), abs=1e-5)
    assert summary.mean_effect > 0  # the biased items favour the focal group
    assert summary.flagged_items == "Q1, Q4, Q7, Q10, Q13, Q16"


def test_groups_as_plain_arrays(many_biased):
    questionnaire, responses, group = many_biased
    as_series = dif(responses, questionnaire, group, focal="focal", reference="reference", logistic=False)
    for labels in (group.tolist(), group.to_numpy(), pd.Categorical(group)):
        other = dif(responses, questionnaire, labels, focal="focal", reference="reference", logistic=False)
        pd.testing.assert_frame_equal(other.items, as_series.items)
    with pytest.raises(FairnessInputError, match="has 3 labels but the data has 2000 rows"):
        dif(responses, questionnaire, ["focal", "reference", "focal"])
    with pytest.raises(FairnessInputError, match="anchor item\\(s\\) Q99 are not items"):
        dif(responses, questionnaire, group, focal="focal", reference="reference", anchors=["Q1", "Q99"])
    with pytest.raises(ValueError, match="matching='sum'"):
        dif(responses, questionnaire, group, matching="sum")
