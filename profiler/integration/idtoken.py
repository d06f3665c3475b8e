"""ID tokens of an OpenID Connect provider: a signed JWT (compact JWS), checked against the provider's keys.

What :func:`validate_id_token` checks, in this order (OpenID Connect Core 1.0, section 3.1.3.7):

1. The form: three base64url parts, a JSON header without ``crit``, a JSON object of claims.
2. The algorithm: RS256, PS256, ES256 or EdDSA (Ed25519) only. ``none`` and every HMAC algorithm are refused
   before any key is looked at, so that a provider's public key can never serve as an HMAC secret (the classic
   confusion).
3. The key: the JWKS entry with the header's ``kid`` whose type fits the algorithm (RSA of 2048 bits or more
   for RS256 and PS256, EC P-256 for ES256, OKP Ed25519 for EdDSA; a ``use`` other than ``sig`` or an ``alg``
   other than the header's is never used; an RSA key that names no ``alg`` serves RS256 and PS256). An unknown
   ``kid`` reloads the provider's keys once (they rotate), then fails.
4. The signature (``cryptography``): RSASSA-PKCS1-v1_5 with SHA-256 (RS256); RSASSA-PSS with SHA-256, MGF1
   with SHA-256 and a 32-byte salt (PS256, RFC 7518 3.5); ECDSA P-256 with SHA-256 over the 64-byte ``r || s``
   of JWS (ES256); Ed25519 (EdDSA, RFC 8037).
5. The claims: ``iss`` is the issuer exactly; ``aud`` is or contains the client id, and with several
   audiences ``azp`` is the client id (``azp``, when present, always is); ``exp`` has not passed, ``iat`` is
   not in the future and ``nbf`` (when present) has come, each with :data:`LEEWAY` for clocks that differ;
   ``nonce`` is the one sent with this sign-in (compared in constant time); ``sub`` is present.

Each refusal is an :class:`IdTokenError` whose ``code`` says which check failed (for the log); its message
never quotes the token.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from profiler.integration.errors import IntegrationError

ALGORITHMS = ("RS256", "PS256", "ES256", "EdDSA")
LEEWAY = timedelta(seconds=60)
MIN_RSA_BITS = 2048
MAX_TOKEN = 16_384  # characters; an ID token is a few hundred to a few thousand
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


class IdTokenError(IntegrationError):
    """An ID token that is refused. ``code``: ``malformed``, ``algorithm``, ``unknown_key``, ``signature``,
    ``issuer``, ``audience``, ``expired``, ``not_yet_valid``, ``issued_in_future`` or ``nonce``."""


def b64url_decode(text: str) -> bytes:
    """Unpadded base64url (RFC 7515), strictly: any other character is refused."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise IdTokenError("not base64url text", code="malformed")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise IdTokenError("not base64url text", code="malformed") from None


def json_object(data: bytes) -> dict[str, Any]:
    """``data`` decoded as a JSON object; ValueError saying "JSON" or "a JSON object" (what it is not) otherwise.

    Shared by the token's parts and the provider's answers, which word the refusal in their own error.
    """
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ValueError("JSON") from None
    if not isinstance(value, dict):
        raise ValueError("a JSON object")
    return value


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        return json_object(data)
    except ValueError as exc:
        raise IdTokenError(f"the token's {what} is not {exc}", code="malformed") from None


@dataclass(frozen=True)
class Jwk:
    """A provider's public signing key: its ``kid`` (may be None), the algorithm it serves, the key object."""

    kid: str | None
    alg: str
    key: Any  # cryptography's RSAPublicKey, EllipticCurvePublicKey or Ed25519PublicKey


def _integer(value: object) -> int:
    return int.from_bytes(b64url_decode(value if isinstance(value, str) else ""), "big")


def _jwks_of(entry: Mapping[str, Any]) -> list[Jwk]:
    """The signing keys of one JWKS entry, one per algorithm it serves; none for a key this module does not use
    (encryption, HMAC, a small RSA key, another curve, ...)."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if entry.get("use", "sig") != "sig" or ("key_ops" in entry and "verify" not in (entry["key_ops"] or [])):
        return []
    kid = entry.get("kid") if isinstance(entry.get("kid"), str) else None
    alg, kty = entry.get("alg"), entry.get("kty")
    try:
        if kty == "RSA" and alg in (None, "RS256", "PS256"):
            key = rsa.RSAPublicNumbers(_integer(entry.get("e")), _integer(entry.get("n"))).public_key()
            served = ("RS256", "PS256") if alg is None else (alg,)
            return [Jwk(kid, a, key) for a in served] if key.key_size >= MIN_RSA_BITS else []
        if kty == "EC" and entry.get("crv") == "P-256" and alg in (None, "ES256"):
            x, y = b64url_decode(str(entry.get("x", ""))), b64url_decode(str(entry.get("y", "")))
            if len(x) != 32 or len(y) != 32:
                return []
            numbers = ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1())
            return [Jwk(kid, "ES256", numbers.public_key())]  # refuses a point off the curve
        if kty == "OKP" and entry.get("crv") == "Ed25519" and alg in (None, "EdDSA"):
            x = b64url_decode(str(entry.get("x", "")))
            return [Jwk(kid, "EdDSA", ed25519.Ed25519PublicKey.from_public_bytes(x))] if len(x) == 32 else []
    except (IdTokenError, ValueError):
        return []
    return []


def parse_jwks(document: object) -> list[Jwk]:
    """The signing keys of a JWKS document (``{"keys": [...]}``) that :func:`validate_id_token` can use."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise IdTokenError("the provider's JWKS has no list of keys", code="malformed")
    return [key for entry in document["keys"] if isinstance(entry, dict) for key in _jwks_of(entry)]


def _select(keys: Sequence[Jwk], header: Mapping[str, Any]) -> Jwk | None:
    kid, alg = header.get("kid"), header["alg"]
    fitting = [k for k in keys if k.alg == alg]
    if kid is not None:
        return next((k for k in fitting if k.kid == kid), None)
    return fitting[0] if len(fitting) == 1 else None  # no kid: only an unambiguous key


def _verify_signature(key: Jwk, signing_input: bytes, signature: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    try:
        if key.alg == "RS256":
            key.key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        elif key.alg == "PS256":  # RFC 7518 3.5: MGF1 with the same hash, a salt as long as the hash
            key.key.verify(signature, signing_input, padding.PSS(padding.MGF1(hashes.SHA256()), salt_length=32),
                           hashes.SHA256())
        elif key.alg == "EdDSA":
            key.key.verify(signature, signing_input)
        else:
            if len(signature) != 64:  # JWS carries r || s, 32 bytes each for P-256
                return False
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            key.key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def _time(claims: Mapping[str, Any], name: str, *, required: bool) -> datetime | None:
    value = claims.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise IdTokenError(f"the token's {name!r} is not a time", code="malformed")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise IdTokenError(f"the token's {name!r} is out of range", code="malformed") from None


def validate_claims(claims: Mapping[str, Any], *, issuer: str, client_id: str, nonce: str, now: datetime,
                    leeway: timedelta = LEEWAY) -> None:
    """Check the claims of a token whose signature is valid (see the module docstring, step 5)."""
    if claims.get("iss") != issuer:
        raise IdTokenError("the token was issued by another issuer", code="issuer")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or client_id not in audiences:
        raise IdTokenError("the token is not meant for this client", code="audience")
    azp = claims.get("azp")
    if (len(audiences) > 1 and azp is None) or (azp is not None and azp != client_id):
        raise IdTokenError("the token was issued to another party (azp)", code="audience")
    expires = _time(claims, "exp", required=True)
    issued = _time(claims, "iat", required=True)
    not_before = _time(claims, "nbf", required=False)
    assert expires is not None and issued is not None
    if now >= expires + leeway:
        raise IdTokenError("the token has expired", code="expired")
    if issued > now + leeway:
        raise IdTokenError("the token was issued in the future (check the clocks)", code="issued_in_future")
    if not_before is not None and not_before > now + leeway:
        raise IdTokenError("the token is not valid yet (nbf)", code="not_yet_valid")
    sent = claims.get("nonce")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode("utf-8"), nonce.encode("utf-8")):
        raise IdTokenError("the token's nonce is not this sign-in's", code="nonce")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise IdTokenError("the token names no subject (sub)", code="malformed")


def validate_id_token(token: str, *, keys: Callable[[bool], Sequence[Jwk]], issuer: str, client_id: str,
                      nonce: str, now: datetime, leeway: timedelta = LEEWAY) -> dict[str, Any]:
    """The claims of ``token`` once every check of the module docstring has passed.

    Parameters
    ----------
    token : str
        The ``id_token`` of the token endpoint's answer.
    keys : callable
        ``keys(refresh)``: the provider's signing keys (:func:`parse_jwks`), fetched again when ``refresh``
        is True (called so once when the token's ``kid`` is not among the cached keys).
    issuer, client_id, nonce : str
        The configured issuer, this client's id, the nonce sent with the authorization request.
    now : datetime
        The current time (timezone-aware).

    Raises
    ------
    IdTokenError
        Any check failed; ``code`` says which.
    """
    if not isinstance(token, str) or len(token) > MAX_TOKEN or token.count(".") != 2:
        raise IdTokenError("the ID token is not a compact JWS", code="malformed")
    header_part, claims_part, signature_part = token.split(".")
    header = _json_object(b64url_decode(header_part), "header")
    if header.get("alg") not in ALGORITHMS:
        raise IdTokenError(f"the ID token's algorithm {str(header.get('alg'))[:20]!r} is not accepted "
                           f"(only {', '.join(ALGORITHMS)})", code="algorithm")
    if "crit" in header:
        raise IdTokenError("the ID token has critical header parameters this client does not know", code="malformed")
    if header.get("kid") is not None and not isinstance(header["kid"], str):
        raise IdTokenError("the ID token's kid is not text", code="malformed")
    signature = b64url_decode(signature_part)
    key = _select(keys(False), header)
    if key is None:  # a key the provider rotated in since the keys were cached
        key = _select(keys(True), header)
    if key is None:
        raise IdTokenError("the ID token is signed with a key the provider does not publish", code="unknown_key")
    if not _verify_signature(key, f"{header_part}.{claims_part}".encode("ascii"), signature):
        raise IdTokenError("the ID token's signature is not valid", code="signature")
    claims = _json_object(b64url_decode(claims_part), "claims")
    validate_claims(claims, issuer=issuer, client_id=client_id, nonce=nonce, now=now, leeway=leeway)
    return claims


__all__ = ["ALGORITHMS", "LEEWAY", "IdTokenError", "Jwk", "b64url_decode", "parse_jwks", "validate_claims",
           "validate_id_token"]
