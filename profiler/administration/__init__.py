"""Administering questionnaires: sessions recorded answer by answer in a store, resumable at any point."""

from profiler.administration.replay import Replay, replay_session
from profiler.administration.errors import AnswerError, SessionError, SessionExpiredError
from profiler.administration.events import Event
from profiler.administration.prompt import NumberRange, Option, Prompt
from profiler.administration.session import Session

__all__ = [
    "AnswerError",
    "Event",
    "NumberRange",
    "Option",
    "Prompt",
    "Replay",
    "Session",
    "SessionError",
    "SessionExpiredError",
    "replay_session",
]
