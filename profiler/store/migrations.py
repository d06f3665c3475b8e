"""Versioned schema migrations, applied in order when a store is opened.

Each :class:`Migration` takes the database from ``version - 1`` to ``version`` inside one transaction
(DDL is transactional on SQLite and PostgreSQL), and its row in ``schema_version`` is written in the same
transaction, so a crash leaves the store at the previous version, never half-way.

A released step is frozen: it defines the tables as they were at its version (its own ``MetaData``),
never the live objects of :mod:`profiler.store.tables`, which describe the latest version. To change the
schema, append a step (``ALTER TABLE``, new tables) and update ``tables.py`` to match; the tests check that
the migrations build exactly the tables of ``tables.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Double,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    inspect,
    select,
    text,
)

from profiler._version import __version__
from profiler.store.errors import StoreError
from profiler.store.tables import NAMING_CONVENTION, schema_version


# The advisory lock that serialises migrations on PostgreSQL ("profmigr"; the audit log's lock is another key).
PG_MIGRATION_LOCK_KEY = 0x70726F66_6D696772


@dataclass(frozen=True)
class Migration:
    """One step of the schema: ``upgrade(connection)`` brings a store at ``version - 1`` to ``version``."""

    version: int
    description: str
    upgrade: Callable[[Connection], None]


def _v1_sessions(connection: Connection) -> None:
    md = MetaData(naming_convention=NAMING_CONVENTION)
    Table(
        "questionnaires", md,
        Column("content_hash", String(80), primary_key=True),
        Column("questionnaire_id", String(64), nullable=False),
        Column("version", Text, nullable=False),
        Column("document", Text, nullable=False),
        Column("stored_at", DateTime(timezone=True), nullable=False),
    )
    Table(
        "sessions", md,
        Column("id", String(32), primary_key=True),
        Column("respondent", String(64), nullable=False, index=True),
        Column("content_hash", String(80), ForeignKey("questionnaires.content_hash"), nullable=False),
        Column("questionnaire_id", String(64), nullable=False),
        Column("questionnaire_version", Text, nullable=False),
        Column("language", String(64), nullable=False),
        Column("seed", BigInteger, nullable=True),
        Column("item_order", Text, nullable=False),
        Column("status", String(16), nullable=False),
        Column("expired", Boolean(create_constraint=False), nullable=False),
        Column("started_at", DateTime(timezone=True), nullable=False),
        Column("finished_at", DateTime(timezone=True), nullable=True),
    )
    Table(
        "session_events", md,
        Column("session_id", String(32), ForeignKey("sessions.id"), primary_key=True),
        Column("seq", Integer, primary_key=True, autoincrement=False),
        Column("kind", String(16), nullable=False),
        Column("item_id", String(64), nullable=True),
        Column("position", Integer, nullable=False),
        Column("value", Double, nullable=True),
        Column("shown_seconds", Double, nullable=True),
        Column("item_time_exceeded", Boolean(create_constraint=False), nullable=False),
        Column("recorded_at", DateTime(timezone=True), nullable=False),
    )
    md.create_all(connection)


def _v2_oversight(connection: Connection) -> None:
    md = MetaData(naming_convention=NAMING_CONVENTION)
    # Referred to by the foreign keys below; already in the database (created by step 1).
    Table("sessions", md, Column("id", String(32), primary_key=True))
    Table(
        "candidates", md,
        Column("id", String(64), primary_key=True),
        Column("status", String(16), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("closed_at", DateTime(timezone=True), nullable=True),
        Column("legal_hold", Boolean(create_constraint=False), nullable=False),
        Column("legal_hold_reason", Text, nullable=True),
        Column("erased_at", DateTime(timezone=True), nullable=True),
    )
    Table(
        "candidate_identity", md,
        Column("candidate_id", String(64), ForeignKey("candidates.id"), primary_key=True),
        Column("name", Text, nullable=True),
        Column("email", Text, nullable=True),
        Column("details", Text, nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    )
    Table(
        "candidate_demographics", md,
        Column("candidate_id", String(64), ForeignKey("candidates.id"), primary_key=True),
        Column("attributes", Text, nullable=False),
        Column("source", String(32), nullable=False),
        Column("recorded_at", DateTime(timezone=True), nullable=False),
    )
    Table(
        "artefacts", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("candidate_id", String(64), ForeignKey("candidates.id"), nullable=False, index=True),
        Column("session_id", String(32), ForeignKey("sessions.id"), nullable=True),
        Column("kind", String(32), nullable=False),
        Column("payload", Text, nullable=False),
        Column("payload_hash", String(80), nullable=False),
        Column("audit_seq", BigInteger, nullable=True),
        Column("recorded_by", String(128), nullable=False),
        Column("recorded_at", DateTime(timezone=True), nullable=False),
    )
    Table(
        "audit_log", md,
        Column("seq", BigInteger, primary_key=True, autoincrement=False),
        Column("recorded_at", String(32), nullable=False),
        Column("event", String(64), nullable=False, index=True),
        Column("actor", String(128), nullable=False),
        Column("candidate_id", String(64), nullable=True, index=True),
        Column("payload", Text, nullable=False),
        Column("payload_hash", String(80), nullable=False),
        Column("prev_hash", String(80), nullable=False),
        Column("entry_hash", String(80), nullable=False),
    )
    names = ["candidates", "candidate_identity", "candidate_demographics", "artefacts", "audit_log"]
    md.create_all(connection, tables=[md.tables[name] for name in names])


def _v3_model_stops(connection: Connection) -> None:
    md = MetaData(naming_convention=NAMING_CONVENTION)
    Table(
        "model_stops", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("job_model_id", String(64), nullable=False, index=True),
        Column("job_model_version", Text, nullable=True),
        Column("stopped_by", String(128), nullable=False),
        Column("stop_reason", Text, nullable=False),
        Column("stopped_at", DateTime(timezone=True), nullable=False),
        Column("stop_seq", BigInteger, nullable=True),
        Column("resumed_by", String(128), nullable=True),
        Column("resume_reason", Text, nullable=True),
        Column("resumed_at", DateTime(timezone=True), nullable=True),
        Column("resume_seq", BigInteger, nullable=True),
    )
    md.create_all(connection)


def _v4_case_records(connection: Connection) -> None:
    # "artefacts" and "artifacts" (sealed files) named two things: the table becomes case_records.
    connection.execute(text("DROP INDEX ix_artefacts_candidate_id"))
    connection.execute(text("ALTER TABLE artefacts RENAME TO case_records"))
    connection.execute(text("CREATE INDEX ix_case_records_candidate_id ON case_records (candidate_id)"))
    if connection.dialect.name == "postgresql":  # keep constraint names those of the naming convention
        for old, new in (("pk_artefacts", "pk_case_records"),
                         ("fk_artefacts_candidate_id_candidates", "fk_case_records_candidate_id_candidates"),
                         ("fk_artefacts_session_id_sessions", "fk_case_records_session_id_sessions")):
            connection.execute(text(f"ALTER TABLE case_records RENAME CONSTRAINT {old} TO {new}"))


def _v5_keyed_digests(connection: Connection) -> None:
    # A random key per identity and demographics row: the log records an HMAC of the row under it, so that
    # verify detects an edit, and erasure, deleting the row and its key, leaves a digest nobody can test
    # guesses against.
    for table in ("candidate_identity", "candidate_demographics"):
        connection.execute(text(f"ALTER TABLE {table} ADD COLUMN digest_key VARCHAR(64)"))


def _v6_checkpoints(connection: Connection) -> None:
    md = MetaData(naming_convention=NAMING_CONVENTION)
    Table(
        "audit_checkpoints", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("seq", BigInteger, nullable=False),
        Column("entry_hash", String(80), nullable=False),
        Column("created_at", String(32), nullable=False),
        Column("algorithm", String(16), nullable=False),
        Column("key_id", String(64), nullable=False),
        Column("signature", Text, nullable=False),
        Column("log_seq", BigInteger, nullable=True),
    )
    md.create_all(connection)


def _v7_web(connection: Connection) -> None:
    # The accommodation factor of a session's time limits.
    kind = Double().compile(dialect=connection.dialect)
    connection.execute(text(f"ALTER TABLE sessions ADD COLUMN time_multiplier {kind}"))
    md = MetaData(naming_convention=NAMING_CONVENTION)
    # Referred to by the foreign keys below; already in the database.
    Table("candidates", md, Column("id", String(64), primary_key=True))
    Table("questionnaires", md, Column("content_hash", String(80), primary_key=True))
    Table("sessions", md, Column("id", String(32), primary_key=True))
    Table(
        "invitations", md,
        Column("id", String(40), primary_key=True),
        Column("candidate_id", String(64), ForeignKey("candidates.id"), nullable=False, index=True),
        Column("client_id", String(40), nullable=True),
        Column("reference", Text, nullable=True),
        Column("questionnaire_id", String(64), nullable=False),
        Column("content_hash", String(80), ForeignKey("questionnaires.content_hash"), nullable=False),
        Column("job_model_id", String(64), nullable=False),
        Column("job_model_version", Text, nullable=False),
        Column("language", String(64), nullable=False),
        Column("time_multiplier", Double, nullable=False),
        Column("report_to_candidate", Boolean(create_constraint=False), nullable=False),
        Column("callback_url", Text, nullable=True),
        Column("status", String(16), nullable=False),
        Column("session_id", String(32), ForeignKey("sessions.id"), nullable=True),
        Column("created_by", String(128), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("expires_at", DateTime(timezone=True), nullable=False),
        Column("opened_at", DateTime(timezone=True), nullable=True),
        Column("completed_at", DateTime(timezone=True), nullable=True),
    )
    Table(
        "consents", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("invitation_id", String(40), ForeignKey("invitations.id"), nullable=False, index=True),
        Column("candidate_id", String(64), ForeignKey("candidates.id"), nullable=False, index=True),
        Column("decision", String(16), nullable=False),
        Column("notice_hash", String(80), nullable=False),
        Column("language", String(64), nullable=False),
        Column("audit_seq", BigInteger, nullable=True),
        Column("recorded_at", DateTime(timezone=True), nullable=False),
    )
    Table(
        "api_clients", md,
        Column("id", String(40), primary_key=True),
        Column("name", Text, nullable=False),
        Column("key_hash", Text, nullable=False),
        Column("scopes", Text, nullable=False),
        Column("created_by", String(128), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("revoked_at", DateTime(timezone=True), nullable=True),
    )
    Table(
        "idempotency_keys", md,
        Column("client_id", String(40), primary_key=True),
        Column("key", String(255), primary_key=True),
        Column("method", String(8), nullable=False),
        Column("path", Text, nullable=False),
        Column("request_hash", String(80), nullable=False),
        Column("status_code", Integer, nullable=False),
        Column("response", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )
    Table(
        "webhook_deliveries", md,
        Column("id", String(40), primary_key=True),
        Column("invitation_id", String(40), ForeignKey("invitations.id"), nullable=False, index=True),
        Column("candidate_id", String(64), nullable=False, index=True),
        Column("client_id", String(40), nullable=True),
        Column("event_type", String(40), nullable=False),
        Column("audit_seq", BigInteger, nullable=False),
        Column("url", Text, nullable=False),
        Column("body", Text, nullable=False),
        Column("status", String(16), nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("next_attempt_at", DateTime(timezone=True), nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("delivered_at", DateTime(timezone=True), nullable=True),
        Column("last_status_code", Integer, nullable=True),
        Column("last_error", Text, nullable=True),
        UniqueConstraint("invitation_id", "audit_seq"),
    )
    Table(
        "webhook_attempts", md,
        Column("delivery_id", String(40), ForeignKey("webhook_deliveries.id"), primary_key=True),
        Column("attempt", Integer, primary_key=True, autoincrement=False),
        Column("attempted_at", DateTime(timezone=True), nullable=False),
        Column("status_code", Integer, nullable=True),
        Column("error", Text, nullable=True),
        Column("duration_ms", Double, nullable=False),
    )
    names = ["invitations", "consents", "api_clients", "idempotency_keys", "webhook_deliveries", "webhook_attempts"]
    md.create_all(connection, tables=[md.tables[name] for name in names])
def _v8_job_models(connection: Connection) -> None:
    md = MetaData(naming_convention=NAMING_CONVENTION)
    Table(
        "job_models", md,
        Column("content_hash", String(80), primary_key=True),
        Column("job_model_id", String(64), nullable=False),
        Column("version", Text, nullable=False),
        Column("document", Text, nullable=False),
        Column("stored_at", DateTime(timezone=True), nullable=False),
    )
    md.create_all(connection)



def _v9_adaptive(connection: Connection) -> None:
    connection.execute(text("ALTER TABLE sessions ADD COLUMN banks TEXT"))
    md = MetaData(naming_convention=NAMING_CONVENTION)
    Table(
        "item_banks", md,
        Column("content_hash", String(80), primary_key=True),
        Column("name", Text, nullable=False),
        Column("version", Text, nullable=False),
        Column("scale", String(64), nullable=False),
        Column("document", Text, nullable=False),
        Column("stored_at", DateTime(timezone=True), nullable=False),
    )
    md.create_all(connection)

def _v10_workspace(connection: Connection) -> None:
    md = MetaData(naming_convention=NAMING_CONVENTION)
    Table(
        "organisations", md,
        Column("id", String(64), primary_key=True),
        Column("name", Text, nullable=False),
        Column("second_confirmation", Boolean(create_constraint=False), nullable=False),
        Column("created_by", String(128), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )
    Table(
        "organisation_job_models", md,
        Column("job_model_id", String(64), primary_key=True),
        Column("organisation_id", String(64), ForeignKey("organisations.id"), nullable=False, index=True),
        Column("assigned_by", String(128), nullable=False),
        Column("assigned_at", DateTime(timezone=True), nullable=False),
    )
    Table(
        "staff_users", md,
        Column("id", String(40), primary_key=True),
        Column("username", String(128), nullable=False, unique=True),
        Column("organisation_id", String(64), ForeignKey("organisations.id"), nullable=False, index=True),
        Column("role", String(32), nullable=False),
        Column("password_hash", Text, nullable=False),
        Column("failed_sign_ins", Integer, nullable=False),
        Column("locked_until", DateTime(timezone=True), nullable=True),
        Column("disabled_at", DateTime(timezone=True), nullable=True),
        Column("created_by", String(128), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )
    Table(
        "staff_sessions", md,
        Column("token_hash", String(80), primary_key=True),
        Column("user_id", String(40), ForeignKey("staff_users.id"), nullable=False, index=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("last_seen_at", DateTime(timezone=True), nullable=False),
        Column("expires_at", DateTime(timezone=True), nullable=False),
    )
    # organisations first: the others refer to it
    md.create_all(connection)


def _v11_oidc(connection: Connection) -> None:
    for column in ("email VARCHAR(320)", "oidc_issuer VARCHAR(512)", "oidc_subject VARCHAR(255)"):
        connection.execute(text(f"ALTER TABLE staff_users ADD COLUMN {column}"))
    connection.execute(text("CREATE UNIQUE INDEX uq_staff_users_organisation_email "
                            "ON staff_users (organisation_id, email)"))
    connection.execute(text("CREATE UNIQUE INDEX uq_staff_users_organisation_subject "
                            "ON staff_users (organisation_id, oidc_issuer, oidc_subject)"))
    md = MetaData(naming_convention=NAMING_CONVENTION)
    Table("organisations", md, Column("id", String(64), primary_key=True))  # for the foreign key only
    Table(
        "organisation_oidc", md,
        Column("organisation_id", String(64), ForeignKey("organisations.id"), primary_key=True),
        Column("issuer", String(512), nullable=False),
        Column("client_id", String(255), nullable=False),
        Column("client_secret", Text, nullable=True),
        Column("label", Text, nullable=False),
        Column("claim", String(32), nullable=False),
        Column("email_domains", Text, nullable=False),
        Column("require_verified_email", Boolean(create_constraint=False), nullable=False),
        Column("password_sign_in", Boolean(create_constraint=False), nullable=False),
        Column("listed", Boolean(create_constraint=False), nullable=False),
        Column("updated_by", String(128), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    )
    md.tables["organisation_oidc"].create(connection)


# In order; append new steps at the end, never edit a released one.
MIGRATIONS: list[Migration] = [
    Migration(1, "questionnaire sessions: questionnaires, sessions, session_events", _v1_sessions),
    Migration(2, "oversight: candidates, candidate_identity, candidate_demographics, artefacts, audit_log",
              _v2_oversight),
    Migration(3, "oversight: model_stops (global stop and resumption of job models)", _v3_model_stops),
    Migration(4, "case records: the table artefacts is renamed case_records", _v4_case_records),
    Migration(5, "keyed digests: candidate_identity and candidate_demographics get a digest_key", _v5_keyed_digests),
    Migration(6, "anchoring: audit_checkpoints (signed heads of the audit log)", _v6_checkpoints),
    Migration(7, "web: sessions.time_multiplier; invitations, consents, api_clients, idempotency_keys, "
                 "webhook_deliveries, webhook_attempts", _v7_web),
    Migration(8, "job_models: the exact content of each job model that produced a recommendation", _v8_job_models),
    Migration(9, "adaptive sessions: sessions.banks; item_banks (the calibrations adaptive sessions chose items "
                 "from)", _v9_adaptive),
    Migration(10, "workspace: organisations, organisation_job_models, staff_users, staff_sessions", _v10_workspace),
    Migration(11, "oidc: staff_users.email, oidc_issuer, oidc_subject; organisation_oidc (an organisation's OpenID "
                  "Connect provider)", _v11_oidc),
]

LATEST_VERSION = MIGRATIONS[-1].version


def current_version(connection: Connection) -> int:
    """The store's schema version: 0 for a store without a migration applied yet."""
    return connection.execute(select(func.coalesce(func.max(schema_version.c.version), 0))).scalar_one()


def check_store(connection: Connection, name: str) -> bool:
    """Whether the database is a profiler store (True) or empty (False); refuse anything else.

    Raises
    ------
    StoreError
        The database holds other tables but no ``schema_version`` (another application's database), or
        it was written by a newer profiler (schema version above :data:`LATEST_VERSION`).
    """
    tables = inspect(connection).get_table_names()
    if "schema_version" not in tables:
        if tables:
            shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
            raise StoreError(
                f"{name} is not a profiler store: it has tables ({shown}) but no schema_version table; "
                "use a new file for profiler"
            )
        return False
    version = current_version(connection)
    if version > LATEST_VERSION:
        raise StoreError(
            f"{name} has schema version {version}, written by a newer profiler; this profiler "
            f"({__version__}) reads versions up to {LATEST_VERSION}: upgrade profiler to open it"
        )
    return True


def apply_pending(begin: Callable[[], object], name: str) -> int:
    """Apply every migration the store lacks, each in its own write transaction; return the version.

    ``begin`` opens a write transaction (a context manager yielding a Connection). Each transaction first
    takes the migration lock and then reads the version again, so two processes opening a new store at once
    apply each step once: on SQLite the write transaction is the lock (BEGIN IMMEDIATE); on PostgreSQL,
    where DDL takes no lock on tables that do not exist yet, a transaction-level advisory lock.
    """
    with begin() as connection:
        _lock_migrations(connection)
        if not check_store(connection, name):
            schema_version.create(connection)
        version = current_version(connection)
    for step in MIGRATIONS:
        if version >= step.version:
            continue
        with begin() as connection:
            _lock_migrations(connection)
            version = current_version(connection)
            if version >= step.version:
                continue
            step.upgrade(connection)
            connection.execute(
                insert(schema_version).values(
                    version=step.version, description=step.description, profiler_version=__version__,
                    applied_at=datetime.now(UTC),
                )
            )
            version = step.version
    return version


def _lock_migrations(connection: Connection) -> None:
    """Serialise migrating processes until the transaction ends (see :func:`apply_pending`)."""
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(PG_MIGRATION_LOCK_KEY)))
