"""The candidate's consent: what the first page tells them, and their answer, recorded with proof.

The notice (:class:`ConsentNotice`) holds the facts the page states: who assesses, for which role, what is
measured and why, how long it takes, that a person decides and how to contest, how long data are kept and how
to have them erased. Its hash (over those facts, the wording's version and the language) is stored with the
answer, so it is known later exactly what a candidate agreed to. A refusal stores the refusal and nothing else.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, insert, select

from profiler.canonical import canonical_json, sha256_text
from profiler.integration.invitations import Invitation
from profiler.store.tables import consents

NOTICE_VERSION = "profiler.consent-notice/1"  # bump when the page's wording changes


class Measure(BaseModel):
    """One thing the questionnaire measures and why the role needs it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    why: str | None = None


class ConsentNotice(BaseModel):
    """The facts of the consent page, in the candidate's language where the sources have it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    language: str
    organisation: str
    contact: str
    role_title: str
    role_description: str | None
    questionnaire_title: str
    items: int  # for an adaptive questionnaire: the most it can give (it stops when it has measured enough)
    minutes: int  # an estimate for untimed questionnaires; the limit (with accommodation) for timed ones
    timed: bool
    measures: tuple[Measure, ...]
    decided_by_person: bool = True
    contest_days: int
    retention_days: int
    report_to_candidate: bool
    adaptive: bool = False

    def notice_hash(self) -> str:
        """``sha256:`` + hex over the canonical JSON of the facts, the wording's version and the language."""
        # ``adaptive`` enters only when true, so that the notices recorded before it existed keep their hashes
        notice = self.model_dump(mode="json", exclude=None if self.adaptive else {"adaptive"})
        return sha256_text(canonical_json({"version": NOTICE_VERSION, "notice": notice}))


def record_consent(connection: Connection, invitation: Invitation, decision: Literal["given", "refused"],
                   notice: ConsentNotice, *, audit_seq: int | None) -> int:
    """Store the candidate's answer in the caller's transaction; return the row id."""
    if decision not in ("given", "refused"):
        raise ValueError(f"consent decision {decision!r}")
    return connection.execute(insert(consents).values(
        invitation_id=invitation.id, candidate_id=invitation.candidate_id, decision=decision,
        notice_hash=notice.notice_hash(), language=notice.language, audit_seq=audit_seq,
        recorded_at=datetime.now(UTC))).inserted_primary_key[0]


def consent_of(connection: Connection, invitation_id: str) -> str | None:
    """The candidate's latest answer for this invitation: ``"given"``, ``"refused"`` or None."""
    query = select(consents.c.decision).where(consents.c.invitation_id == invitation_id) \
        .order_by(consents.c.id.desc()).limit(1)
    return connection.execute(query).scalar_one_or_none()
