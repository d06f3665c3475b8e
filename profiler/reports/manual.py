"""The technical manual of a questionnaire: a self-contained HTML page under the EFPA Test Review Model headings.

Sections follow the EFPA Test Review Model (2025 edition): description of the test, norms, reliability,
validity evidence, bias and fairness analyses, administration, computer-generated reports. Each is filled
from the questionnaire itself, its norm tables and a calibration report (``profiler calibrate``), and says
in so many words what is **not yet known** (no retest data, no criterion data, no group data...), rather
than leaving a reader to infer it from a missing table. Print it from the browser for a PDF.

The same inputs give the same bytes: the date printed is the one given, charts are deterministic SVG.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from profiler.norms import NormTable
from profiler.pipeline.calibration import (
    CalibrationOptions,
    CalibrationReport,
    CalibrationRun,
    calibrate_file,
    manual_sources,
    record_file,
)
from profiler.questionnaire import Questionnaire
from profiler.reports import _charts
from profiler.reports._render import render

# Bands this manual reads coefficients and samples with (stated in the manual itself).
RELIABILITY_BANDS = ((0.90, "excellent"), (0.80, "good"), (0.70, "adequate"), (float("-inf"), "inadequate"))
NORM_N_BANDS = ((1000, "excellent"), (300, "good"), (200, "adequate"), (0, "inadequate"))
FIT_CONVENTIONS = {"cfi": (">=", 0.95), "tli": (">=", 0.95), "rmsea": ("<=", 0.06), "srmr": ("<=", 0.08)}


def _band(value: float | None, bands: Sequence[tuple[float, str]]) -> str:
    if value is None:
        return "not known"
    return next(word for floor, word in bands if value >= floor)


def _meets(index: str, value: float) -> bool:
    op, bound = FIT_CONVENTIONS[index]
    return value >= bound if op == ">=" else value <= bound


def _scales(q: Questionnaire) -> list[dict[str, Any]]:
    rows = []
    for scale in q.scales:
        keys = q.keys(scale.id)
        depth, node = 0, scale.id
        while node in q.parent_of:
            node, depth = q.parent_of[node], depth + 1
        rows.append({"id": scale.id, "name": (scale.name or {}).get(q.default_language, scale.id), "depth": depth,
                     "facets": list(scale.facets or []), "n_items": len(keys),
                     "reversed": sum(k.sign < 0 for k in keys), "keys": ", ".join(map(str, keys)),
                     "scoring": scale.scoring, "min_answered": scale.min_answered,
                     "low": (scale.low or {}).get(q.default_language), "high": (scale.high or {}).get(q.default_language)})
    return rows


def _formats(q: Questionnaire) -> list[dict[str, Any]]:
    out = []
    for name, fmt in q.spec.response_formats.items():
        if fmt.type == "likert":
            shown = "; ".join(f"{o.value} = {o.label.get(q.default_language, '')}" for o in fmt.options)
        elif fmt.type == "yes_no":
            shown = "1 = yes, 0 = no"
        else:
            shown = f"a {'whole ' if fmt.integer else ''}number from {fmt.min} to {fmt.max}"
        used = sum((item.format or q.spec.defaults.response_format) == name for item in q.items)
        out.append({"name": name, "type": fmt.type, "shown": shown, "n_items": used})
    return out


def _reliability_rows(report: CalibrationReport | None) -> list[dict[str, Any]]:
    if report is None:
        return []
    return [{"scale": scale, **r, "band": _band(r["alpha"], RELIABILITY_BANDS),
             "omega_band": _band(r["omega_total"], RELIABILITY_BANDS)}
            for scale, r in report.reliability.get("scales", {}).items()]


def _fit_rows(report: CalibrationReport | None, part: str | None = None) -> list[dict[str, Any]]:
    """Fit indices against the conventions: of the structure's CFA, or of its ``part`` (``declared``)."""
    if report is None or not report.structure:
        return []
    structure = report.structure if part is None else report.structure.get(part) or {}
    fit = structure.get("fit_indices")
    if not fit:
        return []
    return [{"index": name.upper(), "value": fit[name], "convention": f"{op} {bound:.2f}", "meets": _meets(name, fit[name])}
            for name, (op, bound) in FIT_CONVENTIONS.items() if name in fit]


def _norm_rows(tables: Sequence[NormTable]) -> list[dict[str, Any]]:
    return [{"table": t, "band": _band(t.sample.n, NORM_N_BANDS),
             "rules": [r for r in t.sample.rules if r.rows]} for t in tables]


def manual_context(questionnaire: Questionnaire, report: CalibrationReport | None = None, *,
                   norms: Sequence[NormTable] = (), prepared: dt.date | None = None) -> dict[str, Any]:
    """What the manual's template shows, for the manual as a page or inside another (the workspace's); the
    parameters are those of :func:`technical_manual`, which renders it."""
    if report is not None:
        report.check_applies_to(questionnaire)
    for table in norms:
        table.check_applies_to(questionnaire)
    q = questionnaire
    dimensionality = report.dimensionality if report is not None else {}
    pa = dimensionality.get("parallel_analysis")
    scree = (_charts.scree("manual-scree", pa["observed"], pa["simulated"], dimensionality["declared_factors"])
             if pa else None)
    items = report.items if report is not None else {}
    translation = report.translation if report is not None else {}
    languages = [{"code": code, "status": info.status, "note": info.note,
                  "missing": sum(code not in item.text for item in q.items)}
                 for code, info in q.spec.languages.items()]
    return dict(
        title=f"Technical manual: {q.title()}", q=q, report=report, prepared=prepared,
        scales=_scales(q), formats=_formats(q), languages=languages, reliability=_reliability_rows(report),
        fit=_fit_rows(report), declared_fit=_fit_rows(report, "declared"), norm_rows=_norm_rows(norms), dimensionality=dimensionality, scree=scree,
        items=items, translation=translation, validity=report.validity if report is not None else {},
        structure=report.structure if report is not None else {},
        validity_items=[i for i in q.items if i.validity is not None], rules=q.spec.validity_rules,
        reliability_bands=RELIABILITY_BANDS[:-1], norm_bands=NORM_N_BANDS[:-1], fit_conventions=FIT_CONVENTIONS)


def technical_manual(questionnaire: Questionnaire, report: CalibrationReport | None = None, *,
                     norms: Sequence[NormTable] = (), prepared: dt.date | None = None) -> str:
    """The technical manual as HTML.

    Parameters
    ----------
    questionnaire : Questionnaire
    report : CalibrationReport, optional
        The numbers of a calibration (``profiler calibrate``); without one the measurement sections say that
        they are not yet known. Refused when made for other questionnaire content.
    norms : sequence of NormTable
        The norm tables to describe (each must apply to the questionnaire).
    prepared : date, optional
        The date printed on the manual.
    """
    return render("manual.html", **manual_context(questionnaire, report, norms=norms, prepared=prepared))


def write_manual(questionnaire: Questionnaire, out: str | Path, *, calibration: str | Path | None = None,
                 prepared: dt.date | None = None) -> Path:
    """``profiler manual``: the manual of a questionnaire (with a calibration report, if given) written to ``out``."""
    report, norms = manual_sources(questionnaire, calibration)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(technical_manual(questionnaire, report, norms=norms, prepared=prepared), encoding="utf-8")
    return out


def calibrate_and_document(questionnaire: Questionnaire, data: str | Path, folder: str | Path,
                           options: CalibrationOptions) -> tuple[CalibrationRun, str]:
    """``profiler calibrate``: every calibration step, then the technical manual (``manual.html``) from its report.

    Returns the run and the manual's sha256 (also appended to the run's log).
    """
    run = calibrate_file(questionnaire, data, folder, options)
    _, norms = manual_sources(questionnaire, run.folder / "calibration.json")
    html = technical_manual(questionnaire, run.report, norms=norms, prepared=options.created)
    return run, record_file(run, "manual.html", html)


__all__ = ["calibrate_and_document", "manual_context", "technical_manual", "write_manual"]
