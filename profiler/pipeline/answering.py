"""A candidate answering through an invitation: one action per call, each committed before it returns.

The web app (one request, one action) calls :func:`act` with what the page it showed was built on: the
session's event count (``seq``) and the item on screen. The action is carried out only if the session still
stands there, so a page submitted twice (a double click, the back button, two tabs) records once: the second
submission is recognised as a ``duplicate`` of the event it repeats, or as ``stale`` when the session has
moved on in another way, and nothing is written. Every rule of :class:`~profiler.administration.Session`
applies (order, back and skip where allowed, required items, time limits with the accommodation factor).

When the session is finished, :func:`complete` marks the invitation completed and :func:`assess_invitation`
runs the recorded pipeline (:func:`~profiler.pipeline.assessment.assess_candidate`) so the case enters the
review queue; the invitation is marked assessed in the same transaction as the assessment, so it is assessed
exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from profiler.administration.errors import AnswerError, SessionError, SessionExpiredError
from profiler.administration.prompt import Prompt, describe_number, options_of
from profiler.administration.session import Session
from profiler.errors import ProfilerError
from profiler.integration.errors import InvitationError
from profiler.integration.invitations import Invitation, invitation_row, set_status
from profiler.pipeline import loaded
from profiler.pipeline.assessment import Assessment, assess_candidate
from profiler.store.audit_log import lock_head
from profiler.store.store import Store

ACTIONS = ("answer", "skip", "back", "forward", "pause", "finish")
Status = Literal["recorded", "duplicate", "stale", "expired", "finished", "refused"]


@dataclass(frozen=True)
class Outcome:
    """What became of an action.

    ``status``: ``recorded`` (committed), ``duplicate`` (the same action was recorded already: nothing new),
    ``stale`` (the page was out of date: nothing recorded), ``expired`` (the time limit has passed: the session
    is finished with the answers it has), ``finished`` (the session is finished), ``refused`` (the session does
    not allow it; ``message`` says why in the respondent's terms, ``items`` lists required items unanswered).
    """

    status: Status
    message: str | None = None
    items: tuple[str, ...] = field(default_factory=tuple)
    reason: str | None = None  # for ``refused``: "answer", "required", "timed_pause", "not_allowed", "action"




def current_session(store: Store, invitation: Invitation) -> Session:
    """The invitation's session as it stands, ready for the next action.

    A session the candidate paused (saved and left) is resumed; a session whose time limit has passed is
    recorded as expired and finished, with the answers it has.

    Raises
    ------
    InvitationError
        The invitation has no session (no consent yet, declined, revoked).
    """
    if invitation.session_id is None:
        raise InvitationError(f"this invitation is {invitation.status}", code="used")
    questionnaire = loaded.stored_questionnaire(store, invitation.content_hash)
    session = Session.load(store, invitation.session_id, questionnaire=questionnaire, shown_since_last_event=True)
    if session.finished:
        return session
    if session.paused:
        session = Session.resume(store, invitation.session_id, questionnaire=questionnaire,
                                 shown_since_last_event=True)
    if session.check_time():  # the time limit has passed: finish with the answers given
        try:
            session.finish()
        except SessionError:  # finished meanwhile by another request
            session = Session.load(store, invitation.session_id, questionnaire=questionnaire)
    return session


def act(store: Store, invitation: Invitation, action: str, *, seq: int, item: str | None = None,
        typed: str | None = None) -> Outcome:
    """Carry out one action of the candidate, if the page it came from is still current.

    Parameters
    ----------
    store : Store
    invitation : Invitation
    action : {"answer", "skip", "back", "forward", "pause", "finish"}
    seq : int
        :attr:`Session.seq` when the page was built.
    item : str, optional
        The item the page showed (None: the page past the last item).
    typed : str, optional
        The answer: an option's key (``"1"``, ``"2"``, ...) or a number (number items).

    Returns
    -------
    Outcome
    """
    if action not in ACTIONS:
        return Outcome("refused", f"unknown action {action!r}", reason="action")
    session = current_session(store, invitation)
    if session.finished:
        return Outcome("expired" if session.expired else "finished")
    prompt = session.current()
    on_screen = prompt.item_id if prompt is not None else None
    value = None
    if action == "answer":
        if prompt is None or item != on_screen:
            return _after_the_fact(store, invitation, seq, action, item, typed)
        try:
            value = prompt.parse(typed or "")
        except AnswerError:
            return Outcome("refused", _expected(prompt), (prompt.item_id,), reason="answer")
    if seq != session.seq or item != on_screen:
        return _after_the_fact(store, invitation, seq, action, item, typed)
    if action == "finish":
        return complete(store, invitation, session)
    if action == "pause" and session.time_limit_seconds is not None:
        return Outcome("refused", "a timed questionnaire cannot be paused: its time runs on", reason="timed_pause")
    try:
        if action == "answer":
            session.answer(value)
        elif action == "skip":
            session.skip()
        elif action == "back":
            session.back()
        elif action == "forward":
            session.forward()
        else:
            session.pause()
    except SessionExpiredError:
        return complete(store, invitation, current_session(store, invitation))
    except SessionError as exc:
        if "changed by another process" in str(exc):  # a concurrent submission of the same page won
            return _after_the_fact(store, invitation, seq, action, item, typed)
        return Outcome("refused", str(exc), tuple(exc.items), reason="not_allowed")
    if session.position >= len(session.order) and not session.questionnaire.spec.administration.allow_back:
        return complete(store, invitation, session)  # as in the terminal: nothing to go back to, so finish
    return Outcome("recorded")


def complete(store: Store, invitation: Invitation, session: Session | None = None) -> Outcome:
    """Finish the session (if it is not yet), mark the invitation completed, and assess it.

    Returns ``refused`` with the required items unanswered when the session cannot be finished yet.
    """
    session = session if session is not None else current_session(store, invitation)
    if not session.finished:
        try:
            session.finish()
        except SessionError as exc:
            if "already finished" not in str(exc):
                return Outcome("refused", str(exc), tuple(exc.items), reason="required")
    with store.write() as connection:
        lock_head(connection)
        current = invitation_row(connection, invitation.id, for_update=True)
        if current is not None and current.status == "started":
            set_status(connection, invitation.id, "completed", completed_at=datetime.now(UTC))
    assess_invitation(store, invitation.id)
    return Outcome("expired" if session.expired else "finished")


class _AlreadyAssessed(Exception):
    pass


def assess_invitation(store: Store, invitation_id: str) -> Assessment | None:
    """Run the recorded assessment of a completed invitation's session, once.

    Returns None when the invitation is not (or no longer) waiting for its assessment, or when the
    assessment cannot run now (an operator stopped the job model: the invitation stays ``completed`` and
    can be assessed later by calling this again).
    """
    with store.read() as connection:
        invitation = invitation_row(connection, invitation_id)
    if invitation is None or invitation.status != "completed" or invitation.session_id is None:
        return None

    def mark(connection: Any, _assessment: Assessment) -> None:
        current = invitation_row(connection, invitation_id, for_update=True)
        if current is None or current.status != "completed":
            raise _AlreadyAssessed
        set_status(connection, invitation_id, "assessed")

    try:
        job_model = loaded.job_model(invitation.job_model_id)  # parsed once per process, not per candidate
        return assess_candidate(store, invitation.candidate_id, job_model, invitation.session_id,
                                actor=f"system:invitation:{invitation.id}", also=mark,
                                validity_calibration=loaded.validity_calibration(job_model.questionnaire))
    except _AlreadyAssessed:
        return None
    except ProfilerError:
        return None


def _after_the_fact(store: Store, invitation: Invitation, seq: int, action: str, item: str | None,
                    typed: str | None) -> Outcome:
    """A page that is no longer current: a duplicate of what it asked for, or stale."""
    session = Session.load(store, invitation.session_id,
                           questionnaire=loaded.stored_questionnaire(store, invitation.content_hash))
    history = session.history()
    if 0 <= seq < len(history):
        event = history.iloc[seq]
        if event["kind"] == action and event["item_id"] == item:
            if action != "answer":
                return Outcome("duplicate")
            try:
                value = _parse_for(session, item, typed)
            except ValueError:
                return Outcome("stale")
            if value == event["value"]:
                return Outcome("duplicate")
    if session.finished:
        return Outcome("finished")
    return Outcome("stale", "This page was out of date (it was answered in another window or tab); nothing was "
                            "changed. Here is where you are.")


def _parse_for(session: Session, item: str | None, typed: str | None) -> float:
    """The value ``typed`` stands for on ``item`` (as :meth:`Prompt.parse` reads it)."""
    options = options_of(session.questionnaire, item, session.language)
    if options:
        keys = {str(o.key): o.value for o in options}
        if (typed or "").strip() not in keys:
            raise ValueError(typed)
        return keys[(typed or "").strip()]
    return float((typed or "").replace(",", "."))


def _expected(prompt: Prompt) -> str:
    if prompt.number is not None:
        return f"Please give {describe_number(prompt.number)}."
    return "Please choose one of the answers."


__all__ = ["ACTIONS", "Outcome", "act", "assess_invitation", "complete", "current_session"]
