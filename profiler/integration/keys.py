"""The server's secret key and what it signs: invitation links, form tokens, cookies, webhook secrets.

One random key (at least 32 bytes) signs everything with HMAC-SHA256, each use under its own purpose so
that a signature made for one purpose is worthless for another. Nothing signed is stored: an invitation's
link is its random id plus the signature, recomputed whenever it is needed, so the database holds no
usable link. Rotating the key invalidates every outstanding link and every webhook secret derived from it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from profiler.integration.errors import IntegrationError

ENV_VARIABLE = "PROFILER_SECRET_KEY"
MIN_BYTES = 32
SIGNATURE_CHARS = 43  # the whole HMAC-SHA256 in unpadded base64url


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def random_id(prefix: str, nbytes: int = 16) -> str:
    """``prefix`` + ``_`` + ``nbytes`` random bytes in base64url: unguessable, safe in a URL."""
    return f"{prefix}_{_b64(secrets.token_bytes(nbytes))}"


class SecretKey:
    """The server's signing key.

    Parameters
    ----------
    key : bytes
        At least 32 random bytes.

    Examples
    --------
    >>> key = SecretKey(bytes(range(32)))
    >>> signature = key.sign("invitation", "inv_abc")
    >>> key.verify("invitation", "inv_abc", signature), key.verify("csrf", "inv_abc", signature)
    (True, False)
    """

    def __init__(self, key: bytes):
        if not isinstance(key, bytes | bytearray) or len(key) < MIN_BYTES:
            raise IntegrationError(f"the secret key must be at least {MIN_BYTES} random bytes", field="secret_key")
        self._key = bytes(key)

    def __repr__(self) -> str:
        return "SecretKey(<hidden>)"

    @classmethod
    def generate(cls) -> SecretKey:
        return cls(secrets.token_bytes(MIN_BYTES))

    @classmethod
    def from_text(cls, text: str) -> SecretKey:
        """A key written as hex or base64url text (as :meth:`to_text` writes it, or ``openssl rand -hex 32``)."""
        text = text.strip()
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            try:
                raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            except ValueError:
                raise IntegrationError("the secret key is neither hex nor base64url text", field="secret_key") from None
        return cls(raw)

    def to_text(self) -> str:
        return self._key.hex()

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None, *, create: bool = True) -> SecretKey:
        """The key from the environment variable ``PROFILER_SECRET_KEY``, else from ``path``.

        A missing file is created with a new random key, readable by its owner only (``create=True``).

        Raises
        ------
        IntegrationError
            No key in the environment and no ``path``; a missing file with ``create=False``; a malformed key.
        """
        text = os.environ.get(ENV_VARIABLE)
        if text:
            return cls.from_text(text)
        if path is None:
            raise IntegrationError(f"no secret key: set {ENV_VARIABLE} or give a key file", field="secret_key")
        path = Path(path)
        if not path.exists():
            if not create:
                raise IntegrationError(f"no secret key file at {path}", field="secret_key")
            key = cls.generate()
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(key.to_text() + "\n")
            return key
        return cls.from_text(path.read_text(encoding="ascii"))

    def sign(self, purpose: str, value: str) -> str:
        """The base64url HMAC-SHA256 of ``value`` for ``purpose``."""
        message = purpose.encode("utf-8") + b"\0" + value.encode("utf-8")
        return _b64(hmac.new(self._key, message, hashlib.sha256).digest())

    def verify(self, purpose: str, value: str, signature: str) -> bool:
        """Whether ``signature`` is :meth:`sign` of ``value`` for ``purpose`` (constant-time comparison)."""
        if not isinstance(signature, str) or len(signature) != SIGNATURE_CHARS:
            return False
        return hmac.compare_digest(self.sign(purpose, value), signature)

    def token(self, purpose: str, value: str) -> str:
        """``value.signature``: a value that carries its own proof of origin."""
        return f"{value}.{self.sign(purpose, value)}"

    def open_token(self, purpose: str, token: str) -> str | None:
        """The value of a :meth:`token` for ``purpose``; None when it is malformed or not signed by this key."""
        if not isinstance(token, str) or token.count(".") != 1 or len(token) > 200:
            return None
        value, signature = token.split(".")
        return value if value and self.verify(purpose, value, signature) else None
