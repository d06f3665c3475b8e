"""The adaptive-testing engine: item information (closed form, finite differences, catR), EAP (profiler.irt's
scoring, catR), Kullback-Leibler information and whole adaptive sequences against catR 3.17, draws, exposure
control, content balancing and stopping rules."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from profiler.cat import CATEngine, CATError, CATRules, simulate, simulate_answers, step_draws, synthetic_bank
from profiler.irt import ItemBank
from profiler.irt.scoring import theta_eap

REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "reference" / "cat_reference.json"


@pytest.fixture(scope="module")
def ref() -> dict:
    return json.loads(REFERENCE.read_text())


@pytest.fixture(scope="module")
def ref_bank(ref) -> ItemBank:
    """catR's bank: P(X >= k) = logistic(a (theta - b_k)), so d_k = -a b_k."""
    a = np.array(ref["bank"]["a"])
    d = [-ai * np.array(b) for ai, b in zip(a, ref["bank"]["b"], strict=True)]
    return ItemBank([f"I{j}" for j in range(len(a))], ["graded"] * len(a), a, d,
                    [np.arange(1, len(b) + 2) for b in ref["bank"]["b"]])


@pytest.fixture(scope="module")
def synthetic():
    return synthetic_bank()


# Item information -----------------------------------------------------------------------------------------------
def _grm_closed_form(bank: ItemBank, theta: np.ndarray) -> np.ndarray:
    """Samejima's GRM information: a^2 sum_k (W_k - W_{k+1})^2 / P_k, W_k = P*_k (1 - P*_k) (P*_0 = 1, P*_K = 0)."""
    out = np.zeros((len(theta), bank.n_items))
    for j in range(bank.n_items):
        star = 1 / (1 + np.exp(-(bank.slopes[j] * theta[:, None] + bank.intercepts[j][None, :])))
        star = np.column_stack([np.ones(len(theta)), star, np.zeros(len(theta))])
        w = star * (1 - star)
        p = star[:, :-1] - star[:, 1:]
        out[:, j] = bank.slopes[j] ** 2 * ((w[:, :-1] - w[:, 1:]) ** 2 / p).sum(axis=1)
    return out


def test_grm_information_is_the_closed_form_and_the_log_likelihoods_curvature(synthetic):
    bank = synthetic[0].subset(list(synthetic[0].items[:12]))
    theta = np.linspace(-4, 4, 33)
    info = bank.information(theta)
    np.testing.assert_allclose(info, _grm_closed_form(bank, theta), rtol=1e-12, atol=1e-14)
    # Fisher information two ways by central differences of log P(X = k | theta):
    # E[(d log P / d theta)^2] and -E[d2 log P / d theta2].
    h = 1e-4
    table = lambda t: bank.probabilities(t)  # noqa: E731
    p = table(theta)
    with np.errstate(divide="ignore"):
        logp = lambda t: np.log(table(t))  # noqa: E731
        first = (logp(theta + h) - logp(theta - h)) / (2 * h)
        second = (logp(theta + h) - 2 * logp(theta) + logp(theta - h)) / h**2
    valid = p > 0
    score_form = np.where(valid, p * np.nan_to_num(first) ** 2, 0).sum(axis=2)
    curvature_form = -np.where(valid, p * np.nan_to_num(second), 0).sum(axis=2)
    np.testing.assert_allclose(score_form, info, rtol=1e-7)
    np.testing.assert_allclose(curvature_form, info, rtol=1e-5)


def test_grm_information_is_not_the_sum_of_the_boundaries_binary_information(synthetic):
    # The pitfall mirtCAT fixed in 1.12: summing a^2 P*(1 - P*) over the boundaries is not the GRM's information.
    bank = synthetic[0].subset(list(synthetic[0].items[:5]))
    theta = np.array([-1.0, 0.0, 1.5])
    wrong = np.array([[bank.slopes[j] ** 2 * (s * (1 - s)).sum()
                       for j, s in enumerate(1 / (1 + np.exp(-(bank.slopes[:, None] * t + np.array(bank.intercepts)))))]
                      for t in theta])
    assert np.all(np.abs(bank.information(theta) - wrong) > 0.05)


def test_gpcm_information_is_a_squared_times_the_variance_of_the_category(synthetic):
    bank = ItemBank(["g1", "g2"], ["gpcm", "gpcm"], [1.3, 0.8], [[0.5, 0.2, -0.9], [1.0, 0.4]],
                    [[1, 2, 3, 4], [0, 1, 2]])
    theta = np.linspace(-3, 3, 13)
    p = bank.probabilities(theta)
    k = np.arange(p.shape[2])
    mean = (p * k).sum(axis=2)
    var = (p * k**2).sum(axis=2) - mean**2
    np.testing.assert_allclose(bank.information(theta), bank.slopes**2 * var, rtol=1e-12)


def test_probabilities_and_information_agree_with_catr(ref, ref_bank):
    theta = np.array(ref["thetas"])
    p = ref_bank.probabilities(theta)
    for t, expected in enumerate(ref["probabilities"]):
        expected = np.array([[np.nan if v is None else v for v in row] for row in expected])
        np.testing.assert_allclose(np.where(np.isnan(expected), 0, p[t]), np.nan_to_num(expected), atol=1e-13)
    np.testing.assert_allclose(ref_bank.information(theta), np.array(ref["information"]), rtol=1e-11)


# EAP --------------------------------------------------------------------------------------------------------------
def _codes(pattern) -> np.ndarray:
    return np.array([[-1 if v is None else v for v in pattern]])


def test_eap_agrees_with_catr_and_with_profiler_irt_scoring(ref, ref_bank):
    engine = CATEngine("S", ref_bank, CATRules())
    for case in ref["eap"]:
        codes = _codes(case["pattern"])
        log_post = engine.log_posterior(codes)
        # catR integrates by the trapezoid rule (half weight at -6 and 6), mirt and profiler sum over the nodes;
        # with catR's rule the same posterior gives catR's numbers.
        trapezoid = np.exp(log_post[0] - log_post.max())
        trapezoid[[0, -1]] /= 2
        trapezoid /= trapezoid.sum()
        mean = trapezoid @ engine.nodes
        assert mean == pytest.approx(case["theta"], abs=1e-10)
        assert np.sqrt(trapezoid @ (engine.nodes - mean) ** 2) == pytest.approx(case["se"], abs=1e-10)
        _, theta, se = engine.estimate(log_post)
        assert theta[0] == pytest.approx(case["theta"], abs=2e-6)  # the two rules differ at most this here
        irt_theta, irt_se = theta_eap(ref_bank, codes)
        assert theta[0] == pytest.approx(irt_theta[0], abs=1e-12)
        assert se[0] == pytest.approx(irt_se[0], abs=1e-12)


def test_posterior_updated_answer_by_answer_is_the_whole_patterns(synthetic):
    bank, facets = synthetic
    engine = CATEngine("S", bank, CATRules(), facets)
    rng = np.random.default_rng(3)
    codes = simulate_answers(bank, rng.normal(size=200), rng)
    codes[rng.random(codes.shape) < 0.6] = -1  # only some items given, as in a CAT
    log_post = engine.prior(200)
    rows = np.arange(200)
    for j in rng.permutation(bank.n_items):
        engine.add_answers(log_post, rows, np.full(200, j), codes[:, j])
    _, theta, se = engine.estimate(log_post)
    expected_theta, expected_se = theta_eap(bank, codes)
    np.testing.assert_allclose(theta, expected_theta, atol=1e-10)
    np.testing.assert_allclose(se, expected_se, atol=1e-10)


# Kullback-Leibler and whole sequences ------------------------------------------------------------------------
def test_posterior_weighted_kl_agrees_with_catr(ref, ref_bank):
    case = ref["kl"]
    engine = CATEngine("S", ref_bank, CATRules(selection="kl"))
    codes = np.full((1, ref_bank.n_items), -1)
    for j in case["given"]:
        codes[0, j] = case["pattern"][j]
    post, theta, _ = engine.estimate(engine.log_posterior(codes))
    assert theta[0] == pytest.approx(case["theta"], abs=1e-7)
    kl = engine.kl(np.array([case["theta"]]), post)[0]
    # catR integrates by the trapezoid rule, profiler sums over the nodes: they differ only at the ends of
    # [-6, 6], where the posterior is nil.
    np.testing.assert_allclose(kl[case["items"]], case["value"], rtol=1e-7)


@pytest.mark.parametrize("criterion", ["MFI", "KLP"])
def test_adaptive_sequences_are_catrs(ref, ref_bank, criterion):
    engine = CATEngine("S", ref_bank, CATRules(selection="fisher" if criterion == "MFI" else "kl", se=None,
                                               max_items=7))
    for case in ref["sequences"]:
        answers: list[tuple[str, int]] = []
        order = []
        for _ in range(7):
            step = engine.step(answers, seed=1)
            order.append(int(step["item"][1:]))
            answers.append((step["item"], case["answers"][order[-1]]))
        assert order == case[criterion]
        assert engine.step(answers, seed=1)["stop"] == "max_items"


# Draws -------------------------------------------------------------------------------------------------------------
def test_draws_depend_on_seed_scale_and_step_only():
    a = step_draws(np.array([7, 7, 8]), "Extraversion", np.array([3, 4, 3]), 5)
    again = step_draws(np.array([7]), "Extraversion", np.array([3]), 5)
    np.testing.assert_array_equal(a[0], again[0])
    assert not np.allclose(a[0], a[1]) and not np.allclose(a[0], a[2])
    assert not np.allclose(a[0], step_draws(np.array([7]), "Neuroticism", np.array([3]), 5)[0])
    assert not np.allclose(a[0], step_draws(np.array([7]), "Extraversion", np.array([3]), 5, purpose=1)[0])
    many = step_draws(np.arange(20_000), "S", np.zeros(20_000), 3).ravel()
    assert many.min() >= 0 and many.max() < 1
    assert stats.kstest(many, "uniform").pvalue > 1e-3
    assert abs(np.corrcoef(many[:-1], many[1:])[0, 1]) < 0.02


# Rules ------------------------------------------------------------------------------------------------------------
def test_stopping_rules(synthetic):
    bank, facets = synthetic
    rules = CATRules(se=0.3, min_items=4, max_items=10)
    engine = CATEngine("S", bank, rules, facets)
    result = simulate(engine, 400, seed=5)
    assert result.items_used.min() >= 4 and result.items_used.max() <= 10
    reached = result.stop == 1
    assert np.all(result.cat_se[reached] <= 0.3) and np.all(result.items_used[~reached] == 10)
    # The SE rule alone never stops before min_items: a looser SE still gives 4 items.
    loose = simulate(CATEngine("S", bank, replace(rules, se=0.9), facets), 50, seed=5)
    assert np.all(loose.items_used == 4)
    exhausted = simulate(CATEngine("S", bank.subset(list(bank.items[:3])), CATRules(se=0.01)), 20, seed=1)
    assert np.all(exhausted.items_used == 3) and np.all(exhausted.stop == 3)


def test_content_balancing_takes_effect(synthetic):
    bank, facets = synthetic
    base = CATRules(se=0.3, max_items=30)
    free = simulate(CATEngine("S", bank, base, facets), 1000, seed=2).summary()["facets"]
    assert min(free["share_covered"].values()) < 0.8  # left alone, the test skips a weak facet for many people
    covered = simulate(CATEngine("S", bank, replace(base, each_facet=1), facets), 1000, seed=2).summary()["facets"]
    assert covered["share_with_every_facet"] == 1.0
    targets = {"F1": 0.3, "F2": 0.3, "F3": 0.1, "F4": 0.1, "F5": 0.1, "F6": 0.1}
    shares = simulate(CATEngine("S", bank, replace(base, proportions=targets), facets), 500, seed=2)
    counts = shares.facet_counts()
    observed = counts.sum(axis=0) / counts.sum()
    np.testing.assert_allclose(observed, list(targets.values()), atol=0.04)


def test_exposure_control_spreads_the_first_item(synthetic):
    bank, facets = synthetic
    first = lambda rules: simulate(CATEngine("S", bank, replace(rules, max_items=1, se=None), facets),  # noqa: E731
                                   3000, seed=4).exposure
    assert first(CATRules()).max() == 1.0
    randomesque = first(CATRules(exposure="randomesque", candidates=5))
    assert (randomesque > 0).sum() == 5 and np.allclose(randomesque[randomesque > 0], 0.2, atol=0.03)
    best = int(np.argmax(first(CATRules())))
    sh = first(CATRules(exposure="sympson-hetter", sympson_hetter={bank.items[best]: 0.25}))
    assert sh[best] == pytest.approx(0.25, abs=0.03)


def test_sympson_hetter_draws_keep_an_item_out_for_the_whole_test(synthetic):
    bank, facets = synthetic
    info = bank.information(np.array([0.0]))[0]
    best = bank.items[int(np.argmax(info))]
    engine = CATEngine("S", bank, CATRules(exposure="sympson-hetter", sympson_hetter={best: 0.5}, se=None,
                                           max_items=20), facets)
    for seed in range(40):
        answers: list[tuple[str, int]] = []
        tried_and_out = False
        for _ in range(20):
            step = engine.step(answers, seed)
            tried = [c[0] for c in step["candidates"]]
            if best in tried[:-1]:
                tried_and_out = True
            if tried_and_out:
                assert step["item"] != best
            answers.append((step["item"], 2))


def test_start_rule_and_records(synthetic):
    bank, facets = synthetic
    engine = CATEngine("S", bank, CATRules(start_items=("F3_02", "F1_07"), start_theta=1.5,
                                           exposure="randomesque", candidates=3), facets)
    first = engine.step([], seed=11)
    assert first["item"] == "F3_02" and first["rule"] == "start" and first["theta_used"] == 1.5
    second = engine.step([("F3_02", 4)], seed=11)
    assert second["item"] == "F1_07"
    third = engine.step([("F3_02", 4), ("F1_07", -1)], seed=11)
    assert third["rule"] == "randomesque" and len(third["candidates"]) == 3 and len(third["draws"]) == 1
    assert third["item"] == third["candidates"][min(int(third["draws"][0] * 3), 2)][0]
    assert third == engine.step([("F3_02", 4), ("F1_07", -1)], seed=11)  # nothing random is kept between steps
    values = [c[1] for c in third["candidates"]]
    assert values == sorted(values, reverse=True)


def test_rules_that_cannot_be_met_are_refused(synthetic):
    bank, facets = synthetic
    with pytest.raises(CATError, match="more than max_items"):
        CATEngine("S", bank, CATRules(each_facet=2, max_items=10), facets)
    with pytest.raises(CATError, match="no facets"):
        CATEngine("S", bank, CATRules(each_facet=1))
    with pytest.raises(CATError, match="not its facets"):
        CATEngine("S", bank, CATRules(proportions={"F1": 0.5, "X": 0.5}), facets)
    with pytest.raises(CATError, match="not in its item bank"):
        CATEngine("S", bank, CATRules(start_items=("nope",)), facets)
    with pytest.raises(CATError, match="sum to 1"):
        CATRules(proportions={"F1": 0.5})
