"""Signing in to the workspace: passwords, lockout, rate limit, session fixation, CSRF, sign-out, disabling."""

from __future__ import annotations

from datetime import timedelta

import pytest

from profiler.integration.staff import MAX_FAILURES, StaffError
from profiler.store.audit_log import AuditLog
from profiler.store.tables import staff_sessions, staff_users

from .conftest import PASSWORD, csrf_of, sign_in, signed_in_as

BOTH_BACKENDS = True  # each test also on PostgreSQL (conftest.py)


def test_sign_in_opens_the_home_page_with_a_new_session(client, store):
    response = sign_in(client, "recruiter")
    assert response.status_code == 303 and response.headers["location"] == "/w"
    cookie = response.headers["set-cookie"]
    assert "profiler_staff=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie.replace(
        "SameSite=Strict", "SameSite=strict") and "Path=/w" in cookie
    home = client.get("/w")
    assert home.status_code == 200 and "Signed in as recruiter, recruiter of acme" in home.text
    entries = [e for e in AuditLog(store).entries(event="staff.signed_in")]
    assert [(e.actor, e.payload["role"], e.payload["organisation"]) for e in entries] == [
        ("staff:recruiter", "recruiter", "acme")]


@pytest.mark.parametrize("username,password", [("recruiter", "wrong password, long"), ("nobody", PASSWORD)])
def test_a_failed_sign_in_does_not_say_which_part_was_wrong(client, username, password):
    response = sign_in(client, username, password)
    assert response.status_code == 401
    assert "The user name or password is wrong, or the account is disabled or locked" in response.text
    assert "profiler_staff=" not in response.headers.get("set-cookie", "")
    assert client.get("/w").status_code == 303


def test_signed_out_visitors_are_sent_to_sign_in_and_back(client):
    response = client.get("/w")
    assert response.status_code == 303 and response.headers["location"] == "/w/sign-in?next=/w"
    back = sign_in(client, "auditor", next="/w")
    assert back.headers["location"] == "/w"


@pytest.mark.parametrize("target", ["https://evil.example/w/x", "//evil.example/w", "/c/consent", "/w\\..\\x"])
def test_sign_in_never_redirects_off_the_workspace(client, target):
    assert sign_in(client, "auditor", next=target).headers["location"] == "/w"


def test_session_fixation_a_token_planted_before_sign_in_is_never_the_session(client, staff):
    form = client.get("/w/sign-in")
    planted = staff.start_session(staff.user("auditor"))  # the attacker's own session, planted in the victim
    client.cookies.set("profiler_staff", planted, path="/w")
    response = client.post("/w/sign-in", data={"csrf": csrf_of(form.text), "username": "recruiter",
                                               "password": PASSWORD})
    issued = response.cookies.get("profiler_staff")
    assert issued and issued != planted
    assert staff.session_user(planted) is None  # the planted session ended
    assert staff.session_user(issued).username == "recruiter"


def test_five_failures_lock_the_account_for_fifteen_minutes(client, staff, clock, store):
    for _ in range(MAX_FAILURES):
        assert sign_in(client, "recruiter", "wrong password, long").status_code == 401
    assert sign_in(client, "recruiter").status_code == 401  # the right password, but locked
    assert staff.user("recruiter").locked_until == clock.now + timedelta(minutes=15)
    locked = [e.payload for e in AuditLog(store).entries(event="staff.locked_out")]
    assert [(p["username"], p["failures"]) for p in locked] == [("recruiter", MAX_FAILURES)]
    clock.advance(minutes=14)
    assert sign_in(client, "recruiter").status_code == 401
    clock.advance(minutes=2)
    assert sign_in(client, "recruiter").status_code == 303
    assert staff.user("recruiter2").locked_until is None  # other accounts untouched


def test_failures_from_one_address_are_rate_limited(client):
    for n in range(10):
        assert sign_in(client, f"nobody{n}", "wrong password, long").status_code == 401
    response = sign_in(client, "recruiter")
    assert response.status_code == 429 and int(response.headers["retry-after"]) >= 1


def test_sign_in_form_needs_its_token_and_this_site(client):
    page = client.get("/w/sign-in")
    good = {"csrf": csrf_of(page.text), "username": "recruiter", "password": PASSWORD}
    assert client.post("/w/sign-in", data={**good, "csrf": "x" * 43}).status_code == 403
    assert client.post("/w/sign-in", data=good, headers={"origin": "https://evil.example"}).status_code == 403
    client.cookies.delete("profiler_sign_in", path="/w")
    assert client.post("/w/sign-in", data=good).status_code == 403
    assert client.get("/w").status_code == 303  # none of them signed in


def test_posts_need_the_sessions_form_token(client, staff):
    csrf = signed_in_as(client, staff, "recruiter")
    assert client.post("/w/sign-out", data={}).status_code == 403
    assert client.post("/w/sign-out", data={"csrf": "A" * 43}).status_code == 403
    other = signed_in_as(client, staff, "recruiter2")  # a token of another session is worthless here
    client.cookies.set("profiler_staff", staff.start_session(staff.user("recruiter")), path="/w")
    assert client.post("/w/sign-out", data={"csrf": other}).status_code == 403
    assert client.post("/w/sign-out", data={"csrf": csrf}).status_code == 403  # an ended session's token
    fresh = csrf_of(client.get("/w").text)
    assert client.post("/w/sign-out", data={"csrf": fresh}, headers={"origin": "https://evil.example"}
                       ).status_code == 403
    out = client.post("/w/sign-out", data={"csrf": fresh})
    assert out.status_code == 303 and out.headers["location"] == "/w/sign-in"
    assert client.get("/w").status_code == 303


def test_sign_out_ends_the_session_in_the_store(client, staff, store):
    csrf = signed_in_as(client, staff, "auditor")
    token = client.cookies.get("profiler_staff")
    client.post("/w/sign-out", data={"csrf": csrf})
    assert staff.session_user(token) is None
    with store.read() as connection:
        assert connection.execute(staff_sessions.select()).all() == []


def test_idle_and_old_sessions_end(staff, clock):
    token = staff.start_session(staff.user("auditor"))
    clock.advance(minutes=59)
    assert staff.session_user(token) is not None
    clock.advance(minutes=61)
    assert staff.session_user(token) is None
    token = staff.start_session(staff.user("auditor"))
    for _ in range(9):
        clock.advance(minutes=55)
        staff.session_user(token)
    assert staff.session_user(token) is None  # more than eight hours in all


def test_disabling_an_account_ends_its_sessions(client, staff):
    signed_in_as(client, staff, "recruiter")
    staff.disable_user("recruiter", actor="cli:admin")
    assert client.get("/w").status_code == 303
    assert sign_in(client, "recruiter").status_code == 401


def test_passwords_and_tokens_are_stored_hashed_and_never_logged(client, staff, store):
    response = sign_in(client, "recruiter")
    token = response.cookies.get("profiler_staff")
    with store.read() as connection:
        hashes = [r.password_hash for r in connection.execute(staff_users.select())]
        stored_tokens = [r.token_hash for r in connection.execute(staff_sessions.select())]
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert token not in stored_tokens and all(t.startswith("sha256:") for t in stored_tokens)
    logged = " ".join(str(e.payload) for e in AuditLog(store))
    assert PASSWORD not in logged and token not in logged and "$argon2" not in logged


@pytest.mark.parametrize("kwargs,field", [
    ({"username": "bad name", "role": "recruiter", "tenant": "acme"}, "username"),
    ({"username": "x", "role": "boss", "tenant": "acme"}, "role"),
    ({"username": "x", "role": "recruiter", "tenant": "nowhere"}, "organisation"),
    ({"username": "recruiter", "role": "recruiter", "tenant": "acme"}, "username"),
])
def test_accounts_refuse_bad_input_naming_the_field(staff, kwargs, field):
    with pytest.raises(StaffError) as caught:
        staff.add_user(password=PASSWORD, actor="cli:admin", **kwargs)
    assert caught.value.field == field


def test_short_passwords_and_shared_job_models_are_refused(staff):
    with pytest.raises(StaffError, match="12 to 1024 characters"):
        staff.add_user("newbie", "short", role="recruiter", tenant="acme", actor="cli:admin")
    with pytest.raises(StaffError, match="belongs to organisation 'acme'"):
        staff.assign_job_model("globex", "customer-support", actor="cli:admin")


def test_default_hash_is_argon2id_memory_hard(tmp_path):
    from argon2 import extract_parameters

    from profiler.integration.staff import Staff
    from profiler.store import Store

    store = Store(tmp_path / "fresh.sqlite")
    people = Staff(store)
    people.add_tenant("acme", "Acme Ltd", actor="cli:admin")
    people.add_user("kim", PASSWORD, role="recruiter", tenant="acme", actor="cli:admin")
    with store.read() as connection:
        hashed = connection.execute(staff_users.select()).one().password_hash
    parameters = extract_parameters(hashed)
    assert hashed.startswith("$argon2id$") and parameters.memory_cost >= 65536 and parameters.time_cost >= 3
    assert people.authenticate("kim", PASSWORD).username == "kim"
    store.close()
