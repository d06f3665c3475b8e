"""Signed checkpoints of the audit log's head: what shows that the log was not cut short or rewritten.

A hash chain shows an edit anywhere but at its end: whoever can write to the database can remove the last
entries, or rewrite every entry from some point on with fresh hashes. A *checkpoint* is the head of the log
(its last entry's ``seq`` and ``entry_hash``) with the time, signed with a key the database does not hold.
:meth:`~profiler.store.audit_log.AuditLog.verify` checks the chain against every checkpoint: a log that
ends before a checkpoint's entry was cut short; one whose entry differs from the signed hash was rewritten.

Keys
----
``ed25519:<base64 of the 32-byte private key>`` (or a PEM file of it): a signature anyone can check with the
public key, ``ed25519:<base64 of the 32-byte public key>``, which may be published. Needs the ``cryptography``
package (``pip install 'profiler-psychometrics[signing]'``). ``hmac-sha256:<base64 of 32 bytes or more>``: the simple
option, in the standard library; the same secret signs and checks, so whoever checks can also forge.

The signing key comes from ``$PROFILER_AUDIT_KEY`` (the text) or ``$PROFILER_AUDIT_KEY_FILE`` (a file); the keys
trusted to check from ``$PROFILER_AUDIT_TRUSTED_KEYS`` (texts separated by spaces, commas or new lines) or
``$PROFILER_AUDIT_TRUSTED_KEYS_FILE`` (one per line, ``#`` comments), plus the signing key's own. Never from
the database: a key stored beside the log would protect nothing. A key's text is never printed.

Each checkpoint is a row of ``audit_checkpoints`` and an ``audit.checkpoint`` entry of the log (written
together, the entry after the head it signs), so a deleted checkpoint row is named by ``verify``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select

from profiler.canonical import canonical_json, parse_utc_text, utc_text
from profiler.errors import ProfilerError
from profiler.store.tables import audit_checkpoints

CHECKPOINT_FORMAT = "profiler.audit-checkpoint/1"
HEAD_FORMAT = "profiler.audit-head/1"
KEY_ENV, KEY_FILE_ENV = "PROFILER_AUDIT_KEY", "PROFILER_AUDIT_KEY_FILE"
TRUSTED_ENV, TRUSTED_FILE_ENV = "PROFILER_AUDIT_TRUSTED_KEYS", "PROFILER_AUDIT_TRUSTED_KEYS_FILE"
ALGORITHMS = ("ed25519", "hmac-sha256")
MIN_HMAC_BYTES = 32
MAX_KEY_FILE = 64 * 1024
_SEPARATORS = re.compile(r"[\s,]+")


class AnchorError(ProfilerError, ValueError):
    """A signing or trusted key that cannot be used (malformed, unknown algorithm, missing package), or a
    checkpoint that cannot be written or read (an empty log, an exported head that is not one)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise AnchorError(f"{what}: the key after the algorithm is not base64") from None


def _ed25519():
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:
        raise AnchorError("Ed25519 keys need the cryptography package: pip install 'profiler-psychometrics[signing]' "
                          "(or use an hmac-sha256 key)") from None
    return ed25519


@dataclass(frozen=True)
class TrustedKey:
    """A key that checks checkpoints: an Ed25519 public key, or an HMAC secret (then ``public`` is False)."""

    algorithm: str
    key_id: str
    material: bytes = field(repr=False)

    @property
    def public(self) -> bool:
        """Whether the key may be published (Ed25519); an HMAC key is a secret."""
        return self.algorithm == "ed25519"

    def text(self) -> str:
        """``ed25519:<base64>``, to publish and to trust elsewhere (refused for an HMAC secret)."""
        if not self.public:
            raise AnchorError("an hmac-sha256 key is a secret: it has no public form")
        return f"ed25519:{_b64(self.material)}"

    def verify(self, message: bytes, signature: str) -> bool:
        try:
            raw = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            return False
        if self.algorithm == "hmac-sha256":
            return hmac.compare_digest(raw, hmac.new(self.material, message, hashlib.sha256).digest())
        ed25519 = _ed25519()
        from cryptography.exceptions import InvalidSignature

        try:
            ed25519.Ed25519PublicKey.from_public_bytes(self.material).verify(raw, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class SigningKey:
    """A key that signs checkpoints (never printed: ``repr`` shows its id only)."""

    algorithm: str
    key_id: str
    material: bytes = field(repr=False)

    def sign(self, message: bytes) -> str:
        if self.algorithm == "hmac-sha256":
            return _b64(hmac.new(self.material, message, hashlib.sha256).digest())
        return _b64(_ed25519().Ed25519PrivateKey.from_private_bytes(self.material).sign(message))

    def trusted(self) -> TrustedKey:
        """The key that checks this key's signatures."""
        if self.algorithm == "hmac-sha256":
            return TrustedKey(self.algorithm, self.key_id, self.material)
        return TrustedKey(self.algorithm, self.key_id, _public_bytes(self.material))


def _public_bytes(private: bytes) -> bytes:
    from cryptography.hazmat.primitives import serialization

    public = _ed25519().Ed25519PrivateKey.from_private_bytes(private).public_key()
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _key_id(algorithm: str, public_material: bytes) -> str:
    """A short name of a key: of the public key (Ed25519), or a one-way tag of the secret (HMAC)."""
    salt = b"profiler audit key id\x00" if algorithm == "hmac-sha256" else b""
    return f"{algorithm}:{hashlib.sha256(salt + public_material).hexdigest()[:16]}"


def parse_signing_key(text: str, *, where: str = "the signing key") -> SigningKey:
    """A signing key from its text: ``ed25519:<base64 32 bytes>``, ``hmac-sha256:<base64>``, or an Ed25519
    private key in PEM (PKCS #8). Errors never quote the key."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        from cryptography.hazmat.primitives import serialization

        ed25519 = _ed25519()
        try:
            key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        except (ValueError, TypeError, UnicodeEncodeError):
            raise AnchorError(f"{where}: not an unencrypted PEM private key") from None
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise AnchorError(f"{where}: a PEM key of another kind than Ed25519")
        raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
        return SigningKey("ed25519", _key_id("ed25519", _public_bytes(raw)), raw)
    algorithm, _, encoded = text.partition(":")
    if algorithm not in ALGORITHMS or not encoded:
        raise AnchorError(f"{where}: expected ed25519:<base64> or hmac-sha256:<base64> (or a PEM file)")
    raw = _unb64(encoded, where)
    if algorithm == "ed25519":
        if len(raw) != 32:
            raise AnchorError(f"{where}: an Ed25519 private key is 32 bytes, got {len(raw)}")
        return SigningKey(algorithm, _key_id(algorithm, _public_bytes(raw)), raw)
    if len(raw) < MIN_HMAC_BYTES:
        raise AnchorError(f"{where}: an HMAC key needs at least {MIN_HMAC_BYTES} random bytes, got {len(raw)}")
    return SigningKey(algorithm, _key_id(algorithm, raw), raw)


def parse_trusted_key(text: str, *, where: str = "a trusted key") -> TrustedKey:
    """A key that checks: ``ed25519:<base64 of the 32-byte public key>`` or ``hmac-sha256:<base64>``."""
    algorithm, _, encoded = text.strip().partition(":")
    if algorithm not in ALGORITHMS or not encoded:
        raise AnchorError(f"{where}: expected ed25519:<base64 public key> or hmac-sha256:<base64>")
    raw = _unb64(encoded, where)
    if algorithm == "ed25519" and len(raw) != 32:
        raise AnchorError(f"{where}: an Ed25519 public key is 32 bytes, got {len(raw)}")
    if algorithm == "hmac-sha256" and len(raw) < MIN_HMAC_BYTES:
        raise AnchorError(f"{where}: an HMAC key needs at least {MIN_HMAC_BYTES} bytes, got {len(raw)}")
    return TrustedKey(algorithm, _key_id(algorithm, raw), raw)


def _read_key_file(path: str | os.PathLike[str], what: str) -> str:
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_KEY_FILE + 1)
    except OSError as exc:
        raise AnchorError(f"cannot read {what} {path}: {exc.strerror}") from None
    if len(data) > MAX_KEY_FILE:
        raise AnchorError(f"{what} {path} is larger than {MAX_KEY_FILE:,} bytes: not a key file")
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise AnchorError(f"{what} {path} is not text (a key file holds ed25519:..., hmac-sha256:... or PEM)") from None


def signing_key(path: str | os.PathLike[str] | None = None,
                environ: Mapping[str, str] | None = None) -> SigningKey | None:
    """The signing key: from ``path``, else ``$PROFILER_AUDIT_KEY``, else ``$PROFILER_AUDIT_KEY_FILE``; None when
    none is configured."""
    environ = os.environ if environ is None else environ
    if path is not None:
        return parse_signing_key(_read_key_file(path, "the key file"), where=f"the key file {path}")
    if environ.get(KEY_ENV):
        return parse_signing_key(environ[KEY_ENV], where=f"${KEY_ENV}")
    if environ.get(KEY_FILE_ENV):
        file = environ[KEY_FILE_ENV]
        return parse_signing_key(_read_key_file(file, "the key file"), where=f"the key file {file}")
    return None


def trusted_keys(path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None,
                 signing: SigningKey | None = None) -> dict[str, TrustedKey]:
    """The keys trusted to check checkpoints, by key id: from ``path`` (one per line), ``$PROFILER_AUDIT_TRUSTED_KEYS``,
    ``$PROFILER_AUDIT_TRUSTED_KEYS_FILE``, and the signing key's own. Keep retired keys listed: the checkpoints
    they signed stay checkable."""
    environ = os.environ if environ is None else environ
    texts: list[tuple[str, str]] = []
    files = [(path, "the trusted keys file")] if path is not None else []
    if environ.get(TRUSTED_FILE_ENV):
        files.append((environ[TRUSTED_FILE_ENV], f"${TRUSTED_FILE_ENV}"))
    for file, what in files:
        for number, line in enumerate(_read_key_file(file, what).splitlines(), start=1):
            line = line.split("#", 1)[0].strip()
            if line:
                texts.append((line, f"{file}, line {number}"))
    for number, word in enumerate(_SEPARATORS.split(environ.get(TRUSTED_ENV, "")), start=1):
        if word:
            texts.append((word, f"${TRUSTED_ENV}, key {number}"))
    found = {key.key_id: key for key in (parse_trusted_key(text, where=where) for text, where in texts)}
    if signing is not None:
        found.setdefault(signing.key_id, signing.trusted())
    return found


def generate_key(algorithm: str = "ed25519") -> str:
    """A new signing key's text (keep it secret; for Ed25519, publish ``parse_signing_key(text).trusted().text()``)."""
    if algorithm == "hmac-sha256":
        return f"hmac-sha256:{_b64(secrets.token_bytes(32))}"
    if algorithm != "ed25519":
        raise AnchorError(f"unknown algorithm {algorithm!r}; use one of {', '.join(ALGORITHMS)}")
    from cryptography.hazmat.primitives import serialization

    key = _ed25519().Ed25519PrivateKey.generate()
    return "ed25519:" + _b64(key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                               serialization.NoEncryption()))


# Checkpoints ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Checkpoint:
    """A signed head of the log.

    Attributes
    ----------
    id : int or None
        The row of ``audit_checkpoints`` (None for one read from an exported head).
    seq, entry_hash : int, str
        The head it signs.
    created_at : str
        UTC text, as signed.
    algorithm, key_id, signature : str
    log_seq : int or None
        The ``audit.checkpoint`` entry that records it.
    """

    id: int | None
    seq: int
    entry_hash: str
    created_at: str
    algorithm: str
    key_id: str
    signature: str
    log_seq: int | None = None

    def message(self) -> bytes:
        """The bytes signed: canonical JSON of the format, head, time and key id."""
        return canonical_json({"format": CHECKPOINT_FORMAT, "seq": self.seq, "entry_hash": self.entry_hash,
                               "created_at": self.created_at, "key_id": self.key_id}).encode("utf-8")

    @property
    def time(self) -> datetime:
        return parse_utc_text(self.created_at)

    def check(self, keys: Mapping[str, TrustedKey]) -> str | None:
        """None if the signature holds under a trusted key; what is wrong otherwise."""
        key = keys.get(self.key_id)
        if key is None:
            return f"signed by key {self.key_id}, which is not among the trusted keys"
        if key.algorithm != self.algorithm or not key.verify(self.message(), self.signature):
            return "its signature does not hold (forged or edited)"
        return None

    def head(self, store_name: str, key: TrustedKey | None = None) -> dict[str, Any]:
        """The exported head: what to publish or keep in write-once storage."""
        document = {"format": HEAD_FORMAT, "store": store_name, "seq": self.seq, "entry_hash": self.entry_hash,
                    "created_at": self.created_at, "algorithm": self.algorithm, "key_id": self.key_id,
                    "signature": self.signature, "checkpoint": self.id}
        if key is not None and key.public:
            document["public_key"] = key.text()
        return document

    def describe(self) -> str:
        return f"checkpoint {self.id} of {self.created_at} (entry {self.seq}, key {self.key_id})"


def create_checkpoint(connection: Connection, key: SigningKey, at: tuple[int, str]) -> Checkpoint:
    """Sign the head before ``at`` (the next seq and the hash it links to, from ``lock_head``) and store the row;
    the caller writes the ``audit.checkpoint`` entry at ``at`` in the same transaction."""
    seq, head_hash = at[0] - 1, at[1]
    if seq < 1:
        raise AnchorError("the audit log is empty: there is no head to sign")
    unsigned = Checkpoint(None, seq, head_hash, utc_text(datetime.now(UTC)), key.algorithm, key.key_id, "")
    signature = key.sign(unsigned.message())
    row_id = connection.execute(insert(audit_checkpoints).values(
        seq=seq, entry_hash=head_hash, created_at=unsigned.created_at, algorithm=key.algorithm, key_id=key.key_id,
        signature=signature, log_seq=at[0])).inserted_primary_key[0]
    return Checkpoint(row_id, seq, head_hash, unsigned.created_at, key.algorithm, key.key_id, signature, at[0])


def checkpoints(connection: Connection) -> list[Checkpoint]:
    """Every stored checkpoint, oldest first."""
    rows = connection.execute(select(audit_checkpoints).order_by(audit_checkpoints.c.id)).all()
    return [Checkpoint(r.id, r.seq, r.entry_hash, r.created_at, r.algorithm, r.key_id, r.signature, r.log_seq)
            for r in rows]


def read_head(path: str | os.PathLike[str]) -> Checkpoint:
    """A checkpoint from an exported head (``profiler audit export-head``)."""
    text = _read_key_file(path, "the exported head")
    try:
        data = json.loads(text)
        if data.get("format") != HEAD_FORMAT:
            raise ValueError
        found = Checkpoint(data.get("checkpoint"), int(data["seq"]), str(data["entry_hash"]), str(data["created_at"]),
                           str(data["algorithm"]), str(data["key_id"]), str(data["signature"]))
        found.time  # noqa: B018 - the time must parse
    except (ValueError, KeyError, TypeError, AttributeError):
        raise AnchorError(f"{path} is not an exported head of the audit log ({HEAD_FORMAT})") from None
    return found


def check_checkpoints(found: list[Checkpoint], hashes: Mapping[int, str], head: int,
                      keys: Mapping[str, TrustedKey], logged: Iterable[tuple[int, int]], *,
                      compare: bool = True) -> list[str]:
    """What is wrong with the log given its checkpoints: each signature (when keys are trusted), each signed
    head against the chain (with ``compare``; ``hashes``: the entry hash at each checkpoint's seq; ``head``: the
    last entry), and each checkpoint against the ``audit.checkpoint`` entries (``logged``: (entry seq, row id))."""
    problems = []
    for checkpoint in found:
        what = checkpoint.describe()
        if keys:
            wrong = checkpoint.check(keys)
            if wrong is not None:
                problems.append(f"{what}: {wrong}")
                continue
        if not compare:
            continue
        if checkpoint.seq > head:
            problems.append(f"the log ends at entry {head}, but {what} signed entry {checkpoint.seq}: entries were "
                            f"removed from its end (truncated)")
        elif hashes.get(checkpoint.seq) != checkpoint.entry_hash:
            problems.append(f"entry {checkpoint.seq} is not the one {what} signed: the log was rewritten up to there")
    rows = {c.id for c in found}
    for entry_seq, row_id in logged:
        if row_id not in rows:
            problems.append(f"checkpoint {row_id}, recorded by log entry {entry_seq}, is missing (deleted)")
    return problems


__all__ = [
    "ALGORITHMS", "AnchorError", "Checkpoint", "SigningKey", "TrustedKey", "check_checkpoints", "checkpoints",
    "create_checkpoint", "generate_key", "parse_signing_key", "parse_trusted_key", "read_head", "signing_key",
    "trusted_keys",
]
