"""Running the app with uvicorn (``profiler serve``)."""

from __future__ import annotations

import gc
import sys

import uvicorn

from profiler.integration.keys import SecretKey
from profiler.store.store import Store
from profiler.web.app import create_app
from profiler.web.settings import WebSettings


def serve(store: Store, key: SecretKey, settings: WebSettings, *, host: str, port: int,
          log_level: str = "warning") -> None:
    """Serve the app until interrupted (one process; uvicorn's worker threads run the store's calls)."""
    # A thread that waited for the database (each statement releases the interpreter's lock) waits again for
    # the interpreter, by default up to 5 ms while another thread computes: ten statements of an answer could
    # wait 50 ms, holding the database's lock meanwhile. 0.5 ms keeps short requests short beside long ones.
    sys.setswitchinterval(0.0005)
    app = create_app(store, key, settings)
    # What is loaded by now (the engine, numpy, pandas, pydantic models: ~200,000 objects) lives as long as the
    # process. Left to the collector, every full collection walks all of it, ~100-300 ms with every request
    # waiting, every few seconds under load (measured in docs/benchmarks.md, "The web app under load"); frozen,
    # the collector skips it and walks only what the requests create.
    gc.collect()
    gc.freeze()
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False, server_header=False)
