"""Talking to an OpenID Connect provider: discovery, its signing keys, the authorization URL, the code exchange.

- **Discovery**: ``<issuer>/.well-known/openid-configuration``, whose ``issuer`` must be the configured issuer
  exactly (so that one provider cannot pose as another), cached for an hour.
- **Keys**: the ``jwks_uri`` document, cached until a token names a key it lacks (:meth:`Provider.keys` with
  ``refresh=True``: the provider rotated its keys). ID tokens come only from the token endpoint's answer, never
  from the browser, so a made-up ``kid`` cannot make profiler fetch the keys again and again.
- **Transport**: https only; plain http only when the host is the loopback interface (a provider run by the
  tests, or on the same machine). Redirects are never followed (a token request is not re-sent elsewhere),
  answers are read up to 1 MiB, every call times out after ``timeout`` seconds.
- **Code exchange**: authorization code with PKCE (S256); the client authenticates with HTTP Basic
  (``client_secret_basic``, the default of the specification) or in the form (``client_secret_post``) when the
  provider offers only that; a public client (no secret) sends its id and the PKCE verifier only.

Errors are :class:`OidcError`; their messages name the address and the provider's error code, never a secret,
a code or a token.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from profiler._version import __version__
from profiler.integration.errors import IntegrationError
from profiler.integration.idtoken import Jwk, json_object, parse_jwks
from profiler.store.redaction import HIDDEN

WELL_KNOWN = "/.well-known/openid-configuration"
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
MAX_ANSWER = 1 << 20
DISCOVERY_TTL = 3600.0
SCOPE = "openid email profile"


class OidcError(IntegrationError):
    """A provider that cannot be used: an address that is not https, no answer, an answer that is not what
    OpenID Connect says, or a refusal of the token endpoint (``code="provider"``)."""


def check_url(url: object, what: str) -> str:
    """``url`` if it is https, or http to the loopback interface; an :class:`OidcError` naming ``what`` if not."""
    if not isinstance(url, str) or not url.strip():
        raise OidcError(f"{what}: an address is required", field=what)
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname in LOOPBACK:
        return url
    raise OidcError(f"{what} {url!r}: an https address is required (plain http only to this machine's loopback "
                    "interface)", field=what, code="insecure")


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier (64 random characters) and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


_OPENER = urllib.request.build_opener(_NoRedirects)


def _hide(text: str, hidden: tuple[str, ...]) -> str:
    for value in hidden:
        if value:
            text = text.replace(value, HIDDEN)
    return text


def _error_code(body: bytes) -> str:
    """The ``error`` of an OAuth error answer, as a short token (never its free text, which may quote input)."""
    try:
        value = json.loads(body.decode("utf-8")).get("error", "")
    except (UnicodeDecodeError, ValueError, AttributeError):
        return ""
    return "".join(c for c in str(value) if c.isalnum() or c in "_-.")[:60]


def fetch_json(url: str, *, data: dict[str, str] | None = None, headers: dict[str, str] | None = None,
               timeout: float = 10.0, hidden: tuple[str, ...] = ()) -> dict[str, Any]:
    """GET (or POST ``data`` as a form to) ``url`` and return its JSON object answer.

    ``hidden``: values sent that must never appear in an error message (a client secret, a code).
    """
    body = urlencode(data).encode("ascii") if data is not None else None
    request = urllib.request.Request(url, data=body, headers={
        "Accept": "application/json", "User-Agent": f"profiler/{__version__}",
        **({"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}), **(headers or {})})
    try:
        with _OPENER.open(request, timeout=timeout) as answer:
            raw = answer.read(MAX_ANSWER + 1)
    except urllib.error.HTTPError as exc:
        code = _error_code(exc.read(4096))
        raise OidcError(_hide(f"{url} answered {exc.code}" + (f" ({code})" if code else ""), hidden),
                        code="provider") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise OidcError(_hide(f"{url} did not answer: {reason}", hidden), code="provider") from None
    if len(raw) > MAX_ANSWER:
        raise OidcError(f"{url} answered with more than {MAX_ANSWER} bytes", code="provider")
    try:
        return json_object(raw)
    except ValueError as exc:
        raise OidcError(f"{url} did not answer with {exc}", code="provider") from None


@dataclass(frozen=True)
class Discovery:
    """What profiler uses of a provider's discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    token_auth_methods: tuple[str, ...]


class Provider:
    """One issuer: its discovery document and signing keys (cached), its authorization and token endpoints.

    Parameters
    ----------
    issuer : str
        The issuer identifier, exactly as the provider writes it in its tokens (``https://login.example.org``).
    timeout : float
        Seconds to wait for each answer.
    clock : callable
        Monotonic seconds, for the caches.
    """

    def __init__(self, issuer: str, *, timeout: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self.issuer = check_url(issuer, "issuer")
        self.timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._discovery: tuple[float, Discovery] | None = None
        self._keys: tuple[float, list[Jwk]] | None = None

    def __repr__(self) -> str:
        return f"Provider({self.issuer!r})"

    def discovery(self) -> Discovery:
        """The provider's endpoints (fetched at most once an hour)."""
        with self._lock:
            if self._discovery is not None and self._clock() - self._discovery[0] < DISCOVERY_TTL:
                return self._discovery[1]
        url = self.issuer.rstrip("/") + WELL_KNOWN
        document = fetch_json(url, timeout=self.timeout)
        if document.get("issuer") != self.issuer:
            raise OidcError(f"{url} names the issuer {str(document.get('issuer'))[:200]!r}, not {self.issuer!r}: "
                            "configure the issuer exactly as the provider writes it", code="provider")
        endpoints = {name: check_url(document.get(name), name)
                     for name in ("authorization_endpoint", "token_endpoint", "jwks_uri")}
        challenges = document.get("code_challenge_methods_supported")
        if isinstance(challenges, list) and "S256" not in challenges:
            raise OidcError(f"{url}: the provider does not support PKCE with S256", code="provider")
        methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        found = Discovery(self.issuer, **endpoints, token_auth_methods=tuple(str(m) for m in methods))
        with self._lock:
            self._discovery = (self._clock(), found)
        return found

    def keys(self, refresh: bool = False) -> list[Jwk]:
        """The provider's signing keys (cached); ``refresh`` fetches them again."""
        with self._lock:
            cached = self._keys
        if cached is not None and not refresh:
            return cached[1]
        keys = parse_jwks(fetch_json(self.discovery().jwks_uri, timeout=self.timeout))
        with self._lock:
            self._keys = (self._clock(), keys)
        return keys

    def authorization_url(self, *, client_id: str, redirect_uri: str, state: str, nonce: str,
                          code_challenge: str, scope: str = SCOPE) -> str:
        """Where to send the browser: the authorization endpoint with the request's parameters."""
        endpoint = self.discovery().authorization_endpoint
        query = urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
                           "scope": scope, "state": state, "nonce": nonce, "code_challenge": code_challenge,
                           "code_challenge_method": "S256"}, quote_via=quote)
        return f"{endpoint}{'&' if urlsplit(endpoint).query else '?'}{query}"

    def exchange(self, *, code: str, code_verifier: str, client_id: str, client_secret: str | None,
                 redirect_uri: str) -> str:
        """Trade the authorization code for tokens; the ID token (not yet validated: :mod:`.idtoken`)."""
        discovery = self.discovery()
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "code_verifier": code_verifier}
        headers: dict[str, str] = {}
        if client_secret is None:
            form["client_id"] = client_id
        elif "client_secret_basic" in discovery.token_auth_methods or \
                "client_secret_post" not in discovery.token_auth_methods:
            pair = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"  # RFC 6749, 2.3.1
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
        else:
            form.update(client_id=client_id, client_secret=client_secret)
        answer = fetch_json(discovery.token_endpoint, data=form, headers=headers, timeout=self.timeout,
                            hidden=tuple(v for v in (client_secret, code, code_verifier) if v))
        token_type = answer.get("token_type")
        if token_type is not None and str(token_type).lower() != "bearer":
            raise OidcError(f"{discovery.token_endpoint} answered a token of type {str(token_type)[:20]!r}",
                            code="provider")
        id_token = answer.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise OidcError(f"{discovery.token_endpoint} answered no ID token (is 'openid' among the client's "
                            "scopes?)", code="provider")
        return id_token


__all__ = ["Discovery", "OidcError", "Provider", "SCOPE", "check_url", "fetch_json", "pkce_pair"]
