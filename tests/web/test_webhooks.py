"""Webhooks on SQLite and PostgreSQL: queued from the audit log once, signed, retried with backoff, logged; the
receiver example of docs/web.md verifies the signatures the server makes."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import HTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from profiler.integration.clients import create_client
from profiler.integration.webhooks import (
    BACKOFF_SECONDS,
    MAX_ATTEMPTS,
    attempts_of,
    deliver,
    deliveries,
    enqueue,
    send_due,
    signature,
    verify_signature,
    webhook_secret,
)
from profiler.oversight import Review, erase_candidate
from profiler.pipeline.invitations import create_invitation
from profiler.web.api import WebhookEvent
from profiler.web.app import create_app
from profiler.web.settings import WebSettings
from tests.web.test_api import headers, take

DOCS = Path(__file__).resolve().parents[2] / "docs" / "web.md"


def receiver_example() -> dict:
    """The receiver of docs/web.md, executed as written."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)
    [code] = [b for b in blocks if "class Hook" in b]
    namespace: dict = {}
    exec(compile(code, "docs/web.md", "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace


@pytest.fixture
def receiver():
    """The docs' receiver on a loopback port, in a thread."""
    example = receiver_example()
    example["Hook"].log_message = lambda *args: None  # quiet
    server = HTTPServer(("127.0.0.1", 0), example["Hook"])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    example["url"] = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield example
    server.shutdown()
    server.server_close()


@pytest.fixture
def vendor(store):
    return create_client(store, "Example ATS", ["invitations:read", "webhooks:read"], actor="ops")


def invite(store, key, vendor, url: str):
    return create_invitation(store, key, "customer-support", reference="ATS-9", callback_url=url,
                             client_id=vendor.client.id).invitation


class Recorder:
    """A stand-in for the network: answers with the given status codes in turn, records every request."""

    def __init__(self, *codes: int):
        self.codes, self.requests = list(codes), []

    def __call__(self, url, body, request_headers, timeout):
        self.requests.append((url, body, request_headers))
        code = self.codes.pop(0) if self.codes else 200
        if code == 0:
            raise ConnectionRefusedError("connection refused")
        return code


def test_completion_and_decision_reach_the_docs_receiver_signed(store, key, vendor, receiver):
    receiver["SECRET"] = webhook_secret(key, vendor.client.id)
    invitation = invite(store, key, vendor, receiver["url"])
    assert deliver(store, key) == []  # nothing to say yet
    take(store, invitation.id)
    [sent] = deliver(store, key)
    assert sent.status == "delivered" and sent.event_type == "session.completed"
    [event] = receiver["received"]
    assert event == {"id": sent.id, "type": "session.completed", "created_at": event["created_at"],
                     "invitation": {"id": invitation.id, "candidate_reference": "ATS-9",
                                    "href": f"/api/v1/invitations/{invitation.id}"}}
    review = Review(store)
    [case] = review.pending()
    review.decide(case.id, "override", outcome="not_advance", reason="other", note="checked", reviewer="jdoe",
                  role="hiring_manager")
    [decided] = deliver(store, key)
    assert decided.status == "delivered" and decided.event_type == "decision.made"
    decision = receiver["received"][1]["decision"]
    assert decision["decision"] == "override" and decision["outcome"] == "not_advance"
    assert decision["reviewer_role"] == "hiring_manager" and "jdoe" not in json.dumps(receiver["received"])
    assert deliver(store, key) == [] and enqueue(store) == 0  # each entry once
    # A second person refuses to confirm the override: the vendor is told it does not stand (not why, nor who).
    review.refuse_confirmation(review.decisions(case.candidate)[-1].id, reviewer="lee", role="recruiter",
                               reason="The note does not say which evidence outweighs the score.")
    [refused] = deliver(store, key)
    assert refused.status == "delivered" and refused.event_type == "decision.not_confirmed"
    third = receiver["received"][2]
    assert third["type"] == "decision.not_confirmed" and third["refusal"]["reviewer_role"] == "recruiter"
    assert "decision" not in third and "lee" not in json.dumps(third) and "evidence" not in json.dumps(third)
    assert [c.candidate for c in review.pending()] == [case.candidate]  # waiting for a new decision
    for body in receiver["received"]:  # as the OpenAPI document describes them (its webhooks section)
        assert WebhookEvent.model_validate(body).model_dump(exclude_none=True) == {
            k: v for k, v in body.items() if v is not None}


def test_the_docs_receiver_refuses_a_forged_stale_or_foreign_signature(key, vendor, receiver):
    secret = webhook_secret(key, vendor.client.id)
    receiver["SECRET"] = secret
    body = b'{"id":"whd_x"}'
    now = int(time.time())
    verify = receiver["verify"]

    def request_headers(ts, sig):
        return {"Profiler-Timestamp": str(ts), "Profiler-Signature": sig}

    assert verify(secret, request_headers(now, signature(secret, now, body)), body)
    assert verify_signature(secret, str(now), body, signature(secret, now, body))
    assert not verify(secret, request_headers(now, signature(secret, now, body + b" ")), body)  # body changed
    assert not verify(secret, request_headers(now - 301, signature(secret, now - 301, body)), body)  # too old
    other = webhook_secret(key, "cli_someone_else")
    assert other != secret and not verify(secret, request_headers(now, signature(other, now, body)), body)
    assert not verify_signature(secret, "yesterday", body, signature(secret, now, body))
    # By hand: HMAC-SHA256 over "<timestamp>.<body>".
    import hashlib
    import hmac
    assert signature("k", 1700000000, b"{}") == "v1=" + hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()


def test_failures_are_retried_with_backoff_then_given_up(store, key, vendor):
    invitation = invite(store, key, vendor, "https://ats.example/hook")
    take(store, invitation.id)
    assert enqueue(store) == 1
    start = datetime.now(UTC)
    network = Recorder(*([500, 0, 302] + [503] * MAX_ATTEMPTS))
    clock = [start]
    [first] = send_due(store, key, post=network, now=lambda: clock[0])
    assert first.status == "pending" and first.attempts == 1 and first.last_status_code == 500
    assert first.next_attempt_at == start + timedelta(seconds=BACKOFF_SECONDS[0])
    clock[0] = start + timedelta(seconds=BACKOFF_SECONDS[0] - 1)
    assert send_due(store, key, post=network, now=lambda: clock[0]) == []  # not due yet
    for attempt in range(2, MAX_ATTEMPTS + 1):
        clock[0] = clock[0] + timedelta(seconds=BACKOFF_SECONDS[attempt - 2] + 1)
        [again] = send_due(store, key, post=network, now=lambda: clock[0])
        assert again.attempts == attempt
    assert again.status == "failed" and again.next_attempt_at is None
    clock[0] += timedelta(days=30)
    assert send_due(store, key, post=network, now=lambda: clock[0]) == []
    log = attempts_of(store, first.id)
    assert [a.attempt for a in log] == list(range(1, MAX_ATTEMPTS + 1))
    assert (log[0].status_code, log[1].status_code, log[1].error) == (500, None,
                                                                      "ConnectionRefusedError: connection refused")
    assert log[2].status_code == 302 and log[2].error == "HTTP 302"  # a redirect is not followed
    # Every attempt carries the same delivery id and a fresh, valid signature.
    secret = webhook_secret(key, vendor.client.id)
    ids = {h["Profiler-Delivery"] for _, _, h in network.requests}
    assert ids == {first.id} and len(network.requests) == MAX_ATTEMPTS
    for _, body, sent in network.requests:
        assert signature(secret, int(sent["Profiler-Timestamp"]), body) == sent["Profiler-Signature"]


def test_two_senders_post_a_delivery_once(store, key, vendor):
    invitation = invite(store, key, vendor, "https://ats.example/hook")
    take(store, invitation.id)
    enqueue(store)
    calls = []

    def slow(url, body, request_headers, timeout):
        calls.append(request_headers["Profiler-Delivery"])
        time.sleep(0.3)
        return 204

    threads = [threading.Thread(target=send_due, args=(store, key), kwargs={"post": slow}) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    [delivery] = deliveries(store)
    assert delivery.status == "delivered" and len(attempts_of(store, delivery.id)) == 1


def test_the_delivery_log_over_the_api_and_erasure(store, key, vendor):
    invitation = invite(store, key, vendor, "https://ats.example/hook")
    take(store, invitation.id)
    enqueue(store)
    send_due(store, key, post=Recorder(500))
    other = create_client(store, "Other", ["webhooks:read"], actor="ops")
    with TestClient(create_app(store, key)) as api:
        [logged] = api.get("/api/v1/webhooks/deliveries", headers=headers(vendor, None)).json()
        assert logged["status"] == "pending" and logged["event_type"] == "session.completed"
        assert [a["status_code"] for a in logged["attempts"]] == [500]
        assert logged["body"]["invitation"]["id"] == invitation.id
        assert api.get("/api/v1/webhooks/deliveries", headers=headers(other, None)).json() == []
        filtered = api.get("/api/v1/webhooks/deliveries?status=delivered", headers=headers(vendor, None)).json()
        assert filtered == []
        bad = api.get("/api/v1/webhooks/deliveries?status=lost", headers=headers(vendor, None))
        assert bad.status_code == 422 and bad.json()["field"] == "status"
    erase_candidate(store, invitation.candidate_id, actor="dpo", reason="erasure request")
    assert deliveries(store) == []


def test_the_server_sends_webhooks_itself(store, key, vendor, receiver):
    receiver["SECRET"] = webhook_secret(key, vendor.client.id)
    invitation = invite(store, key, vendor, receiver["url"])
    with TestClient(create_app(store, key, WebSettings(webhook_interval=0.05))):
        take(store, invitation.id)
        deadline = time.monotonic() + 20
        while not receiver["received"] and time.monotonic() < deadline:
            time.sleep(0.05)
    assert [e["type"] for e in receiver["received"]] == ["session.completed"]
