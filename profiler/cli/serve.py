"""``profiler serve``: the web app for candidates (and the vendors' API), on uvicorn.

- ``profiler serve --db hiring.sqlite`` (or ``--db postgresql+psycopg://...``) serves on 127.0.0.1:8000;
  ``--host``/``--port`` to change it. The secret key that signs links comes from ``PROFILER_SECRET_KEY`` or
  the file ``--secret-file`` (created on first use; keep it: a new key invalidates every link).
- ``profiler serve --demo`` starts on a fresh SQLite store in a temporary folder with seeded invitations,
  and prints their links.

Needs the web extra: ``pip install 'profiler-psychometrics[web]'``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from profiler.cli._common import EXIT_OK, EXIT_USAGE


def register(commands) -> None:
    serve = commands.add_parser("serve", help="serve the web app: candidates' pages and the vendors' API",
                                description="Serve the web app (needs: pip install 'profiler-psychometrics[web]').")
    serve.add_argument("--db", default="profiler.db", metavar="FILE|URL",
                       help="store file or database URL (default: profiler.db)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--secret-file", default=".profiler-secret", metavar="FILE",
                       help="the key that signs links, created if missing (default .profiler-secret; the "
                       "environment variable PROFILER_SECRET_KEY takes precedence)")
    serve.add_argument("--organisation", default=None, help="who assesses, as candidates are told")
    serve.add_argument("--contact", default=None, help="whom candidates contact about their data and decisions")
    serve.add_argument("--public-url", default=None, help="the address candidates and vendors use "
                       "(https://...), for the links the API returns")
    serve.add_argument("--secure-cookies", action="store_true", help="send cookies over https only")
    serve.add_argument("--demo", action="store_true", help="fresh SQLite store with seeded invitations; prints "
                       "their links")
    serve.add_argument("--webhook-interval", type=float, default=5.0, metavar="SECONDS",
                       help="seconds between two passes of the webhook sender (default 5; 0: do not send from "
                       "the server, run 'profiler api webhooks send' instead)")
    serve.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"])
    serve.set_defaults(func=run)


def shown(location: str) -> str:
    """A store location fit to print: a database URL without its password."""
    if "://" not in location:
        return location
    from sqlalchemy.engine import make_url

    try:
        return make_url(location).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - never print what could not be parsed
        return "(database URL)"


def run(args: argparse.Namespace) -> int:
    try:
        from profiler.web.demo import seed_demo
        from profiler.web.server import serve
        from profiler.web.settings import WebSettings
    except ImportError as exc:
        print(f"profiler serve: the web app needs the web extra (pip install 'profiler-psychometrics[web]'): {exc}",
              file=sys.stderr)
        return EXIT_USAGE
    from profiler.integration.keys import SecretKey
    from profiler.pipeline.invitations import Organisation
    from profiler.store import Store

    organisation = Organisation(**{k: v for k, v in (("name", args.organisation), ("contact", args.contact))
                                   if v is not None})
    base = args.public_url or f"http://{args.host}:{args.port}"
    settings = WebSettings(organisation=organisation, secure_cookies=args.secure_cookies, public_url=args.public_url,
                           webhook_interval=args.webhook_interval or None)
    if args.demo:
        folder = Path(tempfile.mkdtemp(prefix="profiler-demo-"))
        location, key = str(folder / "demo.sqlite"), SecretKey.generate()
    else:
        location, key = args.db, SecretKey.load(args.secret_file)
    with Store(location) as store:
        print(f"profiler serve: store {shown(location)}, listening on {base}", flush=True)
        if args.demo:
            print("Demo invitations (each link is single-use: it leads one candidate through consent, the "
                  "questionnaire and the end page):", flush=True)
            for link in seed_demo(store, key, base):
                print(f"  {link.description}:\n    {link.url}", flush=True)
        serve(store, key, settings, host=args.host, port=args.port, log_level=args.log_level)
    return EXIT_OK

