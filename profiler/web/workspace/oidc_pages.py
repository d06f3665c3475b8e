"""Signing in through the organisation's OpenID Connect provider: the authorization-code flow with PKCE.

1. ``GET /w/sign-in/oidc/<organisation>`` (the "Sign in with ..." button): a new ``state``, ``nonce`` and PKCE
   verifier, kept in the cookie ``profiler_oidc`` (signed by the server's key, ``HttpOnly``, path
   ``/w/oidc``, ten minutes, ``SameSite=Lax`` because the provider sends the browser back from its own
   site), then a redirect to the provider's authorization endpoint (found by discovery).
2. ``GET /w/oidc/callback`` (the redirect URI registered at the provider): the cookie must be this server's,
   unexpired, and its ``state`` the one returned (else the callback is a forgery or a replay: refused before
   the provider is called); the code is exchanged at the token endpoint with the verifier; the ID token is
   validated (:mod:`profiler.integration.idtoken`); the account is found (:class:`~profiler.integration.oidc.Oidc`).
   Then the same staff session as a password sign-in: a new token, the one presented ended, ``staff.signed_in``
   with ``method: oidc``. The cookie is deleted whatever happens, so a flow is used once.

The session cookie is ``SameSite=Strict``, which a browser withholds on navigations that began on another
site: the callback therefore answers with a page of this site that moves on to the workspace itself. Lockout
counts do not apply (the provider authenticates); failures count toward the per-address limit of sign-ins,
are logged as ``staff.sign_in_refused`` (reason, never a token or code) and name no detail to the browser.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import re
import secrets
import time
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from profiler.integration.errors import IntegrationError
from profiler.integration.idtoken import IdTokenError, validate_id_token
from profiler.integration.oidc import Oidc, OidcConfig, SignInRefused
from profiler.integration.oidc_provider import OidcError, Provider, pkce_pair
from profiler.integration.staff import Staff
from profiler.web.security import client_address
from profiler.web.workspace.auth import (
    PATH,
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    context,
    message,
    page,
    router,
    safe_next,
    state,
    too_many_attempts,
)

FLOW_COOKIE = "profiler_oidc"
FLOW_PURPOSE = "staff-oidc-flow"
FLOW_SECONDS = 600
FLOW_PATH = f"{PATH}/oidc"
CALLBACK = f"{FLOW_PATH}/callback"
_TENANT = re.compile(r"[a-z][a-z0-9_-]{0,63}")
log = logging.getLogger("profiler.web.workspace")


def provider(request: Request, issuer: str) -> Provider:
    """The app's :class:`Provider` of ``issuer`` (one per issuer, so its discovery and keys are cached)."""
    providers = state(request).providers
    if issuer not in providers:
        providers[issuer] = Provider(issuer)
    return providers[issuer]


def redirect_uri(request: Request) -> str:
    """The callback's address as the provider must know it: ``--public-url`` + ``/w/oidc/callback``."""
    base = context(request).settings.public_url or str(request.base_url)
    return base.rstrip("/") + CALLBACK


def _seal(request: Request, flow: dict[str, Any]) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(flow, separators=(",", ":")).encode()).decode().rstrip("=")
    return f"{payload}.{context(request).key.sign(FLOW_PURPOSE, payload)}"


def _open(request: Request) -> dict[str, Any] | None:
    """The flow of this browser's cookie: None when absent, not signed by this server, or expired."""
    sealed = request.cookies.get(FLOW_COOKIE, "")
    payload, _, signature = sealed.partition(".")
    if not payload or len(sealed) > 2000 or not context(request).key.verify(FLOW_PURPOSE, payload, signature):
        return None
    flow = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return flow if isinstance(flow, dict) and flow.get("e", 0) > time.time() else None


async def _config(request: Request, tenant: str) -> OidcConfig | None:
    if not _TENANT.fullmatch(tenant):
        return None
    return await context(request).run(Oidc(state(request).staff).config, tenant)


@router.get(f"{PATH}/sign-in/oidc/{{organisation}}")
async def start(request: Request, organisation: str) -> Response:
    config = await _config(request, organisation)
    if config is None:
        return message("No single sign-on", "This organisation does not sign in through a provider here.",
                       status=404)
    verifier, challenge = pkce_pair()
    flow = {"o": organisation, "s": secrets.token_urlsafe(32), "n": secrets.token_urlsafe(32), "v": verifier,
            "x": safe_next(request.query_params.get("next")), "e": int(time.time()) + FLOW_SECONDS}
    try:
        url = await context(request).run(provider(request, config.issuer).authorization_url,
                                         client_id=config.client_id, redirect_uri=redirect_uri(request),
                                         state=flow["s"], nonce=flow["n"], code_challenge=challenge)
    except OidcError as exc:
        log.warning("oidc: organisation %s: the provider is unusable: %s", organisation, exc)
        return message("Provider unavailable", f"{config.label} cannot be reached just now: try again later, "
                       "or sign in with your password if your organisation allows it.", status=502)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(FLOW_COOKIE, _seal(request, flow), max_age=FLOW_SECONDS, httponly=True, samesite="lax",
                        secure=context(request).settings.secure_cookies, path=FLOW_PATH)
    return response


def _refused(title: str, text: str, *, status: int) -> Response:
    response = message(title, text, status=status)
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH)
    return response


def _log_refusal(staff: Staff, organisation: str, reason: str, detail: str) -> None:
    staff.log.append("staff.sign_in_refused", {"organisation": organisation, "method": "oidc", "reason": reason,
                                               "detail": detail[:300]}, actor="system:workspace")


@router.get(CALLBACK)
async def callback(request: Request) -> Response:
    ctx, ws = context(request), state(request)
    address = client_address(request)
    if (refused := too_many_attempts(request)) is not None:
        refused.delete_cookie(FLOW_COOKIE, path=FLOW_PATH)
        return refused
    params = request.query_params
    flow = _open(request)
    returned = params.get("state", "")
    if flow is None or not hmac.compare_digest(str(flow.get("s", "")).encode(), returned.encode()):
        ws.sign_in_failures.hit(address)  # a forged, replayed or stale callback: the provider is not called
        log.warning("oidc: callback from %s refused: %s", address,
                    "no valid sign-in under way" if flow is None else "state mismatch")
        return _refused("Sign-in not completed", "This sign-in did not start here or took too long: start again "
                        "from the sign-in page.", status=400)
    organisation = str(flow["o"])
    config = await _config(request, organisation)
    try:
        if config is None:
            raise SignInRefused(f"organisation {organisation!r} has no provider any more", code="not_configured")
        if "error" in params:  # the person cancelled, or the provider refused them
            code = re.sub(r"[^A-Za-z0-9_.-]", "", params["error"])[:60]
            raise SignInRefused(f"the provider answered {code!r}", code="provider_refused")
        if "iss" in params and params["iss"] != config.issuer:  # RFC 9207: an answer of another provider
            raise IdTokenError("the authorization response names another issuer", code="issuer")
        if not params.get("code"):
            raise OidcError("the provider returned no authorization code", code="provider")
        issuer = provider(request, config.issuer)
        secret = Oidc(ws.staff, ctx.key).client_secret(config)
        id_token = await ctx.run(issuer.exchange, code=params["code"], code_verifier=str(flow["v"]),
                                 client_id=config.client_id, client_secret=secret.reveal() if secret else None,
                                 redirect_uri=redirect_uri(request))
        claims = await ctx.run(validate_id_token, id_token, keys=issuer.keys, issuer=config.issuer,
                               client_id=config.client_id, nonce=str(flow["n"]), now=ws.staff.now())
        user = await ctx.run(Oidc(ws.staff).account, config, claims)
    except IntegrationError as exc:
        ws.sign_in_failures.hit(address)
        log.warning("oidc: organisation %s: sign-in refused (%s): %s", organisation, exc.code, exc)
        await ctx.run(_log_refusal, ws.staff, organisation, exc.code, str(exc))
        if isinstance(exc, OidcError):
            return _refused("Provider unavailable", "Your organisation's provider could not complete the sign-in: "
                            "try again later.", status=502)
        return _refused("Not signed in", "Your organisation's provider did not sign you in to an account of this "
                        "workspace, or the account is disabled. Ask an administrator of profiler.", status=403)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await ctx.run(ws.staff.end_session, old)
    token = await ctx.run(ws.staff.start_session, user, method="oidc")
    response: Response = page("signed_in.html", me=None, next=str(flow["x"]))
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", secure=ctx.settings.secure_cookies,
                        path=PATH)
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH)
    response.delete_cookie(SIGN_IN_COOKIE, path=PATH)
    return response


__all__ = ["CALLBACK", "FLOW_COOKIE", "provider", "redirect_uri", "router"]

