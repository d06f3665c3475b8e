"""Adding the workspace to the app: its state, its pages, and the answer to a refused check."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from profiler.integration.staff import Staff
from profiler.web.security import RateLimiter
from profiler.web.workspace import (  # noqa: F401 - importing registers the routes
    auth,
    fairness_pages,
    instrument_pages,
    oidc_pages,
    oversight_pages,
    pages,
    review_pages,
)
from profiler.web.workspace.auth import Refused, WorkspaceState


def install(app: FastAPI) -> None:
    """Serve the workspace under ``/w`` in ``app`` (built by :func:`profiler.web.app.create_app`)."""
    ctx = app.state.profiler
    app.state.workspace = WorkspaceState(Staff(ctx.store), RateLimiter(ctx.settings.link_failures_per_minute))

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        return exc.response

    app.add_exception_handler(Refused, refused)
    app.include_router(auth.router)  # the pages' modules register their routes on it when imported
