"""A session's history as events, and the state they add up to (pure; no store, no clock).

A session is stored as an append-only list of events; its state (where the respondent is, the answers
that count, the time spent) is the fold of its events. The same fold runs after each new event and when a
session is resumed, so a resumed session is in exactly the state it was in before it stopped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from profiler.administration.errors import SessionError

# Events and how they move the respondent: answer/skip/forward go to the next item, back to the previous;
# pause (quit), resume, expire (time limit reached) and finish stay where they are; select (an adaptive test's
# step: the item it chose for this position, or none when a scale's test stopped) neither.
MOVES = {"answer": 1, "skip": 1, "forward": 1, "back": -1, "pause": 0, "resume": 0, "expire": 0, "finish": 0,
         "select": 0}
KINDS = tuple(MOVES)


@dataclass(frozen=True)
class Event:
    """One recorded action.

    Attributes
    ----------
    seq : int
        1, 2, ... within the session.
    kind : str
        One of :data:`KINDS`.
    item_id : str or None
        The item on screen when it happened (None past the last item); for ``select``, the item chosen (None:
        the scale's test stopped).
    position : int
        Index of that item in the session's order.
    value : float or None
        The answer (``answer`` events only).
    shown_seconds : float or None
        Seconds the item had been on screen (monotonic clock) before the event; None for ``resume``.
    item_time_exceeded : bool
        Whether ``shown_seconds`` exceeded the questionnaire's ``item_time_limit_seconds``.
    recorded_at : datetime or None
        Wall-clock time (UTC) of the event.
    """

    seq: int
    kind: str
    item_id: str | None
    position: int
    value: float | None = None
    shown_seconds: float | None = None
    item_time_exceeded: bool = False
    recorded_at: datetime | None = None


@dataclass
class SessionState:
    """Where a session stands after its events.

    ``answers`` maps each item that was answered or skipped to its latest value (None: skipped); an item
    that was never reached is absent. ``active_seconds`` sums the time items were on screen. ``paused`` is
    True from a pause until the next resumption. In an adaptive session ``selected`` lists the items its
    steps chose, in order, and ``stops`` counts the scales whose test has stopped.
    """

    position: int = 0
    seq: int = 0
    answers: dict[str, float | None] = field(default_factory=dict)
    active_seconds: float = 0.0
    expired: bool = False
    finished: bool = False
    paused: bool = False
    selected: list[str] = field(default_factory=list)
    stops: int = 0

    def apply(self, event: Event) -> None:
        """Add one event (the next in sequence) to the state."""
        if event.seq != self.seq + 1:
            raise SessionError(f"session history is not contiguous: event {event.seq} follows {self.seq}")
        if event.kind not in MOVES:
            raise SessionError(f"unknown session event {event.kind!r} (seq {event.seq})")
        self.seq = event.seq
        if event.kind == "answer":
            self.answers[event.item_id] = event.value
        elif event.kind == "skip":
            self.answers[event.item_id] = None  # the latest counts: a skip withdraws an earlier answer
        elif event.kind == "expire":
            self.expired = True
        elif event.kind == "finish":
            self.finished = True
        elif event.kind == "select":
            if event.item_id is None:
                self.stops += 1
            else:
                self.selected.append(event.item_id)
        self.paused = event.kind == "pause" or (self.paused and event.kind != "resume")
        self.position = event.position + MOVES[event.kind]
        self.active_seconds += event.shown_seconds or 0.0

    def copy(self) -> SessionState:
        """An independent copy (its answers and selected items are copied too)."""
        return replace(self, answers=dict(self.answers), selected=list(self.selected))

    @classmethod
    def replay(cls, events: Iterable[Event]) -> SessionState:
        state = cls()
        for event in events:
            state.apply(event)
        return state
