"""The fairness audit of a job model: every figure of :mod:`profiler.fairness` and the NYC summary.

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
used if known) and gives every figure as JSON (:meth:`FairnessAudit.to_dict`). :func:`profiler.reports.fairness_report` renders it: impact tables with
every measure side by side and the disagreements between them written out, never a single pass/fail.

Group labels enter only as an explicit argument; nothing here reads a store.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from profiler.canonical import to_plain
from profiler.errors import ProfilerError
from profiler.fairness.distributions import standardized_mean_differences
from profiler.fairness.impact import adverse_impact, scoring_impact

class FairnessAuditError(ProfilerError, ValueError):
    """A fairness audit that cannot run: no recommendations for the model, no group labels, test data without
    the reason historical data were not used, a candidate listed twice."""


DATA_KINDS = ("historical", "test")


@dataclass(frozen=True)
class AuditSummary:
    """The facts NYC Local Law 144 asks a published audit summary to give (beside the figures).

    Attributes
    ----------
    audit_date : date
    data_source : str
        Where the data come from (e.g. the store and the period of the recommendations).
    data_kind : {"historical", "test"}
        Historical data of real candidates, or test data; with test data, ``data_reason`` says why
        historical data could not be used.
    data_reason : str, optional
    first_used : date, optional
        The date the tool (this job model) was first used, if known.
    job_model_id, job_model_version, job_model_hash : str
    groups_source : str
        Where the group labels came from (a file and its hash, or the store's demographics vault).
    auditor : str, optional
    """

    audit_date: dt.date
    data_source: str
    data_kind: str
    job_model_id: str
    job_model_version: str
    job_model_hash: str
    groups_source: str
    data_reason: str | None = None
    first_used: dt.date | None = None
    auditor: str | None = None

    def __post_init__(self) -> None:
        if self.data_kind not in DATA_KINDS:
            raise FairnessAuditError(f"data_kind={self.data_kind!r}; use 'historical' or 'test'")
        if self.data_kind == "test" and not (self.data_reason or "").strip():
            raise FairnessAuditError("an audit on test data says why historical data were not used: give data_reason")


@dataclass(frozen=True)
class FairnessAudit:
    """The figures of a fairness audit and its summary (see the module docstring)."""

    summary: AuditSummary
    n: int
    selection: Any
    scoring: Any
    decisions: Any | None
    smd: pd.DataFrame
    notes: tuple[str, ...] = ()

    def results(self) -> list[tuple[str, Any]]:
        """``(name, ImpactResult)`` of every impact analysis in the audit, in report order."""
        out = [("selection", self.selection), ("scoring", self.scoring)]
        if self.decisions is not None:
            out.append(("decisions", self.decisions))
        return out

    def nyc_summary(self) -> list[dict[str, Any]]:
        """One row per (attribute, category): n, selection rate and impact ratio, scoring rate and ratio."""
        selection = self.selection.table
        scoring = self.scoring.table.set_index(["attribute", "category"])
        rows = []
        for row in selection.itertuples(index=False):
            key = (row.attribute, row.category)
            score_row = scoring.loc[key] if key in scoring.index else None
            rows.append({
                "attribute": row.attribute, "category": str(row.category), "n": int(row.n),
                "in_ratio": bool(row.in_ratio), "selection_rate": row.rate, "selection_ratio": row.impact_ratio,
                "scoring_n": None if score_row is None else int(score_row["n"]),
                "scoring_rate": None if score_row is None else score_row["rate"],
                "scoring_ratio": None if score_row is None else score_row["impact_ratio"],
            })
        return _plain(rows)

    def unknown(self) -> list[dict[str, Any]]:
        """People of unknown category per attribute (from the selection analysis: everyone assessed)."""
        return _plain(self.selection.unknown.to_dict(orient="records"))

    def to_dict(self) -> dict[str, Any]:
        """Every figure as JSON-ready data."""
        return _plain({
            "format": "profiler.fairness-audit/1",
            "summary": dataclasses.asdict(self.summary),
            "n": self.n,
            "nyc_summary": self.nyc_summary(),
            "unknown": self.unknown(),
            "selection": self.selection.to_dict(),
            "scoring": self.scoring.to_dict(),
            "decisions": None if self.decisions is None else self.decisions.to_dict(),
            "standardized_mean_differences": frame_records(self.smd),
            "notes": list(self.notes),
        })


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a table as JSON-ready records (NaN as None)."""
    out = []
    for record in frame.to_dict(orient="records"):
        out.append({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in record.items()})
    return _plain(out)


def fairness_audit(frame: pd.DataFrame, groups: pd.DataFrame, summary: AuditSummary, *,
                   min_share: float = 0.02, intersections: bool = True) -> FairnessAudit:
    """Compute the figures of a fairness audit.

    Parameters
    ----------
    frame : DataFrame
        One row per candidate (index: candidate id): ``band`` (the recommended band), ``score``, and
        optionally ``outcome`` (``advance``, ``not_advance``, or missing when not decided or "do not use").
    groups : DataFrame
        Group labels, one column per attribute, indexed by candidate id; candidates missing from it, and
        missing labels, are of unknown category.
    summary : AuditSummary
    min_share, intersections
        As in :func:`profiler.fairness.adverse_impact`.
    """
    if frame.index.has_duplicates:
        raise FairnessAuditError("the audit data list a candidate twice")
    labels = groups.reindex(frame.index)
    labels = labels.astype(object).where(labels.notna(), None)
    selected = (frame["band"] == "advance").astype(int).rename("recommended_advance")
    selection = adverse_impact(selected, labels, min_share=min_share, intersections=intersections)
    scoring = scoring_impact(frame["score"].astype(float).rename("score"), labels, min_share=min_share,
                             intersections=intersections)
    notes = []
    decisions = None
    if "outcome" in frame.columns:
        decided = frame["outcome"].isin(["advance", "not_advance"])
        if decided.any():
            outcome = (frame.loc[decided, "outcome"] == "advance").astype(int).rename("decided_advance")
            decisions = adverse_impact(outcome, labels.loc[decided], min_share=min_share, intersections=intersections)
            notes.append(f"Decisions by people: {int(decided.sum())} of {len(frame)} candidates have a decided outcome "
                         "(advance or not advance); undecided cases and \"do not use\" are left out.")
    smd_rows = []
    for attribute in labels.columns:
        column = labels[attribute]
        if column.notna().sum() < 4 or column.dropna().nunique() < 2:
            notes.append(f"Score differences by {attribute}: too few people with a known category.")
            continue
        try:
            smd_rows.append(standardized_mean_differences(frame["score"].astype(float).rename("score"),
                                                          column.rename(attribute)).assign(attribute=attribute))
        except ValueError as exc:
            notes.append(f"Score differences by {attribute}: {exc}.")
    smd = pd.concat(smd_rows, ignore_index=True) if smd_rows else pd.DataFrame()
    if len(smd):
        smd = smd[["attribute", *[c for c in smd.columns if c != "attribute"]]]
    return FairnessAudit(summary=summary, n=len(frame), selection=selection, scoring=scoring, decisions=decisions,
                         smd=smd, notes=tuple(notes))


def summary_from_dict(data: Mapping[str, Any]) -> AuditSummary:
    values = dict(data)
    for key in ("audit_date", "first_used"):
        if isinstance(values.get(key), str):
            values[key] = dt.date.fromisoformat(values[key])
    return AuditSummary(**values)


def _plain(value: Any) -> Any:
    return to_plain(value, "fairness audit", nonfinite="null")


__all__ = ["DATA_KINDS", "AuditSummary", "FairnessAudit", "FairnessAuditError", "fairness_audit", "frame_records", "summary_from_dict"]
