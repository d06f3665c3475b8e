"""The fixed cases of the report tests, as plain functions (conftest.py turns them into fixtures; the
subprocess test loads this file by path)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "reports"
AUDIT_DATE = dt.date(2026, 6, 1)


def load_case():
    from profiler.reports import CandidateCase

    return CandidateCase.from_dict(json.loads((FIXTURES / "case.json").read_text(encoding="utf-8")))


def load_cohort():
    from profiler.reports.cohort import Cohort

    return Cohort.from_dict(json.loads((FIXTURES / "cohort.json").read_text(encoding="utf-8")))


def audit_frame() -> tuple[pd.DataFrame, pd.DataFrame]:
    data = pd.read_csv(FIXTURES / "audit-data.csv", dtype={"candidate": str, "band": str, "outcome": str,
                                                           "sex": str, "race_ethnicity": str},
                       keep_default_na=False).set_index("candidate")
    frame = data[["band", "score", "outcome"]].astype(object)
    frame["outcome"] = frame["outcome"].where(frame["outcome"] != "", None)
    frame["score"] = frame["score"].astype(float)
    groups = data[["sex", "race_ethnicity"]].astype(object)
    groups = groups.where(groups != "", None)
    return frame, groups


def make_audit():
    from profiler.reports.fairness import AuditSummary, fairness_audit

    frame, groups = audit_frame()
    summary = AuditSummary(
        audit_date=AUDIT_DATE, data_source="profiler store example.db: the latest recommendation of each of 240 "
        "candidates assessed with job model customer-support, recorded 2026-01-05 to 2026-05-28",
        data_kind="historical", job_model_id="customer-support", job_model_version="1.0.0",
        job_model_hash="sha256:" + "0123456789abcdef" * 4, groups_source="file demographics.csv",
        first_used=dt.date(2026, 1, 5), auditor="Example Audit Ltd.")
    return fairness_audit(frame, groups, summary)


def render_all(case, cohort, audit) -> dict[str, str]:
    from profiler.reports import candidate_report, cohort_report, fairness_report, recruiter_report

    return {
        "recruiter.html": recruiter_report(case),
        "candidate.html": candidate_report(case, contact="hiring-team@example.org"),
        "cohort.html": cohort_report(cohort),
        "fairness.html": fairness_report(audit),
    }


if __name__ == "__main__":  # the subprocess test: print the pages as JSON
    import sys

    sys.stdout.write(json.dumps(render_all(load_case(), load_cohort(), make_audit())))
