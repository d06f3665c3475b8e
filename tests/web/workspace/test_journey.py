"""Recruiters in a real browser (Chromium): sign in, work the queue, override with a reason, a second person
confirms; axe-core (WCAG 2.2 AA) on every page, screenshots at laptop and tablet width."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from profiler.oversight import AuditLog, Review

from .conftest import PASSWORD

WIDTHS = {"laptop": {"width": 1366, "height": 900}, "tablet": {"width": 820, "height": 1180}}


def _sign_in(page, server, username: str) -> None:
    page.goto(f"{server.url}/w/sign-in")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("main h1")).to_have_text("Workspace")


def _signed_in(browser, server, username: str):
    """A new browser context at laptop width, signed in as ``username``, and its page."""
    context = browser.new_context(viewport=WIDTHS["laptop"])
    page = context.new_page()
    _sign_in(page, server, username)
    return context, page


def _shoot(page, check, label: str) -> None:
    """axe and a screenshot at laptop width, then a screenshot at tablet width."""
    page.set_viewport_size(WIDTHS["laptop"])
    check(page, f"{label}-laptop")
    page.set_viewport_size(WIDTHS["tablet"])
    page.screenshot(path=str(check.folder / f"{len(check.pages):02d}-{label}-tablet.png"), full_page=True)
    page.set_viewport_size(WIDTHS["laptop"])


def test_override_with_a_reason_and_a_second_persons_confirmation(server, staff, store, browser, check):
    staff.set_second_confirmation("acme", True, actor="cli:admin")
    context = browser.new_context(viewport=WIDTHS["laptop"])
    page = context.new_page()
    page.goto(f"{server.url}/w/sign-in")
    _shoot(page, check, "sign-in")
    _sign_in(page, server, "recruiter")
    _shoot(page, check, "home")
    page.get_by_role("link", name="Review queue").click()
    expect(page.locator("main h1")).to_have_text("Review queue")
    _shoot(page, check, "queue")
    page.get_by_role("link", name="cand-a1").click()
    page.wait_for_url(re.compile(r"/w/cases/\d+$"))
    _shoot(page, check, "case")
    rec = next(r for r in Review(store).pending() if r.candidate == "cand-a1")
    outcome = "not advance" if rec.band == "advance" else "advance"
    page.get_by_label("Override: choose the outcome below").check()
    page.get_by_label(outcome, exact=True).check()
    page.get_by_role("button", name="Record the decision").click()  # no reason code, no note: refused
    expect(page.get_by_role("alert")).to_contain_text("Not recorded")
    _shoot(page, check, "case-refused")
    page.get_by_label("Override: choose the outcome below").check()
    page.get_by_label(outcome, exact=True).check()
    page.get_by_label("Reason code").select_option("job_related_evidence")
    page.get_by_label("Note (required").fill("Internship work samples outweigh the questionnaire.")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_role("status")).to_contain_text("Recorded in the audit log")
    expect(page.locator("main")).to_contain_text("You made this decision")
    _shoot(page, check, "case-decided")
    context.close()

    second = browser.new_context(viewport=WIDTHS["laptop"])
    page = second.new_page()
    _sign_in(page, server, "recruiter2")
    page.goto(f"{server.url}/w/queue")
    expect(page.locator("main")).to_contain_text("Overrides waiting for a second person (1)")
    page.locator("main ul a", has_text="cand-a1").first.click()
    page.get_by_role("button", name="Confirm this override").click()
    expect(page.get_by_role("status")).to_contain_text("Recorded in the audit log")
    _shoot(page, check, "case-confirmed")
    second.close()

    [decision] = Review(store).decisions("cand-a1")
    assert (decision.reviewer, decision.role, decision.decision, decision.reason) == (
        "recruiter", "recruiter", "override", "job_related_evidence")
    [confirmation] = Review(store).confirmations("cand-a1")
    assert confirmation.confirmed_by == "recruiter2"
    assert AuditLog(store).verify().ok


def test_pages_work_without_javascript(server, store, browser, check):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    _sign_in(page, server, "auditor")
    page.goto(f"{server.url}/w/queue")
    page.get_by_role("link", name="cand-a0").click()
    expect(page.locator("main")).to_contain_text("1. Read first")
    check(page, "case-auditor", javascript=False)
    assert page.get_by_role("button", name="Record the decision").count() == 0
    context.close()


def test_operator_stops_a_model_and_an_auditor_verifies_the_log(server, store, browser, check):
    context = browser.new_context(viewport=WIDTHS["laptop"])
    page = context.new_page()
    _sign_in(page, server, "operator")
    page.get_by_role("link", name="Job models").click()
    expect(page.locator("main h1")).to_have_text("Job models")
    _shoot(page, check, "models")
    page.get_by_label("Reason (required; logged)").first.fill("complaint about the norm group")
    page.get_by_role("button", name="Stop a job model").click()
    expect(page.get_by_role("status")).to_contain_text("Recorded in the audit log")
    _shoot(page, check, "models-stopped")
    context.close()

    recruiter = browser.new_context(viewport=WIDTHS["laptop"])
    page = recruiter.new_page()
    _sign_in(page, server, "recruiter")
    page.goto(f"{server.url}/w/queue")
    expect(page.locator("main")).to_contain_text("Stopped job models")
    rec = next(r for r in Review(store).pending() if r.band != "review" and r.job_model_id == "customer-support")
    page.goto(f"{server.url}/w/cases/{rec.id}")
    page.get_by_label(re.compile("Accept the recommendation")).check()
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_role("alert")).to_contain_text("cannot be accepted while it is stopped")
    recruiter.close()

    auditor = browser.new_context(viewport=WIDTHS["laptop"])
    page = auditor.new_page()
    _sign_in(page, server, "auditor")
    page.get_by_role("link", name="Oversight").click()
    expect(page.locator("main h1")).to_have_text("Oversight")
    _shoot(page, check, "oversight")
    page.get_by_role("link", name="Verify the audit log").click()
    expect(page.get_by_role("status")).to_contain_text("audit log intact")
    _shoot(page, check, "audit")
    page.goto(f"{server.url}/w/instruments")
    expect(page.locator("main h1")).to_have_text("Questionnaires and job models")
    _shoot(page, check, "instruments")
    auditor.close()
    assert Review(store).decisions() == []


def test_an_auditor_reads_the_fairness_audit_of_a_model_version(server, store, browser, check):
    from profiler.oversight.candidates import DemographicsVault

    vault = DemographicsVault(store)
    for candidate, sex in {"cand-a0": "female", "cand-a1": "female", "cand-a2": "male"}.items():
        vault.record(candidate, {"sex": sex}, actor="form:self-id")
    context, page = _signed_in(browser, server, "auditor")
    page.get_by_role("link", name="Fairness audits").click()
    expect(page.locator("main h1").first).to_have_text("Fairness audit")
    _shoot(page, check, "fairness-choose")
    page.get_by_role("link", name="version 1.0.0").click()
    expect(page.locator("main")).to_contain_text("1. Summary of results")
    expect(page.get_by_role("img", name=re.compile("Impact ratios with 95% CI")).first).to_be_visible()
    _shoot(page, check, "fairness-audit")
    with page.expect_download() as download:
        page.get_by_role("link", name="summary.csv").click()
    assert download.value.suggested_filename == "fairness-customer-support-1.0.0-summary.csv"
    # Printed to keep as a PDF: the content only, without the navigation, forms and download links.
    page.emulate_media(media="print")
    expect(page.locator("nav.staff")).to_be_hidden()
    expect(page.locator(".downloads")).to_be_hidden()
    expect(page.locator("main")).to_contain_text("1. Summary of results")
    pdf = page.pdf(format="A4", print_background=True)
    (check.folder / "fairness-audit.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF-") and len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 2
    context.close()


def test_an_auditor_reads_override_and_contest_rates_over_time(server, store, browser, check):
    from datetime import UTC, datetime

    for month, candidate in ((3, "cand-a0"), (4, "cand-a1")):
        review = Review(store, clock=lambda month=month: datetime(2026, month, 10, 9, tzinfo=UTC))
        rec = next(r for r in review.pending() if r.candidate == candidate)
        outcome = "not_advance" if rec.band == "advance" else "advance"
        decided = review.decide(rec.id, "override", outcome=outcome, reason="other", note="checked",
                                reviewer="recruiter", role="recruiter")
        if month == 4:
            review.contest(decided.id, received_by="hr", statement="please look again")
    context, page = _signed_in(browser, server, "auditor")
    page.goto(f"{server.url}/w/oversight")
    expect(page.get_by_role("img", name="Override rate per reviewer and month")).to_be_visible()
    _shoot(page, check, "oversight-over-time")
    page.get_by_label("Period").select_option("week")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("img", name="Contest rate per job model and week")).to_be_visible()
    with page.expect_download() as download:
        page.locator("a[href^='/w/oversight/models-over-time.csv']").click()
    assert download.value.suggested_filename == "oversight-models-over-time-week.csv"
    context.close()


def test_a_psychologist_reads_calibration_manual_and_what_changed_in_a_job_model(server, store, browser, check,
                                                                                 second_version):
    context, page = _signed_in(browser, server, "psychologist")
    page.get_by_role("link", name="Questionnaires and job models").click()
    expect(page.locator("main")).to_contain_text("Calibration shipped for ipip-bfm-50")
    _shoot(page, check, "instruments-calibration")
    page.get_by_role("link", name="Technical manual of ipip-bfm-50").click()
    expect(page.locator("main")).to_contain_text("1. Description of the questionnaire")
    _shoot(page, check, "manual")
    page.goto(f"{server.url}/w/instruments")
    page.get_by_role("link", name="What changed between two versions of customer-support").click()
    expect(page.locator("main h1")).to_have_text("What changed in customer-support")
    expect(page.locator("main table")).to_contain_text("knock-out (minimum; below it a person reviews)")
    _shoot(page, check, "job-model-diff")
    context.close()


def test_a_second_person_refuses_to_confirm_an_override(server, staff, store, browser, check):
    staff.set_second_confirmation("acme", True, actor="cli:admin")
    rec = next(r for r in Review(store).pending() if r.candidate == "cand-a2")
    outcome = "not_advance" if rec.band == "advance" else "advance"
    Review(store).decide(rec.id, "override", outcome=outcome, reason="other", note="checked",
                         reviewer="recruiter", role="recruiter")
    context, page = _signed_in(browser, server, "recruiter2")
    page.goto(f"{server.url}/w/cases/{rec.id}")
    expect(page.get_by_role("button", name="Refuse to confirm")).to_be_visible()
    _shoot(page, check, "case-awaiting-confirmation")
    page.get_by_label("Why you do not confirm it").fill("The note does not say which evidence outweighs the score.")
    page.get_by_role("button", name="Refuse to confirm").click()
    expect(page.get_by_role("status")).to_contain_text("Recorded in the audit log (refusal")
    expect(page.locator("main")).to_contain_text("Not confirmed:")
    expect(page.get_by_role("button", name="Record the decision")).to_be_visible()
    _shoot(page, check, "case-confirmation-refused")
    context.close()
    [refusal] = Review(store).refusals("cand-a2")
    assert refusal.refused_by == "recruiter2" and AuditLog(store).verify().ok
