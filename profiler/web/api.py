"""The vendors' JSON API under ``/api/v1``: invitations, their status and results, webhook deliveries.

A separate FastAPI application mounted at ``/api/v1`` (so it has its own OpenAPI document, served at
``/api/v1/openapi.json`` and committed as ``docs/openapi-v1.json``, and its own error handlers). Every request
carries an API client's key (``Authorization: Bearer pk_...``, see :mod:`profiler.integration.clients`); each
route needs a scope. Every POST needs an ``Idempotency-Key``: a retry with the same key does nothing more and
answers with the invitation as it is now (``Idempotent-Replayed: true``). Errors are problem details naming the
field (:mod:`.problems`). A request that fails writes nothing.

A client sees only the invitations it created: another client's invitation is "not found", as is an unknown one.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request, Security
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from profiler.integration.clients import ApiClient
from profiler.integration.errors import IntegrationError
from profiler.integration.idempotency import run_once
from profiler.integration.invitations import ID_PATTERN, Invitation, get_invitation
from profiler.integration.webhooks import attempts_of, deliveries
from profiler.jobmodel import bundled_job_models, load_job_model
from profiler.pipeline.cases import case_from_store
from profiler.pipeline.invitations import create_invitation, revoke_invitation
from profiler.pipeline.results import API_VERSION, InvitationView, invitation_path, invitation_view
from profiler.reports.candidate import candidate_report
from profiler.reports.recruiter import recruiter_report
from profiler.web.context import WebContext
from profiler.web.problems import HANDLERS, MEDIA_TYPE, ApiProblem, Problem
from profiler.web.security import client_address

PREFIX = f"/api/{API_VERSION}"
MAX_BODY_BYTES = 64 * 1024
DESCRIPTION = """\
Invite candidates to assessments, read where each invitation stands and its result (response validity,
scale scores with their SEM bands, the recommendation with its explanation, a person's decision, report
links), and read the log of webhook deliveries.

Authenticate with an API client's key: `Authorization: Bearer pk_...` (create one with
`profiler api client create`). Every POST needs an `Idempotency-Key` header (e.g. a UUID): a retry with the
same key and body does nothing more. Errors are `application/problem+json` and name the field at fault.
"""

bearer = HTTPBearer(auto_error=False, scheme_name="ApiKey", description="An API client's key: pk_<id>.<secret>")
PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": text, "content": {MEDIA_TYPE: {}}}
    for status, text in ((401, "No key, or an unknown or revoked key"), (403, "The key lacks the scope"),
                         (404, "No such invitation for this client"), (409, "A conflict (see the detail)"),
                         (413, "The body is too large"), (422, "A field is invalid (named in the problem)"),
                         (429, "Too many failed keys from this address"))}


# Requests and responses ----------------------------------------------------------------------------------------
class InvitationRequest(BaseModel):
    """An invitation to create: a job model (it names the questionnaire) and how to administer it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    job_model: str = Field(min_length=1, max_length=64, description="A job model's id (GET /job-models)")
    questionnaire: str | None = Field(None, max_length=64, description="Checked against the job model's")
    language: str | None = Field(None, max_length=64, description="One of the questionnaire's languages")
    candidate_reference: str | None = Field(None, description="Your reference for the candidate (max 200 "
                                            "printable characters; nothing personal, please)")
    callback_url: str | None = Field(None, description="Where webhooks about this invitation go (https)")
    expires_in_days: int = Field(14, ge=1, le=365, description="How long the link may be opened")
    time_multiplier: float = Field(1.0, ge=1.0, le=10.0, description="Accommodation factor of time limits")
    report_to_candidate: bool = Field(False, description="The candidate may read their report from the end page")


class InvitationCreated(InvitationView):
    url: str = Field(description="The candidate's link: send it to them (single-use, expiring)")


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    reason: str = Field(min_length=1, max_length=1000)


class JobModelInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    version: str
    title: str
    questionnaire: str
    languages: list[str]
    items: int
    time_limit_seconds: float | None


class WebhookAttempt(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attempt: int
    attempted_at: datetime
    status_code: int | None = Field(description="The receiver's HTTP status (None: no answer)")
    error: str | None
    duration_ms: float


class WebhookDelivery(BaseModel):
    """One webhook delivery: its body as sent (signed afresh on each attempt) and every attempt."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="The Profiler-Delivery header: the same on every retry")
    event_type: Literal["session.completed", "decision.made", "decision.not_confirmed"]
    invitation_id: str
    url: str
    status: Literal["pending", "delivered", "failed"]
    attempts: list[WebhookAttempt]
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    body: dict[str, Any]


class WebhookInvitation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    candidate_reference: str | None
    href: str = Field(description="The invitation's address in this API: read its status and result there")


class WebhookDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["accept", "override", "do_not_use"]
    outcome: Literal["advance", "not_advance"] | None
    stage: Literal["first", "contest"]
    reviewer_role: str
    decided_at: str


class WebhookRefusal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewer_role: str
    refused_at: str


class WebhookEvent(BaseModel):
    """The body of a webhook (signed: see the Profiler-Signature header and docs/web.md)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="The delivery id, also in the Profiler-Delivery header: de-duplicate on it")
    type: Literal["session.completed", "decision.made", "decision.not_confirmed"]
    created_at: str
    invitation: WebhookInvitation
    decision: WebhookDecision | None = Field(None, description="decision.made only")
    refusal: WebhookRefusal | None = Field(None, description="decision.not_confirmed only: the override told of "
                                           "before does not stand; the case waits for a new decision")


# Dependencies ------------------------------------------------------------------------------------------------
def _context(request: Request) -> WebContext:
    return request.app.state.profiler


def require(scope: str):
    """A dependency: the API client whose key the request carries, if it has ``scope``; else a problem.

    Failed keys are counted per client address; after ``key_failures_per_minute`` the address gets 429.
    """

    async def client(request: Request,
                     credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]) -> ApiClient:
        ctx = _context(request)
        address = client_address(request)
        wait = ctx.key_failures.blocked(address)
        if wait is not None:
            raise ApiProblem("too many failed API keys from this address; try again later", code="rate_limited",
                             headers={"Retry-After": str(math.ceil(wait))})
        found = None if credentials is None else await ctx.run(ctx.clients.client, credentials.credentials)
        if found is None:
            ctx.key_failures.hit(address)
            raise ApiProblem("send a valid API key as 'Authorization: Bearer pk_...' (this one is missing, unknown "
                             "or revoked)", code="unauthorized", field="Authorization",
                             headers={"WWW-Authenticate": 'Bearer realm="profiler"'})
        if not found.allows(scope):
            raise ApiProblem(f"this API client's key does not have the scope {scope!r} (it has: "
                             f"{', '.join(found.scopes)})", code="forbidden", field="Authorization")
        return found

    return client


IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=255,
                                       description="Any unique string per intended request, e.g. a UUID")]


async def _body(request: Request) -> bytes:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ApiProblem(f"the body has {len(body)} bytes; at most {MAX_BODY_BYTES}", code="invalid", status=413,
                         field="body")
    return body


def _base_url(request: Request) -> str:
    ctx = _context(request)
    if ctx.settings.public_url:
        return ctx.settings.public_url.rstrip("/")
    return f"{request.url.scheme}://{request.url.netloc}"


def _own(ctx: WebContext, client: ApiClient, invitation_id: str) -> Invitation:
    """The client's invitation; another client's, or none, is "not found" alike."""
    not_found = ApiProblem(f"no invitation {invitation_id!r} for this client", code="not_found",
                           field="invitation_id")
    if not ID_PATTERN.match(invitation_id):
        raise not_found
    try:
        invitation = get_invitation(ctx.store, invitation_id)
    except IntegrationError:
        raise not_found from None
    if invitation.client_id != client.id:
        raise not_found
    return invitation


InvitationId = Annotated[str, Path(description="The invitation's id (inv_...)", max_length=64)]


# Routes ---------------------------------------------------------------------------------------------------------
router = APIRouter()


@lru_cache(maxsize=1)
def _job_models() -> tuple[JobModelInfo, ...]:
    found = []
    for model_id in bundled_job_models():
        jm = load_job_model(model_id)
        q = jm.questionnaire
        found.append(JobModelInfo(id=jm.id, version=jm.version, title=jm.spec.role.title, questionnaire=q.id,
                                  languages=q.languages, items=len(q.item_ids),
                                  time_limit_seconds=q.spec.administration.time_limit_seconds))
    return tuple(found)


@router.get("/job-models", response_model=list[JobModelInfo], responses=PROBLEMS, summary="Job models on offer",
            tags=["invitations"])
async def job_models(_client: Annotated[ApiClient, Depends(require("invitations:write"))]) -> list[JobModelInfo]:
    return list(_job_models())


@router.post("/invitations", status_code=201, response_model=InvitationCreated, responses=PROBLEMS,
             summary="Invite a candidate", tags=["invitations"])
async def create(payload: InvitationRequest, request: Request, idempotency_key: IdempotencyKey,
                 client: Annotated[ApiClient, Depends(require("invitations:write"))]) -> JSONResponse:
    ctx = _context(request)
    body = await _body(request)
    if payload.job_model not in bundled_job_models():
        raise IntegrationError(f"unknown job model {payload.job_model!r}; on offer: "
                               f"{', '.join(bundled_job_models())}", field="job_model")

    def work(connection) -> tuple[int, str]:
        new = create_invitation(
            ctx.store, ctx.key, payload.job_model, questionnaire=payload.questionnaire, language=payload.language,
            reference=payload.candidate_reference, callback_url=payload.callback_url,
            expires_in=timedelta(days=payload.expires_in_days), time_multiplier=payload.time_multiplier,
            report_to_candidate=payload.report_to_candidate, client_id=client.id, actor=f"api:{client.id}",
            allow_http_callbacks=ctx.settings.allow_http_callbacks, connection=connection)
        return 201, json.dumps({"invitation": new.invitation.id})

    remembered, replayed = await ctx.run(run_once, ctx.store, client.id, idempotency_key, method="POST",
                                         path=request.url.path, body=body, work=work)
    return await _invitation_response(request, client, remembered, replayed, with_url=True)


@router.get("/invitations/{invitation_id}", response_model=InvitationView, responses=PROBLEMS,
            summary="An invitation's status and result", tags=["invitations"])
async def read(invitation_id: InvitationId, request: Request,
               client: Annotated[ApiClient, Depends(require("invitations:read"))]) -> JSONResponse:
    ctx = _context(request)
    invitation = await ctx.run(_own, ctx, client, invitation_id)
    view = await ctx.run(invitation_view, ctx.store, invitation, base_url=_base_url(request))
    return JSONResponse(view.model_dump(mode="json"))


@router.post("/invitations/{invitation_id}/revoke", response_model=InvitationView, responses=PROBLEMS,
             summary="Withdraw an invitation not yet completed", tags=["invitations"])
async def revoke(invitation_id: InvitationId, payload: RevokeRequest, request: Request,
                 idempotency_key: IdempotencyKey,
                 client: Annotated[ApiClient, Depends(require("invitations:write"))]) -> JSONResponse:
    ctx = _context(request)
    body = await _body(request)
    await ctx.run(_own, ctx, client, invitation_id)

    def work(connection) -> tuple[int, str]:
        revoke_invitation(ctx.store, invitation_id, actor=f"api:{client.id}", reason=payload.reason,
                          connection=connection)
        return 200, json.dumps({"invitation": invitation_id})

    remembered, replayed = await ctx.run(run_once, ctx.store, client.id, idempotency_key, method="POST",
                                         path=request.url.path, body=body, work=work)
    return await _invitation_response(request, client, remembered, replayed, with_url=False)


@router.get("/invitations/{invitation_id}/reports/{audience}", response_class=HTMLResponse, responses=PROBLEMS,
            summary="The recruiter's or the candidate's report (HTML)", tags=["invitations"])
async def report(invitation_id: InvitationId, audience: Annotated[str, Path(pattern="^(recruiter|candidate)$")],
                 request: Request, client: Annotated[ApiClient, Depends(require("invitations:read"))]) -> HTMLResponse:
    ctx = _context(request)
    invitation = await ctx.run(_own, ctx, client, invitation_id)
    if invitation.status != "assessed":
        raise ApiProblem(f"invitation {invitation_id} is {invitation.status}: its reports exist once it is assessed",
                         code="not_found", field="invitation_id")
    case = await ctx.run(case_from_store, ctx.store, invitation.candidate_id)
    if audience == "recruiter":
        return HTMLResponse(recruiter_report(case))
    return HTMLResponse(candidate_report(case, contact=ctx.settings.organisation.contact))


@router.get("/webhooks/deliveries", response_model=list[WebhookDelivery], responses=PROBLEMS,
            summary="The log of this client's webhook deliveries, newest first", tags=["webhooks"])
async def webhook_log(request: Request, client: Annotated[ApiClient, Depends(require("webhooks:read"))],
                      invitation_id: Annotated[str | None, Query(max_length=64)] = None,
                      status: Annotated[Literal["pending", "delivered", "failed"] | None, Query()] = None,
                      limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[WebhookDelivery]:
    ctx = _context(request)

    def read() -> list[WebhookDelivery]:
        found = deliveries(ctx.store, client_id=client.id, invitation_id=invitation_id, status=status, limit=limit)
        return [WebhookDelivery(
            id=d.id, event_type=d.event_type, invitation_id=d.invitation_id, url=d.url, status=d.status,
            attempts=[WebhookAttempt(**vars(a)) for a in attempts_of(ctx.store, d.id)],
            next_attempt_at=d.next_attempt_at, created_at=d.created_at, delivered_at=d.delivered_at,
            body=json.loads(d.body)) for d in found]

    return await ctx.run(read)


async def _invitation_response(request: Request, client: ApiClient, remembered: Any, replayed: bool, *,
                               with_url: bool) -> JSONResponse:
    ctx = _context(request)
    invitation_id = json.loads(remembered.response)["invitation"]
    try:
        invitation = await ctx.run(get_invitation, ctx.store, invitation_id)
    except IntegrationError:  # erased since the first request
        raise ApiProblem(f"invitation {invitation_id} no longer exists (its candidate was erased)", code="gone",
                         field="Idempotency-Key") from None
    view = await ctx.run(invitation_view, ctx.store, invitation, base_url=_base_url(request))
    body = view.model_dump(mode="json")
    if with_url:
        body = InvitationCreated(**view.model_dump(), url=f"{_base_url(request)}/i/{invitation.token(ctx.key)}") \
            .model_dump(mode="json")
    headers = {"Location": invitation_path(invitation.id)}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(body, status_code=remembered.status_code, headers=headers)


# The application ------------------------------------------------------------------------------------------------
def create_api(context: WebContext) -> FastAPI:
    """The API application (mounted at ``/api/v1`` by :func:`profiler.web.app.create_app`)."""
    from profiler._version import __version__

    api = FastAPI(title="profiler vendor API", version=API_VERSION, description=DESCRIPTION,
                  openapi_url="/openapi.json", docs_url=None, redoc_url=None, servers=[{"url": PREFIX}],
                  root_path_in_servers=False, exception_handlers=HANDLERS,
                  openapi_tags=[{"name": "invitations", "description": "Invitations, their status and results"},
                                {"name": "webhooks", "description": "The log of webhook deliveries"}])
    api.state.profiler = context
    api.state.profiler_version = __version__
    api.include_router(router)
    for event, text in (("session.completed", "The invitation's session is completed and assessed: read its result"),
                        ("decision.made", "A person decided the invitation's case (also after a contest)"),
                        ("decision.not_confirmed", "A second person refused to confirm an override: it does not "
                                                   "stand, and the case waits for a new decision")):
        api.webhooks.add_api_route(event, _webhook_doc, methods=["POST"], summary=text, tags=["webhooks"],
                                   status_code=204, openapi_extra=WEBHOOK_HEADERS,
                                   operation_id=f"webhook_{event.replace('.', '_')}")
    return api


WEBHOOK_HEADERS = {"parameters": [
    {"name": name, "in": "header", "required": True, "schema": {"type": "string"}, "description": text}
    for name, text in (("Profiler-Delivery", "The delivery id (the same on every retry)"),
                       ("Profiler-Event", "session.completed, decision.made or decision.not_confirmed"),
                       ("Profiler-Timestamp", "Unix seconds of this attempt"),
                       ("Profiler-Signature", "v1=<hex>: HMAC-SHA256 of '<timestamp>.<body>' under the client's "
                                              "webhook secret; refuse it if the timestamp is over 5 minutes old"))]}


def _webhook_doc(event: WebhookEvent) -> None:
    """What profiler POSTs to an invitation's callback_url (documentation only: the receiver is yours)."""


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI document as served (independent of any store or key)."""
    return create_api(None).openapi()  # type: ignore[arg-type]


def openapi_text() -> str:
    """:func:`openapi_document` as the committed file holds it (sorted keys, two-space indent, final newline)."""
    return json.dumps(openapi_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
