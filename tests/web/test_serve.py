"""``profiler serve`` as a user starts it: a separate process on a free loopback port, stopped with Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL, postgres_schema
from tests.web.conftest import free_port

PROJECT = Path(__file__).resolve().parents[2]


@contextmanager
def serving(*arguments: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, list[str]]]:
    """``profiler serve ARGUMENTS`` until it answers; yields its address and the lines it prints (as they come)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "profiler", "serve", "--port", str(port), *arguments],
                               cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, **(env or {})})
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(line.rstrip("\n") for line in process.stdout), daemon=True)
    reader.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/", timeout=2).close()
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("the server did not start:\n" + "\n".join(lines)) from None
                time.sleep(0.1)
        yield base, lines
    finally:
        process.send_signal(signal.SIGINT)  # as Ctrl-C: uvicorn shuts down and the store is closed
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=10)
        process.stdout.close()
    assert process.returncode == 0, "\n".join(lines)


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """A GET that does not follow redirects."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(urllib.request.Request(url, headers=headers or {}),
                                                          timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, dict(exc.headers), exc.read()


def test_serve_demo_prints_working_links_and_an_api_key():
    with serving("--demo", "--webhook-interval", "0") as (base, lines):
        printed = "\n".join(lines)
        assert printed.startswith("profiler serve: store ") and f"demo.sqlite, listening on {base}" in printed
        links = re.findall(rf"{re.escape(base)}/i/\S+", printed)
        assert len(links) == 3
        for link in links:
            status, headers, _ = get(link)
            assert status == 303 and headers["location"] == "/c/consent"
        [api_key] = re.findall(r"Bearer (pk_\S+)'", printed)
        status, _, body = get(f"{base}/api/v1/job-models", {"Authorization": f"Bearer {api_key}"})
        assert status == 200 and {m["id"] for m in json.loads(body)} >= {"customer-support", "software-engineer"}
        # Staff accounts of every role, with passwords made for this run, that sign in to the store served.
        roles = "recruiter|hiring_manager|psychologist|auditor|operator|admin"
        accounts = dict(re.findall(rf"^  (\S+) +(?:{roles}) +(\S+)$", printed, re.M))
        assert set(accounts) == {"recruiter", "hiring-manager", "psychologist", "auditor", "operator", "admin"}
        assert f"The staff workspace: {base}/w (6 simulated candidates" in printed
        [location] = re.findall(r"store (\S+demo\.sqlite), listening", printed)
        from profiler.integration.staff import Staff
        from profiler.store import Store

        with Store(location, create=False) as store:
            assert Staff(store).authenticate("auditor", accounts["auditor"]).role == "auditor"


@pytest.mark.skipif(not POSTGRES_URL, reason="no PostgreSQL server for the tests: set PROFILER_TEST_POSTGRES_URL")
def test_serve_on_postgresql_never_prints_the_password(tmp_path):
    with postgres_schema() as url:
        password = url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
        assert len(password) >= 4
        secret_file = tmp_path / "secret"
        with serving("--secret-file", str(secret_file), "--webhook-interval", "0",
                     env={"PROFILER_DB": url}) as (base, lines):
            assert get(base + "/i/inv_nothing.x")[0] == 404
        printed = "\n".join(lines)
        assert "listening on" in printed and "***" in printed and password not in printed
        assert oct(secret_file.stat().st_mode & 0o777) == "0o600"
