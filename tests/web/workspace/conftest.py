"""Fixtures of the workspace tests: two organisations with one account per role each, and a test client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from profiler.integration.staff import ROLES, Staff

PASSWORD = "correct horse battery staple"


class Clock:
    """A clock the tests move forward."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def staff(store, clock) -> Staff:
    """Organisations ``acme`` (job model customer-support) and ``globex`` (globex-support); users ``<role>``
    and ``<role>-globex``; ``recruiter2`` a second recruiter of acme."""
    from argon2 import PasswordHasher

    # Cheap parameters keep the tests quick; test_default_hash_is_argon2id checks what deployments get.
    people = Staff(store, clock=clock, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    people.add_tenant("acme", "Acme Ltd", actor="cli:admin")
    people.add_tenant("globex", "Globex", actor="cli:admin")
    people.assign_job_model("acme", "customer-support", actor="cli:admin")
    people.assign_job_model("globex", "globex-support", actor="cli:admin")
    for role in ROLES:
        people.add_user(role, PASSWORD, role=role, tenant="acme", actor="cli:admin")
        people.add_user(f"{role}-globex", PASSWORD, role=role, tenant="globex", actor="cli:admin")
    people.add_user("recruiter2", PASSWORD, role="recruiter", tenant="acme", actor="cli:admin")
    return people


@pytest.fixture
def app(store, key, staff):
    from profiler.web.app import create_app

    built = create_app(store, key)
    built.state.workspace.staff = staff  # the same accounts, on the test's clock
    return built


@pytest.fixture
def client(app) -> Iterator:
    from starlette.testclient import TestClient

    with TestClient(app, follow_redirects=False) as opened:
        yield opened


def csrf_of(html: str) -> str:
    """The form token of the first form on a page."""
    start = html.index('name="csrf" value="') + len('name="csrf" value="')
    return html[start:html.index('"', start)]


def sign_in(client, username: str, password: str = PASSWORD, **extra: str):
    """Open the sign-in page and post the form; the response of the POST."""
    form = client.get("/w/sign-in")
    return client.post("/w/sign-in", data={"csrf": csrf_of(form.text), "username": username,
                                           "password": password, **extra})


def signed_in_as(client, staff: Staff, username: str) -> str:
    """Put a fresh session of ``username`` in the client's cookie jar (no sign-in form: fast); its form token
    is read from the home page."""
    token = staff.start_session(staff.user(username))
    client.cookies.set("profiler_staff", token, path="/w")
    return csrf_of(client.get("/w").text)
