"""``profiler org oidc`` and the accounts' e-mail addresses and subjects: the secret never printed or logged."""

from __future__ import annotations

import io
import json

from profiler.cli import main
from profiler.integration.oidc import Oidc
from profiler.integration.staff import NO_PASSWORD, Staff
from profiler.store import Store
from profiler.store.audit_log import AuditLog
from profiler.store.tables import staff_users

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
    code, out, err = _run(capsys, monkeypatch, "org", "oidc", "set", "acme", "--issuer", "https://login.acme.example",
                          "--client-id", "profiler", "--client-secret-stdin", "--email-domain", "acme.example",
                          "--email-domain", "@Acme-Corp.example", "--db", db, stdin=SECRET + "\n")
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
        assert config.client_secret.reveal() == SECRET and not config.password_sign_in and config.listed
        assert SECRET not in repr(config) and str(config.client_secret) == "***"
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
