"""The cohort report of one job model: every candidate's recommendation and its review, and the figures
that show whether people really decide (override and "do not use" rates, time to decision, contests,
rubber-stamping flags from :func:`profiler.oversight.review.oversight_figures`).

Candidates appear by pseudonym only. The :class:`~profiler.pipeline.cohort.Cohort` (plain data) is read from
a store by :func:`profiler.pipeline.cases.cohort_from_store`; this module renders it.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from profiler.pipeline.cohort import Cohort, CohortEntry, oversight_data, status_of
from profiler.reports import _charts
from profiler.reports._common import BAND_CLASS, band_words, thresholds
from profiler.reports._render import render

STATUS_CLASS = {"awaiting review": "warn", "contested": "warn", "accepted": "ok", "overridden": "bad",
                "outcome chosen": "muted", "do not use": "bad"}


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


__all__ = ["STATUS_CLASS", "Cohort", "CohortEntry", "cohort_context", "cohort_report", "oversight_data", "status_of"]
