"""Decision stability: delta-method SE by hand, analytic vs simulated, knock-outs, labels, reproducibility."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from profiler.jobmodel import load_job_model, parse_job_model
from profiler.jobmodel.recommendation import LABELS, stability_label
from profiler.jobmodel.stability import p_same_band, score_se, simulate

AS_OF = dt.date(2026, 6, 1)

# All-linear model: the score is linear in every input between the anchors, so the delta method is exact
# there and the simulation must agree with it.
LINEAR = """
id: linear
version: "1"
role: {title: Test role}
job_analysis: {method: written for the tests}
questionnaire: ipip-bfm-50
norms: general
evidence:
  - {id: sample, kind: test_score, name: Work sample, min: 0, max: 100, reliability: 0.8,
     norm: {mean: 50, sd: 15, group: test applicants}}
  - {id: interview, kind: interview_rating, name: Interview, competency: Teamwork, min_raters: 2,
     interrater_reliability: 0.6, norm: {mean: 3, sd: 0.8, group: test applicants}}
criteria:
  - {id: sample, input: evidence.sample, transform: {kind: linear, at_zero: 0, at_one: 100}, weight: 3,
     minimum: 20, rationale: r}
  - {id: interview, input: evidence.interview, transform: {kind: linear, at_zero: 1, at_one: 5}, weight: 2,
     rationale: r}
  - {id: c, input: trait.Conscientiousness, transform: {kind: linear, at_zero: 1, at_one: 5}, weight: 1,
     rationale: r}
  - {id: a, input: trait.Agreeableness, transform: {kind: linear, at_zero: 1, at_one: 5}, weight: 1,
     rationale: r}
bands: {advance_from: 60, not_advance_below: 45, review_margin: 2}
"""


@pytest.fixture(scope="module")
def linear():
    return parse_job_model(LINEAR)


def evidence(sample, ratings=(3, 4)):
    return {"sample": {"score": sample, "source": "s", "date": "2026-05-01"},
            "interview": {"ratings": dict(zip("abc", ratings)), "source": "s", "date": "2026-05-01"}}


def test_score_se_by_hand(linear):
    rec = linear.evaluate({"Conscientiousness": 3.5, "Agreeableness": 3.5}, evidence(60), as_of=AS_OF)
    norms = linear.norms
    sem = {
        "sample": 15 * math.sqrt(1 - 0.8),
        "interview": 0.8 * math.sqrt(1 - 2 * 0.6 / (1 + 0.6)),  # Spearman-Brown, two raters
        "c": norms.scale("Conscientiousness").sem,
        "a": norms.scale("Agreeableness").sem,
    }
    slope = {"sample": 1 / 100, "interview": 1 / 4, "c": 1 / 4, "a": 1 / 4}
    weight = {"sample": 3, "interview": 2, "c": 1, "a": 1}
    se = math.sqrt(sum((100 * weight[k] * slope[k] * sem[k] / 7) ** 2 for k in sem))
    assert rec.stability.se_score == pytest.approx(se, rel=1e-12)
    s = rec.score
    assert rec.score_band == "review"  # 3/7*60 + 2/7*62.5 + 2/7*62.5 = 61.4
    p_same = stats.norm.cdf((62 - s) / se) - stats.norm.cdf((43 - s) / se)
    assert rec.stability.p_flip_analytic == pytest.approx(1 - p_same, abs=1e-12)


@pytest.mark.parametrize(("sample", "ratings", "c"), [(60, (3, 4), 3.5), (70, (4, 4), 3.8), (50, (3, 3), 3.0)])
def test_analytic_and_simulated_agree_where_the_model_is_locally_linear(linear, sample, ratings, c):
    rec = linear.evaluate({"Conscientiousness": c, "Agreeableness": 3.5}, evidence(sample, ratings), as_of=AS_OF,
                          draws=200_000, seed=11)
    st = rec.stability
    # 200,000 draws: Monte Carlo SE at most 0.0011; inputs within the anchors and >= 4 SEM from the minimum
    assert abs(st.p_flip_analytic - st.p_score_flip_simulated) < 0.005
    assert abs(st.p_flip_simulated - st.p_score_flip_simulated) < 1e-4  # knock-out 4.5 SEM away: ~never
    assert 0.02 < st.p_flip_analytic < 0.98  # a case worth checking: neither certain nor impossible


def test_simulation_sees_knock_outs_the_analytic_part_does_not(linear):
    # sample 22 is 0.3 SEM above the minimum 20: re-measured, it often falls below and routes to review
    rec = linear.evaluate({"Conscientiousness": 5.0, "Agreeableness": 5.0}, evidence(22, (5, 5)), as_of=AS_OF,
                          draws=100_000)
    st = rec.stability
    assert rec.band == rec.score_band == "advance"  # 3/7 22 + 4/7 100 = 66.6 >= 62
    p_below = stats.norm.cdf((20 - 22) / (15 * math.sqrt(0.2)))  # 0.38
    assert st.p_flip_analytic < 0.2
    # the final band changes when the score falls below 62 or the sample below 20 (the same draws): at least
    # as often as either, and far more often than the score band alone
    assert st.p_flip_simulated >= max(p_below, st.p_score_flip_simulated) - 0.005
    assert st.p_flip_simulated > st.p_flip_analytic + 0.2


def test_missing_review_input_is_stable_review(linear):
    rec = linear.evaluate({"Conscientiousness": 3.0}, evidence(60), as_of=AS_OF)  # Agreeableness missing
    assert rec.band == "review"
    assert rec.stability.p_flip_simulated == 0.0
    assert rec.stability.label == "stable"


def test_labels_and_cut_offs():
    assert LABELS == ((0.95, "stable"), (0.75, "borderline"), (0.0, "within measurement error"))
    assert stability_label(0.98) == "stable"
    assert stability_label(0.95) == "stable"
    assert stability_label(0.9499) == "borderline"
    assert stability_label(0.80) == "borderline"
    assert stability_label(0.75) == "borderline"
    assert stability_label(0.61) == "within measurement error"
    assert stability_label(np.array([0.98, 0.8, 0.61])).tolist() == ["stable", "borderline", "within measurement error"]


def test_stability_text(linear):
    rec = linear.evaluate({"Conscientiousness": 3.5, "Agreeableness": 3.5}, evidence(60), as_of=AS_OF)
    assert rec.stability.text == f"{rec.stability.label} ({100 * rec.stability.p_same:.0f}%)"


def test_simulation_is_reproducible_and_seeded(linear):
    a = linear.evaluate({"Conscientiousness": 3.5, "Agreeableness": 3.5}, evidence(60), as_of=AS_OF, seed=3)
    b = linear.evaluate({"Conscientiousness": 3.5, "Agreeableness": 3.5}, evidence(60), as_of=AS_OF, seed=3)
    c = linear.evaluate({"Conscientiousness": 3.5, "Agreeableness": 3.5}, evidence(60), as_of=AS_OF, seed=4)
    assert a.stability == b.stability
    assert a.stability.p_flip_simulated != c.stability.p_flip_simulated


def test_vectorized_stability_matches_the_single_path(linear):
    frame = pd.DataFrame({"trait.Conscientiousness": [3.5, 3.0, 4.5], "trait.Agreeableness": [3.5, 3.5, 4.0],
                          "evidence.sample": [60.0, 45.0, 80.0], "evidence.interview": [3.5, 3.0, 4.5]})
    out = linear.evaluate_many(frame, as_of=AS_OF, simulate=40_000, seed=1)
    for i, row in frame.iterrows():
        ratings = {3.5: (3, 4), 3.0: (3, 3), 4.5: (4, 5)}[row["evidence.interview"]]
        rec = linear.evaluate({"Conscientiousness": row["trait.Conscientiousness"],
                               "Agreeableness": row["trait.Agreeableness"]},
                              evidence(row["evidence.sample"], ratings), as_of=AS_OF, draws=40_000)
        assert out.loc[i, "p_flip"] == pytest.approx(rec.stability.p_flip_analytic, abs=1e-12)
        assert out.loc[i, "p_flip_simulated"] == pytest.approx(rec.stability.p_flip_simulated, abs=0.01)
        assert out.loc[i, "stability"] == stability_label(1 - rec.stability.p_flip_analytic)


def test_low_level_functions_shapes(linear):
    cm = linear._compiled
    X = np.tile(cm.means, (5, 1))
    measured = np.ones(X.shape, bool)
    se = score_se(cm, X, np.tile(cm.sems, (5, 1)), measured)
    assert se.shape == (5,) and np.all(se > 0)
    score = cm.utilities_of(X) @ cm.coef
    assert p_same_band(cm, score, np.zeros(5)).tolist() == [1.0] * 5  # no error: nothing flips
    sim = simulate(cm, X, np.tile(cm.sems, (5, 1)), measured, np.zeros(5, bool), cm.score_band(score), draws=1000)
    assert sim.p_flip.shape == (5,) and np.allclose(sim.p_flip, sim.p_flip[0], atol=0.03)  # independent draws
    with pytest.raises(ValueError, match="draws"):
        simulate(cm, X, np.tile(cm.sems, (5, 1)), measured, np.zeros(5, bool), cm.score_band(score), draws=0)


def test_shipped_models_report_stability():
    model = load_job_model("customer-support")
    rec = model.evaluate({"Conscientiousness": 3.6, "Agreeableness": 4.1, "Neuroticism": 2.8, "Extraversion": 3.3}, {
        "email_work_sample": {"score": 66, "source": "s", "date": "2026-05-01"},
        "interview_customer_focus": {"ratings": {"a": 4, "b": 3}, "source": "s", "date": "2026-05-01"},
        "support_experience": {"years": 2, "source": "s", "date": "2026-05-01"},
    }, as_of=AS_OF)  # fmt: skip
    assert rec.stability.label in {"stable", "borderline", "within measurement error"}
    assert rec.stability.draws == 5_000 and rec.stability.seed == 0
    assert "decision stability:" in str(rec)
