"""``profiler serve --demo``: invitations seeded in a fresh store, their links printed, and an API key."""

from __future__ import annotations

from dataclasses import dataclass

from profiler.integration.clients import SCOPES, create_client
from profiler.integration.keys import SecretKey
from profiler.pipeline.invitations import create_invitation
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
