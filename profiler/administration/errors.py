"""Errors a respondent's or an operator's action can cause while a questionnaire is administered."""

from __future__ import annotations

from collections.abc import Sequence

from profiler.errors import ProfilerError


class AnswerError(ProfilerError, ValueError):
    """An answer that the item's response format does not accept; names the item and the allowed answers.

    Attributes
    ----------
    item : str
        Id of the item.
    value : object
        The answer that was refused.
    allowed : str
        The allowed answers in words, e.g. ``1 (Disagree), 2 (...), ...`` or ``a whole number from 0 to 50``.
    """

    def __init__(self, item: str, value: object, allowed: str, reason: str = "is not an answer of this item"):
        self.item, self.value, self.allowed = item, value, allowed
        super().__init__(f"item {item!r}: {value!r} {reason}; allowed: {allowed}")


class SessionError(ProfilerError):
    """An action the session refuses: going back where it is not allowed, skipping a required item,
    finishing with required items unanswered (listed in ``.items``), acting on a finished session, or
    resuming a session that does not exist or whose questionnaire changed."""

    def __init__(self, message: str, items: Sequence[str] = ()):
        self.items = list(items)
        super().__init__(message)


class SessionExpiredError(SessionError):
    """The session's time limit has passed: no more answers are accepted; the session can still be finished."""
