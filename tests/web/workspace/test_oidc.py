"""Sign-in through the organisation's OpenID Connect provider, against a provider on loopback (fake_oidc):
the whole authorization-code flow with PKCE, then each way an ID token, a callback or a person is refused."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from profiler.integration.oidc import Oidc
from profiler.oversight import AuditLog

from .conftest import PASSWORD, sign_in
from .fake_oidc import CLIENT_ID, CLIENT_SECRET, FakeProvider, sign_jwt


@pytest.fixture(scope="module")
def keys() -> dict[str, object]:
    return {"rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "rsa2": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ec": ec.generate_private_key(ec.SECP256R1())}


@pytest.fixture
def provider(clock, keys) -> Iterator[FakeProvider]:
    fake = FakeProvider(clock, keys["rsa"], keys["ec"])
    yield fake
    fake.close()


@pytest.fixture
def oidc(staff, provider, key) -> Oidc:
    configured = Oidc(staff, key)  # the app's key: it opens the secret
    configured.configure("acme", issuer=provider.issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                         label="Acme Login", email_domains=["acme.example"], actor="cli:admin")
    staff.set_email("recruiter", "recruiter@acme.example", actor="cli:admin")
    staff.set_email("auditor", "auditor@acme.example", actor="cli:admin")
    staff.set_email("recruiter-globex", "kim@globex.example", actor="cli:admin")
    return configured


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def at_provider(location: str) -> str:
    """Follow the app's redirect to the provider's authorization endpoint; the callback path it sends back."""
    assert location.startswith("http://127.0.0.1:")
    try:
        urllib.request.build_opener(NoRedirect).open(location, timeout=10)
    except urllib.error.HTTPError as exc:
        assert exc.code == 302
        back = urlsplit(exc.headers["Location"])
        assert back.netloc == "testserver"
        return f"{back.path}?{back.query}"
    raise AssertionError("the provider did not redirect")


def oidc_sign_in(client, organisation: str = "acme", next_page: str | None = None):
    """The browser's part: the button, the provider, the callback; the callback's response."""
    start = client.get(f"/w/sign-in/oidc/{organisation}" + (f"?next={next_page}" if next_page else ""))
    assert start.status_code == 303, start.text[:300]
    return client.get(at_provider(start.headers["location"]))


def refusals(store) -> list[dict]:
    return [e.payload for e in AuditLog(store).entries(event="staff.sign_in_refused")]


def test_sign_in_through_the_provider_opens_the_same_staff_session(client, oidc, provider, store, staff):
    start = client.get("/w/sign-in/oidc/acme?next=/w/queue")
    assert start.status_code == 303
    request = {k: v[0] for k, v in parse_qs(urlsplit(start.headers["location"]).query).items()}
    assert request["response_type"] == "code" and request["client_id"] == CLIENT_ID
    assert request["code_challenge_method"] == "S256" and len(request["code_challenge"]) == 43
    assert request["redirect_uri"] == "http://testserver/w/oidc/callback"
    assert request["scope"] == "openid email profile" and len(request["state"]) >= 43 and len(request["nonce"]) >= 43
    cookie = start.headers["set-cookie"]
    assert "profiler_oidc=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Path=/w/oidc" in cookie and "Max-Age=600" in cookie
    assert request["code_challenge"] not in cookie  # the verifier travels, the challenge is derived
    done = client.get(at_provider(start.headers["location"]))
    assert done.status_code == 200, done.text[:400]
    assert '<meta http-equiv="refresh" content="0;url=/w/queue">' in done.text
    session = client.cookies.get("profiler_staff")
    assert session and staff.session_user(session).username == "recruiter"
    assert "SameSite=strict" in done.headers["set-cookie"] and "HttpOnly" in done.headers["set-cookie"]
    assert "recruiter (recruiter, acme)" in client.get("/w").text
    signed = [e for e in AuditLog(store).entries(event="staff.signed_in")]
    assert signed[-1].payload["method"] == "oidc" and signed[-1].payload["username"] == "recruiter"
    linked = [e.payload for e in AuditLog(store).entries(event="staff.subject_linked")]
    assert linked[-1] == {"user": staff.user("recruiter").id, "username": "recruiter", "issuer": provider.issuer,
                          "subject": "sub-recruiter"}
    token_calls = [r for r in provider.requests if r[0] == "POST"]
    assert len(token_calls) == 1 and b"client_secret" not in token_calls[0][3]  # HTTP Basic, not the form


def test_es256_tokens_are_accepted_and_the_subject_is_the_match_afterwards(client, oidc, provider, staff):
    provider.signing_kid = "ec-1"
    assert oidc_sign_in(client).status_code == 200
    client.cookies.clear()
    provider.person = {**provider.person, "email": "renamed@acme.example"}  # a new address at the provider
    assert oidc_sign_in(client).status_code == 200
    assert staff.session_user(client.cookies.get("profiler_staff")).username == "recruiter"


def test_the_same_address_with_another_subject_is_refused(client, oidc, provider, store):
    assert oidc_sign_in(client).status_code == 200
    client.cookies.clear()
    provider.person = {**provider.person, "sub": "someone-else"}  # the address was given to another person
    assert oidc_sign_in(client).status_code == 403
    assert refusals(store)[-1]["reason"] == "subject_mismatch"


def _bent(**changes):
    def bend(header, claims):
        claims.update({k: v for k, v in changes.items() if v is not ...})
        for k in [k for k, v in changes.items() if v is ...]:
            del claims[k]
        return None

    return bend


@pytest.mark.parametrize("changes,reason", [
    ({"nonce": "another-nonce"}, "nonce"),
    ({"nonce": ...}, "nonce"),
    ({"aud": "another-client"}, "audience"),
    ({"aud": [CLIENT_ID, "another-client"]}, "audience"),  # several audiences and no azp
    ({"aud": [CLIENT_ID, "another-client"], "azp": "another-client"}, "audience"),
    ({"azp": "another-client"}, "audience"),
    ({"iss": "https://evil.example"}, "issuer"),
    ({"exp": 0}, "expired"),
    ({"sub": ...}, "malformed"),
], ids=["wrong-nonce", "no-nonce", "wrong-aud", "two-aud-no-azp", "azp-other", "azp-other-one-aud", "iss",
        "expired-1970", "no-sub"])
def test_tokens_with_wrong_claims_are_refused(client, oidc, provider, store, changes, reason):
    provider.bend = _bent(**changes)
    response = oidc_sign_in(client)
    assert response.status_code == 403 and "profiler_staff" not in client.cookies
    assert refusals(store)[-1]["reason"] == reason


def test_time_claims_have_a_minute_of_leeway(client, oidc, provider, store, clock):
    now = int(clock.now.timestamp())
    provider.bend = _bent(exp=now - 30, iat=now - 600)
    assert oidc_sign_in(client).status_code == 200  # expired 30 s ago: within the leeway
    client.cookies.clear()
    for changes, reason in [({"exp": now - 61, "iat": now - 600}, "expired"),
                            ({"iat": now + 120, "exp": now + 600}, "issued_in_future"),
                            ({"nbf": now + 120}, "not_yet_valid")]:
        provider.bend = _bent(**changes)
        assert oidc_sign_in(client).status_code == 403
        assert refusals(store)[-1]["reason"] == reason


def test_a_bad_signature_alg_none_and_hs256_with_the_public_key_are_refused(client, oidc, provider, store, keys):
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = keys["rsa"].public_key().public_bytes(serialization.Encoding.PEM,
                                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    attempts = {
        "signature": lambda h, c: sign_jwt(h, c, forger),  # the published kid, another key
        "algorithm": lambda h, c: sign_jwt({**h, "alg": "none"}, c, None),
        "hs256": lambda h, c: sign_jwt({**h, "alg": "HS256"}, c, public_pem),  # key confusion
        "tampered": lambda h, c: _tamper(sign_jwt(h, c, keys["rsa"])),
    }
    for name, bend in attempts.items():
        provider.bend = bend
        assert oidc_sign_in(client).status_code == 403, name
        expected = {"signature": "signature", "algorithm": "algorithm", "hs256": "algorithm",
                    "tampered": "signature"}[name]
        assert refusals(store)[-1]["reason"] == expected, name
    assert "profiler_staff" not in client.cookies


def _tamper(token: str) -> str:
    """The same signature over claims that now name another person."""
    import base64

    header, claims, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    decoded["email"] = "admin@acme.example"
    return ".".join([header, base64.urlsafe_b64encode(json.dumps(decoded).encode()).rstrip(b"=").decode(),
                     signature])


def test_a_rotated_key_is_fetched_once_and_an_unknown_kid_is_refused(client, oidc, provider, store, keys):
    assert oidc_sign_in(client).status_code == 200
    assert provider.jwks_fetches == 1
    client.cookies.clear()
    assert oidc_sign_in(client).status_code == 200
    assert provider.jwks_fetches == 1  # cached
    client.cookies.clear()
    provider.rotate("rsa-2", keys["rsa2"])
    assert oidc_sign_in(client).status_code == 200
    assert provider.jwks_fetches == 2  # the unknown kid reloaded the keys once
    client.cookies.clear()
    provider.bend = lambda h, c: sign_jwt({**h, "kid": "never-published"}, c, keys["rsa2"])
    assert oidc_sign_in(client).status_code == 403
    assert refusals(store)[-1]["reason"] == "unknown_key"
    assert provider.jwks_fetches == 3  # one refresh, not a loop


def test_a_callback_with_another_state_or_without_the_flow_cookie_is_refused(client, app, oidc, provider, store):
    from starlette.testclient import TestClient

    callback = at_provider(client.get("/w/sign-in/oidc/acme").headers["location"])
    path, _, query = callback.partition("?")
    forged = client.get(path, params={"code": parse_qs(query)["code"][0], "state": "attacker-state"})
    assert forged.status_code == 400 and "profiler_staff" not in client.cookies
    assert client.get(callback).status_code == 400  # the refusal ended the flow: no second try
    # login CSRF: the attacker's own callback address, opened in the victim's browser (no flow cookie there)
    with TestClient(app, follow_redirects=False) as attacker:
        planted = at_provider(attacker.get("/w/sign-in/oidc/acme").headers["location"])
    assert client.get(planted).status_code == 400
    # a flow cookie not signed by this server
    callback = at_provider(client.get("/w/sign-in/oidc/acme").headers["location"])
    sealed = client.cookies.get("profiler_oidc", path="/w/oidc")
    client.cookies.delete("profiler_oidc", path="/w/oidc")
    client.cookies.set("profiler_oidc", sealed[:-4] + "AAAA", path="/w/oidc")
    assert client.get(callback).status_code == 400
    assert [r for r in provider.requests if r[0] == "POST"] == []  # none of them reached the token endpoint
    assert refusals(store) == []  # forged callbacks go to the server's log, not the audit log


def test_a_flow_is_used_once(client, oidc, provider):
    callback = at_provider(client.get("/w/sign-in/oidc/acme").headers["location"])
    assert client.get(callback).status_code == 200
    client.cookies.delete("profiler_staff", path="/w")
    assert client.get(callback).status_code == 400  # replayed: the flow cookie is gone


@pytest.mark.parametrize("person,reason", [
    ({"sub": "s1", "email": "nobody@acme.example", "email_verified": True}, "not_a_member"),
    ({"sub": "s2", "email": "kim@globex.example", "email_verified": True}, "domain"),
    ({"sub": "s3", "email": "recruiter@acme.example", "email_verified": False}, "email_unverified"),
    ({"sub": "s4", "email_verified": True}, "no_claim"),
], ids=["unknown-person", "another-tenants-user", "unverified", "no-email"])
def test_people_who_are_not_staff_of_the_organisation_are_refused(client, oidc, provider, store, person, reason):
    provider.person = person
    assert oidc_sign_in(client).status_code == 403
    assert refusals(store)[-1]["reason"] == reason and "profiler_staff" not in client.cookies


def test_another_tenants_user_is_refused_even_in_an_accepted_domain(client, oidc, provider, store, staff):
    oidc.configure("acme", email_domains=[], actor="cli:admin")  # any domain
    provider.person = {"sub": "s5", "email": "kim@globex.example", "email_verified": True}
    assert oidc_sign_in(client).status_code == 403
    assert refusals(store)[-1]["reason"] == "not_a_member"
    assert staff.user("recruiter-globex").email == "kim@globex.example"


def test_a_disabled_account_is_refused_and_a_locked_one_is_not(client, oidc, provider, store, staff):
    for _ in range(5):
        sign_in(client, "recruiter", "wrong password, long enough")
    assert staff.user("recruiter").locked_until is not None
    assert oidc_sign_in(client).status_code == 200  # the lockout counts passwords, not the provider's sign-ins
    client.cookies.clear()
    staff.disable_user("recruiter", actor="cli:admin")
    assert oidc_sign_in(client).status_code == 403
    assert refusals(store)[-1]["reason"] == "disabled"


def test_claim_sub_matches_only_linked_subjects(client, oidc, provider, store, staff):
    oidc.configure("acme", claim="sub", actor="cli:admin")
    assert oidc_sign_in(client).status_code == 403  # the address alone no longer names anyone
    oidc.link("auditor", "sub-recruiter", actor="cli:admin")
    assert oidc_sign_in(client).status_code == 200
    assert staff.session_user(client.cookies.get("profiler_staff")).username == "auditor"


def test_a_planted_session_is_ended_by_the_sign_in(client, oidc, provider, staff):
    planted = staff.start_session(staff.user("auditor"))
    client.cookies.set("profiler_staff", planted, path="/w")
    response = oidc_sign_in(client)
    issued = response.cookies.get("profiler_staff")
    assert issued and issued != planted
    assert staff.session_user(planted) is None  # the planted session ended
    assert staff.session_user(issued).username == "recruiter"


def test_the_sign_in_page_shows_the_button_and_can_turn_passwords_off(client, oidc, provider, staff):
    plain = client.get("/w/sign-in").text
    assert "Sign in with Acme Login" not in plain  # an unlisted organisation's name is not shown to anyone
    assert 'name="organisation"' in plain  # but its staff can ask for its button
    assert "No organisation signs in through its provider here under the id\n&ldquo;acm&rdquo;" in client.get(
        "/w/sign-in?organisation=acm").text
    page = client.get("/w/sign-in?organisation=acme").text
    assert 'href="/w/sign-in/oidc/acme?next=/w">Sign in with Acme Login</a>' in page and 'name="password"' in page
    oidc.configure("acme", listed=True, password_sign_in=False, actor="cli:admin")
    assert "Sign in with Acme Login" in client.get("/w/sign-in").text
    assert 'name="password"' not in client.get("/w/sign-in?organisation=acme").text
    refused = sign_in(client, "recruiter", PASSWORD)
    assert refused.status_code == 403 and "through its own provider" in refused.text
    assert "Sign in with Acme Login" in refused.text and "profiler_staff" not in client.cookies
    assert sign_in(client, "recruiter-globex", PASSWORD).status_code == 303  # globex keeps its passwords
    client.cookies.clear()
    oidc.clear("acme", actor="cli:admin")
    assert sign_in(client, "recruiter", PASSWORD).status_code == 303


def test_unknown_organisations_and_unusable_providers_are_said_plainly(client, oidc, provider, store):
    assert client.get("/w/sign-in/oidc/globex").status_code == 404
    assert client.get("/w/sign-in/oidc/NOT..valid").status_code == 404
    provider.discovery_issuer = "https://impostor.example"
    assert client.get("/w/sign-in/oidc/acme").status_code == 502  # discovery names another issuer
    provider.discovery_issuer = None
    client.app.state.workspace.providers.clear()
    start = client.get("/w/sign-in/oidc/acme")
    callback = at_provider(start.headers["location"])
    provider.close()
    client.app.state.workspace.providers.clear()  # discovery again: nobody answers
    response = client.get(callback)
    assert response.status_code == 502 and refusals(store)[-1]["reason"] == "provider"


def test_secrets_codes_and_tokens_never_reach_logs_pages_or_the_audit_log(client, oidc, provider, store, caplog):
    seen: list[str] = []
    original = provider.id_token
    provider.id_token = lambda nonce: seen.append(original(nonce)) or seen[-1]  # type: ignore[method-assign]
    caplog.set_level(logging.DEBUG)
    start = client.get("/w/sign-in/oidc/acme")
    callback = at_provider(start.headers["location"])
    code = parse_qs(urlsplit(callback).query)["code"][0]
    done = client.get(callback)
    session = done.cookies.get("profiler_staff")
    assert session
    provider.bend = _bent(nonce="wrong")
    client.cookies.clear()
    failed = oidc_sign_in(client)
    assert failed.status_code == 403
    entries = json.dumps([e.payload for e in AuditLog(store).entries()], default=str)
    # the server's log: httpx2 is the test's browser; profiler serve runs uvicorn without its access log; and
    # SQLAlchemy's own statement logging (off unless an operator turns it on) prints every value stored
    server_log = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "sqlalchemy")))
    for secret in [CLIENT_SECRET, code, *seen, "access-token-never-used", session]:
        assert secret not in server_log and secret not in entries
        assert secret not in done.text and secret not in failed.text
    assert "sign-in refused (nonce)" in server_log  # the refusal was logged, without its token
    config = oidc.config("acme")
    assert CLIENT_SECRET not in repr(config) and CLIENT_SECRET not in str(config.described())
    assert CLIENT_SECRET not in config.sealed_secret and repr(oidc.client_secret(config)) == "Secret('***')"


def test_cli_check_fetches_discovery_and_keys(oidc, provider, store, capsys):
    from profiler.cli import main

    assert main(["org", "oidc", "check", "acme", "--db", str(store.file)]) == 0
    out = capsys.readouterr().out
    assert f"issuer             {provider.issuer} (the discovery document agrees)" in out
    assert "signing keys       2 usable: rsa-1 RS256, ec-1 ES256" in out
    provider.discovery_issuer = "https://impostor.example"
    assert main(["org", "oidc", "check", "acme", "--db", str(store.file)]) == 2
    assert "names the issuer 'https://impostor.example'" in capsys.readouterr().err


def test_failed_callbacks_count_toward_the_addresss_limit(client, oidc, provider):
    for _ in range(10):
        assert client.get("/w/oidc/callback?code=x&state=y").status_code == 400
    limited = client.get("/w/oidc/callback?code=x&state=y")
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert sign_in(client, "recruiter").status_code == 429  # the same limit as passwords


def test_client_authentication_in_the_form_and_public_clients(client, oidc, provider, staff):
    provider.client_auth = "client_secret_post"  # the provider offers only this
    assert oidc_sign_in(client).status_code == 200
    client.cookies.clear()
    client.app.state.workspace.providers.clear()
    provider.client_auth = "none"
    oidc.configure("acme", client_secret=None, actor="cli:admin")
    assert not oidc.config("acme").has_client_secret and oidc.client_secret(oidc.config("acme")) is None
    assert oidc_sign_in(client).status_code == 200


def test_the_token_endpoints_refusals_and_odd_answers(client, oidc, provider, store, caplog):
    caplog.set_level(logging.WARNING, logger="profiler.web.workspace")
    provider.client_auth = "client_secret_post"
    assert oidc_sign_in(client).status_code == 200  # discovery (cached) says: the secret goes in the form
    client.cookies.clear()
    provider.client_auth = "client_secret_basic"  # now refused, with an answer that quotes the form and its secret
    assert oidc_sign_in(client).status_code == 502
    refused = refusals(store)[-1]
    assert refused["reason"] == "provider" and refused["detail"].endswith("/token answered 401 (invalid_client)")
    assert CLIENT_SECRET not in caplog.text
    provider.client_auth = "client_secret_basic"
    answers = {
        "redirect": (307, b"", {"Location": "http://127.0.0.1:9/elsewhere"}),  # never followed
        "not-json": (200, b"<html>", {"Content-Type": "text/html"}),
        "no-id-token": (200, json.dumps({"access_token": "a", "token_type": "Bearer"}).encode(), {}),
        "mac-token": (200, json.dumps({"id_token": "x.y.z", "token_type": "mac"}).encode(), {}),
        "too-big": (200, b" " * (1 << 20) + b"{}", {}),
    }
    for name, answer in answers.items():
        provider.token_answer = answer
        client.cookies.clear()
        assert oidc_sign_in(client).status_code == 502, name
        assert refusals(store)[-1]["reason"] == "provider", name
    details = [r["detail"] for r in refusals(store)[-5:]]
    assert "answered 307" in details[0] and "did not answer with JSON" in details[1]


def test_a_cancelled_sign_in_and_an_answer_naming_another_issuer(client, oidc, provider, store):
    start = client.get("/w/sign-in/oidc/acme")
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    cancelled = client.get("/w/oidc/callback", params={"error": "access_denied", "state": state})
    assert cancelled.status_code == 403 and refusals(store)[-1]["reason"] == "provider_refused"
    callback = at_provider(client.get("/w/sign-in/oidc/acme").headers["location"])
    assert client.get(callback + "&iss=https%3A%2F%2Fevil.example").status_code == 403  # RFC 9207 mix-up defence
    assert refusals(store)[-1]["reason"] == "issuer"
    assert [r for r in provider.requests if r[0] == "POST"] == []


def test_a_secret_sealed_under_another_key_is_said_not_sent(client, oidc, provider, store, staff):
    from profiler.integration.keys import SecretKey

    Oidc(staff, SecretKey.generate()).configure("acme", client_secret=CLIENT_SECRET, actor="cli:admin")
    assert oidc_sign_in(client).status_code == 502
    assert "stored under another server key: set it again" in refusals(store)[-1]["detail"]
    assert [r for r in provider.requests if r[0] == "POST"] == []
