"""Fixtures of the web tests: a live server (uvicorn in a thread, on a free loopback port), Debian's Chromium
driven by Playwright, axe-core on every page, and screenshots kept under test-artifacts/web/ (ignored by git).

Browser tests skip, with the reason, where Chromium or Playwright is missing (.ci/run installs Chromium).
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from profiler.integration.keys import SecretKey

PROJECT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT / "test-artifacts" / "web"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """The app served by uvicorn in a background thread; ``url`` is its base address."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error", access_log=False,
                                lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


@pytest.fixture
def key() -> SecretKey:
    return SecretKey.generate()


@pytest.fixture
def server(store, key) -> Iterator[LiveServer]:
    from profiler.web.app import create_app

    with LiveServer(create_app(store, key)) as live:
        yield live


@pytest.fixture(scope="session")
def browser():
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it with apt)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    opened = context.new_page()
    yield opened
    context.close()


class Checker:
    """axe-core (tags wcag2a, wcag2aa, wcag21aa, wcag22aa) and a screenshot for each page a test visits."""

    def __init__(self, name: str) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.axe = Axe()
        self.folder = ARTIFACTS / name
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.pages: list[str] = []

    def __call__(self, page, label: str, *, javascript: bool = True) -> None:
        """Screenshot ``page`` and run axe on it. axe runs in the page, so for a page of a context without
        JavaScript (``javascript=False``) it runs on the same address (GETs change nothing) opened with the
        same cookies in a context with JavaScript."""
        page.wait_for_load_state("load")
        self.pages.append(label)
        page.screenshot(path=str(self.folder / f"{len(self.pages):02d}-{label}.png"), full_page=True)
        if javascript:
            self._axe(page, label)
            return
        twin_context = page.context.browser.new_context()
        twin_context.add_cookies(page.context.cookies())
        twin = twin_context.new_page()
        twin.goto(page.url)
        self._axe(twin, label)
        twin_context.close()

    def _axe(self, page, label: str) -> None:
        results = self.axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS},
                                              "resultTypes": ["violations"]})
        assert results.violations_count == 0, f"{label}: {results.generate_report()}"


@pytest.fixture
def check(request) -> Checker:
    return Checker(request.node.name.replace("[", "-").replace("]", ""))
