"""Skill evidence: typed records, validation against the declarations, data minimisation, agreement, expiry."""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import pandas as pd
import pytest

from profiler.errors import ProfilerError
from profiler.jobmodel import (
    CertificationRecord,
    EducationRecord,
    EvidenceError,
    ExperienceRecord,
    InterviewRecord,
    JobModelInputError,
    TestScoreRecord,
    UndeclaredInputError,
    load_job_model,
    parse_job_model,
)
from profiler.jobmodel.evidence import r_wg, resolve_evidence, spearman_brown

AS_OF = dt.date(2026, 6, 1)
DAY = dt.date(2026, 5, 1)

EDUCATION_MODEL = """
id: with-education
version: "1"
role: {title: Test role}
job_analysis: {method: written for the tests}
questionnaire: ipip-bfm-50
norms: general
evidence:
  - {id: degree, kind: education, name: Degree, requirement: A relevant degree, base_rate: 0.4}
  - id: sample
    kind: test_score
    name: Work sample
    min: 0
    max: 64
    reliability: 0.8
    norm: {mean: 32, sd: 10, group: test applicants}
criteria:
  - {id: degree, input: evidence.degree, transform: {kind: binary}, weight: 1, missing: impute_mean, rationale: r}
  - {id: sample, input: evidence.sample, transform: {kind: linear, at_zero: 0, at_one: 64}, weight: 3, rationale: r}
  - id: c
    input: trait.Conscientiousness
    transform: {kind: linear, at_zero: 1, at_one: 5}
    weight: 1
    rationale: r
bands: {advance_from: 60, not_advance_below: 45}
"""


@pytest.fixture(scope="module")
def support():
    return load_job_model("customer-support")


@pytest.fixture(scope="module")
def engineer():
    return load_job_model("software-engineer")


def support_evidence(**changes):
    evidence = {
        "email_work_sample": {"score": 72, "source": "work-sample platform", "date": "2026-05-01"},
        "interview_customer_focus": {"ratings": {"r1": 4, "r2": 3}, "source": "panel 7", "date": "2026-05-03"},
        "support_experience": {"years": 2, "source": "CV", "date": "2026-04-01"},
    }
    evidence.update(changes)
    return {k: v for k, v in evidence.items() if v is not None}


TRAITS = {"Conscientiousness": 3.6, "Agreeableness": 4.1, "Neuroticism": 2.8, "Extraversion": 3.3}


# Records ---------------------------------------------------------------------------------------------------
def test_records_of_every_kind_resolve_to_values(support, engineer):
    resolved = resolve_evidence(support.evidence_specs, {
        "email_work_sample": TestScoreRecord(score=72, source="platform", date=DAY),
        "interview_customer_focus": InterviewRecord(ratings={"a": 4, "b": 3, "c": 5}, source="panel", date=DAY),
        "support_experience": ExperienceRecord(years=2.5, source="CV", date=DAY),
    }, AS_OF)  # fmt: skip
    assert resolved["email_work_sample"].value == 72
    assert resolved["interview_customer_focus"].value == 4.0
    assert resolved["support_experience"].value == 2.5
    assert resolved["support_experience"].sem == 0  # a recorded fact
    cert = resolve_evidence(engineer.evidence_specs, {
        "cloud_certification": CertificationRecord(held=True, expires=dt.date(2027, 1, 1), source="vendor", date=DAY)
    }, AS_OF)["cloud_certification"]  # fmt: skip
    assert (cert.value, cert.expired, cert.sem) == (1.0, False, 0.0)
    model = parse_job_model(EDUCATION_MODEL)
    degree = resolve_evidence(model.evidence_specs, {"degree": EducationRecord(met=False, source="diploma", date=DAY)},
                              AS_OF)["degree"]
    assert degree.value == 0.0


def test_test_score_sem_uses_declared_reliability(support):
    resolved = resolve_evidence(support.evidence_specs, support_evidence(), AS_OF)
    assert resolved["email_work_sample"].sem == pytest.approx(15 * math.sqrt(1 - 0.80), abs=1e-15)


def test_interview_agreement_and_spearman_brown_by_hand(support):
    resolved = resolve_evidence(support.evidence_specs, support_evidence(), AS_OF)
    agreement = resolved["interview_customer_focus"].agreement
    # ratings 4 and 3: mean 3.5, variance (n - 1) 0.5, uniform null on 5 points (25 - 1) / 12 = 2
    assert agreement.mean == 3.5
    assert agreement.r_wg == pytest.approx(1 - 0.5 / 2, abs=1e-15)
    # Spearman-Brown for k = 2 from ICC 0.60: 1.2 / 1.6 = 0.75; SEM = SD 0.8 * sqrt(0.25) = 0.4
    assert agreement.reliability == pytest.approx(0.75, abs=1e-15)
    assert agreement.sem == pytest.approx(0.4, abs=1e-15)
    assert resolved["interview_customer_focus"].sem == agreement.sem
    assert "moderate agreement between 2 raters" in agreement.reading


def test_r_wg_edge_cases():
    assert r_wg([4]) is None
    assert r_wg([4, 4, 4]) == 1.0
    assert r_wg([1, 5]) == 0.0  # variance 8 exceeds the uniform null: truncated at 0
    assert r_wg([2, 3, 4]) == pytest.approx(1 - 1 / 2)
    assert spearman_brown(0.5, 1) == 0.5
    assert spearman_brown(0.5, 3) == pytest.approx(0.75)


# Validation -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("changes", "fragment"), [
    ({"email_work_sample": {"score": 120, "source": "s", "date": "2026-05-01"}},
     "evidence.email_work_sample.score: 120 is outside the test's range 0..100"),
    ({"interview_customer_focus": {"ratings": {"r1": 4}, "source": "s", "date": "2026-05-01"}},
     "1 rater(s), but the model requires at least 2"),
    ({"interview_customer_focus": {"ratings": {"r1": 6, "r2": 3}, "source": "s", "date": "2026-05-01"}},
     "evidence.interview_customer_focus.ratings.r1"),
    ({"interview_customer_focus": {"ratings": {"r1": 3.5, "r2": 3}, "source": "s", "date": "2026-05-01"}},
     "evidence.interview_customer_focus.ratings.r1"),
    ({"support_experience": {"years": 41, "source": "s", "date": "2026-05-01"}},
     "evidence.support_experience.years: 41 exceeds the declared maximum 40"),
    ({"support_experience": {"years": -1, "source": "s", "date": "2026-05-01"}}, "evidence.support_experience.years"),
    ({"support_experience": {"years": 2, "source": "s", "date": "2026-07-01"}},
     "evidence.support_experience.date: 2026-07-01 is after the evaluation date 2026-06-01"),
    ({"support_experience": {"years": 2, "date": "2026-05-01"}}, "evidence.support_experience.source: Field required"),
    ({"support_experience": {"years": 2, "source": "s"}}, "evidence.support_experience.date: Field required"),
    ({"support_experience": {"years": 2, "source": "s", "date": "2026-05-01", "salary": 40000}},
     "evidence.support_experience.salary: not a field of this kind of evidence"),
    ({"support_experience": TestScoreRecord(score=3, source="s", date=DAY)},
     "the model declares 'Years of customer-facing experience' as experience, got a test_score record"),
    ({"support_experience": 2}, "expected a ExperienceRecord or a mapping of its fields, got int"),
])  # fmt: skip
def test_invalid_evidence_is_refused_naming_the_field(support, changes, fragment):
    with pytest.raises(EvidenceError) as info:
        support.evaluate(TRAITS, support_evidence(**changes), as_of=AS_OF)
    assert fragment in str(info.value)
    assert isinstance(info.value, ProfilerError) and isinstance(info.value, ValueError)


def test_every_problem_is_reported_at_once(support):
    evidence = support_evidence(
        email_work_sample={"score": -1, "source": "s", "date": "2026-05-01"},
        support_experience={"years": 99, "source": "s", "date": "2026-05-01"},
    )
    with pytest.raises(EvidenceError) as info:
        support.evaluate(TRAITS, evidence, as_of=AS_OF)
    assert len(info.value.problems) == 2


def test_certification_held_is_a_strict_boolean(engineer):
    with pytest.raises(EvidenceError, match="cloud_certification.held"):
        resolve_evidence(engineer.evidence_specs, {"cloud_certification": {"held": "No", "source": "s",
                                                                          "date": "2026-05-01"}}, AS_OF)


# Data minimisation -----------------------------------------------------------------------------------------
def test_undeclared_evidence_is_refused_by_name(support):
    evidence = support_evidence(age={"years": 40, "source": "s", "date": "2026-05-01"})
    with pytest.raises(UndeclaredInputError) as info:
        support.evaluate(TRAITS, evidence, as_of=AS_OF)
    assert info.value.fields == ["age"]
    message = str(info.value)
    assert "evidence 'age' is not declared by job model 'customer-support'" in message
    assert "data minimisation" in message
    assert isinstance(info.value, JobModelInputError)


def test_undeclared_trait_scale_is_refused(support):
    with pytest.raises(UndeclaredInputError, match="trait scale 'Openness' is not declared"):
        support.evaluate({**TRAITS, "Openness": 3.0}, support_evidence(), as_of=AS_OF)


def test_undeclared_column_is_refused(support):
    frame = pd.DataFrame({"trait.Conscientiousness": [3.0], "gender": ["f"]})
    with pytest.raises(UndeclaredInputError) as info:
        support.evaluate_many(frame, as_of=AS_OF)
    assert info.value.fields == ["gender"]
    frame = pd.DataFrame({"trait.Conscientiousness": [3.0], "evidence.support_experience.raters": [2]})
    with pytest.raises(UndeclaredInputError, match="support_experience.raters"):  # raters only for interviews
        support.evaluate_many(frame, as_of=AS_OF)


def test_trait_scores_out_of_range_are_refused(support):
    with pytest.raises(EvidenceError, match=r"trait.Conscientiousness: 5.5 is outside the scale's range 1..5"):
        support.evaluate({**TRAITS, "Conscientiousness": 5.5}, support_evidence(), as_of=AS_OF)


@pytest.mark.parametrize(("column", "values", "fragment"), [
    ("evidence.email_work_sample", [50.0, 101.0], "1 row(s) outside the input's range 0..100 (rows 1)"),
    ("evidence.interview_customer_focus.raters", [2, 1], "fewer than the 2 raters"),
    ("evidence.email_work_sample.date", ["2026-05-01", "2026-07-01"], "dated after the evaluation date"),
    ("evidence.email_work_sample.date", ["2026-05-01", "yesterday"], "not dates"),
])  # fmt: skip
def test_invalid_columns_are_refused(support, column, values, fragment):
    with pytest.raises(EvidenceError, match=re.escape(fragment)):
        support.evaluate_many(pd.DataFrame({column: values}), as_of=AS_OF)


def test_binary_columns_must_be_zero_or_one(engineer):
    with pytest.raises(EvidenceError, match="not 0 or 1"):
        engineer.evaluate_many(pd.DataFrame({"evidence.cloud_certification": [1, 0.5]}), as_of=AS_OF)


# Expiry ----------------------------------------------------------------------------------------------------
def test_old_evidence_expires_and_is_reported(support):
    old = {"score": 90, "source": "platform", "date": "2025-05-03"}  # 394 days before, max 365
    rec = support.evaluate(TRAITS, support_evidence(email_work_sample=old), as_of=AS_OF)
    item = next(c for c in rec.coverage.inputs if c.input == "evidence.email_work_sample")
    assert item.status == "expired" and item.handling == "review"
    assert "older than the 365 days" in item.detail
    assert rec.coverage.expired == ["evidence.email_work_sample"]
    assert rec.band == "review"
    assert any(r.code == "expired" and r.criterion == "work_sample" for r in rec.reasons)
    assert rec.contribution("work_sample").contribution == 0.0
    assert rec.contribution("work_sample").status == "missing_review"
    # the same evidence on a date within 365 days counts
    # 365 days: still valid
    fresh = support.evaluate(TRAITS, support_evidence(email_work_sample=old), as_of=dt.date(2026, 5, 3))
    assert fresh.coverage.complete


def test_expired_certification_is_imputed_under_its_policy(engineer):
    evidence = {
        "coding_work_sample": {"score": 70, "source": "s", "date": "2026-05-01"},
        "interview_system_design": {"ratings": {"a": 4, "b": 4}, "source": "s", "date": "2026-05-01"},
        "cloud_certification": {"held": True, "expires": "2026-05-31", "source": "vendor", "date": "2024-01-01"},
    }
    traits = {"Conscientiousness": 3.5, "Openness": 4.0}
    rec = engineer.evaluate(traits, evidence, as_of=AS_OF)
    item = next(c for c in rec.coverage.inputs if c.input == "evidence.cloud_certification")
    assert item.status == "expired" and item.handling == "imputed"
    assert "expired on 2026-05-31" in item.detail
    assert rec.contribution("cloud_certification").contribution == 0.0
    assert rec.contribution("cloud_certification").status == "imputed"
    # valid on its last day; a certification not held cannot lapse
    on_last_day = engineer.evaluate(traits, evidence, as_of=dt.date(2026, 5, 31))
    cert = next(c for c in on_last_day.coverage.inputs if c.input == "evidence.cloud_certification")
    assert cert.status == "measured"
    not_held = {**evidence, "cloud_certification": {"held": False, "expires": "2026-01-01", "source": "s",
                                                    "date": "2024-01-01"}}
    rec = engineer.evaluate(traits, not_held, as_of=AS_OF)
    assert next(c for c in rec.coverage.inputs if c.input == "evidence.cloud_certification").status == "measured"


def test_expiry_columns_in_evaluate_many(engineer):
    frame = pd.DataFrame({
        "evidence.coding_work_sample": [70.0, 70.0, 70.0],
        "evidence.coding_work_sample.date": pd.to_datetime(["2026-05-01", "2025-01-01", None]),
        "evidence.cloud_certification": [1.0, 1.0, 0.0],
        "evidence.cloud_certification.expires": ["2027-01-01", "2026-01-01", "2020-01-01"],
    })  # fmt: skip
    out = engineer.evaluate_many(frame, as_of=AS_OF)
    assert out["n_expired"].tolist() == [0, 2, 0]
    assert bool(out["missing_review.coding"].iloc[1])
    assert out["contribution.cloud_certification"].iloc[1] == 0.0
    assert out["contribution.coding"].iloc[0] > 0
