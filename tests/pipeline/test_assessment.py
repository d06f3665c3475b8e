"""The recorded pipeline: simulated candidates answer in sessions, are assessed and reviewed end to end; every
step is stored and logged with versions and hashes, one transaction per candidate; invalid responses go to
review with their reasons first; unusable input records nothing; the whole log verifies."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

import profiler
from profiler.pipeline.assessment import AssessmentError, assess_candidate, assess_candidates
from profiler.oversight import AuditLog, CandidateError, Candidates, Review, ReviewError
from profiler.store.audit_log import canonical_json, sha256_of

AS_OF = date(2026, 3, 1)
DRAWS = 500
PIPELINE_EVENTS = ["questionnaire.version", "norms.version", "job_model.version", "scoring.inputs",
                   "validity.assessed", "scoring.scores", "scoring.contributions", "scoring.recommendation",
                   "review.requested"]


@pytest.fixture(scope="module")
def job_model():
    return profiler.load_job_model("customer-support")


def _evidence(score: float = 70.0) -> dict:
    return {
        "email_work_sample": {"score": score, "date": date(2026, 1, 10), "source": "work sample"},
        "interview_customer_focus": {"ratings": {"r1": 4, "r2": 3}, "date": date(2026, 1, 12), "source": "panel"},
        "support_experience": {"years": 2, "date": date(2026, 1, 1), "source": "cv"},
    }


def _register(store, n: int) -> list[str]:
    return [Candidates(store).register(actor="hr:kim", candidate_id=f"cand-{i:02d}").id for i in range(n)]


def _take(store, questionnaire, candidate: str, answers: pd.Series, seconds: float = 4.0):
    """The candidate answers every item in a session (a fake clock: ``seconds`` per item) and finishes."""
    now = [0.0]
    session = profiler.Session.start(store, questionnaire, respondent=candidate, clock=lambda: now[0])
    while (prompt := session.current()) is not None:
        now[0] += seconds
        session.answer(answers[prompt.item_id])
    session.finish()
    return session


def _artefact(store, candidate: str, kind: str):
    [found] = Candidates(store).records(candidate, kind)
    return found


def test_simulated_candidates_end_to_end(store, job_model):
    q = job_model.questionnaire
    ids = _register(store, 3)
    answers = profiler.simulate_responses(q, 3, seed=11).set_axis(ids)
    sessions = [_take(store, q, c, answers.loc[c]) for c in ids]
    results = [assess_candidate(store, c, job_model, s, _evidence(60 + 10 * i), as_of=AS_OF, draws=DRAWS,
                                actor="system:batch-7") for i, (c, s) in enumerate(zip(ids, sessions, strict=True))]

    for candidate, session, result in zip(ids, sessions, results, strict=True):
        every = list(AuditLog(store).entries(candidate=candidate))
        # The session logs its own events as they happen (session.started, session.answer, ... by the
        # respondent); the pipeline's entries follow.
        own = [e for e in every if e.actor == "respondent"]
        assert own[0].event == "session.started" and own[-1].event == "session.completed"
        assert sum(e.event == "session.answered" for e in own) == len(q.item_ids)
        entries = [e for e in every if e.actor != "respondent"]
        assert [e.event for e in entries] == ["candidate.registered", "session.finished", *PIPELINE_EVENTS]
        assert all(e.actor == "system:batch-7" for e in entries[1:])
        logged = {e.event: e.payload for e in entries}
        # Versions and hashes of everything that produced the recommendation.
        assert logged["questionnaire.version"] == q.identity()
        assert logged["norms.version"]["norms_sha256"] == job_model.norms.sha256
        assert logged["job_model.version"]["job_model_hash"] == job_model.content_hash
        # The session: answers counted and hashed; the hash can be recomputed from the inputs artefact.
        finished = logged["session.finished"]
        inputs = _artefact(store, candidate, "inputs")
        assert finished["session"] == session.id == result.session_id and finished["answered"] == len(q.item_ids)
        assert finished["answers_hash"] == inputs.payload["answers_hash"] == sha256_of(
            canonical_json(inputs.payload["answers"]))
        assert inputs.payload["answers"] == {item: float(answers.loc[candidate, item]) for item in q.item_ids}
        assert inputs.payload["evidence"]["email_work_sample"]["score"] == 60 + 10 * ids.index(candidate)
        assert inputs.session_id == session.id
        # Timings from the session feed the speed index (4 s per item).
        validity = _artefact(store, candidate, "validity")
        assert validity.payload["indices"]["seconds_per_item"] == pytest.approx(4.0)
        assert validity.payload["verdict"] == result.validity.verdict
        # Scores with SEM, contributions adding up to the score, the recommendation as the job model gave it.
        profile = _artefact(store, candidate, "profile")
        assert {s["scale"] for s in profile.payload["scales"]} == set(q.scale_ids)
        assert all(s["sem"] > 0 for s in profile.payload["scales"])
        contributions = _artefact(store, candidate, "contributions").payload
        total = contributions["base_value"] + math.fsum(c["contribution"] for c in contributions["contributions"])
        assert total == pytest.approx(contributions["score"], abs=1e-9)
        rec = _artefact(store, candidate, "recommendation")
        assert rec.id == result.recommendation_id
        assert {k: rec.payload[k] for k in ("band", "score", "versions")} == {
            "band": result.recommendation.band, "score": result.recommendation.score,
            "versions": result.recommendation.versions}
        assert set(rec.payload["based_on"]) == {"inputs", "validity", "profile", "contributions"}
        assert rec.payload["based_on"]["profile"]["payload_hash"] == profile.payload_hash
        queued = logged["review.requested"]
        assert queued["recommendation"] == rec.id and queued["recommendation_hash"] == rec.payload_hash

    # A person decides on each; the log (with every artefact) verifies after the whole run.
    review = Review(store)
    assert [r.id for r in review.pending()] == [r.recommendation_id for r in results]
    for rec in review.pending():
        if rec.band == "review":
            review.decide(rec.id, "override", outcome="advance", reason="job_related_evidence",
                          note="work sample reviewed", reviewer="jdoe", role="hiring_manager")
        else:
            review.decide(rec.id, "accept", reviewer="jdoe", role="hiring_manager")
    assert review.pending() == [] and len(review.decisions()) == 3
    verification = AuditLog(store).verify()
    assert verification.ok and verification.records == 3 * 5 + 3, verification


def test_batch_of_simulated_candidates(store, job_model):
    ids = _register(store, 5)
    answers = profiler.simulate_responses(job_model.questionnaire, 5, seed=3).set_axis(ids)
    seen = []
    batch = assess_candidates(store, "customer-support", answers, {c: _evidence() for c in ids}, as_of=AS_OF,
                              draws=DRAWS, on_recorded=lambda a: seen.append(a.candidate))
    assert len(batch) == 5 and batch.failures == {} and seen == ids
    assert [a.candidate for a in batch.assessments] == ids
    assert all(a.session_id is None for a in batch.assessments)
    assert [r.candidate for r in Review(store).pending()] == ids
    for candidate in ids:  # no session: nothing to log about one
        events = [e.event for e in AuditLog(store).entries(candidate=candidate)]
        assert events == ["candidate.registered", *PIPELINE_EVENTS]
    assert AuditLog(store).verify().ok


def test_a_batch_skips_unusable_rows_without_partial_records(store, job_model):
    ids = _register(store, 3)
    answers = profiler.simulate_responses(job_model.questionnaire, 3, seed=5).set_axis(ids)
    answers.loc[ids[1], "E1"] = 9  # not an option
    with pytest.raises(profiler.ResponseError):
        assess_candidates(store, job_model, answers, {c: _evidence() for c in ids}, as_of=AS_OF, draws=DRAWS)
    assert len(Review(store).recommendations()) == 1  # the first was committed before the error
    batch = assess_candidates(store, job_model, answers.loc[ids[1:]], {c: _evidence() for c in ids}, as_of=AS_OF,
                              draws=DRAWS, on_error="skip")
    assert [a.candidate for a in batch.assessments] == [ids[2]] and list(batch.failures) == [ids[1]]
    assert "E1" in batch.failures[ids[1]]
    assert Candidates(store).records(ids[1]) == []
    assert [e.event for e in AuditLog(store).entries(candidate=ids[1])] == ["candidate.registered"]
    assert AuditLog(store).verify().ok


def test_skip_also_covers_unusable_timings_and_unknown_sessions(store, job_model):
    ids = _register(store, 2)
    answers = profiler.simulate_responses(job_model.questionnaire, 2, seed=6).set_axis(ids)
    timings = pd.DataFrame(4.0, index=ids, columns=answers.columns).assign(total=200.0)  # not an item
    batch = assess_candidates(store, job_model, answers, {c: _evidence() for c in ids}, timings=timings,
                              as_of=AS_OF, draws=DRAWS, on_error="skip")
    assert batch.assessments == [] and set(batch.failures) == set(ids)
    assert "total" in batch.failures[ids[0]]
    batch = assess_candidates(store, job_model, ["no-such-session"], {}, as_of=AS_OF, draws=DRAWS, on_error="skip")
    assert list(batch.failures) == ["session #1"]


def test_invalid_responses_are_routed_to_review_with_their_reasons_first(store, job_model):
    q = job_model.questionnaire
    [candidate] = _register(store, 1)
    same = pd.Series({item: 3.0 for item in q.item_ids})  # 50 identical answers
    result = assess_candidate(store, candidate, job_model, same, _evidence(95), as_of=AS_OF, draws=DRAWS)
    assert result.validity.verdict == "invalid" and set(result.validity.flagged) == {"longstring", "irv"}
    rec = result.recommendation
    assert rec.band == "review" and result.routed_to_review
    assert rec.reasons[0].code == "validity_invalid" and "longstring" in rec.reasons[0].text
    stored = Review(store).recommendation(result.recommendation_id)
    assert stored.band == "review" and stored.validity_verdict == "invalid" and stored.routed_to_review
    assert stored.summary().splitlines()[1] == "  response validity: INVALID"
    queued = next(AuditLog(store).entries(candidate=candidate, event="review.requested")).payload
    assert queued["validity"] == "invalid" and queued["routed_to_review"] and queued["band"] == "review"
    with pytest.raises(ReviewError, match="judged invalid"):
        Review(store).decide(stored.id, "accept", reviewer="jdoe", role="hiring_manager")


def test_questionable_responses_keep_the_band_and_come_first(store, job_model):
    q = job_model.questionnaire
    [candidate] = _register(store, 1)
    zigzag = pd.Series({item: (1.0 if k % 2 else 5.0) for k, item in enumerate(q.item_ids)})
    result = assess_candidate(store, candidate, job_model, zigzag, _evidence(), as_of=AS_OF, draws=DRAWS)
    assert result.validity.verdict == "questionable" and not result.routed_to_review
    assert result.recommendation.reasons[0].code == "validity_questionable"


def test_unusable_input_records_nothing(store, job_model):
    q = job_model.questionnaire
    a, b = _register(store, 2)
    answers = profiler.simulate_responses(q, 1, seed=1).iloc[0]
    open_session = profiler.Session.start(store, q, respondent=a)
    with pytest.raises(AssessmentError, match="is not finished"):
        assess_candidate(store, a, job_model, open_session, _evidence(), as_of=AS_OF)
    theirs = _take(store, q, b, answers)
    with pytest.raises(AssessmentError, match="belongs to respondent 'cand-01'"):
        assess_candidate(store, a, job_model, theirs, _evidence(), as_of=AS_OF)
    with pytest.raises(CandidateError, match="no candidate 'cand-99'"):
        assess_candidate(store, "cand-99", job_model, answers, _evidence(), as_of=AS_OF)
    with pytest.raises(profiler.ProfilerError, match="undeclared|declare"):
        assess_candidate(store, a, job_model, answers, {**_evidence(), "age": {"years": 30}}, as_of=AS_OF)
    with pytest.raises(AssessmentError, match="one row"):
        assess_candidate(store, a, job_model, pd.DataFrame([answers, answers]), _evidence(), as_of=AS_OF)
    assert Candidates(store).records(a) == [] and Candidates(store).records(b) == []
    assert [e.event for e in AuditLog(store).entries(candidate=a)] == ["candidate.registered", "session.started"]


def test_a_session_is_logged_once_and_can_be_given_by_id(store, job_model):
    q = job_model.questionnaire
    [candidate] = _register(store, 1)
    session = _take(store, q, candidate, profiler.simulate_responses(q, 1, seed=2).iloc[0])
    first = assess_candidate(store, candidate, job_model, session, _evidence(), as_of=AS_OF, draws=DRAWS)
    again = assess_candidate(store, candidate, job_model, session.id, _evidence(80), as_of=AS_OF, draws=DRAWS)
    assert again.recommendation_id != first.recommendation_id and again.session_id == session.id
    events = [e.event for e in AuditLog(store).entries(candidate=candidate)]
    assert events.count("session.finished") == 1 and events.count("scoring.recommendation") == 2
    batch = assess_candidates(store, job_model, [session.id], {candidate: _evidence()}, as_of=AS_OF, draws=DRAWS)
    assert batch.assessments[0].candidate == candidate
    assert AuditLog(store).verify().ok


def test_an_incomplete_answer_set_is_assessed_and_routed_to_review(store, job_model):
    [candidate] = _register(store, 1)
    answers = profiler.simulate_responses(job_model.questionnaire, 1, seed=9).iloc[0].copy()
    answers[["C1", "C2", "C3"]] = float("nan")  # 7 of 10 Conscientiousness items < min_answered 0.8
    result = assess_candidate(store, candidate, job_model, answers, _evidence(), as_of=AS_OF, draws=DRAWS)
    assert math.isnan(result.profile["Conscientiousness"].raw)
    assert result.recommendation.band == "review"
    assert any("Conscientiousness" in str(reason) or "conscientiousness" in str(reason)
               for reason in result.recommendation.reasons)
    with pytest.raises(profiler.ResponseError, match="not an answer"):
        assess_candidate(store, candidate, job_model, answers.fillna(9), _evidence(), as_of=AS_OF, draws=DRAWS)
