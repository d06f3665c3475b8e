"""The web application: :func:`create_app` builds it around a store and a secret key.

Routers per audience share one layout and one set of protections:

- :mod:`.candidate`: the candidates' pages (``/``, ``/i/<token>``, ``/c/...``);
- :mod:`.api`: the vendors' JSON API under ``/api/v1`` with its OpenAPI document;
- ``/static``: the stylesheet, htmx (vendored, nothing loads from elsewhere) and a small script.

A recruiters' workspace joins as another router with its own authentication dependency, reusing
``templates/layout.html``, :mod:`.security` and :class:`.context.WebContext`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from anyio import to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from profiler._version import __version__
from profiler.integration.keys import SecretKey
from profiler.integration.webhooks import deliver
from profiler.store.store import Store
from profiler.web import candidate, workspace
from profiler.web.api import PREFIX, create_api
from profiler.web.context import WebContext
from profiler.web.security import SecurityHeaders
from profiler.web.settings import WebSettings

STATIC = Path(__file__).parent / "static"


def create_app(store: Store, key: SecretKey, settings: WebSettings | None = None) -> FastAPI:
    """The web app on ``store``, signing with ``key``.

    Parameters
    ----------
    store : Store
        Any store (SQLite file or PostgreSQL URL); the app reaches it only through the pipeline.
    key : SecretKey
        Signs links, cookies and form tokens (keep it across restarts, or every link stops working).
    settings : WebSettings, optional
    """
    settings = settings or WebSettings()
    context = WebContext(store, key, settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = settings.threads  # see WebSettings.threads
        sender = None if settings.webhook_interval is None else asyncio.create_task(
            _send_webhooks(context, settings.webhook_interval))
        yield
        if sender is not None:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender

    app = FastAPI(title="profiler", version=__version__, docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.state.profiler = context
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount(PREFIX, create_api(app.state.profiler))
    app.include_router(candidate.router)
    workspace.install(app)
    return app


async def _send_webhooks(context: WebContext, interval: float) -> None:
    """The webhook sender inside the server: a pass every ``interval`` seconds until the server stops."""
    while True:
        try:
            await context.run(deliver, context.store, context.key, api_prefix=PREFIX)
        except Exception:  # noqa: BLE001 - a failed pass (database away) must not stop the next ones
            logging.getLogger("profiler.web").exception("webhook pass failed; retrying in %s s", interval)
        await asyncio.sleep(interval)
