"""Keyed digests of personal rows: what the log records about an identity or demographics row.

The log must let :meth:`~profiler.store.audit_log.AuditLog.verify` detect an edited identity or set of
protected attributes, yet outlive the row: a plain SHA-256 of ``{"sex": "female"}`` would let anyone test
guesses against it after an erasure. So each such row gets a random 256-bit key (column ``digest_key``), and
the log records ``HMAC-SHA256(key, row)``. Editing the row (or its key) no longer matches the digest in the
hash-chained log; erasure deletes the row *with its key*, after which the digest says nothing about the person.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from profiler.canonical import canonical_json

PREFIX = "hmac-sha256:"


def new_digest_key() -> str:
    """A fresh random key (64 hex digits) for one row."""
    return secrets.token_hex(32)


def keyed_digest(key: str, content: dict[str, Any]) -> str:
    """``hmac-sha256:`` + hex HMAC-SHA256 of the canonical JSON of ``content`` under ``key`` (hex)."""
    mac = hmac.new(bytes.fromhex(key), canonical_json(content).encode("utf-8"), hashlib.sha256)
    return PREFIX + mac.hexdigest()


def identity_content(candidate_id: str, name: str | None, email: str | None, details: str) -> dict[str, Any]:
    """What an identity row's digest covers (``details`` as stored: canonical JSON text)."""
    return {"candidate": candidate_id, "name": name, "email": email, "details": details}


def demographics_content(candidate_id: str, attributes: str, source: str) -> dict[str, Any]:
    """What a demographics row's digest covers (``attributes`` as stored: canonical JSON text)."""
    return {"candidate": candidate_id, "attributes": attributes, "source": source}


def row_digest(key: str | None, content: dict[str, Any]) -> str | None:
    """The digest of a stored row (None for a row written before schema version 5, which has no key)."""
    if key is None:
        return None
    try:
        return keyed_digest(key, content)
    except ValueError:  # a key that is not hex: edited
        return PREFIX + "invalid-key"


__all__ = ["PREFIX", "demographics_content", "identity_content", "keyed_digest", "new_digest_key", "row_digest"]
