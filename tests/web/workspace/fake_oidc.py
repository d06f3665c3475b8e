"""A small OpenID Connect provider on the loopback interface, for the tests (no network).

It serves discovery, its JWKS, an authorization endpoint that signs in whoever :attr:`FakeProvider.person`
says (no login page) and a token endpoint that checks what a real provider checks: the client's credentials
(HTTP Basic), a single-use code for the same redirect URI, and the PKCE verifier against the S256 challenge.
The ID token it returns is built by :meth:`FakeProvider.id_token`, which each test may bend (another key,
algorithm, audience, nonce, time) through :attr:`FakeProvider.bend`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

CLIENT_ID = "profiler-acme"
CLIENT_SECRET = "client-secret-9f8e7d6c5b4a"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int(value: int, size: int | None = None) -> str:
    return b64(value.to_bytes(size or (value.bit_length() + 7) // 8, "big"))


def public_jwk(kid: str, key: Any) -> dict[str, Any]:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "kid": kid, "use": "sig", "alg": "EdDSA", "crv": "Ed25519", "x": b64(raw)}
    numbers = key.public_key().public_numbers()
    if isinstance(key, rsa.RSAPrivateKey):
        return {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": _int(numbers.n), "e": _int(numbers.e)}
    return {"kty": "EC", "kid": kid, "use": "sig", "alg": "ES256", "crv": "P-256", "x": _int(numbers.x, 32),
            "y": _int(numbers.y, 32)}


def sign_jwt(header: dict[str, Any], claims: dict[str, Any], key: Any) -> str:
    """A compact JWS: RS256, PS256, ES256 or EdDSA with a private key, HS256 with bytes, ``none`` with None."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}".encode()
    alg = header["alg"]
    if alg == "RS256":
        signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "PS256":
        signature = key.sign(signing_input, padding.PSS(padding.MGF1(hashes.SHA256()), salt_length=32),
                             hashes.SHA256())
    elif alg == "EdDSA":
        signature = key.sign(signing_input)
    elif alg == "ES256":
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    elif alg == "HS256":
        signature = hmac.new(key, signing_input, hashlib.sha256).digest()
    else:
        signature = b""
    return f"{signing_input.decode()}.{b64(signature)}"


class FakeProvider:
    """The provider; :attr:`issuer` is its address (``http://127.0.0.1:<port>``)."""

    def __init__(self, now: Callable[[], datetime], rsa_key: Any, ec_key: Any, *, host: str = "127.0.0.1"):
        self.now = now
        self.keys: dict[str, Any] = {"rsa-1": rsa_key, "ec-1": ec_key}
        self.published = ["rsa-1", "ec-1"]
        self.signing_kid = "rsa-1"
        self.person: dict[str, Any] = {"sub": "sub-recruiter", "email": "recruiter@acme.example",
                                       "email_verified": True}
        self.bend: Callable[[dict[str, Any], dict[str, Any]], str | None] | None = None
        self.codes: dict[str, dict[str, str]] = {}
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []  # method, path, headers, body
        self.jwks_fetches = 0
        self.discovery_issuer: str | None = None  # None: its own address
        self.client_auth = "client_secret_basic"  # or client_secret_post, or none (a public client)
        self.token_answer: tuple[int, bytes, dict[str, str]] | None = None  # replaces the token endpoint's answer
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        # host "localhost" makes the provider another site than the app on 127.0.0.1, as in a deployment
        self.issuer = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def rotate(self, kid: str, key: Any) -> None:
        """Publish ``kid`` instead of the RSA key signing so far, and sign with it."""
        self.keys[kid] = key
        self.published = [k for k in self.published if k != self.signing_kid] + [kid]
        self.signing_kid = kid

    def id_token(self, nonce: str) -> str:
        now = int(self.now().timestamp())
        key = self.keys[self.signing_kid]
        header = {"alg": "RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256", "kid": self.signing_kid,
                  "typ": "JWT"}
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": nonce,
                  **self.person}
        if self.bend is not None:
            bent = self.bend(header, claims)
            if bent is not None:
                return bent
        return sign_jwt(header, claims, key)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _json(self, status: int, value: dict[str, Any]) -> None:
                body = json.dumps(value).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                url = urlsplit(self.path)
                provider.requests.append(("GET", url.path, dict(self.headers), b""))
                if url.path == "/.well-known/openid-configuration":
                    base = provider.issuer
                    self._json(200, {"issuer": provider.discovery_issuer or base,
                                     "authorization_endpoint": f"{base}/authorize", "token_endpoint": f"{base}/token",
                                     "jwks_uri": f"{base}/jwks", "response_types_supported": ["code"],
                                     "code_challenge_methods_supported": ["S256"],
                                     "token_endpoint_auth_methods_supported": [provider.client_auth],
                                     "id_token_signing_alg_values_supported": ["RS256", "ES256"]})
                elif url.path == "/jwks":
                    provider.jwks_fetches += 1
                    self._json(200, {"keys": [public_jwk(k, provider.keys[k]) for k in provider.published]})
                elif url.path == "/authorize":
                    query = {k: v[0] for k, v in parse_qs(url.query).items()}
                    code = b64(hashlib.sha256(json.dumps(query, sort_keys=True).encode()).digest())
                    provider.codes[code] = query
                    self.send_response(302)
                    self.send_header("Location", f"{query['redirect_uri']}?"
                                     + urlencode({"code": code, "state": query["state"]}))
                    self.end_headers()
                else:
                    self._json(404, {"error": "not_found"})

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                provider.requests.append(("POST", self.path, dict(self.headers), body))
                form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                if provider.token_answer is not None:
                    status, raw, headers = provider.token_answer
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                    return None
                basic = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
                authenticated = {
                    "client_secret_basic": self.headers.get("Authorization") == basic,
                    "client_secret_post": "Authorization" not in self.headers and form.get("client_id") == CLIENT_ID
                    and form.get("client_secret") == CLIENT_SECRET,
                    "none": "Authorization" not in self.headers and form.get("client_id") == CLIENT_ID
                    and "client_secret" not in form,
                }[provider.client_auth]
                if not authenticated:
                    return self._json(401, {"error": "invalid_client", "error_description": f"got {body.decode()}"})
                request = provider.codes.pop(form.get("code", ""), None)  # single use
                if request is None or form.get("redirect_uri") != request["redirect_uri"] \
                        or form.get("grant_type") != "authorization_code":
                    return self._json(400, {"error": "invalid_grant"})
                challenge = b64(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
                if request.get("code_challenge_method") != "S256" or challenge != request["code_challenge"]:
                    return self._json(400, {"error": "invalid_grant", "error_description": "PKCE"})
                self._json(200, {"access_token": "access-token-never-used", "token_type": "Bearer",
                                 "expires_in": 300, "id_token": provider.id_token(request["nonce"])})

        return Handler
