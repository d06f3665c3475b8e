"""The pipeline: the use cases that orchestrate the domain packages and the store, one call each.

The command line, the web app and the demo are front doors onto these functions; they hold no policy of their
own. Every step that produces a record about a candidate is stored and logged here.

- :mod:`.assessment`: :func:`assess_candidate` / :func:`assess_candidates`, session -> validity -> profile
  -> job model -> recommendation, recorded in one transaction per candidate and queued for review;
- :mod:`.sample_file`: :func:`read_sample`, a calibration sample read from a CSV, with the rows it excluded;
- :mod:`.norm_building`: :func:`norms_from_file`, norm tables from a sample (minimum n, strata, weighting);
- :mod:`.cases`: :func:`case_from_store`, :func:`cohort_from_store`, the recorded case of a candidate and the
  cohort of a job model (:mod:`.case`, :mod:`.cohort` define them);
- :mod:`.review_target`: :func:`review_target`, which recommendation or contest a reviewer means;
- :mod:`.fairness_audit`: :func:`run_fairness_audit`, a recorded audit of a job model's outcomes.

Batch scoring of a whole file is its own package in this layer, :mod:`profiler.batch`.
"""

from profiler.pipeline.assessment import (
    Assessment,
    AssessmentError,
    BatchResult,
    ValidityResult,
    assess_candidate,
    assess_candidates,
)
from profiler.pipeline.case import CandidateCase
from profiler.pipeline.cases import ReportError, case_from_store, cohort_from_store
from profiler.pipeline.cohort import Cohort
from profiler.pipeline.fairness_audit import FairnessAuditError, FairnessAuditRun, run_fairness_audit

__all__ = [
    "Assessment",
    "AssessmentError",
    "BatchResult",
    "CandidateCase",
    "Cohort",
    "FairnessAuditError",
    "FairnessAuditRun",
    "ReportError",
    "ValidityResult",
    "assess_candidate",
    "assess_candidates",
    "case_from_store",
    "cohort_from_store",
    "run_fairness_audit",
]
