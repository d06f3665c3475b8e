"""The ``profiler`` command (also ``python -m profiler``).

A user's mistake (a broken file, an unknown id, bad responses) prints a clear message and exits with a
non-zero status; a traceback means a bug in profiler.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from profiler.errors import DocumentError, ProfilerError

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def _cmd_check(args: argparse.Namespace) -> int:
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
            problems = questionnaire_warnings(Questionnaire(spec, source), doc)
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


def _cmd_schema(args: argparse.Namespace) -> int:
    from profiler.questionnaire.schema import questionnaire_schema_text

    sys.stdout.write(questionnaire_schema_text())
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from profiler.demo import run_demo

    return run_demo(n_respondents=args.respondents, seed=args.seed)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="profiler", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    check = commands.add_parser("check", help="validate questionnaire files and show warnings")
    check.add_argument("files", nargs="+", metavar="FILE", help="questionnaire YAML files or bundled ids")
    check.add_argument("--strict", action="store_true", help="exit non-zero on warnings too")
    check.add_argument("--quiet", action="store_true", help="print problems only")
    check.set_defaults(func=_cmd_check)

    schema = commands.add_parser("schema", help="print the JSON Schema (draft-07) of the questionnaire format")
    schema.set_defaults(func=_cmd_schema)

    demo = commands.add_parser("demo", help="run the whole pipeline on bundled defaults and simulated candidates")
    demo.add_argument("--respondents", type=int, default=5, help="number of simulated respondents (default 5)")
    demo.add_argument("--seed", type=int, default=2024, help="seed of the simulation")
    demo.set_defaults(func=_cmd_demo)
    return parser


def _version() -> str:
    from profiler._version import __version__

    return f"profiler {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ProfilerError as exc:
        print(f"profiler {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
