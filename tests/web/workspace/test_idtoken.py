"""ID token validation on its own (profiler.integration.idtoken): keys, forms and claims, without a provider."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from profiler.integration.idtoken import IdTokenError, b64url_decode, parse_jwks, validate_claims, validate_id_token

from .fake_oidc import b64, public_jwk, sign_jwt

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ISSUER, CLIENT, NONCE = "https://login.example.org", "client-1", "n-123"


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def claims(**changes):
    base = {"iss": ISSUER, "aud": CLIENT, "sub": "s-1", "nonce": NONCE, "iat": int(NOW.timestamp()),
            "exp": int(NOW.timestamp()) + 300}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def validate(token, jwks, calls=None):
    def keys(refresh):
        if calls is not None:
            calls.append(refresh)
        return parse_jwks({"keys": jwks})

    return validate_id_token(token, keys=keys, issuer=ISSUER, client_id=CLIENT, nonce=NONCE, now=NOW)


def test_rs256_and_es256_tokens_with_and_without_kid(rsa_key, ec_key):
    jwks = [public_jwk("r", rsa_key), public_jwk("e", ec_key)]
    assert validate(sign_jwt({"alg": "RS256", "kid": "r"}, claims(), rsa_key), jwks)["sub"] == "s-1"
    assert validate(sign_jwt({"alg": "ES256", "kid": "e"}, claims(), ec_key), jwks)["sub"] == "s-1"
    # no kid: the one key of the algorithm
    assert validate(sign_jwt({"alg": "ES256"}, claims(), ec_key), jwks)["nonce"] == NONCE
    two = jwks + [public_jwk("r2", rsa.generate_private_key(public_exponent=65537, key_size=2048))]
    with pytest.raises(IdTokenError) as caught:
        validate(sign_jwt({"alg": "RS256"}, claims(), rsa_key), two)  # ambiguous: never guess
    assert caught.value.code == "unknown_key"


def test_ps256_and_eddsa_tokens(rsa_key):
    ed_key = ed25519.Ed25519PrivateKey.generate()
    ps_jwk = {**public_jwk("p", rsa_key), "alg": "PS256"}
    jwks = [ps_jwk, public_jwk("d", ed_key)]
    assert validate(sign_jwt({"alg": "PS256", "kid": "p"}, claims(), rsa_key), jwks)["sub"] == "s-1"
    assert validate(sign_jwt({"alg": "EdDSA", "kid": "d"}, claims(), ed_key), jwks)["sub"] == "s-1"
    # an RSA key that names no algorithm serves both RSA algorithms; one that names RS256 only that one
    bare = {k: v for k, v in public_jwk("b", rsa_key).items() if k != "alg"}
    assert [k.alg for k in parse_jwks({"keys": [bare]})] == ["RS256", "PS256"]
    assert validate(sign_jwt({"alg": "PS256", "kid": "b"}, claims(), rsa_key), [bare])["nonce"] == NONCE
    with pytest.raises(IdTokenError) as caught:
        validate(sign_jwt({"alg": "PS256", "kid": "r"}, claims(), rsa_key), [public_jwk("r", rsa_key)])
    assert caught.value.code == "unknown_key"
    # a PKCS#1 v1.5 signature under a PS256 header, and an Ed25519 signature of other content, do not verify
    rs = sign_jwt({"alg": "RS256", "kid": "p"}, claims(), rsa_key).split(".")[2]
    forged = sign_jwt({"alg": "PS256", "kid": "p"}, claims(), rsa_key).rsplit(".", 1)[0] + "." + rs
    other = sign_jwt({"alg": "EdDSA", "kid": "d"}, claims(sub="s-2"), ed_key).split(".")[2]
    tampered = sign_jwt({"alg": "EdDSA", "kid": "d"}, claims(), ed_key).rsplit(".", 1)[0] + "." + other
    for token in (forged, tampered):
        with pytest.raises(IdTokenError) as caught:
            validate(token, jwks)
        assert caught.value.code == "signature"
    # an Ed25519 key of the wrong length, or on another curve, is left out
    short = {**public_jwk("d", ed_key), "x": b64(b"\x01" * 31)}
    ed448 = {**public_jwk("d", ed_key), "crv": "Ed448"}
    assert parse_jwks({"keys": [short, ed448]}) == []


def test_an_unknown_kid_refreshes_the_keys_exactly_once(rsa_key):
    calls: list[bool] = []
    with pytest.raises(IdTokenError, match="key the provider does not publish"):
        validate(sign_jwt({"alg": "RS256", "kid": "x"}, claims(), rsa_key), [public_jwk("r", rsa_key)], calls)
    assert calls == [False, True]


def test_keys_profiler_cannot_trust_are_left_out(rsa_key, ec_key):
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    p384 = ec.generate_private_key(ec.SECP384R1())
    off_curve = {**public_jwk("bad", ec_key), "y": b64(b"\x01" * 32)}
    entries = [public_jwk("ok", rsa_key), {**public_jwk("enc", rsa_key), "use": "enc"}, public_jwk("small", small),
               {**public_jwk("p384", ec_key), "crv": "P-384", "x": b64(b"\x00" * 48)}, off_curve,
               {"kty": "oct", "kid": "hmac", "k": b64(b"secret")}, {**public_jwk("rs512", rsa_key), "alg": "RS512"},
               {**public_jwk("ops", rsa_key), "key_ops": ["encrypt"]}, "not an object"]
    del p384
    assert [k.kid for k in parse_jwks({"keys": entries})] == ["ok"]
    with pytest.raises(IdTokenError, match="no list of keys"):
        parse_jwks({"keys": "none"})


def part(value) -> str:
    return b64(json.dumps(value).encode())


@pytest.mark.parametrize("token,code", [
    ("a.b", "malformed"),
    ("a.b.c.d", "malformed"),
    ("e30+.e30.AA", "malformed"),  # not base64url
    (f"{part([])}.e30.AA", "malformed"),  # the header is not an object
    (f"{part({'alg': 'none'})}.{part({})}.", "algorithm"),
    (f"{part({'alg': 'HS256'})}.{part({})}.AA", "algorithm"),
    (f"{part({'alg': 'RS256', 'crit': ['exp']})}.{part({})}.AA", "malformed"),
    (f"{part({'alg': 'RS256', 'kid': 5})}.{part({})}.AA", "malformed"),
    ("x" * 20_000, "malformed"),
])
def test_malformed_and_unaccepted_tokens(rsa_key, token, code):
    with pytest.raises(IdTokenError) as caught:
        validate(token, [public_jwk("r", rsa_key)])
    assert caught.value.code == code


def test_an_es256_signature_of_the_wrong_length_or_in_der_is_refused(ec_key):
    token = sign_jwt({"alg": "ES256", "kid": "e"}, claims(), ec_key)
    head, body, _ = token.split(".")
    from cryptography.hazmat.primitives import hashes

    der = ec_key.sign(f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))  # ASN.1, not JWS's r || s
    with pytest.raises(IdTokenError) as caught:
        validate(f"{head}.{body}.{b64(der)}", [public_jwk("e", ec_key)])
    assert caught.value.code == "signature"


@pytest.mark.parametrize("changes,code", [
    ({"aud": [CLIENT, "other"], "azp": CLIENT}, None),
    ({"aud": ["other", CLIENT]}, "audience"),
    ({"aud": 5}, "audience"),
    ({"exp": None}, "malformed"),
    ({"iat": "yesterday"}, "malformed"),
    ({"exp": True}, "malformed"),
    ({"exp": 10**20}, "malformed"),
    ({"nbf": int(NOW.timestamp()) + 59}, None),
    ({"nonce": NONCE + "x"}, "nonce"),
    ({"sub": ""}, "malformed"),
    ({"iss": ISSUER + "/"}, "issuer"),  # exactly the issuer
])
def test_claims(changes, code):
    if code is None:
        validate_claims(claims(**changes), issuer=ISSUER, client_id=CLIENT, nonce=NONCE, now=NOW)
        return
    with pytest.raises(IdTokenError) as caught:
        validate_claims(claims(**changes), issuer=ISSUER, client_id=CLIENT, nonce=NONCE, now=NOW)
    assert caught.value.code == code


def test_the_leeway_is_a_minute_each_side():
    at = int(NOW.timestamp())
    validate_claims(claims(exp=at - 59, iat=at - 600), issuer=ISSUER, client_id=CLIENT, nonce=NONCE, now=NOW)
    validate_claims(claims(iat=at + 59), issuer=ISSUER, client_id=CLIENT, nonce=NONCE, now=NOW)
    with pytest.raises(IdTokenError, match="expired"):
        validate_claims(claims(exp=at - 60, iat=at - 600), issuer=ISSUER, client_id=CLIENT, nonce=NONCE, now=NOW)
    with pytest.raises(IdTokenError, match="expired"):
        validate_claims(claims(exp=at + 10), issuer=ISSUER, client_id=CLIENT, nonce=NONCE,
                        now=NOW + timedelta(seconds=71))


def test_b64url_is_strict():
    assert b64url_decode("aGk") == b"hi"
    for bad in ("aGk=", "a+b/", "a", "a b"):
        with pytest.raises(IdTokenError):
            b64url_decode(bad)
