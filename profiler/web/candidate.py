"""The candidates' pages: the invitation link, consent, one item per page, the end page and the report.

Every page is plain HTML that works without JavaScript: each action is a form POSTed to the server, which
commits it and only then answers with a redirect to the next page (Post/Redirect/Get), so an acknowledged
answer is a stored answer. With JavaScript, htmx (``hx-boost``) sends the same forms in the background and
swaps the page in place; nothing else changes.

The link ``/i/<token>`` sets a cookie naming the invitation (signed, ``HttpOnly``, ``SameSite=Lax``) and
redirects to ``/c/...``: later pages carry no token in their address, and the cookie opens only the
invitation it names. Opening the link on another device continues the same session there.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from profiler.errors import ProfilerError
from profiler.integration.errors import InvitationError
from profiler.integration.invitations import Invitation
from profiler.pipeline.answering import act, current_session
from profiler.pipeline.cases import case_from_store
from profiler.pipeline.invitations import consent_notice, decline, give_consent, open_invitation
from profiler.reports.candidate import candidate_report
from profiler.web.context import WebContext
from profiler.web.rendering import render
from profiler.web.security import client_address, same_origin

COOKIE = "profiler_invitation"
COOKIE_PURPOSE = "candidate-cookie"
CSRF_PURPOSE = "candidate-form"

router = APIRouter(include_in_schema=False)


# Helpers ---------------------------------------------------------------------------------------------------
def _context(request: Request) -> WebContext:
    return request.app.state.profiler


def _see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _invitation(request: Request) -> Invitation | None:
    """The invitation the cookie names, if it is signed by this server and still exists."""
    ctx = _context(request)
    invitation_id = ctx.key.open_token(COOKIE_PURPOSE, request.cookies.get(COOKIE, ""))
    if invitation_id is None:
        return None
    try:
        return ctx.invitation(invitation_id)
    except ProfilerError:
        return None


def _csrf(request: Request, invitation: Invitation) -> str:
    return _context(request).key.sign(CSRF_PURPOSE, invitation.id)


def _lost(language: str | None = None) -> HTMLResponse:
    return render("message.html", language, status=401, title_key="invalid_title", text_key="session_lost")


async def _read_form(request: Request) -> dict[str, str] | None:
    """The POSTed form's text fields if the POST comes from this site (None otherwise: nothing is read)."""
    if not same_origin(request):
        return None
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _posted(request: Request, form: dict[str, str] | None) -> tuple[Invitation, dict[str, str]] | Response:
    """The invitation and the form of a POST from one of its pages, or the page refusing it.

    Called in a worker thread (it reads the store): the async handlers read the form on the event loop and
    do everything else in one call of :meth:`WebContext.run`, so no request blocks the loop on the database.
    """
    invitation = _invitation(request)
    if invitation is None:
        return _lost()
    if form is None or not _context(request).key.verify(CSRF_PURPOSE, invitation.id, form.get("csrf", "")):
        return _forbidden(invitation)
    return invitation, form


def _forbidden(invitation: Invitation) -> HTMLResponse:
    return render("message.html", invitation.language, status=403, title_key="invalid_title",
                  text_key="forbidden_form")


def _where(invitation: Invitation) -> str:
    """The page an invitation in this state shows."""
    return {"created": "/c/consent", "started": "/c/item", "declined": "/c/declined"}.get(invitation.status,
                                                                                      "/c/done")


# The link ------------------------------------------------------------------------------------------------------
@router.get("/", response_class=HTMLResponse)
def home() -> HTMLResponse:
    return render("message.html", None, title_key="home_title", text_key="home_text")


@router.get("/i/{token}")
def open_link(token: str, request: Request) -> Response:
    ctx = _context(request)
    address = client_address(request)
    wait = ctx.link_failures.blocked(address)
    if wait is not None:
        response = render("message.html", None, status=429, title_key="invalid_title", text_key="too_many")
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response
    try:
        invitation = open_invitation(ctx.store, ctx.key, token)
    except InvitationError as exc:
        if exc.code == "unknown":
            ctx.link_failures.hit(address)
        status = 404 if exc.code == "unknown" else 410
        return render("message.html", None, status=status, title_key="invalid_title",
                      text_key=f"invalid_{exc.code}", contact=True)
    response = _see(_where(invitation))
    response.set_cookie(COOKIE, ctx.key.token(COOKIE_PURPOSE, invitation.id), httponly=True, samesite="lax",
                        secure=ctx.settings.secure_cookies, path="/c")
    return response


# Consent ---------------------------------------------------------------------------------------------------------
@router.get("/c", response_class=HTMLResponse)
def dispatch(request: Request) -> Response:
    invitation = _invitation(request)
    return _lost() if invitation is None else _see(_where(invitation))


@router.get("/c/consent", response_class=HTMLResponse)
def consent_page(request: Request) -> Response:
    invitation = _invitation(request)
    if invitation is None:
        return _lost()
    if invitation.status != "created":
        return _see(_where(invitation))
    ctx = _context(request)
    notice = consent_notice(invitation, ctx.settings.organisation, ctx.store)
    return render("consent.html", invitation.language, notice=notice, csrf=_csrf(request, invitation))


@router.post("/c/consent")
async def consent_answer(request: Request) -> Response:
    form = await _read_form(request)
    return await _context(request).run(_consent_answer, request, form)


def _consent_answer(request: Request, form: dict[str, str] | None) -> Response:
    posted = _posted(request, form)
    if isinstance(posted, Response):
        return posted
    invitation, form = posted
    ctx = _context(request)
    notice = consent_notice(invitation, ctx.settings.organisation, ctx.store)
    try:
        if form.get("decision") == "give":
            invitation = give_consent(ctx.store, invitation, notice)
        elif form.get("decision") == "refuse":
            invitation = decline(ctx.store, invitation, notice)
    except InvitationError as exc:
        return render("message.html", invitation.language, status=410, title_key="invalid_title",
                      text_key=f"invalid_{exc.code}", contact=True)
    return _see(_where(invitation))


@router.get("/c/declined", response_class=HTMLResponse)
def declined(request: Request) -> Response:
    invitation = _invitation(request)
    if invitation is None:
        return _lost()
    if invitation.status != "declined":
        return _see(_where(invitation))
    return render("message.html", invitation.language, title_key="declined_title", text_key="declined_text")


# Items ----------------------------------------------------------------------------------------------------------
@router.get("/c/item", response_class=HTMLResponse)
async def item_page(request: Request) -> Response:
    return await _context(request).run(_item_page, request)


def _item_page(request: Request) -> Response:
    invitation = _invitation(request)
    if invitation is None:
        return _lost()
    if invitation.status != "started":
        return _see(_where(invitation))
    session = current_session(_context(request).store, invitation)
    if session.finished:
        return _see("/c/done")
    notice = request.query_params.get("notice")
    return _item(request, invitation, session, message_key=notice if notice in ("stale",) else None)


def _item(request: Request, invitation: Invitation, session: Any, *, message_key: str | None = None,
          required_left: int = 0, status: int = 200) -> HTMLResponse:
    prompt = session.current()
    answered = sum(v is not None for v in session.answers().values())
    remaining = session.remaining_seconds()
    left = None if remaining is None else divmod(math.ceil(remaining), 60)
    return render("item.html", session.language, status=status, prompt=prompt, session=session,
                  answered=answered, csrf=_csrf(request, invitation), left=left,
                  # adaptive: the items are chosen as it goes, so the most it can give (the terminal says the same)
                  total=prompt.total if prompt is not None else len(session.order),
                  adaptive=prompt is not None and prompt.adaptive,
                  allow_back=session.questionnaire.spec.administration.allow_back and session.position > 0,
                  pausable=session.time_limit_seconds is None, message_key=message_key,
                  required_left=required_left)


@router.post("/c/item")
async def item_answer(request: Request) -> Response:
    form = await _read_form(request)
    ctx = _context(request)
    # Finishing runs the assessment: one at a time (WebContext.run_heavy).
    run = ctx.run_heavy if form is not None and form.get("action") == "finish" else ctx.run
    return await run(_item_answer, request, form)


def _item_answer(request: Request, form: dict[str, str] | None) -> Response:
    posted = _posted(request, form)
    if isinstance(posted, Response):
        return posted
    invitation, form = posted
    if invitation.status != "started":
        return _see(_where(invitation))
    ctx = _context(request)
    try:
        seq = int(form.get("seq", ""))
    except ValueError:
        return _forbidden(invitation)
    item = form.get("item") or None
    action = form.get("action", "answer")
    outcome = act(ctx.store, invitation, action, seq=seq, item=item, typed=form.get("answer"))
    if outcome.status in ("finished", "expired"):
        return _see("/c/done")
    if outcome.status == "stale":
        return _see("/c/item?notice=stale")
    if outcome.status == "refused":
        session = current_session(ctx.store, invitation)
        if outcome.reason == "timed_pause" or outcome.reason == "action":
            key = "not_allowed"
        elif outcome.reason == "required":
            return _item(request, invitation, session, required_left=len(outcome.items))
        else:
            key = "choose" if outcome.reason == "answer" else "not_allowed"
        return _item(request, invitation, session, message_key=key)
    if form.get("action") == "pause":
        return _see("/c/paused")
    return _see("/c/item")


@router.get("/c/paused", response_class=HTMLResponse)
def paused(request: Request) -> Response:
    invitation = _invitation(request)
    if invitation is None:
        return _lost()
    return render("message.html", invitation.language, title_key="paused_title", text_key="paused_text")


# The end ---------------------------------------------------------------------------------------------------------
@router.get("/c/done", response_class=HTMLResponse)
def done(request: Request) -> Response:
    invitation = _invitation(request)
    if invitation is None:
        return _lost()
    if invitation.status in ("created", "started", "declined"):
        return _see(_where(invitation))
    ctx = _context(request)
    session = current_session(ctx.store, invitation)
    notice = consent_notice(invitation, ctx.settings.organisation, ctx.store)
    return render("done.html", invitation.language, invitation=invitation, notice=notice, expired=session.expired)


@router.get("/c/report", response_class=HTMLResponse)
def report(request: Request) -> Response:
    invitation = _invitation(request)
    if invitation is None:
        return _lost()
    ctx = _context(request)
    if not invitation.report_to_candidate or invitation.status != "assessed":
        return render("message.html", invitation.language, status=404, title_key="invalid_title",
                      text_key="report_unavailable")
    case = case_from_store(ctx.store, invitation.candidate_id)
    return HTMLResponse(candidate_report(case, contact=ctx.settings.organisation.contact))
