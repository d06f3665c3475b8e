"""The vendors' API (/api/v1) on SQLite and PostgreSQL: keys and scopes, invitations, idempotency, problems naming
the field with nothing half-written, results checked by hand against the norms, reports, the OpenAPI document."""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from scipy import stats
from sqlalchemy import func, select

import profiler
from profiler.cli import main as cli
from profiler.integration.clients import create_client, revoke_client
from profiler.integration.invitations import get_invitation
from profiler.oversight import AuditLog, Review
from profiler.pipeline.answering import act, current_session
from profiler.pipeline.invitations import Organisation, consent_notice, give_consent, open_invitation
from profiler.store.tables import api_clients, audit_log, candidates, idempotency_keys, invitations
from profiler.web.app import create_app
from profiler.web.security import REPORT_CSP

PROJECT = Path(__file__).resolve().parents[2]
BODY = {"job_model": "customer-support", "candidate_reference": "ATS-1", "callback_url": "https://ats.example/hook"}


@pytest.fixture
def vendor(store):
    """A client with both invitation scopes."""
    return create_client(store, "Example ATS", ["invitations:write", "invitations:read"], actor="ops")


@pytest.fixture
def api(store, key):
    with TestClient(create_app(store, key), base_url="https://assess.example") as client:
        yield client


def headers(new, idempotency: str | None = "k-1") -> dict[str, str]:
    found = {"Authorization": f"Bearer {new.key}"}
    if idempotency is not None:
        found["Idempotency-Key"] = idempotency
    return found


def counts(store) -> dict[str, int]:
    with store.read() as connection:
        return {t.name: connection.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (invitations, candidates, audit_log, idempotency_keys)}


def take(store, invitation_id: str) -> int:
    """Consent and answer every item through the pipeline (item i gets option i % 5 + 1), then finish."""
    invitation = get_invitation(store, invitation_id)
    invitation = give_consent(store, invitation, consent_notice(invitation, Organisation(), store))
    answered = 0
    while (prompt := (session := current_session(store, invitation)).current()) is not None:
        assert act(store, invitation, "answer", seq=session.seq, item=prompt.item_id,
                   typed=str(answered % 5 + 1)).status == "recorded"
        answered += 1
    assert act(store, invitation, "finish", seq=session.seq).status == "finished"
    return answered


def test_create_an_invitation_whose_link_works(api, store, key, vendor):
    response = api.post("/api/v1/invitations", json=BODY, headers=headers(vendor))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "created" and body["candidate_reference"] == "ATS-1" and body["result"] is None
    assert body["job_model"] == "customer-support" and body["questionnaire"] == "ipip-bfm-50"
    assert response.headers["location"] == f"/api/v1/invitations/{body['id']}"
    assert body["url"].startswith("https://assess.example/i/")
    opened = open_invitation(store, key, body["url"].rsplit("/", 1)[1])
    assert opened.id == body["id"] and opened.client_id == vendor.client.id
    assert opened.callback_url == "https://ats.example/hook"
    [entry] = [e for e in AuditLog(store) if e.event == "invitation.created"]
    assert entry.actor == f"api:{vendor.client.id}"


def test_a_retried_post_does_its_work_once(api, store, vendor):
    first = api.post("/api/v1/invitations", json=BODY, headers=headers(vendor))
    before = counts(store)
    again = api.post("/api/v1/invitations", json=BODY, headers=headers(vendor))
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"] and "idempotent-replayed" not in first.headers
    assert counts(store) == before
    other = api.post("/api/v1/invitations", json={**BODY, "candidate_reference": "ATS-2"}, headers=headers(vendor))
    assert other.status_code == 409 and other.json()["field"] == "Idempotency-Key"
    assert counts(store) == before
    # A key is the client's own: another client's same key is a new request.
    second = create_client(store, "Other ATS", ["invitations:write"], actor="ops")
    assert api.post("/api/v1/invitations", json=BODY, headers=headers(second)).json()["id"] != first.json()["id"]


def test_concurrent_retries_with_one_key_create_one_invitation(api, store, vendor):
    results: list[int] = []

    def post() -> None:
        results.append(api.post("/api/v1/invitations", json=BODY, headers=headers(vendor, "same")).status_code)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [201] * 6
    assert counts(store)["invitations"] == 1 and counts(store)["idempotency_keys"] == 1


@pytest.mark.parametrize("change, field", [
    ({"job_model": "astronaut"}, "job_model"),
    ({"callback_url": "ftp://ats.example/hook"}, "callback_url"),
    ({"language": "tlh"}, "language"),
    ({"expires_in_days": 0}, "expires_in_days"),
    ({"expires_in_days": "14"}, "expires_in_days"),  # strict: no silent conversion
    ({"time_multiplier": 0.5}, "time_multiplier"),
    ({"candidate_reference": "x" * 201}, "candidate_reference"),
    ({"colour": "blue"}, "colour"),
])
def test_bad_input_is_a_problem_naming_the_field_and_writes_nothing(api, store, vendor, change, field):
    before = counts(store)
    response = api.post("/api/v1/invitations", json={**BODY, **change}, headers=headers(vendor))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422 and problem["code"] == "invalid" and problem["field"] == field
    assert field in {e["field"] for e in problem["errors"]}
    assert counts(store) == before
    # The failure was not remembered: the same key with a good body now works.
    assert api.post("/api/v1/invitations", json=BODY, headers=headers(vendor)).status_code == 201


def test_a_post_without_an_idempotency_key_or_with_broken_json_is_refused(api, store, vendor):
    before = counts(store)
    missing = api.post("/api/v1/invitations", json=BODY, headers=headers(vendor, None))
    assert missing.status_code == 422 and missing.json()["field"] == "Idempotency-Key"
    broken = api.post("/api/v1/invitations", content=b"{not json", headers={**headers(vendor),
                                                                         "Content-Type": "application/json"})
    assert broken.status_code == 422 and "not valid JSON" in broken.json()["detail"]
    assert counts(store) == before


def test_keys_and_scopes(api, store, vendor):
    assert api.get("/api/v1/job-models").status_code == 401
    anonymous = api.post("/api/v1/invitations", json=BODY, headers={"Idempotency-Key": "k"})
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Bearer")
    assert anonymous.json()["field"] == "Authorization"
    client_id, secret = vendor.key.split(".", 1)
    wrong = secret[:5] + ("B" if secret[5] == "A" else "A") + secret[6:]
    forged = api.get("/api/v1/job-models", headers={"Authorization": f"Bearer {client_id}.{wrong}"})
    assert forged.status_code == 401
    reader = create_client(store, "Reporting", ["invitations:read"], actor="ops")
    refused = api.post("/api/v1/invitations", json=BODY, headers=headers(reader))
    assert refused.status_code == 403 and "invitations:write" in refused.json()["detail"]
    models = api.get("/api/v1/job-models", headers=headers(vendor)).json()
    assert {m["id"] for m in models} == set(profiler.bundled_job_models())
    revoke_client(store, vendor.client.id, actor="ops", reason="key leaked")
    assert api.get("/api/v1/job-models", headers=headers(vendor)).status_code == 401
    with store.read() as connection:  # only the argon2 hash is stored
        stored = connection.execute(select(api_clients.c.key_hash)).scalars().all()
    assert all(h.startswith("$argon2id$") and secret not in h for h in stored)


def test_failed_keys_are_rate_limited_per_address(api, vendor):
    bad = {"Authorization": "Bearer pk_cli_nobody.nothing"}
    assert [api.get("/api/v1/job-models", headers=bad).status_code for _ in range(10)] == [401] * 10
    limited = api.get("/api/v1/job-models", headers=headers(vendor))  # even a good key, from this address
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.json()["code"] == "rate_limited"


def test_a_client_reads_only_its_own_invitations(api, store, vendor):
    created = api.post("/api/v1/invitations", json=BODY, headers=headers(vendor)).json()
    other = create_client(store, "Other ATS", ["invitations:read", "invitations:write"], actor="ops")
    for path in (f"/api/v1/invitations/{created['id']}", f"/api/v1/invitations/{created['id']}/reports/recruiter"):
        response = api.get(path, headers=headers(other))
        assert response.status_code == 404 and response.json()["field"] == "invitation_id"
    revoke = api.post(f"/api/v1/invitations/{created['id']}/revoke", json={"reason": "filled"},
                      headers=headers(other))
    assert revoke.status_code == 404
    assert api.get("/api/v1/invitations/inv_doesnotexist", headers=headers(vendor)).status_code == 404


def test_revoke_stops_the_link_once(api, store, key, vendor):
    created = api.post("/api/v1/invitations", json=BODY, headers=headers(vendor)).json()
    path = f"/api/v1/invitations/{created['id']}/revoke"
    done = api.post(path, json={"reason": "position filled"}, headers=headers(vendor, "r-1"))
    assert done.status_code == 200 and done.json()["status"] == "revoked"
    again = api.post(path, json={"reason": "position filled"}, headers=headers(vendor, "r-1"))
    assert again.headers["idempotent-replayed"] == "true"
    assert sum(e.event == "invitation.revoked" for e in AuditLog(store)) == 1
    with pytest.raises(profiler.ProfilerError):
        open_invitation(store, key, created["url"].rsplit("/", 1)[1])
    missing = api.post(path, json={}, headers=headers(vendor, "r-2"))
    assert missing.status_code == 422 and missing.json()["field"] == "reason"


def test_the_result_of_an_assessed_invitation(api, store, vendor):
    created = api.post("/api/v1/invitations", json=BODY, headers=headers(vendor)).json()
    url = f"/api/v1/invitations/{created['id']}"
    assert api.get(f"{url}/reports/recruiter", headers=headers(vendor)).status_code == 404  # not assessed yet
    assert take(store, created["id"]) == 50
    view = api.get(url, headers=headers(vendor)).json()
    assert view["status"] == "assessed" and view["completed_at"] is not None
    result = view["result"]
    jm = profiler.load_job_model("customer-support")
    q = jm.questionnaire
    answers = {item: i % 5 + 1 for i, item in enumerate(current_session(
        store, get_invitation(store, created["id"])).order)}
    z90, z95 = stats.norm.ppf(0.95), stats.norm.ppf(0.975)
    assert [s["scale"] for s in result["scores"]] == [s.id for s in q.spec.scales]
    for scale, score in zip(q.spec.scales, result["scores"], strict=True):
        # By hand: the mean of the keyed answers (reversed: 6 - x), T = 50 + 10 z against the norm group,
        # bands T +- z * SEM on the T scale, SEM = SD sqrt(1 - reliability).
        raw = sum(6 - answers[k[1:]] if k.startswith("-") else answers[k] for k in scale.keys) / len(scale.keys)
        norm = jm.norms.scale(scale.id)
        t = 50 + 10 * (raw - norm.mean) / norm.sd
        sem_t = 10 * norm.sd * math.sqrt(1 - norm.reliability.value) / norm.sd
        assert score["raw"] == pytest.approx(raw, abs=1e-12) and score["T"] == pytest.approx(t, abs=1e-9)
        assert score["sem"] == pytest.approx(norm.sd * math.sqrt(1 - norm.reliability.value), abs=1e-12)
        assert score["band_90_T"] == pytest.approx([t - z90 * sem_t, t + z90 * sem_t], abs=1e-9)
        assert score["band_95_T"] == pytest.approx([t - z95 * sem_t, t + z95 * sem_t], abs=1e-9)
        assert score["items_answered"] == score["items_total"] == 10
    rec = result["recommendation"]
    assert rec["base_value"] + math.fsum(c["contribution"] for c in rec["contributions"]) == pytest.approx(
        rec["score"], abs=1e-9)
    assert rec["band"] == "review" and rec["reasons"] and rec["job_model"]["job_model_hash"] == jm.content_hash
    assert result["validity"]["verdict"] in ("valid", "questionable", "invalid")
    assert result["review"] == {"state": "awaiting review", "decision": None,
                                "contest_days": Review(store).settings.contest_days}
    # A person decides: the result says so.
    review = Review(store)
    [case] = review.pending()
    review.decide(case.id, "override", outcome="not_advance", reason="other", note="checked", reviewer="jdoe",
                  role="hiring_manager")
    decided = api.get(url, headers=headers(vendor)).json()["result"]["review"]
    assert decided["state"] == "decided" and decided["decision"]["outcome"] == "not_advance"
    assert decided["decision"]["reviewer_role"] == "hiring_manager"
    # The report links work with the key, as self-contained HTML under the reports' policy.
    for audience in ("recruiter", "candidate"):
        link = result["reports"][audience]
        assert link == f"https://assess.example{url}/reports/{audience}"
        report = api.get(link, headers=headers(vendor))
        assert report.status_code == 200 and report.headers["content-security-policy"] == REPORT_CSP
        assert "<html" in report.text and created["candidate_id"] in report.text
        assert api.get(link).status_code == 401


def test_the_openapi_document_is_served_and_committed(api):
    """docs/openapi-v1.json is what the app serves; regenerate it with
    ``profiler api openapi > docs/openapi-v1.json`` after changing the API."""
    served = api.get("/api/v1/openapi.json").json()
    committed = json.loads((PROJECT / "docs" / "openapi-v1.json").read_text(encoding="utf-8"))
    assert served == committed
    assert set(committed["paths"]) >= {"/invitations", "/invitations/{invitation_id}",
                                       "/invitations/{invitation_id}/revoke"}
    post = committed["paths"]["/invitations"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in post["parameters"])
    assert "application/problem+json" in post["responses"]["422"]["content"]
    assert set(committed["webhooks"]) == {"session.completed", "decision.made", "decision.not_confirmed"}


def test_the_cli_creates_lists_and_revokes_clients(store_location, capsys):
    assert cli(["api", "client", "create", "Example ATS", "--scope", "invitations:read", "--db",
                store_location, "--actor", "ops"]) == 0
    out = capsys.readouterr().out
    key = out.strip().splitlines()[-1]
    client_id = key[len("pk_"):].split(".")[0]
    assert cli(["api", "client", "list", "--db", store_location]) == 0
    assert client_id in capsys.readouterr().out
    assert cli(["api", "client", "create", "x", "--scope", "everything", "--db", store_location]) == 2
    assert "unknown scope(s) everything" in capsys.readouterr().err
    assert cli(["api", "client", "revoke", client_id, "--reason", "rotated", "--db", store_location]) == 0
    assert "revoked" in capsys.readouterr().out
    assert cli(["api", "openapi"]) == 0
    assert capsys.readouterr().out == (PROJECT / "docs" / "openapi-v1.json").read_text(encoding="utf-8")
