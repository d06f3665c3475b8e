"""``profiler api``: the vendors' API clients, webhooks and the API's OpenAPI document.

- ``client create NAME --scope SCOPE [--scope ...]``: a new client; prints its id and its key, once (only the
  key's argon2 hash is stored).
- ``client list``: every client with its scopes, and whether it is revoked.
- ``client revoke ID --reason TEXT``: the key stops working at once.
- ``client secret ID``: print the secret that signs the client's webhooks (derived from the server's key:
  ``PROFILER_SECRET_KEY`` or ``--secret-file``, as ``profiler serve`` reads it).
- ``webhooks send``: one pass of the webhook sender (queue what is new, post what is due), for a cron job
  when the server does not send them itself; ``webhooks log``: the delivery log with every attempt.
- ``openapi``: print the API's OpenAPI document (as served at ``/api/v1/openapi.json`` and committed as
  ``docs/openapi-v1.json``).

Creating and revoking are logged with ``--actor`` (default ``cli:<login name>``). Needs the web extra.
"""

from __future__ import annotations

import argparse
import sys

from profiler.cli._common import EXIT_OK, EXIT_USAGE, db_location, default_actor, store_options, terminal_text


def register(commands) -> None:
    api = commands.add_parser("api", help="the vendors' API: clients and their keys, the OpenAPI document")
    actions = api.add_subparsers(dest="action", metavar="ACTION", required=True)
    common = store_options()

    client = actions.add_parser("client", help="create, list or revoke API clients")
    client_actions = client.add_subparsers(dest="client_action", metavar="ACTION", required=True)
    create = client_actions.add_parser("create", parents=[common], help="a new client; prints its key once")
    create.add_argument("name", metavar="NAME", help="who uses it (e.g. the applicant-tracking system)")
    create.add_argument("--scope", action="append", required=True, metavar="SCOPE",
                        help="a scope it may use (repeat): invitations:write, invitations:read, webhooks:read")
    create.set_defaults(func=run_create)
    listing = client_actions.add_parser("list", parents=[common], help="every client, its scopes, revoked or not")
    listing.set_defaults(func=run_list)
    revoke = client_actions.add_parser("revoke", parents=[common], help="stop a client's key from working")
    revoke.add_argument("id", metavar="ID", help="the client's id (cli_...)")
    revoke.add_argument("--reason", required=True, help="why (logged)")
    revoke.set_defaults(func=run_revoke)

    secret = client_actions.add_parser("secret", parents=[common], help="print the secret signing its webhooks")
    secret.add_argument("id", metavar="ID", help="the client's id (cli_...)")
    _secret_file_option(secret)
    secret.set_defaults(func=run_secret)

    webhooks = actions.add_parser("webhooks", help="send due webhooks once, or show the delivery log")
    webhook_actions = webhooks.add_subparsers(dest="webhook_action", metavar="ACTION", required=True)
    send = webhook_actions.add_parser("send", parents=[common], help="queue new webhooks and post those due")
    _secret_file_option(send)
    send.set_defaults(func=run_send)
    log = webhook_actions.add_parser("log", parents=[common], help="the delivery log, newest first")
    log.add_argument("--invitation", default=None, metavar="ID", help="only this invitation's deliveries")
    log.add_argument("--status", choices=["pending", "delivered", "failed"], default=None)
    log.add_argument("--limit", type=int, default=50)
    log.set_defaults(func=run_log)

    openapi = actions.add_parser("openapi", help="print the API's OpenAPI document (JSON)")
    openapi.set_defaults(func=run_openapi)


def _secret_file_option(parser) -> None:
    parser.add_argument("--secret-file", default=".profiler-secret", metavar="FILE",
                        help="the server's key (default .profiler-secret; PROFILER_SECRET_KEY takes precedence)")


def _needs_web() -> bool:
    try:
        import argon2  # noqa: F401
        import fastapi  # noqa: F401
    except ImportError as exc:
        print(f"profiler api: needs the web extra (pip install 'profiler-psychometrics[web]'): {exc}",
              file=sys.stderr)
        return False
    return True


def run_create(args: argparse.Namespace) -> int:
    if not _needs_web():
        return EXIT_USAGE
    from profiler.integration.clients import create_client
    from profiler.store import Store

    with Store(db_location(args)) as store:
        new = create_client(store, args.name, args.scope, actor=args.actor or default_actor())
    print(f"client {new.client.id} ({terminal_text(new.client.name)}), scopes: {', '.join(new.client.scopes)}")
    print(f"key (shown once; send it as 'Authorization: Bearer <key>'):\n{new.key}")
    return EXIT_OK


def run_list(args: argparse.Namespace) -> int:
    from profiler.integration.clients import list_clients
    from profiler.store import Store

    with Store(db_location(args), create=False) as store:
        clients = list_clients(store)
    if not clients:
        print("no API clients")
    for client in clients:
        state = f"revoked {client.revoked_at:%Y-%m-%d %H:%M}" if client.revoked_at else "active"
        print(f"{client.id}  {terminal_text(client.name)}  [{', '.join(client.scopes)}]  {state}  "
              f"created {client.created_at:%Y-%m-%d} by {terminal_text(client.created_by)}")
    return EXIT_OK


def run_revoke(args: argparse.Namespace) -> int:
    from profiler.integration.clients import revoke_client
    from profiler.store import Store

    with Store(db_location(args), create=False) as store:
        client = revoke_client(store, args.id, actor=args.actor or default_actor(), reason=args.reason)
    print(f"client {client.id} revoked: its key no longer works")
    return EXIT_OK


def run_secret(args: argparse.Namespace) -> int:
    from profiler.integration.clients import get_client
    from profiler.integration.keys import SecretKey
    from profiler.integration.webhooks import webhook_secret
    from profiler.store import Store

    key = SecretKey.load(args.secret_file, create=False)
    with Store(db_location(args), create=False) as store:
        client = get_client(store, args.id)
    print(webhook_secret(key, client.id))
    return EXIT_OK


def run_send(args: argparse.Namespace) -> int:
    from profiler.integration.keys import SecretKey
    from profiler.integration.webhooks import deliver
    from profiler.store import Store

    key = SecretKey.load(args.secret_file, create=False)
    with Store(db_location(args), create=False) as store:
        sent = deliver(store, key)
    delivered = sum(d.status == "delivered" for d in sent)
    failed = sum(d.status == "failed" for d in sent)
    print(f"{len(sent)} webhook(s) posted: {delivered} delivered, {len(sent) - delivered - failed} to retry, "
          f"{failed} failed for good")
    return EXIT_OK


def run_log(args: argparse.Namespace) -> int:
    from profiler.integration.webhooks import attempts_of, deliveries
    from profiler.store import Store

    with Store(db_location(args), create=False) as store:
        found = deliveries(store, invitation_id=args.invitation, status=args.status, limit=args.limit)
        if not found:
            print("no webhook deliveries")
        for d in found:
            print(f"{d.id}  {d.event_type}  {d.invitation_id}  {d.status}  {terminal_text(d.url)}")
            for a in attempts_of(store, d.id):
                outcome = a.status_code if a.error is None else terminal_text(a.error)
                print(f"    attempt {a.attempt} at {a.attempted_at:%Y-%m-%d %H:%M:%S}: {outcome} "
                      f"({a.duration_ms:.0f} ms)")
            if d.status == "pending" and d.next_attempt_at is not None:
                print(f"    next attempt {d.next_attempt_at:%Y-%m-%d %H:%M:%S}")
    return EXIT_OK


def run_openapi(args: argparse.Namespace) -> int:
    if not _needs_web():
        return EXIT_USAGE
    from profiler.web.api import openapi_text

    sys.stdout.write(openapi_text())
    return EXIT_OK
