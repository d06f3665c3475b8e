"""Human oversight records: pseudonymous candidates, the hash-chained audit log, and privacy rights.

- :class:`AuditLog`: append-only, hash-chained log of every event, with :meth:`AuditLog.verify`.
- :class:`Candidates`: pseudonyms, identities kept apart, case state, legal hold, artefacts.
- :class:`DemographicsVault`: protected attributes, for fairness audits only (never scoring).
- :func:`export_candidate`, :func:`erase_candidate`, :func:`purge_expired`: access, erasure, retention.
- :class:`Review`: reviewers' decisions with reason codes, contests to a second reviewer, oversight figures.
- :class:`ModelControl`: the global stop and resumption of a job model.
"""

from profiler.store.audit_log import (
    GENESIS_HASH,
    AuditEvent,
    AuditLog,
    AuditLogError,
    LogEntry,
    Verification,
    canonical_json,
)
from profiler.oversight.candidates import (
    Artefact,
    Candidate,
    CandidateError,
    Candidates,
    CaseRecord,
    DemographicsVault,
    Identity,
)
from profiler.oversight.control import ControlError, ModelControl, ModelStoppedError, Stop
from profiler.oversight.privacy import (
    DEFAULT_RETENTION,
    ErasureReceipt,
    PurgeReport,
    erase_candidate,
    export_candidate,
    purge_expired,
)
from profiler.oversight.review import (
    DEFAULT_CONTEST_DAYS,
    DEFAULT_REASON_CODES,
    Contest,
    Decision,
    OversightFigures,
    RecordedRecommendation,
    Review,
    ReviewError,
    ReviewSettings,
    RubberStampRule,
    configure_review,
    override_rates_by_group,
    oversight_figures,
    oversight_over_time,
    review_settings,
)

__all__ = [
    "DEFAULT_CONTEST_DAYS",
    "DEFAULT_REASON_CODES",
    "DEFAULT_RETENTION",
    "GENESIS_HASH",
    "Artefact",
    "AuditEvent",
    "AuditLog",
    "AuditLogError",
    "Candidate",
    "CandidateError",
    "Candidates",
    "CaseRecord",
    "Contest",
    "ControlError",
    "Decision",
    "DemographicsVault",
    "ErasureReceipt",
    "Identity",
    "LogEntry",
    "ModelControl",
    "ModelStoppedError",
    "OversightFigures",
    "PurgeReport",
    "RecordedRecommendation",
    "Review",
    "ReviewError",
    "ReviewSettings",
    "RubberStampRule",
    "Stop",
    "Verification",
    "canonical_json",
    "configure_review",
    "erase_candidate",
    "export_candidate",
    "override_rates_by_group",
    "oversight_figures",
    "oversight_over_time",
    "purge_expired",
    "review_settings",
]
