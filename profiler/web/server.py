"""Running the app with uvicorn (``profiler serve``)."""

from __future__ import annotations

import uvicorn

from profiler.integration.keys import SecretKey
from profiler.store.store import Store
from profiler.web.app import create_app
from profiler.web.settings import WebSettings


def serve(store: Store, key: SecretKey, settings: WebSettings, *, host: str, port: int,
          log_level: str = "warning") -> None:
    """Serve the app until interrupted (one process; uvicorn's worker threads run the store's calls)."""
    app = create_app(store, key, settings)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False, server_header=False)
