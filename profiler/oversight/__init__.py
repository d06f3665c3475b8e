"""Human oversight records: the hash-chained audit log (more to come: candidates, privacy rights).

- :class:`AuditLog`: append-only, hash-chained log of every event, with :meth:`AuditLog.verify`.
"""

from profiler.oversight.audit_log import (
    GENESIS_HASH,
    AuditEvent,
    AuditLog,
    AuditLogError,
    LogEntry,
    Verification,
    canonical_json,
)

__all__ = [
    "GENESIS_HASH",
    "AuditEvent",
    "AuditLog",
    "AuditLogError",
    "LogEntry",
    "Verification",
    "canonical_json",
]
