"""Human oversight records: pseudonymous candidates, the hash-chained audit log, and privacy rights.

- :class:`AuditLog`: append-only, hash-chained log of every event, with :meth:`AuditLog.verify`.
- :class:`Candidates`: pseudonyms, identities kept apart, case state, legal hold, artefacts.
- :class:`DemographicsVault`: protected attributes, for fairness audits only (never scoring).
- :func:`export_candidate`, :func:`erase_candidate`, :func:`purge_expired`: access, erasure, retention.
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
from profiler.oversight.candidates import Artefact, Candidate, CandidateError, Candidates, DemographicsVault, Identity
from profiler.oversight.privacy import (
    DEFAULT_RETENTION,
    ErasureReceipt,
    PurgeReport,
    erase_candidate,
    export_candidate,
    purge_expired,
)

__all__ = [
    "DEFAULT_RETENTION",
    "GENESIS_HASH",
    "Artefact",
    "AuditEvent",
    "AuditLog",
    "AuditLogError",
    "Candidate",
    "CandidateError",
    "Candidates",
    "DemographicsVault",
    "ErasureReceipt",
    "Identity",
    "LogEntry",
    "PurgeReport",
    "Verification",
    "canonical_json",
    "erase_candidate",
    "export_candidate",
    "purge_expired",
]
