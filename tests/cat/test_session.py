"""Adaptive administration in a Session: items chosen step by step, every step recorded and logged, resumable
with the same items, replayable, verifiable, terminal-driven and assessed with theta and SE per scale."""

from __future__ import annotations

import sqlite3

import pytest

from profiler.administration import Session, SessionError
from profiler.administration import replay_session
from profiler.administration.adaptive import category_code
from profiler.cli import main
from profiler.oversight import AuditLog
from profiler.questionnaire.loader import load_questionnaire
from profiler.store import Store

from .conftest import ipip_cat_yaml


def answer_of(item: str) -> float:
    """A respondent whose answer depends on the item alone, so that runs can be compared."""
    return float(sum(map(ord, item)) % 5 + 1)


def run(session: Session, stop_after: int | None = None) -> Session:
    given = 0
    while (prompt := session.current()) is not None and (stop_after is None or given < stop_after):
        session.answer(answer_of(prompt.item_id))
        given += 1
    return session


def test_an_adaptive_session_step_by_step(facet_questionnaire, tmp_path):
    with Store(tmp_path / "s.db") as store:
        session = Session.start(store, facet_questionnaire, respondent="cand-1", seed=42)
        assert session.order == ("X1", "AC") and session.current().item_id == "X1"
        assert session.current().adaptive and session.current().total == 2 + 8
        run(session)
        plan = session.adaptive_plan
        assert session.adaptive_complete and 2 + 3 <= len(session.order) <= 10
        given = session.order[2:]
        assert {plan.scales[0].engine.facet_names[plan.scales[0].engine.facet_of[plan.scales[0].items.index(i)]]
                for i in given} == {"Warmth", "Energy", "Cheer"}  # each_facet: 1
        history = session.history()
        steps = history[history["kind"] == "select"]
        assert list(steps["item_id"].dropna()) == list(given) and steps["item_id"].isna().sum() == 1
        scores = session.adaptive_scores().loc["Sociability"]
        assert scores["items"] == len(given) and scores["stop"] in ("se", "max_items")
        session.finish()
        # The log holds each step: theta, SE, candidates considered, the draw, the item chosen.
        entries = [e for e in AuditLog(store).entries() if e.event == "session.item_selected"]
        assert len(entries) == len(steps)
        first = entries[0].payload
        assert first["scale"] == "Sociability" and first["item"] == given[0] and first["step"]["rule"] == "randomesque"
        assert len(first["step"]["candidates"]) == 2 and len(first["step"]["draws"]) == 1
        assert entries[-1].payload["item"] is None and entries[-1].payload["step"]["stop"] in ("se", "max_items")
        # theta and SE after each answer: step k's estimate is the EAP of the first k answers
        scale = plan.scales[0]
        answers = session.answers()
        for k, entry in enumerate(entries):
            so_far = [(i, category_code(scale, i, answers[i])) for i in given[:k]]
            assert entry.payload["step"]["items_given"] == k
            assert abs(entry.payload["step"]["theta"] - scale.engine.step(so_far, 0)["theta"]) < 1e-12
        assert entries[-1].payload["step"]["se"] == scores["se"]
        assert scores["se"] <= 0.45 or scores["items"] == 8
        assert replay_session(store, session.id).ok
        assert AuditLog(store).verify().ok


def test_a_resumed_session_continues_with_the_same_items(facet_questionnaire, tmp_path):
    with Store(tmp_path / "s.db") as store:
        whole = run(Session.start(store, facet_questionnaire, respondent="cand-1", seed=7))
        part = run(Session.start(store, facet_questionnaire, respondent="cand-2", seed=7), stop_after=4)
        part.pause()
        for _ in range(3):  # resumed in fresh objects, a step at a time
            part = run(Session.resume(store, part.id), stop_after=1)
            part.pause()
        part = run(Session.resume(store, part.id))
        assert part.order == whole.order
        assert part.adaptive_scores().equals(whole.adaptive_scores())
        other = run(Session.start(store, facet_questionnaire, respondent="cand-3", seed=8))
        assert replay_session(store, other.id).ok and replay_session(store, part.id).ok


def test_finishing_before_the_test_stops_is_refused(facet_questionnaire, tmp_path):
    with Store(tmp_path / "s.db") as store:
        session = run(Session.start(store, facet_questionnaire, seed=1), stop_after=3)
        with pytest.raises(SessionError, match="adaptive test of 'Sociability' has not reached its stopping rule"):
            session.finish()
        with pytest.raises(SessionError, match="does not allow going back"):
            session.back()


def test_replay_and_verify_name_a_forged_step(facet_questionnaire, tmp_path):
    path = tmp_path / "s.db"
    with Store(path) as store:
        session = run(Session.start(store, facet_questionnaire, respondent="cand-1", seed=3))
        session.finish()
    chosen = session.order[3]
    other = next(i for i in session.adaptive_plan.scales[0].items if i not in session.order)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE session_events SET item_id = ? WHERE item_id = ? AND kind = 'select'",
                           (other, chosen))
        connection.execute("UPDATE session_events SET item_id = ? WHERE item_id = ? AND kind = 'answer'",
                           (other, chosen))
    with Store(path, create=False) as store:
        replay = replay_session(store, session.id)
        assert not replay.ok and f"recorded item {other!r}, recomputed {chosen!r}" in replay.problems[0]
        assert not AuditLog(store).verify().ok


def test_the_banks_travel_with_the_session(facet_questionnaire, tmp_path):
    with Store(tmp_path / "s.db") as store:
        session = run(Session.start(store, facet_questionnaire, seed=5), stop_after=4)
        (tmp_path / "irt" / "Sociability.json").unlink()  # the file is gone: the stored bank carries on
        resumed = run(Session.resume(store, session.id))
        assert resumed.adaptive_complete


def test_take_administers_adaptively(tmp_path, capsys, monkeypatch):
    path = tmp_path / "ipip-bfm-50-cat.yaml"
    path.write_text(ipip_cat_yaml("    bank: ipip-bfm-50\n    stop: {se: 0.5, max_items: 3}"))
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("4\n" * 15))
    assert main(["take", str(path), "--db", str(tmp_path / "t.db"), "--seed", "9"]) == 0
    out = capsys.readouterr().out
    assert "at most 15 items; adaptive: Extraversion, Neuroticism, Agreeableness, Conscientiousness, Openness" in out
    assert "1/at most 15" in out and "(3 items, adaptive)" in out
    assert "Scale scores (adaptive scales: EAP theta and SE):" in out
    with Store(tmp_path / "t.db") as store:
        q = load_questionnaire(path)
        session_id = store.engine.connect().exec_driver_sql("SELECT id FROM sessions").scalar()
        assert Session.load(store, session_id, questionnaire=q).finished
        assert replay_session(store, session_id).ok


def test_verify_names_an_edited_or_deleted_item_bank(facet_questionnaire, tmp_path):
    path = tmp_path / "s.db"
    with Store(path) as store:
        session = run(Session.start(store, facet_questionnaire, respondent="cand-1", seed=4))
        session.finish()
        assert AuditLog(store).verify().ok
    sha = session.adaptive_plan.scales[0].calibration.sha256
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE item_banks SET document = replace(document, '\"a\":', '\"a\": 0.01 +')")
    with Store(path, create=False) as store:
        problems = AuditLog(store).verify().problems
        assert any(f"item_banks row {sha}: its document is not the sealed artifact" in p for p in problems)
    with sqlite3.connect(path) as connection:
        connection.execute("DELETE FROM item_banks")
    with Store(path, create=False) as store:
        problems = AuditLog(store).verify().problems
        assert any(f"item_banks row {sha}, the bank of session {session.id}, is missing" in p for p in problems)
        with pytest.raises(SessionError, match=f"its item bank {sha} is missing"):
            Session.resume(store, session.id)



def test_an_adaptive_session_is_assessed_with_irt_scores_and_each_persons_sem(tmp_path, monkeypatch):
    """The adaptive IPIP-50 with norms built for it and the customer-support job model: the profile's adaptive
    scales are the expected raw score at the session's theta with its own SEM, and the recommendation uses them."""
    import numpy as np

    import profiler
    from profiler.jobmodel import load_job_model
    from profiler.norms import TraitProfile, build_norms, irt_norm_profiles
    from profiler.oversight import Candidates
    from profiler.pipeline.assessment import assess_candidate
    from profiler.resources import bundled_dir

    path = tmp_path / "ipip-bfm-50-cat.yaml"
    path.write_text(ipip_cat_yaml("    bank: ipip-bfm-50\n    stop: {se: 0.45, max_items: 6}"))
    q = load_questionnaire(path)
    norms = build_norms(q, profiler.simulate_responses(q, 800, seed=2), name="simulated", version="1.0.0",
                        title="simulated", population="simulated respondents", collected="2026",
                        sampling="simulated", source="profiler.simulate_responses").write(tmp_path / "norms.json")
    job = (bundled_dir("models") / "jobs" / "customer-support.yaml").read_text(encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # the job model names its norm table by a path
    job = job.replace("questionnaire: ipip-bfm-50\nnorms: general\n", f"questionnaire: ipip-bfm-50-cat\nnorms: {norms.name}\n")
    (tmp_path / "job.yaml").write_text(job)
    job_model = load_job_model(tmp_path / "job.yaml", questionnaire=q)
    evidence = {"email_work_sample": {"kind": "test_score", "score": 70, "date": "2026-05-01", "source": "rater pair"}}
    with Store(tmp_path / "s.db") as store:
        candidate = Candidates(store).register(actor="hr:kim", candidate_id="cand-1").id
        session = run(Session.start(store, q, respondent=candidate, seed=2))
        session.finish()
        result = assess_candidate(store, candidate, job_model, session, evidence, as_of="2026-06-01", draws=0)
        scores = session.adaptive_scores()
    frame = session.responses().set_axis([candidate])
    banks = {s.scale: s.calibration for s in session.adaptive_plan.scales}
    expected = TraitProfile.from_profiles(irt_norm_profiles(q, frame, job_model.norms, banks,
                                                            invalid="allow-unanswered"), candidate, q)
    for scale in ("Extraversion", "Neuroticism"):
        assert result.profile[scale] == expected[scale]
        assert 1 <= result.profile[scale].raw <= 5 and result.profile[scale].sem > 0
    theta = irt_norm_profiles(q, frame, job_model.norms, banks, invalid="allow-unanswered")
    np.testing.assert_allclose(theta[("Extraversion", "theta")], scores.loc["Extraversion", "theta"], atol=1e-12)
    np.testing.assert_allclose(theta[("Extraversion", "theta_se")], scores.loc["Extraversion", "se"], atol=1e-12)
    direct = job_model.evaluate(expected, evidence, as_of="2026-06-01", draws=0)
    assert result.recommendation.score == direct.score
    assert result.recommendation.stability.se_score == direct.stability.se_score
    # with the norm table's one SEM for everybody the score's SE would differ
    used = [i.key for i in job_model._compiled.inputs if i.is_trait]
    raw_only = {s: expected[s].raw for s in used}
    assert job_model.evaluate(raw_only, evidence, as_of="2026-06-01", draws=0).stability.se_score != \
        pytest.approx(direct.stability.se_score, rel=1e-6)
