"""The fairness audit report: every figure of a :class:`~profiler.fairness.audit.FairnessAudit` (computed by
:func:`profiler.fairness.audit.fairness_audit`, re-exported here), the NYC summary first.

:func:`fairness_audit` computes, for the candidates of one job model and their group labels:

- **selection** (:func:`profiler.fairness.adverse_impact`) of the tool's classification: recommended
  ``advance`` or not (NYC Local Law 144: the rate at which the tool selects individuals to move forward);
- **scoring** (:func:`profiler.fairness.scoring_impact`): the share of each category scoring strictly above
  the whole sample's median score;
- **decisions**, when people decided some cases: the same for the outcomes people decided (``advance``
  or not; "do not use" and undecided cases left out), to see whether reviewers' decisions differ by group;
- **score differences** (:func:`profiler.fairness.standardized_mean_differences`): Cohen's d with CI of the
  score, each category against the largest one, per attribute.

The result, a :class:`FairnessAudit`, holds the NYC summary fields (:class:`AuditSummary`: audit date,
data source and whether historical or test data, number of individuals, the date the tool was first
used if known) and gives every figure as JSON (:meth:`FairnessAudit.to_dict`). :func:`fairness_report`
renders it: impact tables with every measure side by side and the disagreements between them written
out, never a single pass/fail.

Group labels enter only as an explicit argument; nothing here reads a store.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from profiler.fairness.audit import (
    DATA_KINDS,
    AuditSummary,
    FairnessAudit,
    frame_records,
    fairness_audit,
    summary_from_dict,
)
from profiler.reports import _charts
from profiler.reports._render import render

SMALL_REFERENCE = 30  # a reference category smaller than this makes every ratio against it unstable
OUTCOME_NAMES = {
    "recommended_advance": "Selection by the tool: recommended to advance",
    "score": "Scoring: above the median score",
    "decided_advance": "Decisions by people: decided to advance",
}


# The report --------------------------------------------------------------------------------------------------
def _impact_sections(name: str, result: Any) -> list[dict[str, Any]]:
    """One block per (outcome, attribute): its rows, a chart, the disagreements."""
    table = result.table
    blocks = []
    k = 0
    for (outcome, attribute), rows in table.groupby(["outcome", "attribute"], sort=False):
        k += 1
        records = frame_records(rows)
        for r in records:
            r["category"] = str(r["category"])
        outcome_row = result.outcomes[result.outcomes["outcome"] == outcome].iloc[0]
        unknown = result.unknown[(result.unknown["outcome"] == outcome) & (result.unknown["attribute"] == attribute)]
        chart_rows = [r for r in records if r["in_ratio"]]
        reference = [r for r in records if r["reference"]]
        small_reference = reference[0] if reference and reference[0]["n"] < SMALL_REFERENCE else None
        blocks.append({
            "outcome": outcome, "title": OUTCOME_NAMES.get(outcome, outcome), "attribute": attribute,
            "rows": records, "overall_rate": float(outcome_row["rate"]), "n": int(outcome_row["n"]),
            "median": None if "median" not in outcome_row or pd.isna(outcome_row.get("median"))
            else float(outcome_row["median"]),
            "at_median": None if "at_median" not in outcome_row or pd.isna(outcome_row.get("at_median"))
            else int(outcome_row["at_median"]),
            "unknown": int(unknown["n_unknown"].iloc[0]) if len(unknown) else 0,
            "disagreements": [r for r in records if r["notes"]],
            "small_reference": small_reference,
            "chart": _charts.impact_ratios(f"ir-{name}-{k}", chart_rows,
                                           title=f"Impact ratios with 95% CI: {OUTCOME_NAMES.get(outcome, outcome)}, "
                                                 f"by {attribute}") if chart_rows else None,
        })
    return blocks


def fairness_context(audit: FairnessAudit, *, prepared: dt.date | None = None) -> dict[str, Any]:
    sections = []
    for name, result in audit.results():
        sections.append({"name": name, "kind": result.kind, "blocks": _impact_sections(name, result),
                         "method": dict(result.method)})
    summary_rows: dict[str, list[dict[str, Any]]] = {}
    for row in audit.nyc_summary():
        summary_rows.setdefault(row["attribute"], []).append(row)
    return {
        "title": f"Fairness audit: {audit.summary.job_model_id} {audit.summary.job_model_version}",
        "audit": audit, "s": audit.summary, "prepared": prepared,
        "summary_rows": list(summary_rows.items()), "unknown": audit.unknown(),
        "sections": sections, "smd": frame_records(audit.smd) if len(audit.smd) else [],
        "min_share": audit.selection.min_share, "outcome_names": OUTCOME_NAMES,
        "n_disagreements": sum(len(b["disagreements"]) for s in sections for b in s["blocks"]),
        "small_references": [(s["blocks"][0]["title"] if s["blocks"] else s["name"], b["attribute"],
                              b["small_reference"]) for s in sections for b in s["blocks"] if b["small_reference"]],
    }


def fairness_report(audit: FairnessAudit, *, prepared: dt.date | None = None) -> str:
    """The fairness audit as a self-contained HTML page (NYC summary first, then every table).

    Parameters
    ----------
    audit : FairnessAudit
    prepared : date, optional
        Printed as the date the report was prepared, if different from the audit date.
    """
    return render("fairness.html", **fairness_context(audit, prepared=prepared))


def write_fairness_audit(store: Any, job_model: str, out_dir: Any, **options: Any) -> Any:
    """Run a recorded fairness audit of ``job_model`` and write this report with it.

    :func:`profiler.pipeline.fairness_audit.run_fairness_audit` with ``render=fairness_report``: the same
    parameters (``actor`` required; ``groups``, ``groups_source``, ``audit_date``, ``data_kind``, ``data_reason``,
    ``first_used``, ``auditor``, ``version``), the same :class:`~profiler.pipeline.fairness_audit.FairnessAuditRun`.
    """
    from profiler.pipeline.fairness_audit import run_fairness_audit

    return run_fairness_audit(store, job_model, out_dir, render=fairness_report, **options)


__all__ = ["DATA_KINDS", "AuditSummary", "FairnessAudit", "fairness_audit", "fairness_context", "fairness_report",
           "summary_from_dict", "write_fairness_audit"]
