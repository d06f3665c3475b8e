"""Staff of the recruiters' workspace: organisations (tenants), their job models, accounts, roles, sessions.

- An **organisation** owns job model ids (one organisation per id); its staff see only the recommendations,
  decisions, contests, stops and audits of those models. Two organisations that use the same bundled model
  give their copies distinct ids.
- An **account** has a user name, one role (:data:`ROLES`) and a password stored as an argon2id hash only
  (argon2-cffi's defaults: memory-hard, salted). Five failed sign-ins in a row lock it for 15 minutes; the
  count is kept in the store, so that restarting or adding processes does not reset it.
- A **session** is a random token in the browser's cookie and its SHA-256 in the store: a new one at every
  sign-in (a token planted before sign-in is never promoted), gone at sign-out, after an hour idle or eight
  hours in all, and with the account when it is disabled.

Adding organisations and accounts, disabling them, assigning models and signing in are logged (``staff.*``
entries, never a password or a token). Accounts are created on the command line (``profiler users add``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from profiler.integration.errors import IntegrationError
from profiler.integration.keys import random_id
from profiler.store.audit_log import AuditLog
from profiler.store.store import Store
from profiler.store.tables import organisation_job_models, organisations, staff_sessions, staff_users

ROLES: dict[str, str] = {
    "recruiter": "works the queue: reads cases, decides, confirms a colleague's override, takes in contests",
    "hiring_manager": "decides cases of the organisation's job models, as a recruiter does",
    "psychologist": "decides cases; reads questionnaires, job models, their versions, calibration and manuals",
    "auditor": "reads cases, oversight figures, the audit log's verification and fairness audits; decides nothing",
    "operator": "stops and resumes job models; reads the oversight figures and the audit log's verification",
    "admin": "everything an operator and an auditor do",
}
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
IDLE = timedelta(hours=1)
LIFETIME = timedelta(hours=8)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,99}")
_TENANT = re.compile(r"[a-z][a-z0-9_-]{0,63}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
# The password hash of an account that signs in through its organisation's provider only: no password matches.
NO_PASSWORD = "!no-password"


class StaffError(IntegrationError):
    """An account, organisation or session request that cannot be carried out; ``field`` names the input."""


@dataclass(frozen=True)
class Tenant:
    """An organisation using the store. ``second_confirmation``: an override waits for a second person."""

    id: str
    name: str
    second_confirmation: bool


@dataclass(frozen=True)
class StaffUser:
    """A staff account (never its password hash)."""

    id: str
    username: str
    tenant: str
    role: str
    disabled: bool
    locked_until: datetime | None
    email: str | None = None  # matched by sign-in through the organisation's OpenID Connect provider

    @property
    def actor(self) -> str:
        """How the audit log names this person acting in the workspace."""
        return f"staff:{self.username}"


def _hasher() -> Any:
    try:
        from argon2 import PasswordHasher
    except ImportError as exc:  # the web extra
        raise StaffError("staff accounts need argon2-cffi: pip install 'profiler-psychometrics[web]'") from exc
    return PasswordHasher()


def token_hash(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _user(row: Any) -> StaffUser:
    return StaffUser(id=row.id, username=row.username, tenant=row.organisation_id, role=row.role,
                     disabled=row.disabled_at is not None, locked_until=_utc(row.locked_until), email=row.email)


def check_email(email: object) -> str:
    """An e-mail address, lower-cased (providers and people vary the case; the address is the same)."""
    if not isinstance(email, str) or len(email) > 320 or not _EMAIL.fullmatch(email.strip()):
        raise StaffError(f"e-mail address {email!r}: one '@' between a name and a domain", field="email")
    return email.strip().lower()


def check_password(password: object) -> str:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise StaffError(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters", field="password")
    return password


class Staff:
    """Organisations, accounts and sessions of one store.

    Parameters
    ----------
    store : Store
    log : AuditLog, optional
    clock : callable, optional
        The current time (timezone-aware); tests pass a fake one to pass lockouts and idle timeouts.
    hasher : argon2.PasswordHasher, optional
        Default: argon2-cffi's (argon2id, 64 MiB, 3 passes). A hash made with other parameters is redone with
        these at the next sign-in.
    """

    def __init__(self, store: Store, *, log: AuditLog | None = None, clock: Callable[[], datetime] | None = None,
                 hasher: Any = None):
        self.store = store
        self.log = log if log is not None else AuditLog(store)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._hasher_instance: Any = hasher
        self._dummy: str | None = None

    def __repr__(self) -> str:
        return f"Staff({self.store.name!r})"

    @property
    def _hasher(self) -> Any:
        if self._hasher_instance is None:
            self._hasher_instance = _hasher()
        return self._hasher_instance

    def _now(self) -> datetime:
        return self._clock().astimezone(UTC)

    def now(self) -> datetime:
        """The current time of this object's clock (UTC)."""
        return self._now()

    # Organisations ------------------------------------------------------------------------------------------
    def add_tenant(self, tenant_id: str, name: str, *, actor: str, second_confirmation: bool = False) -> Tenant:
        """Add an organisation; ``second_confirmation`` makes every override wait for a second person."""
        if not isinstance(tenant_id, str) or not _TENANT.fullmatch(tenant_id):
            raise StaffError(f"organisation id {tenant_id!r}: a lower-case letter, then letters, digits, '_' or '-'",
                             field="organisation")
        if not isinstance(name, str) or not name.strip():
            raise StaffError("an organisation needs a name", field="name")

        def work(connection: Connection) -> Tenant:
            if connection.execute(select(organisations.c.id).where(organisations.c.id == tenant_id)).first():
                raise StaffError(f"organisation {tenant_id!r} exists already", field="organisation", code="conflict")
            connection.execute(insert(organisations).values(id=tenant_id, name=name.strip(),
                                                            second_confirmation=bool(second_confirmation),
                                                            created_by=actor, created_at=self._now()))
            self.log.append("staff.organisation_added", {"organisation": tenant_id,
                                                          "second_confirmation": bool(second_confirmation)},
                            actor=actor, connection=connection)
            return Tenant(tenant_id, name.strip(), bool(second_confirmation))

        return self.log.transaction(work)

    def set_second_confirmation(self, tenant_id: str, required: bool, *, actor: str) -> Tenant:
        """Turn the second person's confirmation of overrides on or off for an organisation."""
        self.tenant(tenant_id)

        def work(connection: Connection) -> None:
            connection.execute(update(organisations).where(organisations.c.id == tenant_id)
                               .values(second_confirmation=bool(required)))
            self.log.append("staff.organisation_configured", {"organisation": tenant_id,
                                                               "second_confirmation": bool(required)},
                            actor=actor, connection=connection)

        self.log.transaction(work)
        return self.tenant(tenant_id)

    def tenant(self, tenant_id: str) -> Tenant:
        with self.store.read() as connection:
            row = connection.execute(select(organisations).where(organisations.c.id == tenant_id)).first()
        if row is None:
            raise StaffError(f"no organisation {tenant_id!r}", field="organisation", code="not_found")
        return Tenant(row.id, row.name, bool(row.second_confirmation))

    def tenants(self) -> list[Tenant]:
        with self.store.read() as connection:
            rows = connection.execute(select(organisations).order_by(organisations.c.id)).all()
        return [Tenant(r.id, r.name, bool(r.second_confirmation)) for r in rows]

    def assign_job_model(self, tenant_id: str, job_model_id: str, *, actor: str) -> None:
        """Give the job model id to the organisation (refused when another organisation has it)."""
        self.tenant(tenant_id)
        if not isinstance(job_model_id, str) or not job_model_id.strip():
            raise StaffError("a job model id is required", field="job_model")

        def work(connection: Connection) -> None:
            owner = connection.execute(select(organisation_job_models.c.organisation_id).where(
                organisation_job_models.c.job_model_id == job_model_id)).scalar()
            if owner == tenant_id:
                return
            if owner is not None:
                raise StaffError(f"job model {job_model_id!r} belongs to organisation {owner!r}; give this "
                                 "organisation's copy its own id", field="job_model", code="conflict")
            connection.execute(insert(organisation_job_models).values(
                job_model_id=job_model_id, organisation_id=tenant_id, assigned_by=actor, assigned_at=self._now()))
            self.log.append("staff.job_model_assigned", {"organisation": tenant_id, "job_model": job_model_id},
                            actor=actor, connection=connection)

        self.log.transaction(work)

    def job_models(self, tenant_id: str) -> list[str]:
        """The job model ids of an organisation, sorted."""
        with self.store.read() as connection:
            return sorted(connection.execute(select(organisation_job_models.c.job_model_id).where(
                organisation_job_models.c.organisation_id == tenant_id)).scalars())

    # Accounts -----------------------------------------------------------------------------------------------
    def add_user(self, username: str, password: str | None, *, role: str, tenant: str, actor: str,
                 email: str | None = None) -> StaffUser:
        """Create an account; the password is kept as its argon2id hash only.

        ``password`` None: an account that signs in through its organisation's OpenID Connect provider only
        (matched by ``email``, or by the provider's subject, :meth:`profiler.integration.oidc.Oidc.link`).
        """
        if not isinstance(username, str) or not _NAME.fullmatch(username):
            raise StaffError(f"user name {username!r}: 1-100 letters, digits or '_ . @ + -', starting with a "
                             "letter or digit", field="username")
        if role not in ROLES:
            raise StaffError(f"role {role!r}; the roles are {', '.join(ROLES)}", field="role")
        self.tenant(tenant)
        address = check_email(email) if email is not None else None
        hashed = NO_PASSWORD if password is None else self._hasher.hash(check_password(password))

        def work(connection: Connection) -> StaffUser:
            if connection.execute(select(staff_users.c.id).where(staff_users.c.username == username)).first():
                raise StaffError(f"user {username!r} exists already", field="username", code="conflict")
            if address is not None:
                self._email_free(connection, tenant, address)
            user_id = random_id("usr")
            connection.execute(insert(staff_users).values(
                id=user_id, username=username, organisation_id=tenant, role=role, password_hash=hashed,
                failed_sign_ins=0, locked_until=None, disabled_at=None, created_by=actor, created_at=self._now(),
                email=address))
            entry = {"user": user_id, "username": username, "role": role, "organisation": tenant}
            if address is not None:
                entry["email"] = address
            if password is None:
                entry["password"] = False
            self.log.append("staff.user_added", entry, actor=actor, connection=connection)
            return StaffUser(user_id, username, tenant, role, False, None, address)

        return self.log.transaction(work)

    @staticmethod
    def _email_free(connection: Connection, tenant: str, email: str, *, but: str | None = None) -> None:
        taken = connection.execute(select(staff_users.c.username).where(
            staff_users.c.organisation_id == tenant, staff_users.c.email == email,
            staff_users.c.id != (but or ""))).scalar()
        if taken is not None:
            raise StaffError(f"{email} is the e-mail address of {taken} in organisation {tenant!r} already",
                             field="email", code="conflict")

    def set_email(self, username: str, email: str | None, *, actor: str) -> StaffUser:
        """Set (or with None remove) the e-mail address an account is matched by when signing in through its
        organisation's provider. Changing it forgets the provider's subject recorded for the account."""
        user = self.user(username)
        address = check_email(email) if email is not None else None

        def work(connection: Connection) -> None:
            if address is not None:
                self._email_free(connection, user.tenant, address, but=user.id)
            values: dict[str, Any] = {"email": address}
            if address != user.email:
                values.update(oidc_issuer=None, oidc_subject=None)
            connection.execute(update(staff_users).where(staff_users.c.id == user.id).values(**values))
            self.log.append("staff.email_set", {"user": user.id, "username": username, "email": address},
                            actor=actor, connection=connection)

        self.log.transaction(work)
        return self.user(username)

    def user(self, username: str) -> StaffUser:
        with self.store.read() as connection:
            row = connection.execute(select(staff_users).where(staff_users.c.username == username)).first()
        if row is None:
            raise StaffError(f"no user {username!r}", field="username", code="not_found")
        return _user(row)

    def users(self, tenant: str | None = None) -> list[StaffUser]:
        query = select(staff_users).order_by(staff_users.c.organisation_id, staff_users.c.username)
        if tenant is not None:
            query = query.where(staff_users.c.organisation_id == tenant)
        with self.store.read() as connection:
            return [_user(r) for r in connection.execute(query)]

    def disable_user(self, username: str, *, actor: str) -> StaffUser:
        """Disable an account and end its sessions (it cannot sign in again; its records stay)."""
        user = self.user(username)

        def work(connection: Connection) -> None:
            connection.execute(update(staff_users).where(staff_users.c.id == user.id).values(disabled_at=self._now()))
            connection.execute(delete(staff_sessions).where(staff_sessions.c.user_id == user.id))
            self.log.append("staff.user_disabled", {"user": user.id, "username": username}, actor=actor,
                            connection=connection)

        self.log.transaction(work)
        return self.user(username)

    def set_password(self, username: str, password: str, *, actor: str) -> None:
        """Replace the password (and lift a lockout); ends the account's sessions."""
        user = self.user(username)
        hashed = self._hasher.hash(check_password(password))

        def work(connection: Connection) -> None:
            connection.execute(update(staff_users).where(staff_users.c.id == user.id).values(
                password_hash=hashed, failed_sign_ins=0, locked_until=None))
            connection.execute(delete(staff_sessions).where(staff_sessions.c.user_id == user.id))
            self.log.append("staff.password_set", {"user": user.id, "username": username}, actor=actor,
                            connection=connection)

        self.log.transaction(work)

    # Signing in -----------------------------------------------------------------------------------------------
    def authenticate(self, username: str, password: str) -> StaffUser | None:
        """The account if the password is right and the account enabled and not locked; None otherwise.

        Every refusal costs one argon2 verification, so that the time taken does not tell whether the user
        name exists. The fifth failure in a row locks the account for :data:`LOCKOUT`.
        """
        now = self._now()
        with self.store.read() as connection:
            row = connection.execute(select(staff_users).where(staff_users.c.username == username)).first()
        if row is None or not isinstance(password, str) or len(password) > MAX_PASSWORD:
            self._verify(self._dummy_hash(), "not the password")
            return None
        locked = _utc(row.locked_until)
        if row.disabled_at is not None or (locked is not None and locked > now):
            self._verify(self._dummy_hash(), "not the password")
            return None
        if not self._verify(row.password_hash, password):
            self._failed(row.id, username, now)
            return None

        def work(connection: Connection) -> None:
            values: dict[str, Any] = {"failed_sign_ins": 0, "locked_until": None}
            if self._hasher.check_needs_rehash(row.password_hash):
                values["password_hash"] = self._hasher.hash(password)
            connection.execute(update(staff_users).where(staff_users.c.id == row.id).values(**values))

        self.log.transaction(work)
        return _user(row)

    def _verify(self, hashed: str, password: str) -> bool:
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            return bool(self._hasher.verify(hashed, password))
        except (VerificationError, InvalidHashError):
            return False

    def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = self._hasher.hash(secrets.token_urlsafe(16))
        return self._dummy

    def _failed(self, user_id: str, username: str, now: datetime) -> None:
        def work(connection: Connection) -> None:
            count = connection.execute(select(staff_users.c.failed_sign_ins).where(
                staff_users.c.id == user_id)).scalar_one() + 1
            values: dict[str, Any] = {"failed_sign_ins": count}
            if count >= MAX_FAILURES:
                values.update(failed_sign_ins=0, locked_until=now + LOCKOUT)
                self.log.append("staff.locked_out", {"user": user_id, "username": username,
                                                     "failures": count, "until": now + LOCKOUT},
                                actor="system:workspace", connection=connection)
            connection.execute(update(staff_users).where(staff_users.c.id == user_id).values(**values))

        self.log.transaction(work)

    def start_session(self, user: StaffUser, *, method: str = "password") -> str:
        """A new session for ``user`` (signed in just now, with ``method``: ``password`` or ``oidc``): the
        token for the cookie."""
        token = secrets.token_urlsafe(32)
        now = self._now()

        def work(connection: Connection) -> None:
            connection.execute(delete(staff_sessions).where(staff_sessions.c.expires_at < now))
            connection.execute(insert(staff_sessions).values(token_hash=token_hash(token), user_id=user.id,
                                                             created_at=now, last_seen_at=now,
                                                             expires_at=now + LIFETIME))
            self.log.append("staff.signed_in", {"user": user.id, "username": user.username, "role": user.role,
                                                "organisation": user.tenant, "method": method}, actor=user.actor,
                            connection=connection)

        self.log.transaction(work)
        return token

    def session_user(self, token: str) -> StaffUser | None:
        """The account a session token belongs to, if the session is live and the account enabled."""
        if not isinstance(token, str) or not 20 <= len(token) <= 100:
            return None
        now = self._now()
        hashed = token_hash(token)
        with self.store.read() as connection:
            row = connection.execute(
                select(staff_sessions.c.expires_at, staff_sessions.c.last_seen_at, staff_users)
                .join(staff_users, staff_users.c.id == staff_sessions.c.user_id)
                .where(staff_sessions.c.token_hash == hashed)).first()
        if row is None or row.disabled_at is not None:
            return None
        if _utc(row.expires_at) <= now or _utc(row.last_seen_at) + IDLE <= now:
            self.end_session(token)
            return None
        if now - _utc(row.last_seen_at) > timedelta(minutes=1):  # one write a minute at most
            with self.store.write() as connection:
                connection.execute(update(staff_sessions).where(staff_sessions.c.token_hash == hashed)
                                   .values(last_seen_at=now))
        return _user(row)

    def end_session(self, token: str) -> None:
        with self.store.write() as connection:
            connection.execute(delete(staff_sessions).where(staff_sessions.c.token_hash == token_hash(token)))


__all__ = ["LOCKOUT", "MAX_FAILURES", "NO_PASSWORD", "ROLES", "Staff", "StaffError", "StaffUser", "Tenant",
           "check_email", "check_password", "token_hash"]
