"""Administering one questionnaire to one respondent, one committed answer at a time.

Every action is written to the store in its own transaction before the method returns, so the next item
is only shown once the previous answer is safe; a session stopped at any point (quit, crash, killed
process) resumes where it stopped, with the same order. Answers are never overwritten: going back and
answering again appends a new event, and the latest answer counts.

Time is measured with a monotonic clock while an item is on screen: each event records how long its item
was shown. The session's time on task is the sum of those durations, so the time between a quit and a
resume is not counted (nor the time between the last answer and a crash). When the questionnaire's
``time_limit_seconds`` is exceeded the session expires: the late answer is refused and no further answer
is accepted, but the session can still be finished (required items unanswered or not) and is recorded as
expired, so that its answers are kept and flagged rather than lost. ``item_time_limit_seconds`` only
flags answers given after the item's limit (``item_time_exceeded``); they still count. A session started
with a ``time_multiplier`` (an accommodation, e.g. 1.5 for extra time) has both limits multiplied by it.

A front door that opens the session afresh for every action (the web app: one request, one action) loads it
with ``shown_since_last_event=True``: the clock is then the wall clock, and the current item counts as shown
since the session's last recorded event, which is when the page showing it was sent. A pause (the
respondent saves and leaves) is recorded, so the time until the next resumption is not counted.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from profiler.administration import known, records
from profiler.administration.adaptive import adaptive_scores, next_steps
from profiler.administration.errors import SessionError, SessionExpiredError
from profiler.administration.events import Event, SessionState
from profiler.administration.prompt import Prompt, check_answer, item_text, number_range, options_of
from profiler.cat.plan import AdaptivePlan, adaptive_plan
from profiler.questionnaire.questionnaire import Questionnaire
from profiler.questionnaire.spec import MAX_SEED  # the store keeps seeds in a signed 64-bit integer
from profiler.store.store import Store

# Pseudonymous ids only: no spaces or '@', so that a name or an e-mail address is refused.
RESPONDENT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$")
MAX_TIME_MULTIPLIER = 10.0


class Session:
    """One respondent answering one questionnaire, recorded event by event in a :class:`~profiler.store.Store`.

    Create with :meth:`start`, continue with :meth:`resume`, read with :meth:`load`.

    Attributes
    ----------
    id : str
        The session id (32 hex digits).
    respondent : str
        Pseudonymous respondent id.
    questionnaire : Questionnaire
    language : str
    seed : int or None
        The seed that ordered the items (None for a fixed order).
    order : tuple of str
        Item ids in the order of administration, as recorded when the session started.

    Examples
    --------
    >>> import profiler
    >>> from profiler.store import Store
    >>> q = profiler.load_questionnaire("ipip-bfm-50")
    >>> session = Session.start(Store(), q, respondent="cand-0042", language="fr")
    >>> prompt = session.current()
    >>> prompt.item_id, prompt.options[0].label
    ('E1', 'Pas d’accord')
    >>> session.answer(4)
    >>> session.current().item_id
    'A1'
    """

    def __init__(self, store: Store, questionnaire: Questionnaire, record: dict,
                 events: list[Event] | tuple[Event, ...], clock: Callable[[], float], shown_at: float | None = None,
                 plan: AdaptivePlan | None = None, state: SessionState | None = None):
        # Private: use start(), resume() or load(), which check their input.
        self._store = store
        self.questionnaire = questionnaire
        self.id: str = record["id"]
        self.respondent: str = record["respondent"]
        self.language: str = record["language"]
        self.seed: int | None = record["seed"]
        self._fixed: tuple[str, ...] = tuple(record["item_order"])
        self._plan = plan
        self.started_at: datetime = record["started_at"]
        self.time_multiplier: float = float(record.get("time_multiplier") or 1.0)
        self._record_row = record
        self._order_text = json.dumps(list(self._fixed))  # as stored: what known.Known compares with the row read
        self._events = list(events)
        # ``state``: the fold of ``events`` already made (known.Known), copied: this session's changes stay its own.
        self._state = SessionState.replay(events) if state is None else state.copy()
        self._clock = clock
        self._shown_at = clock() if shown_at is None else shown_at
        self._page_of = _page_index(questionnaire, self._fixed) if plan is None else []

    @property
    def order(self) -> tuple[str, ...]:
        """Item ids in the order of administration: as recorded at the start; in an adaptive session the items
        of no adaptive scale, then each item its tests chose so far (it grows as they choose)."""
        return self._fixed if self._plan is None else self._fixed + tuple(self._state.selected)

    @property
    def adaptive_plan(self) -> AdaptivePlan | None:
        """The adaptive scales, their banks and rules (None: not an adaptive session)."""
        return self._plan

    @property
    def adaptive_complete(self) -> bool:
        """Whether every adaptive scale's test has stopped (True for a session that is not adaptive)."""
        return self._plan is None or self._state.stops >= len(self._plan.scales)

    def adaptive_scores(self) -> pd.DataFrame:
        """Per adaptive scale: EAP theta and its SE from the answers given, items given and answered, why the
        test stopped, the bank's sha256 (empty for a session that is not adaptive)."""
        if self._plan is None:
            return pd.DataFrame(columns=["theta", "se", "items", "answered", "stop", "bank"])
        return adaptive_scores(self._plan, self._state, self.seed)

    def __repr__(self) -> str:
        return (f"Session(id={self.id!r}, questionnaire={self.questionnaire.id!r}, respondent={self.respondent!r}, "
                f"position={self.position}/{len(self.order)}, status={self.status!r})")

    # Opening --------------------------------------------------------------------------------------------
    @classmethod
    def start(cls, store: Store, questionnaire: Questionnaire, *, respondent: str | None = None,
              language: str | None = None, seed: int | None = None, time_multiplier: float = 1.0,
              clock: Callable[[], float] = time.monotonic, connection: Connection | None = None) -> Session:
        """Start a new session and record it (with the questionnaire's content and the item order).

        Parameters
        ----------
        store : Store
        questionnaire : Questionnaire
        respondent : str, optional
            A pseudonymous id (letters, digits, ``_ . : -``; never a name or e-mail address). Default: a
            random one.
        language : str, optional
            One of the questionnaire's languages (default: its default language).
        seed : int, optional
            Seed of a random order (``order: random`` without a fixed seed); drawn with :mod:`secrets` when
            omitted. Ignored for a fixed order or when the questionnaire fixes the seed.
        time_multiplier : float
            Accommodation factor of the questionnaire's time limits (1 to 10; 1.5 gives half as much time
            again). Recorded with the session.
        clock : callable
            Monotonic clock in seconds (tests pass a fake one).
        connection : Connection, optional
            Record the start inside the caller's write transaction (e.g. with the consent that allows it).

        Raises
        ------
        SessionError
            An unknown language, a respondent id that is not a pseudonym, a seed or a time multiplier out of
            range.
        """
        time_multiplier = check_time_multiplier(time_multiplier)
        respondent = respondent if respondent is not None else "anon-" + secrets.token_hex(6)
        if not RESPONDENT_PATTERN.match(respondent):
            raise SessionError(f"respondent id {respondent!r} is not a pseudonymous id: use 1-64 letters, digits, "
                               "'_', '.', ':' or '-' (never a name or an e-mail address)")
        language = language or questionnaire.default_language
        if language not in questionnaire.languages:
            raise SessionError(f"questionnaire {questionnaire.id!r} is not offered in {language!r}; "
                               f"offered: {', '.join(questionnaire.languages)}")
        admin = questionnaire.spec.administration
        # An adaptive test draws (randomesque, Sympson-Hetter) from its seed, so it always has one.
        plan = adaptive_plan(questionnaire) if admin.adaptive is not None else None
        if admin.order == "random" or plan is not None:
            seed = admin.seed if admin.seed is not None else seed if seed is not None else secrets.randbits(63)
            if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= seed <= MAX_SEED:
                raise SessionError(f"seed must be a whole number from 0 to 2**63 - 1, got {seed!r}")
            seed = int(seed)
        else:
            seed = None
        order = questionnaire.item_order(seed if admin.order == "random" else None)
        if plan is not None:  # the items of no adaptive scale; the tests choose theirs as they go
            adaptive_items = {item for scale in plan.scales for item in scale.items}
            order = [item for item in order if item not in adaptive_items]
        record = {
            "id": uuid.uuid4().hex, "respondent": respondent, "content_hash": questionnaire.content_hash,
            "questionnaire_id": questionnaire.id, "questionnaire_version": questionnaire.version,
            "language": language, "seed": seed, "item_order": order,
            "status": "open", "expired": False, "started_at": datetime.now(UTC), "finished_at": None,
            "time_multiplier": time_multiplier, "banks": None if plan is None else plan.banks(),
        }
        session = cls(store, questionnaire, record, [], clock, plan=plan)
        if connection is None:
            try:
                with store.write() as own:
                    records.save_questionnaire(own, questionnaire)
                    for scale in plan.scales if plan is not None else ():
                        records.save_item_bank(own, scale.calibration)
            except IntegrityError:  # another process stored the same content at the same moment
                pass
            with store.write() as own:
                events = session._insert(own, record)
        else:
            records.save_questionnaire(connection, questionnaire)
            for scale in plan.scales if plan is not None else ():
                records.save_item_bank(connection, scale.calibration)
            events = session._insert(connection, record)
        session._apply(events)
        return session

    def _insert(self, connection: Connection, record: dict) -> list[Event]:
        """Insert the session's row and log its start, in the caller's transaction; the entry holds every column
        of the row, so that verify can check the row against it (profiler.store.consistency). An adaptive
        session without items before its tests records its first step too."""
        banks = record["banks"]
        records.insert_session(connection, **{**record, "item_order": json.dumps(record["item_order"]),
                                              "banks": None if banks is None else json.dumps(banks, sort_keys=True)})
        questionnaire = self.questionnaire
        _log(connection, self._store, "started", record["respondent"], {
            "session": record["id"], "questionnaire_id": questionnaire.id,
            "questionnaire_version": questionnaire.version, "content_hash": questionnaire.content_hash,
            "language": record["language"], "seed": record["seed"], "items": len(record["item_order"]),
            "item_order": record["item_order"], "started_at": record["started_at"],
            "time_multiplier": record["time_multiplier"], "banks": banks})
        events = self._steps_due(self._state, datetime.now(UTC))
        self._write(connection, events)
        return [event for event, _ in events]

    @classmethod
    def load(cls, store: Store, session_id: str, *, questionnaire: Questionnaire | None = None,
             clock: Callable[[], float] | None = None, shown_since_last_event: bool = False) -> Session:
        """Read a session as it stands (finished or not) without recording anything.

        The questionnaire is the one stored with the session; pass ``questionnaire`` to check that it is
        the same content. With ``shown_since_last_event`` the clock is the wall clock (``time.time``
        unless ``clock`` is given) and the current item counts as shown since the last recorded event (see
        the module docstring); otherwise since now, on a monotonic clock.

        Raises
        ------
        SessionError
            No such session, or ``questionnaire`` differs from the one the session was started with.
        """
        entry = known.recall(store, session_id)
        if entry is not None and (questionnaire is None
                                  or questionnaire.content_hash == entry.questionnaire.content_hash):
            with store.read(snapshot=False) as connection:  # one statement: the row and the events since
                found = records.load_session_since(connection, session_id, entry.seq)
            if found is None:
                known.forget(store, session_id)
                raise SessionError(f"no session {session_id!r} in {store.name}")
            row, newer = found
            entry = known.extend(entry, {**row, "item_order": entry.record["item_order"]}, row["item_order"], newer)
            if entry is not None:
                known.remember(store, session_id, entry)
                return cls._built(store, entry, clock, shown_since_last_event)
            known.forget(store, session_id)  # what was known no longer holds: read every event again
        with store.read() as connection:
            record = records.load_session(connection, session_id)
            if record is None:
                raise SessionError(f"no session {session_id!r} in {store.name}")
            events = records.load_events(connection, session_id)
            # The stored content is parsed only when no questionnaire is given (its hash is checked below).
            stored = records.load_questionnaire(connection, record["content_hash"]) if questionnaire is None else None
            banks = json.loads(record["banks"]) if record.get("banks") else None
            calibrations = records.load_item_banks(connection, sorted(set(banks.values()))) if banks else {}
        if questionnaire is not None and questionnaire.content_hash != record["content_hash"]:
            raise SessionError(
                f"session {session_id!r} was started with {record['questionnaire_id']} "
                f"{record['questionnaire_version']} ({record['content_hash'][:19]}...); the questionnaire given "
                f"is {questionnaire.id} {questionnaire.version} ({questionnaire.content_hash[:19]}...): a session "
                "continues with the content it started with"
            )
        questionnaire = questionnaire or stored
        plan = None
        if banks:  # an adaptive session continues with the banks it started with, stored with it
            missing = [sha for sha, found in calibrations.items() if found is None]
            if missing:
                raise SessionError(f"session {session_id!r} in {store.name}: its item bank {missing[0]} is missing")
            plan = adaptive_plan(questionnaire, {scale: calibrations[sha] for scale, sha in banks.items()})
        if questionnaire is None or (plan is None and sorted(record["item_order"]) != sorted(questionnaire.item_ids)) \
                or (plan is not None and not set(record["item_order"]) <= set(plan.fixed_items)):
            raise SessionError(f"session {session_id!r} in {store.name} is inconsistent with its questionnaire")
        entry = known.Known(record, json.dumps(record["item_order"]), tuple(events), SessionState.replay(events),
                            questionnaire, plan)
        known.remember(store, session_id, entry)
        return cls._built(store, entry, clock, shown_since_last_event)

    @classmethod
    def _built(cls, store: Store, entry: known.Known, clock: Callable[[], float] | None,
               shown_since_last_event: bool) -> Session:
        record, events = entry.record, entry.events
        if not shown_since_last_event:
            return cls(store, entry.questionnaire, record, events, clock or time.monotonic, plan=entry.plan,
                       state=entry.state)
        last = events[-1].recorded_at if events else record["started_at"]
        return cls(store, entry.questionnaire, record, events, clock or time.time, shown_at=last.timestamp(),
                   plan=entry.plan, state=entry.state)

    @classmethod
    def resume(cls, store: Store, session_id: str, *, questionnaire: Questionnaire | None = None,
               clock: Callable[[], float] | None = None, shown_since_last_event: bool = False) -> Session:
        """Continue a session where it stopped (same order, same answers), recording the resumption.

        The time since the last recorded event is not counted (a quit, a crash, a break between two
        sittings). ``clock`` and ``shown_since_last_event`` are those of :meth:`load`.

        Raises
        ------
        SessionError
            No such session, the session is finished, or ``questionnaire`` is not its content.
        """
        session = cls.load(store, session_id, questionnaire=questionnaire, clock=clock,
                           shown_since_last_event=shown_since_last_event)
        if session.finished:
            raise SessionError(f"session {session_id!r} is finished; it cannot be resumed")
        session._record("resume")
        session.check_time()
        return session

    # State ----------------------------------------------------------------------------------------------
    @property
    def position(self) -> int:
        """0-based position of the current item (``len(order)`` once past the last item)."""
        return self._state.position

    @property
    def finished(self) -> bool:
        return self._state.finished

    @property
    def expired(self) -> bool:
        """Whether the session's time limit was exceeded (no more answers are accepted)."""
        return self._state.expired

    @property
    def paused(self) -> bool:
        """Whether the respondent paused (saved and left) and the session was not resumed since."""
        return self._state.paused

    @property
    def seq(self) -> int:
        """Number of events recorded so far: a page built at one ``seq`` is out of date once it has grown."""
        return self._state.seq

    @property
    def time_limit_seconds(self) -> float | None:
        """The session's time limit: the questionnaire's, times :attr:`time_multiplier` (None: untimed)."""
        limit = self.questionnaire.spec.administration.time_limit_seconds
        return None if limit is None else limit * self.time_multiplier

    @property
    def item_time_limit_seconds(self) -> float | None:
        """The per-item limit that flags late answers, times :attr:`time_multiplier` (None: none)."""
        limit = self.questionnaire.spec.administration.item_time_limit_seconds
        return None if limit is None else limit * self.time_multiplier

    @property
    def status(self) -> str:
        """``"open"`` or ``"finished"``."""
        return "finished" if self._state.finished else "open"

    def elapsed_seconds(self) -> float:
        """Time on task: seconds items were on screen, including the current one (unless paused or finished)."""
        current = 0.0 if self.paused or self.finished else max(0.0, self._clock() - self._shown_at)
        return self._state.active_seconds + current

    def remaining_seconds(self) -> float | None:
        """Time left before the session's time limit (None without a limit; 0 once exceeded)."""
        limit = self.time_limit_seconds
        return None if limit is None else max(0.0, limit - self.elapsed_seconds())

    def current(self) -> Prompt | None:
        """The item to show now, in the session's language; None once past the last item."""
        if self.position >= len(self.order):
            return None
        item_id = self.order[self.position]
        q = self.questionnaire
        text, shown_language = item_text(q, item_id, self.language)
        page = self._page_of[self.position] if self._plan is None else 0
        blocks = q.spec.administration.blocks
        title = blocks[page].title if blocks else None
        return Prompt(
            item_id=item_id, text=text, language=shown_language, position=self.position,
            total=len(self.order) if self._plan is None else self._plan.max_items_after(self._fixed),
            options=options_of(q, item_id, self.language), number=number_range(q, item_id, self.language),
            required=q.is_required(item_id), answer=self._state.answers.get(item_id), page=page,
            pages=len(blocks) if blocks else 1,
            page_title=(title.get(self.language) or title.get(q.default_language)) if title else None,
            can_go_back=self._can_go_back(), can_skip=not q.is_required(item_id),
            remaining_seconds=self.remaining_seconds(), adaptive=self._plan is not None,
        )

    def answers(self) -> dict[str, float | None]:
        """Latest answer per item reached, in the order of administration (None: skipped)."""
        return {item: self._state.answers[item] for item in self.order if item in self._state.answers}

    def unanswered_required(self) -> list[str]:
        """Required items without an answer, in the order of administration."""
        return [item for item in self.order
                if self.questionnaire.is_required(item) and self._state.answers.get(item) is None]

    def responses(self) -> pd.DataFrame:
        """The answers as a one-row table (index: session id; columns: item ids; NaN: unanswered), ready for
        :meth:`Questionnaire.score`."""
        row = [self._state.answers.get(item) for item in self.questionnaire.item_ids]
        values = np.array([np.nan if v is None else v for v in row], dtype=float)[None, :]
        return pd.DataFrame(values, index=pd.Index([self.id], name="session_id"),
                            columns=self.questionnaire.item_ids)

    def timings(self) -> pd.DataFrame:
        """Seconds each item was on screen, summed over its visits, as a one-row table like :meth:`responses`
        (NaN: never shown); the ``timings`` of :func:`~profiler.administration.validity.assess_validity`."""
        seconds: dict[str, float] = {}
        for event in self._events:
            if event.item_id is not None and event.shown_seconds is not None:
                seconds[event.item_id] = seconds.get(event.item_id, 0.0) + event.shown_seconds
        values = np.array([seconds.get(item, np.nan) for item in self.questionnaire.item_ids], dtype=float)
        return pd.DataFrame(values[None, :], index=pd.Index([self.id], name="session_id"),
                            columns=self.questionnaire.item_ids)

    def history(self) -> pd.DataFrame:
        """Every recorded event in order (answers, changed answers, skips, moves, pauses, resumptions)."""
        columns = ["seq", "kind", "item_id", "position", "value", "shown_seconds", "item_time_exceeded",
                   "recorded_at"]
        return pd.DataFrame([[getattr(e, c) for c in columns] for e in self._events], columns=columns)

    # Actions --------------------------------------------------------------------------------------------
    def answer(self, value: float) -> None:
        """Record an answer to the current item and move to the next one.

        Raises
        ------
        AnswerError
            The item's format does not accept ``value`` (nothing is recorded).
        SessionExpiredError
            The time limit has passed (the answer is not counted).
        SessionError
            The session is finished or paused, or there is no current item.
        """
        item_id = self._current_item("answer")
        x = check_answer(self.questionnaire, item_id, value, self.language)
        self._record("answer", value=x)

    def skip(self) -> None:
        """Leave the current item unanswered and move on (not for required items; withdraws an earlier answer)."""
        item_id = self._current_item("skip")
        if self.questionnaire.is_required(item_id):
            raise SessionError(f"item {item_id!r} is required: it cannot be skipped", items=[item_id])
        self._record("skip")

    def forward(self) -> None:
        """Move past an item already answered or skipped (after going back), keeping its answer."""
        item_id = self._current_item("go forward")
        if item_id not in self._state.answers:
            raise SessionError(f"item {item_id!r} has not been answered yet: answer it"
                               + ("" if self.questionnaire.is_required(item_id) else " or skip it"), items=[item_id])
        self._record("forward")

    def back(self) -> None:
        """Go back to the previous item, where the questionnaire allows it (``allow_back``)."""
        self._check_open()
        if not self.questionnaire.spec.administration.allow_back:
            raise SessionError(f"questionnaire {self.questionnaire.id!r} does not allow going back")
        if self.position == 0:
            raise SessionError("already at the first item")
        self._record("back")

    def pause(self) -> None:
        """Stop here (the respondent quits); continue later with :meth:`resume`. Nothing is lost either way:
        this records the time the current item was on screen and ends this sitting."""
        if self.finished or self.paused:
            return
        self._record("pause")

    def finish(self) -> None:
        """Close the session.

        Raises
        ------
        SessionError
            Required items are unanswered (listed in the message and in ``.items``), unless the session
            expired: an expired session is closed with the answers it has.
        """
        if self.finished:
            raise SessionError(f"session {self.id!r} is already finished")
        if not self.paused:
            self._expire_if_over()
        if not self.adaptive_complete and not self.expired:
            raise SessionError(f"cannot finish: the adaptive test of {self._plan.scales[self._state.stops].scale!r} "
                               "has not reached its stopping rule; answer its items")
        missing = self.unanswered_required()
        if missing and not self.expired:
            shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
            raise SessionError(f"cannot finish: {len(missing)} required item(s) unanswered: {shown}", items=missing)
        self._record("finish", status="finished", finished_at=datetime.now(UTC))

    def check_time(self) -> bool:
        """Whether the session has expired; records the expiry first if the time limit has just passed.

        Call it before showing an item, so that a respondent is not shown an item they can no longer answer.
        """
        if not (self.finished or self.paused):
            self._expire_if_over()
        return self.expired

    # Internals ------------------------------------------------------------------------------------------
    def _can_go_back(self) -> bool:
        return self.questionnaire.spec.administration.allow_back and self.position > 0

    def _check_open(self) -> None:
        if self.finished:
            raise SessionError(f"session {self.id!r} is finished")
        if self.paused:
            raise SessionError(f"session {self.id!r} is paused: resume it to continue")
        if self.expired:
            raise SessionExpiredError(f"session {self.id!r} has expired: its time limit has passed")
        if self._expire_if_over():
            limit = self.time_limit_seconds
            raise SessionExpiredError(f"time is up: the time limit of {limit:g} s has passed; "
                                      "this answer is not counted and the session can only be finished")

    def _current_item(self, action: str) -> str:
        self._check_open()
        if self.position >= len(self.order):
            raise SessionError(f"cannot {action}: all {len(self.order)} items have been shown; finish the session"
                               + (" or go back" if self._can_go_back() else ""))
        return self.order[self.position]

    def _expire_if_over(self) -> bool:
        """Record that the time limit has passed, if it has and that is not recorded yet."""
        limit = self.time_limit_seconds
        if self.expired or limit is None or self.elapsed_seconds() <= limit:
            return False
        self._record("expire", expired=True)
        return True

    def _record(self, kind: str, *, value: float | None = None, **session_values: object) -> None:
        """Append one event (and any change of the session's row) in one committed transaction; in an adaptive
        session, with the steps it makes due (the next item, or the stop of a scale's test)."""
        now = self._clock()
        shown = None if kind == "resume" else max(0.0, now - self._shown_at)
        item_limit = self.item_time_limit_seconds
        event = Event(
            seq=self._state.seq + 1, kind=kind,
            item_id=self.order[self.position] if self.position < len(self.order) else None,
            position=self.position, value=value, shown_seconds=shown,
            item_time_exceeded=bool(kind in ("answer", "skip", "forward") and item_limit is not None
                                    and shown > item_limit),
            recorded_at=datetime.now(UTC),
        )
        events: list[tuple[Event, dict]] = [(event, session_values)]
        if self._plan is not None and kind in ("answer", "skip", "resume"):
            after = copy.deepcopy(self._state)
            after.apply(event)
            events += self._steps_due(after, event.recorded_at)
        try:
            with self._store.write() as connection:
                if session_values:
                    records.update_session(connection, self.id, **session_values)
                self._write(connection, events)
        except IntegrityError:
            raise SessionError(f"session {self.id!r} was changed by another process since it was opened here; "
                               "resume it again") from None
        self._apply([e for e, _ in events])
        self._shown_at = self._clock()  # the next item appears once the answer is safe

    def _steps_due(self, state: SessionState, moment: datetime) -> list[tuple[Event, dict]]:
        """The ``select`` events an adaptive session owes once the respondent is past its last known item."""
        if self._plan is None or state.finished or state.position < len(self._fixed) + len(state.selected):
            return []
        out = []
        trial = copy.deepcopy(state)
        for scale, step in next_steps(self._plan, state, self.seed):
            event = Event(seq=trial.seq + 1, kind="select", item_id=step["item"], position=trial.position,
                          recorded_at=moment)
            trial.apply(event)
            out.append((event, {"_step": {"scale": scale.scale, "bank": scale.calibration.sha256, "step": step}}))
        return out

    def _write(self, connection: Connection, events: list[tuple[Event, dict]]) -> None:
        """Insert events and log them (every column of the event's row and of the session's change, for verify
        to check; a step also logs what it computed)."""
        for event, extra in events:
            records.append_event(connection, self.id, event)
            step = extra.get("_step", {})
            values = {k: v for k, v in extra.items() if k != "_step"}
            # The same event in the hash-chained audit log, committed together with it (or not at all).
            _log(connection, self._store, event.kind, self.respondent, {
                "session": self.id, "seq": event.seq, "item": event.item_id, "position": event.position,
                "value": event.value, "shown_seconds": event.shown_seconds,
                "item_time_exceeded": event.item_time_exceeded, "recorded_at": event.recorded_at, **values, **step})

    def _apply(self, events: list[Event]) -> None:
        """Add events just committed; the next load in this process starts from here (known.py)."""
        for event in events:
            self._state.apply(event)
            self._events.append(event)
        known.remember(self._store, self.id, known.Known(self._record_row, self._order_text, tuple(self._events),
                                                         self._state.copy(), self.questionnaire, self._plan))


_EVENT_NAMES = {
    "started": "SESSION_STARTED", "answer": "SESSION_ANSWERED", "skip": "SESSION_SKIPPED",
    "forward": "SESSION_FORWARD", "back": "SESSION_BACK", "pause": "SESSION_PAUSED", "resume": "SESSION_RESUMED",
    "expire": "SESSION_EXPIRED", "finish": "SESSION_COMPLETED", "select": "SESSION_SELECTED",
}


def _log(connection, store: Store, kind: str, respondent: str, payload: dict) -> None:
    """Append the session event to the store's audit log inside the caller's transaction."""
    from profiler.store.audit_log import CANDIDATE_PATTERN, AuditEvent, AuditLog

    candidate = respondent if CANDIDATE_PATTERN.match(respondent) else None
    AuditLog(store).append(getattr(AuditEvent, _EVENT_NAMES[kind]), payload, actor="respondent",
                           candidate=candidate, connection=connection)


def check_time_multiplier(value: object) -> float:
    """``value`` as an accommodation factor of time limits: a number from 1 to 10.

    Raises
    ------
    SessionError
        Not a number, or out of range.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating) \
            or not 1.0 <= float(value) <= MAX_TIME_MULTIPLIER:
        raise SessionError(f"time multiplier must be a number from 1 to {MAX_TIME_MULTIPLIER:g} (1.5 gives half as "
                           f"much time again), got {value!r}")
    return float(value)


def _page_index(questionnaire: Questionnaire, order: tuple[str, ...]) -> list[int]:
    """The page (block) of each position of ``order``."""
    blocks = questionnaire.spec.administration.blocks
    if not blocks:
        return [0] * len(order)
    page_of_item = {item: page for page, block in enumerate(blocks) for item in block.items}
    return [page_of_item[item] for item in order]
