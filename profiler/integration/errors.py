"""Errors of invitations, consent, API clients, idempotency keys and webhooks: each names the field at fault."""

from __future__ import annotations

from profiler.errors import ProfilerError


class IntegrationError(ProfilerError, ValueError):
    """Input an invitation, an API client, an idempotency key or a webhook cannot use.

    Attributes
    ----------
    field : str or None
        The field at fault (``"callback_url"``, ``"language"``, ...), for an API's problem report.
    code : str
        A short machine-readable code (``"invalid"``, ``"not_found"``, ``"conflict"``, ...).
    """

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        self.field = field
        self.code = code
        super().__init__(message)


class InvitationError(IntegrationError):
    """An invitation link that opens nothing: unknown or forged, expired, revoked, or already used up.

    ``code`` is ``"unknown"``, ``"expired"``, ``"revoked"`` or ``"used"``; the message never says more than a
    candidate needs (an unknown and a forged link read alike).
    """
