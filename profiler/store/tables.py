"""The store's tables as they are at the latest schema version (SQLAlchemy Core, portable types only).

One :data:`metadata` holds every table; later features (candidates, profiles, recommendations, decisions,
the audit log) add theirs here *and* a migration step in :mod:`profiler.store.migrations` that creates
them. The migrations, not this module, build a database: a test checks that applying them all yields
exactly these tables and columns.

Portability: only types every SQLAlchemy backend maps (String with a length, Text, Integer, BigInteger,
Double, Boolean without a CHECK constraint, timezone-aware DateTime), and constraint names from a naming
convention so that later migrations can refer to them on PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# One row per applied migration; the store's version is the largest. Its shape never changes.
schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", String(200), nullable=False),
    Column("profiler_version", String(40), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

# The exact questionnaire content each session administered (canonical JSON, as hashed by
# Questionnaire.content_hash), so that what a respondent saw can be shown again years later.
questionnaires = Table(
    "questionnaires",
    metadata,
    Column("content_hash", String(80), primary_key=True),
    Column("questionnaire_id", String(64), nullable=False),
    Column("version", Text, nullable=False),
    Column("document", Text, nullable=False),
    Column("stored_at", DateTime(timezone=True), nullable=False),
)

# The exact content of each job model that produced a recommendation (schema version 7), stored like the
# questionnaires: under its content hash (Recommendation.versions names it), once.
job_models = Table(
    "job_models",
    metadata,
    Column("content_hash", String(80), primary_key=True),
    Column("job_model_id", String(64), nullable=False),
    Column("version", Text, nullable=False),
    Column("document", Text, nullable=False),  # canonical JSON of the spec, as hashed
    Column("stored_at", DateTime(timezone=True), nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("respondent", String(64), nullable=False, index=True),  # a pseudonym, never a name
    Column("content_hash", String(80), ForeignKey("questionnaires.content_hash"), nullable=False),
    Column("questionnaire_id", String(64), nullable=False),
    Column("questionnaire_version", Text, nullable=False),
    Column("language", String(64), nullable=False),
    Column("seed", BigInteger, nullable=True),  # the seed that ordered the items; None for a fixed order
    Column("item_order", Text, nullable=False),  # JSON list of item ids, as administered
    Column("status", String(16), nullable=False),  # "open" or "finished"
    Column("expired", Boolean(create_constraint=False), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    # Schema version 7: the accommodation factor of the time limits (None: 1, no accommodation).
    Column("time_multiplier", Double, nullable=True),
    # Schema version 9: an adaptive session's item banks, JSON {scale: sha256 of its calibration} (None: not
    # adaptive); the banks themselves are in item_banks.
    Column("banks", Text, nullable=True),
)

# The exact IRT calibration (a sealed profiler.irt-calibration/1 artifact) each adaptive session chose its items
# from (schema version 9), under its sha256, once: a session resumes and replays with the bank it started with.
item_banks = Table(
    "item_banks",
    metadata,
    Column("content_hash", String(80), primary_key=True),  # the artifact's sha256
    Column("name", Text, nullable=False),
    Column("version", Text, nullable=False),
    Column("scale", String(64), nullable=False),
    Column("document", Text, nullable=False),  # the artifact's JSON
    Column("stored_at", DateTime(timezone=True), nullable=False),
)

# Append-only: every answer, skip, move, pause and resume, in order. An answer is never updated: a
# changed answer is a new row, and the latest one counts (the audit trail a hiring decision needs).
session_events = Table(
    "session_events",
    metadata,
    Column("session_id", String(32), ForeignKey("sessions.id"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),  # 1, 2, ...: a doubled write fails here
    Column("kind", String(16), nullable=False),
    Column("item_id", String(64), nullable=True),  # None past the last item
    Column("position", Integer, nullable=False),  # index of that item in item_order
    Column("value", Double, nullable=True),
    Column("shown_seconds", Double, nullable=True),  # how long the item was on screen before this event
    Column("item_time_exceeded", Boolean(create_constraint=False), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

# Oversight (schema version 2) -------------------------------------------------------------------------
# Pseudonymous candidates. The id is the only link between a person's records: sessions.respondent,
# artefacts, demographics and the audit log hold it; nothing in this table identifies the person.
candidates = Table(
    "candidates",
    metadata,
    Column("id", String(64), primary_key=True),  # a random pseudonym, never derived from identity
    Column("status", String(16), nullable=False),  # "open", "closed" (a finished case) or "erased"
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True), nullable=True),  # the retention period counts from here
    Column("legal_hold", Boolean(create_constraint=False), nullable=False),  # blocks purge and erasure
    Column("legal_hold_reason", Text, nullable=True),
    Column("erased_at", DateTime(timezone=True), nullable=True),
)

# Identifying data, apart from everything else so that it can be shown, exported and erased on its own.
candidate_identity = Table(
    "candidate_identity",
    metadata,
    Column("candidate_id", String(64), ForeignKey("candidates.id"), primary_key=True),
    Column("name", Text, nullable=True),
    Column("email", Text, nullable=True),
    Column("details", Text, nullable=False),  # JSON object of further identifying fields (phone, ...)
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # Schema version 5: the random key of the row's HMAC in the log (profiler.store.digests); None before.
    Column("digest_key", String(64), nullable=True),
)

# Protected attributes for fairness audits only: read through profiler.oversight.DemographicsVault,
# never by scoring (GDPR Art. 9; they must never become features).
candidate_demographics = Table(
    "candidate_demographics",
    metadata,
    Column("candidate_id", String(64), ForeignKey("candidates.id"), primary_key=True),
    Column("attributes", Text, nullable=False),  # JSON object: category -> value (e.g. "sex": "female")
    Column("source", String(32), nullable=False),  # e.g. "self-reported"
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("digest_key", String(64), nullable=True),  # schema version 5, as candidate_identity.digest_key
)

# Case records: what is produced about a candidate (inputs, validity, profile, contributions, recommendation,
# decisions, contests), one payload of a kind per row (typed in profiler.store.records); one generic table, so
# that export and erasure cover every kind, present and future. Named "artefacts" before schema version 4.
case_records = Table(
    "case_records",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("candidate_id", String(64), ForeignKey("candidates.id"), nullable=False, index=True),
    Column("session_id", String(32), ForeignKey("sessions.id"), nullable=True),
    Column("kind", String(32), nullable=False),
    Column("payload", Text, nullable=False),  # canonical JSON
    Column("payload_hash", String(80), nullable=False),  # "sha256:" + hex of the payload's UTF-8 bytes
    Column("audit_seq", BigInteger, nullable=True),  # the audit-log entry that recorded it (holds the hash)
    Column("recorded_by", String(128), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

# The append-only, hash-chained audit log (see profiler.store.audit_log for the hash definition).
# No foreign key: the log accepts every event and outlives the records it mentions.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),  # 1, 2, ...: a concurrent double fails
    Column("recorded_at", String(32), nullable=False),  # ISO 8601 UTC text, exactly as hashed
    Column("event", String(64), nullable=False, index=True),
    Column("actor", String(128), nullable=False),
    Column("candidate_id", String(64), nullable=True, index=True),
    Column("payload", Text, nullable=False),  # canonical JSON, or an erasure marker
    Column("payload_hash", String(80), nullable=False),
    Column("prev_hash", String(80), nullable=False),
    Column("entry_hash", String(80), nullable=False),
)

# Global stops of job models (schema version 3): while a row without ``resumed_at`` covers a model (one
# version, or every version when ``job_model_version`` is None), the recorded pipeline produces no
# recommendation with it. Rows are never deleted; a resumption fills in the resumed_* columns. No personal data.
model_stops = Table(
    "model_stops",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_model_id", String(64), nullable=False, index=True),
    Column("job_model_version", Text, nullable=True),  # None: every version of the model
    Column("stopped_by", String(128), nullable=False),  # the operator
    Column("stop_reason", Text, nullable=False),
    Column("stopped_at", DateTime(timezone=True), nullable=False),
    Column("stop_seq", BigInteger, nullable=True),  # the model.stopped entry of the audit log
    Column("resumed_by", String(128), nullable=True),
    Column("resume_reason", Text, nullable=True),
    Column("resumed_at", DateTime(timezone=True), nullable=True),
    Column("resume_seq", BigInteger, nullable=True),  # the model.resumed entry
)

# Signed checkpoints of the audit log's head (schema version 6; profiler.store.anchoring). Each is also an
# audit.checkpoint entry of the log, written in the same transaction (log_seq). No personal data.
audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("seq", BigInteger, nullable=False),  # the head signed: its seq and entry_hash
    Column("entry_hash", String(80), nullable=False),
    Column("created_at", String(32), nullable=False),  # UTC text, exactly as signed
    Column("algorithm", String(16), nullable=False),  # "ed25519" or "hmac-sha256"
    Column("key_id", String(64), nullable=False),  # which key signed (never the key)
    Column("signature", Text, nullable=False),  # base64
    Column("log_seq", BigInteger, nullable=True),  # the audit.checkpoint entry recording it
)

# Web and vendor integration (schema version 7) -----------------------------------------------------------
# An invitation: one candidate, one questionnaire (pinned by content hash) for one job model, reached through a
# signed link that names only the invitation's random id. Nothing personal but the vendor's reference, which
# erasure clears.
invitations = Table(
    "invitations",
    metadata,
    Column("id", String(40), primary_key=True),  # "inv_" + random: unguessable, signed in the link
    Column("candidate_id", String(64), ForeignKey("candidates.id"), nullable=False, index=True),
    Column("client_id", String(40), nullable=True),  # the API client that created it (None: operator, demo)
    Column("reference", Text, nullable=True),  # the vendor's candidate or application reference
    Column("questionnaire_id", String(64), nullable=False),
    Column("content_hash", String(80), ForeignKey("questionnaires.content_hash"), nullable=False),
    Column("job_model_id", String(64), nullable=False),
    Column("job_model_version", Text, nullable=False),
    Column("language", String(64), nullable=False),
    Column("time_multiplier", Double, nullable=False),
    Column("report_to_candidate", Boolean(create_constraint=False), nullable=False),
    Column("callback_url", Text, nullable=True),
    Column("status", String(16), nullable=False),  # created, declined, started, completed, assessed, revoked
    Column("session_id", String(32), ForeignKey("sessions.id"), nullable=True),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=True),
    Column("completed_at", DateTime(timezone=True), nullable=True),
)

# The candidate's answer to the consent page: what they were shown (its hash) and whether they agreed.
consents = Table(
    "consents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("invitation_id", String(40), ForeignKey("invitations.id"), nullable=False, index=True),
    Column("candidate_id", String(64), ForeignKey("candidates.id"), nullable=False, index=True),
    Column("decision", String(16), nullable=False),  # "given" or "refused"
    Column("notice_hash", String(80), nullable=False),  # sha256 of the notice text shown
    Column("language", String(64), nullable=False),
    Column("audit_seq", BigInteger, nullable=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

# Vendors' API clients: the key is stored as an argon2 hash only; scopes as a JSON list.
api_clients = Table(
    "api_clients",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", Text, nullable=False),
    Column("key_hash", Text, nullable=False),
    Column("scopes", Text, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

# Idempotency keys of the API's POSTs: the request's hash and the response given, replayed on a retry.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("client_id", String(40), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("method", String(8), nullable=False),
    Column("path", Text, nullable=False),
    Column("request_hash", String(80), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Webhooks: one delivery per (invitation, log entry) that a vendor is told about, its body fixed when queued,
# retried with backoff; every attempt is kept (the delivery log).
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(40), primary_key=True),  # "whd_" + random: the receiver's de-duplication key
    Column("invitation_id", String(40), ForeignKey("invitations.id"), nullable=False, index=True),
    Column("candidate_id", String(64), nullable=False, index=True),
    Column("client_id", String(40), nullable=True),
    Column("event_type", String(40), nullable=False),
    Column("audit_seq", BigInteger, nullable=False),
    Column("url", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending, delivered, failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    UniqueConstraint("invitation_id", "audit_seq"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("delivery_id", String(40), ForeignKey("webhook_deliveries.id"), primary_key=True),
    Column("attempt", Integer, primary_key=True, autoincrement=False),
    Column("attempted_at", DateTime(timezone=True), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("duration_ms", Double, nullable=False),
)

# The recruiters' workspace (schema version 9) ----------------------------------------------------------------
# An organisation (tenant) of one store: its staff see only the cases of the job models it owns.
organisations = Table(
    "organisations",
    metadata,
    Column("id", String(64), primary_key=True),  # a short name: "acme"
    Column("name", Text, nullable=False),
    Column("second_confirmation", Boolean(create_constraint=False), nullable=False),  # overrides need a 2nd person
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Which organisation a job model id belongs to: one organisation per id, so that a stop, a queue and a fairness
# audit of the model concern one tenant only.
organisation_job_models = Table(
    "organisation_job_models",
    metadata,
    Column("job_model_id", String(64), primary_key=True),
    Column("organisation_id", String(64), ForeignKey("organisations.id"), nullable=False, index=True),
    Column("assigned_by", String(128), nullable=False),
    Column("assigned_at", DateTime(timezone=True), nullable=False),
)

# Staff accounts: the password as an argon2id hash only; failed sign-ins counted for the lockout.
staff_users = Table(
    "staff_users",
    metadata,
    Column("id", String(40), primary_key=True),  # "usr_" + random
    Column("username", String(128), nullable=False, unique=True),
    Column("organisation_id", String(64), ForeignKey("organisations.id"), nullable=False, index=True),
    Column("role", String(32), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("failed_sign_ins", Integer, nullable=False),  # consecutive failures since the last success
    Column("locked_until", DateTime(timezone=True), nullable=True),
    Column("disabled_at", DateTime(timezone=True), nullable=True),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Sign-in through the organisation's OpenID Connect provider (version 11): the address an account is matched
    # by, and the provider's subject recorded at the first such sign-in (matched from then on).
    Column("email", String(320), nullable=True),
    Column("oidc_issuer", String(512), nullable=True),
    Column("oidc_subject", String(255), nullable=True),
    # unique indexes rather than constraints: SQLite adds no constraint to an existing table
    Index("uq_staff_users_organisation_email", "organisation_id", "email", unique=True),
    Index("uq_staff_users_organisation_subject", "organisation_id", "oidc_issuer", "oidc_subject", unique=True),
)

# An organisation's OpenID Connect provider (version 11). The client secret is kept encrypted, to call the token
# endpoint, and is never shown (profiler org oidc show prints ***); password_sign_in False refuses passwords of its
# staff.
organisation_oidc = Table(
    "organisation_oidc",
    metadata,
    Column("organisation_id", String(64), ForeignKey("organisations.id"), primary_key=True),
    Column("issuer", String(512), nullable=False),
    Column("client_id", String(255), nullable=False),
    Column("client_secret", Text, nullable=True),  # sealed (AES-256-GCM); None: a public client
    Column("label", Text, nullable=False),  # "Sign in with <label>"
    Column("claim", String(32), nullable=False),  # "email" or "sub"
    Column("email_domains", Text, nullable=False),  # JSON list; empty: any domain
    Column("require_verified_email", Boolean(create_constraint=False), nullable=False),
    Column("password_sign_in", Boolean(create_constraint=False), nullable=False),
    Column("listed", Boolean(create_constraint=False), nullable=False),  # its button on the plain sign-in page
    Column("updated_by", String(128), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Signed-in staff: the cookie's random token is stored as its SHA-256 only, so a copy of the database opens
# no session. A new row at every sign-in (no session fixation); deleted at sign-out.
staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("token_hash", String(80), primary_key=True),
    Column("user_id", String(40), ForeignKey("staff_users.id"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
