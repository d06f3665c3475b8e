"""Attack: read a database password from what profiler prints, raises or logs.

A password is planted in the store's URL (a test dialect, ``sqlitepw://``, is SQLite that accepts and ignores
credentials, so every command really runs against a URL as it would against PostgreSQL), and in URLs of backends that cannot be reached or parsed; every command's standard output and error,
every log record (all loggers at DEBUG, SQLAlchemy's included), every exception message and every file the
commands write are searched for it, as written and URL-encoded.
"""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

from profiler.cli import main
from profiler.store import Store, StoreError
from profiler.store.redaction import redact_text, redact_url, url_secrets

PASSWORD = "Pl4nted/S3cret:pw"
FORMS = (PASSWORD, quote(PASSWORD, safe=""))
ROOT = Path(__file__).parents[2]
MINI = ROOT / "tests" / "fixtures" / "questionnaires" / "mini.yaml"


class PasswordSQLite(SQLiteDialect_pysqlite):
    """SQLite behind a URL with a user and password (ignored), like a server database's URL."""

    supports_statement_cache = True

    def create_connect_args(self, url):
        return super().create_connect_args(url._replace(username=None, password=None))


registry.register("sqlitepw", __name__, "PasswordSQLite")


def _url(path: Path) -> str:
    return f"sqlitepw://kim:{quote(PASSWORD, safe='')}@/{path}"


def _assert_clean(text: str, where: str) -> None:
    for form in FORMS:
        assert form not in text, f"the planted password appears in {where}: {text[:2000]}"


@pytest.fixture
def all_logs(caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "profiler"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield caplog
    for name in ("sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "profiler"):
        logging.getLogger(name).setLevel(logging.NOTSET)


def test_redaction_of_urls_and_messages():
    url = f"postgresql+psycopg://kim:{quote(PASSWORD, safe='')}@db.example.org:5432/hiring?sslmode=require"
    assert redact_url(url) == "postgresql+psycopg://kim:***@db.example.org:5432/hiring?sslmode=require"
    assert redact_url("postgresql://kim@db/h?password=abc123&sslpassword=x9y8&application_name=p") == \
        "postgresql://kim@db/h?password=***&sslpassword=***&application_name=p"
    assert redact_url("mysql://kim:pw@host/db") == "mysql://kim:***@host/db"
    assert redact_url("/srv/hiring.sqlite") == "/srv/hiring.sqlite"
    assert redact_url("not a url://kim:pw@") == "not a url://kim:***@"  # no valid URL: still hidden
    assert set(url_secrets(url)) == {quote(PASSWORD, safe=""), PASSWORD}
    message = f"FATAL: password {PASSWORD} rejected for {url}"
    _assert_clean(redact_text(message, url), "a redacted message")
    assert redact_text("user kim", "postgresql://kim:ab@db/h") == "user kim"  # short secrets: only in the URL


def test_store_errors_and_repr_never_show_the_password(tmp_path, all_logs):
    store = Store(_url(tmp_path / "s.db"))
    _assert_clean(repr(store) + store.name, "the store's repr and name")
    store.close()
    attempts = [
        f"postgresql+psycopg://kim:{quote(PASSWORD, safe='')}@127.0.0.1:1/hiring",  # no driver or no server
        f"postgresql://kim:{quote(PASSWORD, safe='')}@127.0.0.1:notaport/hiring",  # malformed
        f"nosuchdialect://kim:{quote(PASSWORD, safe='')}@host/db",
        f"postgresql://kim@127.0.0.1:1/hiring?password={quote(PASSWORD, safe='')}",
    ]
    (tmp_path / "junk.db").write_bytes(b"this is not a database" * 100)
    attempts.append(_url(tmp_path / "junk.db"))  # corrupt: the driver's message is quoted
    for url in attempts:
        with pytest.raises(StoreError) as caught:
            Store(url, create=False)
        _assert_clean(str(caught.value), f"the error opening {redact_url(url)}")
    _assert_clean(all_logs.text, "the log records")


def _run(monkeypatch, capsys, argv: list[str], stdin: str = "") -> str:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(argv)
    captured = capsys.readouterr()
    text = captured.out + captured.err
    _assert_clean(text, f"the output of profiler {' '.join(argv[:2])} (exit {code})")
    return text


def test_no_command_prints_the_password(tmp_path, monkeypatch, capsys, all_logs):
    monkeypatch.chdir(tmp_path)
    db = _url(tmp_path / "hiring.db")
    out = _run(monkeypatch, capsys, ["take", str(MINI), "--db", db, "--seed", "1", "--respondent", "cand-1"],
               "s\n2\n")
    assert "--db 'sqlitepw://kim:***@" in out and "the password of --db is not shown" in out
    out = _run(monkeypatch, capsys, ["audit", "verify", "--db", db])
    assert "audit log intact" in out
    for argv in (["model", "stop", "customer-support", "--operator", "ops1", "--reason", "test"],
                 ["model", "status"], ["model", "resume", "customer-support", "--operator", "ops1", "--reason", "ok"],
                 ["candidate", "hold", "cand-1", "--reason", "claim"],
                 ["candidate", "export", "cand-1", "--output", str(tmp_path / "export.json")],
                 ["candidate", "erase", "cand-1", "--reason", "request", "--yes"],
                 ["candidate", "purge", "--dry-run"], ["review", "pending"], ["review", "show", "cand-1"],
                 ["report", "candidate", "cand-1"], ["audit", "verify"]):
        _run(monkeypatch, capsys, [*argv[:2], *argv[2:], "--db", db] if argv[0] != "review" else
             [*argv, "--db", db])
    # Errors: a store that is not there, a server that cannot be reached, a URL that cannot be read.
    for bad in (_url(tmp_path / "missing.db"), f"postgresql://kim:{quote(PASSWORD, safe='')}@127.0.0.1:1/x",
                f"postgresql://kim:{quote(PASSWORD, safe='')}@127.0.0.1:notaport/x"):
        _run(monkeypatch, capsys, ["audit", "verify", "--db", bad])
        _run(monkeypatch, capsys, ["take", str(MINI), "--db", bad, "--resume", "0123"])
    for written in tmp_path.rglob("*"):
        if written.is_file() and not written.name.startswith("hiring.db"):
            _assert_clean(written.read_text(encoding="utf-8", errors="replace"), f"the file {written.name}")
    _assert_clean(all_logs.text, "the log records")


def test_database_from_the_environment_keeps_the_password_off_the_command_line(tmp_path):
    db = _url(tmp_path / "env.db")
    env = {**__import__("os").environ, "PROFILER_DB": db}
    code = ("import sys; from sqlalchemy.dialects import registry; "
            "registry.register('sqlitepw', 'tests.attacks.test_secrets', 'PasswordSQLite'); "
            "from profiler.cli import main; sys.exit(main(sys.argv[1:]))")
    result = subprocess.run([sys.executable, "-c", code, "take", str(MINI), "--seed", "1"], input="s\n",
                            capture_output=True, text=True, timeout=120, env={**env, "PYTHONPATH": str(ROOT)},
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    _assert_clean(result.stdout + result.stderr, "the output of a subprocess")
    resume = next(line for line in result.stdout.splitlines() if "--resume" in line)
    assert "--db" not in resume  # the same PROFILER_DB resumes it
    assert (tmp_path / "env.db").exists()
