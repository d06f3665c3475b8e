"""``profiler serve``: the web app for candidates (and the vendors' API), on uvicorn.

- ``profiler serve --db hiring.sqlite`` (or ``--db postgresql+psycopg://...``, or the store named by
  ``PROFILER_DB``, which keeps a password off the command line) serves on 127.0.0.1:8000;
  ``--host``/``--port`` to change it. The secret key that signs links comes from ``PROFILER_SECRET_KEY`` or
  the file ``--secret-file`` (created on first use; keep it: a new key invalidates every link).
- ``profiler serve --demo`` starts on a fresh SQLite store in a temporary folder with seeded invitations,
  staff accounts of every role for the workspace (random passwords printed once) and simulated cases,
  and prints their links and a key for the vendors' API.

Needs the web extra: ``pip install 'profiler-psychometrics[web]'``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from profiler.cli._common import EXIT_OK, EXIT_USAGE, add_db_option, db_location


def register(commands) -> None:
    serve = commands.add_parser("serve", help="serve the web app: candidates' pages and the vendors' API",
                                description="Serve the web app (needs: pip install 'profiler-psychometrics[web]').")
    add_db_option(serve)
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


def offered_job_models() -> str:
    """The job models invitations may name, each loaded (and so checked) now rather than at a candidate's
    first request: a broken file in a ``PROFILER_PATH`` folder stops the start with its located error."""
    from profiler.jobmodel.loader import bundled_job_models
    from profiler.pipeline import loaded
    from profiler.resources import PATH_VARIABLE

    models = [loaded.job_model(model_id) for model_id in bundled_job_models()]
    folders = os.environ.get(PATH_VARIABLE, "").strip()
    return (", ".join(f"{m.id} {m.version}" for m in models) or "none") + \
        (f" (bundled and from {PATH_VARIABLE}={folders})" if folders else " (bundled)")


def run(args: argparse.Namespace) -> int:
    try:
        from profiler.web.demo import demo_client, seed_cases, seed_demo, seed_staff
        from profiler.web.server import serve
        from profiler.web.settings import WebSettings
    except ImportError as exc:
        print(f"profiler serve: the web app needs the web extra (pip install 'profiler-psychometrics[web]'): {exc}",
              file=sys.stderr)
        return EXIT_USAGE
    from profiler.integration.keys import SecretKey
    from profiler.pipeline.invitations import Organisation
    from profiler.store import Store
    from profiler.store.redaction import redact_url

    organisation = Organisation(**{k: v for k, v in (("name", args.organisation), ("contact", args.contact))
                                   if v is not None})
    base = args.public_url or f"http://{args.host}:{args.port}"
    settings = WebSettings(organisation=organisation, secure_cookies=args.secure_cookies, public_url=args.public_url,
                           webhook_interval=args.webhook_interval or None)
    if args.demo:
        folder = Path(tempfile.mkdtemp(prefix="profiler-demo-"))
        location, key = str(folder / "demo.sqlite"), SecretKey.generate()
    else:
        location, key = db_location(args), SecretKey.load(args.secret_file)
    with Store(location) as store:
        print(f"profiler serve: store {redact_url(location)}, listening on {base}", flush=True)
        print(f"Job models offered: {offered_job_models()}", flush=True)
        if args.demo:
            print("Demo invitations (each link is single-use: it leads one candidate through consent, the "
                  "questionnaire and the end page):", flush=True)
            for link in seed_demo(store, key, base):
                print(f"  {link.description}:\n    {link.url}", flush=True)
            print(f"The vendors' API (every scope): curl -H 'Authorization: Bearer {demo_client(store)}' "
                  f"{base}/api/v1/job-models", flush=True)
            accounts = seed_staff(store, organisation.name)
            cases = seed_cases(store)
            print(f"The staff workspace: {base}/w ({cases} simulated candidates wait in the review queue; overrides "
                  "wait for a second person). Accounts of this run (the passwords are made for it and shown once):",
                  flush=True)
            for account in accounts:
                print(f"  {account.username:<15} {account.role:<15} {account.password}", flush=True)
        serve(store, key, settings, host=args.host, port=args.port, log_level=args.log_level)
    return EXIT_OK

