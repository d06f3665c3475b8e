"""Reading recorded cases from a store: what the reports render and the recruiter's workspace shows.

:func:`case_from_store` builds a :class:`~profiler.pipeline.case.CandidateCase` from what
:mod:`profiler.pipeline.assessment` recorded (the ``recommendation`` record and the ``profile`` and ``validity``
records it is based on, read as their typed records) and what :class:`profiler.oversight.review.Review` reads
back (decisions and contests). :func:`cohort_from_store` builds a :class:`~profiler.pipeline.cohort.Cohort` of
one job model. Neither reads identities or demographics.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from profiler.canonical import sha256_bytes

from profiler.errors import JobModelError, ProfilerError
from profiler.jobmodel import Recommendation
from profiler.norms import TraitProfile, load_norms
from profiler.oversight.candidates import Candidates
from profiler.oversight.review import Review
from profiler.pipeline.case import (
    CandidateCase,
    ContestRecord,
    DecisionRecord,
    NormGroup,
    ReviewStatus,
    ValidityFindings,
)
from profiler.pipeline import loaded
from profiler.pipeline.cohort import Cohort, CohortEntry, oversight_data, status_of
from profiler.store.audit_log import AuditLog
from profiler.store.records import StoredProfile, StoredValidity


class ReportError(ProfilerError, ValueError):
    """A case or report that cannot be made: no recommendation recorded for the candidate or the job model,
    a job model recorded but not at hand, an unreadable input file."""


def moment(value: datetime | None) -> str | None:
    """A stored time as the reports print it: ``2026-05-01 09:30 UTC``."""
    return None if value is None else f"{value:%Y-%m-%d %H:%M} UTC"


def decision_record(decision: Any, reason_codes: dict[str, str] | None = None) -> DecisionRecord:
    """A :class:`profiler.oversight.review.Decision` as the reports show it."""
    codes = reason_codes or {}
    return DecisionRecord(decision=decision.decision, outcome=decision.outcome, band=decision.band,
                          reviewer=decision.reviewer, role=decision.role, decided_at=moment(decision.decided_at),
                          reason=decision.reason, reason_text=codes.get(decision.reason) if decision.reason else None,
                          note=decision.note, stage=decision.stage)


def review_status(review: Any, recommendation_id: int, candidate: str) -> ReviewStatus:
    """The first decision that stands on one recorded recommendation (an override a second person refused to
    confirm does not) and the contests of it (through ``review``)."""
    codes = review.reason_codes
    refused = {r.decision_id for r in review.refusals(candidate)}
    first = [d for d in review.decisions(candidate)
             if d.stage == "first" and d.recommendation_id == recommendation_id and d.id not in refused]
    decision = first[-1] if first else None
    contests = []
    if decision is not None:
        for c in review.contests(candidate):
            if c.decision_id != decision.id:
                continue
            second = None if c.second_decision is None else decision_record(c.second_decision, codes)
            contests.append(ContestRecord(filed_at=moment(c.filed_at), due=moment(c.due), assigned_to=c.assigned_to,
                                          second_decision=second, result=c.result(decision)))
    return ReviewStatus(decision=None if decision is None else decision_record(decision, codes),
                        contests=tuple(contests), contest_days=review.settings.contest_days)


def case_from_store(store: Any, candidate: str, *, job_model: Any = None,
                    recommendation_id: int | None = None) -> CandidateCase:
    """The candidate's case as recorded: their latest recommendation (or ``recommendation_id``).

    Parameters
    ----------
    store : Store
    candidate : str
        The pseudonymous candidate id.
    job_model : JobModel, optional
        The model whose latest recommendation is reported (a candidate may have been assessed for several
        roles); by default the candidate's latest recommendation and the bundled model of its recorded id
        (the report says so when its content hash is not the recorded one).
    recommendation_id : int, optional
        The recommendation's artefact id.

    Raises
    ------
    ReportError
        No recommendation is recorded for the candidate (or none with that id).
    """
    review = Review(store)
    recorded = review.recommendations(candidate)
    if job_model is not None and recommendation_id is None:  # the latest recommendation of that model
        recorded = [r for r in recorded if r.job_model_id == job_model.id]
    if recommendation_id is not None:
        recorded = [r for r in recorded if r.id == recommendation_id]
    if not recorded:
        which = "" if recommendation_id is None else f" with id {recommendation_id}"
        raise ReportError(f"no recommendation{which} is recorded for candidate {candidate!r} in {store.name}")
    chosen = recorded[-1]
    recommendation = Recommendation.from_dict(chosen.record.explanation())
    if job_model is None:
        job_model = load_recorded_model(chosen.job_model_id)
    by_id = {r.id: r for r in Candidates(store).records(candidate)}

    def based_on(kind: str) -> Any:
        ref = chosen.record.based_on.get(kind)
        found = by_id.get(ref.record) if ref is not None else None
        return None if found is None else found.record

    stored_profile, stored_validity = based_on("profile"), based_on("validity")
    profile = None
    if isinstance(stored_profile, StoredProfile):
        profile = TraitProfile.from_dict(stored_profile.payload())
    validity = None
    if isinstance(stored_validity, StoredValidity):
        how = (f"profiler session {chosen.session_id}" if chosen.session_id is not None
               else "answers recorded without a profiler session")
        validity = ValidityFindings(verdict=stored_validity.verdict, reasons=tuple(stored_validity.reasons),
                                    flagged=tuple(stored_validity.flagged),
                                    not_checked=dict(sorted(stored_validity.not_available.items())),
                                    administration=how)
    return CandidateCase(candidate=candidate, recommendation=recommendation, job_model=job_model, profile=profile,
                         norms=None if profile is None else norm_group(job_model, profile),
                         validity=validity, review=review_status(review, chosen.id, candidate))


def load_recorded_model(model_id: str) -> Any:
    """The bundled job model of a recorded id; a model that is not bundled must be given by file."""
    try:
        return loaded.job_model(model_id)
    except JobModelError:
        raise ReportError(f"job model {model_id!r} was recorded but is not a bundled model: give its file "
                          "(--job-model PATH, or job_model=load_job_model(PATH))") from None


def norm_group(job_model: Any, profile: Any) -> NormGroup:
    """The norm group a profile names: the job model's or a shipped one with the same hash, else its identity."""
    recorded = profile.norms
    table = job_model.norms
    if table.sha256 != recorded.get("norms_sha256"):
        table = None
        try:
            candidate = load_norms(job_model.questionnaire, recorded["norm_group"])
            if candidate.sha256 == recorded.get("norms_sha256"):
                table = candidate
        except (ProfilerError, KeyError, OSError):
            table = None
    if table is not None:
        return NormGroup.from_table(table)
    return NormGroup(name=recorded.get("norm_group", ""), version=recorded.get("norm_version", ""),
                     sha256=recorded.get("norms_sha256", ""),
                     title=profile.norm_title or recorded.get("norm_group", ""))


def cohort_from_store(store: Any, job_model: Any) -> Cohort:
    """Every recommendation recorded for a job model (an id or a :class:`JobModel`) and its review.

    Raises
    ------
    ReportError
        No recommendation is recorded for the job model.
    """
    model_id = getattr(job_model, "id", job_model)
    review = Review(store)
    recorded = review.recommendations(job_model=model_id)
    if not recorded:
        raise ReportError(f"no recommendation is recorded for job model {model_id!r} in {store.name}")
    codes = review.reason_codes
    first: dict[int, Any] = {}
    refused = {r.decision_id for r in review.refusals()}
    for d in review.decisions():
        if d.stage == "first" and d.id not in refused:
            first[d.recommendation_id] = d
    contests: dict[int, list[Any]] = {}
    for c in review.contests():
        contests.setdefault(c.decision_id, []).append(c)
    entries = []
    for r in recorded:
        p = r.payload
        decision = first.get(r.id)
        mine = contests.get(decision.id, []) if decision is not None else []
        shown = None if decision is None else decision_record(decision, codes)
        current = shown
        for c in mine:
            if c.second_decision is not None:
                current = decision_record(c.second_decision, codes)
        stability = p.get("stability") or {}
        coverage = p.get("coverage") or {}
        flip = stability.get("p_flip_analytic" if stability.get("basis") == "analytic" else "p_flip_simulated")
        entries.append(CohortEntry(
            candidate=r.candidate, recommended_at=moment(r.recorded_at), band=r.band, score_band=r.score_band,
            score=r.score, stability=stability.get("label"), p_same=None if flip is None else 1.0 - float(flip),
            validity=r.validity_verdict,
            complete=None if not coverage else all(i.get("status") == "measured" for i in coverage.get("inputs", [])),
            status=status_of(shown, mine), outcome=None if current is None else current.outcome,
            reviewer=None if current is None else current.reviewer, job_model_version=r.job_model_version))
    latest = recorded[-1]
    model = job_model if hasattr(job_model, "spec") else load_recorded_model(model_id)  # for the role's title
    return Cohort(job_model_id=model_id, job_model_version=latest.job_model_version,
                  job_model_hash=latest.job_model_hash, role=model.spec.role.title,
                  thresholds=dict(latest.payload["thresholds"]), entries=tuple(entries),
                  oversight=oversight_data(review.figures(job_model=model_id), model_id))


REPORT_EVENT = "report.generated"


def record_report(store: Any, report: str, path: str | Path, text: str, *, actor: str, candidate: str | None = None,
                  **facts: Any) -> tuple[str, int]:
    """Write a report's text to ``path`` (whole or not at all) and log it (``report.generated``, its SHA-256 and
    ``facts`` such as the job model and the review state; never its content). Returns the digest and log entry."""
    path = Path(path)
    data = text.encode("utf-8")
    if path.is_dir():
        raise ReportError(f"{path} is a folder: give the report's file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(data)
        os.replace(partial, path)
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None
    digest = sha256_bytes(data)
    entry = AuditLog(store).append(REPORT_EVENT, {"report": report, **facts, "sha256": digest}, actor=actor,
                                   candidate=candidate)
    return digest, entry.seq


__all__ = ["REPORT_EVENT", "ReportError", "case_from_store", "cohort_from_store", "decision_record", "norm_group",
           "record_report", "review_status"]
