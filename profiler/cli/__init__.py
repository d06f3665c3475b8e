"""The ``profiler`` command (also ``python -m profiler``).

Each subcommand lives in its own module of this package with ``register(commands)`` (adds its parser)
and ``run(args) -> int``; add a new one to ``COMMANDS``. A user's mistake (a broken file, an unknown id,
bad responses) prints a clear message and exits non-zero; a traceback means a bug in profiler.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from profiler.cli._common import EXIT_USAGE
from profiler.errors import ProfilerError

# Subcommand modules, in the order of the data flow; each registers its own parser.
COMMANDS = ["check", "check_translation", "schema", "norms", "calibrate", "take", "score", "irt", "cat", "model", "review",
            "audit", "candidate", "report", "demo", "serve"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="profiler", description="Psychometric profiling and explainable, human-overseen scoring for hiring."
    )
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"profiler.cli.{name}").register(commands)
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
