"""Signing in and out, and the check every workspace route makes: a live session, a role with the route's
permission, and for a POST a form token of this session from this site.

- Session cookie ``profiler_staff``: a random token (its SHA-256 in the store), ``HttpOnly``,
  ``SameSite=Strict``, path ``/w``, ``Secure`` with ``--secure-cookies``. Signing in always issues a new
  token and ends the one presented, so a token planted before sign-in is worthless (session fixation).
- Form tokens: the key's signature of the session's token hash (``staff-form``); the sign-in form's is the
  signature of a random nonce in its own short-lived cookie, so that a sign-in cannot be forged from another
  site either.
- Sign-in failures: ten a minute from one address get 429; five in a row lock the account for 15 minutes
  (:mod:`profiler.integration.staff`). The page never says which of user name and password was wrong.
- An organisation with an OpenID Connect provider (:mod:`.oidc_pages`) gets its "Sign in with ..." button on
  ``/w/sign-in?organisation=<id>`` (and on the plain page when it is listed); when it turns password sign-in
  off, a right password of its staff opens no session.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from profiler.integration.oidc import Oidc, OidcConfig
from profiler.integration.oidc_provider import Provider
from profiler.integration.staff import Staff, StaffUser, token_hash
from profiler.web.context import WebContext
from profiler.web.rendering import render
from profiler.web.security import RateLimiter, client_address, same_origin
from profiler.web.workspace.access import allowed

SESSION_COOKIE = "profiler_staff"
SIGN_IN_COOKIE = "profiler_sign_in"
FORM_PURPOSE = "staff-form"
SIGN_IN_PURPOSE = "staff-sign-in"
PATH = "/w"

router = APIRouter(include_in_schema=False)
# (method, path) -> permission of every workspace route; the tests check each against each role.
ROUTE_PERMISSIONS: dict[tuple[str, str], str] = {}


@dataclass
class WorkspaceState:
    """What the workspace keeps beside the app's :class:`WebContext`: the accounts, the sign-in limiter, and
    the OpenID Connect providers met so far (by issuer; each caches its discovery document and keys)."""

    staff: Staff
    sign_in_failures: RateLimiter
    providers: dict[str, Provider] = field(default_factory=dict)


class Refused(Exception):
    """Raised by a route's check; the app answers with ``response``."""

    def __init__(self, response: Response):
        self.response = response


@dataclass(frozen=True)
class Staffer:
    """The signed-in person, as a route sees them: the account, the session's form token, the form (POST)."""

    user: StaffUser
    csrf: str
    form: dict[str, str]


def context(request: Request) -> WebContext:
    return request.app.state.profiler


def state(request: Request) -> WorkspaceState:
    return request.app.state.workspace


def see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def page(template: str, *, status: int = 200, **values: Any) -> HTMLResponse:
    return render(f"workspace/{template}", "en", status=status, **values)


def message(title: str, text: str, *, status: int, staffer: Staffer | None = None) -> HTMLResponse:
    return page("message.html", status=status, title=title, text=text, me=staffer)


def needs(permission: str) -> Callable[[Request], Awaitable[None]]:
    """The dependency of a route that needs ``permission``: sets ``request.state.staffer`` or refuses."""

    async def check(request: Request) -> None:
        ws, key = state(request), context(request).key
        token = request.cookies.get(SESSION_COOKIE, "")
        user = await context(request).run(ws.staff.session_user, token) if token else None
        if user is None:
            if request.method == "GET":
                raise Refused(see(f"{PATH}/sign-in?next={request.url.path}"))
            raise Refused(message("Signed out", "Your session has ended: sign in again.", status=401))
        staffer = Staffer(user, key.sign(FORM_PURPOSE, token_hash(token)), {})
        if request.method == "POST":
            form = await request.form()
            values = {k: v for k, v in form.items() if isinstance(v, str)}
            if not same_origin(request) or not key.verify(FORM_PURPOSE, token_hash(token), values.get("csrf", "")):
                raise Refused(message("Refused", "This form did not come from your session on this site: open "
                                      "the page again and repeat.", status=403, staffer=staffer))
            staffer = Staffer(user, staffer.csrf, values)
        if not allowed(user.role, permission):
            raise Refused(message("Not for your role", f"A {user.role.replace('_', ' ')} cannot open this page.",
                                  status=403, staffer=staffer))
        request.state.staffer = staffer

    return check


def route(method: str, path: str, permission: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a workspace route with the permission it needs (recorded in :data:`ROUTE_PERMISSIONS`)."""

    def register(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        ROUTE_PERMISSIONS[(method, path)] = permission
        return router.api_route(path, methods=[method], dependencies=[Depends(needs(permission))])(endpoint)

    return register


def me(request: Request) -> Staffer:
    """The signed-in person of a request that passed its route's check."""
    return request.state.staffer


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a workspace page of this site only (no open redirect)."""
    if value and value.startswith(f"{PATH}/") and not value.startswith("//") and "\\" not in value:
        return value
    return PATH


# Sign in and out ---------------------------------------------------------------------------------------------
@router.get(f"{PATH}/sign-in", response_class=HTMLResponse)
async def sign_in_page(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    if token and await context(request).run(state(request).staff.session_user, token) is not None:
        return see(safe_next(request.query_params.get("next")))
    return await _sign_in_form(request, status=200, failed=False)


def _providers_shown(configs: list[OidcConfig], organisation: str) -> tuple[list[OidcConfig], bool]:
    """The providers whose buttons the sign-in page shows, and whether it shows the password form: the
    organisation asked for if it has one, else the listed ones (an unlisted organisation's name is not shown
    to whoever opens the page)."""
    chosen = [c for c in configs if c.organisation == organisation]
    if chosen:
        return chosen, chosen[0].password_sign_in
    return [c for c in configs if c.listed], True


async def _sign_in_form(request: Request, *, status: int, failed: bool, username: str = "",
                        refusal: str | None = None, organisation: str | None = None) -> Response:
    ctx = context(request)
    nonce = secrets.token_urlsafe(24)
    configs = await ctx.run(Oidc(state(request).staff).configs)
    organisation = (organisation or request.query_params.get("organisation", ""))[:64]
    providers, passwords = _providers_shown(configs, organisation)
    response = page("sign_in.html", status=status, me=None, failed=failed, username=username, refusal=refusal,
                    csrf=ctx.key.sign(SIGN_IN_PURPOSE, nonce), next=safe_next(request.query_params.get("next")),
                    providers=providers, passwords=passwords, single_sign_on=bool(configs),
                    organisation=organisation)
    response.set_cookie(SIGN_IN_COOKIE, nonce, max_age=1800, httponly=True, samesite="strict",
                        secure=ctx.settings.secure_cookies, path=PATH)
    return response


def too_many_attempts(request: Request) -> Response | None:
    """429 (with ``Retry-After``) when sign-ins from this address failed too often in the last minute."""
    wait = state(request).sign_in_failures.blocked(client_address(request))
    if wait is None:
        return None
    response = message("Too many attempts", "Too many failed sign-ins from here: wait a minute and try again.",
                       status=429)
    response.headers["Retry-After"] = str(math.ceil(wait))
    return response


@router.post(f"{PATH}/sign-in")
async def sign_in(request: Request) -> Response:
    ctx, ws = context(request), state(request)
    address = client_address(request)
    if (refused := too_many_attempts(request)) is not None:
        return refused
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    nonce = request.cookies.get(SIGN_IN_COOKIE, "")
    if not same_origin(request) or not nonce or not ctx.key.verify(SIGN_IN_PURPOSE, nonce, values.get("csrf", "")):
        return message("Refused", "This sign-in form did not come from this site, or it is too old: open the "
                       "sign-in page again.", status=403)
    username = values.get("username", "").strip()
    user = await ctx.run(ws.staff.authenticate, username, values.get("password", ""))
    if user is None:
        ws.sign_in_failures.hit(address)
        return await _sign_in_form(request, status=401, failed=True, username=username)
    if not await ctx.run(Oidc(ws.staff).password_allowed, user.tenant):  # said only after a right password
        return await _sign_in_form(request, status=403, failed=False, username=username, organisation=user.tenant,
                                   refusal="Your organisation signs in through its own provider only: use its "
                                           "button below.")
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await ctx.run(ws.staff.end_session, old)
    token = await ctx.run(ws.staff.start_session, user)
    response = see(safe_next(values.get("next")))
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", secure=ctx.settings.secure_cookies,
                        path=PATH)
    response.delete_cookie(SIGN_IN_COOKIE, path=PATH)
    return response


@route("POST", f"{PATH}/sign-out", "home")
async def sign_out(request: Request) -> Response:
    await context(request).run(state(request).staff.end_session, request.cookies.get(SESSION_COOKIE, ""))
    response = see(f"{PATH}/sign-in")
    response.delete_cookie(SESSION_COOKIE, path=PATH)
    return response


__all__ = ["PATH", "ROUTE_PERMISSIONS", "Refused", "Staffer", "WorkspaceState", "me", "needs", "page", "route", "router",
           "safe_next", "see", "too_many_attempts"]
