"""``profiler org oidc`` and the accounts' e-mail addresses and subjects: the secret never printed or logged."""

from __future__ import annotations

import io
import json

import pytest

from profiler.cli import main
from profiler.integration.keys import SecretKey
from profiler.integration.oidc import Oidc, seal_secret
from profiler.integration.oidc_provider import OidcError
from profiler.integration.staff import NO_PASSWORD, Staff
from profiler.store import Store
from profiler.store.audit_log import AuditLog
from profiler.store.tables import organisation_oidc, staff_users

SECRET = "s3cret-of-the-client-7781"


def _run(capsys, monkeypatch, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_set_show_and_clear_a_provider_without_ever_printing_its_secret(tmp_path, capsys, monkeypatch):
    db = str(tmp_path / "staff.sqlite")
    printed = []
    _run(capsys, monkeypatch, "org", "add", "acme", "--name", "Acme Ltd", "--db", db)
    key_file = tmp_path / "secret"
    monkeypatch.delenv("PROFILER_SECRET_KEY", raising=False)
    code, out, err = _run(capsys, monkeypatch, "org", "oidc", "set", "acme", "--issuer", "https://login.acme.example",
                          "--client-id", "profiler", "--client-secret-stdin", "--email-domain", "acme.example",
                          "--email-domain", "@Acme-Corp.example", "--db", db, "--secret-file", str(key_file),
                          stdin=SECRET + "\n")
    printed.append(out + err)
    assert code == 0, err
    assert "client secret      *** (set)" in out and "e-mail domains     acme-corp.example, acme.example" in out
    assert "redirect URI       <the app's public address>/w/oidc/callback" in out
    # a second set keeps what it does not name, the secret too
    code, out, err = _run(capsys, monkeypatch, "org", "oidc", "set", "acme", "--label", "Acme SSO",
                          "--no-password-sign-in", "--listed", "--db", db)
    printed.append(out + err)
    assert code == 0 and "button             Sign in with Acme SSO" in out and "password sign-in   off" in out
    code, out, err = _run(capsys, monkeypatch, "org", "oidc", "show", "acme", "--db", db)
    printed.append(out + err)
    assert "client secret      *** (set)" in out and "issuer             https://login.acme.example" in out
    with Store(db) as store:
        config = Oidc(Staff(store)).config("acme")
        assert not config.password_sign_in and config.listed and SECRET not in repr(config)
        assert Oidc(Staff(store), SecretKey.load(key_file)).client_secret(config).reveal() == SECRET
        assert str(Oidc(Staff(store), SecretKey.load(key_file)).client_secret(config)) == "***"
        with store.read() as connection:  # encrypted in the store: a copy of the database does not hold it
            stored = connection.execute(organisation_oidc.select()).first().client_secret
        assert stored.startswith("aes256gcm:v1:") and SECRET not in stored
        with pytest.raises(OidcError, match="stored under another server key: set it again"):
            Oidc(Staff(store), SecretKey.generate()).client_secret(config)
        logged = json.dumps([e.payload for e in AuditLog(store)], default=str)
        configured = [e.payload for e in AuditLog(store).entries(event="staff.oidc_configured")]
    assert [c["client_secret"] for c in configured] == ["set", "kept"]
    assert SECRET not in logged
    code, out, err = _run(capsys, monkeypatch, "org", "oidc", "clear", "acme", "--db", db)
    assert code == 0 and "sign in with passwords" in out
    assert _run(capsys, monkeypatch, "org", "oidc", "show", "acme", "--db", db)[1].startswith(
        "organisation acme signs in with passwords only")
    assert all(SECRET not in text for text in printed)


def test_mistakes_are_named_without_a_traceback(tmp_path, capsys, monkeypatch):
    db = str(tmp_path / "staff.sqlite")
    _run(capsys, monkeypatch, "org", "add", "acme", "--name", "Acme", "--db", db)
    code, _, err = _run(capsys, monkeypatch, "org", "oidc", "set", "acme", "--issuer", "http://login.acme.example",
                        "--client-id", "p", "--db", db)
    assert code == 2 and "an https address is required (plain http only to this machine's loopback" in err
    code, _, err = _run(capsys, monkeypatch, "org", "oidc", "set", "acme", "--label", "x", "--db", db)
    assert code == 2 and "has no provider yet: give its issuer and client id" in err
    code, _, err = _run(capsys, monkeypatch, "org", "oidc", "set", "acme", "--issuer", "https://l.example",
                        "--client-id", "p", "--email-domain", "not a domain", "--db", db)
    assert code == 2 and "e-mail domain 'not a domain'" in err
    code, _, err = _run(capsys, monkeypatch, "org", "oidc", "show", "nobody", "--db", db)
    assert code == 2 and "no organisation 'nobody'" in err
    code, _, err = _run(capsys, monkeypatch, "org", "oidc", "clear", "acme", "--db", db)
    assert code == 2 and "organisation 'acme' has no provider" in err


def test_accounts_with_addresses_subjects_and_no_password(tmp_path, capsys, monkeypatch):
    db = str(tmp_path / "staff.sqlite")
    _run(capsys, monkeypatch, "org", "add", "acme", "--name", "Acme", "--db", db)
    code, out, err = _run(capsys, monkeypatch, "users", "add", "kim", "--role", "recruiter", "--organisation", "acme",
                          "--email", "Kim@Acme.example", "--no-password", "--db", db)
    assert (code, out) == (0, "added kim (recruiter, organisation acme, kim@acme.example); signs in through the "
                              "organisation's provider only\n"), err
    code, _, err = _run(capsys, monkeypatch, "users", "add", "lee", "--role", "auditor", "--organisation", "acme",
                        "--email", "kim@acme.example", "--password-stdin", "--db", db, stdin="a long enough password\n")
    assert code == 2 and "kim@acme.example is the e-mail address of kim in organisation 'acme' already" in err
    code, _, err = _run(capsys, monkeypatch, "users", "link", "kim", "--subject", "abc", "--db", db)
    assert code == 2 and "has no provider: configure it first" in err
    _run(capsys, monkeypatch, "org", "oidc", "set", "acme", "--issuer", "https://login.acme.example", "--client-id",
         "p", "--no-client-secret", "--db", db)
    assert _run(capsys, monkeypatch, "users", "link", "kim", "--subject", "abc", "--db", db)[1] == \
        "kim: linked to subject abc\n"
    assert _run(capsys, monkeypatch, "users", "email", "kim", "kim.new@acme.example", "--db", db)[1] == \
        "kim: e-mail address kim.new@acme.example\n"
    with Store(db) as store:
        with store.read() as connection:
            row = connection.execute(staff_users.select().where(staff_users.c.username == "kim")).first()
        assert row.password_hash == NO_PASSWORD and row.oidc_subject is None  # a new address forgets the subject
        assert Staff(store).authenticate("kim", "!no-password") is None
    assert _run(capsys, monkeypatch, "users", "email", "kim", "--clear", "--db", db)[1] == "kim: no e-mail address\n"


def test_a_sealed_secret_opens_only_for_its_organisation_and_key(tmp_path):
    from profiler.integration.oidc import open_secret

    key = SecretKey.generate()
    sealed = seal_secret(key, "acme", SECRET)
    assert open_secret(key, "acme", sealed).reveal() == SECRET
    assert seal_secret(key, "acme", SECRET) != sealed  # a new nonce each time
    for other_key, tenant, text in [(key, "globex", sealed), (SecretKey.generate(), "acme", sealed),
                                    (key, "acme", sealed[:-4] + "AAAA"), (key, "acme", "plain text")]:
        with pytest.raises(OidcError, match="another server key"):
            open_secret(other_key, tenant, text)
