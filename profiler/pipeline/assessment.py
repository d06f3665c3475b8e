"""The recorded pipeline for one candidate: session -> responses -> validity -> trait profile -> job model ->
recommendation, every step stored in the store and logged in the audit log, then queued for a person.

:func:`assess_candidate` computes everything first and then records it in **one** write transaction per
candidate, so a candidate's records exist completely or not at all. Inside that transaction it checks
that no operator has stopped the job model (:mod:`profiler.oversight.control`): a stop that commits while
a batch runs halts it at the next candidate with :class:`~profiler.oversight.control.ModelStoppedError`,
leaving nothing half-written.

What is recorded for a candidate, in this order (case records are typed by :mod:`profiler.store.records`
and hashed into the log, see :mod:`profiler.oversight.candidates`):

=========================  ==================================================================================
log event                  content
=========================  ==================================================================================
``session.finished``       once per session: session id, questionnaire content hash, status, items answered
                           and the hash of the answers (each answer was logged by the session itself as
                           ``session.answered``, with ``session.started`` ... ``session.completed``)
``questionnaire.version``  questionnaire id, version and content hash
``norms.version``          norm group, version and sha256 of the norm table
``job_model.version``      job-model id, version and content hash
``scoring.inputs``         record ``inputs`` (:class:`~profiler.store.records.StoredInputs`): answers per item,
                           their hash, timings, the evidence
``validity.assessed``      record ``validity``: verdict, reasons, flagged indices, every index value
``scoring.scores``         record ``profile``: the trait profile (raw, T, percentiles, SEM and bands)
``scoring.contributions``  record ``contributions``: base value, one SHAP contribution per criterion, score
``scoring.recommendation`` record ``recommendation``: :meth:`Recommendation.to_dict` plus the validity
                           verdict and the ids and hashes of the four records above
``review.requested``       the case enters the review queue (:class:`~profiler.store.records.StoredReviewRequest`):
                           recommendation id and hash, band, score
=========================  ==================================================================================

A validity verdict ``invalid`` routes the case to review: the recorded band becomes ``review`` (the
score's own band stays in ``score_band``) and the validity reasons come first among the reasons, so the
profile is never read as fine. ``questionable`` keeps the band and puts its reasons first.
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, insert, select

from profiler.administration.session import Session
from profiler.administration.validity import assess_validity
from profiler.canonical import canonical_json, sha256_text, to_plain
from profiler.errors import ProfilerError
from profiler.jobmodel import load_job_model
from profiler.jobmodel.recommendation import Reason
from profiler.norms import TraitProfile, irt_norm_profiles, trait_profile
from profiler.oversight.candidates import Candidates
from profiler.oversight.control import ModelControl, ModelStoppedError, check_running
from profiler.oversight.review import QUEUED_EVENT
from profiler.store.audit_log import AuditEvent, AuditLog, lock_head
from profiler.store.records import (
    RecordRef,
    StoredContributions,
    StoredInputs,
    StoredProfile,
    StoredRecommendation,
    StoredRecord,
    StoredReviewRequest,
    StoredValidity,
    ValidityVerdict,
)
from profiler.store.tables import audit_log, job_models

if TYPE_CHECKING:
    from profiler.jobmodel import JobModel, Recommendation
    from profiler.norms import NormTable, TraitProfile
    from profiler.store import Store


DEFAULT_ACTOR = "system:assessment"
VALIDITY_EVENT = "validity.assessed"


class AssessmentError(ProfilerError, ValueError):
    """Input the recorded pipeline cannot use: an unfinished session, a session of another candidate or
    questionnaire, responses of the wrong shape."""


@dataclass(frozen=True)
class ValidityResult:
    """One candidate's response validity (a row of :func:`~profiler.administration.validity.assess_validity`).

    ``indices`` holds every index value (NaN: not available); ``not_available`` says why an index is missing.
    """

    verdict: str
    reasons: tuple[str, ...]
    flagged: tuple[str, ...]
    indices: Mapping[str, float]
    not_available: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "reasons": list(self.reasons), "flagged": list(self.flagged),
                "indices": dict(self.indices), "not_available": dict(self.not_available)}


@dataclass(frozen=True)
class Assessment:
    """What the recorded pipeline produced for one candidate, and where it is stored.

    Attributes
    ----------
    candidate : str
    session_id : str or None
    profile : TraitProfile
    validity : ValidityResult
    recommendation : Recommendation
        As recorded: with band ``review`` and the validity reasons first when the responses were invalid.
    recommendation_id : int
        The record id of the recommendation: what a reviewer decides on (:class:`profiler.oversight.Review`).
    records : mapping
        Case-record id per kind (``inputs``, ``validity``, ``profile``, ``contributions``, ``recommendation``).
    routed_to_review : bool
        The validity verdict forced the band ``review``.
    """

    candidate: str
    session_id: str | None
    profile: TraitProfile
    validity: ValidityResult
    recommendation: Recommendation
    recommendation_id: int
    records: Mapping[str, int]
    routed_to_review: bool

    @property
    def artefacts(self) -> Mapping[str, int]:
        """Deprecated name of :attr:`records`."""
        warnings.warn("Assessment.artefacts is deprecated; use Assessment.records", DeprecationWarning, stacklevel=2)
        return self.records


@dataclass(frozen=True)
class BatchResult:
    """:func:`assess_candidates`' result: the candidates recorded, and those skipped with why."""

    assessments: list[Assessment]
    failures: dict[str, str]

    def __len__(self) -> int:
        return len(self.assessments)


# One candidate ---------------------------------------------------------------------------------------------
def assess_candidate(store: Store, candidate: Any, job_model: JobModel | str, session_or_responses: Any,
                     evidence: Mapping[str, Any] | None = None, *, norms: NormTable | None = None,
                     actor: str = DEFAULT_ACTOR, timings: Any = None, as_of: Any = None, draws: int = 10_000,
                     seed: int = 0, validity_calibration: Any = "bundled",
                     also: Callable[[Connection, Assessment], None] | None = None) -> Assessment:
    """Assess one candidate and record every step (see the module docstring).

    Parameters
    ----------
    store : Store
    candidate : str or Candidate
        A registered candidate (:meth:`profiler.oversight.Candidates.register`).
    job_model : JobModel or str
        A loaded job model or a bundled id (``"customer-support"``).
    session_or_responses : Session, session id, mapping, Series or one-row DataFrame
        A finished :class:`~profiler.Session` of this candidate (its respondent is the candidate id; its
        timings feed the speed index), or the answers ``item id -> value``.
    evidence : mapping, optional
        Skill evidence for the job model (see :meth:`profiler.JobModel.evaluate`).
    norms : NormTable, optional
        The norm group of the profile (default: the job model's).
    actor : str
        Who or what runs the assessment, for the log.
    timings : mapping or Series, optional
        Seconds per item when answers are given without a session.
    as_of, draws, seed
        Passed to :meth:`profiler.JobModel.evaluate`.
    validity_calibration : ValidityCalibration, "bundled" or None
        Passed to :func:`~profiler.administration.validity.assess_validity`.
    also : callable, optional
        ``also(connection, assessment)`` runs inside the recording transaction, after everything is written
        and before it commits: what it writes commits with the assessment or not at all (an invitation marked
        assessed). An exception from it records nothing and propagates.

    Raises
    ------
    ModelStoppedError
        An operator stopped the job model (nothing is recorded).
    AssessmentError, ResponseError, EvidenceError, CandidateError
        Unusable input (nothing is recorded).
    """
    job_model = _job_model(job_model)
    candidate_id = getattr(candidate, "id", candidate)
    Candidates(store).get(candidate_id)  # fail fast on an unknown candidate, before any computation
    ModelControl(store).check(job_model)  # fail fast; checked again when recording
    computed = _compute(store, candidate_id, job_model, session_or_responses, evidence, norms=norms, timings=timings,
                        as_of=as_of, draws=draws, seed=seed, calibration=validity_calibration)
    return _record(store, computed, actor, also)


def assess_candidates(store: Store, job_model: JobModel | str, responses: Any,
                      evidence: Mapping[str, Mapping[str, Any]] | None = None, *, norms: NormTable | None = None,
                      actor: str = DEFAULT_ACTOR, timings: pd.DataFrame | None = None, as_of: Any = None,
                      draws: int = 10_000, seed: int = 0, validity_calibration: Any = "bundled",
                      on_error: str = "raise",
                      on_recorded: Callable[[Assessment], None] | None = None) -> BatchResult:
    """Assess many candidates with :func:`assess_candidate`, one transaction per candidate.

    Parameters
    ----------
    responses : DataFrame or iterable of Session / session ids
        Answers, one row per candidate (index: registered candidate ids; columns: item ids), or finished
        sessions (the candidate is each session's respondent).
    evidence : mapping, optional
        Candidate id -> that candidate's evidence mapping.
    timings : DataFrame, optional
        Seconds per item, same index as ``responses`` (when answers are given as a table).
    on_error : {"raise", "skip"}
        What to do when a candidate's input is unusable (invalid answers or evidence, an unknown
        candidate): stop, or skip that candidate and go on (``BatchResult.failures`` says why). A stopped
        job model always stops the batch: :class:`~profiler.oversight.control.ModelStoppedError` is raised
        and the candidates recorded before it stay recorded.
    on_recorded : callable, optional
        Called with each :class:`Assessment` once it is committed (progress display).

    Other parameters are those of :func:`assess_candidate`, applied to every candidate.
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error={on_error!r}; use 'raise' or 'skip'")
    job_model = _job_model(job_model)
    norms = norms if norms is not None else job_model.norms
    evidence = evidence or {}
    if isinstance(responses, pd.DataFrame):
        if responses.index.has_duplicates:
            raise AssessmentError("the responses list a candidate twice (index values must be unique)")
        items = [(str(label), responses.loc[[label]],
                  None if timings is None else timings.reindex([label])) for label in responses.index]
    else:
        items = [(None, s, None) for s in responses]
    done: list[Assessment] = []
    failures: dict[str, str] = {}
    for position, (label, answers, seconds) in enumerate(items):
        candidate = label if label is not None else f"session #{position + 1}"
        try:
            if label is None:
                candidate = _session_respondent(store, answers)
            result = assess_candidate(store, candidate, job_model, answers, evidence.get(candidate), norms=norms,
                                      actor=actor, timings=seconds, as_of=as_of, draws=draws, seed=seed,
                                      validity_calibration=validity_calibration)
        except ModelStoppedError:
            raise
        except ProfilerError as exc:
            if on_error == "raise":
                raise
            failures[str(candidate)] = str(exc)
            continue
        done.append(result)
        if on_recorded is not None:
            on_recorded(result)
    return BatchResult(done, failures)


# Computing (no writes) -------------------------------------------------------------------------------------
@dataclass
class _Computed:
    candidate: str
    job_model: Any
    questionnaire: Any
    norms: Any
    session: Any
    answers: dict[str, float | None]
    timings: dict[str, float] | None
    evidence: dict[str, Any]
    validity: ValidityResult
    validity_info: dict[str, Any]
    profile: Any
    recommendation: Any
    routed: bool


def _job_model(job_model: Any) -> Any:
    if isinstance(job_model, str):
        return load_job_model(job_model)
    return job_model


def _session_respondent(store: Store, session: Any) -> str:
    if isinstance(session, str):
        session = Session.load(store, session)
    return session.respondent


def _compute(store: Store, candidate: str, job_model: Any, source: Any, evidence: Mapping[str, Any] | None, *,
             norms: Any, timings: Any, as_of: Any, draws: int, seed: int, calibration: Any) -> _Computed:
    questionnaire = job_model.questionnaire
    norms = norms if norms is not None else job_model.norms
    session = None
    order = None
    if isinstance(source, str):
        source = Session.load(store, source)
    if isinstance(source, Session):
        session = source
        if not session.finished:
            raise AssessmentError(f"session {session.id} is not finished ({session.position} of {len(session.order)} "
                                  "items): finish it before assessing")
        if session.respondent != candidate:
            raise AssessmentError(f"session {session.id} belongs to respondent {session.respondent!r}, not candidate "
                                  f"{candidate!r}")
        if session.questionnaire.content_hash != questionnaire.content_hash:
            raise AssessmentError(
                f"session {session.id} administered {session.questionnaire.id} {session.questionnaire.version} "
                f"({session.questionnaire.content_hash[:19]}...), but job model {job_model.id} uses "
                f"{questionnaire.id} {questionnaire.version} ({questionnaire.content_hash[:19]}...)")
        frame = session.responses().set_axis([candidate])
        seconds = session.timings().set_axis([candidate])
        order = list(session.order)
    else:
        frame = _one_row(source, candidate, questionnaire)
        seconds = None if timings is None else _one_row(timings, candidate, questionnaire, what="timings")
    validity = assess_validity(questionnaire, frame, seconds, calibration, order=order)
    row = validity.iloc[0]
    result = ValidityResult(
        verdict=str(row["verdict"]), reasons=tuple(row["reasons"]), flagged=tuple(row["flagged"]),
        indices={k: _number(row[k]) for k in validity.columns if k not in ("verdict", "reasons", "flagged")},
        not_available=dict(validity.attrs.get("not_available", {})),
    )
    info = {k: v for k, v in (validity.attrs.get("calibration") or {}).items() if k not in ("origin", "source")}
    # Unanswered items (an expired or incomplete session) are missing, never a reason to drop the candidate:
    # scales below their min_answered have no score and the job model's missing-input policy routes the case.
    if session is not None and session.adaptive_plan is not None:
        # Each respondent of an adaptive session answers other items: its adaptive scales are IRT-scored from
        # the banks the session chose from, with each person's own SEM (the job model's stability uses it).
        banks = {s.scale: s.calibration for s in session.adaptive_plan.scales}
        profiles = irt_norm_profiles(questionnaire, frame, norms, banks, invalid="allow-unanswered")
        profile = TraitProfile.from_profiles(profiles, candidate, questionnaire)
    else:
        profile = trait_profile(questionnaire, frame, norms, respondent=candidate, invalid="allow-unanswered")
    recommendation = job_model.evaluate(profile, evidence, as_of=as_of, draws=draws, seed=seed)
    recommendation, routed = _route(recommendation, result)
    answers = {item: _number(frame.iloc[0][item]) for item in questionnaire.item_ids}
    timing_values = None if seconds is None else {
        item: _number(seconds.iloc[0][item]) for item in questionnaire.item_ids if item in seconds.columns}
    return _Computed(candidate, job_model, questionnaire, norms, session, answers, timing_values,
                     _plain_evidence(evidence), result, info, profile, recommendation, routed)


def _one_row(source: Any, candidate: str, questionnaire: Any, what: str = "answers") -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        if len(source) != 1:
            raise AssessmentError(f"{what} of one candidate: expected one row, got {len(source)}")
        return source.set_axis([candidate])
    if isinstance(source, pd.Series | Mapping):
        return pd.DataFrame([dict(source)], index=[candidate])
    raise AssessmentError(f"{what} must be a finished Session, a session id, a mapping item -> value, a Series or a "
                          f"one-row DataFrame, got {type(source).__name__}")


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, float | np.floating) and math.isnan(value)):
        return None
    return float(value)


def _plain_evidence(evidence: Mapping[str, Any] | None) -> dict[str, Any]:
    """Evidence records (pydantic models or mappings) as plain data."""
    out = {}
    for key, value in (evidence or {}).items():
        dump = getattr(value, "model_dump", None)
        out[str(key)] = dump(mode="json") if callable(dump) else (dict(value) if isinstance(value, Mapping) else value)
    return out


def _route(recommendation: Any, validity: ValidityResult) -> tuple[Any, bool]:
    """Put the validity verdict first; an invalid one routes the case to review."""
    if validity.verdict == "valid":
        return recommendation, False
    if validity.verdict == "invalid":
        lead = Reason("validity_invalid", "The responses were judged invalid by the validity check, so the profile "
                      "may not describe the candidate: a person reviews the case (the score is not used as it "
                      "stands). Validity reasons: " + "; ".join(validity.reasons))
    else:
        lead = Reason("validity_questionable", "The validity check found the responses questionable; read the "
                      "profile with care. Validity reasons: " + "; ".join(validity.reasons))
    reasons = (lead, *recommendation.reasons)
    if validity.verdict == "invalid" and recommendation.band != "review":
        return dataclasses.replace(recommendation, band="review", reasons=reasons), True
    return dataclasses.replace(recommendation, reasons=reasons), validity.verdict == "invalid"


# Recording (one transaction) -------------------------------------------------------------------------------
def _record(store: Store, c: _Computed, actor: str,
            also: Callable[[Connection, Assessment], None] | None = None) -> Assessment:
    log = AuditLog(store)
    people = Candidates(store, log)
    jm, q, rec = c.job_model, c.questionnaire, c.recommendation
    session_id = c.session.id if c.session is not None else None
    answers_hash = sha256_text(canonical_json(c.answers))
    answered = sum(v is not None for v in c.answers.values())
    inputs = StoredInputs(session=session_id, content_hash=q.content_hash, answers=c.answers, answers_hash=answers_hash,
                          answered=answered, timings=c.timings, evidence=c.evidence)
    validity = StoredValidity(**c.validity.to_dict(), calibration=to_plain(c.validity_info, "calibration"),
                              questionnaire=q.identity())
    profile = StoredProfile(**c.profile.to_dict())
    contributions = StoredContributions(
        base_value=rec.base_value, score=rec.score, receipt=rec.receipt, engine=rec.engine,
        additivity_error=rec.additivity_error, baseline=rec.baseline,
        contributions=to_plain([dataclasses.asdict(x) for x in rec.contributions], "contributions",
                               nonfinite="null"),
        versions=dict(rec.versions))

    def work(connection: Connection) -> Assessment:
        # Inside the transaction, after taking the log's write lock: a stop committed before this point wins.
        lock_head(connection)
        check_running(connection, jm.id, jm.version)

        def append(event: str, payload: Mapping[str, Any]) -> None:
            log.append(event, payload, actor=actor, candidate=c.candidate, connection=connection)

        def store_record(record: StoredRecord, event: str) -> Any:
            return people.add_record(c.candidate, record.KIND, record, actor=actor, session_id=session_id,
                                     event=event, connection=connection)

        if c.session is not None and not _session_logged(connection, c.candidate, session_id):
            append(AuditEvent.SESSION_FINISHED, {
                "session": session_id, "questionnaire_id": q.id, "content_hash": q.content_hash,
                "status": c.session.status, "expired": c.session.expired, "language": c.session.language,
                "items": len(c.session.order), "answered": answered, "answers_hash": answers_hash,
                "started_at": c.session.started_at, "seconds_on_task": c.session.elapsed_seconds(),
            })
        append(AuditEvent.QUESTIONNAIRE, q.identity())
        append(AuditEvent.NORMS, {**c.norms.identity(), "built_for": c.norms.questionnaire.content_hash})
        _store_job_model(connection, jm)
        append(AuditEvent.JOB_MODEL, {"job_model_id": jm.id, "job_model_version": jm.version,
                                      "job_model_hash": jm.content_hash, "source": jm.source,
                                      "stored_as": "job_models"})
        stored = [store_record(inputs, AuditEvent.INPUTS), store_record(validity, VALIDITY_EVENT),
                  store_record(profile, AuditEvent.SCORES), store_record(contributions, AuditEvent.CONTRIBUTIONS)]
        based_on = {s.kind: RecordRef(record=s.id, payload_hash=s.payload_hash) for s in stored}
        recommendation = store_record(StoredRecommendation(
            **rec.to_dict(), validity=ValidityVerdict(verdict=c.validity.verdict, reasons=list(c.validity.reasons)),
            routed_to_review=c.routed, based_on=based_on), AuditEvent.RECOMMENDATION)
        append(QUEUED_EVENT, StoredReviewRequest(
            recommendation=recommendation.id, recommendation_hash=recommendation.payload_hash, band=rec.band,
            score_band=rec.score_band, score=rec.score, validity=c.validity.verdict, routed_to_review=c.routed,
            reasons=[r.code for r in rec.reasons], job_model_id=jm.id, job_model_version=jm.version,
            job_model_hash=jm.content_hash).payload())
        ids = {**{s.kind: s.id for s in stored}, "recommendation": recommendation.id}
        result = Assessment(c.candidate, session_id, c.profile, c.validity, rec, recommendation.id, ids, c.routed)
        if also is not None:
            also(connection, result)
        return result

    return log.transaction(work)


def _session_logged(connection: Connection, candidate: str, session_id: str) -> bool:
    query = select(audit_log.c.payload).where(audit_log.c.candidate_id == candidate,
                                              audit_log.c.event == AuditEvent.SESSION_FINISHED.value)
    for (payload,) in connection.execute(query):
        try:
            if json.loads(payload).get("session") == session_id:
                return True
        except ValueError:
            continue
    return False



def _store_job_model(connection: Connection, jm: JobModel) -> None:
    """Store the job model's content under its hash (once), so that the model behind a recommendation can be
    shown and checked (``verify``) as long as the log is kept."""
    query = select(job_models.c.content_hash).where(job_models.c.content_hash == jm.content_hash)
    if connection.execute(query).first() is None:
        connection.execute(insert(job_models).values(
            content_hash=jm.content_hash, job_model_id=jm.id, version=jm.version,
            document=canonical_json(jm.spec.model_dump(mode="json")), stored_at=datetime.now(UTC)))

__all__ = ["Assessment", "AssessmentError", "BatchResult", "ValidityResult", "assess_candidate", "assess_candidates"]
