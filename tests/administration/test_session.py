"""Sessions: prompts, order, navigation rules, answer validation, timing, finishing and resuming."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

import profiler
from profiler.administration import AnswerError, Session, SessionError, SessionExpiredError
from profiler.errors import ProfilerError
from profiler.store import Store

MINI = Path(__file__).parents[1] / "fixtures" / "questionnaires" / "mini.yaml"

YES_NO = """
id: yn
version: "1"
title: {en: Yes or no}
default_language: en
languages: {en: {status: original}, fr: {status: unvalidated}}
response_formats:
  yn: {type: yes_no}
  rate: {type: number, min: 0, max: 10}
defaults: {response_format: yn, required: false}
items:
  - {id: Q1, text: {en: "Do you like teams?", fr: "Aimez-vous les équipes ?"}}
  - {id: Q2, text: {en: "How much?", fr: "Combien ?"}, format: rate}
scales:
  - {id: Teams, keys: [Q1, Q2]}
administration:
  order: random
  seed: 3  # puts Q2 first
  item_time_limit_seconds: 10
"""


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="module")
def ipip():
    return profiler.load_questionnaire("ipip-bfm-50")


@pytest.fixture(scope="module")
def mini():
    return profiler.load_questionnaire(MINI)


@pytest.fixture(scope="module")
def yes_no():
    return profiler.parse_questionnaire(YES_NO)


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def any_store(request, tmp_path):
    """The same test in memory, in a SQLite file and on PostgreSQL."""
    location = {"memory": lambda: None, "sqlite": lambda: tmp_path / "s.db",
                "postgresql": lambda: request.getfixturevalue("postgres_location")}[request.param]()
    with Store(location) as opened:
        yield opened


# Starting and prompts -------------------------------------------------------------------------------------
def test_a_session_records_what_was_administered(any_store, ipip):
    session = Session.start(any_store, ipip, respondent="cand-0042", language="fr")
    with any_store.read() as connection:
        row = connection.exec_driver_sql("SELECT * FROM sessions").mappings().one()
        document = connection.exec_driver_sql("SELECT document FROM questionnaires").scalar_one()
    assert (row["questionnaire_id"], row["questionnaire_version"], row["content_hash"]) == (
        ipip.id, ipip.version, ipip.content_hash)
    assert (row["respondent"], row["language"], row["status"], row["seed"]) == ("cand-0042", "fr", "open", None)
    assert json.loads(row["item_order"]) == ipip.item_ids == list(session.order)
    # The stored content is exactly what the hash identifies, so what was shown can be shown again.
    reloaded = Session.load(any_store, session.id).questionnaire
    assert reloaded.content_hash == ipip.content_hash and json.loads(document)["id"] == ipip.id


def test_prompt_in_the_respondents_language(store, ipip):
    prompt = Session.start(store, ipip, language="fr").current()
    assert (prompt.item_id, prompt.text, prompt.language) == ("E1", ipip.text("E1", "fr"), "fr")
    assert [o.key for o in prompt.options] == [1, 2, 3, 4, 5]
    assert [o.value for o in prompt.options] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert prompt.options[0].label == "Pas d’accord"
    assert (prompt.position, prompt.total, prompt.required, prompt.can_skip, prompt.can_go_back) == (
        0, 50, True, False, False)
    assert prompt.answer is None and prompt.remaining_seconds is None and prompt.number is None


def test_missing_translation_falls_back_to_the_default_language(store, mini):
    session = Session.start(store, mini, language="de", seed=1)
    assert session.order[0] == "T3"  # T3 has no German text
    prompt = session.current()
    assert (prompt.text, prompt.language) == (mini.text("T3", "en"), "en")
    assert prompt.options[3].label == "Stimme zu"  # the labels exist in German


def test_number_and_yes_no_prompts(store, mini, yes_no):
    session = Session.start(store, mini, seed=1)
    for value in [3, 3, 3, 3, 3, 4, 3]:
        session.answer(value)
    prompt = session.current()
    assert prompt.item_id == "TEN" and prompt.options == ()
    assert (prompt.number.min, prompt.number.max, prompt.number.integer, prompt.number.unit) == (0, 50, True, "years")
    assert (prompt.page, prompt.pages) == (1, 2)
    assert prompt.parse(" 12 ") == 12.0
    session = Session.start(store, yes_no, language="fr")
    session.answer(2.5)
    prompt = session.current()
    assert prompt.item_id == "Q1"
    assert [(o.key, o.value, o.label) for o in prompt.options] == [(1, 1.0, "Oui"), (2, 0.0, "Non")]
    assert prompt.parse("2") == 0.0


def test_prompt_parse_refuses_unknown_keys(store, ipip):
    prompt = Session.start(store, ipip).current()
    assert prompt.parse("5") == 5.0
    for typed in ["0", "6", "x", "", "4.0"]:
        with pytest.raises(AnswerError, match=r"item 'E1'.*allowed: 1 \(Disagree\)"):
            prompt.parse(typed)


def test_respondent_ids_are_pseudonyms_and_languages_are_checked(store, ipip):
    assert Session.start(store, ipip).respondent.startswith("anon-")
    for bad in ["Jane Doe", "jane@example.org", "", "x" * 65]:
        with pytest.raises(SessionError, match="pseudonymous"):
            Session.start(store, ipip, respondent=bad)
    with pytest.raises(SessionError, match="not offered in 'es'; offered: en, fr, de"):
        Session.start(store, ipip, language="es")


# Order ----------------------------------------------------------------------------------------------------
def test_random_order_is_reproducible_from_the_recorded_seed(store, mini):
    first, again, other = (Session.start(store, mini, seed=s) for s in (11, 11, 12))
    assert first.order == again.order == tuple(mini.item_order(11))
    assert first.order != other.order
    assert first.order[-1] == "TEN"  # blocks keep their order; items shuffle within them
    drawn = Session.start(store, mini)
    assert isinstance(drawn.seed, int) and 0 <= drawn.seed < 2**63
    assert drawn.order == tuple(mini.item_order(drawn.seed))
    assert Session.load(store, drawn.id).seed == drawn.seed
    with pytest.raises(SessionError, match="seed"):
        Session.start(store, mini, seed=-1)


def test_fixed_order_and_questionnaire_seed(store, ipip, yes_no):
    assert Session.start(store, ipip, seed=5).seed is None  # a fixed order needs no seed
    session = Session.start(store, yes_no, seed=123)
    assert session.seed == 3 and session.order == ("Q2", "Q1")  # the questionnaire's seed wins


def test_resume_keeps_order_position_and_answers(any_store, mini):
    session = Session.start(any_store, mini, seed=3)
    for value in (1, 2, 3):
        session.answer(value)
    resumed = Session.resume(any_store, session.id)
    assert resumed.order == session.order and resumed.seed == 3
    assert resumed.position == 3 and resumed.current().item_id == session.order[3]
    assert resumed.answers() == session.answers() == dict(zip(session.order[:3], [1.0, 2.0, 3.0], strict=True))
    assert resumed.questionnaire.content_hash == mini.content_hash
    assert resumed.history()["kind"].tolist() == ["answer"] * 3 + ["resume"]


def test_resume_refusals(store, mini, ipip):
    with pytest.raises(SessionError, match="no session 'nope'"):
        Session.resume(store, "nope")
    session = Session.start(store, mini, seed=1)
    with pytest.raises(SessionError, match="was started with team-climate-mini 0.3.*continues with the content"):
        Session.resume(store, session.id, questionnaire=ipip)
    Session.resume(store, session.id, questionnaire=mini)  # the same content is fine


# Navigation -----------------------------------------------------------------------------------------------
def test_back_where_allowed_and_changed_answers_keep_their_history(any_store, ipip):
    session = Session.start(any_store, ipip)
    session.answer(2)
    session.answer(4)
    session.back()
    assert session.current().item_id == "A1" and session.current().answer == 4.0
    session.answer(5)  # a changed answer
    session.back()
    session.back()
    with pytest.raises(SessionError, match="already at the first item"):
        session.back()
    session.forward()  # keep E1's answer
    session.forward()
    assert session.current().item_id == "C1"
    assert session.answers() == {"E1": 2.0, "A1": 5.0}
    history = session.history()
    assert history["kind"].tolist() == ["answer", "answer", "back", "answer", "back", "back", "forward", "forward"]
    a1 = history[(history["item_id"] == "A1") & (history["kind"] == "answer")]
    assert a1["value"].tolist() == [4.0, 5.0]  # both answers remain recorded; the latest counts
    assert history["seq"].tolist() == list(range(1, 9))


def test_no_going_back_when_the_questionnaire_forbids_it(store, mini):
    session = Session.start(store, mini, seed=1)
    session.answer(3)
    with pytest.raises(SessionError, match="does not allow going back"):
        session.back()
    assert not session.current().can_go_back


def test_skip_rules(store, mini):
    session = Session.start(store, mini, seed=1)  # T3 (optional) first, then S1 (required)
    session.skip()
    assert session.answers() == {"T3": None}
    with pytest.raises(SessionError, match="'S1' is required: it cannot be skipped") as info:
        session.skip()
    assert info.value.items == ["S1"]
    with pytest.raises(SessionError, match="'S1' has not been answered yet: answer it$"):
        session.forward()


def test_a_skip_withdraws_an_earlier_answer(store, yes_no):
    session = Session.start(store, yes_no)
    session.answer(5)
    session.back()
    session.skip()  # the latest counts: Q2 is unanswered now, and both events remain
    assert session.answers() == {"Q2": None}
    assert session.history()[["kind", "value"]].fillna(-1).values.tolist() == [["answer", 5.0], ["back", -1],
                                                                              ["skip", -1]]


def test_nothing_to_answer_past_the_last_item(store, yes_no):
    session = Session.start(store, yes_no)
    for item in session.order:
        session.answer(1)
    assert session.current() is None
    with pytest.raises(SessionError, match="all 2 items have been shown; finish the session or go back"):
        session.answer(1)
    session.back()
    assert session.current().item_id == session.order[-1]


# Validation -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [0, 6, 2.5, "3", None, True, math.nan])
def test_likert_answers_outside_the_options_are_refused(store, ipip, value):
    session = Session.start(store, ipip)
    with pytest.raises(AnswerError) as info:
        session.answer(value)
    error = info.value
    assert isinstance(error, ProfilerError) and isinstance(error, ValueError)
    assert error.item == "E1" and error.value is value
    assert str(error).startswith(f"item 'E1': {value!r} ") and "; allowed: 1 (Disagree), 2 (" in str(error)
    assert session.history().empty and session.position == 0  # nothing recorded


def test_number_and_yes_no_validation(store, mini, yes_no):
    session = Session.start(store, mini, seed=1)
    for _ in range(7):
        session.answer(4)
    for value in [-1, 51, 3.5, math.inf, math.nan, "12"]:
        with pytest.raises(AnswerError, match=r"item 'TEN'.*allowed: a whole number from 0 to 50 \(years\)"):
            session.answer(value)
    session.answer(np.int64(12))
    assert session.answers()["TEN"] == 12.0
    session = Session.start(store, yes_no)
    session.answer(2.5)  # Q2 accepts any number from 0 to 10
    with pytest.raises(AnswerError, match=r"allowed: 1 \(Yes\), 0 \(No\)"):
        session.answer(2)
    session.answer(False)
    assert session.answers()["Q1"] == 0.0


# Time -----------------------------------------------------------------------------------------------------
def test_each_event_records_how_long_its_item_was_shown(any_store, ipip):
    clock = FakeClock()
    session = Session.start(any_store, ipip, clock=clock)
    clock.advance(3.5)
    session.answer(3)
    clock.advance(1.25)
    session.back()
    clock.advance(2.0)
    session.answer(4)
    assert session.history()["shown_seconds"].tolist() == [3.5, 1.25, 2.0]
    timings = session.timings()
    assert timings.index.tolist() == [session.id] and timings.columns.tolist() == ipip.item_ids
    assert timings.loc[session.id, "E1"] == 3.5 + 2.0 and timings.loc[session.id, "A1"] == 1.25  # E1 seen twice
    assert timings.drop(columns=["E1", "A1"]).isna().all(axis=None)  # never shown
    assert session.elapsed_seconds() == pytest.approx(6.75)
    clock.advance(9.0)
    session.pause()
    clock.advance(500.0)  # away: not time on task
    resumed = Session.resume(any_store, session.id, clock=clock)
    clock.advance(1.0)
    assert resumed.elapsed_seconds() == pytest.approx(16.75)
    assert resumed.history()["kind"].tolist()[-2:] == ["pause", "resume"]
    assert math.isnan(resumed.history()["shown_seconds"].iloc[-1])  # the resumption has no duration


def test_item_time_limit_flags_slow_answers(store, yes_no):
    clock = FakeClock()
    session = Session.start(store, yes_no, clock=clock)
    clock.advance(10.5)  # limit 10 s
    session.answer(3)
    clock.advance(2)
    session.answer(1)
    assert session.history()["item_time_exceeded"].tolist() == [True, False]
    assert len(session.answers()) == 2  # flagged answers still count


def test_session_time_limit_expires_the_session_but_it_can_be_finished(any_store, mini):
    clock = FakeClock()
    session = Session.start(any_store, mini, seed=1, clock=clock)  # limit 600 s
    clock.advance(100)
    session.answer(2)
    assert session.remaining_seconds() == pytest.approx(500)
    assert session.current().remaining_seconds == pytest.approx(500)
    clock.advance(501)
    with pytest.raises(SessionExpiredError, match="time limit of 600 s has passed"):
        session.answer(3)
    assert session.expired and session.answers() == {"T3": 2.0}  # the late answer is not counted
    assert session.remaining_seconds() == 0
    with pytest.raises(SessionExpiredError):
        session.answer(3)
    with pytest.raises(SessionExpiredError):
        Session.resume(any_store, session.id).answer(3)
    finished = Session.resume(any_store, session.id)
    finished.finish()  # required items unanswered, but the time is up
    assert finished.finished and finished.expired
    with any_store.read() as connection:
        row = connection.execute(text("SELECT status, expired, finished_at FROM sessions WHERE id = :id"),
                                 {"id": session.id}).one()
    assert (row[0], bool(row[1])) == ("finished", True) and row[2] is not None
    assert finished.history()["kind"].tolist() == ["answer", "expire", "resume", "resume", "finish"]


# Finishing ------------------------------------------------------------------------------------------------
def test_finish_refuses_while_required_items_are_unanswered(any_store, mini):
    session = Session.start(any_store, mini, seed=1)
    session.skip()
    session.answer(4)
    with pytest.raises(SessionError, match=r"cannot finish: 5 required item\(s\) unanswered: S2, T2, S3, ATT1, T1")\
            as info:
        session.finish()
    assert info.value.items == ["S2", "T2", "S3", "ATT1", "T1"]
    for _ in range(5):
        session.answer(4)
    assert session.unanswered_required() == []
    session.finish()  # TEN (optional) is left: finishing early is fine
    assert session.status == "finished"
    for action in (session.back, session.skip, session.finish, lambda: session.answer(1)):
        with pytest.raises(SessionError, match="finished"):
            action()
    with pytest.raises(SessionError, match="is finished; it cannot be resumed"):
        Session.resume(any_store, session.id)
    loaded = Session.load(any_store, session.id)
    assert loaded.finished and loaded.answers() == session.answers()
    scores = mini.score(loaded.responses(), invalid="missing")
    assert scores.index.tolist() == [session.id] and scores.loc[session.id, "Voice"] == pytest.approx(10 / 3)


def test_responses_feed_scoring(store, ipip):
    rng = np.random.default_rng(0)
    session = Session.start(store, ipip)
    values = rng.integers(1, 6, size=50)
    for value in values:
        session.answer(int(value))
    session.finish()
    responses = session.responses()
    assert responses.columns.tolist() == ipip.item_ids and responses.to_numpy()[0].tolist() == values.tolist()
    expected = ipip.score(responses)
    assert not expected.isna().any(axis=None)


def test_a_paused_session_refuses_actions_until_resumed(store, ipip):
    session = Session.start(store, ipip)
    session.pause()
    session.pause()  # once is enough
    with pytest.raises(SessionError, match="paused: resume it"):
        session.answer(3)
    Session.resume(store, session.id).answer(3)
    assert session.history()["kind"].tolist() == ["pause"]


def test_two_writers_on_one_session_never_double_an_event(tmp_path, ipip):
    with Store(tmp_path / "s.db") as store:
        session = Session.start(store, ipip)
        other = Session.resume(store, session.id)
        other.answer(5)
        with pytest.raises(SessionError, match="changed by another process"):
            session.answer(1)
    with sqlite3.connect(tmp_path / "s.db") as connection:
        rows = connection.execute("SELECT seq, kind, value FROM session_events ORDER BY seq").fetchall()
    assert rows == [(1, "resume", None), (2, "answer", 5.0)]


def test_responses_and_timings_feed_the_validity_check(store, mini):
    from profiler.administration.validity import assess_validity

    clock = FakeClock()
    session = Session.start(store, mini, seed=1, clock=clock)  # ATT1 (expects 4) comes sixth
    for value in [3, 3, 3, 3, 3, 4, 3, 12]:
        clock.advance(4.0)
        session.answer(value)
    session.finish()
    seeds = pd.Series({session.id: session.seed})
    result = assess_validity(mini, session.responses(), session.timings(), calibration=None, seeds=seeds)
    assert result.index.tolist() == [session.id]
    assert result.loc[session.id, "seconds_per_item"] == pytest.approx(4.0)
    assert result.loc[session.id, "attention_checks_failed"] == 0
