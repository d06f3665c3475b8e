"""Signing in through the organisation's provider in a real browser (Chromium): the provider is another site,
so the session cookie (SameSite=Strict) must still arrive on the first workspace page; axe on the pages."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from playwright.sync_api import expect

from profiler.integration.oidc import Oidc
from profiler.integration.staff import Staff
from profiler.oversight import AuditLog

from .fake_oidc import CLIENT_ID, CLIENT_SECRET, FakeProvider


def test_sign_in_with_the_organisations_provider(server, store, key, browser, check):
    provider = FakeProvider(lambda: datetime.now(UTC), rsa.generate_private_key(public_exponent=65537, key_size=2048),
                            ec.generate_private_key(ec.SECP256R1()), host="localhost")
    try:
        staff = Staff(store)
        oidc = Oidc(staff, key)
        oidc.configure("acme", issuer=provider.issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                       label="Acme Login", actor="cli:admin")
        staff.set_email("recruiter", "recruiter@acme.example", actor="cli:admin")
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        page = context.new_page()
        page.goto(f"{server.url}/w/sign-in?next=/w/queue")
        check(page, "sign-in-organisation-form")
        page.get_by_label("Your organisation's id in this workspace").fill("acme")
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("link", name="Sign in with Acme Login")).to_be_visible()
        check(page, "sign-in-with-provider")
        page.get_by_role("link", name="Sign in with Acme Login").click()  # to localhost and back
        expect(page.locator("main h1")).to_have_text("Review queue")
        check(page, "queue-after-provider")
        expect(page.locator("nav.staff .who")).to_have_text("recruiter (recruiter, acme)")
        assert list(AuditLog(store).entries(event="staff.signed_in"))[-1].payload["method"] == "oidc"
        assert not [c for c in context.cookies() if c["name"] == "profiler_oidc"]  # the flow is over
        context.close()
    finally:
        provider.close()
