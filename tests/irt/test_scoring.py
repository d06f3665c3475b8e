"""Scoring on an item bank: partial patterns, EAP/MAP/ML definitions, Lord-Wingersky, input errors."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from profiler.irt import IRTDataError, ItemBank, score_responses, theta_eap, theta_map, theta_ml
from profiler.irt.scoring import eap_sum_table, grid, sum_score_distribution


@pytest.fixture(scope="module")
def bank():
    return ItemBank(
        items=["g1", "g2", "p1", "b1"],
        models=["graded", "graded", "gpcm", "graded"],
        slopes=[1.7, 0.9, 1.2, 2.0],
        intercepts=[[2.0, 0.3, -1.5], [1.0, -1.0], [0.5, -0.2, -1.0], [-0.4]],
        categories=[[1, 2, 3, 4], [0, 1, 2], [1, 2, 3, 4], [0, 1]],
    )


def test_eap_is_the_posterior_mean_on_the_grid(bank):
    codes = np.array([[3, 0, 2, 1], [-1, -1, -1, -1]])
    theta, se = theta_eap(bank, codes)
    nodes, weights = grid()
    like = np.exp(bank.log_likelihood(codes[:1], nodes))[0] * weights
    post = like / like.sum()
    assert theta[0] == pytest.approx(post @ nodes, abs=1e-12)
    assert se[0] == pytest.approx(np.sqrt(post @ nodes**2 - (post @ nodes) ** 2), abs=1e-12)
    # Nothing answered: the prior itself.
    assert theta[1] == pytest.approx(0.0, abs=1e-12)
    assert se[1] == pytest.approx(np.sqrt(weights @ nodes**2), abs=1e-12)


def test_a_partial_pattern_is_scored_as_the_answered_items_alone(bank):
    partial = pd.DataFrame({"g1": [4.0], "p1": [2.0]})
    full = score_responses(bank, partial)
    alone = score_responses(bank.subset(["g1", "p1"]), partial)
    assert full[["theta", "se"]].to_numpy() == pytest.approx(alone[["theta", "se"]].to_numpy(), abs=1e-12)
    assert full["n_answered"].tolist() == [2]


def test_map_is_the_mode_and_its_se_the_curvature(bank):
    codes = np.array([[2, 1, 1, 0], [0, 0, 3, 1]])
    theta, se = theta_map(bank, codes)
    h = 1e-4
    for row in range(len(codes)):
        def log_post(t):
            return bank.log_likelihood(codes[row : row + 1], np.array([t]))[0, 0] - t**2 / 2
        grad = (log_post(theta[row] + h) - log_post(theta[row] - h)) / (2 * h)
        curv = (log_post(theta[row] + h) - 2 * log_post(theta[row]) + log_post(theta[row] - h)) / h**2
        assert grad == pytest.approx(0.0, abs=1e-6)
        assert se[row] == pytest.approx(1 / np.sqrt(-curv), rel=1e-5)


def test_ml_scores_extreme_and_empty_patterns(bank):
    codes = np.array([[0, 0, 0, 0], [3, 2, 3, 1], [-1, -1, -1, -1], [0, -1, -1, -1], [1, 1, 1, 0]])
    theta, se = theta_ml(bank, codes)
    assert theta[0] == -np.inf and theta[1] == np.inf and theta[3] == -np.inf
    assert np.isnan(theta[2]) and np.isnan(se[:4]).all()
    h = 1e-4
    like = lambda t: bank.log_likelihood(codes[4:], np.array([t]))[0, 0]  # noqa: E731
    assert (like(theta[4] + h) - like(theta[4] - h)) / (2 * h) == pytest.approx(0.0, abs=1e-6)
    curv = (like(theta[4] + h) - 2 * like(theta[4]) + like(theta[4] - h)) / h**2
    assert se[4] == pytest.approx(1 / np.sqrt(-curv), rel=1e-5)


def test_lord_wingersky_matches_enumerating_every_pattern(bank):
    nodes = np.array([-1.0, 0.3, 2.0])
    dist = sum_score_distribution(bank, nodes)
    probs = bank.probabilities(nodes)
    brute = np.zeros_like(dist)
    for pattern in itertools.product(*[range(k) for k in bank.n_categories]):
        p = np.prod([probs[:, j, c] for j, c in enumerate(pattern)], axis=0)
        brute[:, sum(pattern)] += p
    assert dist == pytest.approx(brute, abs=1e-14)


def test_sum_score_table_needs_complete_answers(bank):
    table = eap_sum_table(bank)
    assert table["sum_score"].iloc[0] == 2.0  # lowest answers 1 + 0 + 1 + 0
    assert len(table) == sum(bank.n_categories - 1) + 1
    with pytest.raises(ValueError, match="complete responses"):
        eap_sum_table(bank, np.array([[0, -1, 1, 0]]))


def test_unknown_answers_and_items_are_named(bank):
    with pytest.raises(IRTDataError, match=r"row 1 .*item 'g2'.*answer 7 is not one of"):
        score_responses(bank, pd.DataFrame({"g2": [1, 7]}))
    with pytest.raises(IRTDataError, match="unknown item column"):
        score_responses(bank, pd.DataFrame({"zz": [1]}))
    with pytest.raises(IRTDataError, match=r"row 0 .*item 'g1'.*'often' is not a number"):
        score_responses(bank, pd.DataFrame({"g1": ["often"]}))
    with pytest.raises(ValueError, match="unknown scoring method"):
        score_responses(bank, pd.DataFrame({"g1": [1]}), method="WLE")


def test_bank_validation():
    with pytest.raises(IRTDataError, match="must decrease"):
        ItemBank(["x"], ["graded"], [1.0], [[0.0, 1.0]], [[1, 2, 3]])
    with pytest.raises(IRTDataError, match="need 2 intercepts"):
        ItemBank(["x"], ["graded"], [1.0], [[0.0]], [[1, 2, 3]])
    with pytest.raises(IRTDataError, match="unknown model"):
        ItemBank(["x"], ["nominal"], [1.0], [[0.0]], [[1, 2]])


def test_bank_tables(bank):
    params = bank.params()
    assert list(params.columns) == ["a1", "d1", "d2", "d3"]
    assert np.isnan(params.loc["b1", "d2"])
    irt = bank.irt_params()
    assert irt.loc["g1", "b1"] == pytest.approx(-2.0 / 1.7)
    assert irt.loc["p1", "b2"] == pytest.approx(-(-0.2 - 0.5) / 1.2)
