"""``profiler org oidc``: an organisation's OpenID Connect provider for signing in to the workspace.

- ``org oidc set ORG --issuer URL --client-id ID [--client-secret-stdin | --client-secret-prompt]``: register
  the provider (again: options left out keep their value). The secret is read from standard input or typed
  without echo, never from the command line (other users of the machine could read it there), and never
  printed; it is stored encrypted under the server's key (``PROFILER_SECRET_KEY`` or ``--secret-file``, as
  ``profiler serve`` reads it). ``--claim email|sub``, ``--email-domain D`` (repeatable; ``--any-domain`` accepts all),
  ``--accept-unverified-email`` (providers that send no ``email_verified``), ``--no-password-sign-in``,
  ``--listed`` (the button shows on the plain sign-in page), ``--label TEXT``.
- ``org oidc show ORG``: the configuration, the secret as ``***``; ``org oidc check ORG``: fetch the provider's
  discovery document and keys now; ``org oidc clear ORG``: remove it (passwords work again).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from profiler.cli._common import EXIT_OK, EXIT_USAGE, default_actor, staff_of

CALLBACK_PATH = "/w/oidc/callback"


def register(org_actions, common: argparse.ArgumentParser) -> None:
    oidc = org_actions.add_parser("oidc", help="sign-in through the organisation's OpenID Connect provider")
    actions = oidc.add_subparsers(dest="oidc_action", metavar="ACTION", required=True)
    put = actions.add_parser("set", parents=[common], help="set the organisation's provider")
    put.add_argument("id", metavar="ORG")
    put.add_argument("--issuer", default=None, help="the issuer URL, exactly as the provider writes it (https)")
    put.add_argument("--client-id", default=None)
    secret = put.add_mutually_exclusive_group()
    secret.add_argument("--client-secret-stdin", action="store_true", help="read the client secret from stdin")
    secret.add_argument("--client-secret-prompt", action="store_true", help="type the client secret (no echo)")
    secret.add_argument("--no-client-secret", action="store_true", help="a public client: PKCE only, no secret")
    put.add_argument("--secret-file", default=".profiler-secret", metavar="FILE",
                     help="the server's key file, which encrypts the client secret (as profiler serve's; "
                          "PROFILER_SECRET_KEY wins)")
    put.add_argument("--label", default=None, help="the button says 'Sign in with LABEL' (default: the name)")
    put.add_argument("--claim", choices=["email", "sub"], default=None,
                     help="what identifies a person: their e-mail address (default) or linked subjects only")
    domains = put.add_mutually_exclusive_group()
    domains.add_argument("--email-domain", action="append", default=None, metavar="DOMAIN",
                         help="accept addresses of this domain only (repeat for several)")
    domains.add_argument("--any-domain", action="store_true", help="accept addresses of any domain")
    put.add_argument("--accept-unverified-email", dest="require_verified_email", action="store_false",
                     default=None, help="for providers that send no email_verified claim")
    put.add_argument("--require-verified-email", dest="require_verified_email", action="store_true")
    put.add_argument("--password-sign-in", action=argparse.BooleanOptionalAction, default=None,
                     help="whether the organisation's staff may still sign in with a password")
    put.add_argument("--listed", action=argparse.BooleanOptionalAction, default=None,
                     help="show the button on the plain sign-in page (else on /w/sign-in?organisation=ORG)")
    put.set_defaults(func=run_set)
    for name, func, text in (("show", run_show, "show the organisation's provider (never the secret)"),
                             ("check", run_check, "fetch the provider's discovery document and keys now"),
                             ("clear", run_clear, "remove the organisation's provider")):
        action = actions.add_parser(name, parents=[common], help=text)
        action.add_argument("id", metavar="ORG")
        action.set_defaults(func=func)


def _oidc(args):
    from profiler.integration.oidc import Oidc

    return staff_of(args), Oidc


def _secret(args) -> object:
    from profiler.integration.oidc import KEEP

    if args.no_client_secret:
        return None
    if args.client_secret_stdin:
        return sys.stdin.readline().rstrip("\n")
    if args.client_secret_prompt:
        return getpass.getpass("Client secret: ")
    return KEEP


def _show(config) -> str:
    described = config.described()
    secret = "*** (set)" if described["client_secret"] else "none (a public client: PKCE only)"
    domains = ", ".join(described["email_domains"]) or "any"
    return "\n".join([
        f"organisation       {config.organisation}",
        f"issuer             {config.issuer}",
        f"client id          {config.client_id}",
        f"client secret      {secret}",
        f"button             Sign in with {config.label}",
        f"identified by      {config.claim}" + (" (then by the subject recorded at the first sign-in)"
                                                 if config.claim == "email" else " (linked with profiler users link)"),
        f"e-mail domains     {domains}",
        f"verified e-mail    {'required' if config.require_verified_email else 'not required'}",
        f"password sign-in   {'allowed' if config.password_sign_in else 'off'}",
        f"listed             {'yes' if config.listed else 'no (/w/sign-in?organisation=' + config.organisation + ')'}",
        f"redirect URI       <the app's public address>{CALLBACK_PATH}",
    ])


def run_set(args: argparse.Namespace) -> int:
    from profiler.integration.keys import SecretKey

    secret = _secret(args)
    key = SecretKey.load(args.secret_file) if isinstance(secret, str) else None
    opened, oidc_class = _oidc(args)
    with opened as staff:
        config = oidc_class(staff, key).configure(
            args.id, actor=args.actor or default_actor(), issuer=args.issuer, client_id=args.client_id,
            client_secret=secret, label=args.label, claim=args.claim,
            email_domains=[] if args.any_domain else args.email_domain,
            require_verified_email=args.require_verified_email, password_sign_in=args.password_sign_in,
            listed=args.listed)
    print(_show(config))
    return EXIT_OK


def run_show(args: argparse.Namespace) -> int:
    opened, oidc_class = _oidc(args)
    with opened as staff:
        staff.tenant(args.id)
        config = oidc_class(staff).config(args.id)
    if config is None:
        print(f"organisation {args.id} signs in with passwords only (no provider: profiler org oidc set)")
        return EXIT_OK
    print(_show(config))
    return EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    from profiler.integration.oidc_provider import Provider

    opened, oidc_class = _oidc(args)
    with opened as staff:
        config = oidc_class(staff).config(args.id)
    if config is None:
        print(f"profiler org oidc: organisation {args.id} has no provider", file=sys.stderr)
        return EXIT_USAGE
    provider = Provider(config.issuer)
    discovery = provider.discovery()
    keys = provider.keys()
    print(f"issuer             {discovery.issuer} (the discovery document agrees)")
    print(f"authorization      {discovery.authorization_endpoint}")
    print(f"token              {discovery.token_endpoint} ({', '.join(discovery.token_auth_methods)})")
    print(f"signing keys       {len(keys)} usable: "
          + (", ".join(f"{k.kid or '(no kid)'} {k.alg}" for k in keys) or "none (RS256 or ES256 needed)"))
    return EXIT_OK if keys else EXIT_USAGE


def run_clear(args: argparse.Namespace) -> int:
    opened, oidc_class = _oidc(args)
    with opened as staff:
        oidc_class(staff).clear(args.id, actor=args.actor or default_actor())
    print(f"organisation {args.id} has no provider now; its staff sign in with passwords")
    return EXIT_OK
