"""Webhooks: a vendor is told when an invitation's session is completed and assessed, and when a person decides.

**Queue.** :func:`enqueue` reads the audit log for the entries that matter (``scoring.recommendation``: the
finished session is assessed and its result can be read; ``review.decision``: a person decided;
``review.confirmation_refused``: a second person refused to confirm an override, which then does not stand) about
candidates whose invitation has a ``callback_url``, and writes one delivery per (invitation, entry), its body
fixed then. The log is the outbox: nothing is lost if the server stops between the entry and its delivery, and
the unique (invitation, entry) pair keeps a second pass from queueing it twice.

**Body** (JSON, thin: the result itself is read with the API, under the key's scopes)::

    {"id": "whd_...", "type": "session.completed", "created_at": "...",
     "invitation": {"id": "inv_...", "candidate_reference": "...", "href": "/api/v1/invitations/inv_..."}}

``decision.made`` adds ``"decision": {"decision", "outcome", "stage", "reviewer_role", "decided_at"}`` (the
reviewer's role, never their name). ``decision.not_confirmed`` adds ``"refusal": {"reviewer_role",
"refused_at"}``: the override the vendor was told of with ``decision.made`` does not stand, and the case waits for
a new decision (the refusal's reason is the candidate's record, read in the workspace, not sent).

**Signature.** Each request carries ``Profiler-Delivery`` (the delivery id: the receiver's de-duplication key,
the same on every retry), ``Profiler-Event``, ``Profiler-Timestamp`` (Unix seconds of this attempt) and
``Profiler-Signature: v1=<hex>``, the HMAC-SHA256 of ``"<timestamp>.<body>"`` under the client's webhook
secret. The secret is derived from the server's key and the client's id (:func:`webhook_secret`), so the
database holds no secret; ``profiler api client secret ID`` prints it. A receiver checks the signature and
refuses a timestamp more than five minutes away (:func:`verify_signature`).

**Delivery.** :func:`send_due` posts each due delivery (no redirects followed, 10 s timeout); a 2xx answer
delivers it; anything else is retried after 10 s, 1 min, 5 min, 30 min, 2 h, 6 h, 12 h and 24 h, then the
delivery is ``failed``. Every attempt is kept (``webhook_attempts``: when, status code or error, duration). A
delivery is claimed before it is posted (its next attempt moved past a lease), so two senders never post it
at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update

from profiler.integration.invitations import as_utc
from profiler.integration.keys import SecretKey, random_id
from profiler.store.audit_log import AuditEvent, lock_head
from profiler.store.store import Store
from profiler.store.tables import audit_log, invitations, webhook_attempts, webhook_deliveries

EVENTS = {AuditEvent.RECOMMENDATION.value: "session.completed", AuditEvent.DECISION.value: "decision.made",
          AuditEvent.CONFIRMATION_REFUSED.value: "decision.not_confirmed"}
BACKOFF_SECONDS = (10, 60, 300, 1800, 7200, 21600, 43200, 86400)
MAX_ATTEMPTS = len(BACKOFF_SECONDS) + 1
LEASE = timedelta(seconds=60)  # a claimed delivery is not posted again for this long (longer than the timeout)
TIMEOUT_SECONDS = 10.0
TOLERANCE_SECONDS = 300
PURPOSE = "webhook-secret"
SECRET_PREFIX = "whsec_"


@dataclass(frozen=True)
class Delivery:
    """A webhook delivery as logged: ``status`` pending, delivered or failed."""

    id: str
    invitation_id: str
    client_id: str | None
    event_type: str
    url: str
    body: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    last_status_code: int | None
    last_error: str | None


@dataclass(frozen=True)
class Attempt:
    attempt: int
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float


def webhook_secret(key: SecretKey, client_id: str | None) -> str:
    """The secret that signs a client's webhooks (invitations made without a client share the operator's)."""
    return SECRET_PREFIX + key.sign(PURPOSE, client_id or "operator")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``v1=<hex>``: HMAC-SHA256 of ``b"<timestamp>." + body`` under ``secret``."""
    digest = hmac.new(secret.encode("utf-8"), str(timestamp).encode("ascii") + b"." + body, hashlib.sha256)
    return "v1=" + digest.hexdigest()


def verify_signature(secret: str, timestamp: str, body: bytes, signature_header: str, *,
                     now: float | None = None, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a receiver does: the signature matches and the timestamp is within ``tolerance`` seconds of now."""
    try:
        moment = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - moment) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, moment, body), signature_header or "")


def enqueue(store: Store, *, api_prefix: str = "/api/v1") -> int:
    """Queue a delivery for every new log entry a vendor is told about; returns how many were queued."""
    now = datetime.now(UTC)
    with store.read() as connection:  # most passes find nothing new: they need no write lock
        if not _new_entries(connection):
            return 0
    with store.write() as connection:
        lock_head(connection)  # one writer: a concurrent pass waits, then finds the deliveries queued
        rows = _new_entries(connection)
        queued = 0
        for row in rows:
            known = connection.execute(select(webhook_deliveries.c.id).where(
                webhook_deliveries.c.invitation_id == row.id, webhook_deliveries.c.audit_seq == row.seq)).first()
            if known is not None:
                continue
            delivery_id = random_id("whd", 16)
            body = _body(delivery_id, row, now, api_prefix)
            connection.execute(insert(webhook_deliveries).values(
                id=delivery_id, invitation_id=row.id, candidate_id=row.candidate_id, client_id=row.client_id,
                event_type=EVENTS[row.event], audit_seq=row.seq, url=row.callback_url, body=body, status="pending",
                attempts=0, next_attempt_at=now, created_at=now))
            queued += 1
    return queued


def _new_entries(connection: Any) -> list[Any]:
    """Log entries after the last one queued that a vendor is told about, with their invitation."""
    cursor = connection.execute(select(func.max(webhook_deliveries.c.audit_seq))).scalar() or 0
    return connection.execute(
        select(audit_log.c.seq, audit_log.c.event, audit_log.c.payload, audit_log.c.recorded_at,
               invitations.c.id, invitations.c.candidate_id, invitations.c.client_id,
               invitations.c.reference, invitations.c.callback_url)
        .join(invitations, invitations.c.candidate_id == audit_log.c.candidate_id)
        .where(audit_log.c.seq > cursor, audit_log.c.event.in_(tuple(EVENTS)),
               invitations.c.callback_url.is_not(None))
        .order_by(audit_log.c.seq)).all()


def _body(delivery_id: str, row: Any, now: datetime, api_prefix: str) -> str:
    document: dict[str, Any] = {
        "id": delivery_id, "type": EVENTS[row.event], "created_at": now.isoformat().replace("+00:00", "Z"),
        "invitation": {"id": row.id, "candidate_reference": row.reference,
                       "href": f"{api_prefix}/invitations/{row.id}"}}
    if row.event == AuditEvent.DECISION.value:
        payload = json.loads(row.payload)
        document["decision"] = {"decision": payload.get("kind"), "outcome": payload.get("outcome"),
                                "stage": payload.get("stage"), "reviewer_role": payload.get("role"),
                                "decided_at": row.recorded_at}
    elif row.event == AuditEvent.CONFIRMATION_REFUSED.value:
        document["refusal"] = {"reviewer_role": json.loads(row.payload).get("role"), "refused_at": row.recorded_at}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


Post = Callable[[str, bytes, dict[str, str], float], int]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is an answer like any other non-2xx: the delivery is retried, never sent elsewhere


def http_post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST with the standard library; the status code (an HTTP error's too). Raises OSError when unreachable."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=timeout) as response:
            response.read(65536)
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def send_due(store: Store, key: SecretKey, *, post: Post = http_post, now: Callable[[], datetime] | None = None,
             limit: int = 100) -> list[Delivery]:
    """Post every delivery that is due (at most ``limit``); returns them as they stand afterwards."""
    clock = now or (lambda: datetime.now(UTC))
    moment = clock()
    with store.read() as connection:
        due = connection.execute(select(webhook_deliveries.c.id).where(
            webhook_deliveries.c.status == "pending", webhook_deliveries.c.next_attempt_at <= moment)
            .order_by(webhook_deliveries.c.next_attempt_at, webhook_deliveries.c.id).limit(limit)).scalars().all()
    done = []
    for delivery_id in due:
        claimed = _claim(store, delivery_id, clock())
        if claimed is not None:
            done.append(_attempt(store, key, claimed, post, clock))
    return done


def _claim(store: Store, delivery_id: str, moment: datetime) -> Delivery | None:
    with store.write() as connection:
        taken = connection.execute(update(webhook_deliveries).where(
            webhook_deliveries.c.id == delivery_id, webhook_deliveries.c.status == "pending",
            webhook_deliveries.c.next_attempt_at <= moment).values(next_attempt_at=moment + LEASE)).rowcount
        if not taken:
            return None  # another sender has it
        return _delivery(connection.execute(select(webhook_deliveries).where(
            webhook_deliveries.c.id == delivery_id)).mappings().one())


def _attempt(store: Store, key: SecretKey, delivery: Delivery, post: Post, clock: Callable[[], datetime]) -> Delivery:
    body = delivery.body.encode("utf-8")
    timestamp = int(clock().timestamp())
    headers = {"Content-Type": "application/json", "User-Agent": "profiler-webhooks",
               "Profiler-Delivery": delivery.id, "Profiler-Event": delivery.event_type,
               "Profiler-Timestamp": str(timestamp),
               "Profiler-Signature": signature(webhook_secret(key, delivery.client_id), timestamp, body)}
    started = time.perf_counter()
    status_code, error = None, None
    try:
        status_code = post(delivery.url, body, headers, TIMEOUT_SECONDS)
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except Exception as exc:  # noqa: BLE001 - any failure to deliver (refused, DNS, TLS, timeout) is retried
        error = f"{type(exc).__name__}: {exc}"[:500]
    duration_ms = (time.perf_counter() - started) * 1000
    moment = clock()
    attempt = delivery.attempts + 1
    if error is None:
        values: dict[str, Any] = {"status": "delivered", "delivered_at": moment, "next_attempt_at": None}
    elif attempt >= MAX_ATTEMPTS:
        values = {"status": "failed", "next_attempt_at": None}
    else:
        values = {"next_attempt_at": moment + timedelta(seconds=BACKOFF_SECONDS[attempt - 1])}
    with store.write() as connection:
        connection.execute(insert(webhook_attempts).values(
            delivery_id=delivery.id, attempt=attempt, attempted_at=moment, status_code=status_code, error=error,
            duration_ms=duration_ms))
        connection.execute(update(webhook_deliveries).where(webhook_deliveries.c.id == delivery.id).values(
            attempts=attempt, last_status_code=status_code, last_error=error, **values))
        return _delivery(connection.execute(select(webhook_deliveries).where(
            webhook_deliveries.c.id == delivery.id)).mappings().one())


def deliver(store: Store, key: SecretKey, *, post: Post = http_post, api_prefix: str = "/api/v1") -> list[Delivery]:
    """One pass of the sender: queue what is new in the log, then post what is due."""
    enqueue(store, api_prefix=api_prefix)
    return send_due(store, key, post=post)


def deliveries(store: Store, *, client_id: str | None = None, invitation_id: str | None = None,
               status: str | None = None, limit: int = 100) -> list[Delivery]:
    """The delivery log, newest first, optionally of one client, invitation or status."""
    conditions = [c for c in (
        None if client_id is None else webhook_deliveries.c.client_id == client_id,
        None if invitation_id is None else webhook_deliveries.c.invitation_id == invitation_id,
        None if status is None else webhook_deliveries.c.status == status) if c is not None]
    with store.read() as connection:
        rows = connection.execute(select(webhook_deliveries).where(*conditions)
                                  .order_by(webhook_deliveries.c.created_at.desc(), webhook_deliveries.c.id)
                                  .limit(limit)).mappings().all()
    return [_delivery(row) for row in rows]


def attempts_of(store: Store, delivery_id: str) -> list[Attempt]:
    with store.read() as connection:
        rows = connection.execute(select(webhook_attempts).where(webhook_attempts.c.delivery_id == delivery_id)
                                  .order_by(webhook_attempts.c.attempt)).mappings().all()
    return [Attempt(row["attempt"], as_utc(row["attempted_at"]), row["status_code"], row["error"], row["duration_ms"])
            for row in rows]



def _delivery(row: Any) -> Delivery:
    return Delivery(row["id"], row["invitation_id"], row["client_id"], row["event_type"], row["url"], row["body"],
                    row["status"], row["attempts"], as_utc(row["next_attempt_at"]), as_utc(row["created_at"]),
                    as_utc(row["delivered_at"]), row["last_status_code"], row["last_error"])
