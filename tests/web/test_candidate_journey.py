"""A candidate's whole journey in a real browser (Chromium), with axe-core on every page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from profiler.integration.invitations import get_invitation
from profiler.oversight import Review
from profiler.pipeline.invitations import create_invitation


def _invite(store, key, **options):
    return create_invitation(store, key, "customer-support", **options)


def answer_all(page, check, *, key_of=lambda i: (i % 5) + 1) -> int:
    """Answer every item by clicking its option's label, then finish; return the number answered."""
    answered = 0
    while True:
        heading = page.locator("main h1").inner_text()
        if heading.startswith("All questions"):
            break
        page.get_by_role("radio").nth(key_of(answered) - 1).check()
        page.get_by_role("button", name="Next").click()
        answered += 1
        expect(page.locator("main h1")).to_have_text(
            re.compile(rf"^(Question {answered + 1} of \d+|All questions answered)$"))
        if answered == 1:
            check(page, "item-2")
    check(page, "finish")
    page.get_by_role("button", name="Finish and send").click()
    page.wait_for_url(re.compile(r"/c/done$"), timeout=120_000)  # finishing runs the assessment: slow on a busy machine
    return answered


def test_full_journey_with_javascript(server, store, key, page, check):
    new = _invite(store, key, report_to_candidate=True)
    page.goto(f"{server.url}/i/{new.token}")
    assert page.url.endswith("/c/consent")
    assert page.locator("html").get_attribute("lang") == "en"
    text = page.locator("main").inner_text()
    for words in ("Customer support agent", "What is measured and why", "A person at", "contest", "erasure",
                  "pseudonym", "50 short statements"):
        assert words in text, words
    check(page, "consent")
    page.get_by_role("button", name="I agree, start").click()
    page.wait_for_url(re.compile(r"/c/item$"))
    assert page.evaluate("typeof htmx") == "object"  # the page is enhanced: htmx is loaded from /static
    check(page, "item-1")
    assert answer_all(page, check) == 50
    check(page, "done")
    done = page.locator("main").inner_text()
    assert "What happens next" in done and "contest" in done
    invitation = get_invitation(store, new.invitation.id)
    assert invitation.status == "assessed"
    # Every answer the browser gave is stored, once, in order; the case waits for a person.
    from profiler.administration import Session

    session = Session.load(store, invitation.session_id)
    assert session.finished and list(session.answers().values()) == [float((i % 5) + 1) for i in range(50)]
    assert (session.history()["kind"] == "answer").sum() == 50
    assert [r.candidate for r in Review(store).pending()] == [invitation.candidate_id]
    page.get_by_role("link", name="Read your report").click()
    assert "report" in page.title().lower() or page.locator("h1").count() >= 1
    page.screenshot(path=str(check.folder / "report.png"), full_page=True)


def test_journey_without_javascript_and_decline(browser, server, store, key, check):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    new = _invite(store, key, language="fr")
    page.goto(f"{server.url}/i/{new.token}")
    assert page.locator("html").get_attribute("lang") == "fr"
    check(page, "consent-fr", javascript=False)
    page.get_by_role("button", name="J’accepte, commencer").click()
    for expected in range(3):
        assert page.locator("main h1").inner_text() == f"Question {expected + 1} sur 50"
        page.get_by_role("radio").nth(2).check()
        page.get_by_role("button", name="Suivant").click()
    check(page, "item-4-fr", javascript=False)
    page.get_by_role("button", name="Retour").click()
    assert page.locator("main h1").inner_text() == "Question 3 sur 50"
    assert page.get_by_role("radio").nth(2).is_checked()  # the earlier answer is shown
    # Nothing chosen: the server says so, in French, and records nothing.
    declined = _invite(store, key, language="de")
    other = browser.new_context(java_script_enabled=False)
    second = other.new_page()
    second.goto(f"{server.url}/i/{declined.token}")
    second.get_by_role("button", name="Nicht einverstanden").click()
    assert "abgelehnt" in second.locator("main").inner_text()
    check(second, "declined-de", javascript=False)
    invitation = get_invitation(store, declined.invitation.id)
    assert invitation.status == "declined" and invitation.session_id is None
    second.goto(f"{server.url}/i/{declined.token}")  # the link is spent: only the end page
    assert "/c/declined" in second.url
    other.close()
    context.close()


@pytest.mark.parametrize("token", ["nonsense", "inv_AAAAAAAAAAAAAAAAAAAAAA.AAAA"])
def test_a_bad_link_gets_a_plain_page(server, page, check, token):
    response = page.goto(f"{server.url}/i/{token}")
    assert response.status == 404
    assert "This link does not work" in page.locator("h1").inner_text()
    check(page, "bad-link")


def test_erasure_removes_an_invited_candidate_with_their_invitation(store, key):
    from profiler.administration import Session
    from profiler.oversight import erase_candidate
    from profiler.pipeline.answering import act
    from profiler.pipeline.invitations import Organisation, consent_notice, give_consent

    new = _invite(store, key, reference="ATS-application-77")
    invitation = give_consent(store, new.invitation, consent_notice(new.invitation, Organisation(), store))
    assert act(store, invitation, "answer", seq=0, item="E1", typed="4").status == "recorded"
    receipt = erase_candidate(store, invitation.candidate_id, actor="dpo", reason="erasure request")
    assert receipt.sessions == 1 and receipt.answers == 1
    with pytest.raises(Exception, match="no invitation"):
        get_invitation(store, invitation.id)
    with pytest.raises(Exception, match="no session"):
        Session.load(store, invitation.session_id)
    from profiler.oversight import AuditLog

    assert AuditLog(store).verify().ok
