"""The queue and the case: the organisation's cases only, the recruiter report live, decisions and
confirmations through the pipeline's functions and on the record, refusals worded by the pipeline, hostile
notes escaped, CSV downloads safe in a spreadsheet."""

from __future__ import annotations

import csv
import html
import io

import pytest

from profiler.oversight import AuditLog, ModelControl, Review
from profiler.pipeline import review_target

from .conftest import signed_in_as

BOTH_BACKENDS = True  # each test also on PostgreSQL (conftest.py)

HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)"> =HYPERLINK("http://evil")'


def _decide(client, csrf, rec_id, **form):
    return client.post(f"/w/cases/{rec_id}/decide", data={"csrf": csrf, **form})


def test_the_queue_lists_the_organisations_pending_cases_only(client, staff, recs):
    signed_in_as(client, staff, "recruiter")
    page = client.get("/w/queue")
    assert page.status_code == 200
    assert all(f"/w/cases/{recs[c]}" in page.text for c in ("cand-a0", "cand-a1", "cand-a2"))
    assert "cand-g0" not in page.text and "Waiting for a decision (3)" in page.text
    assert "waits for a person" in page.text
    table = list(csv.reader(io.StringIO(client.get("/w/queue.csv").text)))
    assert table[0][:5] == ["recommendation", "candidate", "job_model", "version", "band"]
    assert sorted(row[1] for row in table[1:]) == ["cand-a0", "cand-a1", "cand-a2"]
    bands = {row[1]: row[4] for row in table[1:]}
    band = bands["cand-a0"]
    filtered = client.get(f"/w/queue?band={band}")
    assert filtered.text.count("/w/cases/") == sum(b == band for b in bands.values())


def test_the_case_page_shows_the_recruiter_report_then_the_form(client, staff, store, recs):
    signed_in_as(client, staff, "recruiter")
    page = client.get(f"/w/cases/{recs['cand-a0']}")
    text = page.text
    assert page.status_code == 200
    order = [text.index(s) for s in ("1. Read first", "Response validity", "Decision stability",
                                     "How the score came about", "10. Your decision", "11. History")]
    assert order == sorted(order)
    assert "<svg" not in text and text.count('src="data:image/svg+xml;base64,') >= 3  # charts as images
    assert 'name="csrf"' in text and "Record the decision" in text
    rec = Review(store).recommendation(recs["cand-a0"])
    assert rec.job_model_hash[7:19] in text  # the versions and hashes section of the report
    assert "review.requested" in text and "scoring.recommendation" in text  # the history


def test_an_auditor_reads_the_case_without_a_form(client, staff, recs):
    signed_in_as(client, staff, "auditor")
    page = client.get(f"/w/cases/{recs['cand-a0']}")
    assert page.status_code == 200 and "Record the decision" not in page.text


def test_a_decision_goes_through_the_pipeline_and_on_the_record(client, staff, store, recs, monkeypatch):
    calls = []
    real = review_target.decide_for_candidate

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr("profiler.web.workspace.review_pages.decide_for_candidate", spy)
    csrf = signed_in_as(client, staff, "hiring_manager")
    rec_id = recs["cand-a1"]
    band = Review(store).recommendation(rec_id).band
    outcome = "not_advance" if band == "advance" else "advance"
    response = _decide(client, csrf, rec_id, decision="override", outcome=outcome, reason="job_related_evidence",
                       note=HOSTILE)
    assert response.status_code == 303, response.text[:500]
    assert [(c["reviewer"], c["role"], c["recommendation"]) for c in calls] == [
        ("hiring_manager", "hiring_manager", rec_id)]
    [decision] = Review(store).decisions("cand-a1")
    assert (decision.decision, decision.outcome, decision.reason, decision.note) == (
        "override", outcome, "job_related_evidence", HOSTILE.strip())
    entries = list(AuditLog(store).entries(event="review.decision"))
    assert [(e.actor, e.payload["reviewer"], e.payload["role"], e.payload["decision"]) for e in entries] == [
        ("reviewer:hiring_manager", "hiring_manager", "hiring_manager", decision.id)]
    assert entries[0].seq == decision.audit_seq + 1  # written in the record's transaction, right after it
    assert AuditLog(store).verify().ok
    page = client.get(response.headers["location"])
    assert "Recorded in the audit log" in page.text and "Record the decision" not in page.text
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert 'onerror="alert(2)"' not in page.text


@pytest.mark.parametrize("form,message", [
    ({"decision": "override", "outcome": "advance", "reason": "other"}, "note"),
    ({"decision": "override", "reason": "other", "note": "x"}, "an override names the outcome"),
    ({"decision": "do_not_use", "note": "x"}, "reason"),
    ({"decision": "maybe"}, "is not one of accept, override, do_not_use"),
    ({"decision": "accept", "reason": "no_such_code"}, "reason code 'no_such_code' is not in the list"),
])
def test_the_pipelines_refusals_are_shown_and_nothing_is_recorded(client, staff, store, recs, form, message):
    csrf = signed_in_as(client, staff, "recruiter")
    before = len(AuditLog(store))
    response = _decide(client, csrf, recs["cand-a0"], **form)
    assert response.status_code == 400 and message in html.unescape(response.text)
    assert 'role="alert"' in response.text and len(AuditLog(store)) == before


def test_a_stopped_model_blocks_acceptance_but_not_a_reasoned_decision(client, staff, store, recs):
    ModelControl(store).stop("customer-support", operator="ops", reason="complaint about the norm group")
    csrf = signed_in_as(client, staff, "recruiter")
    rec_id = next(r for r in recs.values() if Review(store).recommendation(r).job_model_id == "customer-support"
                  and Review(store).recommendation(r).band != "review")
    refused = _decide(client, csrf, rec_id, decision="accept")
    assert refused.status_code == 400 and "cannot be accepted while it is stopped" in refused.text
    assert "Stopped job models" in client.get("/w/queue").text
    aside = _decide(client, csrf, rec_id, decision="do_not_use", reason="data_error", note="model under review")
    assert aside.status_code == 303


def test_a_decided_case_is_not_decided_twice(client, staff, store, recs):
    csrf = signed_in_as(client, staff, "recruiter")
    rec_id = recs["cand-a2"]
    assert _decide(client, csrf, rec_id, decision="do_not_use", reason="data_error", note="wrong file").status_code \
        == 303
    again = _decide(client, csrf, rec_id, decision="do_not_use", reason="data_error", note="again")
    assert again.status_code == 400 and f"recommendation {rec_id} was decided already" in again.text


def _overridden_by_recruiter(client, staff, store, recs):
    """acme asks for a second person; "recruiter" overrides cand-a0's recommendation in the workspace. Returns
    the recruiter's form token, the recommendation id and the decision."""
    staff.set_second_confirmation("acme", True, actor="cli:admin")
    csrf = signed_in_as(client, staff, "recruiter")
    rec_id = recs["cand-a0"]
    band = Review(store).recommendation(rec_id).band
    outcome = "not_advance" if band == "advance" else "advance"
    assert _decide(client, csrf, rec_id, decision="override", outcome=outcome, reason="other",
                   note="second opinion wanted").status_code == 303
    [decision] = Review(store).decisions("cand-a0")
    return csrf, rec_id, decision


def test_a_second_person_confirms_an_override(client, staff, store, recs):
    csrf, rec_id, decision = _overridden_by_recruiter(client, staff, store, recs)
    own = client.get(f"/w/cases/{rec_id}").text
    assert "Waiting for a second person" in own and "You made this decision" in own
    refused = client.post(f"/w/cases/{rec_id}/confirm", data={"csrf": csrf, "decision": str(decision.id)})
    assert refused.status_code == 400 and "a second person confirms it" in refused.text
    csrf2 = signed_in_as(client, staff, "recruiter2")
    assert "Overrides waiting for a second person (1)" in client.get("/w/queue").text
    assert "Confirm this override" in client.get(f"/w/cases/{rec_id}").text
    done = client.post(f"/w/cases/{rec_id}/confirm", data={"csrf": csrf2, "decision": str(decision.id),
                                                           "note": "agreed"})
    assert done.status_code == 303
    [confirmation] = Review(store).confirmations("cand-a0")
    assert (confirmation.decision_id, confirmation.decided_by, confirmation.confirmed_by) == (
        decision.id, "recruiter", "recruiter2")
    [entry] = AuditLog(store).entries(event="review.confirmed")
    assert entry.actor == "reviewer:recruiter2" and entry.payload["role"] == "recruiter"
    assert "Waiting for a second person" not in client.get(f"/w/cases/{rec_id}").text
    assert AuditLog(store).verify().ok


def test_a_second_person_refuses_to_confirm_an_override_with_a_reason(client, staff, store, recs):
    csrf, rec_id, decision = _overridden_by_recruiter(client, staff, store, recs)
    own = client.post(f"/w/cases/{rec_id}/refuse", data={"csrf": csrf, "decision": str(decision.id), "reason": "x"})
    assert own.status_code == 400 and "a second person confirms or refuses it" in own.text
    csrf2 = signed_in_as(client, staff, "recruiter2")
    assert "Refuse to confirm" in client.get(f"/w/cases/{rec_id}").text
    empty = client.post(f"/w/cases/{rec_id}/refuse", data={"csrf": csrf2, "decision": str(decision.id), "reason": ""})
    assert empty.status_code == 400 and "needs a reason" in empty.text and Review(store).refusals() == []
    forged = client.post(f"/w/cases/{rec_id}/refuse", data={"csrf": "forged", "decision": str(decision.id),
                                                            "reason": "no"})
    assert forged.status_code == 403 and Review(store).refusals() == []
    done = client.post(f"/w/cases/{rec_id}/refuse", data={"csrf": csrf2, "decision": str(decision.id),
                                                          "reason": HOSTILE})
    assert done.status_code == 303 and "done=refusal-" in done.headers["location"]
    [refusal] = Review(store).refusals("cand-a0")
    assert (refusal.decision_id, refusal.decided_by, refusal.refused_by, refusal.reason) == (
        decision.id, "recruiter", "recruiter2", HOSTILE.strip())
    [entry] = AuditLog(store).entries(event="review.confirmation_refused")
    assert entry.actor == "reviewer:recruiter2" and entry.payload["role"] == "recruiter"
    page = client.get(f"/w/cases/{rec_id}").text
    assert "Not confirmed:" in page and "<script>alert(1)" not in page
    assert html.escape(HOSTILE.strip(), quote=False)[:40] in page
    assert "Waiting for a second person" not in page and "Record the decision" in page  # to be decided again
    assert "Overrides waiting for a second person (0)" in client.get("/w/queue").text
    assert f"/w/cases/{rec_id}" in client.get("/w/queue").text
    again = _decide(client, csrf2, rec_id, decision="do_not_use", reason="data_error", note="answers mixed up")
    assert again.status_code == 303
    assert [d.decision for d in Review(store).decisions("cand-a0")] == ["override", "do_not_use"]
    assert "Record the decision" not in client.get(f"/w/cases/{rec_id}").text
    decisions = list(csv.DictReader(io.StringIO(client.get(f"/w/cases/{rec_id}/decisions.csv").text)))
    assert [(r["kind"], r["reviewer"], r["refused_by"]) for r in decisions] == [
        ("override", "recruiter", "recruiter2"), ("do_not_use", "recruiter2", "")]
    assert decisions[0]["refusal_reason"] == HOSTILE.strip()  # no formula start: the text as written
    history = list(csv.DictReader(io.StringIO(client.get(f"/w/cases/{rec_id}/history.csv").text)))
    assert [r["event"] for r in history if r["event"].startswith("review.")] == [
        "review.requested", "review.decision", "review.confirmation_refused", "review.decision"]
    assert client.get(f"/w/cases/{rec_id}/secrets.csv").status_code == 404
    assert AuditLog(store).verify().ok
