"""``profiler check FILE...``: validate questionnaire files and show warnings."""

from __future__ import annotations

import argparse
import sys

from profiler.cli._common import EXIT_OK, EXIT_PROBLEMS
from profiler.errors import DocumentError


def register(commands) -> None:
    check = commands.add_parser("check", help="validate questionnaire files and show warnings")
    check.add_argument("files", nargs="+", metavar="FILE", help="questionnaire YAML files or bundled ids")
    check.add_argument("--strict", action="store_true", help="exit non-zero on warnings too")
    check.add_argument("--quiet", action="store_true", help="print problems only")
    check.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from profiler.documents import sort_details
    from profiler.questionnaire.checks import questionnaire_warnings
    from profiler.questionnaire.loader import resolve_questionnaire_path, validate_document
    from profiler.questionnaire.questionnaire import Questionnaire
    from profiler.yamlsource import YamlSourceError, read_yaml_file

    failed = warned = 0
    for name in args.files:
        try:
            path, source = resolve_questionnaire_path(name)
            doc = read_yaml_file(path)
        except (YamlSourceError, DocumentError) as exc:
            problems, spec = exc.errors, None
        else:
            spec, problems = validate_document(doc)
        if spec is not None:
            problems = sort_details(questionnaire_warnings(Questionnaire(spec, source), doc))
        errors = [p for p in problems if p.severity == "error"]
        warnings = [p for p in problems if p.severity == "warning"]
        for problem in problems:
            print(problem, file=sys.stderr if problem.severity == "error" else sys.stdout)
        failed += bool(errors)
        warned += bool(warnings)
        if not errors and not args.quiet:
            q = Questionnaire(spec, source)
            print(f"{name}: ok — {q.id} {q.version}, {len(q.items)} items, {len(q.scales)} scales, "
                  f"{len(warnings)} warning(s), {q.content_hash}")
    if failed:
        return EXIT_PROBLEMS
    return EXIT_PROBLEMS if args.strict and warned else EXIT_OK
