"""Fixtures of the report tests: a constructed candidate case, a cohort and an audit, all from files under
tests/fixtures/reports (so the golden pages depend on the rendering only), and headless Chromium."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("profiler_report_test_fixtures", HERE / "_fixtures.py")
fixtures_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixtures_module)
FIXTURES = fixtures_module.FIXTURES


@pytest.fixture(scope="session")
def lib():
    """The plain functions of _fixtures.py (render_all, audit_frame, FIXTURES, ...)."""
    return fixtures_module


@pytest.fixture(scope="session")
def case_data() -> dict:
    return json.loads((FIXTURES / "case.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def case():
    return fixtures_module.load_case()


@pytest.fixture(scope="session")
def cohort():
    return fixtures_module.load_cohort()


@pytest.fixture(scope="session")
def audit():
    return fixtures_module.make_audit()


# Headless Chromium -----------------------------------------------------------------------------------------
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage")


def find_chromium() -> str | None:
    explicit = os.environ.get("PROFILER_CHROMIUM")
    if explicit:
        return explicit
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def chromium():
    """A function ``run(html_path, *flags) -> CompletedProcess`` of headless Chromium; skips without one."""
    binary = find_chromium()
    if binary is None:
        pytest.skip("no Chromium found (apt-get install chromium, or set PROFILER_CHROMIUM): the browser "
                    "rendering and PDF printing of the reports are not tested here")

    def run(page: Path, profile_dir: Path, *flags: str) -> subprocess.CompletedProcess:
        return subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile_dir}", *flags, page.as_uri()],
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)

    return run
