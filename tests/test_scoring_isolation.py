"""Demographic data never reach the scoring: a recorded assessment does not read their table.

Every SQL statement the recorded pipeline sends is captured; none may touch ``candidate_demographics``,
while the fairness audit (the one path meant to read them) does, and logs that it did.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event

import profiler
from profiler.pipeline.assessment import assess_candidate
from profiler.oversight import AuditLog, Candidates
from profiler.oversight.candidates import DemographicsVault
from profiler.store import Store

EVIDENCE = {
    "email_work_sample": {"score": 71, "date": date(2026, 1, 10), "source": "work sample"},
    "interview_customer_focus": {"ratings": {"r1": 4, "r2": 3}, "date": date(2026, 1, 12), "source": "panel"},
    "support_experience": {"years": 2, "date": date(2026, 1, 5), "source": "CV"},
}


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "s.db") as opened:
        yield opened


def _statements(store: Store) -> list[str]:
    seen: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda conn, cursor, sql, *rest: seen.append(sql.lower()))
    return seen


def test_the_recorded_pipeline_never_reads_demographics(store):
    model = profiler.load_job_model("customer-support")
    answers = profiler.simulate_responses(model.questionnaire, 3, seed=4)
    people = Candidates(store)
    vault = DemographicsVault(store)
    for i in range(3):
        candidate = people.register(actor="test", candidate_id=f"c-{i}")
        vault.record(candidate.id, {"sex": "female" if i else "male", "race": "Unrecorded-Test"}, actor="intake")
    seen = _statements(store)
    for i in range(3):
        assess_candidate(store, f"c-{i}", model, answers.iloc[[i]], EVIDENCE, actor="test", as_of=date(2026, 3, 1),
                         draws=200)
    assert seen, "the listener must see the pipeline's statements"
    assert not [sql for sql in seen if "candidate_demographics" in sql]


def test_the_fairness_audit_is_the_path_that_reads_them_and_it_is_logged(store, tmp_path):
    from profiler.reports import write_fairness_audit as run_fairness_audit

    model = profiler.load_job_model("customer-support")
    answers = profiler.simulate_responses(model.questionnaire, 6, seed=5)
    people, vault = Candidates(store), DemographicsVault(store)
    for i in range(6):
        people.register(actor="test", candidate_id=f"c-{i}")
        vault.record(f"c-{i}", {"sex": "female" if i % 2 else "male"}, actor="intake")
        assess_candidate(store, f"c-{i}", model, answers.iloc[[i]], EVIDENCE, actor="test", as_of=date(2026, 3, 1),
                         draws=200)
    seen = _statements(store)
    run = run_fairness_audit(store, "customer-support", tmp_path / "audit", actor="auditor", data_kind="test",
                             data_reason="test data")
    assert any("candidate_demographics" in sql for sql in seen)
    events = [entry.event for entry in AuditLog(store)]
    assert "audit.run" in events or any(e.startswith("audit") for e in events)
    assert run.html_path.exists() and run.json_path.exists()
    assert AuditLog(store).verify().ok
