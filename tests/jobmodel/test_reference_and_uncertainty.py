"""Honest uncertainty (unknown inputs that could change the band), the reference point as a choice, and shap's
``Explanation`` for one recommendation and for a batch, with shap's explainers as the oracle and its plots as
the consumer."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

from profiler.jobmodel import Recommendation, ReferencePoint, batch_explanation, load_job_model, parse_job_model
from profiler.jobmodel.explanation import import_shap

matplotlib.use("Agg")

AS_OF = dt.date(2026, 6, 1)
SUPPORT_YAML = (Path(__file__).resolve().parents[2] / "models" / "jobs" / "customer-support.yaml").read_text(
    encoding="utf-8")
TRAITS = {"Conscientiousness": 3.6, "Agreeableness": 4.1, "Neuroticism": 2.8, "Extraversion": 3.3}


def evidence(sample=72.0, ratings=(4, 3), years=2.0):
    out = {
        "email_work_sample": {"score": sample, "source": "s", "date": "2026-05-01"},
        "interview_customer_focus": {"ratings": dict(zip("ab", ratings, strict=True)), "source": "s",
                                     "date": "2026-05-01"},
    }
    if years is not None:
        out["support_experience"] = {"years": years, "source": "s", "date": "2026-05-01"}
    return out


@pytest.fixture(scope="module")
def support():
    return load_job_model("customer-support")


@pytest.fixture(scope="module")
def reporting():
    """The same model with ``if_unknown_could_change: report``."""
    text = SUPPORT_YAML.replace("  review_margin: 3\n", "  review_margin: 3\n  if_unknown_could_change: report\n")
    assert text != SUPPORT_YAML
    return parse_job_model(text, "reporting.yaml")


def cohort_frame(model, n=400, seed=3):
    rng = np.random.default_rng(seed)
    cm = model._compiled
    frame = pd.DataFrame({info.ref: np.clip(rng.normal(info.mean, 1.2 * info.sd, n), info.low, info.high)
                          for info in cm.inputs})
    frame.loc[rng.random(n) < 0.3, "evidence.support_experience"] = np.nan  # imputed: unknown but not routed
    return frame


# Unknown inputs that could change the band --------------------------------------------------------------------
def test_unknown_inputs_that_could_change_the_band_route_to_review_by_default(support, reporting):
    # Experience is missing and imputed at its norm mean: the score band is advance, but at plausible values
    # of the experience the score could fall below the advance threshold (63).
    rec = support.evaluate(TRAITS, evidence(sample=65, ratings=(4, 4), years=None), as_of=AS_OF)
    lo, hi = rec.coverage.score_range
    assert rec.score_band == "advance" and lo < rec.thresholds["advance_at_or_above"] <= rec.score
    assert rec.unknown_could_change
    assert rec.band == "review"  # the policy's default
    assert "unknown inputs could change the band" in rec.headline
    assert f"{lo:.1f}..{hi:.1f}" in rec.headline
    reason = next(r for r in rec.reasons if r.code == "unknown_could_change")
    assert "a person reviews the case" in reason.text
    assert rec.stability.label == "not applicable" and math.isnan(rec.stability.p_same)
    assert "Recommendation: HUMAN REVIEW (score band: advance); unknown inputs could change the band" in str(rec)

    # Under ``report`` the score band stands and the headline still says it rests on what is not known.
    kept = reporting.evaluate(TRAITS, evidence(sample=65, ratings=(4, 4), years=None), as_of=AS_OF)
    assert kept.score == rec.score and kept.coverage.score_range == rec.coverage.score_range
    assert kept.band == "advance" and kept.unknown_could_change
    assert "ADVANCE (score band: advance); unknown inputs could change the band" in kept.headline
    assert "the score band stands" in next(r for r in kept.reasons if r.code == "unknown_could_change").text
    assert kept.stability.applicable and kept.stability.p_same < 1
    # the policy is part of the model's content: another policy, another hash
    assert reporting.content_hash != support.content_hash


def test_known_inputs_or_a_range_inside_one_band_change_nothing(support):
    measured = support.evaluate(TRAITS, evidence(sample=80, ratings=(4, 4), years=2), as_of=AS_OF)
    assert not measured.unknown_could_change and "unknown" not in measured.headline
    assert measured.band == measured.score_band == "advance"
    # far above the threshold, the missing experience cannot move the score out of advance
    strong = support.evaluate({**TRAITS, "Conscientiousness": 4.4}, evidence(sample=95, ratings=(5, 5), years=None),
                              as_of=AS_OF)
    assert strong.coverage.score_range[0] >= strong.thresholds["advance_at_or_above"]
    assert not strong.unknown_could_change and strong.band == "advance"


def test_batch_flags_and_routes_unknown_inputs_under_both_policies(support, reporting):
    frame = cohort_frame(support)
    for model in (support, reporting):
        out = model.evaluate_many(frame, as_of=AS_OF)
        flagged = out["unknown_could_change"].to_numpy()
        crossing = ((out["score_min"] < out.attrs["thresholds"]["advance_at_or_above"])
                    & (out["score_max"] >= out.attrs["thresholds"]["advance_at_or_above"])) | \
                   ((out["score_min"] < out.attrs["thresholds"]["not_advance_below"])
                    & (out["score_max"] >= out.attrs["thresholds"]["not_advance_below"]))
        assert flagged.sum() >= 5 and (flagged == crossing.to_numpy()).all()
        moved = out["band"].astype(str) != out["score_band"].astype(str)
        if model is reporting:
            # only knock-outs and missing inputs under ``missing: review`` route; never the unknown range alone
            routed = out.filter(like="knock_out.").any(axis=1) | out.filter(like="missing_review.").any(axis=1)
            assert not (moved & ~routed).any()
        else:
            assert (out.loc[flagged & (out["score_band"] != "review").to_numpy(), "band"] == "review").all()
        review = out["band"] == "review"
        assert out.loc[review, "p_flip"].isna().all()
        assert (out.loc[review, "stability"] == "not applicable").all()
        assert out.loc[~review, "p_flip"].notna().all()


# The reference point ------------------------------------------------------------------------------------------
def _utilities(model, frame):
    cm = model._compiled
    X = frame[[i.ref for i in cm.inputs]].to_numpy()
    return cm.utilities_of(np.where(np.isnan(X), cm.means, X))


def test_the_default_reference_is_the_norm_groups_average_candidate(support):
    rec = support.evaluate(TRAITS, evidence(), as_of=AS_OF)
    assert rec.reference["kind"] == "norm_group"
    assert rec.base_value == support.norm_reference.base_value
    text = str(rec)
    assert "Reference point: the average candidate" in text and "change sign and size" in text
    assert Recommendation.from_dict(rec.to_dict()).reference == rec.reference
    out = support.evaluate_many(cohort_frame(support, 20), as_of=AS_OF)
    assert out.attrs["reference"]["kind"] == "norm_group"
    assert out.attrs["base_value"] == rec.base_value


def test_a_cohort_reference_is_shaps_background_of_the_cohort(support):
    shap = import_shap()
    frame = cohort_frame(support)
    cm = support._compiled
    default = support.evaluate_many(frame, as_of=AS_OF)
    out = support.evaluate_many(frame, as_of=AS_OF, reference="cohort")
    columns = [f"contribution.{c}" for c in cm.criterion_ids]
    # score, band and everything but the contributions stay; the contributions are measured from the cohort
    assert (out["score"] == default["score"]).all() and (out["band"] == default["band"]).all()
    U = _utilities(support, frame)
    assert out.attrs["base_value"] == pytest.approx((U @ cm.coef).mean(), abs=1e-12)
    assert out[columns].to_numpy().mean(axis=0) == pytest.approx(np.zeros(len(columns)), abs=1e-12)
    additivity = out.attrs["base_value"] + out[columns].to_numpy().sum(axis=1) - out["score"].to_numpy()
    assert np.abs(additivity).max() <= 1e-12
    # shap's LinearExplainer with the whole cohort as the background (no subsampling) gives the same values
    explainer = shap.LinearExplainer((cm.coef, 0.0), shap.maskers.Independent(U, max_samples=len(U)))
    assert float(explainer.expected_value) == pytest.approx(out.attrs["base_value"], abs=1e-12)
    assert np.abs(explainer.shap_values(U) - out[columns].to_numpy()).max() <= 1e-12
    assert out.attrs["reference"]["kind"] == "cohort" and out.attrs["reference"]["n"] == len(frame)

    # the same reference for one candidate, built from the frame, gives that candidate's row
    reference = support.cohort_reference(frame, description="this round's 400 applicants", as_of=AS_OF)
    assert isinstance(reference, ReferencePoint) and reference.base_value == out.attrs["base_value"]
    rec = support.evaluate(TRAITS, evidence(), as_of=AS_OF, reference=reference)
    plain = support.evaluate(TRAITS, evidence(), as_of=AS_OF)
    assert rec.score == plain.score and rec.band == plain.band
    u = cm.utilities_of(np.array([[c.value for c in rec.contributions]]))[0]
    assert [c.contribution for c in rec.contributions] == pytest.approx(list((u - reference.utility) * cm.coef),
                                                                         abs=1e-12)
    assert rec.reference["description"] == "this round's 400 applicants"
    assert "Reference point: this round's 400 applicants" in str(rec)
    # moving the reference shifts each contribution by c_i (r_i(norm) - r_i(cohort)); the sum by the base values
    shift = np.array([a.contribution - b.contribution for a, b in zip(rec.contributions, plain.contributions,
                                                                      strict=True)])
    assert shift == pytest.approx(cm.coef * (cm.reference_utility - reference.utility), abs=1e-12)
    assert shift.sum() == pytest.approx(plain.base_value - rec.base_value, abs=1e-12)


def test_a_declared_reference_is_one_candidate(support):
    shap = import_shap()
    cm = support._compiled
    values = {info.ref: float(np.clip(info.mean + 0.5 * info.sd, info.low, info.high)) for info in cm.inputs}
    reference = support.declared_reference(values, description="the incumbent team's typical agent")
    # its base value is its own score
    assert reference.kind == "declared"
    assert reference.base_value == pytest.approx(float(cm.utilities_of(np.array([list(values.values())]))[0]
                                                       @ cm.coef), abs=1e-12)
    rec = support.evaluate(TRAITS, evidence(), as_of=AS_OF, reference=reference)
    assert rec.base_value + sum(c.contribution for c in rec.contributions) == pytest.approx(rec.score, abs=1e-12)
    # shap's exact explainer with the declared candidate as the single background row
    U = cm.utilities_of(np.array([[c.value for c in rec.contributions]]))
    background = reference.utility[None, :]
    exact = shap.ExactExplainer(lambda u: u @ cm.coef, shap.maskers.Independent(background, max_samples=1))(U)
    assert exact.base_values[0] == pytest.approx(rec.base_value, abs=1e-12)
    assert exact.values[0] == pytest.approx([c.contribution for c in rec.contributions], abs=1e-12)
    assert "Reference point: the incumbent team's typical agent" in str(rec)
    with pytest.raises(ValueError, match="needs a value for every input"):
        support.declared_reference({"trait.Conscientiousness": 3.0}, description="incomplete")
    # its hash names its values: the same values give the same hash, another value another, the norm group's its own
    assert support.declared_reference(values, description="another name").sha256 == reference.sha256
    moved = {**values, "trait.Conscientiousness": values["trait.Conscientiousness"] + 0.1}
    assert support.declared_reference(moved, description="x").sha256 != reference.sha256
    assert support.norm_reference.sha256 not in (reference.sha256, None)
    assert reference.sha256.startswith("sha256:") and len(reference.sha256) == 71


def test_evaluate_many_refuses_an_unknown_reference_name(support):
    with pytest.raises(ValueError, match="'cohort'"):
        support.evaluate_many(cohort_frame(support, 5), as_of=AS_OF, reference="applicants")


# shap.Explanation ----------------------------------------------------------------------------------------------
def test_a_batch_converts_to_one_explanation_for_shaps_plots(support):
    import matplotlib.pyplot as plt

    shap = import_shap()
    cm = support._compiled
    frame = cohort_frame(support, 200)
    for reference in (None, "cohort"):
        out = support.evaluate_many(frame, as_of=AS_OF, reference=reference)
        explanation = batch_explanation(out)
        assert isinstance(explanation, shap.Explanation)
        assert explanation.shape == (len(frame), len(cm.criterion_ids))
        assert list(explanation.feature_names) == list(cm.criterion_ids)
        assert (explanation.base_values == out.attrs["base_value"]).all()
        assert (explanation.values == out[[f"contribution.{c}" for c in cm.criterion_ids]].to_numpy()).all()
        assert (explanation.data == out[[f"value.{c}" for c in cm.criterion_ids]].to_numpy()).all()
        # shap's explainers are the oracle: Linear and Exact on the utilities, with the same background
        U = _utilities(support, frame)
        background = U if reference == "cohort" else cm.reference_utility[None, :]
        masker = shap.maskers.Independent(background, max_samples=len(background))
        linear = shap.LinearExplainer((cm.coef, 0.0), masker)(U)
        assert np.abs(linear.values - explanation.values).max() <= 1e-12
        exact = shap.ExactExplainer(lambda u: u @ cm.coef, masker)(U[:10])
        assert np.abs(exact.values - explanation.values[:10]).max() <= 1e-10
        assert np.abs(exact.base_values - explanation.base_values[:10]).max() <= 1e-10
        # shap's own plots take it as it is
        for draw in (shap.plots.beeswarm, shap.plots.bar):
            draw(explanation, show=False)
            plt.close("all")
        shap.plots.waterfall(explanation[0], show=False)
        plt.close("all")


def test_one_recommendation_converts_for_shaps_waterfall(support):
    import matplotlib.pyplot as plt

    shap = import_shap()
    rec = support.evaluate(TRAITS, evidence(), as_of=AS_OF)
    explanation = rec.explanation()
    shap.plots.waterfall(explanation, show=False)
    plt.close("all")
    stored = Recommendation.from_dict(rec.to_dict()).explanation()  # also from a stored recommendation
    assert stored.values.tolist() == explanation.values.tolist() and stored.base_values == explanation.base_values


def test_batch_explanation_names_what_it_cannot_read():
    with pytest.raises(ValueError, match="not a result of JobModel.evaluate_many"):
        batch_explanation(pd.DataFrame({"score": [1.0]}))
