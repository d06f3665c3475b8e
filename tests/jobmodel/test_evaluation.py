"""Evaluating candidates: bands, review margins, knock-outs, missing policies, coverage, evaluate_many, weights."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest

import profiler
from profiler.jobmodel import (
    DominantCriterionWarning,
    Recommendation,
    bundled_job_models,
    load_job_model,
    parse_job_model,
)
from profiler.norms import NormsMismatchError, load_norms, trait_profile

AS_OF = dt.date(2026, 6, 1)

# Every contribution is a dyadic fraction, so scores can be checked exactly by hand:
# score = 10 * (4 u_sample + 2 u_interview + 2 u_c + u_cert + u_years), u_sample = sample / 64,
# u_interview = (rating - 1) / 4, u_c = (C - 1) / 4, u_cert = held, u_years = 1 - 2^(-years / 2).
HAND = """
id: hand
version: "1"
role: {title: Test role}
job_analysis: {method: written for the tests}
questionnaire: ipip-bfm-50
norms: general
evidence:
  - id: sample
    kind: test_score
    name: Work sample
    min: 0
    max: 64
    reliability: 0.75
    norm: {mean: 32, sd: 16, group: test applicants}
    max_age_days: 100
  - id: interview
    kind: interview_rating
    name: Interview
    competency: Teamwork
    min_raters: 2
    interrater_reliability: 0.6
    norm: {mean: 3, sd: 1, group: test applicants}
  - {id: cert, kind: certification, name: Certificate, base_rate: 0.25}
  - id: years
    kind: experience
    name: Years
    max: 40
    norm: {mean: 4, sd: 3, group: test applicants}
criteria:
  - {id: sample, input: evidence.sample, transform: {kind: linear, at_zero: 0, at_one: 64}, weight: 4, minimum: 16,
     missing: review, rationale: r}
  - {id: interview, input: evidence.interview, transform: {kind: linear, at_zero: 1, at_one: 5}, weight: 2,
     missing: review, rationale: r}
  - {id: c, input: trait.Conscientiousness, transform: {kind: linear, at_zero: 1, at_one: 5}, weight: 2,
     missing: review, rationale: r}
  - {id: cert, input: evidence.cert, transform: {kind: binary}, weight: 1, missing: impute_mean, rationale: r}
  - {id: years, input: evidence.years, transform: {kind: saturating, half_at: 2}, weight: 1, missing: impute_mean,
     rationale: r}
bands: {advance_from: 60, not_advance_below: 45, review_margin: 3}
"""


@pytest.fixture(scope="module")
def hand():
    return parse_job_model(HAND)


@pytest.fixture(scope="module")
def support():
    return load_job_model("customer-support")


def hand_evidence(sample=48, ratings=(4, 4), held=False, years=0.0, drop=()):
    evidence = {
        "sample": {"score": sample, "source": "platform", "date": "2026-05-20"},
        "interview": {"ratings": {f"r{i}": r for i, r in enumerate(ratings)}, "source": "panel", "date": "2026-05-21"},
        "cert": {"held": held, "source": "vendor", "date": "2026-01-01"},
        "years": {"years": years, "source": "CV", "date": "2026-05-01"},
    }
    return {k: v for k, v in evidence.items() if k not in drop}


def hand_score(sample, rating, c, held, years):
    return 10 * (4 * sample / 64 + 2 * (rating - 1) / 4 + 2 * (c - 1) / 4 + held + 1 - 2 ** (-years / 2))


# The shipped models ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model_id", sorted(bundled_job_models()))
def test_shipped_models_load_and_evaluate(model_id):
    model = load_job_model(model_id)
    assert model.warnings == []
    assert model.norms.name == model.spec.norms
    traits = {info.key: info.mean for info in model._compiled.inputs if info.is_trait}
    rec = model.evaluate(traits, {}, as_of=AS_OF)
    assert isinstance(rec, Recommendation)
    assert rec.band == "review"  # evidence missing under policy review
    assert rec.additivity_error <= 1e-9
    assert {"job_model_hash", "content_hash", "norms_sha256", "norm_version"} <= set(rec.versions)
    json.dumps(rec.to_dict())
    text = str(rec)
    assert text.index("Measurement and coverage") < text.index("Recommendation:")  # error before the verdict
    assert "(checked)" in text


def test_hand_score_and_contributions(hand):
    rec = hand.evaluate({"Conscientiousness": 4.5}, hand_evidence(sample=48, ratings=(4, 5), years=2), as_of=AS_OF)
    expected = hand_score(48, 4.5, 4.5, 0, 2)
    assert rec.score == pytest.approx(expected, abs=1e-12)
    assert rec.score == 30 + 17.5 + 17.5 + 0 + 5
    # reference: every input at its norm mean (sample 32, rating 3, C 3.347..., cert 0.25, years 4)
    c_mean = hand.norms.scale("Conscientiousness").mean
    assert rec.base_value == pytest.approx(hand_score(32, 3, c_mean, 0.25, 4), abs=1e-12)
    assert rec.contribution("sample").contribution == pytest.approx(40 * (48 - 32) / 64, abs=1e-12)
    assert rec.contribution("cert").contribution == pytest.approx(10 * (0 - 0.25), abs=1e-12)
    assert rec.additivity_error <= 1e-12


# Bands and review margins -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("score", "band"), [
    (80.0, "advance"), (63.0, "advance"), (62.999, "review"), (60.0, "review"), (59.9, "review"),
    (45.0, "review"), (44.9, "review"), (42.0, "review"), (41.999, "not_advance"), (0.0, "not_advance"),
])  # fmt: skip
def test_score_bands_at_the_thresholds(hand, score, band):
    cm = hand._compiled
    assert str(np.array(["not_advance", "review", "advance"])[cm.score_band(np.array([score]))[0]]) == band


@pytest.mark.parametrize(("sample", "ratings", "c", "band", "code"), [
    (64, (5, 5), 5.0, "advance", "score"),  # 40 + 20 + 20 = 80
    (48, (4, 5), 4.5, "advance", "score"),  # 30 + 17.5 + 17.5 = 65
    (48, (4, 4), 4.5, "review", "review_margin"),  # 30 + 15 + 17.5 = 62.5: within 3 points above 60
    (32, (4, 4), 4.0, "review", "review_band"),  # 20 + 15 + 15 = 50
    (32, (3, 3), 3.5, "review", "review_margin"),  # 20 + 10 + 12.5 = 42.5: within 3 points below 45
    (24, (3, 3), 3.0, "not_advance", "score"),  # 15 + 10 + 10 = 35
])  # fmt: skip
def test_bands_and_review_margins(hand, sample, ratings, c, band, code):
    rec = hand.evaluate({"Conscientiousness": c}, hand_evidence(sample=sample, ratings=ratings), as_of=AS_OF)
    assert rec.score == hand_score(sample, sum(ratings) / 2, c, 0, 0)
    assert rec.band == band == rec.score_band
    assert [r.code for r in rec.reasons] == [code]
    if code == "review_margin":
        assert "review margin of 3 points" in rec.reasons[0].text


def test_knock_out_routes_to_review_never_to_rejection(hand):
    # sample 12 is below the minimum 16; the score (7.5 + 20 + 20 = 47.5) alone would be review, and with a
    # low score the band would be not_advance: a knock-out gives review either way
    for ratings, c, score_band in [((5, 5), 5.0, "review"), ((1, 1), 1.0, "not_advance")]:
        rec = hand.evaluate({"Conscientiousness": c}, hand_evidence(sample=12, ratings=ratings), as_of=AS_OF)
        assert rec.score_band == score_band
        assert rec.band == "review"
        knock = [r for r in rec.reasons if r.code == "knock_out"]
        assert len(knock) == 1 and knock[0].criterion == "sample"
        assert "Work sample is 12, 4 (0.5 SEM) below the minimum of 16" in knock[0].text
        assert "never rejects on its own" in knock[0].text
    at_minimum = hand.evaluate({"Conscientiousness": 5.0}, hand_evidence(sample=16, ratings=(5, 5)), as_of=AS_OF)
    assert not any(r.code == "knock_out" for r in at_minimum.reasons)


def test_missing_input_under_policy_review(hand):
    rec = hand.evaluate({"Conscientiousness": 5.0}, hand_evidence(sample=64, ratings=(5, 5), drop=("interview",)),
                        as_of=AS_OF)
    assert rec.score_band == "advance" and rec.band == "review"
    reason = next(r for r in rec.reasons if r.code == "missing")
    assert reason.criterion == "interview" and "Interview is missing" in reason.text
    contribution = rec.contribution("interview")
    assert contribution.contribution == 0.0 and contribution.status == "missing_review"
    assert contribution.value == 3.0  # the norm mean
    assert rec.coverage.missing == ["evidence.interview"]
    assert rec.stability.label == "not applicable"  # a review carries no stability percentage


def test_missing_trait_under_policy_review(hand):
    rec = hand.evaluate({}, hand_evidence(), as_of=AS_OF)
    assert rec.band == "review"
    assert any(r.code == "missing" and r.criterion == "c" for r in rec.reasons)
    rec_nan = hand.evaluate({"Conscientiousness": float("nan")}, hand_evidence(), as_of=AS_OF)
    assert rec_nan.score == rec.score


def test_imputed_input_contributes_zero_and_reports_its_range(hand):
    rec = hand.evaluate({"Conscientiousness": 4.5}, hand_evidence(sample=48, ratings=(4, 5), drop=("cert",)),
                        as_of=AS_OF)
    cert = rec.contribution("cert")
    assert cert.contribution == 0.0 and cert.status == "imputed" and cert.value == 0.25
    assert rec.score == 30 + 17.5 + 17.5 + 2.5 + 0  # the base rate 0.25 of the certificate counts 2.5
    item = next(c for c in rec.coverage.inputs if c.input == "evidence.cert")
    assert item.handling == "imputed" and item.plausible == (0.0, 1.0)
    assert item.score_range == pytest.approx((rec.score - 2.5, rec.score + 7.5), abs=1e-12)
    assert rec.coverage.score_range == item.score_range
    assert rec.coverage.bands_reachable == ("advance",)
    assert rec.coverage.imputed == ["evidence.cert"]
    assert rec.band == "advance"  # imputation alone does not route to review


def test_imputed_continuous_input_range_uses_norm_percentiles(hand):
    rec = hand.evaluate({"Conscientiousness": 4.0}, hand_evidence(sample=32, ratings=(4, 4), drop=("years",)),
                        as_of=AS_OF)
    item = next(c for c in rec.coverage.inputs if c.input == "evidence.years")
    from scipy import stats

    p5, p95 = 4 + 3 * stats.norm.ppf([0.05, 0.95])
    assert item.plausible == pytest.approx((max(p5, 0.0), p95), abs=1e-9)
    u = lambda y: 1 - 2 ** (-y / 2)  # noqa: E731
    assert item.score_range == pytest.approx((rec.score + 10 * (u(0) - u(4)), rec.score + 10 * (u(p95) - u(4))),
                                             abs=1e-6)
    assert set(rec.coverage.bands_reachable) == {"review"}


def test_missing_input_with_a_minimum_cannot_be_checked():
    text = HAND.replace("minimum: 16,\n     missing: review", "minimum: 16,\n     missing: impute_mean")
    model = parse_job_model(text)
    rec = model.evaluate({"Conscientiousness": 5.0}, hand_evidence(ratings=(5, 5), drop=("sample",)), as_of=AS_OF)
    assert rec.band == "review"
    reason = next(r for r in rec.reasons if r.code == "knock_out_unchecked")
    assert "minimum of 16 set for criterion 'sample' cannot be checked" in reason.text


# Profiles -------------------------------------------------------------------------------------------------------
def test_trait_profile_input_uses_its_sems(support):
    q = profiler.load_questionnaire("ipip-bfm-50")
    norms = load_norms(q, "general")
    answers = {item: 4 for item in q.item_ids}
    profile = trait_profile(q, answers, norms)
    evidence = {
        "email_work_sample": {"score": 72, "source": "s", "date": "2026-05-01"},
        "interview_customer_focus": {"ratings": {"a": 4, "b": 3}, "source": "s", "date": "2026-05-01"},
        "support_experience": {"years": 2, "source": "s", "date": "2026-05-01"},
    }
    rec = support.evaluate(profile, evidence, as_of=AS_OF)
    raw = q.score(pd.DataFrame([answers])).iloc[0]
    same = support.evaluate({s: raw[s] for s in ("Conscientiousness", "Agreeableness", "Neuroticism", "Extraversion")},
                            evidence, as_of=AS_OF)
    assert rec.score == same.score
    assert rec.stability.se_score == pytest.approx(same.stability.se_score, rel=1e-12)
    other = trait_profile(q, answers, load_norms(q, "us"))
    with pytest.raises(NormsMismatchError, match="uses 'general'"):
        support.evaluate(other, evidence, as_of=AS_OF)


# Many candidates -------------------------------------------------------------------------------------------------
def simulated_candidates(model, n, seed=1, missing=0.05):
    """Inputs drawn from the norm distributions (normal, clipped to each input's range), some missing."""
    rng = np.random.default_rng(seed)
    columns = {}
    for info in model._compiled.inputs:
        if info.binary:
            values = (rng.random(n) < info.mean).astype(float)
        else:
            values = np.clip(rng.normal(info.mean, info.sd, n), info.low, info.high)
            if info.kind == "interview_rating":
                values = np.round(values * 2) / 2
        values[rng.random(n) < missing] = np.nan
        columns[info.ref] = values
    return pd.DataFrame(columns, index=pd.RangeIndex(n, name="candidate"))


@pytest.mark.parametrize("model_id", ["customer-support", "software-engineer"])
def test_contributions_add_up_on_100000_candidates(model_id):
    model = load_job_model(model_id)
    frame = simulated_candidates(model, 100_000)
    out = model.evaluate_many(frame, as_of=AS_OF)
    contributions = out[[c for c in out.columns if c.startswith("contribution.")]].to_numpy()
    error = np.abs(out.attrs["base_value"] + contributions.sum(axis=1) - out["score"].to_numpy())
    assert error.max() <= 1e-9
    assert len(out) == 100_000 and out.index.equals(frame.index)
    assert set(out["band"].unique()) <= {"advance", "review", "not_advance"}
    routed = out[[c for c in out.columns if c.startswith(("missing_review.", "knock_out."))]].any(axis=1)
    assert routed.any() and (out.loc[routed, "band"] == "review").all()


def test_evaluate_many_agrees_with_evaluate(support):
    frame = simulated_candidates(support, 40, seed=3, missing=0.1)
    frame["evidence.interview_customer_focus.raters"] = 2
    out = support.evaluate_many(frame, as_of=AS_OF)
    for label, row in frame.iterrows():
        traits = {ref.removeprefix("trait."): row[ref] for ref in frame.columns if ref.startswith("trait.")}
        evidence = {}
        if not np.isnan(row["evidence.email_work_sample"]):
            evidence["email_work_sample"] = {"score": row["evidence.email_work_sample"], "source": "s",
                                             "date": "2026-05-01"}
        mean = row["evidence.interview_customer_focus"]
        if not np.isnan(mean):
            low = math.floor(mean)
            evidence["interview_customer_focus"] = {"ratings": {"a": low, "b": int(round(2 * mean)) - low},
                                                    "source": "s", "date": "2026-05-01"}
        if not np.isnan(row["evidence.support_experience"]):
            evidence["support_experience"] = {"years": row["evidence.support_experience"], "source": "s",
                                              "date": "2026-05-01"}
        rec = support.evaluate(traits, evidence, as_of=AS_OF, draws=200)
        got = out.loc[label]
        assert got["score"] == pytest.approx(rec.score, abs=1e-12)
        assert got["band"] == rec.band and got["score_band"] == rec.score_band
        for c in rec.contributions:
            assert got[f"contribution.{c.criterion}"] == pytest.approx(c.contribution, abs=1e-12)
        assert got["p_flip"] == pytest.approx(rec.stability.p_flip_analytic, abs=1e-12, nan_ok=True)
        assert got["stability"] == rec.stability.label
        assert got["se_score"] == pytest.approx(rec.stability.se_score, abs=1e-12)
        assert (got["score_min"], got["score_max"]) == pytest.approx(rec.coverage.score_range, abs=1e-9)
        for cf in rec.counterfactuals:
            value = got[f"cf_{cf.direction}.{cf.criterion}"]
            if cf.reachable:
                assert value == pytest.approx(cf.change, abs=1e-9)
            else:
                assert np.isnan(value)


def test_evaluate_many_documents_itself(support):
    out = support.evaluate_many(simulated_candidates(support, 10), as_of=AS_OF)
    assert out.attrs["job_model_hash"] == support.content_hash
    assert out.attrs["norm_group"] == "general"
    assert "shap" in out.attrs["contributions"]
    assert out.attrs["reference"]["kind"] == "norm_group" and out.attrs["criteria"] == support._compiled.criterion_ids
    assert list(out.columns[:3]) == ["band", "score_band", "score"]
    assert {"stability", "p_flip", "se_score", "score_min", "score_max", "knock_out.work_sample",
            "in_review_margin", "n_imputed", "cf_up.work_sample", "cf_down_sem.experience"} <= set(out.columns)
    simulated = support.evaluate_many(simulated_candidates(support, 10), as_of=AS_OF, simulate=500)
    decided = simulated["band"] != "review"
    assert simulated.loc[decided, "p_flip_simulated"].between(0, 1).all()
    assert simulated.loc[~decided, "p_flip_simulated"].isna().all()  # no figure of certainty for a review


# Effective weights ------------------------------------------------------------------------------------------------
def test_effective_weights_by_hand(hand):
    table = hand.effective_weights()
    # certificate: Bernoulli(0.25) utility, SD sqrt(p (1 - p)), exact
    assert table.loc["cert", "utility_sd"] == pytest.approx(math.sqrt(0.25 * 0.75), abs=1e-15)
    assert table.loc["cert", "effective_weight"] == pytest.approx(math.sqrt(0.1875), abs=1e-15)
    # Conscientiousness: utility (C - 1) / 4 never clips on 1..5, so its SD is the norm SD / 4 (empirical)
    norm = hand.norms.scale("Conscientiousness")
    scores, counts = np.array(norm.distribution.scores), np.array(norm.distribution.counts, float)
    sd = math.sqrt(np.average((scores - np.average(scores, weights=counts)) ** 2, weights=counts))
    assert table.loc["c", "utility_sd"] == pytest.approx(sd / 4, rel=1e-12)
    # work sample: normal(32, 16) clipped to 0..64, utility x / 64: SD of a normal clipped at +-2 SD
    from scipy import integrate, stats

    mean = integrate.quad(lambda x: min(max(x, 0), 64) / 64 * stats.norm.pdf(x, 32, 16), -100, 200, limit=200)[0]
    second = integrate.quad(lambda x: (min(max(x, 0), 64) / 64) ** 2 * stats.norm.pdf(x, 32, 16), -100, 200,
                            limit=200)[0]
    assert table.loc["sample", "utility_sd"] == pytest.approx(math.sqrt(second - mean**2), rel=1e-4)
    assert table["effective_share"].sum() == pytest.approx(1.0)
    assert (table["points_sd"] == 10 * table["effective_weight"]).all()


def test_dominant_criterion_warns():
    # written weight share 40%, but the interview and trait utilities barely vary (at_one far outside 1..5)
    text = HAND.replace("at_zero: 1, at_one: 5}, weight: 2", "at_zero: 1, at_one: 50}, weight: 2")
    model = parse_job_model(text)
    with pytest.warns(DominantCriterionWarning, match=r"criterion 'sample' carries 5[0-9]% of the effective weight "
                      r"\(written weight share 40%"):
        messages = model.warnings
    assert len(messages) == 1 and "'sample'" in messages[0]
    assert issubclass(DominantCriterionWarning, UserWarning)


def test_a_malformed_evaluation_date_is_a_clear_error():
    from profiler.jobmodel.evidence import JobModelInputError

    model = profiler.load_job_model("customer-support")
    traits = {"Conscientiousness": 3.5, "Agreeableness": 3.9, "Neuroticism": 3.0, "Extraversion": 3.2}
    with pytest.raises(JobModelInputError, match="as_of: 'tomorrow' is not a date"):
        model.evaluate(traits, {}, as_of="tomorrow")
