"""Sign-in through an organisation's OpenID Connect provider: its configuration, and who a validated ID token is.

- **Configuration** (one per organisation, in the store): the issuer, the client id and secret profiler was
  registered with, the label of the sign-in button, which claim identifies a person (``email`` or ``sub``),
  the e-mail domains accepted, whether the provider must have verified the address, whether the
  organisation's staff may still sign in with a password, and whether its button shows on the plain sign-in
  page. The client secret is stored encrypted (AES-256-GCM under a key derived from the server's secret key,
  bound to the organisation), so a copy of the database does not hold it; decrypted it is a :class:`Secret`,
  whose ``repr`` and ``str`` are ``***``; it is never logged, and ``profiler org oidc show`` says only whether
  one is set. Rotating the server's key means setting the client secret again.
- **No provisioning**: a person signing in must already be a staff account of *that* organisation, enabled;
  their role is the one profiler holds (the provider grants none). With ``claim="email"`` the account is
  found by its e-mail address (verified by the provider unless the organisation says its provider does not
  send ``email_verified``; in an accepted domain), and the provider's ``sub`` is recorded at the first
  sign-in; from then on that subject is the match, and a token with the same address but another subject
  (an address given to someone else at the provider) is refused. With ``claim="sub"`` only subjects an
  administrator recorded (``profiler users link``) match.
- Refusals are :class:`SignInRefused` with a ``code`` (``not_a_member``, ``disabled``, ``email_unverified``,
  ``domain``, ``subject_mismatch``, ``no_claim``), logged by the caller as ``staff.sign_in_refused``.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from profiler.integration.keys import SecretKey
from profiler.integration.oidc_provider import OidcError, check_url
from profiler.integration.staff import Staff, StaffError, StaffUser, check_email
from profiler.store.redaction import HIDDEN
from profiler.store.tables import organisation_oidc, staff_users

CLAIMS = ("email", "sub")
KEEP = object()  # configure(): leave the client secret as it is
SEALED = "aes256gcm:v1:"
_KEY_PURPOSE = "oidc-client-secret-key"


class Secret:
    """A secret that shows as ``***`` wherever it is printed, formatted or logged; :meth:`reveal` gives it."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({HIDDEN!r})"

    def __str__(self) -> str:
        return HIDDEN

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class SignInRefused(StaffError):
    """A validated ID token that names nobody who may sign in to the organisation; ``code`` says why."""


@dataclass(frozen=True)
class OidcConfig:
    """An organisation's OpenID Connect provider, as profiler uses it (see the module docstring)."""

    organisation: str
    issuer: str
    client_id: str
    sealed_secret: str | None = field(repr=False)  # the client secret, encrypted (see Oidc.client_secret)
    label: str
    claim: str
    email_domains: tuple[str, ...]
    require_verified_email: bool
    password_sign_in: bool
    listed: bool

    @property
    def has_client_secret(self) -> bool:
        return self.sealed_secret is not None

    def described(self) -> dict[str, Any]:
        """What may be shown and logged: everything but the secret, which is only said to be set or not."""
        return {"organisation": self.organisation, "issuer": self.issuer, "client_id": self.client_id,
                "client_secret": HIDDEN if self.has_client_secret else None, "label": self.label,
                "claim": self.claim, "email_domains": list(self.email_domains),
                "require_verified_email": self.require_verified_email, "password_sign_in": self.password_sign_in,
                "listed": self.listed}


def _config(row: Any) -> OidcConfig:
    return OidcConfig(organisation=row.organisation_id, issuer=row.issuer, client_id=row.client_id,
                      sealed_secret=row.client_secret,
                      label=row.label, claim=row.claim, email_domains=tuple(json.loads(row.email_domains)),
                      require_verified_email=bool(row.require_verified_email),
                      password_sign_in=bool(row.password_sign_in), listed=bool(row.listed))


def _domain(value: str) -> str:
    domain = value.strip().lower().lstrip("@")
    if not domain or "." not in domain or any(c.isspace() or c in "@/:" for c in domain):
        raise StaffError(f"e-mail domain {value!r}: a domain such as example.org", field="email_domains")
    return domain


def _aead(key: SecretKey) -> Any:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    # HMAC-SHA256 of a label under the server's key: a 256-bit key of its own for this one use
    derived = key.sign(_KEY_PURPOSE, "v1")
    return AESGCM(base64.urlsafe_b64decode(derived + "=" * (-len(derived) % 4)))


def seal_secret(key: SecretKey, tenant: str, secret: str) -> str:
    """``secret`` encrypted for the store: AES-256-GCM, a random 96-bit nonce, the organisation as associated
    data (a sealed secret copied to another organisation's row does not open)."""
    nonce = secrets.token_bytes(12)
    sealed = _aead(key).encrypt(nonce, secret.encode("utf-8"), f"{_KEY_PURPOSE}\0{tenant}".encode())
    return SEALED + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def open_secret(key: SecretKey, tenant: str, sealed: str) -> Secret:
    """The client secret of :func:`seal_secret`; an :class:`OidcError` when this key did not seal it."""
    from cryptography.exceptions import InvalidTag

    try:
        if not sealed.startswith(SEALED):
            raise ValueError(sealed[:12])
        raw = base64.urlsafe_b64decode(sealed[len(SEALED):])
        return Secret(_aead(key).decrypt(raw[:12], raw[12:], f"{_KEY_PURPOSE}\0{tenant}".encode()).decode("utf-8"))
    except (InvalidTag, ValueError, binascii.Error, UnicodeDecodeError):
        raise OidcError(f"the client secret of organisation {tenant!r} was stored under another server key: set "
                        f"it again (profiler org oidc set {tenant} --client-secret-prompt)", field="client_secret",
                        code="provider") from None


class Oidc:
    """The organisations' providers and the matching of signed-in people to accounts, in ``staff``'s store.

    Parameters
    ----------
    staff : Staff
        The accounts (and their store, audit log and clock).
    key : SecretKey, optional
        The server's key (``profiler serve``'s), which seals and opens client secrets; needed to set a secret
        and to sign in, not to read or change the rest of a configuration.
    """

    def __init__(self, staff: Staff, key: SecretKey | None = None):
        self.staff = staff
        self.key = key

    def __repr__(self) -> str:
        return f"Oidc({self.staff.store.name!r})"

    # Configuration -------------------------------------------------------------------------------------------
    def config(self, tenant: str) -> OidcConfig | None:
        """The organisation's provider, or None when it has none."""
        with self.staff.store.read() as connection:
            row = connection.execute(select(organisation_oidc).where(
                organisation_oidc.c.organisation_id == tenant)).first()
        return _config(row) if row is not None else None

    def configs(self) -> list[OidcConfig]:
        with self.staff.store.read() as connection:
            rows = connection.execute(select(organisation_oidc).order_by(organisation_oidc.c.organisation_id))
            return [_config(r) for r in rows]

    def configure(self, tenant: str, *, actor: str, issuer: str | None = None, client_id: str | None = None,
                  client_secret: str | None | object = KEEP, label: str | None = None, claim: str | None = None,
                  email_domains: list[str] | None = None, require_verified_email: bool | None = None,
                  password_sign_in: bool | None = None, listed: bool | None = None) -> OidcConfig:
        """Set the organisation's provider; an argument left out (None, or KEEP for the secret) keeps its value.

        A new configuration needs ``issuer`` and ``client_id``; the others default to: no secret (a public
        client), label "<organisation name>", claim ``email``, any domain, verified addresses only, password
        sign-in kept, not listed. ``client_secret=None`` removes the secret.
        """
        name = self.staff.tenant(tenant).name
        current = self.config(tenant)
        if current is None and (issuer is None or client_id is None):
            raise StaffError(f"organisation {tenant!r} has no provider yet: give its issuer and client id",
                             field="issuer" if issuer is None else "client_id")
        if claim is not None and claim not in CLAIMS:
            raise StaffError(f"claim {claim!r}; a person is identified by one of {', '.join(CLAIMS)}", field="claim")
        if client_id is not None and (not client_id.strip() or len(client_id) > 255):
            raise StaffError("a client id has 1 to 255 characters", field="client_id")
        if isinstance(client_secret, str) and not client_secret:
            raise StaffError("an empty client secret: leave it out for a public client", field="client_secret")
        if isinstance(client_secret, str):
            if self.key is None:
                raise StaffError("storing a client secret needs the server's key (PROFILER_SECRET_KEY or the key "
                                 "file of profiler serve)", field="secret_key")
            secret: str | None = seal_secret(self.key, tenant, client_secret)
        else:
            secret = (current.sealed_secret if current else None) if client_secret is KEEP else None
        values = {
            "issuer": check_url(issuer, "issuer") if issuer is not None else current.issuer,  # type: ignore[union-attr]
            "client_id": client_id.strip() if client_id is not None else current.client_id,  # type: ignore[union-attr]
            "client_secret": secret,
            "label": (label.strip() or name) if label is not None else (current.label if current else name),
            "claim": claim or (current.claim if current else "email"),
            "email_domains": json.dumps(sorted({_domain(d) for d in email_domains}) if email_domains is not None
                                        else list(current.email_domains) if current else []),
            "require_verified_email": _pick(require_verified_email, current and current.require_verified_email, True),
            "password_sign_in": _pick(password_sign_in, current and current.password_sign_in, True),
            "listed": _pick(listed, current and current.listed, False),
            "updated_by": actor, "updated_at": self.staff.now(),
        }

        def work(connection: Connection) -> None:
            if current is None:
                connection.execute(insert(organisation_oidc).values(organisation_id=tenant, **values))
            else:
                connection.execute(update(organisation_oidc).where(
                    organisation_oidc.c.organisation_id == tenant).values(**values))
            shown = {k: v for k, v in values.items() if k not in ("client_secret", "updated_by", "updated_at")}
            shown["email_domains"] = json.loads(values["email_domains"])
            shown["client_secret"] = "none" if secret is None else "kept" if client_secret is KEEP else "set"
            self.staff.log.append("staff.oidc_configured", {"organisation": tenant, **shown}, actor=actor,
                                  connection=connection)

        self.staff.log.transaction(work)
        configured = self.config(tenant)
        assert configured is not None
        return configured

    def clear(self, tenant: str, *, actor: str) -> None:
        """Remove the organisation's provider (its staff sign in with passwords again)."""
        if self.config(tenant) is None:
            raise StaffError(f"organisation {tenant!r} has no provider", field="organisation", code="not_found")

        def work(connection: Connection) -> None:
            connection.execute(delete(organisation_oidc).where(organisation_oidc.c.organisation_id == tenant))
            self.staff.log.append("staff.oidc_cleared", {"organisation": tenant}, actor=actor, connection=connection)

        self.staff.log.transaction(work)

    def client_secret(self, config: OidcConfig) -> Secret | None:
        """The organisation's client secret, decrypted (None for a public client)."""
        if config.sealed_secret is None:
            return None
        if self.key is None:
            raise OidcError("opening the client secret needs the server's key", field="secret_key")
        return open_secret(self.key, config.organisation, config.sealed_secret)

    def password_allowed(self, tenant: str) -> bool:
        """Whether the organisation's staff may sign in with a password."""
        config = self.config(tenant)
        return config is None or config.password_sign_in

    # Accounts --------------------------------------------------------------------------------------------------
    def link(self, username: str, subject: str | None, *, actor: str) -> None:
        """Record (or with None forget) the provider's subject of an account, for its organisation's issuer."""
        user = self.staff.user(username)
        config = self.config(user.tenant)
        if subject is not None and config is None:
            raise StaffError(f"organisation {user.tenant!r} has no provider: configure it first (profiler org "
                             "oidc set)", field="organisation")
        if subject is not None and (not subject.strip() or len(subject) > 255):
            raise StaffError("a subject has 1 to 255 characters", field="subject")

        def work(connection: Connection) -> None:
            issuer = config.issuer if subject is not None and config is not None else None
            if subject is not None:
                self._subject_free(connection, user.tenant, issuer, subject, but=user.id)
            connection.execute(update(staff_users).where(staff_users.c.id == user.id).values(
                oidc_issuer=issuer, oidc_subject=subject))
            self.staff.log.append("staff.subject_linked", {"user": user.id, "username": username, "issuer": issuer,
                                                           "subject": subject}, actor=actor, connection=connection)

        self.staff.log.transaction(work)

    @staticmethod
    def _subject_free(connection: Connection, tenant: str, issuer: str | None, subject: str, *, but: str) -> None:
        taken = connection.execute(select(staff_users.c.username).where(
            staff_users.c.organisation_id == tenant, staff_users.c.oidc_issuer == issuer,
            staff_users.c.oidc_subject == subject, staff_users.c.id != but)).scalar()
        if taken is not None:
            raise StaffError(f"that subject is linked to {taken} already", field="subject", code="conflict")

    def account(self, config: OidcConfig, claims: dict[str, Any]) -> StaffUser:
        """The enabled account of ``config``'s organisation that the (validated) ``claims`` name.

        The first sign-in matched by e-mail records the token's subject on the account (logged).

        Raises
        ------
        SignInRefused
            Nobody of the organisation, a disabled account, an unverified address or another domain, or a
            subject other than the one recorded for the address.
        """
        subject = claims["sub"]
        tenant = config.organisation
        with self.staff.store.read() as connection:
            row = connection.execute(select(staff_users).where(
                staff_users.c.organisation_id == tenant, staff_users.c.oidc_issuer == config.issuer,
                staff_users.c.oidc_subject == subject)).first()
            if row is None and config.claim == "email":
                email = self._email(config, claims)
                row = connection.execute(select(staff_users).where(
                    staff_users.c.organisation_id == tenant, staff_users.c.email == email)).first()
                if row is not None and row.oidc_subject is not None and row.oidc_issuer == config.issuer:
                    raise SignInRefused(f"the account with {email} is linked to another subject of the provider",
                                        code="subject_mismatch")
        if row is None:
            raise SignInRefused(f"nobody of organisation {tenant!r} signs in as this person", code="not_a_member")
        user = self.staff.user(row.username)
        if user.disabled:
            raise SignInRefused(f"the account {user.username} is disabled", code="disabled")
        if row.oidc_subject is None or row.oidc_issuer != config.issuer:
            def work(connection: Connection) -> None:
                connection.execute(update(staff_users).where(staff_users.c.id == user.id).values(
                    oidc_issuer=config.issuer, oidc_subject=subject))
                self.staff.log.append("staff.subject_linked", {"user": user.id, "username": user.username,
                                                               "issuer": config.issuer, "subject": subject},
                                      actor="system:workspace", connection=connection)

            self.staff.log.transaction(work)
        return user

    @staticmethod
    def _email(config: OidcConfig, claims: dict[str, Any]) -> str:
        raw = claims.get("email")
        if not isinstance(raw, str) or not raw:
            raise SignInRefused("the provider sent no e-mail address (is the 'email' scope allowed?)", code="no_claim")
        try:
            email = check_email(raw)
        except StaffError:
            raise SignInRefused("the provider sent an address that is not an e-mail address", code="no_claim") from None
        verified = claims.get("email_verified")
        if config.require_verified_email and verified is not True and verified != "true":
            raise SignInRefused(f"the provider has not verified {email}", code="email_unverified")
        if config.email_domains and email.rpartition("@")[2] not in config.email_domains:
            raise SignInRefused(f"{email} is not in a domain of organisation {config.organisation!r}", code="domain")
        return email


def _pick(value: bool | None, current: bool | None, default: bool) -> bool:
    if value is not None:
        return bool(value)
    return bool(current) if current is not None else default


__all__ = ["CLAIMS", "KEEP", "Oidc", "OidcConfig", "Secret", "SignInRefused", "open_secret", "seal_secret"]
