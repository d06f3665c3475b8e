"""``profiler schema``: print the JSON Schema (draft-07) of the questionnaire format."""

from __future__ import annotations

import argparse
import sys

from profiler.cli._common import EXIT_OK


def register(commands) -> None:
    schema = commands.add_parser("schema", help="print the JSON Schema (draft-07) of the questionnaire format")
    schema.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from profiler.questionnaire.schema import questionnaire_schema_text

    sys.stdout.write(questionnaire_schema_text())
    return EXIT_OK
