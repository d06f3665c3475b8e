"""Human review: decisions with and without reason codes, the review band, configurable codes, contests to a
second reviewer with due dates, everything stored and logged; oversight figures checked by hand; the
rubber-stamp rule; override rates per group from demographics passed in; the CLI."""

from __future__ import annotations

import inspect
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import insert, select, update

from profiler.cli import main
from profiler.oversight import (
    DEFAULT_REASON_CODES,
    AuditEvent,
    AuditLog,
    Candidates,
    Review,
    ReviewError,
    RubberStampRule,
    configure_review,
    erase_candidate,
    export_candidate,
    override_rates_by_group,
    oversight_figures,
    review_settings,
)
from profiler.oversight import review as review_module
from profiler.oversight.review import CONTEST_COLUMNS, DECISION_COLUMNS
from profiler.canonical import sha256_text
from profiler.store.records import StoredRecommendation, StoredRecordError, ValidityVerdict, Versions
from profiler.store.tables import case_records

MODEL = "customer-support"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock()


def _recommend(store, candidate: str, band: str, *, verdict: str = "valid", version: str = "1.0.0") -> int:
    """Record a recommendation as the pipeline does (only the fields review reads); return its id."""
    people = Candidates(store)
    try:
        people.get(candidate)
    except Exception:
        people.register(actor="hr:kim", candidate_id=candidate)
    record = StoredRecommendation(
        band="review" if verdict == "invalid" else band, score_band=band, score=61.5,
        versions=Versions(job_model_id=MODEL, job_model_version=version, job_model_hash="sha256:" + "ab" * 32,
                          questionnaire_id="ipip-bfm-50", questionnaire_version="1.0.0",
                          content_hash="sha256:" + "cd" * 32, norm_group="general", norm_version="1.0.0",
                          norms_sha256="sha256:" + "ef" * 32),
        validity=ValidityVerdict(verdict=verdict, reasons=["longest run of identical answers 20 (threshold 12)"]
                                 if verdict == "invalid" else []),
        routed_to_review=verdict == "invalid", reasons=[{"code": "score", "text": "the score"}],
        stability={"label": "stable", "p_flip_simulated": 0.02, "se_score": 4.0},
    )
    return people.add_record(candidate, "recommendation", record, actor="system:test",
                             event=AuditEvent.RECOMMENDATION).id


def _entries(store, event: str):
    return list(AuditLog(store).entries(event=event))


# Decisions ---------------------------------------------------------------------------------------------------
def test_accept_is_stored_and_logged_with_reviewer_and_recommendation_hash(store, clock):
    rec_id = _recommend(store, "cand-a", "advance")
    review = Review(store, clock=clock)
    assert [r.id for r in review.pending()] == [rec_id]
    decision = review.decide(rec_id, "accept", reviewer="jdoe", role="hiring_manager")
    assert (decision.decision, decision.outcome, decision.reason, decision.note) == ("accept", "advance", None, None)
    assert decision.result == "advance" and decision.stage == "first" and decision.decided_at == T0
    rec = review.recommendation(rec_id)
    assert decision.recommendation_hash == rec.payload_hash and review.pending() == []

    [stored] = Candidates(store).records("cand-a", "decision")
    assert stored.id == decision.id and stored.payload["reviewer"] == "jdoe"
    assert stored.payload["recommendation"]["payload_hash"] == rec.payload_hash
    [entry] = _entries(store, AuditEvent.DECISION)
    assert entry.actor == "reviewer:jdoe" and entry.candidate == "cand-a"
    assert entry.payload["recommendation_hash"] == rec.payload_hash and entry.payload["decision_hash"] == \
        stored.payload_hash
    assert {k: entry.payload[k] for k in ("reviewer", "role", "kind", "outcome", "reason", "stage")} == {
        "reviewer": "jdoe", "role": "hiring_manager", "kind": "accept", "outcome": "advance", "reason": None,
        "stage": "first"}
    assert AuditLog(store).verify().ok


def test_override_and_do_not_use_carry_a_reason_code_and_a_note(store, clock):
    a, b = _recommend(store, "cand-a", "not_advance"), _recommend(store, "cand-b", "advance")
    review = Review(store, clock=clock)
    over = review.decide(a, "override", outcome="advance", reason="job_related_evidence",
                         note="work sample from the internship outweighs the questionnaire", reviewer="jdoe",
                         role="hiring_manager")
    assert (over.outcome, over.reason) == ("advance", "job_related_evidence")
    aside = review.decide(b, "do-not-use", reason="accommodation_needed", note="screen reader was not supported",
                          reviewer="jdoe", role="hiring_manager")
    assert (aside.decision, aside.outcome, aside.result) == ("do_not_use", None, "do_not_use")
    payloads = [e.payload for e in _entries(store, AuditEvent.DECISION)]
    assert [p["reason"] for p in payloads] == ["job_related_evidence", "accommodation_needed"]
    assert "screen reader" not in str(payloads)  # notes stay in the artefacts
    assert Candidates(store).records("cand-b", "decision")[0].payload["reason_text"] == \
        DEFAULT_REASON_CODES["accommodation_needed"]


@pytest.mark.parametrize(("band", "kwargs", "message"), [
    ("not_advance", {"decision": "override", "outcome": "advance", "note": "x"}, "needs a reason code"),
    ("not_advance", {"decision": "override", "outcome": "advance", "reason": "other"}, "and a note"),
    ("not_advance", {"decision": "override", "reason": "other", "note": "x"}, "names the outcome"),
    ("not_advance", {"decision": "override", "outcome": "not_advance", "reason": "other", "note": "x"},
     "that is an accept"),
    ("advance", {"decision": "do_not_use", "note": "x"}, "needs a reason code"),
    ("advance", {"decision": "do_not_use", "reason": "other"}, "and a note"),
    ("advance", {"decision": "do_not_use", "outcome": "advance", "reason": "other", "note": "x"}, "no outcome"),
    ("advance", {"decision": "override", "outcome": "not_advance", "reason": "job_related_evidense", "note": "x"},
     "did you mean 'job_related_evidence'"),
    ("advance", {"decision": "accept", "outcome": "not_advance"}, "would be an override"),
    ("advance", {"decision": "approve"}, "not one of accept, override, do_not_use"),
    ("advance", {"decision": "override", "outcome": "hire", "reason": "other", "note": "x"}, "not one of advance"),
    ("advance", {"decision": "accept", "note": "   "}, "note must be a non-empty text"),
])
def test_decisions_that_break_a_rule_are_refused(store, band, kwargs, message):
    rec_id = _recommend(store, "cand-a", band)
    review = Review(store)
    kwargs = dict(kwargs)  # the parameter is shared by both backends' runs
    decision = kwargs.pop("decision")
    with pytest.raises(ReviewError, match=message):
        review.decide(rec_id, decision, reviewer="jdoe", role="hiring_manager", **kwargs)
    assert review.decisions() == [] and _entries(store, AuditEvent.DECISION) == []


def test_accept_with_a_reason_code_is_allowed(store):
    rec_id = _recommend(store, "cand-a", "not_advance")
    decision = Review(store).decide(rec_id, "accept", reason="measurement_error", note="checked the SEM band",
                                    reviewer="jdoe", role="psychologist")
    assert decision.reason == "measurement_error" and decision.outcome == "not_advance"


def test_the_review_band_cannot_be_accepted_a_person_chooses(store):
    rec_id = _recommend(store, "cand-a", "review")
    review = Review(store)
    with pytest.raises(ReviewError, match="band 'review'.*choose an outcome"):
        review.decide(rec_id, "accept", reviewer="jdoe", role="hiring_manager")
    chosen = review.decide(rec_id, "override", outcome="not_advance", reason="job_related_evidence",
                           note="interview examples were thin", reviewer="jdoe", role="hiring_manager")
    assert chosen.outcome == "not_advance" and chosen.band == "review"


def test_invalid_responses_are_shown_first_and_cannot_be_accepted(store):
    rec_id = _recommend(store, "cand-a", "advance", verdict="invalid")
    review = Review(store)
    rec = review.recommendation(rec_id)
    assert rec.band == "review" and rec.score_band == "advance" and rec.routed_to_review
    lines = rec.summary().splitlines()
    assert lines[1] == "  response validity: INVALID" and "longest run" in lines[2]
    assert lines.index(next(line for line in lines if line.startswith("  recommendation:"))) > 2
    with pytest.raises(ReviewError, match="judged invalid"):
        review.decide(rec_id, "accept", reviewer="jdoe", role="hiring_manager")
    aside = review.decide(rec_id, "do_not_use", reason="invalid_profile", note="answers in a pattern",
                          reviewer="jdoe", role="psychologist")
    assert aside.result == "do_not_use"


def test_a_recommendation_is_decided_once(store):
    rec_id = _recommend(store, "cand-a", "advance")
    review = Review(store)
    first = review.decide(rec_id, "accept", reviewer="jdoe", role="hiring_manager")
    with pytest.raises(ReviewError, match=f"decided already.*decision {first.id}.*contest"):
        review.decide(rec_id, "accept", reviewer="asmith", role="hiring_manager")
    with pytest.raises(ReviewError, match="no recommendation 999"):
        review.decide(999, "accept", reviewer="jdoe", role="hiring_manager")
    with pytest.raises(ReviewError, match="reviewer 'J Doe'"):
        review.decide(rec_id, "accept", reviewer="J Doe", role="hiring_manager")
    with pytest.raises(ReviewError, match="role"):
        review.decide(rec_id, "accept", reviewer="jdoe", role="")


def test_payloads_of_review_kinds_must_be_review_records(store):
    rec_id = _recommend(store, "cand-a", "advance")
    people = Candidates(store)
    for kind, payload in [("decision", {"decision": "advance", "reason": "strong work sample"}),
                          ("recommendation", {"note": "from another tool"}), ("contest", {"text": "a letter"})]:
        with pytest.raises(StoredRecordError, match=f"kind '{kind}' is reserved"):
            people.add_record("cand-a", kind, payload, actor="x")
    # Written by an older profiler without the check (rows of an old store): passed over, as they always were.
    with store.write() as connection:
        for kind, payload in [("decision", '{"decision":"advance"}'), ("recommendation", '{"note":"x"}'),
                              ("contest", '{"text":"a letter"}')]:
            connection.execute(insert(case_records).values(
                candidate_id="cand-a", session_id=None, kind=kind, payload=payload,
                payload_hash=sha256_text(payload), audit_seq=None, recorded_by="x", recorded_at=T0))
    review = Review(store)
    assert [r.id for r in review.recommendations()] == [rec_id] and review.decisions() == []
    assert review.contests() == [] and [r.id for r in review.pending()] == [rec_id]
    with pytest.raises(ReviewError, match=f"no recommendation {rec_id + 2} recorded by the assessment pipeline"):
        review.decide(rec_id + 2, "accept", reviewer="jdoe", role="hm")
    assert review.decide(rec_id, "accept", reviewer="jdoe", role="hm").outcome == "advance"


def test_a_record_of_a_newer_schema_is_refused_with_a_clear_error(store):
    rec_id = _recommend(store, "cand-a", "advance")
    with store.write() as connection:
        payload = connection.execute(select(case_records.c.payload).where(case_records.c.id == rec_id)).scalar_one()
        newer = payload.replace('"schema_version":1', '"schema_version":7')
        connection.execute(update(case_records).where(case_records.c.id == rec_id).values(payload=newer))
    with pytest.raises(StoredRecordError, match=f"case record {rec_id} .*schema_version 7.*upgrade profiler"):
        Review(store).pending()


# Reason codes --------------------------------------------------------------------------------------------------
def test_reason_codes_per_call_and_per_store(store):
    rec_a, rec_b = _recommend(store, "cand-a", "advance"), _recommend(store, "cand-b", "advance")
    assert review_settings(store).reason_codes == dict(DEFAULT_REASON_CODES)
    per_call = Review(store, reason_codes=["policy_exception", "other"])
    with pytest.raises(ReviewError, match="not in the list.*policy_exception, other"):
        per_call.decide(rec_a, "do_not_use", reason="data_error", note="x", reviewer="jdoe", role="hm")
    per_call.decide(rec_a, "do_not_use", reason="policy_exception", note="x", reviewer="jdoe", role="hm")

    settings = configure_review(store, actor="admin:lee", reason_codes={"duplicate_application": "applied twice"},
                                contest_days=10, rubber_stamp=RubberStampRule(30, 0.05))
    assert settings.contest_days == 10 and review_settings(store) == settings
    [entry] = _entries(store, "review.configured")
    assert entry.actor == "admin:lee" and entry.payload["reason_codes"] == {"duplicate_application": "applied twice"}
    review = Review(store)
    assert review.reason_codes == {"duplicate_application": "applied twice"}
    assert review.settings.rubber_stamp == RubberStampRule(30, 0.05)
    review.decide(rec_b, "do_not_use", reason="duplicate_application", note="see cand-a", reviewer="jdoe", role="hm")
    # What is not given keeps its value.
    assert configure_review(store, actor="admin:lee", contest_days=21).reason_codes == settings.reason_codes


@pytest.mark.parametrize(("codes", "message"), [
    ({}, "empty"), ({"Bad Code": "x"}, "lower-case name"), ({"fine": " "}, "needs a description"), ("other", "mapping"),
])
def test_malformed_reason_codes_are_refused(store, codes, message):
    with pytest.raises(ReviewError, match=message):
        Review(store, reason_codes=codes)
    with pytest.raises(ReviewError, match=message):
        configure_review(store, actor="admin", reason_codes=codes)


# Contests ------------------------------------------------------------------------------------------------------
def _decided(store, clock, band="not_advance", candidate="cand-a"):
    rec_id = _recommend(store, candidate, band)
    review = Review(store, clock=clock)
    return review, review.decide(rec_id, "accept", reviewer="jdoe", role="hiring_manager")


def test_a_contest_goes_to_a_second_reviewer_with_a_due_date(store, clock):
    review, first = _decided(store, clock)
    clock.now = T0 + timedelta(days=3)
    contest = review.contest(first.id, received_by="hr:kim", statement="My work sample was not considered.",
                             assign_to="asmith")
    assert contest.due == T0 + timedelta(days=3 + 14) and contest.assigned_to == "asmith"
    assert contest.status == "open" and contest.first_reviewer == "jdoe" and not contest.overdue(clock.now)
    assert review.contests(status="open") == [contest]
    with pytest.raises(ReviewError, match="a contest is decided by a second reviewer"):
        review.decide_contest(contest.id, "accept", reviewer="jdoe", role="hiring_manager")
    with pytest.raises(ReviewError, match="assigned to asmith; reassign"):
        review.decide_contest(contest.id, "accept", reviewer="bwong", role="psychologist")
    clock.now = T0 + timedelta(days=5)
    second = review.decide_contest(contest.id, "override", outcome="advance", reason="job_related_evidence",
                                   note="the work sample is strong", reviewer="asmith", role="psychologist")
    assert (second.stage, second.contest_id, second.recommendation_id) == ("contest", contest.id,
                                                                           first.recommendation_id)
    decided = review.contest_of(contest.id)
    assert decided.status == "decided" and decided.second_decision == second
    assert decided.result(first) == "changed" and not decided.overdue(T0 + timedelta(days=100))
    with pytest.raises(ReviewError, match="decided already"):
        review.decide_contest(contest.id, "accept", reviewer="asmith", role="psychologist")
    # Stored and logged: the contest, its assignment and the second decision, each with the hashes.
    assert [a.kind for a in Candidates(store).records("cand-a")] == ["recommendation", "decision", "contest",
                                                                       "decision"]
    [contested] = _entries(store, "review.contested")
    assert contested.payload["decision_hash"] == first.payload_hash and contested.actor == "hr:kim"
    assert "work sample was not considered" not in str(contested.payload)
    assert [e.payload["assigned_to"] for e in _entries(store, "review.contest_assigned")] == ["asmith"]
    assert [e.payload["stage"] for e in _entries(store, AuditEvent.DECISION)] == ["first", "contest"]
    assert AuditLog(store).verify().ok


def test_contest_rules(store, clock):
    review, first = _decided(store, clock)
    with pytest.raises(ReviewError, match="jdoe made the contested decision"):
        review.contest(first.id, received_by="hr:kim", assign_to="jdoe")
    with pytest.raises(ReviewError, match="lies in the past"):
        review.contest(first.id, received_by="hr:kim", due=date(2026, 3, 1))
    contest = review.contest(first.id, received_by="hr:kim", due=date(2026, 3, 20))
    assert contest.due == datetime(2026, 3, 20, 23, 59, 59, 999999, tzinfo=UTC) and contest.assigned_to is None
    with pytest.raises(ReviewError, match="contested already"):
        review.contest(first.id, received_by="hr:kim")
    with pytest.raises(ReviewError, match="jdoe made the contested decision"):
        review.assign(contest.id, "jdoe", actor="hr:kim")
    assert review.assign(contest.id, "bwong", actor="hr:kim").assigned_to == "bwong"
    assert review.assign(contest.id, "asmith", actor="hr:kim").assigned_to == "asmith"  # reassigned
    clock.now = datetime(2026, 3, 21, tzinfo=UTC)
    assert review.contest_of(contest.id).overdue(clock.now)
    second = review.decide_contest(contest.id, "accept", reviewer="asmith", role="psychologist")
    assert review.contest_of(contest.id).result(first) == "upheld"
    with pytest.raises(ReviewError, match="final within profiler"):
        review.contest(second.id, received_by="hr:kim")
    with pytest.raises(ReviewError, match="no decision 999"):
        review.contest(999, received_by="hr:kim")


def test_an_unassigned_contest_is_taken_by_its_second_reviewer(store, clock):
    review, first = _decided(store, clock)
    contest = review.contest(first.id, received_by="candidate-portal")
    second = review.decide_contest(contest.id, "accept", reviewer="asmith", role="psychologist")
    assert review.contest_of(contest.id).assigned_to == "asmith" and second.reviewer == "asmith"


def test_contest_days_are_configurable(store, clock):
    review, first = _decided(store, clock)
    contest = Review(store, contest_days=30, clock=clock).contest(first.id, received_by="hr:kim")
    assert contest.due == T0 + timedelta(days=30)
    configure_review(store, actor="admin", contest_days=7)
    _, other = _decided(store, clock, candidate="cand-b")
    assert Review(store, clock=clock).contest(other.id, received_by="hr:kim").due == T0 + timedelta(days=7)


# Figures -------------------------------------------------------------------------------------------------------
def _decision_rows(rows):
    """Rows (id, candidate, band, reviewer, decision, outcome, stage, contest, hours) -> a decision table."""
    records = []
    for i, cand, band, reviewer, kind, outcome, stage, contest, hours in rows:
        records.append({"id": i, "candidate": cand, "recommendation": 100 + i, "band": band,
                        "job_model_id": MODEL, "job_model_version": "1.0.0", "reviewer": reviewer,
                        "role": "hm", "decision": kind, "outcome": outcome, "reason": None, "stage": stage,
                        "contest": contest, "recommended_at": T0, "decided_at": T0 + timedelta(hours=hours)})
    return pd.DataFrame(records, columns=list(DECISION_COLUMNS))


@pytest.fixture
def constructed():
    decisions = _decision_rows([
        (1, "c1", "advance", "ann", "accept", "advance", "first", None, 1),
        (2, "c2", "not_advance", "ann", "accept", "not_advance", "first", None, 2),
        (3, "c3", "advance", "ann", "override", "not_advance", "first", None, 3),
        (4, "c4", "advance", "ann", "do_not_use", None, "first", None, 10),
        (5, "c5", "review", "ben", "override", "advance", "first", None, 4),
        (6, "c6", "advance", "ben", "accept", "advance", "first", None, 6),
        (7, "c7", "not_advance", "ben", "accept", "not_advance", "first", None, 8),
        (8, "c3", "advance", "ben", "override", "advance", "contest", 20, 50),  # ann's override reversed
    ])
    contests = pd.DataFrame([
        {"id": 20, "candidate": "c3", "decision": 3, "first_reviewer": "ann", "job_model_id": MODEL,
         "job_model_version": "1.0.0", "filed_at": T0, "due": T0 + timedelta(days=14), "assigned_to": "ben",
         "second_decision": 8, "second_reviewer": "ben", "decided_at": T0 + timedelta(hours=50)},
        {"id": 21, "candidate": "c7", "decision": 7, "first_reviewer": "ben", "job_model_id": MODEL,
         "job_model_version": "1.0.0", "filed_at": T0, "due": T0 + timedelta(days=14), "assigned_to": None,
         "second_decision": None, "second_reviewer": None, "decided_at": None},
    ], columns=list(CONTEST_COLUMNS))
    return decisions, contests


def test_figures_by_hand(constructed):
    decisions, contests = constructed
    figures = oversight_figures(decisions, contests, now=T0 + timedelta(days=20))
    ann, ben = figures.by_reviewer.loc["ann"], figures.by_reviewer.loc["ben"]
    # ann: accepted 2, overrode 1 definite recommendation, set 1 aside: override rate 1 / (2 + 1).
    assert (ann.decisions, ann.accepted, ann.overridden, ann.chosen, ann.do_not_use) == (4, 2, 1, 0, 1)
    assert ann.override_rate == pytest.approx(1 / 3) and ann.do_not_use_rate == pytest.approx(1 / 4)
    # hours 1, 2, 3, 10: median 2.5; p90 at position 0.9 * 3 = 2.7 -> 3 + 0.7 * (10 - 3) = 7.9 (R type 7).
    assert ann.hours_median == pytest.approx(2.5) and ann.hours_p90 == pytest.approx(7.9)
    assert (ann.contested, ann.contests_decided, ann.contests_changed, ann.second_reviews) == (1, 1, 1, 0)
    # ben: a review-band choice (not an override), two accepts: override rate 0 / 2; hours 4, 6, 8.
    assert (ben.decisions, ben.accepted, ben.overridden, ben.chosen, ben.do_not_use) == (3, 2, 0, 1, 0)
    assert ben.override_rate == 0.0 and ben.hours_median == pytest.approx(6.0) and ben.hours_p90 == pytest.approx(7.6)
    assert (ben.contested, ben.contests_decided, ben.second_reviews) == (1, 0, 1)
    assert not ann.rubber_stamp and not ben.rubber_stamp and figures.warnings == ()

    model = figures.by_job_model.loc[(MODEL, "1.0.0")]
    assert (model.decisions, model.accepted, model.overridden, model.chosen, model.do_not_use) == (7, 4, 1, 1, 1)
    assert model.override_rate == pytest.approx(1 / 5) and model.do_not_use_rate == pytest.approx(1 / 7)
    hours = [1, 2, 3, 10, 4, 6, 8]
    assert model.hours_median == 4.0 and model.hours_p90 == pytest.approx(np.quantile(hours, 0.9)) == 8.8
    assert (model.contests, model.contests_open, model.contests_overdue, model.contests_upheld,
            model.contests_changed) == (2, 1, 1, 0, 1)
    assert oversight_figures(decisions, contests, now=T0).by_job_model.loc[(MODEL, "1.0.0")].contests_overdue == 0
    text = str(figures)
    assert "33.3%" in text and "no reviewer flagged" in text


def test_rates_over_time_by_hand(constructed):
    from profiler.oversight import oversight_over_time

    decisions, contests = constructed
    # T0 is Monday 2 March 2026: ann's first two decisions stay in March, her override and "do not use" move to
    # Thursday 2 April (+ 31 days); ben's stay in March (week of 2 March) except his last (also 2 April).
    later = decisions["id"].isin([3, 4, 7])
    decisions.loc[later, "decided_at"] = decisions.loc[later, "decided_at"] + timedelta(days=31)
    months = oversight_over_time(decisions, contests, by="reviewer", period="month")
    rows = {(r.reviewer, r.period): r for r in months.itertuples(index=False)}
    assert list(rows) == [("ann", "2026-03"), ("ann", "2026-04"), ("ben", "2026-03"), ("ben", "2026-04")]
    march, april = rows[("ann", "2026-03")], rows[("ann", "2026-04")]
    assert (march.decisions, march.accepted, march.overridden, march.override_rate) == (2, 2, 0, 0.0)
    # April: one override of a definite band, one "do not use": 1 / (0 + 1); decision 3 was contested.
    assert (april.decisions, april.overridden, april.override_rate, april.contested, april.contest_rate) == (
        2, 1, 1.0, 1, 0.5)
    ben_april = rows[("ben", "2026-04")]
    assert (ben_april.decisions, ben_april.contested, ben_april.contest_rate) == (1, 1, 1.0)
    # ben's March: a review-band choice (no override) and an accept: 0 / 1.
    assert rows[("ben", "2026-03")].override_rate == 0.0 and rows[("ben", "2026-03")].contested == 0
    models = oversight_over_time(decisions, contests, by="job_model_id", period="week")
    assert [(r.job_model_id, r.period, r.decisions) for r in models.itertuples(index=False)] == [
        (MODEL, "2026-03-02", 4), (MODEL, "2026-03-30", 3)]  # weeks start on Monday
    assert str(models["start"].iloc[0]) == "2026-03-02"
    assert oversight_over_time(decisions[decisions["stage"] == "none"], contests).empty
    with pytest.raises(ReviewError, match="period is one of"):
        oversight_over_time(decisions, contests, period="fortnight")
    with pytest.raises(ReviewError, match="by 'reviewer' or 'job_model_id'"):
        oversight_over_time(decisions, contests, by="candidate")


@pytest.mark.parametrize(("accepts", "overrides", "rule", "flagged"), [
    (50, 0, RubberStampRule(), True),  # 50 definite decisions, never an override
    (49, 0, RubberStampRule(), False),  # too few decisions to say
    (49, 1, RubberStampRule(), False),  # 1 of 50 = 2%: not below 2%
    (59, 1, RubberStampRule(), True),  # 1 of 60 = 1.7%
    (10, 0, RubberStampRule(min_decisions=10), True),
    (59, 1, RubberStampRule(max_override_rate=0.01), False),
])
def test_rubber_stamp_rule(accepts, overrides, rule, flagged):
    rows = [(i, f"c{i}", "advance", "cal", "accept", "advance", "first", None, 1) for i in range(accepts)]
    rows += [(1000 + i, f"o{i}", "advance", "cal", "override", "not_advance", "first", None, 1)
             for i in range(overrides)]
    rows += [(2000 + i, f"r{i}", "review", "cal", "override", "advance", "first", None, 1) for i in range(30)]
    figures = oversight_figures(_decision_rows(rows), rule=rule)
    assert bool(figures.by_reviewer.loc["cal", "rubber_stamp"]) is flagged
    assert len(figures.warnings) == int(flagged)
    if flagged:
        assert figures.warnings[0].startswith(f"reviewer cal overrode {overrides} of {accepts + overrides}")
        assert "rubber-stamping" in str(figures)


def test_override_rates_by_group_take_demographics_explicitly(constructed):
    decisions, _ = constructed
    groups = {"c1": "female", "c2": "female", "c3": "male", "c4": "male", "c5": "female", "c6": None}
    table = override_rates_by_group(decisions, groups)
    assert list(table.index) == ["female", "male", "unknown"]
    female, male, unknown = table.loc["female"], table.loc["male"], table.loc["unknown"]
    assert (female.decisions, female.accepted, female.overridden, female.override_rate) == (3, 2, 0, 0.0)
    assert (male.decisions, male.overridden, male.overridden_down, male.overridden_up) == (2, 1, 1, 0)
    assert male.override_rate == 1.0 and male.do_not_use_rate == 0.5
    assert unknown.decisions == 2  # c6 (None) and c7 (not listed); the contest decision is not counted
    with pytest.raises(ReviewError, match="Series or a mapping"):
        override_rates_by_group(decisions, ["female"])
    # Nothing in the review module reads protected attributes from the store.
    for module in (review_module, *(getattr(review_module, m) for m in ("rules", "cases", "queries", "service",
                                                                        "figures"))):
        assert "candidate_demographics" not in inspect.getsource(module)
        assert "DemographicsVault(" not in inspect.getsource(module)


def test_figures_from_the_store(store, clock):
    review = Review(store, clock=clock)
    ids = [_recommend(store, f"cand-{i}", band) for i, band in enumerate(["advance", "not_advance", "review"])]
    clock.now = datetime.now(UTC) + timedelta(hours=2)
    review.decide(ids[0], "accept", reviewer="ann", role="hm")
    review.decide(ids[1], "override", outcome="advance", reason="other", note="n", reviewer="ann", role="hm")
    review.decide(ids[2], "do_not_use", reason="data_error", note="n", reviewer="ben", role="hm")
    contest = review.contest(review.latest_decision("cand-1").id, received_by="hr:kim", assign_to="ben")
    review.decide_contest(contest.id, "accept", reviewer="ben", role="psychologist")
    figures = review.figures()
    ann = figures.by_reviewer.loc["ann"]
    assert (ann.decisions, ann.accepted, ann.overridden, ann.override_rate, ann.contests_changed) == (2, 1, 1, 0.5, 1)
    assert 1.9 < ann.hours_median < 2.1
    assert figures.by_reviewer.loc["ben", "second_reviews"] == 1
    assert review.figures(job_model="software-engineer").by_reviewer.empty
    frame = review.decision_frame()
    assert list(frame.columns) == list(DECISION_COLUMNS) and list(frame["stage"]) == ["first"] * 3 + ["contest"]


# Privacy -------------------------------------------------------------------------------------------------------
def test_decisions_are_exported_and_erased_with_the_candidate(store, clock):
    review, first = _decided(store, clock)
    review.contest(first.id, received_by="hr:kim", statement="please look again", assign_to="asmith")
    exported = export_candidate(store, "cand-a", actor="dpo:sam")
    assert {a["kind"] for a in exported["records"]} >= {"recommendation", "decision", "contest"}
    erase_candidate(store, "cand-a", actor="dpo:sam", reason="request")
    assert review.decisions() == [] and review.contests() == []
    assert AuditLog(store).verify().ok


# CLI -----------------------------------------------------------------------------------------------------------
def test_cli_review(store, store_location, capsys):
    db = store_location
    rec_a = _recommend(store, "cand-a", "review")
    _recommend(store, "cand-b", "advance", verdict="invalid")
    assert main(["review", "pending", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "2 recommendation(s) awaiting a decision" in out and "INVALID RESPONSES" in out
    assert main(["review", "show", "cand-b", "--db", db]) == 0
    assert "response validity: INVALID" in capsys.readouterr().out
    assert main(["review", "codes", "--db", db]) == 0
    assert "job_related_evidence" in capsys.readouterr().out

    decide = ["--reviewer", "jdoe", "--role", "hiring_manager", "--db", db]
    assert main(["review", "cand-a", "--decision", "accept", *decide]) == 2
    assert "nothing to accept" in capsys.readouterr().err
    assert main(["review", "cand-a", "--decision", "override", "--outcome", "not-advance", *decide]) == 2
    assert "needs a reason code" in capsys.readouterr().err
    assert main(["review", "cand-a", "--decision", "override", "--outcome", "not-advance", "--reason",
                 "job_related_evidence", "--note", "thin interview examples", *decide]) == 0
    out = capsys.readouterr().out
    assert f"on recommendation {rec_a} (band review): override -> not_advance, reason job_related_evidence" in out
    assert main(["review", "cand-a", "--decision", "accept", *decide]) == 2
    assert "every recommendation of cand-a is decided" in capsys.readouterr().err
    assert main(["review", "cand-b", "--decision", "do-not-use", "--reason", "invalid_profile", "--note",
                 "pattern answers", *decide]) == 0
    capsys.readouterr()

    assert main(["review", "contest", "cand-a", "--db", db]) == 2
    assert "--received-by" in capsys.readouterr().err
    assert main(["review", "contest", "cand-a", "--received-by", "hr:kim", "--statement", "look again",
                 "--db", db]) == 0
    out = capsys.readouterr().out
    assert "assigned to nobody yet" in out
    contest_id = Review(store).contests("cand-a")[0].id
    assert main(["review", "assign", str(contest_id), "--reviewer", "jdoe", "--actor", "hr:kim", "--db", db]) == 2
    assert "made the contested decision" in capsys.readouterr().err
    assert main(["review", "assign", str(contest_id), "--reviewer", "asmith", "--actor", "hr:kim", "--db", db]) == 0
    capsys.readouterr()
    assert main(["review", "cand-a", "--decision", "override", "--outcome", "advance", "--reason", "other",
                 "--note", "strong references", "--reviewer", "asmith", "--role", "psychologist", "--db", db]) == 0
    assert f"on contest {contest_id}" in capsys.readouterr().out

    assert main(["review", "figures", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "Per reviewer" in out and "jdoe" in out and "no reviewer flagged" in out
    assert main(["review", "figures", "--min-decisions", "1", "--max-override-rate", "0.5", "--db", db]) == 0
    assert main(["review", "show", "--db", db]) == 2
    assert "needs a candidate id" in capsys.readouterr().err
    assert AuditLog(store).verify().ok


def test_cli_review_refuses_to_guess_between_pending_recommendations(store, store_location, capsys):
    db = store_location
    first = _recommend(store, "cand-c", "review")
    second = _recommend(store, "cand-c", "advance", version="1.1.0")
    decide = ["--reviewer", "jdoe", "--role", "hiring_manager", "--db", db]
    assert main(["review", "cand-c", "--decision", "accept", *decide]) == 2
    err = capsys.readouterr().err
    assert f"cand-c has 2 recommendations to decide: {first} " in err and f"{second} " in err
    assert "--recommendation" in err
    assert main(["review", "cand-c", "--decision", "accept", "--recommendation", str(second), *decide]) == 0
    assert [r.id for r in Review(store).pending()] == [first]


# A second person's confirmation -------------------------------------------------------------------------------
def test_an_override_is_confirmed_by_a_second_person_only(store, store_location, clock, capsys):
    a, b = _recommend(store, "cand-a", "not_advance"), _recommend(store, "cand-b", "advance")
    review = Review(store, clock=clock)
    over = review.decide(a, "override", outcome="advance", reason="job_related_evidence", note="work sample",
                         reviewer="jdoe", role="hiring_manager")
    accepted = review.decide(b, "accept", reviewer="jdoe", role="hiring_manager")
    assert [d.id for d in review.awaiting_confirmation()] == [over.id]
    with pytest.raises(ReviewError, match="jdoe made decision .*: a second person confirms it"):
        review.confirm(over.id, reviewer="jdoe", role="hiring_manager")
    with pytest.raises(ReviewError, match="is 'accept': only an override waits"):
        review.confirm(accepted.id, reviewer="asmith", role="recruiter")
    db = store_location  # store.name hides a PostgreSQL URL's password
    assert main(["review", "confirm", str(over.id), "--reviewer", "asmith", "--role", "recruiter", "--note",
                 "agreed", "--db", db]) == 0
    assert f"decision {over.id} by jdoe confirmed by asmith (recruiter)" in capsys.readouterr().out
    [confirmation] = review.confirmations("cand-a")
    assert (confirmation.decided_by, confirmation.confirmed_by, confirmation.note) == ("jdoe", "asmith", "agreed")
    with pytest.raises(ReviewError, match="confirmed already by asmith"):
        review.confirm(over.id, reviewer="lee", role="recruiter")
    [entry] = _entries(store, "review.confirmed")
    assert entry.actor == "reviewer:asmith" and entry.payload["decision_hash"] == over.payload_hash
    assert review.awaiting_confirmation() == [] and AuditLog(store).verify().ok


def test_a_second_person_refuses_to_confirm_an_override_and_the_case_is_decided_again(store, store_location, clock,
                                                                                     capsys):
    from profiler.pipeline.cases import review_status

    rec = _recommend(store, "cand-a", "not_advance")
    review = Review(store, clock=clock)
    over = review.decide(rec, "override", outcome="advance", reason="job_related_evidence", note="work sample",
                         reviewer="jdoe", role="hiring_manager")
    assert rec not in [r.id for r in review.pending()]
    with pytest.raises(ReviewError, match="needs a reason"):
        review.refuse_confirmation(over.id, reviewer="asmith", role="recruiter", reason="  ")
    with pytest.raises(ReviewError, match="jdoe made decision .*: a second person confirms or refuses it"):
        review.refuse_confirmation(over.id, reviewer="jdoe", role="hiring_manager", reason="no")
    db = store_location
    assert main(["review", "refuse", str(over.id), "--reviewer", "asmith", "--role", "recruiter", "--db", db]) == 2
    assert "review refuse needs --reason REASON" in capsys.readouterr().err
    assert main(["review", "refuse", str(over.id), "--reviewer", "asmith", "--role", "recruiter", "--reason",
                 "the work sample predates the job analysis", "--db", db]) == 0
    assert f"decision {over.id} by jdoe not confirmed: asmith (recruiter) refused" in capsys.readouterr().out
    [refusal] = review.refusals("cand-a")
    assert (refusal.decision_id, refusal.decided_by, refusal.refused_by, refusal.reason) == (
        over.id, "jdoe", "asmith", "the work sample predates the job analysis")
    [entry] = _entries(store, "review.confirmation_refused")
    assert entry.actor == "reviewer:asmith" and entry.candidate == "cand-a"
    assert (entry.payload["decision"], entry.payload["decision_hash"], entry.payload["reason"]) == (
        over.id, over.payload_hash, "the work sample predates the job analysis")
    # The override does not stand: out of the confirmations queue, back in the review queue, not contestable.
    assert review.awaiting_confirmation() == [] and rec in [r.id for r in review.pending()]
    assert review_status(review, rec, "cand-a").decision is None
    assert main(["review", "show", "cand-a", "--db", db]) == 0
    assert "not confirmed: asmith (recruiter) refused" in capsys.readouterr().out
    for attempt, message in ((lambda: review.confirm(over.id, reviewer="lee", role="recruiter"), "cannot be confirmed"),
                             (lambda: review.contest(over.id, received_by="hr:kim"), "cannot be contested"),
                             (lambda: review.refuse_confirmation(over.id, reviewer="lee", role="recruiter",
                                                                 reason="again"), "cannot be refused")):
        with pytest.raises(ReviewError, match=message):
            attempt()
    with pytest.raises(ReviewError, match="no decision has been recorded"):
        review.latest_decision("cand-a")
    again = review.decide(rec, "accept", reviewer="lee", role="recruiter")
    assert review_status(review, rec, "cand-a").decision.reviewer == "lee"
    assert review.latest_decision("cand-a").id == again.id and review.pending() == []
    with pytest.raises(ReviewError, match="was decided already"):
        review.decide(rec, "accept", reviewer="kim", role="recruiter")
    assert AuditLog(store).verify().ok
