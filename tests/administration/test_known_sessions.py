"""The per-process shortcut of Session.load (profiler.administration.known): a session loaded from what this
process knows plus the events stored since is the session a full replay of every stored event gives, whoever
wrote those events (this process, another one, another tab); and the store stays the authority."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event as sa_event

import profiler
from profiler.administration import Session, SessionError, known
from profiler.store import Store
from tests.conftest import sql


@pytest.fixture(scope="module")
def ipip():
    return profiler.load_questionnaire("ipip-bfm-50")


def replayed(store: Store, session_id: str, **options) -> Session:
    """The session as a full replay of every stored event gives it (nothing known beforehand)."""
    known.forget(store, session_id)
    session = Session.load(store, session_id, **options)
    known.forget(store, session_id)
    return session


def state_of(session: Session) -> tuple:
    history = session.history()
    return (session.seq, session.position, session.order, session.answers(), session.finished, session.paused,
            session.expired, session.current().item_id if session.current() else None,
            [tuple(None if v != v else v for v in row) for row in history.itertuples(index=False)],  # NaN: None
            session.started_at, session.language, session.seed, session.time_multiplier)


def statements(store: Store) -> list[str]:
    """Every statement the store's engine runs from now on (appended as they run)."""
    seen: list[str] = []
    sa_event.listen(store.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


@pytest.fixture(scope="module")
def mini():
    return profiler.load_questionnaire(Path(__file__).parents[1] / "fixtures" / "questionnaires" / "mini.yaml")


def check_each_step(store: Store, session: Session, actions: list[tuple[str, object]]) -> None:
    for name, value in actions:
        getattr(session, name)(*(() if value is None else (value,)))
        fast = Session.load(store, session.id, shown_since_last_event=True, clock=lambda: 0.0)
        full = replayed(store, session.id, shown_since_last_event=True, clock=lambda: 0.0)
        assert state_of(fast) == state_of(full) == state_of(session)
        # The time on task (each event's time on screen, and the current item's since the last event) too.
        assert fast.elapsed_seconds() == full.elapsed_seconds() and fast.remaining_seconds() == full.remaining_seconds()


def test_a_known_session_loads_as_a_full_replay_gives_it_after_every_kind_of_event(store, ipip, mini):
    session = Session.start(store, ipip, respondent="cand-0001", language="fr", seed=7)
    check_each_step(store, session, [("answer", 3), ("answer", 5), ("back", None), ("back", None), ("answer", 1),
                                     ("forward", None),
                                     ("pause", None)])
    resumed = Session.resume(store, session.id)
    resumed.answer(4)
    assert state_of(Session.load(store, session.id)) == state_of(replayed(store, session.id)) == state_of(resumed)
    skipping = Session.start(store, mini, seed=1, time_multiplier=1.5)  # T3 (optional) first
    check_each_step(store, skipping, [("skip", None), ("answer", 2)])
    while skipping.position < len(skipping.order):
        skipping.answer(3)
    check_each_step(store, skipping, [("finish", None)])
    assert Session.load(store, skipping.id).finished


def test_a_known_session_reads_only_the_events_since_in_one_statement(store, ipip):
    session = Session.start(store, ipip)
    for value in (1, 2, 3, 4):
        session.answer(value)
    seen = statements(store)
    loaded = Session.load(store, session.id)
    selects = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1 and "session_events.seq >=" in selects[0]  # the row and the events since, at once
    assert loaded.seq == 4 and loaded.answers() == session.answers()


def test_events_written_by_another_process_are_read_and_added(store_location, ipip):
    # Two stores on one database each keep their own knowledge, as two server processes do.
    with Store(store_location) as here, Store(store_location) as there:
        session = Session.start(here, ipip, seed=3)
        session.answer(2)
        assert Session.load(here, session.id).seq == 1  # known here at seq 1
        elsewhere = Session.load(there, session.id)
        elsewhere.answer(4)
        elsewhere.back()
        elsewhere.answer(5)
        fast = Session.load(here, session.id)
        assert state_of(fast) == state_of(replayed(here, session.id)) == state_of(elsewhere)
        assert fast.answers() == {"E1": 2.0, "A1": 5.0}
        # A page built on the old state cannot record: the stored seq decides (a double submit, a second tab).
        with pytest.raises(SessionError, match="changed by another process"):
            session.answer(1)
        assert Session.load(here, session.id).seq == 4


def test_the_store_stays_the_authority(store, ipip):
    session = Session.start(store, ipip)
    for value in (1, 2, 3):
        session.answer(value)
    assert known.recall(store, session.id).seq == 3
    # The last known event is gone (a store restored from an older copy): every event is read again.
    sql(store, "DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)")
    sql(store, "DELETE FROM session_events WHERE session_id = :s AND seq = 3", s=session.id)
    loaded = Session.load(store, session.id)
    assert known.recall(store, session.id).seq == 2
    assert loaded.seq == 2 and state_of(loaded) == state_of(replayed(store, session.id))
    # The last known event was changed behind profiler's back: read again, not taken from memory.
    sql(store, "UPDATE session_events SET value = 5 WHERE session_id = :s AND seq = 2", s=session.id)
    assert Session.load(store, session.id).answers()["A1"] == 5.0
    # The session is gone (erased): no state from memory.
    sql(store, "DELETE FROM session_events WHERE session_id = :s", s=session.id)
    sql(store, "DELETE FROM sessions WHERE id = :s", s=session.id)
    with pytest.raises(SessionError, match="no session"):
        Session.load(store, session.id)
    assert known.recall(store, session.id) is None


def test_another_questionnaire_is_refused_as_without_the_shortcut(store, ipip, mini):
    session = Session.start(store, ipip)
    session.answer(3)
    assert known.recall(store, session.id) is not None
    with pytest.raises(SessionError, match="continues with the content it started with"):
        Session.load(store, session.id, questionnaire=mini)
