"""Oversight pages: the organisation's figures only (and as CSV), stopping and resuming its own job models
with a reason, the audit log's verification (a tampered entry named), contests taken in and decided by a
second reviewer."""

from __future__ import annotations

import csv
import html
import io

from sqlalchemy import update

from profiler.oversight import AuditLog, ModelControl, Review
from profiler.store.tables import audit_log

from .conftest import signed_in_as
from .test_review_pages import HOSTILE

BOTH_BACKENDS = True  # each test also on PostgreSQL (conftest.py)


def _override(store, rec_id, reviewer, role="recruiter"):
    rec = Review(store).recommendation(rec_id)
    outcome = "not_advance" if rec.band == "advance" else "advance"
    return Review(store).decide(rec_id, "override", outcome=outcome, reason="other", note="checked",
                                reviewer=reviewer, role=role)


def test_figures_cover_the_organisations_models_only(client, staff, store, recs):
    _override(store, recs["cand-a0"], "recruiter")
    _override(store, recs["cand-g0"], "recruiter-globex")
    signed_in_as(client, staff, "auditor")
    page = client.get("/w/oversight")
    assert page.status_code == 200 and "customer-support" in page.text
    assert "recruiter-globex" not in page.text and "software-engineer" not in page.text
    table = list(csv.reader(io.StringIO(client.get("/w/oversight/reviewers.csv").text)))
    assert table[0][:3] == ["reviewer", "decisions", "accepted"]
    assert [(row[0], row[1], row[table[0].index("override_rate")]) for row in table[1:]] == [
        ("recruiter", "1", "100.0%")]
    models = list(csv.reader(io.StringIO(client.get("/w/oversight/models.csv").text)))
    assert [row[:2] for row in models[1:]] == [["customer-support", "1.0.0"]]
    assert client.get("/w/oversight/secrets.csv").status_code == 404


def test_an_operator_stops_and_resumes_the_organisations_model(client, staff, store):
    csrf = signed_in_as(client, staff, "operator")
    missing = client.post("/w/models/stop", data={"csrf": csrf, "model": "customer-support", "reason": " "})
    assert missing.status_code == 400 and "a reason is required" in missing.text
    other = client.post("/w/models/stop", data={"csrf": csrf, "model": "software-engineer", "reason": "x"})
    assert other.status_code == 404 and ModelControl(store).active() == []
    done = client.post("/w/models/stop", data={"csrf": csrf, "model": "customer-support",
                                               "reason": "complaint about the norm group"})
    assert done.status_code == 303
    [stop] = ModelControl(store).active()
    assert (stop.job_model_id, stop.stopped_by, stop.reason) == ("customer-support", "operator",
                                                                  "complaint about the norm group")
    assert "stopped" in client.get("/w/models").text
    state = list(csv.reader(io.StringIO(client.get("/w/models/state.csv").text)))
    assert state == [["job_model", "state"], ["customer-support", "stopped"]]
    [row] = list(csv.DictReader(io.StringIO(client.get("/w/models/stops.csv").text)))
    assert (row["job_model"], row["stopped_by"], row["reason"], row["resumed_by"]) == (
        "customer-support", "operator", "complaint about the norm group", "")
    queue_stops = client.get("/w/queue/stops.csv")
    assert queue_stops.status_code == 403  # an operator does not read the queue
    assert client.post("/w/models/resume", data={"csrf": csrf, "model": "customer-support",
                                                 "reason": "norms checked"}).status_code == 303
    assert ModelControl(store).active() == []
    events = [(e.event, e.actor) for e in AuditLog(store) if e.event.startswith("model.")]
    assert [event for event, _ in events] == ["model.stopped", "model.resumed"]


def test_the_audit_page_verifies_the_log_and_names_a_tampered_entry(client, staff, store):
    signed_in_as(client, staff, "auditor")
    page = client.get("/w/audit")
    head = AuditLog(store).head()
    assert page.status_code == 200 and "audit log intact" in page.text
    assert f"{head[0]}:{head[1]}" in page.text
    anchored = client.get("/w/audit", params={"anchor": f"{head[0]}:{head[1]}"})
    assert "audit log intact" in anchored.text
    assert client.get("/w/audit", params={"anchor": "nonsense"}).status_code == 400
    with store.write() as connection:
        connection.execute(update(audit_log).where(audit_log.c.seq == 3).values(payload='{"forged":true}'))
    tampered = client.get("/w/audit")
    assert "entry 3: payload does not match its payload_hash (payload edited)" in tampered.text


def test_a_contest_is_taken_in_and_decided_by_a_second_reviewer(client, staff, store, recs):
    rec_id = recs["cand-a1"]
    first = _override(store, rec_id, "recruiter")
    csrf = signed_in_as(client, staff, "hiring_manager")
    same = client.post(f"/w/cases/{rec_id}/contest", data={"csrf": csrf, "statement": "x",
                                                           "assign_to": "recruiter"})
    assert same.status_code == 400 and "a contest goes to a second reviewer" in same.text
    filed = client.post(f"/w/cases/{rec_id}/contest", data={"csrf": csrf, "statement": HOSTILE,
                                                            "assign_to": "recruiter2"})
    assert filed.status_code == 303
    [contest] = Review(store).contests("cand-a1")
    assert (contest.decision_id, contest.received_by, contest.assigned_to) == (first.id, "hiring_manager",
                                                                               "recruiter2")
    page = client.get(f"/w/cases/{rec_id}").text
    assert html.escape(HOSTILE.strip(), quote=False)[:40] in page and "<script>alert(1)" not in page
    assert "Open contests (1)" in client.get("/w/queue").text
    [open_row] = list(csv.DictReader(io.StringIO(client.get("/w/queue/contests.csv").text)))
    assert (open_row["contest"], open_row["candidate"], open_row["assigned_to"], open_row["overdue"]) == (
        str(contest.id), "cand-a1", "recruiter2", "no")
    csrf2 = signed_in_as(client, staff, "recruiter2")
    decided = client.post(f"/w/cases/{rec_id}/decide", data={"csrf": csrf2, "decision": "do_not_use",
                                                             "reason": "data_error", "note": "looked again"})
    assert decided.status_code == 303
    second = [d for d in Review(store).decisions("cand-a1") if d.stage == "contest"]
    assert [(d.reviewer, d.contest_id, d.decision) for d in second] == [("recruiter2", contest.id, "do_not_use")]
    assert AuditLog(store).verify().ok


def test_psychologists_see_the_organisations_instruments_and_their_hashes(client, staff, store):
    import profiler

    signed_in_as(client, staff, "psychologist")
    page = client.get("/w/instruments")
    model = profiler.load_job_model("customer-support")
    assert page.status_code == 200 and model.content_hash in page.text
    assert model.questionnaire.content_hash in page.text and "software-engineer" not in page.text
    table = list(csv.reader(io.StringIO(client.get("/w/instruments.csv").text)))
    assert table[1:] == [["customer-support", "1.0.0", model.content_hash, "ipip-bfm-50 1.0.0",
                          model.questionnaire.content_hash, "3"]]


def test_override_and_contest_rates_over_time_as_charts_and_csv(client, staff, store, recs):
    from datetime import UTC, datetime

    def at(moment):
        return Review(store, clock=lambda: moment)

    march, april = datetime(2026, 3, 10, 9, tzinfo=UTC), datetime(2026, 4, 14, 9, tzinfo=UTC)
    rec0 = Review(store).recommendation(recs["cand-a0"])
    if rec0.band == "review":
        at(march).decide(rec0.id, "override", outcome="advance", reason="other", note="chosen", reviewer="recruiter",
                         role="recruiter")
    else:
        at(march).decide(rec0.id, "accept", reviewer="recruiter", role="recruiter")
    rec1 = Review(store).recommendation(recs["cand-a1"])
    outcome = "not_advance" if rec1.band == "advance" else "advance"
    first = at(april).decide(rec1.id, "override", outcome=outcome, reason="other", note="checked",
                             reviewer="recruiter", role="recruiter")
    at(april).contest(first.id, received_by="hr", statement="please look again")
    _override(store, recs["cand-g0"], "recruiter-globex")  # another organisation: never shown

    signed_in_as(client, staff, "operator")
    page = client.get("/w/oversight", params={"period": "month"})
    assert page.status_code == 200
    assert page.text.count('<img class="chart wide" alt="Override rate per reviewer and month"') == 1
    assert 'alt="Contest rate per job model and month"' in page.text
    assert "recruiter-globex" not in page.text
    table = list(csv.DictReader(io.StringIO(client.get("/w/oversight/reviewers-over-time.csv",
                                                       params={"period": "month"}).text)))
    assert [(r["reviewer"], r["period"], r["decisions"], r["contested"]) for r in table] == [
        ("recruiter", "2026-03", "1", "0"), ("recruiter", "2026-04", "1", "1")]
    april_row = table[1]
    assert float(april_row["contest_rate"]) == 1.0
    if rec1.band != "review":
        assert float(april_row["override_rate"]) == 1.0  # one definite recommendation acted on, overridden
    models = list(csv.DictReader(io.StringIO(client.get("/w/oversight/models-over-time.csv",
                                                        params={"period": "quarter"}).text)))
    assert [(r["job_model_id"], r["period"], r["decisions"]) for r in models] == [("customer-support", "2026Q1", "1"),
                                                                                   ("customer-support", "2026Q2", "1")]
    weekly = client.get("/w/oversight", params={"period": "fortnight"})  # unknown: by month
    assert weekly.status_code == 200 and '<option value="month" selected>' in weekly.text


def test_the_job_models_tables_are_the_organisations_own(client, staff, store):
    ModelControl(store).stop("customer-support", operator="operator", reason="acme's own stop")
    signed_in_as(client, staff, "operator-globex")
    assert list(csv.reader(io.StringIO(client.get("/w/models/state.csv").text))) == [
        ["job_model", "state"], ["software-engineer", "running"]]
    assert len(list(csv.reader(io.StringIO(client.get("/w/models/stops.csv").text)))) == 1  # the header only
    assert "acme's own stop" not in client.get("/w/models").text
