"""``profiler check FILE...``: validate questionnaires and job models, and show warnings.

The kind of each file is told by its content: a document with ``criteria`` is a job model, anything
else a questionnaire. Bundled ids work too (``profiler check ipip-bfm-50 customer-support``).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from dataclasses import replace
from pathlib import Path

from profiler.cli._common import EXIT_OK, EXIT_PROBLEMS
from profiler.errors import DocumentError, ErrorDetail


def register(commands) -> None:
    check = commands.add_parser("check", help="validate questionnaire and job-model files and show warnings")
    check.add_argument("files", nargs="+", metavar="FILE", help="YAML files, or ids of bundled questionnaires and job models")
    check.add_argument("--strict", action="store_true",
                       help="treat warnings as errors (silence accepted ones in the file, with a reason)")
    check.add_argument("--quiet", action="store_true", help="print problems only")
    check.set_defaults(func=run)


def _resolve(name: str) -> Path:
    from profiler.jobmodel.loader import bundled_job_models
    from profiler.questionnaire.loader import bundled_questionnaires
    from profiler.resources import resolve

    bundled = {**bundled_job_models(), **bundled_questionnaires()}
    try:
        return resolve(name, bundled, "questionnaire or job model")[0]
    except LookupError as exc:
        raise DocumentError([ErrorDetail(name, 0, 0, "", str(exc))]) from None


def _check_questionnaire(doc, source: str) -> tuple[list[ErrorDetail], str | None]:
    from profiler.questionnaire.checks import questionnaire_warnings
    from profiler.questionnaire.loader import validate_document
    from profiler.questionnaire.questionnaire import Questionnaire

    spec, problems = validate_document(doc)
    if spec is None:
        return problems, None
    q = Questionnaire(spec, source)
    summary = f"questionnaire {q.id} {q.version}, {len(q.items)} items, {len(q.scales)} scales"
    found = questionnaire_warnings(q, doc)
    if spec.administration.adaptive is not None:
        from profiler.cat.plan import adaptive_scales, check_adaptive

        found += check_adaptive(q, doc)
        summary += f", adaptive: {', '.join(adaptive_scales(q))}"
    return found, f"{summary}, {{warnings}} warning(s), {q.content_hash}"


def _check_job_model(doc, source: str) -> tuple[list[ErrorDetail], str | None]:
    from profiler.jobmodel.jobmodel import JobModel
    from profiler.jobmodel.loader import validate_job_model_document

    spec, questionnaire, problems = validate_job_model_document(doc)
    if spec is None:
        return problems, None
    model = JobModel(spec, questionnaire, source)
    summary = f"job model {model.id} {model.version}, {len(model.criteria)} criteria on {questionnaire.id}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reported below, located in the file
        messages = model.warnings  # needs the norm group: effective weights are weight x spread in it
    found = []
    for message in messages:
        where = next((i for i, c in enumerate(model.criteria) if f"'{c.id}'" in message or f" {c.id} " in message), None)
        found.append(doc.error(("criteria", where) if where is not None else ("criteria",), message,
                               severity="warning", code="dominant-criterion"))
    return found, f"{summary}, {{warnings}} warning(s), {model.content_hash}"


def _ordered(problems: list[ErrorDetail], strict: bool) -> list[ErrorDetail]:
    """Hints first (each explains several errors below it), then everything in file order; ``--strict``
    makes warnings errors."""
    from profiler.documents import sort_details

    if strict:
        problems = [replace(p, severity="error") if p.severity == "warning" else p for p in problems]
    return [p for p in problems if p.severity == "hint"] + sort_details([p for p in problems if p.severity != "hint"])


def run(args: argparse.Namespace) -> int:
    from profiler.yamlsource import YamlSourceError, read_yaml_file

    failed = warned = 0
    for name in args.files:
        summary = None
        try:
            path = _resolve(name)
            doc = read_yaml_file(path)
        except (YamlSourceError, DocumentError) as exc:
            problems = exc.errors
        else:
            is_job_model = isinstance(doc.data, dict) and "criteria" in doc.data
            checker = _check_job_model if is_job_model else _check_questionnaire
            problems, summary = checker(doc, str(path))  # the path: an adaptive bank is read relative to it
        problems = _ordered(problems, args.strict)
        errors = [p for p in problems if p.severity == "error"]
        warnings = [p for p in problems if p.severity == "warning"]
        for problem in problems:
            print(problem, file=sys.stdout if problem.severity == "warning" else sys.stderr)
        failed += bool(errors)
        if summary is not None and not errors and not args.quiet:
            print(f"{name}: ok — {summary.format(warnings=len(warnings))}")
        elif summary is not None and errors and args.strict:
            print(f"{name}: {len(errors)} warning(s) treated as errors (--strict)", file=sys.stderr)
    return EXIT_PROBLEMS if failed else EXIT_OK
