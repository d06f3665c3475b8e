"""The cohort of one job model as recorded: every candidate's recommendation, where its review stands, and the
oversight figures of the reviews (:func:`profiler.oversight.review.oversight_figures`).

Candidates appear by pseudonym only. A :class:`Cohort` is plain data (:meth:`Cohort.to_dict`,
:meth:`Cohort.from_dict`); :func:`profiler.pipeline.cases.cohort_from_store` reads one from a store and
:func:`profiler.reports.cohort_report` renders it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from profiler.canonical import fields_of, to_plain


@dataclass(frozen=True)
class CohortEntry:
    """One recommendation of the cohort and where its review stands.

    ``status`` is ``awaiting review``, ``accepted``, ``overridden``, ``outcome chosen`` (for a ``review``
    band), ``do not use`` or ``contested`` (a contest open); ``outcome`` the decided outcome, if any.
    """

    candidate: str
    recommended_at: str
    band: str
    score_band: str
    score: float | None
    stability: str | None
    p_same: float | None
    validity: str | None
    complete: bool | None
    status: str
    outcome: str | None = None
    reviewer: str | None = None
    job_model_version: str | None = None


@dataclass(frozen=True)
class Cohort:
    """The candidates of one job model and the oversight figures of their reviews.

    Attributes
    ----------
    job_model_id, job_model_version, job_model_hash, role : str
        The model (the latest version seen when several are in the cohort), and its role's title.
    thresholds : mapping
        ``not_advance_below`` and ``advance_at_or_above`` (review margins applied).
    entries : tuple of CohortEntry
        In the order recorded.
    oversight : mapping
        ``by_reviewer`` and ``by_job_model`` (lists of rows), ``warnings``, ``rule`` (text): the figures of
        :func:`profiler.oversight.review.oversight_figures` as plain data (:func:`oversight_data`).
    """

    job_model_id: str
    job_model_version: str
    job_model_hash: str
    role: str
    thresholds: Mapping[str, float]
    entries: tuple[CohortEntry, ...]
    oversight: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cohort:
        values = fields_of(cls, data)
        values["entries"] = tuple(CohortEntry(**fields_of(CohortEntry, e)) for e in data["entries"])
        values["thresholds"] = dict(data["thresholds"])
        values["oversight"] = dict(data.get("oversight") or {})
        return cls(**values)


def oversight_data(figures: Any, job_model_id: str | None = None) -> dict[str, Any]:
    """:class:`profiler.oversight.review.OversightFigures` as plain rows (NaN as None), optionally of one model."""
    import pandas as pd

    def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
        out = []
        for record in frame.reset_index().to_dict(orient="records"):
            out.append({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in record.items()})
        return _plain(out)

    by_model = rows(figures.by_job_model)
    if job_model_id is not None:
        by_model = [r for r in by_model if r["job_model_id"] == job_model_id]
    return {"by_reviewer": rows(figures.by_reviewer), "by_job_model": by_model, "warnings": list(figures.warnings),
            "rule": figures.rule.text()}


def status_of(decision: Any | None, contests: Sequence[Any] = ()) -> str:
    """A cohort status from a first decision (:class:`profiler.reports.DecisionRecord`) and its contests."""
    if any(c.status == "open" for c in contests):
        return "contested"
    if decision is None:
        return "awaiting review"
    if decision.decision == "accept":
        return "accepted"
    if decision.decision == "do_not_use":
        return "do not use"
    return "outcome chosen" if decision.band == "review" else "overridden"


def _plain(value: Any) -> Any:
    return to_plain(value, "cohort", nonfinite="null")


__all__ = ["Cohort", "CohortEntry", "oversight_data", "status_of"]
