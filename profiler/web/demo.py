"""``profiler serve --demo``: invitations seeded in a fresh store, their links printed, and an API key; for the
workspace, an organisation with one staff account per role (passwords generated for this run, printed once,
stored only as argon2 hashes) and a few simulated candidates assessed, so that the queue has cases."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import numpy as np

from profiler.integration.clients import SCOPES, create_client
from profiler.integration.keys import SecretKey
from profiler.integration.staff import Staff
from profiler.jobmodel import load_job_model
from profiler.oversight.candidates import Candidates
from profiler.pipeline.assessment import assess_candidates
from profiler.pipeline.invitations import create_invitation
from profiler.simulation import simulate_responses, simulated_evidence
from profiler.store.store import Store

# (job model, language, time multiplier, report to the candidate, what the invitation shows)
DEMO_INVITATIONS = (
    ("customer-support", "en", 1.0, True, "customer support agent, English, report to the candidate"),
    ("customer-support", "fr", 1.0, False, "customer support agent, French"),
    ("software-engineer", "de", 1.5, True, "software engineer, German, 1.5 x time (accommodation)"),
)


@dataclass(frozen=True)
class DemoLink:
    description: str
    url: str
    invitation_id: str


def demo_client(store: Store) -> str:
    """An API client with every scope for trying the vendors' API; returns its key."""
    return create_client(store, "demo", list(SCOPES), actor="demo:web").key


def seed_demo(store: Store, key: SecretKey, base_url: str) -> list[DemoLink]:
    """Create the demo's invitations in ``store``; return their links under ``base_url``."""
    links = []
    for job_model, language, multiplier, report, description in DEMO_INVITATIONS:
        new = create_invitation(store, key, job_model, language=language, time_multiplier=multiplier,
                                report_to_candidate=report, actor="demo:web")
        links.append(DemoLink(description, f"{base_url.rstrip('/')}/i/{new.token}", new.invitation.id))
    return links


DEMO_TENANT = "demo"
DEMO_MODELS = ("customer-support", "software-engineer")
# (user name, role): two people who decide, so that one confirms (or refuses) the other's override.
DEMO_STAFF = (("recruiter", "recruiter"), ("hiring-manager", "hiring_manager"), ("psychologist", "psychologist"),
              ("auditor", "auditor"), ("operator", "operator"), ("admin", "admin"))
DEMO_CASES = 3  # simulated candidates assessed per job model


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    password: str


def seed_staff(store: Store, organisation: str) -> list[DemoAccount]:
    """The organisation ``demo`` (overrides wait for a second person) with the bundled job models, and one
    account per role; each password is random, made for this run and returned once (the store keeps its
    argon2 hash only)."""
    staff = Staff(store)
    staff.add_tenant(DEMO_TENANT, organisation, actor="demo:web", second_confirmation=True)
    for model in DEMO_MODELS:
        staff.assign_job_model(DEMO_TENANT, model, actor="demo:web")
    accounts = []
    for username, role in DEMO_STAFF:
        password = secrets.token_urlsafe(12)  # 16 characters, 96 random bits
        staff.add_user(username, password, role=role, tenant=DEMO_TENANT, actor="demo:web")
        accounts.append(DemoAccount(username, role, password))
    return accounts


def seed_cases(store: Store, *, seed: int = 0) -> int:
    """Assess :data:`DEMO_CASES` simulated candidates per demo job model through the recorded pipeline (their
    recommendations wait in the workspace's queue); returns how many."""
    rng = np.random.default_rng(seed)
    people = Candidates(store)
    count = 0
    for k, model in enumerate(DEMO_MODELS):
        ids = [people.register(actor="demo:web", candidate_id=f"sim-{model}-{i + 1}").id for i in range(DEMO_CASES)]
        questionnaire = load_job_model(model).questionnaire
        answers = simulate_responses(questionnaire, DEMO_CASES, seed=seed + k)
        answers.index = ids
        evidence = {c: simulated_evidence(model, rng) for c in ids}
        assess_candidates(store, model, answers, evidence, actor="demo:web", as_of="2026-11-20", draws=1000)
        count += len(ids)
    return count
