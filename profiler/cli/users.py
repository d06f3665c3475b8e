"""``profiler users`` and ``profiler org``: staff accounts and organisations of the recruiters' workspace.

- ``org add ID --name NAME [--second-confirmation]``: an organisation (tenant);
  ``org model ORG MODEL``: give it a job model id (its staff see only its models' cases); ``org list``.
- ``users add USERNAME --role ROLE --organisation ORG``: an account; the password is read twice from the
  terminal without echo, or once from standard input with ``--password-stdin`` (never from the command line,
  where other users of the machine could read it), and stored as an argon2id hash only.
- ``users disable USERNAME``: no more sign-ins, its sessions end; ``users password USERNAME`` sets a new one
  and lifts a lockout; ``users list [--organisation ORG]``.
- Sign-in through the organisation's OpenID Connect provider (``org oidc``, :mod:`profiler.cli.oidc`):
  ``users add ... --email ADDRESS [--no-password]`` (an account that signs in through the provider only),
  ``users email USERNAME ADDRESS|--clear``, ``users link USERNAME --subject SUB|--forget`` (the provider's
  subject, for organisations that identify people by ``sub``).

Every change is logged (``staff.*``) with the actor (``--actor``, default ``cli:<login name>``).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from profiler.cli._common import EXIT_OK, EXIT_USAGE, add_db_option, default_actor, staff_of


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
    add.add_argument("--email", default=None, metavar="ADDRESS",
                     help="the address the organisation's OpenID Connect provider signs this person in with")
    add.add_argument("--no-password", action="store_true",
                     help="no password: the account signs in through its organisation's provider only")
    add.set_defaults(func=run_add)
    email = actions.add_parser("email", parents=[common], help="set the address matched by the provider's sign-in")
    email.add_argument("username", metavar="USERNAME")
    email_value = email.add_mutually_exclusive_group(required=True)
    email_value.add_argument("address", metavar="ADDRESS", nargs="?")
    email_value.add_argument("--clear", action="store_true", help="remove the address")
    email.set_defaults(func=run_email)
    link = actions.add_parser("link", parents=[common], help="record the provider's subject (sub) of an account")
    link.add_argument("username", metavar="USERNAME")
    link_value = link.add_mutually_exclusive_group(required=True)
    link_value.add_argument("--subject", metavar="SUB", help="the provider's sub claim of this person")
    link_value.add_argument("--forget", action="store_true", help="forget the recorded subject")
    link.set_defaults(func=run_link)
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
    from profiler.cli import oidc

    oidc.register(org_actions, common)


def _password(args) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password again: "):
        print("profiler users: the two passwords differ; nothing changed", file=sys.stderr)
        return None
    return first


def run_add(args: argparse.Namespace) -> int:
    if args.no_password and args.password_stdin:
        print("profiler users: --no-password and --password-stdin exclude each other", file=sys.stderr)
        return EXIT_USAGE
    password = None if args.no_password else _password(args)
    if password is None and not args.no_password:
        return EXIT_USAGE
    with staff_of(args) as staff:
        user = staff.add_user(args.username, password, role=args.role, tenant=args.organisation,
                              actor=args.actor or default_actor(), email=args.email)
    extra = f", {user.email}" if user.email else ""
    print(f"added {user.username} ({user.role}, organisation {user.tenant}{extra})"
          + ("; signs in through the organisation's provider only" if args.no_password else ""))
    return EXIT_OK


def run_email(args: argparse.Namespace) -> int:
    with staff_of(args) as staff:
        user = staff.set_email(args.username, None if args.clear else args.address,
                               actor=args.actor or default_actor())
    print(f"{user.username}: e-mail address {user.email}" if user.email else f"{user.username}: no e-mail address")
    return EXIT_OK


def run_link(args: argparse.Namespace) -> int:
    from profiler.integration.oidc import Oidc

    with staff_of(args) as staff:
        Oidc(staff).link(args.username, None if args.forget else args.subject, actor=args.actor or default_actor())
    print(f"{args.username}: subject forgotten" if args.forget
          else f"{args.username}: linked to subject {args.subject}")
    return EXIT_OK


def run_disable(args: argparse.Namespace) -> int:
    with staff_of(args) as staff:
        user = staff.disable_user(args.username, actor=args.actor or default_actor())
    print(f"disabled {user.username}; their sessions have ended")
    return EXIT_OK


def run_password(args: argparse.Namespace) -> int:
    password = _password(args)
    if password is None:
        return EXIT_USAGE
    with staff_of(args) as staff:
        staff.set_password(args.username, password, actor=args.actor or default_actor())
    print(f"new password set for {args.username}; their sessions have ended")
    return EXIT_OK


def run_list(args: argparse.Namespace) -> int:
    with staff_of(args) as staff:
        users = staff.users(args.organisation)
    for user in users:
        state = "disabled" if user.disabled else "active"
        print(f"{user.username}\t{user.role}\t{user.tenant}\t{state}")
    return EXIT_OK


def run_org_add(args: argparse.Namespace) -> int:
    with staff_of(args) as staff:
        tenant = staff.add_tenant(args.id, args.name, actor=args.actor or default_actor(),
                                  second_confirmation=args.second_confirmation)
    confirmation = "; overrides need a second person" if tenant.second_confirmation else ""
    print(f"added organisation {tenant.id} ({tenant.name}){confirmation}")
    return EXIT_OK


def run_org_model(args: argparse.Namespace) -> int:
    with staff_of(args) as staff:
        for model in args.models:
            staff.assign_job_model(args.id, model, actor=args.actor or default_actor())
        models = staff.job_models(args.id)
    print(f"organisation {args.id}: job models {', '.join(models)}")
    return EXIT_OK


def run_org_list(args: argparse.Namespace) -> int:
    with staff_of(args) as staff:
        for tenant in staff.tenants():
            models = ", ".join(staff.job_models(tenant.id)) or "no job model"
            print(f"{tenant.id}\t{tenant.name}\t{models}")
    return EXIT_OK
