"""For psychologists (and auditors): the questionnaires and job models the organisation uses, each version
recorded with its content hash and how many recommendations it produced, beside the bundled definition; the
calibration shipped for each questionnaire (norm tables, factor model, IRT calibrations, validity calibration)
with its sealed hash; each questionnaire's technical manual (:func:`profiler.reports.manual.manual_context`,
as ``profiler manual`` writes it); what changed between two versions of a job model
(:func:`profiler.jobmodel.diff.job_model_diff` of the versions the store recorded and the bundled one)."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from profiler.artifacts import content_sha256
from profiler.errors import ProfilerError
from profiler.jobmodel.diff import Change, job_model_diff
from profiler.oversight.review import Review
from profiler.pipeline.calibration import manual_sources
from profiler.pipeline.cases import load_recorded_model
from profiler.pipeline.job_model_versions import JobModelVersion, job_model_versions
from profiler.reports.manual import manual_context
from profiler.resources import model_files
from profiler.web.workspace.auth import PATH, Refused, context, me, message, page, route, state
from profiler.web.workspace.report import report_body
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


@dataclass(frozen=True)
class Calibration:
    """A calibration file shipped for a questionnaire: what it is, its sample, its sealed hash (and whether
    the content still matches it), and the questionnaire content it was made for."""

    path: str
    kind: str
    name: str
    version: str
    n: int | None
    source: str
    sha256: str
    seal_ok: bool
    questionnaire_hash: str


_KINDS = {"norms": "norm table", "irt": "IRT calibration", "factor-model": "factor model",
          "validity-calibration": "validity calibration"}


def calibrations(questionnaire_id: str) -> list[Calibration]:
    """The calibration files under ``models/<questionnaire>/`` (bundled, then the ``PROFILER_PATH`` folders'),
    in path order."""
    found = []
    for folder, path in ((f, p) for f in model_files(questionnaire_id) for p in sorted(f.rglob("*.json"))):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(doc, dict):
            continue
        relative = path.relative_to(folder).as_posix()
        kind = _KINDS.get(relative.split("/")[0].removesuffix(".json"), "calibration")
        sample = doc.get("sample") if isinstance(doc.get("sample"), dict) else {}
        q = doc.get("questionnaire") if isinstance(doc.get("questionnaire"), dict) else {}
        name = " ".join(str(doc[k]) for k in ("name", "scale") if isinstance(doc.get(k), str))
        found.append(Calibration(relative, kind, name, str(doc.get("version", "")), sample.get("n"),
                                 str(sample.get("source", "")), str(doc.get("sha256", "")),
                                 doc.get("sha256") == content_sha256(doc), str(q.get("content_hash", ""))))
    return found


def _questionnaires(found: list[Instrument]) -> dict[str, Any]:
    """The organisation's questionnaires (of its bundled job models) by id."""
    return {i.model.questionnaire.id: i.model.questionnaire for i in found if i.model is not None}


@route("GET", f"{PATH}/instruments", "psychology")
async def instruments_page(request: Request) -> HTMLResponse:
    ctx = context(request)
    found = await ctx.run(instruments, request)
    questionnaires = _questionnaires(found)
    shipped = {qid: await ctx.run(calibrations, qid) for qid in questionnaires}
    return page("instruments.html", me=me(request), instruments=found, questionnaires=questionnaires,
                calibrations=shipped)


@route("GET", f"{PATH}/instruments/calibrations.csv", "psychology")
async def calibrations_csv(request: Request) -> Response:
    ctx = context(request)
    questionnaires = _questionnaires(await ctx.run(instruments, request))
    rows = [[qid, c.path, c.kind, c.name, c.version, c.n, c.source, c.sha256, "yes" if c.seal_ok else "no",
             c.questionnaire_hash] for qid in questionnaires for c in await ctx.run(calibrations, qid)]
    return csv_response("calibrations.csv", ["questionnaire", "file", "kind", "name", "version", "n", "sample",
                                             "sha256", "hash_checked", "questionnaire_hash"], rows)


def _manual(questionnaire: Any) -> Markup:
    report, norms = manual_sources(questionnaire)
    return report_body("manual.html", manual_context(questionnaire, report, norms=norms, prepared=dt.date.today()))


@route("GET", f"{PATH}/instruments/manuals/{{questionnaire_id}}", "psychology")
async def manual_page(request: Request, questionnaire_id: str) -> HTMLResponse:
    """The technical manual of a questionnaire one of the organisation's job models uses (``profiler manual``),
    from the norm tables shipped for it; the measurement sections say what a calibration would add."""
    ctx = context(request)
    questionnaires = _questionnaires(await ctx.run(instruments, request))
    if questionnaire_id not in questionnaires:
        return message("No such questionnaire", "None of your organisation's job models uses that questionnaire.",
                       status=404, staffer=me(request))
    questionnaire = questionnaires[questionnaire_id]
    return page("manual.html", me=me(request), q=questionnaire, manual=await ctx.run(_manual, questionnaire))


# What changed between two versions of a job model ----------------------------------------------------------
@dataclass(frozen=True)
class Comparison:
    model: str
    versions: list[JobModelVersion]
    before: JobModelVersion | None
    after: JobModelVersion | None
    changes: list[Change]


def _comparison(request: Request) -> Comparison | None:
    """The versions of ``?model=`` and the diff of ``?from=`` and ``?to=`` (content hashes; by default the
    two newest versions); None when the model is not the organisation's."""
    params = request.query_params
    model = params.get("model", "")
    if model not in state(request).staff.job_models(me(request).user.tenant):
        return None
    versions = job_model_versions(context(request).store, model)
    by_hash = {v.content_hash: v for v in versions}
    default_before = versions[-2] if len(versions) > 1 else (versions[0] if versions else None)
    before = by_hash.get(params.get("from", ""), default_before)
    after = by_hash.get(params.get("to", ""), versions[-1] if versions else None)
    changes = job_model_diff(before.document, after.document) if before is not None and after is not None else []
    return Comparison(model, versions, before, after, changes)


async def _compared(request: Request) -> Comparison:
    found = await context(request).run(_comparison, request)
    if found is None:
        raise Refused(message("No such job model", "There is no such job model in your organisation.", status=404,
                              staffer=me(request)))
    return found


@route("GET", f"{PATH}/instruments/diff", "psychology")
async def diff_page(request: Request) -> HTMLResponse:
    return page("diff.html", me=me(request), c=await _compared(request), text=Change.text)


@route("GET", f"{PATH}/instruments/diff.csv", "psychology")
async def diff_csv(request: Request) -> Response:
    c = await _compared(request)
    before, after = c.before, c.after
    rows = [[c.model, before.version if before else "", before.content_hash if before else "",
             after.version if after else "", after.content_hash if after else "", ch.section, ch.item, ch.field,
             ch.kind, Change.text(ch.before), Change.text(ch.after)] for ch in c.changes]
    return csv_response(f"diff-{c.model}.csv", ["job_model", "from_version", "from_hash", "to_version", "to_hash",
                                                 "section", "item", "field", "change", "before", "after"], rows)


@route("GET", f"{PATH}/instruments.csv", "psychology")
async def instruments_csv(request: Request) -> Response:
    found = await context(request).run(instruments, request)
    rows = [[i.job_model_id, *r] for i in found for r in i.recorded]
    return csv_response("instruments.csv", ["job_model", "version", "job_model_hash", "questionnaire",
                                            "questionnaire_hash", "recommendations"], rows)


__all__ = ["Calibration", "Comparison", "calibrations", "calibrations_csv", "diff_csv", "diff_page", "instruments_csv",
           "instruments_page", "manual_page"]
