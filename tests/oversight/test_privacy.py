"""A candidate's data rights and retention: export holds everything, erasure deletes it (from the file too)
and keeps the log verifiable, legal holds stop erasure and purge, and purge logs what it did."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import profiler
from profiler.administration import Session
from profiler.cli import main
from profiler.oversight import (
    AuditEvent,
    AuditLog,
    CandidateError,
    Candidates,
    DemographicsVault,
    ErasureReceipt,
    Identity,
    erase_candidate,
    export_candidate,
    purge_expired,
)
from profiler.store.audit_log import erasure_marker
from profiler.store import Store
from tests.conftest import sql

MINI = Path(__file__).parents[1] / "fixtures" / "questionnaires" / "mini.yaml"
ADA = Identity(name="Ada Lovelace", email="ada@example.org", details={"phone": "+44 20 7946 0000"})


@pytest.fixture(scope="module")
def mini():
    return profiler.load_questionnaire(MINI)


def _case(store, mini, candidate_id: str, identity: Identity | None = ADA) -> Session:
    """A candidate with identity, demographics, one session with three answers, two artefacts, log entries."""
    people = Candidates(store)
    people.register(identity, actor="recruiter:kim", candidate_id=candidate_id)
    DemographicsVault(store).record(candidate_id, {"sex": "female", "race_ethnicity": "Black"}, actor="form")
    session = Session.start(store, mini, respondent=candidate_id, language="en")
    for value in (4, 2, 5):
        session.answer(value)
    log = AuditLog(store)
    log.append(AuditEvent.SESSION_FINISHED, {"session": session.id, "answers": [4, 2, 5]}, actor="system",
               candidate=candidate_id)
    people.add_record(candidate_id, "scores", {"Voice": {"raw": 3.67, "sem": 0.41}}, actor="system",
                           session_id=session.id)
    people.add_record(candidate_id, "hr_decision", {"decision": "advance", "reason": "clear work sample"},
                           actor="reviewer:jdoe", event=AuditEvent.DECISION)
    return session


# Export ------------------------------------------------------------------------------------------------
def test_export_holds_everything_about_the_candidate(store, mini):
    session = _case(store, mini, "cand-ada")
    _case(store, mini, "cand-bob", Identity(name="Bob"))
    document = export_candidate(store, "cand-ada", actor="dpo:sam")
    assert json.loads(json.dumps(document)) == document  # JSON as it is
    assert document["format"] == "profiler.candidate-export/2" and document["candidate_id"] == "cand-ada"
    assert document["candidate"]["status"] == "open" and document["candidate"]["legal_hold"] is False
    assert document["identity"]["name"] == "Ada Lovelace" and document["identity"]["details"] == ADA.details
    assert document["demographics"]["attributes"] == {"race_ethnicity": "Black", "sex": "female"}
    [exported] = document["sessions"]
    assert exported["id"] == session.id and exported["questionnaire_id"] == mini.id
    assert exported["item_order"] == list(session.order)
    assert [(e["kind"], e["value"]) for e in exported["events"]] == [("answer", 4.0), ("answer", 2.0),
                                                                     ("answer", 5.0)]
    assert [a["kind"] for a in document["records"]] == ["scores", "hr_decision"]
    assert document["records"][0]["session_id"] == session.id
    assert document["records"][1]["payload"]["reason"] == "clear work sample"
    events = [e["event"] for e in document["audit_log"]]
    assert events == ["candidate.registered", "demographics.recorded", "session.started", "session.answered",
                      "session.answered", "session.answered", "session.finished", "record.stored", "review.decision"]
    assert "Bob" not in json.dumps(document) and "cand-bob" not in json.dumps(document)
    [logged] = AuditLog(store).entries(event=AuditEvent.EXPORTED)
    assert logged.candidate == "cand-ada" and logged.actor == "dpo:sam"
    assert logged.payload["counts"] == {"sessions": 1, "records": 2, "log_entries": 9, "identity": True,
                                        "demographics": True}
    with pytest.raises(CandidateError, match="nothing is held about candidate 'cand-nobody'"):
        export_candidate(store, "cand-nobody", actor="dpo:sam")


# Erasure -----------------------------------------------------------------------------------------------
def test_erase_deletes_the_data_and_keeps_the_log_verifiable(store, mini):
    _case(store, mini, "cand-ada")
    _case(store, mini, "cand-bob", Identity(name="Bob Example"))
    log = AuditLog(store)
    before = {e.seq: e for e in log}
    ada_entries = [s for s, e in before.items() if e.candidate == "cand-ada"]
    receipt = erase_candidate(store, "cand-ada", actor="dpo:sam", reason="erasure request 2025-03-01")
    assert isinstance(receipt, ErasureReceipt)
    assert (receipt.sessions, receipt.answers, receipt.records) == (1, 3, 2)
    assert receipt.identity and receipt.demographics and receipt.log_entries == len(ada_entries)
    assert "proof: log entry" in str(receipt)
    if store.engine.dialect.name == "postgresql":  # said, not hidden: the server's files keep dead rows a while
        assert receipt.files_clean is None and "until VACUUM" in receipt.remaining
    else:
        assert receipt.files_clean is True and receipt.remaining is None

    result = log.verify()
    assert result.ok, result.problem
    assert result.erased == len(ada_entries) and result.entries == len(before) + 1
    after = {e.seq: e for e in log}
    for seq, entry in before.items():
        kept = after[seq]
        # Hashes and every field but the payload kept; the payload erased only for the erased candidate.
        assert (kept.payload_hash, kept.entry_hash, kept.event, kept.candidate) == (
            entry.payload_hash, entry.entry_hash, entry.event, entry.candidate)
        if entry.candidate == "cand-ada":
            assert kept.erased and kept.payload == {"$erased": {"by_entry": receipt.entry_seq}}
        else:
            assert kept.payload == entry.payload and not kept.erased
    proof = after[receipt.entry_seq]
    assert proof.event == "candidate.erased" and proof.entry_hash == receipt.entry_hash
    assert proof.payload["redacted"] == ada_entries and proof.payload["reason"] == "erasure request 2025-03-01"
    assert proof.payload["deleted"] == {"sessions": 1, "answers": 3, "records": 2, "identity": True,
                                        "demographics": True, "invitations": 0}

    people = Candidates(store)
    assert people.get("cand-ada").status == "erased" and people.get("cand-ada").erased_at is not None
    assert people.records("cand-ada") == [] and len(people.records("cand-bob")) == 2
    assert people.identity("cand-ada", actor="dpo", purpose="check") is None
    assert list(DemographicsVault(store).read(actor="auditor", purpose="check").index) == ["cand-bob"]
    assert sql(store, "SELECT count(*) FROM sessions WHERE respondent = 'cand-ada'") == [(0,)]
    assert sql(store, "SELECT count(*) FROM session_events") == [(3,)]  # Bob's
    document = export_candidate(store, "cand-ada", actor="dpo:sam")
    assert document["identity"] is None and document["sessions"] == [] and document["records"] == []
    assert all(e["erased"] for e in document["audit_log"] if e["seq"] < receipt.entry_seq)
    assert [e["event"] for e in document["audit_log"] if e["seq"] > receipt.entry_seq] == [
        "candidate.identity_read"]  # the check above, logged after the erasure


def test_erased_data_leaves_the_database_file(tmp_path, mini):
    # SQLite only: PostgreSQL keeps deleted rows in its files until VACUUM (the receipt says so).
    store = Store(tmp_path / "s.db")
    _case(store, mini, "cand-ada")
    _case(store, mini, "cand-bob", Identity(name="Bob Example"))
    erase_candidate(store, "cand-ada", actor="dpo:sam", reason="erasure request")
    files = b"".join(p.read_bytes() for p in Path(store.name).parent.glob("s.db*"))
    # the whole phone number: four digits alone turn up by chance in hashes and microsecond timestamps
    assert b"Lovelace" not in files and b"ada@example.org" not in files and b"20 7946 0000" not in files
    assert b"Bob Example" in files


def test_a_forged_or_misplaced_erasure_marker_fails_verification(store, mini):
    _case(store, mini, "cand-ada")
    _case(store, mini, "cand-bob")
    receipt = erase_candidate(store, "cand-ada", actor="dpo", reason="request")
    bob = [e.seq for e in AuditLog(store).entries(candidate="cand-bob")][0]
    # Bob's entry "erased" by Ada's erasure entry.
    sql(store, "UPDATE audit_log SET payload = :marker WHERE seq = :seq", marker=erasure_marker(receipt.entry_seq),
        seq=bob)
    result = AuditLog(store).verify()
    assert not result.ok and result.first_bad_seq == bob and "erasure marker" in result.problem


def test_erasing_needs_a_reason_data_and_no_legal_hold(store, mini):
    _case(store, mini, "cand-ada")
    people = Candidates(store)
    people.set_legal_hold("cand-ada", True, actor="legal:li", reason="claim 2025-17")
    with pytest.raises(CandidateError, match=r"on legal hold \(claim 2025-17\)"):
        erase_candidate(store, "cand-ada", actor="dpo", reason="request")
    assert len(people.records("cand-ada")) == 2  # nothing touched
    with pytest.raises(CandidateError, match="with a reason"):
        erase_candidate(store, "cand-ada", actor="dpo", reason="")
    people.set_legal_hold("cand-ada", False, actor="legal:li", reason="claim settled")
    erase_candidate(store, "cand-ada", actor="dpo", reason="request")
    with pytest.raises(CandidateError, match="was erased on .* nothing has been recorded since"):
        erase_candidate(store, "cand-ada", actor="dpo", reason="request")
    with pytest.raises(CandidateError, match="nothing is held"):
        erase_candidate(store, "cand-nobody", actor="dpo", reason="request")
    assert AuditLog(store).verify().ok


def test_an_anonymous_respondent_can_be_erased(store, mini):
    session = Session.start(store, mini, respondent="anon-1234", language="en")
    session.answer(3)
    receipt = erase_candidate(store, "anon-1234", actor="dpo", reason="request")
    assert (receipt.sessions, receipt.answers, receipt.identity) == (1, 1, False)
    assert AuditLog(store).verify().ok


# Retention ---------------------------------------------------------------------------------------------
def test_purge_erases_expired_cases_except_those_on_hold(store, mini):
    people = Candidates(store)
    for name in ("cand-old", "cand-held", "cand-recent", "cand-open"):
        _case(store, mini, name)
    for name in ("cand-old", "cand-held", "cand-recent"):
        people.close(name, actor="reviewer:jdoe", outcome="rejected")
    people.set_legal_hold("cand-held", True, actor="legal:li", reason="claim 2025-17")
    anonymous = Session.start(store, mini, respondent="anon-1", language="en")
    anonymous.answer(2)
    now = datetime.now(UTC)
    # cand-recent closed 100 days ago, the others 400.
    sql(store, "UPDATE candidates SET closed_at = :at WHERE id IN ('cand-old', 'cand-held')",
        at=now - timedelta(days=400))
    sql(store, "UPDATE candidates SET closed_at = :at WHERE id = 'cand-recent'", at=now - timedelta(days=100))
    log = AuditLog(store)
    entries_before = len(log)
    dry = purge_expired(store, actor="system:retention", now=now, dry_run=True)
    assert (dry.purged, dry.held, dry.dry_run, dry.entry_seq) == (("cand-old",), ("cand-held",), True, None)
    assert len(log) == entries_before and people.get("cand-old").status == "closed"

    report = purge_expired(store, actor="system:retention", now=now)
    assert report.purged == ("cand-old",) and report.held == ("cand-held",)
    assert [people.get(n).status for n in ("cand-old", "cand-held", "cand-recent", "cand-open")] == [
        "erased", "closed", "closed", "open"]
    [logged] = log.entries(event=AuditEvent.PURGED)
    assert logged.seq == report.entry_seq and logged.candidate is None
    assert logged.payload["purged"] == ["cand-old"] and logged.payload["held"] == ["cand-held"]
    assert logged.payload["retention_days"] == 365
    assert "finished before" in str(report)

    later = now + timedelta(days=31)  # 131 days after cand-recent closed, 31 after anon-1's last answer
    report = purge_expired(store, actor="system:retention", retention=timedelta(days=30), now=later)
    assert report.purged == ("cand-recent", "anon-1") and report.held == ("cand-held",)
    # The closing dates moved by hand above are edits of the table; verify names the row still holding one.
    result = log.verify()
    assert result.problem_count == 1 and result.problems[0].startswith("candidates row cand-held: closed_at is")
    with pytest.raises(CandidateError, match="positive"):
        purge_expired(store, actor="x", retention=timedelta(0))


# Command line ------------------------------------------------------------------------------------------
def test_cli_export_erase_hold_purge(store, store_location, mini, tmp_path, capsys):
    _case(store, mini, "cand-ada")
    db = store_location
    out = tmp_path / "ada.json"
    assert main(["candidate", "export", "cand-ada", "--db", db, "--output", str(out), "--actor", "dpo:sam"]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["identity"]["name"] == "Ada Lovelace"
    assert "1 session(s), 2 case record(s)" in capsys.readouterr().err
    assert main(["candidate", "export", "cand-ada", "--db", db]) == 0
    assert json.loads(capsys.readouterr().out)["candidate_id"] == "cand-ada"

    assert main(["candidate", "hold", "cand-ada", "--db", db, "--reason", "claim 2025-17"]) == 0
    assert "legal hold on" in capsys.readouterr().out
    assert main(["candidate", "erase", "cand-ada", "--db", db, "--reason", "request", "--yes"]) == 2
    assert "legal hold" in capsys.readouterr().err
    assert main(["candidate", "hold", "cand-ada", "--db", db, "--reason", "settled", "--release"]) == 0
    assert main(["candidate", "erase", "cand-ada", "--db", db, "--reason", "request"]) == 2
    assert "add --yes" in capsys.readouterr().err
    assert main(["candidate", "erase", "cand-ada", "--db", db, "--reason", "request", "--yes"]) == 0
    assert "erased candidate cand-ada" in capsys.readouterr().out
    assert main(["candidate", "purge", "--db", db, "--dry-run"]) == 0
    assert "would purge 0 case(s)" in capsys.readouterr().out
    assert main(["candidate", "purge", "--db", db, "--days", "0"]) == 2
    actors = [(e.event, e.actor.split(":")[0]) for e in AuditLog(store) if e.event.startswith("candidate.e")]
    assert actors == [("candidate.exported", "dpo"), ("candidate.exported", "cli"), ("candidate.erased", "cli")]
    assert main(["audit", "verify", "--db", db]) == 0
