"""In Chromium: resuming on a second device, the server killed between two answers, keyboard-only completion,
and a phone's screen (320 px), with axe-core on each page."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from playwright.sync_api import expect

from profiler.administration import Session
from profiler.integration.invitations import get_invitation
from profiler.integration.keys import SecretKey
from profiler.pipeline.invitations import create_invitation
from profiler.store import Store
from tests.web.conftest import free_port

PROJECT = Path(__file__).resolve().parents[2]


def _invite(store, key, **options):
    return create_invitation(store, key, "customer-support", **options)


def _heading(page) -> str:
    return page.locator("main h1").inner_text()


def _answer(page, option: int, expected_next: int) -> None:
    page.get_by_role("radio").nth(option - 1).check()
    page.get_by_role("button", name="Next").click()
    expect(page.locator("main h1")).to_have_text(f"Question {expected_next} of 50")


def _answers(store, invitation_id: str) -> list[float]:
    session = Session.load(store, get_invitation(store, invitation_id).session_id)
    history = session.history()
    return list(history.loc[history["kind"] == "answer", "value"])


def test_resume_on_a_second_device(browser, server, store, key, check):
    new = _invite(store, key)
    laptop = browser.new_context()
    first = laptop.new_page()
    first.goto(f"{server.url}/i/{new.token}")
    first.get_by_role("button", name="I agree, start").click()
    for n in range(1, 4):
        _answer(first, n, n + 1)
    # The same link on a phone: straight to the fourth question, the earlier answers kept.
    phone = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    second = phone.new_page()
    second.goto(f"{server.url}/i/{new.token}")
    assert _heading(second) == "Question 4 of 50" and "3 of 50 answered" in second.locator("main").inner_text()
    check(second, "resumed-on-phone")
    _answer(second, 5, 5)
    # Back on the laptop, the stale page's answer is recognised and nothing is recorded twice.
    first.get_by_role("radio").nth(0).check()
    first.get_by_role("button", name="Next").click()
    expect(first.locator("main h1")).to_have_text("Question 5 of 50")
    assert "out of date" in first.locator("main").inner_text()
    check(first, "stale-notice")
    assert _answers(store, new.invitation.id) == [1.0, 2.0, 3.0, 5.0]
    laptop.close()
    phone.close()


def _start_server(location: str, secret_file: Path, port: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "profiler", "serve", "--db", location, "--secret-file",
                                str(secret_file), "--port", str(port), "--webhook-interval", "0"], cwd=PROJECT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).close()
            return process
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("profiler serve did not start") from None
            time.sleep(0.1)


def test_a_server_killed_between_two_answers_loses_nothing_acknowledged(browser, store_location, tmp_path, check):
    key = SecretKey.generate()
    secret_file = tmp_path / "secret"
    secret_file.write_text(key.to_text() + "\n")
    with Store(store_location) as store:
        new = _invite(store, key)
    port = free_port()
    server = _start_server(store_location, secret_file, port)
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"http://127.0.0.1:{port}/i/{new.token}")
        page.get_by_role("button", name="I agree, start").click()
        _answer(page, 4, 2)
        _answer(page, 2, 3)  # acknowledged: the page for question 3 is showing
        server.send_signal(signal.SIGKILL)  # no shutdown, no flush: as a crash
        server.wait()
        server = _start_server(store_location, secret_file, port)
        page.reload()
        expect(page.locator("main h1")).to_have_text("Question 3 of 50")
        check(page, "after-restart")
        _answer(page, 5, 4)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
        context.close()
    with Store(store_location) as store:
        assert _answers(store, new.invitation.id) == [4.0, 2.0, 5.0]


def test_keyboard_only_completion_with_visible_focus(server, store, key, page, check):
    new = _invite(store, key)
    page.goto(f"{server.url}/i/{new.token}")

    def tab_to(predicate: str, limit: int = 15) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(predicate):
                return
        raise AssertionError(f"no focus reached {predicate}")

    def wait_until(predicate: str) -> None:  # (wait_for_function evaluates a string: the CSP forbids it)
        deadline = time.monotonic() + 10
        while not page.evaluate(predicate):
            assert time.monotonic() < deadline, predicate
            time.sleep(0.02)

    def focus_is_visible() -> bool:
        style = page.evaluate("(() => { const s = getComputedStyle(document.activeElement); "
                              "return [s.outlineStyle, s.outlineWidth]; })()")
        return style[0] != "none" and float(style[1].rstrip("px")) >= 2

    tab_to("document.activeElement.tagName === 'BUTTON' && document.activeElement.value === 'give'")
    assert focus_is_visible()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/c/item$"))
    for n in range(50):
        expect(page.locator("main h1")).to_have_text(f"Question {n + 1} of 50")
        wait_until("document.activeElement.tagName === 'H1'")  # htmx has swapped the page in and moved focus
        tab_to("document.activeElement.type === 'radio'")
        assert focus_is_visible()
        for _ in range(n % 5):
            page.keyboard.press("ArrowDown")  # moves through the options, choosing each
        page.keyboard.press("Space")
        tab_to("document.activeElement.tagName === 'BUTTON' && document.activeElement.value === 'answer'")
        if n == 0:
            check(page, "keyboard-focus-on-next")
        page.keyboard.press("Enter")
    expect(page.locator("main h1")).to_have_text("All questions answered")
    # As after every swap: wait until htmx has moved focus to the heading, or it may take the focus from the
    # button after the Tab and the Enter then presses nothing.
    wait_until("document.activeElement.tagName === 'H1'")
    tab_to("document.activeElement.tagName === 'BUTTON' && document.activeElement.value === 'finish'")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/c/done$"), timeout=120_000)  # finishing runs the assessment: slow on a busy machine
    assert _answers(store, new.invitation.id) == [float(n % 5 + 1) for n in range(50)]


def test_a_phone_at_320_px(browser, server, store, key, check):
    context = browser.new_context(viewport={"width": 320, "height": 640}, is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    page = context.new_page()
    new = _invite(store, key)
    page.goto(f"{server.url}/i/{new.token}")

    def fits() -> bool:  # no sideways scrolling (WCAG 1.4.10 reflow)
        return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    assert fits()
    check(page, "phone-consent")
    page.get_by_role("button", name="I agree, start").click()
    page.wait_for_url(re.compile(r"/c/item$"))
    assert fits()
    check(page, "phone-item")
    targets = page.locator("label.option, main button").all()
    assert len(targets) >= 6
    for target in targets:  # WCAG 2.5.8: targets at least 24 by 24 px
        box = target.bounding_box()
        assert box["height"] >= 24 and box["width"] >= 24, box
    page.locator("label.option").nth(3).tap()
    page.get_by_role("button", name="Next").tap()
    expect(page.locator("main h1")).to_have_text("Question 2 of 50")
    assert _answers(store, new.invitation.id) == [4.0]
    context.close()
