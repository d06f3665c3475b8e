"""Invitations: one candidate, one questionnaire for one job model, reached through a signed link.

The link is ``/i/<token>``, where the token is the invitation's random id and its signature by the server's
key (:mod:`profiler.integration.keys`): unguessable, unforgeable, and it says nothing about the person. The
database keeps the id only, so a copy of the database yields no working link.

An invitation moves ``created`` -> ``started`` (consent given, session open) -> ``completed`` (the session is
finished) -> ``assessed`` (the recorded assessment exists); or ``created`` -> ``declined``; an operator or the
vendor may ``revoke`` it before it is completed. It is single-use: once declined, completed or revoked, the
link opens only its end page. It expires at ``expires_at`` unless its session is already finished.

Functions taking a ``connection`` work inside the caller's write transaction (the pipeline records an
invitation, its candidate and its log entry together).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, bindparam, insert, select, update

from profiler.integration.errors import IntegrationError, InvitationError
from profiler.integration.keys import SecretKey, random_id
from profiler.store.store import Store
from profiler.store.tables import invitations

PURPOSE = "invitation"
ID_PATTERN = re.compile(r"^inv_[A-Za-z0-9_\-]{22}$")
STATUSES = ("created", "started", "declined", "completed", "assessed", "revoked")
OPEN_STATUSES = ("created", "started")  # the link still leads to the consent page or the items
MAX_REFERENCE = 200
MAX_URL = 2000
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class Invitation:
    """An invitation as stored (see the module docstring for ``status``)."""

    id: str
    candidate_id: str
    client_id: str | None
    reference: str | None
    questionnaire_id: str
    content_hash: str
    job_model_id: str
    job_model_version: str
    language: str
    time_multiplier: float
    report_to_candidate: bool
    callback_url: str | None
    status: str
    session_id: str | None
    created_by: str
    created_at: datetime
    expires_at: datetime
    opened_at: datetime | None
    completed_at: datetime | None

    def expired(self, now: datetime | None = None) -> bool:
        """Past ``expires_at`` while still open (a finished session never expires)."""
        return self.status in OPEN_STATUSES and (now or datetime.now(UTC)) >= self.expires_at

    def token(self, key: SecretKey) -> str:
        """The token of the invitation's link (``/i/<token>``)."""
        return key.token(PURPOSE, self.id)


def check_reference(reference: object) -> str | None:
    """A vendor's reference: printable text of up to 200 characters, or None."""
    if reference is None:
        return None
    if not isinstance(reference, str) or not reference.strip() or len(reference) > MAX_REFERENCE \
            or not reference.isprintable():
        raise IntegrationError(f"candidate_reference must be printable text of 1 to {MAX_REFERENCE} characters",
                               field="candidate_reference")
    return reference


def check_callback_url(url: object, *, allow_http: bool = False) -> str | None:
    """A webhook address: https (http only for a loopback host, or with ``allow_http``), or None.

    Raises
    ------
    IntegrationError
        Naming ``callback_url``.
    """
    if url is None:
        return None
    if not isinstance(url, str) or len(url) > MAX_URL:
        raise IntegrationError(f"callback_url must be a URL of up to {MAX_URL} characters", field="callback_url")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise IntegrationError(f"callback_url is not a URL: {exc}", field="callback_url") from None
    if parts.scheme not in ("https", "http") or not host:
        raise IntegrationError("callback_url must be an absolute https URL", field="callback_url")
    if parts.username or parts.password:
        raise IntegrationError("callback_url must not carry a user name or password", field="callback_url")
    if parts.scheme == "http" and not allow_http and host not in LOOPBACK_HOSTS:
        raise IntegrationError("callback_url must use https (plain http only to localhost)", field="callback_url")
    return url


def insert_invitation(connection: Connection, *, candidate_id: str, questionnaire_id: str, content_hash: str,
                      job_model_id: str, job_model_version: str, language: str, expires_at: datetime,
                      created_by: str, client_id: str | None = None, reference: str | None = None,
                      time_multiplier: float = 1.0, report_to_candidate: bool = False,
                      callback_url: str | None = None) -> Invitation:
    """Insert a new invitation (status ``created``) in the caller's transaction."""
    now = datetime.now(UTC)
    if expires_at <= now:
        raise IntegrationError("the invitation would expire before it is sent", field="expires_in_days")
    row = dict(id=random_id("inv"), candidate_id=candidate_id, client_id=client_id, reference=reference,
               questionnaire_id=questionnaire_id, content_hash=content_hash, job_model_id=job_model_id,
               job_model_version=job_model_version, language=language, time_multiplier=float(time_multiplier),
               report_to_candidate=bool(report_to_candidate), callback_url=callback_url, status="created",
               session_id=None, created_by=created_by, created_at=now, expires_at=expires_at, opened_at=None,
               completed_at=None)
    connection.execute(insert(invitations).values(**row))
    return Invitation(**row)


_BY_ID = select(invitations).where(invitations.c.id == bindparam("invitation_id"))  # built once: read per request


def invitation_row(connection: Connection, invitation_id: str, *, for_update: bool = False) -> Invitation | None:
    """The invitation (None when there is none); ``for_update`` locks its row where the database can."""
    query = _BY_ID
    if for_update and connection.dialect.name != "sqlite":  # SQLite's write transaction already locks
        query = query.with_for_update()
    row = connection.execute(query, {"invitation_id": invitation_id}).mappings().first()
    return None if row is None else _invitation(row)


def get_invitation(store: Store, invitation_id: str) -> Invitation:
    """The invitation with this id.

    Raises
    ------
    IntegrationError
        ``code="not_found"`` when there is none.
    """
    if not isinstance(invitation_id, str) or not ID_PATTERN.match(invitation_id):
        raise IntegrationError(f"no invitation {invitation_id!r}", field="invitation_id", code="not_found")
    with store.read(snapshot=False) as connection:  # one statement: no BEGIN and COMMIT needed
        found = invitation_row(connection, invitation_id)
    if found is None:
        raise IntegrationError(f"no invitation {invitation_id!r}", field="invitation_id", code="not_found")
    return found


def invitation_from_token(store: Store, key: SecretKey, token: str) -> Invitation:
    """The invitation a link's token names, whatever its status (the caller decides what it may open).

    Raises
    ------
    InvitationError
        ``code="unknown"``: malformed, forged, or naming no invitation.
    """
    invitation_id = key.open_token(PURPOSE, token)
    if invitation_id is None or not ID_PATTERN.match(invitation_id):
        raise InvitationError("this link is not valid", code="unknown")
    with store.read() as connection:
        found = invitation_row(connection, invitation_id)
    if found is None:
        raise InvitationError("this link is not valid", code="unknown")
    return found


def set_status(connection: Connection, invitation_id: str, status: str, **values: Any) -> None:
    """Change the invitation's status (and other columns) in the caller's transaction."""
    if status not in STATUSES:
        raise ValueError(f"unknown invitation status {status!r}")
    connection.execute(update(invitations).where(invitations.c.id == invitation_id).values(status=status, **values))


def mark_opened(connection: Connection, invitation: Invitation) -> None:
    """Record the first time the link was opened."""
    if invitation.opened_at is None:
        connection.execute(update(invitations).where(invitations.c.id == invitation.id)
                           .values(opened_at=datetime.now(UTC)))


def invitations_of(store: Store, *, client_id: str | None = None, status: str | None = None,
                   limit: int = 100) -> list[Invitation]:
    """Invitations, newest first (those of one client, or of one status, if given)."""
    query = select(invitations).order_by(invitations.c.created_at.desc(), invitations.c.id).limit(limit)
    if client_id is not None:
        query = query.where(invitations.c.client_id == client_id)
    if status is not None:
        query = query.where(invitations.c.status == status)
    with store.read() as connection:
        return [_invitation(row) for row in connection.execute(query).mappings()]


def as_utc(moment: datetime | None) -> datetime | None:
    """A moment read from the store, aware: SQLite hands back naive UTC datetimes, PostgreSQL aware ones."""
    return moment if moment is None or moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _invitation(row: Any) -> Invitation:
    values = dict(row)
    for name in ("created_at", "expires_at", "opened_at", "completed_at"):
        values[name] = as_utc(values[name])
    values["report_to_candidate"] = bool(values["report_to_candidate"])
    return Invitation(**values)
