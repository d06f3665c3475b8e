"""The cohort report of one job model: every candidate's recommendation and its review, and the figures
that show whether people really decide (override and "do not use" rates, time to decision, contests,
rubber-stamping flags from :func:`profiler.oversight.review.oversight_figures`).

Candidates appear by pseudonym only. A :class:`Cohort` is plain data (:meth:`Cohort.to_dict`,
:meth:`Cohort.from_dict`); :func:`profiler.reports.stored.cohort_from_store` reads one from a store.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from profiler.reports import _charts
from profiler.reports._common import BAND_CLASS, band_words, thresholds
from profiler.reports._render import render
from profiler.reports.case import _fields, _plain

STATUS_CLASS = {"awaiting review": "warn", "contested": "warn", "accepted": "ok", "overridden": "bad",
                "outcome chosen": "muted", "do not use": "bad"}


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
        values = _fields(cls, data)
        values["entries"] = tuple(CohortEntry(**_fields(CohortEntry, e)) for e in data["entries"])
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


def cohort_context(cohort: Cohort, *, prepared: dt.date | None = None) -> dict[str, Any]:
    limits = thresholds(dict(cohort.thresholds))
    entries = list(cohort.entries)
    counts: dict[str, int] = {}
    for e in entries:
        counts[e.status] = counts.get(e.status, 0) + 1
    bands: dict[str, int] = {}
    for e in entries:
        bands[e.band] = bands.get(e.band, 0) + 1
    scores = [math.nan if e.score is None else float(e.score) for e in entries]
    return {
        "title": f"Cohort report: {cohort.job_model_id} {cohort.job_model_version}",
        "cohort": cohort, "entries": entries, "limits": limits, "prepared": prepared,
        "status_counts": sorted(counts.items()), "band_counts": [(band_words(b), bands.get(b, 0))
                                                                  for b in ("advance", "review", "not_advance")],
        "band_words": band_words, "band_class": BAND_CLASS, "status_class": STATUS_CLASS,
        "chart": _charts.cohort_strip("cohort", scores, [e.band for e in entries], limits) if entries else None,
        "oversight": cohort.oversight,
    }


def cohort_report(cohort: Cohort, *, prepared: dt.date | None = None) -> str:
    """The cohort report of one job model as a self-contained HTML page.

    Parameters
    ----------
    cohort : Cohort
    prepared : date, optional
        Printed as the date the report was prepared (left out by default: the same cohort, the same bytes).
    """
    return render("cohort.html", **cohort_context(cohort, prepared=prepared))


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


__all__ = ["Cohort", "CohortEntry", "cohort_context", "cohort_report", "oversight_data", "status_of"]
