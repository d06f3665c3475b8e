"""Explanation reports and the fairness audit report: self-contained HTML pages for people.

- :func:`recruiter_report`: one candidate, for the person who decides (validity and measurement error
  first, the recommendation as advice, the contribution waterfall, the trait profile with confidence
  bands, evidence coverage, counterfactuals, the review);
- :func:`candidate_report`: the same case, for the candidate, in plain language;
- :func:`cohort_report`: every candidate of one job model, with review and override figures;
- :func:`fairness_report`: an adverse-impact audit (:func:`profiler.fairness.fairness_audit`) with every
  measure side by side and the NYC Local Law 144 summary; :func:`write_fairness_audit` runs a recorded audit
  of a job model with it.

Reports read a :class:`CandidateCase`, a :class:`Cohort` or a :class:`FairnessAudit`, never a protected
attribute of a person, and render the same bytes for the same inputs. The pipeline reads them from a store
(:func:`profiler.pipeline.case_from_store`, :func:`profiler.pipeline.cohort_from_store`, re-exported here).
"""

from profiler.reports._render import REPORT_FORMAT
from profiler.reports.candidate import candidate_report
from profiler.reports.case import (
    CandidateCase,
    ContestRecord,
    DecisionRecord,
    NormGroup,
    ReviewStatus,
    ValidityFindings,
    profile_from_dict,
    profile_to_dict,
    recommendation_from_dict,
)
from profiler.reports.cohort import Cohort, CohortEntry, cohort_report
from profiler.reports.fairness import (
    AuditSummary,
    FairnessAudit,
    fairness_audit,
    fairness_report,
    write_fairness_audit,
)
from profiler.reports.recruiter import recruiter_report
from profiler.pipeline.cases import ReportError, case_from_store, cohort_from_store

__all__ = [
    "REPORT_FORMAT",
    "AuditSummary",
    "CandidateCase",
    "Cohort",
    "CohortEntry",
    "ContestRecord",
    "DecisionRecord",
    "FairnessAudit",
    "NormGroup",
    "ReportError",
    "ReviewStatus",
    "ValidityFindings",
    "candidate_report",
    "case_from_store",
    "cohort_from_store",
    "cohort_report",
    "fairness_audit",
    "fairness_report",
    "profile_from_dict",
    "profile_to_dict",
    "recommendation_from_dict",
    "recruiter_report",
    "write_fairness_audit",
]
