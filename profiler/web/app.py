"""The web application: :func:`create_app` builds it around a store and a secret key.

Routers per audience share one layout and one set of protections:

- :mod:`.candidate`: the candidates' pages (``/``, ``/i/<token>``, ``/c/...``);
- :mod:`.api`: the vendors' JSON API under ``/api/v1`` with its OpenAPI document;
- ``/static``: the stylesheet, htmx (vendored, nothing loads from elsewhere) and a small script.

A recruiters' workspace joins as another router with its own authentication dependency, reusing
``templates/layout.html``, :mod:`.security` and :class:`.context.WebContext`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from profiler._version import __version__
from profiler.integration.keys import SecretKey
from profiler.store.store import Store
from profiler.web import candidate, workspace
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
    app = FastAPI(title="profiler", version=__version__, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.profiler = WebContext(store, key, settings)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(candidate.router)
    workspace.install(app)
    return app
