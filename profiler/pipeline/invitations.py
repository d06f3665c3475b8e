"""Inviting a candidate and their answer to the consent page: the use cases behind an invitation link.

- :func:`create_invitation`: registers a pseudonymous candidate, stores the questionnaire's content, records
  the invitation and logs it (``invitation.created``), in one transaction; returns the link's token.
- :func:`open_invitation`: the invitation a link names, refused when it is forged, unknown, expired or revoked.
- :func:`consent_notice`: the facts the consent page states (who, which role, what is measured and why, how
  long, a person decides, contest, data keeping and erasure).
- :func:`give_consent`: records the consent and starts the session, in one transaction;
  :func:`decline`: records the refusal and nothing else.
- :func:`revoke_invitation`: an operator or the vendor withdraws an invitation not yet completed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from profiler.administration import records as session_records
from profiler.administration.errors import SessionError
from profiler.administration.session import Session, check_time_multiplier
from profiler.errors import ProfilerError
from profiler.integration.consent import NOTICE_VERSION, ConsentNotice, Measure, consent_of, record_consent
from profiler.integration.errors import IntegrationError, InvitationError
from profiler.integration.invitations import (
    Invitation,
    check_callback_url,
    check_reference,
    insert_invitation,
    invitation_from_token,
    invitation_row,
    mark_opened,
    set_status,
)
from profiler.integration.keys import SecretKey
from profiler.jobmodel import load_job_model
from profiler.oversight.candidates import Candidates
from profiler.oversight.privacy import DEFAULT_RETENTION
from profiler.oversight.review import review_settings
from profiler.pipeline import loaded
from profiler.store.audit_log import AuditLog, lock_head
from profiler.store.records import StoredConsent, StoredInvitation
from profiler.store.store import Store

DEFAULT_ACTOR = "system:invitations"
DEFAULT_EXPIRY = timedelta(days=14)
MAX_EXPIRY = timedelta(days=365)
SECONDS_PER_ITEM = 10.0  # the estimate of an untimed questionnaire's length on the consent page
INVITED_EVENT = "invitation.created"
REVOKED_EVENT = "invitation.revoked"
CONSENT_EVENTS = {"given": "consent.given", "refused": "consent.refused"}


@dataclass(frozen=True)
class NewInvitation:
    """A recorded invitation and the token of its link (``/i/<token>``; not stored, derived from the key)."""

    invitation: Invitation
    token: str


@dataclass(frozen=True)
class Organisation:
    """Who assesses, as the consent page says it: the organisation, a contact for questions and requests,
    and how long finished cases are kept."""

    name: str = "The hiring organisation"
    contact: str = "the recruiter who sent you this link"
    retention: timedelta = field(default=DEFAULT_RETENTION)


def create_invitation(store: Store, key: SecretKey, job_model: Any, *, questionnaire: str | None = None,
                      language: str | None = None, reference: str | None = None, callback_url: str | None = None,
                      expires_in: timedelta = DEFAULT_EXPIRY, time_multiplier: float = 1.0,
                      report_to_candidate: bool = False, client_id: str | None = None, actor: str = DEFAULT_ACTOR,
                      allow_http_callbacks: bool = False, connection: Connection | None = None) -> NewInvitation:
    """Invite a new candidate to take a job model's questionnaire.

    Parameters
    ----------
    store : Store
    key : SecretKey
        Signs the link.
    job_model : JobModel or str
        The role's job model (a bundled id or a loaded one); it names the questionnaire.
    questionnaire : str, optional
        The questionnaire's id, checked against the job model's.
    language : str, optional
        One of the questionnaire's languages (default: its default language).
    reference : str, optional
        The vendor's candidate or application reference (kept apart from the log; erased with the candidate).
    callback_url : str, optional
        Where webhooks about this invitation go (https; http only to localhost unless allowed).
    expires_in : timedelta
        How long the link may be opened (default 14 days, at most a year).
    time_multiplier : float
        Accommodation factor of the questionnaire's time limits (1 to 10).
    report_to_candidate : bool
        Whether the candidate may read their report from the end page.
    client_id : str, optional
        The API client creating it.
    actor : str
    connection : Connection, optional
        Record inside the caller's write transaction (an idempotent API request).

    Raises
    ------
    IntegrationError
        Naming the field at fault.
    """
    jm = _job_model(job_model)
    q = jm.questionnaire
    if questionnaire is not None and questionnaire != q.id:
        raise IntegrationError(f"job model {jm.id!r} uses questionnaire {q.id!r}, not {questionnaire!r}",
                               field="questionnaire")
    language = language if language is not None else q.default_language
    if language not in q.languages:
        raise IntegrationError(f"questionnaire {q.id!r} is not offered in {language!r}; offered: "
                               f"{', '.join(q.languages)}", field="language")
    try:
        multiplier = check_time_multiplier(time_multiplier)
    except SessionError as exc:
        raise IntegrationError(str(exc), field="time_multiplier") from None
    if not isinstance(expires_in, timedelta) or not timedelta(minutes=1) <= expires_in <= MAX_EXPIRY:
        raise IntegrationError("an invitation expires after 1 minute to 365 days", field="expires_in_days")
    reference = check_reference(reference)
    callback_url = check_callback_url(callback_url, allow_http=allow_http_callbacks)
    log = AuditLog(store)

    def work(c: Connection) -> NewInvitation:
        lock_head(c)
        candidate = Candidates(store, log).register(actor=actor, connection=c)
        session_records.save_questionnaire(c, q)
        invitation = insert_invitation(
            c, candidate_id=candidate.id, questionnaire_id=q.id, content_hash=q.content_hash, job_model_id=jm.id,
            job_model_version=jm.version, language=language, expires_at=datetime.now(UTC) + expires_in,
            created_by=actor, client_id=client_id, reference=reference, time_multiplier=multiplier,
            report_to_candidate=report_to_candidate, callback_url=callback_url)
        log.append(INVITED_EVENT, StoredInvitation(
            invitation=invitation.id, questionnaire_id=q.id, content_hash=q.content_hash, job_model_id=jm.id,
            job_model_version=jm.version, language=language, time_multiplier=multiplier,
            report_to_candidate=bool(report_to_candidate), callback=callback_url is not None, client=client_id,
            expires_at=invitation.expires_at).payload(), actor=actor, candidate=candidate.id, connection=c)
        return NewInvitation(invitation, invitation.token(key))

    return work(connection) if connection is not None else log.transaction(work)


def open_invitation(store: Store, key: SecretKey, token: str) -> Invitation:
    """The invitation a link's token names, if the link may still be opened; records the first opening.

    A declined, completed or assessed invitation is returned (its link shows the end page); an expired one
    (still open past its time) and a revoked one are refused.

    Raises
    ------
    InvitationError
        ``code`` ``"unknown"`` (malformed, forged or unknown), ``"expired"`` or ``"revoked"``.
    """
    invitation = invitation_from_token(store, key, token)
    if invitation.status == "revoked":
        raise InvitationError("this invitation was withdrawn", code="revoked")
    if invitation.expired():
        raise InvitationError("this invitation has expired", code="expired")
    if invitation.opened_at is None:
        with store.write() as connection:
            mark_opened(connection, invitation)
        invitation = _reread(store, invitation.id)
    return invitation


def consent_notice(invitation: Invitation, organisation: Organisation, store: Store) -> ConsentNotice:
    """What the consent page tells the candidate, in their language where the sources have it."""
    jm = loaded.job_model(invitation.job_model_id)
    q = _stored_questionnaire(store, invitation)
    language = invitation.language
    why = {str(c.input).split(".", 1)[1]: c.rationale.strip() for c in jm.spec.criteria
           if str(c.input).startswith("trait.")}
    measures = tuple(Measure(name=_scale_name(q, s, language), why=why.get(s)) for s in q.scale_ids)
    limit = q.spec.administration.time_limit_seconds
    plan = loaded.adaptive_plan(q)
    items = len(q.item_ids) if plan is None else plan.max_items  # adaptive: the most it can give
    seconds = limit * invitation.time_multiplier if limit is not None else items * SECONDS_PER_ITEM
    settings = review_settings(store)
    return ConsentNotice(
        language=language, organisation=organisation.name, contact=organisation.contact,
        role_title=jm.spec.role.title, role_description=(jm.spec.role.description or "").strip() or None,
        questionnaire_title=q.title(language), items=items, minutes=max(1, math.ceil(seconds / 60)),
        timed=limit is not None, adaptive=plan is not None, measures=measures, contest_days=settings.contest_days,
        retention_days=organisation.retention.days, report_to_candidate=invitation.report_to_candidate)


def give_consent(store: Store, invitation: Invitation, notice: ConsentNotice, *,
                 actor: str = "candidate") -> Invitation:
    """Record the candidate's consent and start their session, in one transaction.

    Idempotent: an invitation already started (two tabs, a double click) is returned as it is.

    Raises
    ------
    InvitationError
        The invitation was declined, revoked or has expired meanwhile.
    """
    questionnaire = _stored_questionnaire(store, invitation)

    def work(c: Connection) -> None:
        current = _locked(c, invitation.id)
        if current.status != "created" or consent_of(c, current.id) == "given":
            _refuse_unless(current, "started", "completed", "assessed")
            return
        _record_answer(store, c, current, "given", notice, actor)
        session = Session.start(store, questionnaire, respondent=current.candidate_id, language=current.language,
                                time_multiplier=current.time_multiplier, connection=c)
        set_status(c, current.id, "started", session_id=session.id)

    AuditLog(store).transaction(work)
    return _reread(store, invitation.id)


def decline(store: Store, invitation: Invitation, notice: ConsentNotice, *, actor: str = "candidate") -> Invitation:
    """Record that the candidate declined: the refusal (which notice, when) and nothing else; the link is spent.

    Idempotent for an invitation already declined.

    Raises
    ------
    InvitationError
        The session has already started (the candidate consented), or the invitation is revoked or expired.
    """

    def work(c: Connection) -> None:
        current = _locked(c, invitation.id)
        if current.status != "created":
            _refuse_unless(current, "declined")
            return
        _record_answer(store, c, current, "refused", notice, actor)
        set_status(c, current.id, "declined")

    AuditLog(store).transaction(work)
    return _reread(store, invitation.id)


def revoke_invitation(store: Store, invitation_id: str, *, actor: str, reason: str,
                      connection: Connection | None = None) -> Invitation:
    """Withdraw an invitation that is not completed yet: its link stops working at once.

    ``connection``: withdraw inside the caller's write transaction (an idempotent API request); the invitation
    returned is then the one read in it.

    Raises
    ------
    IntegrationError
        Unknown invitation, or one already completed, assessed or declined (``code="conflict"``).
    """
    if not isinstance(reason, str) or not reason.strip():
        raise IntegrationError("give the reason for withdrawing the invitation", field="reason")
    log = AuditLog(store)

    def work(c: Connection) -> Invitation:
        lock_head(c)
        current = invitation_row(c, invitation_id, for_update=True)
        if current is None:
            raise IntegrationError(f"no invitation {invitation_id!r}", field="invitation_id", code="not_found")
        if current.status == "revoked":
            return current
        if current.status not in ("created", "started"):
            raise IntegrationError(f"invitation {invitation_id} is {current.status}: it can no longer be withdrawn",
                                   field="invitation_id", code="conflict")
        set_status(c, current.id, "revoked")
        log.append(REVOKED_EVENT, {"invitation": current.id, "reason": reason}, actor=actor,
                   candidate=current.candidate_id, connection=c)
        return invitation_row(c, invitation_id)

    if connection is not None:
        return work(connection)
    log.transaction(work)
    return _reread(store, invitation_id)


# Internals ---------------------------------------------------------------------------------------------------
def _job_model(job_model: Any) -> Any:
    if not isinstance(job_model, str):
        return job_model
    try:
        return load_job_model(job_model)
    except ProfilerError as exc:
        raise IntegrationError(f"unknown job model {job_model!r}: {exc}", field="job_model") from None


def _stored_questionnaire(store: Store, invitation: Invitation) -> Any:
    q = loaded.stored_questionnaire(store, invitation.content_hash)
    if q is None:
        raise IntegrationError(f"invitation {invitation.id}: its questionnaire content is not in the store",
                               field="invitation_id")
    return q


def _scale_name(q: Any, scale_id: str, language: str) -> str:
    names = q.scale(scale_id).name or {}
    return names.get(language) or names.get(q.default_language) or scale_id


def _locked(c: Connection, invitation_id: str) -> Invitation:
    lock_head(c)  # serialises with every other writer of the log (SQLite: already; PostgreSQL: advisory lock)
    current = invitation_row(c, invitation_id, for_update=True)
    if current is None:
        raise InvitationError("this link is not valid", code="unknown")
    return current


def _refuse_unless(current: Invitation, *fine: str) -> None:
    if current.status in fine:
        return
    if current.status == "revoked":
        raise InvitationError("this invitation was withdrawn", code="revoked")
    if current.expired():
        raise InvitationError("this invitation has expired", code="expired")
    raise InvitationError(f"this invitation is {current.status}", code="used")


def _record_answer(store: Store, c: Connection, current: Invitation, decision: str, notice: ConsentNotice,
                   actor: str) -> None:
    if current.expired():
        raise InvitationError("this invitation has expired", code="expired")
    entry = AuditLog(store).append(CONSENT_EVENTS[decision], StoredConsent(
        invitation=current.id, decision=decision, notice_hash=notice.notice_hash(),
        notice_version=NOTICE_VERSION, language=notice.language).payload(), actor=actor,
        candidate=current.candidate_id, connection=c)
    record_consent(c, current, decision, notice, audit_seq=entry.seq)


def _reread(store: Store, invitation_id: str) -> Invitation:
    with store.read() as connection:
        found = invitation_row(connection, invitation_id)
    assert found is not None
    return found


__all__ = ["NewInvitation", "Organisation", "consent_notice", "create_invitation", "decline", "give_consent",
           "open_invitation", "revoke_invitation"]
