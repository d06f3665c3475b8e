"""For psychologists (and auditors): the questionnaires and job models the organisation uses, each version
recorded with its content hash and how many recommendations it produced, beside the bundled definition."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from profiler.errors import ProfilerError
from profiler.oversight.review import Review
from profiler.pipeline.cases import load_recorded_model
from profiler.web.workspace.auth import PATH, context, me, page, route, state
from profiler.web.workspace.tables import csv_response


@dataclass(frozen=True)
class Instrument:
    """One job model id: its definition (None when it is not bundled) and the versions recorded."""

    job_model_id: str
    model: Any
    recorded: list[tuple[str, str, str, str, int]]  # version, model hash, questionnaire, its hash, count


def instruments(request: Request) -> list[Instrument]:
    review = Review(context(request).store)
    found = []
    for model_id in state(request).staff.job_models(me(request).user.tenant):
        counts = Counter((r.job_model_version, r.job_model_hash,
                          f"{r.record.versions.questionnaire_id} {r.record.versions.questionnaire_version}",
                          r.record.versions.content_hash)
                         for r in review.recommendations(job_model=model_id) if r.record is not None)
        try:
            model = load_recorded_model(model_id)
        except ProfilerError:
            model = None
        found.append(Instrument(model_id, model, [(*key, n) for key, n in sorted(counts.items())]))
    return found


@route("GET", f"{PATH}/instruments", "psychology")
async def instruments_page(request: Request) -> HTMLResponse:
    found = await context(request).run(instruments, request)
    return page("instruments.html", me=me(request), instruments=found)


@route("GET", f"{PATH}/instruments.csv", "psychology")
async def instruments_csv(request: Request) -> Response:
    found = await context(request).run(instruments, request)
    rows = [[i.job_model_id, *r] for i in found for r in i.recorded]
    return csv_response("instruments.csv", ["job_model", "version", "job_model_hash", "questionnaire",
                                            "questionnaire_hash", "recommendations"], rows)


__all__ = ["instruments_csv", "instruments_page"]
