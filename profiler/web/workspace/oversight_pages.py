"""Oversight for auditors, operators and administrators, and contests for recruiters: override and contest
rates per reviewer and per job model, the stop and resumption of a job model, the audit log's verification,
and a candidate's contest taken in on the case page. Each calls the oversight function the command line
calls (:meth:`Review.figures`' :func:`oversight_figures`, :class:`ModelControl`, :meth:`AuditLog.verify`,
:meth:`Review.contest`), limited to the organisation's job models."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from profiler.errors import ProfilerError
from profiler.oversight.control import ModelControl
from profiler.oversight.review import OversightFigures, Review, oversight_figures, oversight_over_time
from profiler.oversight.review.figures import PERIODS
from profiler.reports._charts import rates_over_time
from profiler.store.anchoring import signing_key, trusted_keys
from profiler.store.audit_log import AuditLog
from profiler.web.workspace.report import charts_as_images
from profiler.web.workspace.auth import PATH, context, me, message, page, route, see, state
from profiler.web.workspace.review_pages import found_case, render_case
from profiler.web.workspace.tables import csv_response

RATES = ("override_rate", "do_not_use_rate", "contest_rate")
HOURS = ("hours_median", "hours_p90")


def _models(request: Request) -> list[str]:
    return state(request).staff.job_models(me(request).user.tenant)


def _frames(request: Request) -> tuple[Any, Any]:
    """Every decision and contest of the organisation's job models (``Review.decision_frame()``,
    ``contest_frame()``)."""
    review = Review(context(request).store)
    models = _models(request)
    decisions, contests = review.decision_frame(), review.contest_frame()
    return decisions[decisions["job_model_id"].isin(models)], contests[contests["job_model_id"].isin(models)]


def _figures(request: Request, frames: tuple[Any, Any] | None = None) -> OversightFigures:
    """:func:`oversight_figures` of the organisation's decisions and contests (as ``profiler review figures``)."""
    decisions, contests = frames if frames is not None else _frames(request)
    rule = Review(context(request).store).settings.rubber_stamp
    return oversight_figures(decisions, contests, rule=rule, now=datetime.now(UTC))


def _period(request: Request) -> str:
    period = request.query_params.get("period", "month")
    return period if period in PERIODS else "month"


def _over_time(request: Request, period: str, frames: tuple[Any, Any] | None = None) -> dict[str, Any]:
    """:func:`oversight_over_time` per reviewer and per job model, as tables and as charts."""
    decisions, contests = frames if frames is not None else _frames(request)
    out = {}
    for by, label in (("reviewer", "reviewer"), ("job_model_id", "job model")):
        frame = oversight_over_time(decisions, contests, by=by, period=period)
        periods = sorted(set(frame["period"]), key=lambda p: frame.loc[frame["period"] == p, "start"].iloc[0])
        charts = []
        for column, what in (("override_rate", "Override rate"), ("contest_rate", "Contest rate")):
            series = {}
            for who, rows in frame.groupby(by, sort=True):
                values = dict(zip(rows["period"], rows[column], strict=True))
                series[str(who)] = [values.get(p) for p in periods]
            title = f"{what} per {label} and {period}"
            name = f"{column.replace('_', '-')}-{by.replace('_', '-')}"
            chart = rates_over_time(name, periods, series, title=title, ylabel=what.lower()) if periods else None
            charts.append(None if chart is None else Markup(charts_as_images(str(chart))))
        out[by] = (frame, charts)
    return out


def _time_table(frame: Any) -> tuple[list[str], list[list[str]]]:
    header = [str(c) for c in frame.columns if c != "start"]
    rows = [[_cell(c, row[c]) for c in header] for _, row in frame.iterrows()]
    return header, rows


def _cell(column: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if column in RATES:
        return f"{100 * float(value):.1f}%"
    if column in HOURS:
        return f"{float(value):.1f}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def table(frame: Any) -> tuple[list[str], list[list[str]]]:
    """A figures table as header and text rows (index columns first), as shown and as downloaded."""
    header = [str(n) for n in frame.index.names] + [str(c) for c in frame.columns]
    rows = []
    for key, row in frame.iterrows():
        keys = list(key) if isinstance(key, tuple) else [key]
        rows.append([str(k) for k in keys] + [_cell(c, row[c]) for c in frame.columns])
    return header, rows


@route("GET", f"{PATH}/oversight", "oversight")
async def oversight(request: Request) -> HTMLResponse:
    ctx, period = context(request), _period(request)
    frames = await ctx.run(_frames, request)  # read once for both
    figures = await ctx.run(_figures, request, frames)
    over_time = await ctx.run(_over_time, request, period, frames)
    return page("oversight.html", me=me(request), reviewers=table(figures.by_reviewer),
                models=table(figures.by_job_model), rule=figures.rule.text(), warnings=figures.warnings,
                period=period, periods=list(PERIODS),
                over_time=[("reviewers-over-time", "Per reviewer", _time_table(over_time["reviewer"][0]),
                            over_time["reviewer"][1]),
                           ("models-over-time", "Per job model", _time_table(over_time["job_model_id"][0]),
                            over_time["job_model_id"][1])])


TABLES = ("reviewers", "models", "reviewers-over-time", "models-over-time")


@route("GET", f"{PATH}/oversight/{{which}}.csv", "oversight")
async def oversight_csv(request: Request, which: str) -> Response:
    """A table of the oversight page; the tables over time by ``?period=`` (month, week, quarter)."""
    if which not in TABLES:
        return message("No such table", f"The tables are {', '.join(t + '.csv' for t in TABLES)}.", status=404,
                       staffer=me(request))
    ctx = context(request)
    if which.endswith("-over-time"):
        period = _period(request)
        by = "reviewer" if which.startswith("reviewers") else "job_model_id"
        frame = (await ctx.run(_over_time, request, period))[by][0]
        header = [str(c) for c in frame.columns if c != "start"]
        rows = [[_plain(row[c]) for c in header] for _, row in frame.iterrows()]
        return csv_response(f"oversight-{which}-{period}.csv", header, rows)
    figures = await ctx.run(_figures, request)
    header, rows = table({"reviewers": figures.by_reviewer, "models": figures.by_job_model}[which])
    return csv_response(f"oversight-{which}.csv", header, rows)


def _plain(value: Any) -> Any:
    """A figure as downloaded: unrounded, empty when missing."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


# Stopping and resuming job models ---------------------------------------------------------------------------
@route("GET", f"{PATH}/models", "stop")
async def models_page(request: Request) -> HTMLResponse:
    return await _models_page(request)


async def _models_page(request: Request, error: str | None = None, status: int = 200) -> HTMLResponse:
    models = _models(request)
    control = ModelControl(context(request).store)
    history = [s for s in await context(request).run(control.history) if s.job_model_id in models]
    active = {s.job_model_id for s in history if s.active}
    return page("models.html", status=status, me=me(request), models=models, active=active, history=history,
                error=error, done=request.query_params.get("done"))


@route("GET", f"{PATH}/models/{{which}}.csv", "stop")
async def models_csv(request: Request, which: str) -> Response:
    """The job models page's tables: each model's state, and every stop and resumption."""
    models = _models(request)
    history = [s for s in await context(request).run(ModelControl(context(request).store).history)
               if s.job_model_id in models]
    if which == "state":
        active = {s.job_model_id for s in history if s.active}
        return csv_response("models-state.csv", ["job_model", "state"],
                            [[m, "stopped" if m in active else "running"] for m in models])
    if which != "stops":
        return message("No such table", "The tables are models/state.csv and models/stops.csv.", status=404,
                       staffer=me(request))
    return csv_response("models-stops.csv", ["job_model", "version", "stopped_by", "stopped_at", "reason",
                                             "resumed_by", "resumed_at", "resume_reason"],
                        [[s.job_model_id, s.job_model_version or "every version", s.stopped_by,
                          s.stopped_at.isoformat(), s.reason, s.resumed_by,
                          s.resumed_at.isoformat() if s.resumed_at else None, s.resume_reason] for s in history])


async def _control(request: Request, action: str) -> Response:
    form = me(request).form
    model = form.get("model", "")
    if model not in _models(request):
        return message("No such job model", "There is no such job model in your organisation.", status=404,
                       staffer=me(request))
    control = ModelControl(context(request).store)
    act = control.stop if action == "stop" else control.resume
    try:
        await context(request).run(act, model, operator=me(request).user.username, reason=form.get("reason", ""),
                                   version=form.get("version") or None)
    except ProfilerError as exc:
        return await _models_page(request, error=str(exc), status=400)
    return see(f"{PATH}/models?done={action}")


@route("POST", f"{PATH}/models/stop", "stop")
async def stop(request: Request) -> Response:
    return await _control(request, "stop")


@route("POST", f"{PATH}/models/resume", "stop")
async def resume(request: Request) -> Response:
    return await _control(request, "resume")


# The audit log's verification -------------------------------------------------------------------------------
def _verify(store: Any, anchor: tuple[int, str] | None) -> Any:
    keys = trusted_keys(None, signing=signing_key())
    return AuditLog(store).verify(anchor=anchor, keys=keys)


@route("GET", f"{PATH}/audit", "oversight")
async def audit(request: Request) -> HTMLResponse:
    """Verify the whole log (as ``profiler audit verify``), against an anchor ``seq:hash`` if one is given."""
    text = request.query_params.get("anchor", "").strip()
    anchor = None
    if text:
        seq, _, digest = text.partition(":sha256:") if ":sha256:" in text else (text, "", "")
        if not seq.isdigit() or not digest:
            return page("audit.html", status=400, me=me(request), result=None, anchor=text,
                        error="An anchor is written seq:sha256:hex, as profiler audit verify prints a head.")
        anchor = (int(seq), "sha256:" + digest)
    result = await context(request).run(_verify, context(request).store, anchor)
    return page("audit.html", me=me(request), result=result, anchor=text, error=None)


# Contests ------------------------------------------------------------------------------------------------------
@route("POST", f"{PATH}/cases/{{recommendation_id}}/contest", "contest")
async def contest(request: Request, recommendation_id: str) -> Response:
    """Take in a candidate's contest of the case's first decision (the second reviewer decides on the case page)."""
    staffer, ctx = me(request), context(request)
    found = await found_case(request, recommendation_id)
    first = found.first_decision
    if first is None:
        return await render_case(request, recommendation_id, status=400,
                                 error="Nobody has decided this case yet: there is nothing to contest.")
    form = staffer.form
    try:
        filed = await ctx.run(Review(ctx.store).contest, first.id, received_by=staffer.user.username,
                              statement=form.get("statement") or None, assign_to=form.get("assign_to") or None)
    except ProfilerError as exc:
        return await render_case(request, recommendation_id, error=str(exc), status=400)
    return see(f"{PATH}/cases/{found.recommendation.id}?done=contest-{filed.id}")


__all__ = ["audit", "contest", "models_csv", "models_page", "oversight", "oversight_csv", "resume", "stop", "table"]
