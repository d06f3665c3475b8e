"""Idempotency keys: a POST retried with the same ``Idempotency-Key`` does its work once.

The key is remembered per API client with the hash of the request (method, path and body) and what the work
produced: a small JSON reference (the invitation's id), never the response itself, so that nothing personal is
kept where erasure would not find it; the caller renders the response again from what the reference names.
:func:`run_once` writes the work and the remembered reference in one transaction, after the log's write lock is
taken, so two concurrent requests with one key do the work once, and a failure remembers nothing: the retry runs
afresh. The same key with a different request is refused (``code="conflict"``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select

from profiler.canonical import sha256_text
from profiler.integration.errors import IntegrationError
from profiler.store.audit_log import AuditLog, lock_head
from profiler.store.store import Store
from profiler.store.tables import idempotency_keys

KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII without spaces, as in the IETF draft


@dataclass(frozen=True)
class Remembered:
    status_code: int
    response: str


def check_key(key: object) -> str:
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise IntegrationError("the Idempotency-Key header is required on every POST: 1 to 255 printable "
                               "characters, e.g. a UUID", field="Idempotency-Key")
    return key


def request_hash(method: str, path: str, body: bytes) -> str:
    return sha256_text(f"{method.upper()} {path}\n" + body.decode("utf-8", "replace"))


def recall(connection: Connection, client_id: str, key: str, digest: str) -> Remembered | None:
    """The response remembered for this key (None: a new key). Raises on the same key with another request."""
    row = connection.execute(select(idempotency_keys).where(idempotency_keys.c.client_id == client_id,
                                                            idempotency_keys.c.key == key)).mappings().first()
    if row is None:
        return None
    if row["request_hash"] != digest:
        raise IntegrationError("this Idempotency-Key was used for a different request", field="Idempotency-Key",
                               code="conflict")
    return Remembered(row["status_code"], row["response"])


def remember(connection: Connection, client_id: str, key: str, *, method: str, path: str, digest: str,
             status_code: int, response: str) -> None:
    connection.execute(insert(idempotency_keys).values(
        client_id=client_id, key=key, method=method.upper(), path=path, request_hash=digest, status_code=status_code,
        response=response, created_at=datetime.now(UTC)))


def run_once(store: Store, client_id: str, key: str, *, method: str, path: str, body: bytes,
             work: Callable[[Connection], tuple[int, str]]) -> tuple[Remembered, bool]:
    """Do ``work`` once per (client, key): the first time, in one transaction with the remembered result.

    ``work(connection)`` does the request's writes in the given write transaction and returns the status code and
    the reference to remember. Returns what was remembered and whether it is a replay (True: nothing was done).

    Raises
    ------
    IntegrationError
        A malformed key (``field="Idempotency-Key"``), or the key used before for another request
        (``code="conflict"``); whatever ``work`` raises (then nothing is written).
    """
    key = check_key(key)
    digest = request_hash(method, path, body)

    def transaction(connection: Connection) -> tuple[Remembered, bool]:
        lock_head(connection)  # one writer at a time: a concurrent retry waits and then finds the first's result
        found = recall(connection, client_id, key, digest)
        if found is not None:
            return found, True
        status_code, response = work(connection)
        remember(connection, client_id, key, method=method, path=path, digest=digest, status_code=status_code,
                 response=response)
        return Remembered(status_code, response), False

    return AuditLog(store).transaction(transaction)
