"""The recruiter's report on one candidate: what a person needs in order to decide, and to overrule.

Order of the page (measurement before the recommendation, against automation bias):

1. identity of the case: candidate pseudonym, role, evaluation date; the statement that profiler only
   recommends and a person decides;
2. **read first**: response validity (verdict, reasons, checks that could not run), decision stability
   under measurement error, rater agreement, unknown or expired evidence;
3. the recommendation, advisory, with its reasons and the score on the band scale with its 90% interval;
4. how the score came about: the contribution waterfall from the norm group's average candidate, the
   table of criteria and the additivity receipt;
5. the trait profile: stens 1-10 with their 90% bands, both poles of every scale described, the norm
   group named;
6. skill evidence and its coverage, with the score range if unknown inputs took plausible values;
7. counterfactuals, as measurement distances (never advice);
8. the review: the decision and its reason once made, "awaiting review" before;
9. versions and hashes of everything that produced the recommendation.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from profiler.reports import _charts
from profiler.reports._common import BAND_CLASS, band_words, decision_words, profile_rows, thresholds, versions
from profiler.reports._render import render
from profiler.reports.case import CandidateCase

VERDICT_CLASS = {"valid": "ok", "questionable": "warn", "invalid": "bad"}
STABILITY_CLASS = {"stable": "ok", "borderline": "warn", "within measurement error": "bad", "not applicable": ""}


def recruiter_context(case: CandidateCase, *, prepared: dt.date | None = None) -> dict[str, Any]:
    """The data the recruiter template renders (see :func:`recruiter_report`)."""
    rec = case.recommendation
    spec = case.job_model.spec
    limits = thresholds(rec.thresholds)
    incomplete = not rec.coverage.complete
    order = sorted(range(len(rec.contributions)),
                   key=lambda i: (-abs(rec.contributions[i].contribution), i))  # largest first, ties stay in order
    contributions = [rec.contributions[i] for i in order]
    steps = [(c.name, c.contribution, c.status != "measured") for c in contributions]
    evidence_names = {f"evidence.{e.id}": e for e in spec.evidence}
    criteria = {c.id: c for c in spec.criteria}
    evidence_rows = []
    for item in rec.coverage.inputs:
        values = [c for c in rec.contributions if c.input == item.input]
        evidence_rows.append({
            "coverage": item, "trait": item.input.startswith("trait."),
            "value": values[0].value if values and item.status == "measured" else None,
            "description": getattr(evidence_names.get(item.input), "description", None),
        })
    unknown = [row for row in evidence_rows if row["coverage"].status != "measured"]
    cf_reachable = [cf for cf in rec.counterfactuals if cf.reachable]
    cf_out = [cf for cf in rec.counterfactuals if not cf.reachable]
    return {
        "title": f"Recruiter report: {case.candidate}",
        "case": case, "rec": rec, "spec": spec, "prepared": prepared,
        "band_words": band_words(rec.band), "score_band_words": band_words(rec.score_band),
        "band_class": BAND_CLASS.get(rec.band, "review"),
        "versions": versions(rec), "job_model_matches": case.job_model_matches,
        "job_model_hash_given": case.job_model.content_hash,
        "validity": case.validity,
        "validity_class": "warn" if case.validity is None else VERDICT_CLASS.get(case.validity.verdict, "warn"),
        "stability_class": STABILITY_CLASS.get(rec.stability.label, "warn"),
        "stability_simulated": _finite(rec.stability.p_flip_simulated),
        "limits": limits,
        "score_chart": _charts.score_scale("score", rec.score, rec.stability.se_score, limits,
                                           rec.coverage.score_range if incomplete else None),
        "waterfall": _charts.waterfall("waterfall", rec.base_value, steps, rec.score, limits),
        "contributions": contributions, "criteria": criteria,
        "receipt": rec.receipt, "receipt_ok": rec.additivity_error <= 1e-9,
        "profile_rows": profile_rows(case), "norms": case.norms,
        "evidence_rows": evidence_rows, "unknown": unknown, "incomplete": incomplete,
        "bands_reachable": [band_words(b) for b in rec.coverage.bands_reachable],
        "cf_reachable": cf_reachable, "cf_out": cf_out,
        "review": case.review,
        "decision_words": decision_words,
        "agreement": [(getattr(evidence_names.get(f"evidence.{a.evidence}"), "name", a.evidence), a)
                      for a in rec.agreement],
        "not_checked": [(check.replace("_", " "), why) for check, why in
                        (case.validity.not_checked.items() if case.validity is not None else ())],
    }


def _finite(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def recruiter_report(case: CandidateCase, *, prepared: dt.date | None = None) -> str:
    """The recruiter's report on one candidate as a self-contained HTML page.

    Parameters
    ----------
    case : CandidateCase
        The candidate's recommendation, profile, validity findings and review.
    prepared : date, optional
        Printed as the date the report was prepared; left out by default so that the same case always
        gives the same bytes.

    Returns
    -------
    str
        HTML (UTF-8 text): inline CSS and SVG, no scripts, no external resources; prints on A4 or Letter.
    """
    return render("recruiter.html", **recruiter_context(case, prepared=prepared))


__all__ = ["recruiter_context", "recruiter_report"]
