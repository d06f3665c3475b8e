"""Pseudonymous candidates: identity and demographics in tables of their own, every change and every read
of them logged without the values, artefacts tied to their log entries, and the oversight schema step."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import inspect

import profiler.store.migrations as migrations
from profiler.oversight import (
    AuditEvent,
    AuditLog,
    Candidate,
    CandidateError,
    Candidates,
    DemographicsVault,
    Identity,
    erase_candidate,
)
from profiler.store.audit_log import sha256_of
from profiler.store import Store
from tests.conftest import sql

PROFILER = Path(__file__).resolve().parents[2] / "profiler"
ADA = Identity(name="Ada Lovelace", email="ada@example.org", details={"phone": "+44 20 7946 0000"})


def _log_text(store) -> str:
    return "\n".join(f"{e.event} {e.actor} {e.payload}" for e in AuditLog(store))


def test_register_gives_a_random_pseudonym_and_keeps_identity_apart(store):
    people = Candidates(store)
    c = people.register(ADA, actor="recruiter:kim")
    assert isinstance(c, Candidate) and re.fullmatch(r"cand-[0-9a-f]{16}", c.id)
    assert (c.status, c.legal_hold, c.closed_at, c.erased_at) == ("open", False, None, None)
    assert c.created_at.tzinfo is not None
    assert people.register(actor="recruiter:kim").id != c.id
    candidate_columns = [column["name"] for column in inspect(store.engine).get_columns("candidates")]
    assert not {"name", "email"} & set(candidate_columns)
    assert sql(store, "SELECT name, email FROM candidate_identity") == [("Ada Lovelace", "ada@example.org")]
    entry = next(AuditLog(store).entries(candidate=c.id))
    assert entry.event == AuditEvent.CANDIDATE_REGISTERED
    assert entry.payload["identity_fields"] == ["name", "email", "details.phone"]
    # The log holds a keyed digest of the identity, never the values (and no digest anyone can test guesses on).
    assert set(entry.payload) == {"identity_fields", "identity_digest", "created_at"}
    assert entry.payload["identity_digest"].startswith("hmac-sha256:")
    assert "Ada" not in str(entry.payload) and "example.org" not in str(entry.payload)
    assert "Ada" not in _log_text(store) and "example.org" not in _log_text(store)


def test_chosen_ids_are_checked(store):
    people = Candidates(store)
    assert people.register(actor="x", candidate_id="ATS-2025-0042").id == "ATS-2025-0042"
    with pytest.raises(CandidateError, match="already exists"):
        people.register(actor="x", candidate_id="ATS-2025-0042")
    for bad in ["ada@example.org", "Ada Lovelace", "", "x" * 65]:
        with pytest.raises(CandidateError, match="not a pseudonymous id"):
            people.register(actor="x", candidate_id=bad)
    with pytest.raises(CandidateError, match="no candidate 'nobody'"):
        people.get("nobody")
    assert len(AuditLog(store)) == 1  # refused registrations leave no entry


def test_identity_reads_and_changes_are_logged_without_values(store):
    people = Candidates(store)
    c = people.register(actor="recruiter:kim")
    assert people.identity(c.id, actor="recruiter:kim", purpose="invite to interview") is None
    people.set_identity(c.id, ADA, actor="recruiter:kim")
    assert people.identity(c.id, actor="recruiter:kim", purpose="invite to interview") == ADA
    events = [(e.event, e.payload) for e in AuditLog(store).entries(candidate=c.id)]
    digest = events[2][1].pop("identity_digest")  # keyed: checks the row, reveals nothing once it is erased
    assert digest.startswith("hmac-sha256:")
    assert events[1:] == [
        ("candidate.identity_read", {"purpose": "invite to interview", "found": False}),
        ("candidate.identity_updated", {"identity_fields": ["name", "email", "details.phone"]}),
        ("candidate.identity_read", {"purpose": "invite to interview", "found": True}),
    ]
    assert "Lovelace" not in _log_text(store)
    with pytest.raises(CandidateError, match="Identity"):
        people.set_identity(c.id, {"name": "Ada"}, actor="x")


def test_close_and_legal_hold(store):
    people = Candidates(store)
    c = people.register(actor="x")
    closed = people.close(c.id, actor="reviewer:jdoe", outcome="rejected")
    assert closed.status == "closed" and closed.closed_at >= c.created_at
    with pytest.raises(CandidateError, match="closed already"):
        people.close(c.id, actor="x")
    with pytest.raises(CandidateError, match="with a reason"):
        people.set_legal_hold(c.id, True, actor="legal:li", reason=" ")
    held = people.set_legal_hold(c.id, True, actor="legal:li", reason="claim 2025-17")
    assert held.legal_hold and held.legal_hold_reason == "claim 2025-17"
    released = people.set_legal_hold(c.id, False, actor="legal:li", reason="claim settled")
    assert not released.legal_hold and released.legal_hold_reason is None
    assert [e.event for e in AuditLog(store).entries(candidate=c.id)] == [
        "candidate.registered", "candidate.closed", "candidate.legal_hold", "candidate.legal_hold"]
    assert [x.id for x in people.all(status="closed")] == [c.id]


def test_artefacts_are_stored_with_their_hash_and_log_entry(store):
    people = Candidates(store)
    c = people.register(actor="x")
    scores = people.add_record(c.id, "scores", {"E": {"T": 55.2, "sem": 3.1}}, actor="system")
    decision = people.add_record(c.id, "hr_decision", {"decision": "advance", "reason": "work sample"},
                                      actor="reviewer:jdoe", event=AuditEvent.DECISION)
    assert [a.kind for a in people.records(c.id)] == ["scores", "hr_decision"]
    assert people.records(c.id, kind="hr_decision") == [decision]
    log = AuditLog(store)
    logged = {e.seq: e for e in log.entries(candidate=c.id)}
    assert logged[scores.audit_seq].payload == {"record": scores.id, "kind": "scores", "session": None,
                                                "payload_hash": scores.payload_hash}
    assert logged[decision.audit_seq].event == "review.decision"
    assert log.verify().records == 2
    with pytest.raises(CandidateError, match="no session"):
        people.add_record(c.id, "scores", {}, actor="x", session_id="f" * 32)
    with pytest.raises(CandidateError, match="lower-case"):
        people.add_record(c.id, "Scores!", {}, actor="x")
    with pytest.raises(CandidateError, match="no candidate"):
        people.add_record("cand-none", "scores", {}, actor="x")


def test_an_edited_artefact_is_detected(store):
    people = Candidates(store)
    c = people.register(actor="x")
    a = people.add_record(c.id, "hr_decision", {"decision": "reject"}, actor="reviewer:jdoe")
    sql(store, "UPDATE case_records SET payload = '{\"decision\":\"advance\"}' WHERE id = :id", id=a.id)
    result = AuditLog(store).verify()
    assert not result.ok and result.bad_record == a.id and "payload does not match" in result.problem
    # The hash recomputed too: the log still holds the original.
    sql(store, "UPDATE case_records SET payload_hash = :hash WHERE id = :id", hash=sha256_of('{"decision":"advance"}'),
        id=a.id)
    result = AuditLog(store).verify()
    assert not result.ok and f"differs from the one log entry {a.audit_seq} recorded" in result.problem
    sql(store, "DELETE FROM case_records WHERE id = :id", id=a.id)  # a decision made to disappear
    result = AuditLog(store).verify()
    assert not result.ok and result.bad_record == a.id
    assert result.problem == f"case record {a.id}, stored by log entry {a.audit_seq}, is missing (deleted)"


def test_demographics_live_in_their_vault(store):
    people = Candidates(store)
    a, b = people.register(actor="x"), people.register(actor="x")
    vault = DemographicsVault(store)
    vault.record(a.id, {"sex": "female", "race_ethnicity": "Asian"}, actor="form:self-id")
    vault.record(b.id, {"sex": None}, actor="form:self-id")  # declined to say
    frame = vault.read(actor="auditor:lee", purpose="adverse impact 2025-Q1")
    assert frame.index.name == "candidate_id" and list(frame.columns) == ["race_ethnicity", "sex"]
    assert frame.loc[a.id, "sex"] == "female" and frame.loc[b.id, "sex"] is None
    assert frame.loc[b.id, "race_ethnicity"] is None
    only = vault.read(actor="auditor:lee", purpose="spot check", candidates=[b.id])
    assert list(only.index) == [b.id]
    with pytest.raises(CandidateError, match="stated purpose"):
        vault.read(actor="auditor:lee", purpose="")
    with pytest.raises(CandidateError, match="lower-case name"):
        vault.record(a.id, {"Sex": "f"}, actor="x")
    with pytest.raises(CandidateError, match="no candidate"):
        vault.record("cand-none", {"sex": "f"}, actor="x")
    reads = [e.payload for e in AuditLog(store).entries(event=AuditEvent.DEMOGRAPHICS_READ)]
    assert reads == [{"purpose": "adverse impact 2025-Q1", "candidates": 2, "selection": "all"},
                     {"purpose": "spot check", "candidates": 1, "selection": "listed"}]
    assert "female" not in _log_text(store) and "Asian" not in _log_text(store)
    assert vault.withdraw(a.id, actor="candidate") is True and vault.withdraw(a.id, actor="candidate") is False
    assert list(vault.read(actor="auditor:lee", purpose="after withdrawal").index) == [b.id]


# The code that turns answers and evidence into scores and recommendations, and the reports built on them.
SCORING_CODE = ["questionnaire", "administration", "norms", "factors", "jobmodel", "reports", "fairness",
                "assessment.py", "simulation.py", "documents.py", "yamlsource.py"]


def test_scoring_code_never_names_the_demographics():
    # Protected attributes are never features: no scoring module names their table or the vault. Only
    # profiler.oversight (the audit), the store's table definitions, the CLI commands that record or audit
    # them, and the demo's simulated intake do.
    for part in SCORING_CODE:
        root = PROFILER / part
        for path in ([root] if root.is_file() else root.rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            assert "candidate_demographics" not in text and "DemographicsVault" not in text, path


def test_an_erased_candidate_takes_no_new_records(store):
    people = Candidates(store)
    c = people.register(actor="x")
    erase_candidate(store, c.id, actor="dpo", reason="request")
    assert people.get(c.id).status == "erased"
    for action in [lambda: people.add_record(c.id, "scores", {}, actor="x"),
                   lambda: people.set_identity(c.id, ADA, actor="x"),
                   lambda: people.close(c.id, actor="x"),
                   lambda: DemographicsVault(store).record(c.id, {"sex": "f"}, actor="x")]:
        with pytest.raises(CandidateError, match="was erased"):
            action()


def test_a_version_1_store_is_upgraded_with_the_oversight_tables(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    with monkeypatch.context() as patch:  # a store written by a profiler without oversight
        patch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:1])
        patch.setattr(migrations, "LATEST_VERSION", 1)
        with Store(path) as old:
            assert old.schema_version == 1 and "audit_log" not in inspect(old.engine).get_table_names()
    with Store(path) as store:
        assert store.schema_version >= 2
        assert {"candidates", "candidate_identity", "candidate_demographics", "case_records", "audit_log"} <= set(
            inspect(store.engine).get_table_names())
        c = Candidates(store).register(ADA, actor="x")
        assert AuditLog(store).verify().ok and Candidates(store).get(c.id).status == "open"
