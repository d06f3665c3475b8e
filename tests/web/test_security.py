"""The candidates' pages under attack, on SQLite and PostgreSQL: links used again, expired or withdrawn, guessed
and forged; one candidate's cookie against another's session; every form without its token, with another's, or
posted from another site; hostile text; rate limits. Nothing a refused request sends is written."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from profiler.integration.invitations import get_invitation
from profiler.pipeline.answering import act, current_session
from profiler.pipeline.invitations import Organisation, create_invitation, revoke_invitation
from profiler.store.tables import audit_log, consents, session_events
from profiler.web import candidate
from profiler.web.app import create_app
from profiler.web.settings import WebSettings
from tests.conftest import sql

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def app(store, key):
    return create_app(store, key)


def browser(app) -> TestClient:
    """A browser of its own (its own cookies), not following redirects."""
    return TestClient(app, follow_redirects=False)


def invite(store, key, **options):
    new = create_invitation(store, key, "customer-support", **options)
    return new.invitation, f"/i/{new.invitation.token(key)}"


def written(store) -> tuple[int, int, int]:
    with store.read() as connection:
        return tuple(connection.execute(select(func.count()).select_from(t)).scalar_one()
                     for t in (audit_log, consents, session_events))


def form_of(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))


def start(client: TestClient, link: str) -> dict[str, str]:
    """Open the link, consent; the hidden fields of the first item's form."""
    assert client.get(link).status_code == 303
    token = form_of(client.get("/c/consent").text)["csrf"]
    assert client.post("/c/consent", data={"csrf": token, "decision": "give"}).headers["location"] == "/c/item"
    return form_of(client.get("/c/item").text)


def test_a_used_link_opens_only_its_end(store, key, app):
    invitation, link = invite(store, key)
    with browser(app) as client:
        fields = start(client, link)
        take_rest(store, invitation.id)
        before = written(store)
        assert client.get(link).headers["location"] == "/c/done"
        assert client.post("/c/item", data={**fields, "action": "answer", "answer": "4"}).headers["location"] == \
            "/c/done"
        assert client.get("/c/item").headers["location"] == "/c/done"
        assert written(store) == before
    # Declined: the link shows the refusal and nothing more; a consent posted afterwards changes nothing.
    declined, declined_link = invite(store, key)
    with browser(app) as other:
        other.get(declined_link)
        token = form_of(other.get("/c/consent").text)["csrf"]
        other.post("/c/consent", data={"csrf": token, "decision": "refuse"})
        before = written(store)
        assert other.get(declined_link).headers["location"] == "/c/declined"
        assert other.post("/c/consent", data={"csrf": token, "decision": "give"}).status_code == 410
        assert other.get("/c/item").headers["location"] == "/c/declined"
        assert written(store) == before and get_invitation(store, declined.id).status == "declined"


def take_rest(store, invitation_id: str) -> None:
    """Answer every item through the pipeline (the candidate's other device) and finish."""
    invitation = get_invitation(store, invitation_id)
    while (prompt := (session := current_session(store, invitation)).current()) is not None:
        assert act(store, invitation, "answer", seq=session.seq, item=prompt.item_id, typed="3").status == "recorded"
    assert act(store, invitation, "finish", seq=session.seq).status == "finished"


def test_expired_and_withdrawn_links_are_gone(store, key, app):
    expired, expired_link = invite(store, key)
    sql(store, "UPDATE invitations SET expires_at = :t WHERE id = :i", t=datetime.now(UTC) - timedelta(minutes=1),
        i=expired.id)
    revoked, revoked_link = invite(store, key)
    with browser(app) as client:
        started = start(client, revoked_link)
        revoke_invitation(store, revoked.id, actor="ops", reason="position filled")
        before = written(store)
        assert client.post("/c/item", data={**started, "action": "answer", "answer": "3"}).status_code == 303
        assert client.get(revoked_link).status_code == 410
        assert written(store) == before
    with browser(app) as client:
        response = client.get(expired_link)
        assert response.status_code == 410 and "set-cookie" not in response.headers


def test_a_cookie_reaches_only_its_own_session(store, key, app):
    _, link_a = invite(store, key)
    b, link_b = invite(store, key)
    with browser(app) as alice, browser(app) as bob:
        fields_a = start(alice, link_a)
        fields_b = start(bob, link_b)
        before = written(store)
        # Alice's cookie with Bob's form: refused, and Bob's session is untouched.
        assert alice.post("/c/item", data={**fields_b, "action": "answer", "answer": "5"}).status_code == 403
        # A cookie naming Bob's invitation without the key's signature is no cookie at all.
        cookie = alice.cookies.get("profiler_invitation") or next(iter(alice.cookies.values()))
        forged = f"{b.id}.{cookie.split('.', 1)[1]}"
        alice.cookies.clear()
        alice.cookies.set(next(iter(bob.cookies.keys())), forged, path="/c")
        assert alice.get("/c/item").status_code == 401
        assert alice.post("/c/item", data={**fields_b, "action": "answer", "answer": "5"}).status_code == 401
        assert written(store) == before
        assert fields_a["csrf"] != fields_b["csrf"]


def test_every_form_needs_its_token_and_this_site(store, key, app):
    # Every form of the candidates' pages (the API's POSTs take a key, not a cookie: no cross-site forgery).
    posts = sorted(route.path for route in candidate.router.routes if "POST" in getattr(route, "methods", ()))
    assert posts == ["/c/consent", "/c/item"]
    _, link = invite(store, key)
    _, other_link = invite(store, key)
    with browser(app) as client, browser(app) as stranger:
        client.get(link)
        consent_token = form_of(client.get("/c/consent").text)["csrf"]
        stranger.get(other_link)
        foreign_token = form_of(stranger.get("/c/consent").text)["csrf"]
        forms = {"/c/consent": {"decision": "give"}, "/c/item": {"action": "answer", "answer": "4", "seq": "0",
                                                                "item": "E1"}}
        before = written(store)
        for path in posts:
            data = forms[path]
            assert client.post(path, data=data).status_code == 403, path  # no token
            assert client.post(path, data={**data, "csrf": foreign_token}).status_code == 403, path
            altered = consent_token[:5] + ("B" if consent_token[5] == "A" else "A") + consent_token[6:]
            assert client.post(path, data={**data, "csrf": altered}).status_code == 403, path
            for origin in ({"Origin": "https://evil.example"}, {"Referer": "https://evil.example/page"},
                           {"Origin": "null"}):
                refused = client.post(path, data={**data, "csrf": consent_token}, headers=origin)
                assert refused.status_code == 403, (path, origin)
        assert written(store) == before
        # The same form with its token, from this site, goes through.
        assert client.post("/c/consent", data={"csrf": consent_token, "decision": "give"},
                           headers={"Origin": "http://testserver"}).status_code == 303
        assert written(store) != before


def test_hostile_text_is_escaped(store, key):
    settings = WebSettings(organisation=Organisation(name=HOSTILE, contact=HOSTILE))
    _, link = invite(store, key, reference=HOSTILE.replace("<", "(")[:200])
    with browser(create_app(store, key, settings)) as client:
        client.get(link)
        page = client.get("/c/consent")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "onerror=alert(1)>" not in page.text
    assert "&lt;script&gt;" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_guessed_links_are_rate_limited_per_address(store, key, app):
    _, link = invite(store, key)
    with browser(app) as client:
        guesses = [client.get(f"/i/inv_{n:022d}.{'A' * 43}").status_code for n in range(10)]
        assert guesses == [404] * 10
        limited = client.get(link)  # even a good link, from this address, for a while
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        assert "set-cookie" not in limited.headers


def test_store_calls_run_on_the_configured_number_of_threads(store, key):
    # A few worker threads, not anyio's 40: each extra thread waiting for a lock adds its wait to the others.
    from anyio import to_thread

    for threads in (2, WebSettings().threads):
        with TestClient(create_app(store, key, WebSettings(threads=threads))) as client:
            assert client.portal.call(lambda: to_thread.current_default_thread_limiter().total_tokens) == threads
            assert client.get("/").status_code == 200
    assert WebSettings().threads == 4


def test_finishing_runs_on_its_own_limiter_of_one(store, key):
    # The assessment a finish runs takes ~100 ms of CPU: one at a time, beside the worker threads.
    import threading
    import time

    import anyio

    app = create_app(store, key)
    context = app.state.profiler
    assert context.heavy.total_tokens == 1
    running, most = [0], [0]
    guard = threading.Lock()

    def work(n: int) -> int:
        with guard:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)  # long enough for the other call to start if it could
        with guard:
            running[0] -= 1
        return n * 2

    async def both() -> list[int]:
        results: list[int] = []

        async def one(n: int) -> None:
            results.append(await context.run_heavy(work, n))

        async with anyio.create_task_group() as group:
            for n in (1, 2, 3):
                group.start_soon(one, n)
        return sorted(results)

    with TestClient(app) as client:  # its own event loop in its own thread (another test may hold this one's)
        assert client.portal.call(both) == [2, 4, 6]
    assert most[0] == 1  # never two at once
