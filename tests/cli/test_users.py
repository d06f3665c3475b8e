"""``profiler org`` and ``profiler users``: organisations and staff accounts from the command line."""

from __future__ import annotations

import io

from profiler.cli import main
from profiler.integration.staff import Staff
from profiler.store import Store
from profiler.store.audit_log import AuditLog


def _run(capsys, monkeypatch, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_organisation_accounts_and_disabling(tmp_path, capsys, monkeypatch):
    db = str(tmp_path / "staff.sqlite")
    assert _run(capsys, monkeypatch, "org", "add", "acme", "--name", "Acme Ltd", "--second-confirmation",
                "--db", db, "--actor", "cli:lee")[:2] == (0, "added organisation acme (Acme Ltd); overrides need "
                                                             "a second person\n")
    code, out, _ = _run(capsys, monkeypatch, "org", "model", "acme", "customer-support", "--db", db)
    assert (code, out) == (0, "organisation acme: job models customer-support\n")
    code, out, _ = _run(capsys, monkeypatch, "users", "add", "kim", "--role", "recruiter", "--organisation", "acme",
                        "--password-stdin", "--db", db, stdin="a long enough password\n")
    assert (code, out) == (0, "added kim (recruiter, organisation acme)\n")
    with Store(db) as store:
        assert Staff(store).authenticate("kim", "a long enough password").role == "recruiter"
    assert _run(capsys, monkeypatch, "users", "list", "--db", db)[1] == "kim\trecruiter\tacme\tactive\n"
    assert _run(capsys, monkeypatch, "users", "disable", "kim", "--db", db)[0] == 0
    assert _run(capsys, monkeypatch, "users", "list", "--db", db)[1] == "kim\trecruiter\tacme\tdisabled\n"
    with Store(db) as store:
        assert Staff(store).authenticate("kim", "a long enough password") is None
        events = [(e.event, e.actor) for e in AuditLog(store)]
    assert events[:3] == [("staff.organisation_added", "cli:lee"), ("staff.job_model_assigned", events[1][1]),
                          ("staff.user_added", events[1][1])]
    assert events[-1][0] == "staff.user_disabled"


def test_mistakes_are_named_without_a_traceback(tmp_path, capsys, monkeypatch):
    db = str(tmp_path / "staff.sqlite")
    code, _, err = _run(capsys, monkeypatch, "users", "add", "kim", "--role", "recruiter", "--organisation", "acme",
                        "--password-stdin", "--db", db, stdin="a long enough password\n")
    assert code == 2 and err == "profiler users: no organisation 'acme'\n"
    _run(capsys, monkeypatch, "org", "add", "acme", "--name", "Acme", "--db", db)
    code, _, err = _run(capsys, monkeypatch, "users", "add", "kim", "--role", "recruiter", "--organisation", "acme",
                        "--password-stdin", "--db", db, stdin="short\n")
    assert code == 2 and "a password has 12 to 1024 characters" in err


def test_passwords_typed_twice_must_agree(tmp_path, capsys, monkeypatch):
    db = str(tmp_path / "staff.sqlite")
    _run(capsys, monkeypatch, "org", "add", "acme", "--name", "Acme", "--db", db)
    typed = iter(["a long enough password", "another long password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(typed))
    code, _, err = _run(capsys, monkeypatch, "users", "add", "kim", "--role", "recruiter", "--organisation", "acme",
                        "--db", db)
    assert code == 2 and "the two passwords differ; nothing changed" in err
