"""The fairness audit of one of the organisation's job model versions, as ``profiler audit fairness`` reports it:
the NYC Local Law 144 summary, impact ratios with their 95% CIs for selection, scoring and people's decisions,
Cohen's d; every table as CSV.

The figures come from :func:`profiler.pipeline.fairness_audit.compute_fairness_audit` (the function the recorded
audit uses) and the page from the fairness report's own template (:func:`profiler.reports.fairness.
fairness_context`). Group labels are read from the store's demographics vault by that function only, and each
read is logged with the user and the purpose; nothing on these pages reaches scoring.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from profiler.errors import ProfilerError
from profiler.fairness.audit import FairnessAudit
from profiler.pipeline.fairness_audit import compute_fairness_audit, recorded_versions
from profiler.reports.fairness import fairness_context
from profiler.web.workspace.auth import PATH, context, me, message, page, route, state
from profiler.web.workspace.report import report_body
from profiler.web.workspace.tables import csv_response

# The tables of an audit, as downloaded: name -> what the file holds.
TABLES = {
    "summary": "the NYC summary: selection and scoring rates and impact ratios per category",
    "selection": "selection by the tool (recommended to advance): every measure per category",
    "scoring": "scoring (above the median score): every measure per category",
    "decisions": "decisions by people (decided to advance): every measure per category",
    "smd": "score differences (Cohen's d with 95% CI, Hedges' g)",
}


def _choice(request: Request) -> tuple[list[tuple[str, list[str]]], str, str]:
    """The organisation's job models with their recorded versions, and the model and version asked for."""
    store = context(request).store
    models = [(m, recorded_versions(store, m)) for m in state(request).staff.job_models(me(request).user.tenant)]
    return models, request.query_params.get("model", ""), request.query_params.get("version", "")


def _audit(request: Request, model: str, version: str) -> FairnessAudit:
    staffer = me(request)
    return compute_fairness_audit(
        context(request).store, model, version=version or None, actor=f"{staffer.user.role}:{staffer.user.username}",
        purpose=f"fairness audit of job model {model} {version or '(newest version)'} in the workspace",
        audit_date=dt.date.today())


def _known(models: list[tuple[str, list[str]]], model: str) -> bool:
    return any(m == model for m, _ in models)


@route("GET", f"{PATH}/fairness", "fairness")
async def fairness_page(request: Request) -> HTMLResponse:
    """Choose a job model version; with one chosen, its audit as the fairness report shows it."""
    ctx = context(request)
    models, model, version = await ctx.run(_choice, request)
    report, error, status, tables = None, None, 200, {}
    if model:
        if not _known(models, model):
            error, status = "There is no such job model in your organisation.", 404
        else:
            try:
                audit = await ctx.run(_audit, request, model, version)
                report = await ctx.run(report_body, "fairness.html", fairness_context(audit))
                tables = {n: t for n, t in TABLES.items() if n != "decisions" or audit.decisions is not None}
            except ProfilerError as exc:
                error, status = str(exc), 409
    return page("fairness.html", status=status, me=me(request), models=models, model=model, version=version,
                report=report, error=error, tables=tables)


def audit_tables(audit: FairnessAudit) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Every table of an audit as header and rows (the figures unrounded, as in its JSON)."""
    out: dict[str, tuple[list[str], list[list[Any]]]] = {}
    summary = audit.nyc_summary()
    header = ["attribute", "category", "n", "in_ratio", "selection_rate", "selection_ratio", "scoring_n",
              "scoring_rate", "scoring_ratio"]
    out["summary"] = (header, [[row[h] for h in header] for row in summary])
    for name, result in audit.results():
        table = result.table
        out[name] = ([str(c) for c in table.columns], table.astype(object).where(table.notna(), None).values.tolist())
    smd = audit.smd
    out["smd"] = ([str(c) for c in smd.columns], smd.astype(object).where(smd.notna(), None).values.tolist())
    return out


@route("GET", f"{PATH}/fairness/{{table}}.csv", "fairness")
async def fairness_csv(request: Request, table: str) -> Response:
    ctx = context(request)
    models, model, version = await ctx.run(_choice, request)
    if table not in TABLES or not _known(models, model):
        return message("No such table", "Choose one of your organisation's job models on the fairness page and "
                       "download its tables from there.", status=404, staffer=me(request))
    try:
        audit = await ctx.run(_audit, request, model, version)
    except ProfilerError as exc:
        return message("No audit", str(exc), status=409, staffer=me(request))
    tables = audit_tables(audit)
    if table not in tables:
        return message("No such table", "Nobody has decided a case of this version yet: there is no table of "
                       "people's decisions.", status=404, staffer=me(request))
    header, rows = tables[table]
    chosen = audit.summary.job_model_version
    return csv_response(f"fairness-{model}-{chosen}-{table}.csv", header, rows)


__all__ = ["TABLES", "audit_tables", "fairness_csv", "fairness_page"]
