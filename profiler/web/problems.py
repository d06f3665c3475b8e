"""Errors of the JSON API as problem details (RFC 9457, ``application/problem+json``), each naming the field.

Every error the API returns has the same shape (:class:`Problem`): ``type`` (``about:blank``: the status says
it), ``title`` (the status's phrase), ``status``, ``detail`` (what is wrong, in words), ``code`` (``invalid``,
``not_found``, ``conflict``, ``unauthorized``, ``forbidden``, ``rate_limited``, ``gone``), ``field`` (the first
field at fault, if any: ``callback_url``, ``Idempotency-Key``, ...) and ``errors`` (every field at fault with
its message). A request body that does not fit its schema lists every field pydantic found.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from profiler.integration.errors import IntegrationError

MEDIA_TYPE = "application/problem+json"
STATUS_OF_CODE = {"invalid": 422, "not_found": 404, "conflict": 409, "unauthorized": 401, "forbidden": 403,
                  "rate_limited": 429, "gone": 410}


class FieldError(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str
    message: str


class Problem(BaseModel):
    """A problem details object (RFC 9457) with profiler's extensions ``code``, ``field`` and ``errors``."""

    model_config = ConfigDict(extra="forbid")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str
    field: str | None = None
    errors: list[FieldError] = []


class ApiProblem(Exception):
    """Raised by the API's handlers to answer with a problem (``status`` defaults from ``code``)."""

    def __init__(self, detail: str, *, code: str, field: str | None = None, status: int | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.detail, self.code, self.field = detail, code, field
        self.status = status or STATUS_OF_CODE[code]
        self.headers = headers or {}


def problem_response(status: int, detail: str, code: str, *, field: str | None = None,
                     errors: list[FieldError] | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    errors = errors if errors is not None else ([FieldError(field=field, message=detail)] if field else [])
    body = Problem(title=HTTPStatus(status).phrase, status=status, detail=detail, code=code, field=field,
                   errors=errors)
    return JSONResponse(body.model_dump(mode="json"), status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _location(loc: tuple[Any, ...]) -> str:
    """pydantic's error location as a field name: ``("body", "callback_url")`` -> ``callback_url``."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def _message(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        return "the body is not valid JSON"
    if error.get("type") == "extra_forbidden":
        return "not a field of this request"
    return str(error.get("msg", "invalid"))


async def on_validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [FieldError(field=_location(tuple(e.get("loc", ()))), message=_message(e)) for e in exc.errors()]
    first = errors[0] if errors else FieldError(field="body", message="invalid request")
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or first.message
    return problem_response(422, detail, "invalid", field=first.field, errors=errors)


async def on_integration_error(_request: Request, exc: IntegrationError) -> JSONResponse:
    return problem_response(STATUS_OF_CODE.get(exc.code, 422), str(exc), exc.code if exc.code in STATUS_OF_CODE
                            else "invalid", field=exc.field)


async def on_api_problem(_request: Request, exc: ApiProblem) -> JSONResponse:
    return problem_response(exc.status, exc.detail, exc.code, field=exc.field, headers=exc.headers)


async def on_http_error(_request: Request, exc: HTTPException) -> JSONResponse:
    codes = {404: "not_found", 405: "invalid", 401: "unauthorized", 403: "forbidden", 429: "rate_limited"}
    return problem_response(exc.status_code, str(exc.detail), codes.get(exc.status_code, "invalid"),
                            headers=getattr(exc, "headers", None))


HANDLERS = {RequestValidationError: on_validation_error, IntegrationError: on_integration_error,
            ApiProblem: on_api_problem, HTTPException: on_http_error}
