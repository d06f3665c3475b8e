"""Two-group GRMs and DIF against mirt 1.47 (multipleGroup, DIF(scheme = "drop")) on bfi N1..N5 by gender."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from profiler.irt import IRTDataError, MultiGroupGRM

TOL = 1e-3
PARAMS = ["a1", "d1", "d2", "d3", "d4", "d5"]


@pytest.fixture(scope="module")
def by_gender(bfi_all, tools):
    data = bfi_all[[*tools.N_ITEMS, "gender"]].dropna()
    return data[tools.N_ITEMS], np.where(data["gender"] == 1, "male", "female")


@pytest.fixture(scope="module")
def invariant(by_gender):
    return MultiGroupGRM(invariance="items", reference="male").fit(*by_gender)


@pytest.fixture(scope="module")
def dif_result(invariant):
    return invariant.dif()


def _group_params(model, ref, tools):
    for group in ("male", "female"):
        theirs = tools.table(ref["params"][group], tools.N_ITEMS, PARAMS)
        assert model.params_.loc[group].loc[tools.N_ITEMS, PARAMS].to_numpy() == pytest.approx(theirs, abs=TOL), group


def test_configural(by_gender, mirt_ref, tools):
    ref = mirt_ref["grm_N_by_gender_configural"]
    model = MultiGroupGRM(invariance="configural", reference="male").fit(*by_gender)
    _group_params(model, ref, tools)
    assert model.groups_ == ["male", "female"]
    assert model.loglik_ == pytest.approx(ref["logLik"], abs=TOL)
    assert model.aic_ == pytest.approx(ref["AIC"], abs=TOL)
    assert model.bic_ == pytest.approx(ref["BIC"], abs=TOL)
    assert model.n_params_ == ref["npars"] and model.n_obs_ == ref["n"] and model.converged_
    assert model.latent_.to_numpy().tolist() == [[0.0, 1.0], [0.0, 1.0]]


def test_equal_item_parameters_with_free_focal_mean_and_variance(invariant, irt_ref, tools):
    ref = irt_ref["grm_N_by_gender_invariant"]
    _group_params(invariant, ref, tools)
    assert invariant.params_.loc["male"].equals(invariant.params_.loc["female"])
    assert invariant.latent_.loc["female", "mean"] == pytest.approx(ref["means"]["female"], abs=TOL)
    assert invariant.latent_.loc["female", "var"] == pytest.approx(ref["variances"]["female"], abs=TOL)
    assert invariant.loglik_ == pytest.approx(ref["logLik"], abs=TOL)
    assert invariant.bic_ == pytest.approx(ref["BIC"], abs=TOL)
    assert invariant.n_params_ == ref["npars"]
    assert invariant.n_iter_ == ref["iterations"]


def test_scores_use_each_groups_prior(invariant, by_gender, irt_ref):
    ref = irt_ref["grm_N_by_gender_invariant"]["eap_first100"]
    data, groups = by_gender
    scores = invariant.score(data.iloc[:100], groups[:100])
    assert scores["group"].tolist() == ref["group"]
    assert scores["theta"].to_numpy() == pytest.approx(ref["theta"], abs=TOL)
    assert scores["se"].to_numpy() == pytest.approx(ref["se"], abs=TOL)


def test_dif_likelihood_ratio_tests(dif_result, irt_ref):
    ref = irt_ref["grm_N_by_gender_invariant"]["dif_drop"]
    tests = dif_result.tests
    assert list(tests.index) == ref["items"]
    for column in ("AIC", "SABIC", "HQ", "BIC", "X2", "p"):
        assert tests[column].to_numpy() == pytest.approx(ref[column], abs=TOL), column
    assert tests["df"].tolist() == ref["df"]
    # Holm over the five items, as R's p.adjust(p, "holm").
    p = np.asarray(ref["p"])
    order = np.argsort(p)
    holm = np.minimum(1, np.maximum.accumulate(p[order] * np.arange(5, 0, -1)))
    assert tests["p_holm"].to_numpy()[order] == pytest.approx(holm, abs=TOL)
    assert dif_result.flagged == ["N1", "N3", "N4", "N5"] and dif_result.anchors == ["N2"]


def test_dif_effect_on_each_persons_theta(dif_result, invariant, by_gender):
    theta = dif_result.theta
    data, groups = by_gender
    assert len(theta) == len(data) and theta["group"].tolist() == list(groups)
    assert theta["effect"].to_numpy() == pytest.approx((theta["theta_partial"] - theta["theta_invariant"]).to_numpy())
    assert theta["theta_invariant"].to_numpy() == pytest.approx(invariant.score(data, groups)["theta"].to_numpy())
    partial = dif_result.partial
    assert partial.free_items == ["N1", "N3", "N4", "N5"]
    assert not partial.params_.loc["male"].loc["N1"].equals(partial.params_.loc["female"].loc["N1"])
    assert partial.params_.loc["male"].loc["N2"].equals(partial.params_.loc["female"].loc["N2"])
    summary = dif_result.effect_by_group()
    assert list(summary.index) == ["male", "female"]
    assert summary.loc["female", "n"] == (groups == "female").sum()
    assert summary["max_abs_effect"].max() == pytest.approx(np.abs(theta["effect"]).max())


def test_simulated_dif_is_found_and_moves_the_focal_groups_theta():
    rng = np.random.default_rng(11)
    n, items = 1500, 6
    a = np.full(items, 1.6)
    b = np.array([[-1.0, 0.0, 1.0]] * items)
    groups = np.repeat(["ref", "focal"], n)
    theta = np.concatenate([rng.normal(0, 1, n), rng.normal(0.3, 1, n)])
    shift = np.zeros((2 * n, items))
    shift[groups == "focal", 0] = 0.8  # item 0 is harder for the focal group at the same theta
    cum = 1 / (1 + np.exp(-a[None, :, None] * (theta[:, None, None] - b[None] - shift[..., None])))
    answers = (rng.random((2 * n, items, 1)) < cum).sum(axis=2) + 1
    data = pd.DataFrame(answers, columns=[f"i{j}" for j in range(items)])
    model = MultiGroupGRM(reference="ref").fit(data, groups)
    result = model.dif()
    # i0 stands out; as with mirt's one-pass "drop" scheme, the DIF it puts into the invariant model's
    # focal mean makes a few clean items look different too (purification is the analyst's next step).
    assert result.tests["X2"].idxmax() == "i0" and "i0" in result.flagged
    assert result.tests.loc["i0", "X2"] > 5 * result.tests.drop(index="i0")["X2"].max()
    # Freeing i0 recovers the simulated focal mean (0.3) that the invariant model underestimates.
    assert abs(result.partial.latent_.loc["focal", "mean"] - 0.3) < abs(model.latent_.loc["focal", "mean"] - 0.3)
    focal = result.theta[result.theta["group"] == "focal"]
    # Scored as if i0 worked alike, focal candidates look lower than they are: freeing i0 raises them.
    assert focal["effect"].mean() > 0.01
    assert abs(result.theta.loc[result.theta["group"] == "ref", "effect"].mean()) < focal["effect"].mean()


def test_input_errors(by_gender):
    data, groups = by_gender
    with pytest.raises(IRTDataError, match="at least two groups"):
        MultiGroupGRM().fit(data, np.repeat("all", len(data)))
    with pytest.raises(IRTDataError, match="one label per row"):
        MultiGroupGRM().fit(data, groups[:10])
    with pytest.raises(IRTDataError, match="reference group 'other'"):
        MultiGroupGRM(reference="other").fit(data, groups)
    with pytest.raises(IRTDataError, match="free_items"):
        MultiGroupGRM(free_items=["N9"]).fit(data, groups)
    configural = MultiGroupGRM(invariance="configural", max_iter=2, tol=1e-2)
    with pytest.warns(Warning):
        configural.fit(data, groups)
    with pytest.raises(ValueError, match="fully invariant"):
        configural.dif()
    with pytest.raises(IRTDataError, match="unknown group"):
        configural.score(data.head(2), ["male", "other"])


def test_dif_needs_an_anchor_for_the_theta_effect(invariant):
    # Anchoring on N2 alone is the default here; naming every item as flagged-and-free leaves no anchor.
    with pytest.raises(IRTDataError, match="anchors"):
        invariant.dif(items=["N1"], anchors=["N9"])
    none_left = invariant.dif(items=["N5"], anchors=[])
    assert none_left.flagged == ["N5"] and none_left.partial is None
    assert none_left.theta["effect"].isna().all()
    chosen = invariant.dif(items=["N5"], anchors=["N1", "N2", "N3", "N4"])
    assert chosen.partial.free_items == ["N5"]
