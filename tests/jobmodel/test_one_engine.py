"""One engine: ``evaluate`` (one candidate, from records) and ``evaluate_many`` (a frame) are the same computation.

A property test (hypothesis) draws batches of random candidates for three job models: values anywhere in their
ranges and on the edges that matter (the ends of the range, a criterion's minimum and a hair either side of
it, transform anchors, attainable scale scores), missing inputs, interviews with two to four raters, evidence
older than the model accepts, certifications past their expiry or not held. Every candidate is evaluated
alone from records and, together with the others, from a frame; every figure both expose must be equal: not
close, equal (a score a hair off a threshold would otherwise change band).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profiler.jobmodel import load_job_model, parse_job_model

AS_OF = dt.date(2026, 6, 1)

MIXED = """
id: mixed
version: "1"
role: {title: Test role}
job_analysis: {method: written for the tests}
questionnaire: ipip-bfm-50
norms: general
evidence:
  - {id: sample, kind: test_score, name: Work sample, min: 0, max: 64, reliability: 0.75, max_age_days: 100,
     norm: {mean: 32, sd: 16, group: test applicants}}
  - {id: interview, kind: interview_rating, name: Interview, competency: Teamwork, min_raters: 2,
     interrater_reliability: 0.6, norm: {mean: 3, sd: 1, group: test applicants}}
  - {id: cert, kind: certification, name: Certificate, base_rate: 0.25, max_age_days: 400}
  - {id: years, kind: experience, name: Years, max: 40, norm: {mean: 4, sd: 3, group: test applicants}}
criteria:
  - {id: sample, input: evidence.sample, transform: {kind: linear, at_zero: 0, at_one: 64}, weight: 4, minimum: 16,
     rationale: r}
  - {id: interview, input: evidence.interview, transform: {kind: linear, at_zero: 1, at_one: 5}, weight: 2,
     rationale: r}
  - {id: c, input: trait.Conscientiousness, transform: {kind: target_range, low: 3.2, high: 4.2, tolerance: 1},
     weight: 2, missing: impute_mean, rationale: r}
  - {id: n, input: trait.Neuroticism, transform: {kind: linear, at_zero: 4, at_one: 2}, weight: 1, minimum: 1.5,
     missing: impute_mean, rationale: r}
  - {id: cert, input: evidence.cert, transform: {kind: binary}, weight: 1, missing: impute_mean, rationale: r}
  - {id: years, input: evidence.years, transform: {kind: saturating, half_at: 2}, weight: 1, minimum: 1,
     missing: impute_mean, rationale: r}
bands: {advance_from: 60, not_advance_below: 45, review_margin: 3}
"""

MODELS = {name: None for name in ("mixed", "customer-support", "software-engineer")}


def model_named(name):
    if MODELS[name] is None:
        MODELS[name] = parse_job_model(MIXED) if name == "mixed" else load_job_model(name)
    return MODELS[name]


@st.composite
def candidate(draw, model):
    """One candidate of ``model``: (traits mapping, evidence records, frame row)."""
    cm = model._compiled
    traits, records, row = {}, {}, {}
    for j, info in enumerate(cm.inputs):
        if draw(st.integers(0, 9)) == 0:
            continue  # missing
        edges = [info.low, info.high, info.mean]
        minimum = cm.input_minimum[j]
        if not math.isnan(minimum):
            edges += [minimum, np.nextafter(minimum, -np.inf), np.nextafter(minimum, np.inf)]
        for c in np.flatnonzero(cm.input_of == j):
            edges += [float(b) for b in cm.utilities[c].breakpoints]
        edges = [e for e in edges if info.low <= e <= info.high]
        if info.is_trait:
            value = draw(st.one_of(st.sampled_from(edges), st.sampled_from(list(info.scale_norm.distribution.scores)),
                                   st.floats(info.low, info.high)))
            traits[info.key] = value
            row[info.ref] = value
            continue
        spec = info.spec
        age = draw(st.integers(0, (spec.max_age_days or 300) + 60))
        date = AS_OF - dt.timedelta(days=age)
        record = {"source": "test", "date": date.isoformat()}
        row[f"{info.ref}.date"] = date.isoformat()
        if info.kind == "interview_rating":
            ratings = draw(st.lists(st.integers(1, 5), min_size=spec.min_raters, max_size=4))
            record["ratings"] = {f"r{k}": r for k, r in enumerate(ratings)}
            row[info.ref] = sum(ratings) / len(ratings)
            row[f"{info.ref}.raters"] = len(ratings)
        elif info.kind == "certification":
            held = draw(st.booleans())
            record["held"] = held
            row[info.ref] = 1.0 if held else 0.0
            if draw(st.booleans()):
                expires = AS_OF + dt.timedelta(days=draw(st.integers(-30, 30)))
                record["expires"] = expires.isoformat()
                row[f"{info.ref}.expires"] = expires.isoformat()
        elif info.kind == "education":
            met = draw(st.booleans())
            record["met"] = met
            row[info.ref] = 1.0 if met else 0.0
        else:
            value = draw(st.one_of(st.sampled_from(edges), st.floats(info.low, info.high)))
            if info.kind == "experience":
                record["years"] = value
            else:
                record["score"] = value
            row[info.ref] = value
        records[info.key] = record
    return traits, records, row


@st.composite
def batch(draw):
    model = model_named(draw(st.sampled_from(sorted(MODELS))))
    people = draw(st.lists(candidate(model), min_size=1, max_size=6))
    return model, people


def _same(a, b) -> bool:
    """Equal, NaN equal to NaN (and None read as NaN)."""
    a = math.nan if a is None else float(a)
    b = math.nan if b is None else float(b)
    return a == b or (math.isnan(a) and math.isnan(b))


def frame_of(model, rows) -> pd.DataFrame:
    cm = model._compiled
    columns = [info.ref for info in cm.inputs]
    for info in cm.inputs:
        if not info.is_trait:
            columns.append(f"{info.ref}.date")
            if info.kind == "interview_rating":
                columns.append(f"{info.ref}.raters")
            if info.kind == "certification":
                columns.append(f"{info.ref}.expires")
    frame = pd.DataFrame(rows, columns=columns)
    # a column of the evidence's date, raters or expiry that no row fills is left out, as a user would
    frame = frame.drop(columns=[c for c in columns if c.count(".") == 2 and frame[c].isna().all()])
    for column in frame.columns:
        if column.endswith((".date", ".expires")):
            frame[column] = pd.to_datetime(frame[column])
        else:
            frame[column] = frame[column].astype(float)
    return frame


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(batch())
def test_evaluate_and_evaluate_many_are_one_computation(drawn):
    model, people = drawn
    cm = model._compiled
    out = model.evaluate_many(frame_of(model, [row for _, _, row in people]), as_of=AS_OF, simulate=64, seed=5)
    for i, (traits, records, _) in enumerate(people):
        rec = model.evaluate(traits, records, as_of=AS_OF, draws=64, seed=5)
        got = out.iloc[i]
        assert got["band"] == rec.band and got["score_band"] == rec.score_band
        assert got["score"] == rec.score
        for c in rec.contributions:
            assert got[f"contribution.{c.criterion}"] == c.contribution
            assert got[f"value.{c.criterion}"] == c.value
        st_ = rec.stability
        assert got["se_score"] == st_.se_score
        assert _same(got["p_flip"], st_.p_flip_analytic)
        assert _same(got["p_flip_simulated"], st_.p_flip_simulated)
        assert got["stability"] == st_.label
        assert (got["score_min"], got["score_max"]) == rec.coverage.score_range
        assert got["unknown_could_change"] == rec.unknown_could_change
        codes = {r.code for r in rec.reasons}
        assert got["in_review_margin"] == ("review_margin" in codes)
        for c in cm.knock_columns:
            cid = cm.criterion_ids[c]
            assert got[f"knock_out.{cid}"] == any(r.code == "knock_out" and r.criterion == cid for r in rec.reasons)
        for c in np.flatnonzero(cm.review_if_missing):
            cid = cm.criterion_ids[c]
            assert got[f"missing_review.{cid}"] == any(r.code in ("missing", "expired") and r.criterion == cid
                                                       for r in rec.reasons)
        assert got["n_missing"] == len(rec.coverage.missing)
        assert got["n_expired"] == len(rec.coverage.expired)
        assert got["n_imputed"] == sum(c.status == "imputed" for c in rec.contributions)
        for cf in rec.counterfactuals:
            assert _same(got[f"cf_{cf.direction}.{cf.criterion}"], cf.change if cf.reachable else None)
            assert _same(got[f"cf_{cf.direction}_sem.{cf.criterion}"], cf.change_sem if cf.reachable else None) or (
                cf.reachable and cf.change_sem is None and math.isnan(got[f"cf_{cf.direction}_sem.{cf.criterion}"]))


def test_an_expired_certification_is_expired_in_both():
    # not held and older than max_age_days: expired in both (evaluate_many read it as a measured 0)
    model = model_named("mixed")
    old = (AS_OF - dt.timedelta(days=500)).isoformat()
    traits = {"Conscientiousness": 3.5, "Neuroticism": 2.5}
    records = {"cert": {"held": False, "source": "s", "date": old}}
    rec = model.evaluate(traits, records, as_of=AS_OF)
    row = {"trait.Conscientiousness": 3.5, "trait.Neuroticism": 2.5, "evidence.cert": 0.0, "evidence.cert.date": old}
    out = model.evaluate_many(frame_of(model, [row]), as_of=AS_OF).iloc[0]
    assert rec.coverage.expired == ["evidence.cert"]
    assert out["n_expired"] == 1 and out["score"] == rec.score
    # held with an expiry date in the past: expired; not held, the expiry date does not matter
    lapsed = {"cert": {"held": True, "expires": "2026-05-01", "source": "s", "date": "2026-01-01"}}
    assert model.evaluate(traits, lapsed, as_of=AS_OF).coverage.expired == ["evidence.cert"]
    unheld = {"cert": {"held": False, "expires": "2026-05-01", "source": "s", "date": "2026-01-01"}}
    assert model.evaluate(traits, unheld, as_of=AS_OF).coverage.expired == []


@pytest.mark.parametrize("n", [1, 2, 7, 16_385])
def test_a_candidate_gets_the_same_bits_in_any_batch(n):
    # the sums run in a fixed order: a row's figures do not depend on how many rows share the batch or chunk
    model = model_named("customer-support")
    rng = np.random.default_rng(9)
    cm = model._compiled
    frame = pd.DataFrame({info.ref: np.clip(rng.normal(info.mean, info.sd, n), info.low, info.high)
                          for info in cm.inputs})
    frame.iloc[0] = [0.1 + info.mean for info in cm.inputs]
    alone = model.evaluate_many(frame.iloc[[0]], as_of=AS_OF)
    together = model.evaluate_many(frame, as_of=AS_OF)
    numbers = alone.select_dtypes("number").columns
    assert np.array_equal(alone[numbers].to_numpy(), together[numbers].iloc[[0]].to_numpy(), equal_nan=True)


# Counterfactuals that are true ---------------------------------------------------------------------------------
def apply(model, row: dict, changes: dict) -> dict:
    """A frame row with inputs set (ref -> value; None: measured at nothing, i.e. left as is)."""
    row = dict(row)
    for ref, value in changes.items():
        row[ref] = value
        info = model._compiled.inputs[model._compiled.index[ref]]
        if not info.is_trait:
            row.setdefault(f"{ref}.date", AS_OF.isoformat())
            if info.kind == "interview_rating":
                row.setdefault(f"{ref}.raters", float(info.spec.min_raters))
            row.pop(f"{ref}.expires", None)
            if isinstance(row.get(f"{ref}.date"), str) and info.spec.max_age_days is not None:
                row[f"{ref}.date"] = AS_OF.isoformat()  # a fresh measurement
    return row


def requirement_rows(model, row: dict, requirements) -> list[dict]:
    """The row with every requirement met; an unknown input measured at each end of its plausible range."""
    cm = model._compiled
    fixed = {r.input: r.value for r in requirements if r.action == "raise_to"}
    rows = [apply(model, row, fixed)]
    for r in requirements:
        if r.action == "measure":
            j = cm.index[r.input]
            lo, hi = cm.plausible(j)
            if r.value is not None:
                lo = min(max(lo, r.value), hi)
            rows = [apply(model, x, {r.input: v}) for x in rows for v in (lo, hi)]
    return rows


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(batch())
def test_every_counterfactual_gives_the_recommendation_it_states(drawn):
    model, people = drawn
    cm = model._compiled
    for traits, records, row in people:
        rec = model.evaluate(traits, records, as_of=AS_OF, draws=0)
        checks, expected = [], []
        for cf in rec.counterfactuals:
            if not cf.reachable:
                continue
            assert cf.band_after == cf.target_band != rec.band
            # strictly inside the target band: never on a threshold
            assert cf.score_after != cf.threshold
            for moved in requirement_rows(model, apply(model, row, {cf.input: cf.new_value}), cf.requirements):
                checks.append(moved)
                expected.append((cf, cf.target_band))
            if not cf.alone:  # the change alone leaves the case in review
                checks.append(apply(model, row, {cf.input: cf.new_value}))
                expected.append((cf, "review"))
            # the value is one the input can take
            info = cm.inputs[cm.index[cf.input]]
            if info.is_trait:
                assert np.isclose(info.scale_norm.distribution.scores, cf.new_value, atol=1e-9).any()
            elif info.kind == "interview_rating":
                raters = len(records[info.key]["ratings"]) if info.key in records else info.spec.min_raters
                assert abs(cf.new_value * raters - round(cf.new_value * raters)) < 1e-9
            elif info.kind == "experience":
                assert cf.new_value == int(cf.new_value)
        for joint in rec.joint_counterfactuals:
            assert 2 <= len(joint.changes) <= 3
            assert not any(cf.reachable for cf in rec.counterfactuals if cf.direction == joint.direction)
            for moved in requirement_rows(model, apply(model, row, {c.input: c.new_value for c in joint.changes}),
                                          joint.requirements):
                checks.append(moved)
                expected.append((joint, joint.target_band))
        if not checks:
            continue
        out = model.evaluate_many(frame_of(model, checks), as_of=AS_OF)
        for (what, band), got in zip(expected, out["band"], strict=True):
            assert got == band, (what, got)
