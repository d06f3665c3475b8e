"""Attack: change what decided, behind the log's back, with write access to the database.

A store holds the whole story (registered candidates with identity and demographics, sessions with answers,
skips, moves, pauses, resumptions and an expiry, an assessment with its five case records, a decision, a
closed case on legal hold, an erased candidate, stops and a resumption of job models). Then, on a copy, one
edit at a time with the sqlite3 module (foreign keys off, as an attacker's tool has them): every column of
every decision-relevant table changed, every kind of row deleted, rows forged. ``verify`` must fail and name
the row. A stopped model must stay stopped when its row is deleted or marked resumed.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

import profiler
from profiler.oversight import AuditLog, Candidates, ModelControl, ModelStoppedError, Review
from profiler.oversight.candidates import DemographicsVault, Identity
from profiler.oversight.privacy import erase_candidate
from profiler.pipeline.assessment import assess_candidate
from profiler.store import Store
from profiler.store.tables import metadata

MINI = Path(__file__).parents[1] / "fixtures" / "questionnaires" / "mini.yaml"
EVIDENCE = {
    "email_work_sample": {"score": 70.0, "date": date(2026, 1, 10), "source": "work sample"},
    "interview_customer_focus": {"ratings": {"r1": 4, "r2": 3}, "date": date(2026, 1, 12), "source": "panel"},
    "support_experience": {"years": 2, "date": date(2026, 1, 1), "source": "cv"},
}
# What a row is named by in verify's problems.
LABEL = {"sessions": "sessions row", "session_events": "session_events row", "candidates": "candidates row",
         "candidate_identity": "candidate_identity row", "candidate_demographics": "candidate_demographics row",
         "model_stops": "model_stops row", "questionnaires": "questionnaires row", "case_records": "case record",
         "job_models": "job_models row"}
# Columns whose edit verify does not detect, and why they do not decide anything.
NOT_CHECKED = {
    ("candidate_identity", "updated_at"): "when the row was written: the time of its log entry is the record",
    ("candidate_demographics", "recorded_at"): "the same",
    ("case_records", "recorded_at"): "the same",
    ("model_stops", "stopped_at"): "shown to operators; whether and since which entry a model is stopped is the log's",
    ("model_stops", "resumed_at"): "the same (that it is set without a logged resumption is detected)",
    ("questionnaires", "stored_at"): "when the content was first stored; the content is named by its hash",
    ("job_models", "stored_at"): "the same",
}
# Which row of each table to attack (a WHERE clause), chosen so that every column holds a value.
TARGET = {
    "sessions": "respondent = 'cand-a'",
    "session_events": "session_id = (SELECT id FROM sessions WHERE respondent = 'cand-a') AND kind = 'answer' "
                      "AND seq = 5",
    "candidates": "id = 'cand-a'",
    "candidate_identity": "candidate_id = 'cand-a'",
    "candidate_demographics": "candidate_id = 'cand-a'",
    "model_stops": "id = 1",
    "questionnaires": "questionnaire_id = 'team-climate-mini'",
    "case_records": "kind = 'profile'",
    "job_models": "job_model_id = 'customer-support'",
}


def _take(store, questionnaire, respondent, answers, *, moves: bool = False):
    now = [0.0]
    session = profiler.Session.start(store, questionnaire, respondent=respondent, clock=lambda: now[0])
    if moves:  # an answer changed after going back, a pause and a resumption
        now[0] += 3
        session.answer(answers[session.current().item_id])
        session.back()
        session.pause()
        session = profiler.Session.resume(store, session.id, clock=lambda: now[0])
    while (prompt := session.current()) is not None:
        now[0] += 4
        session.answer(answers[prompt.item_id])
    session.finish()
    return session


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tamper") / "store.db"
    job_model = profiler.load_job_model("customer-support")
    q = job_model.questionnaire
    with Store(path) as store:
        people = Candidates(store)
        for cid in ("cand-a", "cand-b"):
            people.register(Identity(name=f"Name {cid}", email=f"{cid}@example.org", details={"phone": "555"}),
                            actor="hr:kim", candidate_id=cid)
            DemographicsVault(store).record(cid, {"sex": "female", "age_band": "40+"}, actor="form:self-id")
        answers = profiler.simulate_responses(q, 2, seed=5).set_axis(["cand-a", "cand-b"])
        session = _take(store, q, "cand-a", answers.loc["cand-a"], moves=True)
        _take(store, q, "cand-b", answers.loc["cand-b"])
        result = assess_candidate(store, "cand-a", job_model, session, EVIDENCE, as_of=date(2026, 3, 1), draws=200,
                                  actor="system:intake")
        Review(store).decide(result.recommendation_id, "do_not_use", reason="data_error", note="wrong work sample",
                             reviewer="jdoe", role="hiring_manager")
        people.close("cand-a", actor="hr:kim", outcome="hired")
        people.set_legal_hold("cand-a", True, actor="legal:li", reason="claim 2026-3")
        erase_candidate(store, "cand-b", actor="dpo:sam", reason="erasure request")
        # An anonymous respondent whose session expired (a fake clock past the 10-minute limit).
        mini = profiler.load_questionnaire(MINI)
        now = [0.0]
        anon = profiler.Session.start(store, mini, respondent="anon-1", seed=1, clock=lambda: now[0])
        anon.answer(2)
        now[0] += 3600
        anon.check_time()
        anon.finish()
        control = ModelControl(store)
        control.stop("customer-support", operator="ops1", reason="norms under review")
        control.resume("customer-support", operator="ops1", reason="norms checked")
        control.stop("other-model", version="2.0", operator="ops1", reason="complaint")
        result = AuditLog(store).verify()
    assert result.ok, result.problems
    assert result.rows > 60
    return path


def _attack(baseline: Path, tmp_path: Path, *statements: str, params=()) -> profiler.Verification:
    path = tmp_path / "attacked.db"
    shutil.copy(baseline, path)
    with sqlite3.connect(path) as connection:
        for statement in statements:
            changed = connection.execute(statement, params).rowcount
            assert changed >= 1, f"the attack changed nothing: {statement}"
    with Store(path, create=False) as store:
        return AuditLog(store).verify()


def _changed(value, column):
    """Another value of the same kind: what an attacker would write instead."""
    if value is None:
        return {"DATETIME": "2030-01-01 00:00:00.000000"}.get(str(column.type), "forged") \
            if not str(column.type).startswith(("INTEGER", "BIGINT", "FLOAT", "DOUBLE", "BOOLEAN")) else 1
    if isinstance(value, str):
        if str(column.type) == "DATETIME":
            moment = datetime.fromisoformat(value) + timedelta(seconds=1)
            return moment.strftime("%Y-%m-%d %H:%M:%S.%f")
        if value.startswith(("[", "{")):
            data = json.loads(value)
            return json.dumps(data[::-1] if isinstance(data, list) else {**data, "forged": 1})
        return value + "x"
    if isinstance(value, float):
        return value + 0.5
    if str(column.type) == "BOOLEAN":
        return int(not value)
    return value + (1000 if column.primary_key else 1)  # a key moved onto a free number


COLUMNS = [(table, column.name) for table in LABEL for column in metadata.tables[table].columns
           if (table, column.name) not in NOT_CHECKED]


@pytest.mark.parametrize(("table", "column"), COLUMNS, ids=[f"{t}.{c}" for t, c in COLUMNS])
def test_every_edited_column_is_named(baseline, tmp_path, table, column):
    with sqlite3.connect(baseline) as connection:
        [value] = connection.execute(f"SELECT {column} FROM {table} WHERE {TARGET[table]}").fetchone()
    forged = _changed(value, metadata.tables[table].c[column])
    result = _attack(baseline, tmp_path, f"UPDATE {table} SET {column} = ? WHERE {TARGET[table]}", params=(forged,))
    assert not result.ok
    assert any(LABEL[table] in problem for problem in result.problems), result.problems


@pytest.mark.parametrize("table", list(LABEL))
def test_every_deleted_row_is_named(baseline, tmp_path, table):
    result = _attack(baseline, tmp_path, f"DELETE FROM {table} WHERE {TARGET[table]}")
    assert not result.ok
    assert any(LABEL[table] in p and ("missing" in p or "deleted" in p) for p in result.problems), result.problems


FORGERIES = {
    "sessions": "INSERT INTO sessions SELECT 'forged-' || id, respondent, content_hash, questionnaire_id, "
                "questionnaire_version, language, seed, item_order, status, expired, started_at, finished_at, "
                "time_multiplier, banks "
                "FROM sessions WHERE respondent = 'cand-a'",
    "session_events": "INSERT INTO session_events SELECT session_id, seq + 1000, kind, item_id, position, value, "
                      "shown_seconds, item_time_exceeded, recorded_at FROM session_events WHERE "
                      + TARGET["session_events"],
    "candidates": "INSERT INTO candidates SELECT 'cand-forged', status, created_at, closed_at, legal_hold, "
                  "legal_hold_reason, erased_at FROM candidates WHERE id = 'cand-a'",
    "candidate_identity": "INSERT INTO candidate_identity SELECT 'cand-b', name, email, details, updated_at, "
                          "digest_key FROM candidate_identity WHERE candidate_id = 'cand-a'",
    "candidate_demographics": "INSERT INTO candidate_demographics SELECT 'cand-b', attributes, source, recorded_at, "
                              "digest_key FROM candidate_demographics WHERE candidate_id = 'cand-a'",
    "model_stops": "INSERT INTO model_stops (id, job_model_id, job_model_version, stopped_by, stop_reason, "
                   "stopped_at) SELECT max(id) + 1, 'customer-support', NULL, 'ops1', 'forged', "
                   "'2026-01-01 00:00:00.000000' FROM model_stops",
    "case_records": "INSERT INTO case_records (id, candidate_id, session_id, kind, payload, payload_hash, audit_seq, "
                    "recorded_by, recorded_at) SELECT id + 1000, candidate_id, session_id, kind, payload, payload_hash, NULL, "
                    "recorded_by, recorded_at FROM case_records WHERE kind = 'decision'",
}


@pytest.mark.parametrize("table", list(FORGERIES))
def test_every_forged_row_is_named(baseline, tmp_path, table):
    result = _attack(baseline, tmp_path, FORGERIES[table])
    assert not result.ok
    assert any(LABEL[table] in p for p in result.problems), result.problems


def test_a_changed_answer_names_the_row_and_what_the_log_says(baseline, tmp_path):
    result = _attack(baseline, tmp_path, f"UPDATE session_events SET value = 6 - value WHERE {TARGET['session_events']}")
    [problem] = result.problems
    assert problem.startswith("session_events row (session ") and ", seq 5): value is " in problem
    assert "but log entry" in problem and problem.endswith("(edited)")
    assert result.problem_count == 1 and "TAMPERED" in str(result)


def test_several_edits_are_all_named(baseline, tmp_path):
    result = _attack(baseline, tmp_path,
                     "UPDATE session_events SET value = 1 WHERE kind = 'answer' AND value <> 1",
                     "UPDATE candidates SET legal_hold = 0 WHERE id = 'cand-a'")
    answers = [p for p in result.problems if p.startswith("session_events row")]
    assert len(answers) > 10 and any(p.startswith("candidates row cand-a: legal_hold") for p in result.problems)
    assert result.problem_count == len(result.problems)


def test_an_erased_candidate_cannot_be_brought_back(baseline, tmp_path):
    result = _attack(baseline, tmp_path, "UPDATE candidates SET status = 'open', erased_at = NULL WHERE id = 'cand-b'")
    assert any(p.startswith("candidates row cand-b: status is 'open'") for p in result.problems)


@pytest.mark.parametrize("attack", [
    "DELETE FROM model_stops WHERE job_model_id = 'other-model'",
    "UPDATE model_stops SET resumed_at = '2026-01-01 00:00:00.000000', resumed_by = 'ops1', resume_reason = 'x' "
    "WHERE job_model_id = 'other-model'",
    "UPDATE model_stops SET job_model_id = 'renamed' WHERE job_model_id = 'other-model'",
])
def test_a_stopped_model_stays_stopped_whatever_the_table_says(baseline, tmp_path, attack):
    path = tmp_path / "attacked.db"
    shutil.copy(baseline, path)
    with sqlite3.connect(path) as connection:
        connection.execute(attack)
    with Store(path, create=False) as store:
        control = ModelControl(store)
        assert control.is_stopped("other-model", "2.0")
        with pytest.raises(ModelStoppedError, match="complaint"):
            control.check("other-model", "2.0")
        assert not control.is_stopped("customer-support")
        assert not AuditLog(store).verify().ok


def test_an_edited_stop_entry_stops_every_model(baseline, tmp_path):
    path = tmp_path / "attacked.db"
    shutil.copy(baseline, path)
    with sqlite3.connect(path) as connection:  # the resumption's reason rewritten: its hash no longer holds
        connection.execute("UPDATE audit_log SET payload = replace(payload, 'norms checked', 'norms fine') "
                           "WHERE event = 'model.resumed'")
    with Store(path, create=False) as store:
        with pytest.raises(ModelStoppedError, match="fail their hashes"):
            ModelControl(store).check("customer-support", "1.0.0")
        with pytest.raises(ModelStoppedError):
            ModelControl(store).check("any-model")


def test_the_command_lists_every_problem(baseline, tmp_path, capsys):
    from profiler.cli import main

    path = tmp_path / "attacked.db"
    shutil.copy(baseline, path)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE candidates SET legal_hold = 0 WHERE id = 'cand-a'")
        connection.execute("DELETE FROM candidate_demographics WHERE candidate_id = 'cand-a'")
    assert main(["audit", "verify", "--db", str(path)]) == 1
    out = capsys.readouterr().out
    assert "TAMPERED" in out and "(and 1 more problem)" in out
    assert "  candidates row cand-a: legal_hold is False" in out
    assert "  candidate_demographics row cand-a, recorded by log entry" in out


def test_the_baseline_rows_cover_every_table(baseline):
    with sqlite3.connect(baseline) as connection:
        for table, where in TARGET.items():
            assert connection.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0] == 1, table
        kinds = {k for (k,) in connection.execute("SELECT DISTINCT kind FROM session_events")}
    assert {"answer", "back", "pause", "resume", "expire", "finish"} <= kinds
