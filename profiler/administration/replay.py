"""Replaying an adaptive session: every recorded step recomputed from the stored questionnaire, banks, seed and
answers, and compared with what the session and the audit log recorded."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from profiler.administration.adaptive import SELECTED_EVENT, next_steps
from profiler.administration.errors import SessionError
from profiler.administration.events import SessionState
from profiler.administration.session import Session
from profiler.store.store import Store
from profiler.store.tables import audit_log


@dataclass(frozen=True)
class Replay:
    """:func:`replay_session`'s finding: each recorded step beside its recomputation.

    ``steps`` lists, per recorded step, the scale, the item recorded and recomputed, theta and SE, and whether
    they agree; ``problems`` says in words what differs (empty: the session replays exactly).
    """

    session: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _close(a: Any, b: Any, tol: float = 1e-9) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(float(a), float(b), rel_tol=tol, abs_tol=tol)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y, tol) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], tol) for k in a)
    return a == b


def _selected_entries(store: Store, session_id: str, respondent: str) -> dict[int, dict[str, Any]]:
    """The logged steps of a session by event seq (from the audit log)."""
    from profiler.store.audit_log import CANDIDATE_PATTERN

    query = select(audit_log.c.payload).where(audit_log.c.event == SELECTED_EVENT)
    if CANDIDATE_PATTERN.match(respondent):
        query = query.where(audit_log.c.candidate_id == respondent)
    out = {}
    with store.read() as connection:
        for (text,) in connection.execute(query.order_by(audit_log.c.seq)):
            try:
                payload = json.loads(text)
            except ValueError:  # an erased entry
                continue
            if isinstance(payload, dict) and payload.get("session") == session_id:
                out[int(payload["seq"])] = payload
    return out


def replay_session(store: Store, session_id: str) -> Replay:
    """Recompute every step of an adaptive session from its stored questionnaire, banks, seed and answers.

    Each recorded ``select`` event (and its audit-log entry: theta, SE, candidates, draws) is compared with
    the step computed afresh from the answers recorded before it.

    Raises
    ------
    SessionError
        No such session, or it is not adaptive.
    """
    session = Session.load(store, session_id)
    plan = session.adaptive_plan
    if plan is None:
        raise SessionError(f"session {session_id!r} is not adaptive: there is nothing to replay")
    logged = _selected_entries(store, session_id, session.respondent)
    replay = Replay(session_id)
    state = SessionState()
    for event in session._events:
        if event.kind == "select":
            due = next_steps(plan, state, session.seed)
            scale, step = due[0]
            entry = logged.get(event.seq)
            recorded = entry.get("step") if entry else None
            agrees = event.item_id == step["item"] and (recorded is None or _close(recorded, step))
            replay.steps.append({"seq": event.seq, "scale": scale.scale, "item": event.item_id,
                                 "recomputed": step["item"], "theta": step["theta"], "se": step["se"],
                                 "stop": step["stop"], "agrees": agrees})
            if entry is None:
                replay.problems.append(f"step at event {event.seq}: its audit-log entry is missing")
            elif entry.get("scale") != scale.scale:
                replay.problems.append(f"step at event {event.seq}: logged for scale {entry.get('scale')!r}, "
                                       f"due for {scale.scale!r}")
            if event.item_id != step["item"]:
                replay.problems.append(f"step at event {event.seq} ({scale.scale}): recorded item {event.item_id!r}, "
                                       f"recomputed {step['item']!r}")
            elif recorded is not None and not _close(recorded, step):
                differs = sorted(k for k in set(recorded) | set(step) if not _close(recorded.get(k), step.get(k)))
                replay.problems.append(f"step at event {event.seq} ({scale.scale}): {', '.join(differs)} differ from "
                                       "the recomputation")
        state.apply(event)
    return replay
