"""Vendors' API clients: a name, scopes, and a key stored only as an argon2 hash.

A key reads ``pk_<client id>.<secret>``: the id part finds the client, the secret is checked against its
argon2id hash (:mod:`argon2`, RFC 9106's low-memory profile). The key is shown once, when the client is
created; a lost key is replaced by creating a new client and revoking the old one. A verified key is
remembered for a minute (by its SHA-256, in this process only) so that a burst of requests does not pay for
argon2 each time; the client's row is read on every request, so a revocation takes effect at once.

Creating and revoking a client are logged (``api_client.created``, ``api_client.revoked``) with who did it,
the client's name and scopes, never the key or its hash.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select, update

from profiler.integration.errors import IntegrationError
from profiler.integration.invitations import as_utc
from profiler.integration.keys import random_id
from profiler.store.audit_log import AuditLog, lock_head
from profiler.store.store import Store
from profiler.store.tables import api_clients

SCOPES = {
    "invitations:write": "create and withdraw invitations",
    "invitations:read": "read invitations' status and results (scores, recommendation, report links)",
    "webhooks:read": "read the webhook delivery log",
}
KEY_PREFIX = "pk_"
CACHE_SECONDS = 60.0
CREATED_EVENT = "api_client.created"
REVOKED_EVENT = "api_client.revoked"


@dataclass(frozen=True)
class ApiClient:
    """A vendor's client: ``scopes`` it may use; ``revoked_at`` set once its key no longer works."""

    id: str
    name: str
    scopes: tuple[str, ...]
    created_by: str
    created_at: datetime
    revoked_at: datetime | None

    def allows(self, scope: str) -> bool:
        return self.revoked_at is None and scope in self.scopes


@dataclass(frozen=True)
class NewClient:
    """A client just created and its key (shown once, never stored)."""

    client: ApiClient
    key: str


def _hasher():
    from argon2 import PasswordHasher
    from argon2.profiles import RFC_9106_LOW_MEMORY

    return PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)


def create_client(store: Store, name: str, scopes: list[str] | tuple[str, ...], *, actor: str) -> NewClient:
    """Create an API client with a new key (returned once, in :attr:`NewClient.key`).

    Raises
    ------
    IntegrationError
        An empty name, or an unknown scope (naming it and the scopes there are).
    """
    if not isinstance(name, str) or not name.strip() or len(name) > 200 or not name.isprintable():
        raise IntegrationError("an API client needs a name of 1 to 200 printable characters", field="name")
    if isinstance(scopes, str):
        scopes = [scopes]
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise IntegrationError(f"unknown scope(s) {', '.join(unknown) or '(none given)'}; scopes: "
                               f"{', '.join(SCOPES)}", field="scopes")
    client_id = random_id("cli", 12)
    secret = secrets.token_urlsafe(32)
    chosen = sorted(set(scopes))
    row = dict(id=client_id, name=name, key_hash=_hasher().hash(secret), scopes=json.dumps(chosen),
               created_by=actor, created_at=datetime.now(UTC), revoked_at=None)
    log = AuditLog(store)

    def work(connection) -> None:
        lock_head(connection)
        connection.execute(insert(api_clients).values(**row))
        log.append(CREATED_EVENT, {"client": client_id, "name": name, "scopes": chosen}, actor=actor,
                   connection=connection)

    log.transaction(work)
    return NewClient(_client(row), f"{KEY_PREFIX}{client_id}.{secret}")


def revoke_client(store: Store, client_id: str, *, actor: str, reason: str) -> ApiClient:
    """Stop a client's key from working (at once in every process: each request reads the client's row).

    Raises
    ------
    IntegrationError
        No client of that id, one already revoked, or no reason given.
    """
    if not isinstance(reason, str) or not reason.strip():
        raise IntegrationError("give the reason for revoking the client's key", field="reason")
    log = AuditLog(store)

    def work(connection) -> None:
        lock_head(connection)
        done = connection.execute(update(api_clients).where(api_clients.c.id == client_id,
                                                            api_clients.c.revoked_at.is_(None))
                                  .values(revoked_at=datetime.now(UTC))).rowcount
        if not done:
            raise IntegrationError(f"no active API client {client_id!r}", field="client_id", code="not_found")
        log.append(REVOKED_EVENT, {"client": client_id, "reason": reason}, actor=actor, connection=connection)

    log.transaction(work)
    return get_client(store, client_id)


def get_client(store: Store, client_id: str) -> ApiClient:
    """The client with this id (revoked or not).

    Raises
    ------
    IntegrationError
        ``code="not_found"``.
    """
    with store.read() as connection:
        row = connection.execute(select(api_clients).where(api_clients.c.id == client_id)).mappings().first()
    if row is None:
        raise IntegrationError(f"no API client {client_id!r}", field="client_id", code="not_found")
    return _client(row)


def list_clients(store: Store) -> list[ApiClient]:
    with store.read() as connection:
        return [_client(row) for row in connection.execute(select(api_clients).order_by(api_clients.c.created_at))
                .mappings()]


class KeyChecker:
    """Checks presented keys against the store, remembering good ones briefly (see the module docstring)."""

    def __init__(self, store: Store, *, cache_seconds: float = CACHE_SECONDS):
        self.store = store
        self.cache_seconds = cache_seconds
        self._good: dict[str, tuple[str, float]] = {}  # sha256 of the key -> (client id, until)
        self._lock = threading.Lock()

    def client(self, key: str) -> ApiClient | None:
        """The active client whose key this is, or None (unknown client, wrong secret, revoked)."""
        if not isinstance(key, str) or not key.startswith(KEY_PREFIX) or "." not in key or len(key) > 200:
            return None
        client_id, secret = key[len(KEY_PREFIX):].split(".", 1)
        with self.store.read() as connection:
            row = connection.execute(select(api_clients).where(api_clients.c.id == client_id)).mappings().first()
        if row is None or row["revoked_at"] is not None:
            return None
        digest = hashlib.sha256(key.encode()).hexdigest()
        now = time.monotonic()
        with self._lock:
            cached = self._good.get(digest)
        if cached is not None and cached[1] > now and hmac.compare_digest(cached[0], client_id):
            return _client(row)
        try:
            _hasher().verify(row["key_hash"], secret)
        except Exception:  # noqa: BLE001 - argon2's mismatch and malformed-hash errors alike: not this key
            return None
        with self._lock:
            self._good[digest] = (client_id, now + self.cache_seconds)
        return _client(row)



def _client(row) -> ApiClient:
    return ApiClient(row["id"], row["name"], tuple(json.loads(row["scopes"])), row["created_by"],
                     as_utc(row["created_at"]), as_utc(row["revoked_at"]))
