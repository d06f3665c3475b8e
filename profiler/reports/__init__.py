"""Explanation reports and the fairness audit report: self-contained HTML pages for people.

- :func:`recruiter_report`: one candidate, for the person who decides (validity and measurement error
  first, the recommendation as advice, the contribution waterfall, the trait profile with confidence
  bands, evidence coverage, counterfactuals, the review);
- :func:`candidate_report`: the same case, for the candidate, in plain language;
- :func:`cohort_report`: every candidate of one job model, with review and override figures;
- :func:`fairness_report`: an adverse-impact audit with every measure side by side and the NYC summary.

Reports read a :class:`CandidateCase` (or the audit's results), never a protected attribute, and render
the same bytes for the same inputs.
"""

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
from profiler.reports.candidate import candidate_report
from profiler.reports.recruiter import recruiter_report

__all__ = [
    "CandidateCase",
    "ContestRecord",
    "DecisionRecord",
    "NormGroup",
    "ReviewStatus",
    "ValidityFindings",
    "candidate_report",
    "profile_from_dict",
    "profile_to_dict",
    "recommendation_from_dict",
    "recruiter_report",
]
