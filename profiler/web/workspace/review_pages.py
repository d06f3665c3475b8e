"""The queue and the case: what waits for a person, the recruiter report live, the decision form, a second
person's confirmation, the case's history. Decisions go through :func:`profiler.pipeline.review_target.
decide_for_candidate` and confirmations through :meth:`profiler.oversight.Review.confirm`, the functions the
command line uses; the pipeline's refusals are shown on the page as they are worded there."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from profiler.errors import ProfilerError
from profiler.oversight.review import BANDS, RecordedRecommendation, Review
from profiler.pipeline.cases import case_from_store
from profiler.pipeline.review_target import decide_for_candidate
from profiler.web.workspace import casework
from profiler.web.workspace.access import allowed
from profiler.web.workspace.auth import PATH, Refused, context, me, message, page, route, router, see, state
from profiler.web.workspace.report import recruiter_sections, stylesheet
from profiler.web.workspace.tables import csv_response


def _queue(request: Request) -> casework.Queue:
    params = request.query_params
    return casework.queue(context(request).store, state(request).staff, me(request).user,
                          model=params.get("model"), band=params.get("band"))


@route("GET", f"{PATH}/queue", "queue")
async def queue_page(request: Request) -> HTMLResponse:
    found = await context(request).run(_queue, request)
    return page("queue.html", me=me(request), queue=found, bands=BANDS, age=casework.age,
                model=request.query_params.get("model", ""), band=request.query_params.get("band", ""),
                now=datetime.now(UTC))


@route("GET", f"{PATH}/queue.csv", "queue")
async def queue_csv(request: Request) -> Response:
    found = await context(request).run(_queue, request)
    now = datetime.now(UTC)
    rows = [[r.id, r.candidate, r.job_model_id, r.job_model_version, r.band, r.score_band,
             "" if r.score is None else f"{r.score:.1f}", r.validity_verdict or "", r.recorded_at.isoformat(),
             casework.age(r.recorded_at, now)] for r in found.pending]
    return csv_response("queue.csv", ["recommendation", "candidate", "job_model", "version", "band", "score_band",
                                      "score", "validity", "recorded_at", "waiting"], rows)


@router.get(f"{PATH}/report.css")
def report_css() -> Response:
    return Response(stylesheet(), media_type="text/css", headers={"cache-control": "max-age=3600"})


def _case(request: Request, recommendation_id: str) -> casework.CaseFile:
    try:
        number = int(recommendation_id)
    except ValueError:
        raise casework.NotFound(recommendation_id) from None
    return casework.case_file(context(request).store, state(request).staff, me(request).user, number)


def _refused(request: Request) -> Refused:
    return Refused(message("No such case", "There is no such case in your organisation.", status=404,
                           staffer=me(request)))


async def found_case(request: Request, recommendation_id: str) -> casework.CaseFile:
    """The case, or the 404 page (another organisation's case reads as one that does not exist)."""
    try:
        return await context(request).run(_case, request, recommendation_id)
    except casework.NotFound:
        raise _refused(request) from None


async def visible(request: Request, recommendation_id: str) -> RecordedRecommendation:
    """The recommendation alone (what deciding needs), or the same 404 page."""
    ctx = context(request)
    try:
        number = int(recommendation_id)
        return await ctx.run(casework.visible_recommendation, ctx.store, state(request).staff, me(request).user,
                             number)
    except (ValueError, casework.NotFound):
        raise _refused(request) from None


async def render_case(request: Request, recommendation_id: str, *, error: str | None = None,
                       form: dict[str, str] | None = None, status: int = 200) -> HTMLResponse:
    ctx = context(request)
    found = await found_case(request, recommendation_id)
    rec = found.recommendation
    case = await ctx.run(case_from_store, ctx.store, rec.candidate, recommendation_id=rec.id)
    review = Review(ctx.store)
    return page("case.html", status=status, me=me(request), found=found, rec=rec,
                report=await ctx.run(recruiter_sections, case), codes=review.reason_codes, error=error,
                form=form or {}, done=request.query_params.get("done"),
                can_decide=allowed(me(request).user.role, "decide"),
                can_contest=allowed(me(request).user.role, "contest"))


@route("GET", f"{PATH}/cases/{{recommendation_id}}", "queue")
async def case_page(request: Request, recommendation_id: str) -> HTMLResponse:
    return await render_case(request, recommendation_id)


@route("POST", f"{PATH}/cases/{{recommendation_id}}/decide", "decide")
async def decide(request: Request, recommendation_id: str) -> Response:
    staffer, ctx, staff = me(request), context(request), state(request).staff
    form = staffer.form
    try:
        number = int(recommendation_id)
    except ValueError:
        raise _refused(request) from None

    def record() -> Any:
        # One worker-thread call and one Review (its settings read once): the organisation's check, the open
        # contest, then the pipeline's decision in its own short write transaction.
        review = Review(ctx.store)
        rec = casework.visible_recommendation(ctx.store, staff, staffer.user, number, review=review)
        contest = casework.open_contest(ctx.store, rec, review=review)
        return decide_for_candidate(
            review, rec.candidate, form.get("decision", ""), reviewer=staffer.user.username,
            role=staffer.user.role, outcome=form.get("outcome") or None, reason=form.get("reason") or None,
            note=form.get("note") or None, recommendation=None if contest is not None else rec.id,
            contest=None if contest is None else contest.id)[0]

    try:
        decision = await ctx.run(record)
    except casework.NotFound:
        raise _refused(request) from None
    except ProfilerError as exc:
        return await render_case(request, recommendation_id, error=str(exc), form=form, status=400)
    return see(f"{PATH}/cases/{decision.recommendation_id}?done=decision-{decision.id}")


@route("POST", f"{PATH}/cases/{{recommendation_id}}/confirm", "decide")
async def confirm(request: Request, recommendation_id: str) -> Response:
    staffer, ctx = me(request), context(request)
    found = await found_case(request, recommendation_id)
    waiting = {str(d.id): d for d in found.unconfirmed()}
    chosen = waiting.get(staffer.form.get("decision", ""))
    if chosen is None:
        return await render_case(request, recommendation_id, status=400,
                                  error="That decision does not wait for a confirmation in this case.")
    try:
        confirmation = await ctx.run(Review(ctx.store).confirm, chosen.id, reviewer=staffer.user.username,
                                     role=staffer.user.role, note=staffer.form.get("note") or None)
    except ProfilerError as exc:
        return await render_case(request, recommendation_id, error=str(exc), status=400)
    return see(f"{PATH}/cases/{found.recommendation.id}?done=confirmation-{confirmation.id}")


__all__ = ["case_page", "confirm", "decide", "queue_csv", "queue_page"]
