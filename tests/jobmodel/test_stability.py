"""Decision stability: delta-method SE by hand, analytic vs simulated, knock-outs, reviews without a percentage,
unknown inputs, labels, reproducibility, one computation for one and many candidates."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from profiler.jobmodel import load_job_model, parse_job_model
from profiler.jobmodel.recommendation import LABELS, stability_label
from profiler.jobmodel.stability import label_codes, p_same_band, score_se, simulate

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
    rec = linear.evaluate({"Conscientiousness": 4.0, "Agreeableness": 3.8}, evidence(75, (4, 4)), as_of=AS_OF)
    norms = linear.norms
    sem = {
        "sample": 15 * math.sqrt(1 - 0.8),
        "interview": 0.8 * math.sqrt(1 - 2 * 0.6 / (1 + 0.6)),  # Spearman-Brown, two raters
        "c": norms.scale("Conscientiousness").sem,
        "a": norms.scale("Agreeableness").sem,
    }
    slope = {"sample": 1 / 100, "interview": 1 / 4, "c": 1 / 4, "a": 1 / 4}
    weight = {"sample": 3, "interview": 2, "c": 1, "a": 1}
    spread = {k: 100 * weight[k] * slope[k] * sem[k] / 7 for k in sem}
    se = math.sqrt(sum(v**2 for v in spread.values()))
    assert rec.stability.se_score == pytest.approx(se, rel=1e-12)
    s = rec.score
    assert rec.band == "advance"  # 3/7*75 + 2/7*75 + 2/7*(3.9 - 1)/4*100 = 74.3 >= 62
    # the recommendation stays when the score stays >= 62 and the sample stays >= 20 (d = -55 / 6.7 SEM): the
    # sample's truncated normal barely moves the score's moments
    d = (20 - 75) / sem["sample"]
    lam = stats.norm.pdf(d) / stats.norm.sf(d)
    mean = s + spread["sample"] * lam
    sd = math.sqrt(se**2 - spread["sample"] ** 2 * (lam * lam - d * lam))
    p_same = stats.norm.sf(d) * stats.norm.sf((62 - mean) / sd)
    assert rec.stability.p_flip_analytic == pytest.approx(1 - p_same, abs=1e-12)
    assert rec.stability.p_same == pytest.approx(p_same, abs=1e-12)


@pytest.mark.parametrize(("sample", "ratings", "traits"), [(75, (4, 4), (4.0, 3.8)), (40, (2, 3), (3.2, 3.0)),
                                                          (70, (4, 5), (3.7, 3.5))])
def test_analytic_and_simulated_agree_where_the_model_is_locally_linear(linear, sample, ratings, traits):
    rec = linear.evaluate({"Conscientiousness": traits[0], "Agreeableness": traits[1]}, evidence(sample, ratings),
                          as_of=AS_OF, draws=200_000, seed=11)
    st = rec.stability
    assert rec.band != "review"
    # 200,000 draws: Monte Carlo SE at most 0.0011; inputs within the anchors and >= 2.5 SEM from the minimum
    assert abs(st.p_flip_analytic - st.p_flip_simulated) < 0.005
    assert 0.001 < st.p_flip_analytic < 0.98


def test_knock_outs_count_in_the_analytic_figure(linear):
    # not advance (37.9), sample 30 is 1.5 SEM above the minimum 20: a re-measured sample below 20 routes the case to
    # review, which changes the recommendation as surely as a score above 43 does
    rec = linear.evaluate({"Conscientiousness": 3.0, "Agreeableness": 3.0}, evidence(30, (2, 3)), as_of=AS_OF,
                          draws=200_000, seed=11)
    st = rec.stability
    assert rec.band == rec.score_band == "not_advance"
    p_below = stats.norm.cdf((20 - 30) / (15 * math.sqrt(0.2)))  # 0.068
    assert st.p_flip_analytic > st.p_score_flip_simulated + p_below / 2  # the score band alone says less
    assert abs(st.p_flip_analytic - st.p_flip_simulated) < 0.005
    # at the minimum's edge (0.3 SEM above it) the simulation sees the clipped trait scales too; the figures agree
    near = linear.evaluate({"Conscientiousness": 5.0, "Agreeableness": 5.0}, evidence(22, (5, 5)), as_of=AS_OF,
                           draws=200_000)
    assert near.band == "advance"
    assert near.stability.p_flip_analytic > stats.norm.cdf((20 - 22) / (15 * math.sqrt(0.2)))  # 0.38 at least
    assert abs(near.stability.p_flip_analytic - near.stability.p_flip_simulated) < 0.05
    assert near.stability.label == "within measurement error"


def test_a_review_carries_no_stability_percentage(linear):
    missing = linear.evaluate({"Conscientiousness": 3.0}, evidence(60), as_of=AS_OF)  # Agreeableness missing
    scored = linear.evaluate({"Conscientiousness": 3.5, "Agreeableness": 3.5}, evidence(60), as_of=AS_OF)  # 61.4
    for rec in (missing, scored):
        assert rec.band == "review"
        st = rec.stability
        assert st.label == "not applicable" and not st.applicable
        assert math.isnan(st.p_flip_analytic) and math.isnan(st.p_flip_simulated) and math.isnan(st.p_same)
        assert "%" not in st.text and "%" not in st.sentence
        assert st.se_score > 0
    stored = type(scored).from_dict(scored.to_dict())  # NaN is stored as null and read back
    assert stored.stability.label == "not applicable" and math.isnan(stored.stability.p_same)


def test_unknown_inputs_are_allowed_for_in_the_thresholds():
    # an imputed input with a plausible range of +-4 score points: advance only when the score stays >= 62 with it
    # at its least favourable plausible value, and stability counts re-measurements that break that
    model = parse_job_model(LINEAR.replace("rationale: r}\nbands", "rationale: r}\n  - {id: extra, input: "
                                           "trait.Extraversion, transform: {kind: linear, at_zero: 1, at_one: 5}, "
                                           "weight: 1, missing: impute_mean, rationale: r}\nbands"))
    rec = model.evaluate({"Conscientiousness": 4.2, "Agreeableness": 4.2}, evidence(85, (4, 5)), as_of=AS_OF,
                         draws=200_000, seed=3)
    assert rec.coverage.score_range[0] < rec.score
    assert rec.band == "advance" and rec.coverage.score_range[0] >= 62
    margin = rec.coverage.score_range[0] - 62  # how far the least favourable score lies above the threshold
    assert rec.stability.p_flip_analytic == pytest.approx(stats.norm.sf(margin / rec.stability.se_score), abs=0.01)
    assert abs(rec.stability.p_flip_analytic - rec.stability.p_flip_simulated) < 0.01


def test_labels_and_cut_offs():
    assert LABELS == ((0.95, "stable"), (0.75, "borderline"), (0.0, "within measurement error"))
    assert stability_label(0.98) == "stable"
    assert stability_label(0.95) == "stable"
    assert stability_label(0.9499) == "borderline"
    assert stability_label(0.80) == "borderline"
    assert stability_label(0.75) == "borderline"
    assert stability_label(0.61) == "within measurement error"
    assert stability_label(float("nan")) == "not applicable"
    assert stability_label(np.array([0.98, 0.8, 0.61, np.nan])).tolist() == [
        "stable", "borderline", "within measurement error", "not applicable"]
    assert label_codes(np.array([0.98, 0.8, 0.61, np.nan])).tolist() == [0, 1, 2, 3]


def test_stability_text(linear):
    rec = linear.evaluate({"Conscientiousness": 3.0, "Agreeableness": 3.0}, evidence(30, (2, 3)), as_of=AS_OF)
    assert rec.stability.text == f"{rec.stability.label} ({100 * rec.stability.p_same:.0f}%)"
    assert "would change in" in rec.stability.sentence and "decision stability:" in str(rec)


def test_simulation_is_reproducible_and_seeded(linear):
    args = ({"Conscientiousness": 3.0, "Agreeableness": 3.0}, evidence(30, (2, 3)))
    a = linear.evaluate(*args, as_of=AS_OF, seed=3)
    b = linear.evaluate(*args, as_of=AS_OF, seed=3)
    c = linear.evaluate(*args, as_of=AS_OF, seed=4)
    assert a.stability == b.stability
    assert a.stability.p_flip_simulated != c.stability.p_flip_simulated
    assert a.stability.p_flip_analytic == c.stability.p_flip_analytic
    assert math.isnan(linear.evaluate(*args, as_of=AS_OF, draws=0).stability.p_flip_simulated)


def test_vectorized_stability_equals_the_single_path(linear):
    frame = pd.DataFrame({"trait.Conscientiousness": [3.0, 3.5, 4.5, 4.0], "trait.Agreeableness": [3.0, 3.5, 4.0, 3.8],
                          "evidence.sample": [30.0, 60.0, 80.0, 75.0], "evidence.interview": [2.5, 3.5, 4.5, 4.0]})
    out = linear.evaluate_many(frame, as_of=AS_OF, simulate=4_000, seed=1)
    for i, row in frame.iterrows():
        ratings = {2.5: (2, 3), 3.5: (3, 4), 4.5: (4, 5), 4.0: (4, 4)}[row["evidence.interview"]]
        rec = linear.evaluate({"Conscientiousness": row["trait.Conscientiousness"],
                               "Agreeableness": row["trait.Agreeableness"]},
                              evidence(row["evidence.sample"], ratings), as_of=AS_OF, draws=4_000, seed=1)
        # the same computation, the same draws (common random numbers): equal, not close
        assert out.loc[i, "p_flip"] == rec.stability.p_flip_analytic or (
            math.isnan(out.loc[i, "p_flip"]) and math.isnan(rec.stability.p_flip_analytic))
        assert out.loc[i, "p_flip_simulated"] == rec.stability.p_flip_simulated or (
            math.isnan(out.loc[i, "p_flip_simulated"]) and math.isnan(rec.stability.p_flip_simulated))
        assert out.loc[i, "stability"] == rec.stability.label
    assert out["stability"].tolist()[1] == "not applicable"


def test_low_level_functions_shapes(linear):
    cm = linear._compiled
    X = np.tile(cm.means, (5, 1))
    measured = np.ones(X.shape, bool)
    se = score_se(cm, X, np.tile(cm.sems, (5, 1)), measured)
    assert se.shape == (5,) and np.all(se > 0)
    score = cm.utilities_of(X) @ cm.coef
    assert p_same_band(cm, score, np.zeros(5)).tolist() == [1.0] * 5  # no error: nothing flips
    code = cm.score_band(score)
    sim = simulate(cm, X, np.tile(cm.sems, (5, 1)), measured, np.zeros(5, bool), code, draws=1000)
    assert sim.p_score_flip.shape == (5,) and np.all(sim.p_score_flip == sim.p_score_flip[0])  # the same draws
    assert np.isnan(sim.p_flip).all() == (code[0] == 1)
    with pytest.raises(ValueError, match="draws"):
        simulate(cm, X, np.tile(cm.sems, (5, 1)), measured, np.zeros(5, bool), code, draws=0)


def test_shipped_models_report_stability():
    model = load_job_model("customer-support")
    rec = model.evaluate({"Conscientiousness": 3.6, "Agreeableness": 4.1, "Neuroticism": 2.8, "Extraversion": 3.3}, {
        "email_work_sample": {"score": 66, "source": "s", "date": "2026-05-01"},
        "interview_customer_focus": {"ratings": {"a": 4, "b": 3}, "source": "s", "date": "2026-05-01"},
        "support_experience": {"years": 2, "source": "s", "date": "2026-05-01"},
    }, as_of=AS_OF)  # fmt: skip
    assert rec.stability.label in {"stable", "borderline", "within measurement error", "not applicable"}
    assert rec.stability.draws == 5_000 and rec.stability.seed == 0
    assert "decision stability:" in str(rec)
