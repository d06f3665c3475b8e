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


QUEUE_TABLES = ("confirmations", "contests", "stops")


@route("GET", f"{PATH}/queue/{{which}}.csv", "queue")
async def queue_lists_csv(request: Request, which: str) -> Response:
    """The queue's other lists as tables: overrides waiting for a second person, open contests, stopped models."""
    if which not in QUEUE_TABLES:
        return message("No such table", "The queue's tables are queue.csv and queue/" + ", queue/".join(
            f"{t}.csv" for t in QUEUE_TABLES) + ".", status=404, staffer=me(request))
    found = await context(request).run(_queue, request)
    if which == "confirmations":
        return csv_response("queue-confirmations.csv", ["recommendation", "candidate", "job_model", "version",
                                                        "decision", "reviewer", "band", "outcome", "decided_at"],
                            [[d.recommendation_id, d.candidate, d.job_model_id, d.job_model_version, d.id, d.reviewer,
                              d.band, d.outcome, d.decided_at.isoformat()] for d in found.awaiting_confirmation])
    if which == "contests":
        now = datetime.now(UTC)
        return csv_response("queue-contests.csv", ["contest", "recommendation", "candidate", "job_model", "version",
                                                   "filed_at", "due", "overdue", "assigned_to"],
                            [[c.id, c.recommendation_id, c.candidate, c.job_model_id, c.job_model_version,
                              c.filed_at.isoformat(), c.due.isoformat(), "yes" if c.overdue(now) else "no",
                              c.assigned_to] for c in found.contests])
    return csv_response("queue-stops.csv", ["job_model", "version", "stopped_by", "stopped_at", "reason"],
                        [[s.job_model_id, s.job_model_version or "every version", s.stopped_by,
                          s.stopped_at.isoformat(), s.reason] for s in found.stops])


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


@route("GET", f"{PATH}/cases/{{recommendation_id}}/{{which}}.csv", "queue")
async def case_csv(request: Request, recommendation_id: str, which: str) -> Response:
    """The case page's tables: its decisions (with confirmations and refusals) and its history."""
    found = await found_case(request, recommendation_id)
    if which == "history":
        return csv_response(f"case-{found.recommendation.id}-history.csv", ["entry", "recorded_at", "event", "actor"],
                            [[e.seq, e.recorded_at, e.event, e.actor] for e in found.history])
    if which != "decisions":
        return message("No such table", "A case's tables are decisions.csv and history.csv.", status=404,
                       staffer=me(request))
    confirmed = {c.decision_id: c for c in found.confirmations}
    rows = []
    for d in found.decisions:
        refusal, confirmation = found.refusal_of(d), confirmed.get(d.id)
        rows.append([d.id, d.stage, d.decision, d.outcome, d.reason, d.note, d.reviewer, d.role,
                     d.decided_at.isoformat(), d.contest_id,
                     confirmation.confirmed_by if confirmation else None, refusal.refused_by if refusal else None,
                     refusal.reason if refusal else None])
    return csv_response(f"case-{found.recommendation.id}-decisions.csv", [
        "decision", "stage", "kind", "outcome", "reason_code", "note", "reviewer", "role", "decided_at", "contest",
        "confirmed_by", "refused_by", "refusal_reason"], rows)


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


async def _second_person(request: Request, recommendation_id: str, action: str) -> Response:
    """A colleague's answer to an override waiting for a second person: ``confirm`` (:meth:`Review.confirm`)
    or ``refuse`` (:meth:`Review.refuse_confirmation`, with the reason), as ``profiler review confirm|refuse``."""
    staffer, ctx = me(request), context(request)
    found = await found_case(request, recommendation_id)
    waiting = {str(d.id): d for d in found.unconfirmed()}
    chosen = waiting.get(staffer.form.get("decision", ""))
    if chosen is None:
        return await render_case(request, recommendation_id, status=400,
                                  error="That decision does not wait for a confirmation in this case.")
    review, who = Review(ctx.store), {"reviewer": staffer.user.username, "role": staffer.user.role}
    try:
        if action == "confirm":
            done = await ctx.run(lambda: review.confirm(chosen.id, note=staffer.form.get("note") or None, **who))
        else:
            done = await ctx.run(lambda: review.refuse_confirmation(chosen.id, reason=staffer.form.get("reason", ""),
                                                                    **who))
    except ProfilerError as exc:
        return await render_case(request, recommendation_id, error=str(exc), status=400)
    word = "confirmation" if action == "confirm" else "refusal"
    return see(f"{PATH}/cases/{found.recommendation.id}?done={word}-{done.id}")


@route("POST", f"{PATH}/cases/{{recommendation_id}}/confirm", "decide")
async def confirm(request: Request, recommendation_id: str) -> Response:
    return await _second_person(request, recommendation_id, "confirm")


@route("POST", f"{PATH}/cases/{{recommendation_id}}/refuse", "decide")
async def refuse(request: Request, recommendation_id: str) -> Response:
    return await _second_person(request, recommendation_id, "refuse")


__all__ = ["case_csv", "case_page", "confirm", "decide", "queue_csv", "queue_lists_csv", "queue_page", "refuse"]
