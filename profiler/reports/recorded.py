"""Reports written from a store and logged: one call per report, for the command line and the web app.

Each reads the case or cohort through the pipeline (:mod:`profiler.pipeline.cases`), renders it here, and has the
pipeline write the file and log it (``report.generated`` with the report's SHA-256).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from profiler.pipeline.case import CandidateCase
from profiler.pipeline.cases import case_from_store, cohort_from_store, record_report
from profiler.pipeline.cohort import Cohort
from profiler.reports.candidate import candidate_report
from profiler.reports.cohort import cohort_report
from profiler.reports.recruiter import recruiter_report


@dataclass(frozen=True)
class WrittenReport:
    """A report written and logged: where, its SHA-256, the log entry, and what it showed."""

    path: Path
    sha256: str
    log_seq: int
    case: CandidateCase | None = None
    cohort: Cohort | None = None


def write_candidate_report(store: Any, candidate: str, out: str | Path, *, audience: str = "recruiter", actor: str,
                           job_model: Any = None, recommendation_id: int | None = None,
                           contact: str | None = None) -> WrittenReport:
    """The recruiter's (``audience="recruiter"``) or the candidate's own report on a recorded case, written to
    ``out`` and logged. ``job_model``, ``recommendation_id``: as :func:`~profiler.pipeline.case_from_store`;
    ``contact``: who candidates write to (candidate report)."""
    if audience not in ("recruiter", "candidate"):
        raise ValueError(f"audience={audience!r}; use 'recruiter' or 'candidate'")
    case = case_from_store(store, candidate, job_model=job_model, recommendation_id=recommendation_id)
    html = recruiter_report(case) if audience == "recruiter" else candidate_report(case, contact=contact)
    digest, seq = record_report(store, audience, out, html, actor=actor, candidate=candidate,
                                job_model_id=case.job_model.id, review=case.review.state)
    return WrittenReport(Path(out), digest, seq, case=case)


def write_cohort_report(store: Any, job_model: Any, out: str | Path, *, actor: str) -> WrittenReport:
    """The cohort report of a job model (an id or a :class:`~profiler.jobmodel.JobModel`), written and logged."""
    cohort = cohort_from_store(store, job_model)
    digest, seq = record_report(store, "cohort", out, cohort_report(cohort), actor=actor,
                                job_model_id=cohort.job_model_id, candidates=len(cohort.entries))
    return WrittenReport(Path(out), digest, seq, cohort=cohort)


__all__ = ["WrittenReport", "write_candidate_report", "write_cohort_report"]
