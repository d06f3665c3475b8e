"""``make demo``: the whole pipeline, as far as it exists, on bundled defaults and simulated candidates.

Every stage uses the public API on the bundled questionnaire, norms and job models; the candidates are
simulated (no real person's data). Output goes to the terminal and to ``demo-output/`` (the store and
reports), which is recreated on each run.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from profiler.administration import Session
from profiler.administration.validity import assess_validity
from profiler.jobmodel import load_job_model
from profiler.norms import load_norms, trait_profiles
from profiler.oversight import AuditLog, Candidates, Review
from profiler.oversight.candidates import DemographicsVault
from profiler.pipeline.assessment import assess_candidate, assess_candidates
from profiler.questionnaire import Questionnaire, bundled_questionnaires, load_questionnaire
from profiler.questionnaire.checks import questionnaire_warnings
from profiler.reports import write_fairness_audit
from profiler.reports.recorded import write_candidate_report, write_cohort_report
from profiler.simulation import simulate_responses, simulated_evidence
from profiler.store import Store
from profiler.yamlsource import read_yaml_file

OUTPUT = Path("demo-output")
AS_OF = "2026-11-20"  # evaluation date of the simulated evidence
JOB_MODELS = ("customer-support", "software-engineer")
ACTOR = "demo:pipeline"


def _heading(text: str) -> None:
    print(f"\n== {text} " + "=" * max(0, 100 - len(text)))


@dataclass
class SimulatedCandidate:
    """A simulated person: their intended answers, how long they take per item, and how they answer."""

    candidate: str
    answers: pd.Series
    seconds_per_item: np.ndarray
    style: str


class _Clock:
    """A simulated clock for sessions: each answer takes the candidate's time, without waiting for real."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def simulated_candidates(questionnaire: Questionnaire, n: int, seed: int) -> list[SimulatedCandidate]:
    """``n`` candidates with realistic answers; the last two answer carelessly (a straight-liner, a speeder)."""
    rng = np.random.default_rng(seed)
    answers = simulate_responses(questionnaire, n, seed=seed)
    candidates = []
    for i in range(n):
        row = answers.iloc[i].copy()
        seconds = rng.lognormal(np.log(4.5), 0.35, size=len(questionnaire.item_ids))
        style = "attentive"
        if i == n - 2:
            row[:] = 3.0
            style = "straight-lining"
        elif i == n - 1:
            seconds = rng.uniform(0.4, 1.0, size=len(questionnaire.item_ids))
            row[:] = rng.integers(1, 6, size=len(row)).astype(float)
            style = "speeding, random answers"
        candidates.append(SimulatedCandidate(f"cand-{i + 1:03d}", row, seconds, style))
    return candidates


def administer(store: Store, questionnaire: Questionnaire, person: SimulatedCandidate) -> Session:
    """Take the questionnaire through a real, stored session, answer by answer."""
    clock = _Clock()
    session = Session.start(store, questionnaire, respondent=person.candidate, clock=clock)
    position = {item: j for j, item in enumerate(questionnaire.item_ids)}
    while (prompt := session.current()) is not None:
        clock.now += float(person.seconds_per_item[position[prompt.item_id]])
        session.answer(float(person.answers[prompt.item_id]))
    session.finish()
    return session


def run_demo(n_respondents: int = 8, seed: int = 2024) -> int:
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 60)
    n_respondents = max(n_respondents, 3)
    if OUTPUT.exists():
        shutil.rmtree(OUTPUT)
    OUTPUT.mkdir(parents=True)

    _heading("1. Bundled questionnaires")
    for qid, path in bundled_questionnaires().items():
        q = load_questionnaire(qid)
        warnings = questionnaire_warnings(q, read_yaml_file(path))
        print(f"{qid}: ok — version {q.version}, {len(q.items)} items, scales {', '.join(q.scale_ids)}; "
              f"languages {', '.join(q.languages)}; content hash {q.content_hash}")
        for warning in warnings:
            print(f"  {warning}")

    questionnaire = load_questionnaire("ipip-bfm-50")
    store = Store(OUTPUT / "profiler.sqlite")
    registry = Candidates(store)
    people = simulated_candidates(questionnaire, n_respondents, seed)
    for person in people:  # pseudonymous ids; no identity is needed for the demo
        registry.register(actor=ACTOR, candidate_id=person.candidate)
    _heading(f"2. Administering {questionnaire.id} to {len(people)} simulated candidates in stored sessions")
    sessions = [administer(store, questionnaire, person) for person in people]
    responses = pd.concat([s.responses() for s in sessions])
    timings = pd.concat([s.timings() for s in sessions])
    responses.index = timings.index = pd.Index([p.candidate for p in people], name="candidate")
    print(f"store: {store.name}; sessions {', '.join(s.id[:8] for s in sessions)} (finished, every answer committed)")
    order = questionnaire.item_order()
    shown = responses[order[:15]].astype(int)
    shown["..."] = "..."
    print(shown.to_string())

    _heading("3. Response validity (shown before any profile)")
    validity = assess_validity(questionnaire, responses, timings=timings)
    table = pd.DataFrame({
        "style (simulated)": [p.style for p in people],
        "verdict": validity["verdict"],
        "reasons": validity["reasons"].map(lambda r: "; ".join(r) if len(r) else "—"),
    }, index=responses.index)
    print(table.to_string(max_colwidth=110))

    norms = load_norms(questionnaire, "general")
    _heading(f"4. Trait profiles against norm group '{norms.name}' (n = {norms.sample.n:,})")
    profiles = trait_profiles(questionnaire, responses, norms, factor_model="bundled")
    short = {"Extraversion": "E", "Neuroticism": "N", "Agreeableness": "A", "Conscientiousness": "C", "Openness": "O"}
    compact = pd.DataFrame(index=profiles.index)
    for scale in questionnaire.scale_ids:
        tag = short.get(scale, scale)
        compact[f"{tag} raw"] = profiles[(scale, "raw")].round(2)
        compact[f"{tag} T [90%]"] = [f"{t:.0f} [{lo:.0f}-{hi:.0f}]" for t, lo, hi in zip(
            profiles[(scale, "T")], profiles[(scale, "T_90_low")], profiles[(scale, "T_90_high")], strict=True)]
        compact[f"{tag} sten"] = profiles[(scale, "sten")].astype(int)
    compact.insert(0, "validity", validity["verdict"])
    print(compact.to_string())
    print(f"T = 50 + 10 z with its 90% band (raw score +/- 1.645 SEM); percentiles ({profiles.attrs['percentile_method']}) "
          f"and factor scores ({profiles.attrs['factor_scores']}) are in the full table.")
    print(f"Norms: {profiles.attrs['norm_title']}, version {norms.version} ({norms.sha256[:19]}...); "
          f"questionnaire {questionnaire.content_hash[:19]}...")
    rng = np.random.default_rng(seed)
    evidence = {model_id: {p.candidate: simulated_evidence(model_id, rng) for p in people} for model_id in JOB_MODELS}
    assessments = _recommend(store, sessions, people, evidence)
    _review(store, assessments)
    _reports(store, people)
    _fairness(store, registry, questionnaire, seed)
    _what_next(store)
    return 0


def _what_next(store: Store) -> None:
    _heading("What next")
    print(f"Everything the demo wrote is in {OUTPUT.resolve()}/: the store with every session, assessment, decision and\n"
          f"its hash-chained log ({store.name}), the reports in reports/ and the fairness audit in audit/.")
    print("Three commands to try next:")
    print("  profiler check ipip-bfm-50                           # then your own YAML (docs/questionnaire-format.md)")
    print("  profiler take ipip-bfm-50 --db my.sqlite             # answer it yourself in the terminal, then score it")
    print("  profiler manual ipip-bfm-50 --out manual.html        # the technical manual of the bundled questionnaire")
    print("Then: profiler calibrate (your sample -> norms, reliability, a manual), docs/ for everything else.")


def _recommend(store: Store, sessions: list[Session], people: list[SimulatedCandidate], evidence: dict) -> dict:
    _heading("5. Recommendations with explanations (recorded in the store and the audit log)")
    assessments: dict = {}
    for model_id in JOB_MODELS:
        rows = []
        for session, person in zip(sessions, people, strict=True):
            result = assess_candidate(store, person.candidate, model_id, session, evidence[model_id][person.candidate],
                                      actor=ACTOR, as_of=AS_OF, draws=2000)
            assessments[(model_id, person.candidate)] = result
            rec = result.recommendation
            top = sorted(rec.contributions, key=lambda c: -abs(c.contribution))[:2]
            rows.append({
                "candidate": person.candidate, "validity": result.validity.verdict, "band": rec.band,
                "score": f"{rec.score:.1f}", "base": f"{rec.base_value:.1f}",
                "top contributions": ", ".join(f"{c.criterion} {c.contribution:+.1f}" for c in top),
                "stability": rec.stability.text,
            })
        model = assessments[(model_id, people[0].candidate)].recommendation
        print(f"\n{model_id} {model.versions['job_model_version']} — score = base + contributions (checked to 1e-9); "
              "a recommendation, never a decision")
        print(pd.DataFrame(rows).set_index("candidate").to_string())
    example = assessments[(JOB_MODELS[0], people[0].candidate)].recommendation
    print(f"\nThe full explanation of {people[0].candidate} for {JOB_MODELS[0]}:\n")
    print(example)
    return assessments


def _review(store: Store, assessments: dict) -> None:
    _heading("6. People decide: review, override, contest")
    review = Review(store)
    for (model_id, candidate), result in assessments.items():
        rec = result.recommendation
        if result.validity.verdict == "invalid":
            review.decide(result.recommendation_id, "do_not_use", reviewer="psy-lee", role="psychologist",
                          reason="invalid_profile", note="Careless responding; invite to retake under supervision.")
        elif rec.band == "review":
            outcome = "advance" if rec.score >= 55 else "not_advance"  # the reviewer's own judgement, simulated
            review.decide(result.recommendation_id, "override", reviewer="hm-garcia", role="hiring_manager",
                          outcome=outcome, reason="job_related_evidence",
                          note="Decided after reading the work sample and the interview notes.")
        else:
            review.decide(result.recommendation_id, "accept", reviewer="hm-garcia", role="hiring_manager")
    contested = next(d for d in review.decisions() if d.outcome == "not_advance" and d.decision != "do_not_use")
    contest = review.contest(contested.id, received_by="hr-desk", assign_to="hm-osei",
                             statement="I would like a second look at my work sample.")
    review.decide_contest(contest.id, "override", reviewer="hm-osei", role="hiring_manager", outcome="advance",
                          reason="job_related_evidence", note="On second reading the work sample meets the standard.")
    frame = review.decision_frame()
    # The figures below count a person's outcome for a case the tool left to a person (band "review") as
    # "chosen", not as an override of a recommendation: the table uses the same words.
    chosen = (frame["band"] == "review") & (frame["decision"] == "override") & (frame["stage"] == "first")
    frame["decision"] = frame["decision"].where(~chosen, "chosen")
    print(frame[["candidate", "job_model_id", "band", "decision", "outcome", "reason", "reviewer", "stage"]]
          .to_string(index=False))
    print("decision: accept (followed the recommendation), override (another outcome than recommended), chosen (the "
          "band left it\nto a person, who chose the outcome), do_not_use (set aside); stage contest: the second "
          "reviewer's decision.")
    print()
    print(review.figures())


def _reports(store: Store, people: list[SimulatedCandidate]) -> None:
    _heading("7. Reports for recruiters, candidates and each cohort")
    folder = OUTPUT / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for model_id in JOB_MODELS:
        model = load_job_model(model_id)
        for person in people:
            for audience in ("recruiter", "candidate"):  # each written through the pipeline and logged
                path = folder / f"{model_id}-{person.candidate}-{audience}.html"
                write_candidate_report(store, person.candidate, path, audience=audience, actor=ACTOR, job_model=model)
                written += 1
        write_cohort_report(store, model, folder / f"{model_id}-cohort.html", actor=ACTOR)
        written += 1
    print(f"{written} self-contained HTML reports in {folder.resolve()}/")
    print(f"open for example {folder.resolve()}/{JOB_MODELS[0]}-{people[0].candidate}-recruiter.html")


def _fairness(store: Store, registry: Candidates, questionnaire: Questionnaire, seed: int) -> None:
    _heading("8. Audit: the log's hash chain, and the fairness of the simulated cohort")
    # A larger simulated cohort for the adverse-impact figures; demographics go to their own vault table,
    # which the scoring never reads, and only the audit below looks at them.
    rng = np.random.default_rng(seed + 1)
    n = 160
    ids = [f"pool-{i:03d}" for i in range(1, n + 1)]
    for candidate in ids:
        registry.register(actor=ACTOR, candidate_id=candidate)
    answers = simulate_responses(questionnaire, n, seed=seed + 1)
    answers.index = pd.Index(ids, name="candidate")
    timings = pd.DataFrame(rng.lognormal(np.log(4.5), 0.35, size=answers.shape), index=answers.index,
                           columns=answers.columns)
    evidence = {c: simulated_evidence(JOB_MODELS[0], rng) for c in ids}
    batch = assess_candidates(store, JOB_MODELS[0], answers, evidence, timings=timings, actor=ACTOR, as_of=AS_OF,
                              draws=1000)
    vault = DemographicsVault(store)
    for candidate in ids:
        vault.record(candidate, {"sex": str(rng.choice(["female", "male"])),
                                 "race": str(rng.choice(["Asian", "Black", "Hispanic or Latino", "White"],
                                                        p=[0.15, 0.2, 0.2, 0.45]))}, actor="demo:hr-intake")
    print(f"assessed {len(batch.assessments)} more simulated candidates for {JOB_MODELS[0]}")
    verification = AuditLog(store).verify()
    print(f"audit log: {verification}")
    run = write_fairness_audit(store, JOB_MODELS[0], OUTPUT / "audit", actor="demo:auditor", data_kind="test",
                             data_reason="simulated candidates (demonstration; no historical data)")
    print(f"fairness audit of {JOB_MODELS[0]}: {run.candidates} candidates; report {run.html_path.resolve()}")
    for name, value in run.minimum_impact_ratios.items():
        shown = "-" if value is None or value != value else f"{value:.3f}"
        print(f"  lowest impact ratio, {name}: {shown}")
    print("  A ratio below 0.8 is flagged and one at or above 0.8 is not proof of fairness. Here the group labels were\n"
          "  drawn at random, so low ratios in small categories are chance: the report puts Fisher's p, the z test,\n"
          "  the confidence interval and the flip check beside every ratio for exactly this reason.")
    print(f"audit log after the audit: {AuditLog(store).verify()}")
