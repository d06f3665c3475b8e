"""``profiler users`` and ``profiler org``: staff accounts and organisations of the recruiters' workspace.

- ``org add ID --name NAME [--second-confirmation]``: an organisation (tenant);
  ``org model ORG MODEL``: give it a job model id (its staff see only its models' cases); ``org list``.
- ``users add USERNAME --role ROLE --organisation ORG``: an account; the password is read twice from the
  terminal without echo, or once from standard input with ``--password-stdin`` (never from the command line,
  where other users of the machine could read it), and stored as an argon2id hash only.
- ``users disable USERNAME``: no more sign-ins, its sessions end; ``users password USERNAME`` sets a new one
  and lifts a lockout; ``users list [--organisation ORG]``.

Every change is logged (``staff.*``) with the actor (``--actor``, default ``cli:<login name>``).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from profiler.cli._common import EXIT_OK, EXIT_USAGE, add_db_option, db_location, default_actor


def register(commands) -> None:
    common = argparse.ArgumentParser(add_help=False)
    add_db_option(common)
    common.add_argument("--actor", default=None, help="who acts, for the audit log (default: cli:<login name>)")

    users = commands.add_parser("users", help="staff accounts of the workspace (add, disable, password, list)")
    actions = users.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", parents=[common], help="add an account")
    add.add_argument("username", metavar="USERNAME")
    from profiler.integration.staff import ROLES

    add.add_argument("--role", required=True, choices=list(ROLES))
    add.add_argument("--organisation", required=True, metavar="ORG")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=run_add)
    disable = actions.add_parser("disable", parents=[common], help="disable an account and end its sessions")
    disable.add_argument("username", metavar="USERNAME")
    disable.set_defaults(func=run_disable)
    password = actions.add_parser("password", parents=[common], help="set a new password (lifts a lockout)")
    password.add_argument("username", metavar="USERNAME")
    password.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    password.set_defaults(func=run_password)
    listing = actions.add_parser("list", parents=[common], help="list the accounts")
    listing.add_argument("--organisation", default=None, metavar="ORG")
    listing.set_defaults(func=run_list)

    org = commands.add_parser("org", help="organisations (tenants) of the workspace and their job models")
    org_actions = org.add_subparsers(dest="action", metavar="ACTION", required=True)
    org_add = org_actions.add_parser("add", parents=[common], help="add an organisation")
    org_add.add_argument("id", metavar="ID", help="a short lower-case id, e.g. acme")
    org_add.add_argument("--name", required=True)
    org_add.add_argument("--second-confirmation", action="store_true",
                         help="every override waits for a second person's confirmation")
    org_add.set_defaults(func=run_org_add)
    org_model = org_actions.add_parser("model", parents=[common], help="give a job model id to an organisation")
    org_model.add_argument("id", metavar="ORG")
    org_model.add_argument("models", metavar="MODEL", nargs="+")
    org_model.set_defaults(func=run_org_model)
    org_list = org_actions.add_parser("list", parents=[common], help="list organisations and their job models")
    org_list.set_defaults(func=run_org_list)


@contextmanager
def _staff(args) -> Iterator:
    from profiler.integration.staff import Staff
    from profiler.store import Store

    with Store(db_location(args)) as store:
        yield Staff(store)


def _password(args) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password again: "):
        print("profiler users: the two passwords differ; nothing changed", file=sys.stderr)
        return None
    return first


def run_add(args: argparse.Namespace) -> int:
    password = _password(args)
    if password is None:
        return EXIT_USAGE
    with _staff(args) as staff:
        user = staff.add_user(args.username, password, role=args.role, tenant=args.organisation,
                              actor=args.actor or default_actor())
    print(f"added {user.username} ({user.role}, organisation {user.tenant})")
    return EXIT_OK


def run_disable(args: argparse.Namespace) -> int:
    with _staff(args) as staff:
        user = staff.disable_user(args.username, actor=args.actor or default_actor())
    print(f"disabled {user.username}; their sessions have ended")
    return EXIT_OK


def run_password(args: argparse.Namespace) -> int:
    password = _password(args)
    if password is None:
        return EXIT_USAGE
    with _staff(args) as staff:
        staff.set_password(args.username, password, actor=args.actor or default_actor())
    print(f"new password set for {args.username}; their sessions have ended")
    return EXIT_OK


def run_list(args: argparse.Namespace) -> int:
    with _staff(args) as staff:
        users = staff.users(args.organisation)
    for user in users:
        state = "disabled" if user.disabled else "active"
        print(f"{user.username}\t{user.role}\t{user.tenant}\t{state}")
    return EXIT_OK


def run_org_add(args: argparse.Namespace) -> int:
    with _staff(args) as staff:
        tenant = staff.add_tenant(args.id, args.name, actor=args.actor or default_actor(),
                                  second_confirmation=args.second_confirmation)
    confirmation = "; overrides need a second person" if tenant.second_confirmation else ""
    print(f"added organisation {tenant.id} ({tenant.name}){confirmation}")
    return EXIT_OK


def run_org_model(args: argparse.Namespace) -> int:
    with _staff(args) as staff:
        for model in args.models:
            staff.assign_job_model(args.id, model, actor=args.actor or default_actor())
        models = staff.job_models(args.id)
    print(f"organisation {args.id}: job models {', '.join(models)}")
    return EXIT_OK


def run_org_list(args: argparse.Namespace) -> int:
    with _staff(args) as staff:
        for tenant in staff.tenants():
            models = ", ".join(staff.job_models(tenant.id)) or "no job model"
            print(f"{tenant.id}\t{tenant.name}\t{models}")
    return EXIT_OK
