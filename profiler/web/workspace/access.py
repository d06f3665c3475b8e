"""Who may do what in the workspace: one table of permissions by role, and the routes that need each.

A route names one permission; :func:`allowed` is the only check. Tenant scoping (an organisation sees only
its own job models' cases) is applied by the queries of :mod:`.scope`, on top of this.
"""

from __future__ import annotations

from profiler.integration.staff import ROLES

DECIDERS = frozenset({"recruiter", "hiring_manager", "psychologist"})
READERS = DECIDERS | {"auditor", "admin"}
OVERSEERS = frozenset({"auditor", "operator", "admin"})

PERMISSIONS: dict[str, frozenset[str]] = {
    "home": frozenset(ROLES),
    "queue": READERS,  # the queue and the case pages
    "decide": DECIDERS,  # a decision, a contest's second review, a colleague's override confirmed
    "contest": DECIDERS | {"admin"},  # take in a candidate's contest
    "oversight": OVERSEERS,  # override and contest rates, the audit log's verification
    "stop": frozenset({"operator", "admin"}),  # stop and resume a job model
    "fairness": frozenset({"auditor", "operator", "psychologist", "admin"}),  # aggregates only, never a person's group
    "psychology": frozenset({"psychologist", "auditor", "admin"}),  # questionnaires, job models, manuals
}


def allowed(role: str, permission: str) -> bool:
    """Whether ``role`` has ``permission`` (an unknown permission is nobody's)."""
    return role in PERMISSIONS.get(permission, frozenset())


__all__ = ["DECIDERS", "OVERSEERS", "PERMISSIONS", "READERS", "allowed"]
