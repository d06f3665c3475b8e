"""The records that cross the store: every kind written by the real pipeline round-trips through SQLite and
PostgreSQL byte for byte as its typed class; payloads of older profilers are upgraded when read (also from a store
of schema version 3, whose table was still called artefacts); newer versions and misfit content are refused with a
clear error."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text

import profiler
from profiler.batch import score_file
from profiler.canonical import canonical_json, sha256_text
from profiler.oversight import AuditLog, Candidates, DemographicsVault, ModelControl, Review
from profiler.pipeline import assess_candidate
from profiler.reports import write_fairness_audit
from profiler.simulation import simulate_responses
from profiler.store import Store, migrations
from profiler.store.records import (
    CASE_RECORDS,
    LOG_RECORDS,
    StoredDecision,
    StoredInputs,
    StoredRecommendation,
    StoredRecordError,
    read_log_record,
    read_record,
)
from profiler.store.tables import case_records
from tests.conftest import postgres_schema
from profiler.integration.keys import SecretKey
from profiler.pipeline.invitations import Organisation, consent_notice, create_invitation, decline, give_consent

AS_OF = date(2026, 3, 1)
EVIDENCE = {
    "email_work_sample": {"score": 70.0, "date": date(2026, 1, 10), "source": "work sample"},
    "interview_customer_focus": {"ratings": {"r1": 4, "r2": 3}, "date": date(2026, 1, 12), "source": "panel"},
    "support_experience": {"years": 2, "date": date(2026, 1, 1), "source": "cv"},
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def filled(request, tmp_path_factory):
    """A store with every kind of record, written by the pipeline, the review, the control and the audit, in a
    SQLite file and in a schema of the PostgreSQL test server (tests/conftest.py)."""
    folder = tmp_path_factory.mktemp("records")
    if request.param == "sqlite":
        yield _fill(folder / "s.db", folder)
        return
    with postgres_schema() as url:
        yield _fill(url, folder)


def _fill(path, folder):
    jm = profiler.load_job_model("customer-support")
    answers = simulate_responses(jm.questionnaire, 2, seed=3)
    with Store(path) as store:
        people, vault = Candidates(store), DemographicsVault(store)
        ids = []
        for i in range(2):
            cid = people.register(actor="hr:kim", candidate_id=f"cand-{i}").id
            vault.record(cid, {"sex": ["female", "male"][i]}, actor="hr:kim")
            assess_candidate(store, cid, jm, answers.iloc[i], EVIDENCE, as_of=AS_OF, draws=200)
            ids.append(cid)
        review = Review(store)
        first = review.decide(review.pending()[0].id, "override", outcome="not_advance", reason="other",
                              note="checked by hand", reviewer="jdoe", role="hiring_manager")
        review.confirm(first.id, reviewer="lee", role="recruiter", note="agreed")
        pending = review.pending()[0]
        other = review.decide(pending.id, "override", reason="other", note="second look", reviewer="jdoe",
                              role="hiring_manager", outcome="not_advance" if pending.band == "advance" else "advance")
        review.refuse_confirmation(other.id, reviewer="lee", role="recruiter", reason="not job-related")
        contest = review.contest(first.id, received_by="hr:kim", statement="please look again")
        review.assign(contest.id, "asmith", actor="hr:kim")
        review.decide_contest(contest.id, "do_not_use", reason="data_error", note="wrong work sample",
                              reviewer="asmith", role="psychologist")
        control = ModelControl(store)
        control.stop("software-engineer", operator="ops-kim", reason="under investigation")
        control.resume("software-engineer", operator="ops-kim", reason="resolved")
        write_fairness_audit(store, "customer-support", folder / "audit", actor="auditor", data_kind="test",
                             data_reason="simulated candidates")
        # An invitation taken up and one declined: invitation.created, consent.given, consent.refused.
        key = SecretKey.generate()
        for give in (True, False):
            invited = create_invitation(store, key, jm).invitation
            notice = consent_notice(invited, Organisation(), store)
            (give_consent if give else decline)(store, invited, notice)
        answers.to_csv(folder / "batch.csv", index=False)
        score_file(jm.questionnaire, jm.norms, folder / "batch.csv", folder / "profiles.csv", store=store,
                   actor="ops-kim", job_model=jm, as_of=AS_OF)
    return path


def _rows(path):
    with Store(path) as store, store.read() as connection:
        records = connection.execute(select(case_records).order_by(case_records.c.id)).all()
    return records


def test_every_case_record_kind_round_trips_byte_for_byte(filled):
    rows = _rows(filled)
    assert {row.kind for row in rows} == set(CASE_RECORDS)
    for row in rows:
        record = read_record(row.kind, json.loads(row.payload), where=f"record {row.id}")
        assert isinstance(record, CASE_RECORDS[row.kind]) and record.schema_version == 1
        again = canonical_json(record.payload())
        assert again == row.payload and sha256_text(again) == row.payload_hash, row.kind


def test_every_log_record_round_trips(filled):
    with Store(filled) as store:
        entries = [e for e in AuditLog(store) if e.event in LOG_RECORDS]
        assert {e.event for e in entries} == set(LOG_RECORDS)
        for entry in entries:
            record = read_log_record(entry.event, entry.payload)
            assert canonical_json(record.payload()) == canonical_json(entry.payload)
            assert sha256_text(canonical_json(record.payload())) == entry.payload_hash


def test_case_records_read_back_as_their_types(filled):
    with Store(filled) as store:
        records = Candidates(store).records("cand-0")
        typed = {r.kind: r.record for r in records}
        assert isinstance(typed["inputs"], StoredInputs) and typed["inputs"].answered == 50
        rec = typed["recommendation"]
        assert isinstance(rec, StoredRecommendation) and rec.job_model.id == "customer-support"
        assert set(rec.based_on) == {"inputs", "validity", "profile", "contributions"}
        by_id = {r.id: r for r in records}
        for kind, ref in rec.based_on.items():  # references name the records by id and hash
            assert by_id[ref.record].kind == kind and by_id[ref.record].payload_hash == ref.payload_hash
        decisions = [r.record for r in records if r.kind == "decision"]
        assert [d.stage for d in decisions] == ["first", "contest"] and isinstance(decisions[0], StoredDecision)
        assert decisions[0].decided_at.tzinfo is not None


def _as_version_zero(kind: str, payload: dict) -> dict:
    """A payload as profiler wrote it before records were versioned."""
    old = {k: v for k, v in payload.items() if k != "schema_version"}
    if kind == "recommendation":
        old["based_on"] = {k: {"artefact": r["record"], "payload_hash": r["payload_hash"]}
                           for k, r in old["based_on"].items()}
    if kind in ("decision", "contest", "contest_assignment"):
        old["format"] = "profiler.review/1"
        for key in ("recommendation", "decision"):
            if isinstance(old.get(key), dict):
                old[key] = {("artefact" if k == "record" else k): v for k, v in old[key].items()}
    return old


def test_payloads_of_older_versions_are_upgraded_when_read(filled):
    for row in _rows(filled):
        if 0 not in CASE_RECORDS[row.kind].UPGRADES:  # a kind born versioned has no older payloads
            assert row.kind in ("decision_confirmation", "decision_confirmation_refusal")
            continue
        current = json.loads(row.payload)
        old = _as_version_zero(row.kind, current)
        assert "schema_version" not in old
        assert read_record(row.kind, old).payload() == current, row.kind


def test_a_newer_or_misfit_record_is_refused_naming_what_is_wrong(filled):
    row = next(r for r in _rows(filled) if r.kind == "recommendation")
    payload = json.loads(row.payload)
    with pytest.raises(StoredRecordError, match="record 9: a recommendation record of schema_version 2, but this "
                                                "profiler reads versions up to 1: upgrade profiler"):
        read_record("recommendation", {**payload, "schema_version": 2}, where="record 9")
    with pytest.raises(StoredRecordError, match="field band: Input should be 'advance', 'review' or 'not_advance'"):
        read_record("recommendation", {**payload, "band": "maybe"})
    with pytest.raises(StoredRecordError, match="field surprise: Extra inputs are not permitted"):
        read_record("recommendation", {**payload, "surprise": 1})
    with pytest.raises(StoredRecordError, match="schema_version 'one' is not a version number"):
        read_record("recommendation", {**payload, "schema_version": "one"})
    with pytest.raises(StoredRecordError, match="no case record of kind 'scores'"):
        read_record("scores", payload)
    with pytest.raises(StoredRecordError, match="no record for log event 'review.decision'"):
        read_log_record("review.decision", {})
    assert read_record("decision", {"decision": "advance"}) is None  # an old foreign payload: not a review record


def test_a_version_3_store_with_old_payloads_is_migrated_and_read(tmp_path, monkeypatch, filled):
    """A store written before schema version 4: the table artefacts, log entries naming "artefact", payloads of
    version 0. Opening it renames the table; the log verifies and the review reads the old records."""
    source = {row.id: row for row in _rows(filled)}
    rec_row = next(r for r in source.values() if r.kind == "recommendation" and r.candidate_id == "cand-1")
    path = tmp_path / "old.db"
    with monkeypatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:3])
        patch.setattr(migrations, "LATEST_VERSION", 3)
        with Store(path) as old:
            assert old.schema_version == 3
            Candidates(old).register(actor="hr:kim", candidate_id="cand-1")
            log = AuditLog(old)
            payload = canonical_json(_as_version_zero("recommendation", json.loads(rec_row.payload)))
            digest = sha256_text(payload)
            with old.write() as connection:
                seq = log.append("scoring.recommendation", {"artefact": 1, "kind": "recommendation", "session": None,
                                                           "payload_hash": digest},
                                 actor="system", candidate="cand-1", connection=connection).seq
                connection.execute(text(
                    "INSERT INTO artefacts (id, candidate_id, session_id, kind, payload, payload_hash, audit_seq, "
                    "recorded_by, recorded_at) VALUES (1, 'cand-1', NULL, 'recommendation', :p, :h, :s, 'system', "
                    ":t)"), {"p": payload, "h": digest, "s": seq, "t": datetime(2026, 3, 1, tzinfo=UTC)})
    with Store(path) as store:
        assert store.schema_version == migrations.LATEST_VERSION >= 4
        assert AuditLog(store).verify().ok and AuditLog(store).verify().records == 1
        [pending] = Review(store).pending()
        assert pending.id == 1 and pending.job_model_id == "customer-support" and pending.record.schema_version == 1
        decision = Review(store).decide(1, "do_not_use", reason="other", note="old case", reviewer="jdoe",
                                        role="hiring_manager")
        assert decision.recommendation_hash == digest  # the old record stays as stored: its hash still holds
        assert AuditLog(store).verify().ok
