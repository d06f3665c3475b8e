"""Fixtures of the workspace tests: two organisations with one account per role each and assessed candidates,
and a test client."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from profiler.integration.staff import ROLES, Staff
from profiler.store import Store

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


def _hasher():
    from argon2 import PasswordHasher

    # Cheap parameters keep the tests quick; test_default_hash_is_argon2id checks what deployments get.
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


EVIDENCE = {
    "email_work_sample": {"score": 70, "date": date(2026, 1, 10), "source": "work sample"},
    "interview_customer_focus": {"ratings": {"r1": 4, "r2": 3}, "date": date(2026, 1, 12), "source": "panel"},
    "support_experience": {"years": 2, "date": date(2026, 1, 1), "source": "cv"},
}


@pytest.fixture(scope="session")
def seeded(tmp_path_factory) -> Path:
    """A store built once: organisations ``acme`` (job model customer-support, three assessed candidates
    ``cand-a0``..``cand-a2``) and ``globex`` (software-engineer, candidate ``cand-g0``); users ``<role>`` of acme
    and ``<role>-globex`` of globex; ``recruiter2`` a second recruiter of acme. Each test gets a copy."""
    import profiler
    from profiler.oversight import Candidates
    from profiler.pipeline.assessment import assess_candidates

    path = tmp_path_factory.mktemp("seeded") / "workspace.sqlite"
    with Store(path) as store:
        people = Staff(store, hasher=_hasher())
        people.add_tenant("acme", "Acme Ltd", actor="cli:admin")
        people.add_tenant("globex", "Globex", actor="cli:admin")
        people.assign_job_model("acme", "customer-support", actor="cli:admin")
        people.assign_job_model("globex", "software-engineer", actor="cli:admin")
        for role in ROLES:
            people.add_user(role, PASSWORD, role=role, tenant="acme", actor="cli:admin")
            people.add_user(f"{role}-globex", PASSWORD, role=role, tenant="globex", actor="cli:admin")
        people.add_user("recruiter2", PASSWORD, role="recruiter", tenant="acme", actor="cli:admin")
        for model_id, ids, seed in (("customer-support", ["cand-a0", "cand-a1", "cand-a2"], 3),
                                    ("software-engineer", ["cand-g0"], 4)):
            model = profiler.load_job_model(model_id)
            answers = profiler.simulate_responses(model.questionnaire, len(ids), seed=seed)
            answers.index = [Candidates(store).register(actor="hr:kim", candidate_id=c).id for c in ids]
            evidence = {c: EVIDENCE for c in ids} if model_id == "customer-support" else None
            assess_candidates(store, model, answers, evidence, as_of=date(2026, 3, 1), draws=500)
    return path


BACKENDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc) -> None:
    """A module that sets ``BOTH_BACKENDS = True`` runs each of its tests on a copy of the seeded store in SQLite
    and in a schema of the PostgreSQL test server (the others on SQLite: role checks and page wording do not
    depend on the database)."""
    if getattr(metafunc.module, "BOTH_BACKENDS", False) and "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", BACKENDS)


@pytest.fixture
def backend() -> str:
    return "sqlite"


def copy_rows(source: Path, url: str) -> None:
    """Every row of the SQLite store ``source`` into the (migrated, empty) store at ``url``, table by table in
    foreign-key order, and each serial id's sequence moved past the copied ids: the same store on another backend
    (its audit chain included, which hashes the values, not the database)."""
    from sqlalchemy import Integer, delete, func, select, text

    from profiler.store.tables import metadata

    with Store(source) as old, Store(url) as new, old.read() as reading, new.write() as writing:
        for table in metadata.sorted_tables:
            rows = [dict(row._mapping) for row in reading.execute(select(table))]
            writing.execute(delete(table))  # what the migrations wrote (the schema version) comes from the copy
            if rows:
                writing.execute(table.insert(), rows)
            serial = [c for c in table.primary_key.columns if isinstance(c.type, Integer) and c.autoincrement is True]
            for column in serial:
                highest = writing.execute(select(func.max(column))).scalar_one()
                if highest is not None:
                    writing.execute(text("SELECT setval(pg_get_serial_sequence(:t, :c), :n)"),
                                    {"t": table.name, "c": column.name, "n": highest})


@pytest.fixture
def store(seeded, tmp_path, backend) -> Iterator[Store]:
    """A copy of the seeded store: a SQLite file, or (modules with ``BOTH_BACKENDS``) also a PostgreSQL schema."""
    if backend == "sqlite":
        copy = tmp_path / "workspace.sqlite"
        shutil.copyfile(seeded, copy)
        with Store(copy) as opened:
            yield opened
        return
    from tests.conftest import postgres_schema

    with postgres_schema() as url:
        copy_rows(seeded, url)
        with Store(url) as opened:
            yield opened


@pytest.fixture
def staff(store, clock) -> Staff:
    return Staff(store, clock=clock, hasher=_hasher())


@pytest.fixture
def recs(store) -> dict[str, int]:
    """Candidate id -> the id of their recommendation."""
    from profiler.oversight import Review

    return {r.candidate: r.id for r in Review(store).recommendations()}


@pytest.fixture
def second_version(store):
    """customer-support 1.1.0 (a weight, a knock-out, a threshold and a rationale changed), recorded with a
    recommendation of a new candidate."""
    import profiler
    from profiler.jobmodel import parse_job_model
    from profiler.oversight import Candidates
    from profiler.pipeline.assessment import assess_candidate
    from profiler.resources import bundled_dir

    text = (bundled_dir("models") / "jobs" / "customer-support.yaml").read_text(encoding="utf-8")
    text = text.replace('version: "1.0.0"', 'version: "1.1.0"').replace("advance_from: 60", "advance_from: 62")
    text = text.replace("weight: 0.30\n    minimum: 40", "weight: 0.35\n    minimum: 45")
    text = text.replace("    weight: 0.25\n", "    weight: 0.20\n")  # the weights still add up to one
    text = text.replace("Critical incidents centred", "Critical incidents (2026 update) centred")
    model = parse_job_model(text, "customer-support-1.1.0.yaml")
    answers = profiler.simulate_responses(model.questionnaire, 1, seed=9)
    answers.index = [Candidates(store).register(actor="hr:kim", candidate_id="cand-a3").id]
    assess_candidate(store, "cand-a3", model, answers, EVIDENCE, as_of=date(2026, 3, 1), draws=200)
    return model


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
