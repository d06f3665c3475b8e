"""Sessions this process has seen, so that loading one again reads only the events recorded since.

A front door that opens the session afresh for every action (the web app: one request, one action) would
otherwise read every event of the session and fold them again on each request. Here each store keeps, per
session, the events and the state they fold to, as of the last load or committed write in this process.

The store stays the authority: :meth:`Session.load <profiler.administration.Session.load>` reads the session's
row together with its events from the known last one on, in one statement. The known state is used only if
that last event is still stored exactly as known and the session still has the same order; it is then
extended by the newer events (written by another process, another tab, another device). Anything else (a
session erased, restored from an older copy, changed behind profiler's back) falls back to reading every event,
exactly as without this cache. A process that dies loses nothing but the shortcut.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass

from profiler.administration.events import Event, SessionState
from profiler.cat.plan import AdaptivePlan
from profiler.questionnaire.questionnaire import Questionnaire
from profiler.store.store import Store

SIZE = 2048  # sessions per store (about 15 kB each for 50 answered items)


@dataclass(frozen=True)
class Known:
    """A session as of its event ``state.seq``: what :class:`Session` is built from. Never changed once made."""

    record: dict
    item_order: str  # as stored (JSON text): compared with the row read, to notice a changed order
    events: tuple[Event, ...]
    state: SessionState
    questionnaire: Questionnaire
    plan: AdaptivePlan | None

    @property
    def seq(self) -> int:
        return self.state.seq


_BY_STORE: weakref.WeakKeyDictionary[Store, OrderedDict[str, Known]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def recall(store: Store, session_id: str) -> Known | None:
    """What this process knows of the session in ``store`` (None: nothing)."""
    with _LOCK:
        known = _BY_STORE.get(store)
        if known is None or session_id not in known:
            return None
        known.move_to_end(session_id)
        return known[session_id]


def remember(store: Store, session_id: str, entry: Known) -> None:
    """Keep ``entry`` unless a later state of the session is already kept (two threads may race)."""
    with _LOCK:
        known = _BY_STORE.setdefault(store, OrderedDict())
        current = known.get(session_id)
        if current is not None and current.seq > entry.seq:
            return
        known[session_id] = entry
        known.move_to_end(session_id)
        while len(known) > SIZE:
            known.popitem(last=False)


def forget(store: Store, session_id: str) -> None:
    with _LOCK:
        known = _BY_STORE.get(store)
        if known is not None:
            known.pop(session_id, None)


def extend(entry: Known, record: dict, item_order: str, rows: list[Event]) -> Known | None:
    """``entry`` brought up to date with ``rows`` (the stored events from ``entry.seq`` on, as read with the row);
    None when they do not continue what is known (then every event must be read again)."""
    if item_order != entry.item_order:
        return None
    if entry.seq > 0:
        if not rows or rows[0] != entry.events[-1]:
            return None  # the last known event is no longer stored as it was
        rows = rows[1:]
    if not rows:
        return Known(record, item_order, entry.events, entry.state, entry.questionnaire, entry.plan)
    state = entry.state.copy()
    for event in rows:
        if event.seq != state.seq + 1:
            return None
        state.apply(event)
    return Known(record, item_order, entry.events + tuple(rows), state, entry.questionnaire, entry.plan)
