"""The global stop of a job model: scopes, reasons, logging; no recommendation while stopped, not even from a
batch stopped half-way, and nothing half-written; resumption; the CLI; the schema step."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, inspect, select

import profiler
import profiler.store.migrations as migrations
from profiler.cli import main
from profiler.oversight import (
    AuditEvent,
    AuditLog,
    Candidates,
    ControlError,
    ModelControl,
    ModelStoppedError,
    Review,
    ReviewError,
)
from profiler.pipeline.assessment import assess_candidate, assess_candidates
from profiler.store import Store
from profiler.store.records import StoredModelStop, read_log_record
from profiler.store.tables import case_records

MODEL = "customer-support"
DRAWS = 500  # re-measurements for decision stability: enough for these tests, and fast
AS_OF = date(2026, 3, 1)  # evaluation date: the evidence below stays current whenever the tests run


@pytest.fixture(scope="module")
def job_model():
    return profiler.load_job_model(MODEL)


def _evidence(score: float = 70.0) -> dict:
    return {
        "email_work_sample": {"score": score, "date": date(2026, 1, 10), "source": "work sample"},
        "interview_customer_focus": {"ratings": {"r1": 4, "r2": 3}, "date": date(2026, 1, 12), "source": "panel"},
        "support_experience": {"years": 2, "date": date(2026, 1, 1), "source": "cv"},
    }


def _candidates(store, job_model, n: int, seed: int = 7):
    ids = [Candidates(store).register(actor="hr:kim", candidate_id=f"cand-{i:02d}").id for i in range(n)]
    answers = profiler.simulate_responses(job_model.questionnaire, n, seed=seed).set_axis(ids)
    return ids, answers


def _records_of(store, candidate: str) -> tuple[int, list[str]]:
    with store.read() as connection:
        n = connection.execute(select(func.count()).select_from(case_records)
                               .where(case_records.c.candidate_id == candidate)).scalar_one()
    return n, [e.event for e in AuditLog(store).entries(candidate=candidate)]


# Stopping and resuming -------------------------------------------------------------------------------------
def test_stop_and_resume_are_recorded_and_logged(store):
    control = ModelControl(store)
    stop = control.stop(MODEL, operator="ops-kim", reason="norm table under investigation")
    assert stop.active and stop.job_model_version is None and stop.stopped_by == "ops-kim"
    assert control.is_stopped(MODEL) and control.is_stopped(MODEL, "1.0.0")
    assert not control.is_stopped("software-engineer")
    entry = next(AuditLog(store).entries(event=AuditEvent.MODEL_STOPPED))
    assert entry.seq == stop.stop_seq and entry.actor == "operator:ops-kim"
    assert entry.payload == {"stop": stop.id, "job_model_id": MODEL, "job_model_version": None,
                             "scope": "all versions", "operator": "ops-kim", "reason": "norm table under investigation",
                             "schema_version": 1}
    assert read_log_record(entry.event, entry.payload) == StoredModelStop(
        stop=stop.id, job_model_id=MODEL, job_model_version=None, scope="all versions", operator="ops-kim",
        reason="norm table under investigation")

    [ended] = control.resume(MODEL, operator="ops-lee", reason="norms verified against the source")
    assert ended.id == stop.id and not ended.active and ended.resumed_by == "ops-lee"
    assert not control.is_stopped(MODEL) and control.active() == []
    resumed = next(AuditLog(store).entries(event=AuditEvent.MODEL_RESUMED))
    assert resumed.seq == ended.resume_seq and resumed.payload["reason"] == "norms verified against the source"
    assert resumed.payload["stopped_by"] == "ops-kim" and resumed.actor == "operator:ops-lee"
    assert read_log_record(resumed.event, resumed.payload).stopped_at == stop.stopped_at
    assert [s.id for s in control.history(MODEL)] == [stop.id]
    assert AuditLog(store).verify().ok


def test_version_scopes(store):
    control = ModelControl(store)
    control.stop(MODEL, version="1.0.0", operator="ops-kim", reason="bad weights in 1.0.0")
    assert control.is_stopped(MODEL, "1.0.0") and not control.is_stopped(MODEL, "2.0.0")
    control.check(MODEL, "2.0.0")  # another version runs
    with pytest.raises(ModelStoppedError):
        control.check(MODEL, "1.0.0")
    with pytest.raises(ControlError, match="already stopped"):
        control.stop(MODEL, version="1.0.0", operator="ops-kim", reason="again")
    control.stop(MODEL, operator="ops-kim", reason="everything, while we look")  # all versions, on top
    assert control.is_stopped(MODEL, "2.0.0")
    with pytest.raises(ControlError, match="already stopped"):
        control.stop(MODEL, operator="ops-kim", reason="again")
    [one] = control.resume(MODEL, version="1.0.0", operator="ops-kim", reason="1.0.0 fixed")
    assert one.job_model_version == "1.0.0"
    assert control.is_stopped(MODEL, "1.0.0")  # the all-versions stop is still in force
    with pytest.raises(ControlError, match="has no stop of its own.*every version"):
        control.resume(MODEL, version="2.0.0", operator="ops-kim", reason="x")
    assert len(control.resume(MODEL, operator="ops-kim", reason="all clear")) == 1
    with pytest.raises(ControlError, match="is not stopped"):
        control.resume(MODEL, operator="ops-kim", reason="x")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"operator": "ops-kim", "reason": "  "}, "reason is required"),
    ({"operator": "Kim Smith", "reason": "x"}, "operator 'Kim Smith'"),
    ({"operator": "", "reason": "x"}, "operator ''"),
])
def test_stop_needs_an_operator_and_a_reason(store, kwargs, message):
    with pytest.raises(ControlError, match=message):
        ModelControl(store).stop(MODEL, **kwargs)
    with pytest.raises(ControlError, match="not a job model id"):
        ModelControl(store).stop("no such/model", operator="ops", reason="x")
    assert len(AuditLog(store)) == 0


def test_the_error_names_operator_time_and_reason(store, job_model):
    stop = ModelControl(store).stop(MODEL, operator="ops-kim", reason="complaint under investigation")
    with pytest.raises(ModelStoppedError) as caught:
        ModelControl(store).check(job_model)
    text = str(caught.value)
    assert "ops-kim" in text and "complaint under investigation" in text
    assert f"{stop.stopped_at:%Y-%m-%d %H:%M:%S}" in text and "profiler model resume" in text
    assert caught.value.stop == stop
    assert isinstance(caught.value, profiler.ProfilerError)


# No recommendation while stopped ---------------------------------------------------------------------------
def test_no_recommendation_while_stopped(store, job_model):
    ids, answers = _candidates(store, job_model, 1)
    ModelControl(store).stop(MODEL, operator="ops-kim", reason="audit")
    with pytest.raises(ModelStoppedError, match="audit"):
        assess_candidate(store, ids[0], job_model, answers.iloc[0], _evidence(), draws=DRAWS, as_of=AS_OF)
    assert _records_of(store, ids[0]) == (0, ["candidate.registered"])
    ModelControl(store).resume(MODEL, operator="ops-kim", reason="audit passed")
    result = assess_candidate(store, ids[0], job_model, answers.iloc[0], _evidence(), draws=DRAWS, as_of=AS_OF)
    assert Review(store).recommendation(result.recommendation_id).candidate == ids[0]
    assert AuditLog(store).verify().ok


def test_a_batch_stopped_between_candidates_leaves_no_partial_records(store, job_model):
    ids, answers = _candidates(store, job_model, 4)
    recorded = []

    def stop_after_the_first(assessment):
        recorded.append(assessment.candidate)
        if len(recorded) == 1:  # an operator stops the model while the batch is running
            ModelControl(store).stop(MODEL, operator="ops-kim", reason="complaint received")

    with pytest.raises(ModelStoppedError, match="complaint received"):
        assess_candidates(store, job_model, answers, {c: _evidence() for c in ids}, draws=DRAWS, as_of=AS_OF,
                          on_recorded=stop_after_the_first)
    assert recorded == [ids[0]]
    n_first, events_first = _records_of(store, ids[0])
    assert n_first == 5 and events_first[-1] == "review.requested"
    for candidate in ids[1:]:
        assert _records_of(store, candidate) == (0, ["candidate.registered"])
    assert [r.candidate for r in Review(store).pending()] == [ids[0]]
    assert AuditLog(store).verify().ok


def test_a_stop_during_evaluation_wins_over_the_recording(store, job_model, monkeypatch):
    # The stop commits after the fail-fast check passed, while the candidate is being evaluated: the check
    # inside the recording transaction still sees it, and nothing of the candidate is written.
    ids, answers = _candidates(store, job_model, 1)
    evaluate = type(job_model).evaluate

    def evaluate_then_stop(self, *args, **kwargs):
        result = evaluate(self, *args, **kwargs)
        ModelControl(store).stop(MODEL, version=self.version, operator="ops-kim", reason="stopped mid-evaluation")
        return result

    monkeypatch.setattr(type(job_model), "evaluate", evaluate_then_stop)
    with pytest.raises(ModelStoppedError, match="stopped mid-evaluation"):
        assess_candidate(store, ids[0], job_model, answers.iloc[0], _evidence(), draws=DRAWS, as_of=AS_OF)
    assert _records_of(store, ids[0]) == (0, ["candidate.registered"])
    assert AuditLog(store).verify().ok


def test_reviewers_still_decide_while_a_model_is_stopped(store, job_model):
    ids, answers = _candidates(store, job_model, 1)
    result = assess_candidate(store, ids[0], job_model, answers.iloc[0], _evidence(95), draws=DRAWS, as_of=AS_OF)
    ModelControl(store).stop(MODEL, operator="ops-kim", reason="audit")
    review = Review(store)
    rec = review.recommendation(result.recommendation_id)
    if rec.band != "review":
        with pytest.raises(ReviewError, match="cannot be accepted while it is stopped"):
            review.decide(rec.id, "accept", reviewer="jdoe", role="hiring_manager")
    decision = review.decide(rec.id, "do_not_use", reason="other", note="model under audit; decided by hand later",
                             reviewer="jdoe", role="hiring_manager")
    assert decision.decision == "do_not_use"


def test_accepting_a_stopped_models_recommendation_is_refused_until_resumed(store, job_model):
    ids, answers = _candidates(store, job_model, 1)
    result = assess_candidate(store, ids[0], job_model, answers.iloc[0], _evidence(95), draws=DRAWS, as_of=AS_OF)
    assert result.recommendation.band != "review"  # a strong work sample: a definite band to accept
    control = ModelControl(store)
    control.stop(MODEL, operator="ops-kim", reason="norms under investigation")
    review = Review(store)
    with pytest.raises(ReviewError, match="norms under investigation"):
        review.decide(result.recommendation_id, "accept", reviewer="jdoe", role="hiring_manager")
    control.resume(MODEL, operator="ops-kim", reason="norms checked")
    assert review.decide(result.recommendation_id, "accept", reviewer="jdoe", role="hiring_manager").outcome \
        == result.recommendation.band


# CLI -------------------------------------------------------------------------------------------------------
def test_cli_model_stop_status_resume(store, store_location, capsys, tmp_path):
    db = store_location
    assert main(["model", "status", "--db", db]) == 0
    assert "no stop in force" in capsys.readouterr().out
    assert main(["model", "stop", MODEL, "--operator", "ops-kim", "--reason", "complaint", "--db", db]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"stopped job model {MODEL} (every version) by ops-kim") and "complaint" in out
    assert main(["model", "status", MODEL, "--db", db]) == 0
    assert "STOPPED" in capsys.readouterr().out
    assert main(["model", "stop", MODEL, "--operator", "ops-kim", "--reason", "again", "--db", db]) == 2
    assert "already stopped" in capsys.readouterr().err
    assert main(["model", "resume", MODEL, "--operator", "ops-lee", "--reason", "resolved", "--db", db]) == 0
    assert "resumed job model" in capsys.readouterr().out
    assert main(["model", "status", "--all", "--db", db]) == 0
    assert "resumed by ops-lee" in capsys.readouterr().out
    assert not ModelControl(store).is_stopped(MODEL)
    # A mistyped store is an error, never a new store in which the model is "stopped".
    missing = tmp_path / "typo.db"
    assert main(["model", "stop", MODEL, "--operator", "o", "--reason", "r", "--db", str(missing)]) == 2
    assert not missing.exists()


# Schema ----------------------------------------------------------------------------------------------------
def test_a_version_2_store_gets_the_model_stops_table(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    with monkeypatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:2])
        patch.setattr(migrations, "LATEST_VERSION", 2)
        with Store(path) as old:
            Candidates(old).register(actor="x", candidate_id="cand-old")
            assert "model_stops" not in inspect(old.engine).get_table_names()
    with Store(path) as store:
        assert store.schema_version >= 3 and "model_stops" in inspect(store.engine).get_table_names()
        ModelControl(store).stop(MODEL, operator="ops", reason="after the upgrade")
        assert AuditLog(store).verify().ok
