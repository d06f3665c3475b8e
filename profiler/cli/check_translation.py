"""``profiler check-translation QUESTIONNAIRE DATA.csv --language-column COL``: compare language versions item by item.

Parses and prints; :func:`profiler.pipeline.translation.translation_from_file` reads the sample and
:func:`profiler.fairness.translation.translation_check` compares. Exit status 1 when items should go back to
the translator, so that a pipeline can stop on it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from profiler.cli._common import EXIT_OK, EXIT_PROBLEMS


def register(commands) -> None:
    check = commands.add_parser(
        "check-translation", help="compare the language versions of a questionnaire on answers (polarity check)",
        description="Per language: alpha and item-rest correlations; items whose relation to their scale reverses "
        "or collapses against the source language; invariance across languages. Says which items to send back "
        "to the translator.")
    check.add_argument("questionnaire", metavar="QUESTIONNAIRE", help="questionnaire YAML file or bundled id")
    check.add_argument("data", metavar="DATA.csv", type=Path, help="answers with a language column")
    check.add_argument("--language-column", required=True, metavar="COL", help="the column naming the language")
    check.add_argument("--source", help="the source language (default: the questionnaire's default language)")
    check.add_argument("--no-invariance", action="store_true", help="skip the multi-group CFA (faster)")
    check.add_argument("--json", type=Path, metavar="FILE", help="also write every figure as JSON")
    check.add_argument("--sep", default=",", help="field separator of the CSV (default ',')")
    check.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from profiler.pipeline.translation import translation_from_file
    from profiler.questionnaire import load_questionnaire

    questionnaire = load_questionnaire(args.questionnaire)
    sample, check = translation_from_file(questionnaire, args.data, args.language_column, source=args.source,
                                          check_invariance=not args.no_invariance, sep=args.sep)
    print(sample.describe())
    # Scales as rows, languages as columns: a questionnaire has a few languages but may have 30 facets.
    shown = [lang for lang in check.sizes if lang not in check.skipped]
    heads = [lang + (" (source)" if lang == check.source else "") for lang in shown]
    width = max(9, *(len(h) + 2 for h in heads))
    name = max(12, *(len(s) + 2 for s in check.alphas.columns))
    print(f"  {'alpha':<{name}}" + "".join(f"{h:>{width}}" for h in heads))
    print(f"  {'n':<{name}}" + "".join(f"{check.sizes[lang]:>{width},}" for lang in shown))
    for scale in check.alphas.columns:
        print(f"  {scale:<{name}}" + "".join(f"{check.alphas.at[lang, scale]:>{width}.3f}" for lang in shown))
    for language, reason in check.skipped.items():
        print(f"  {language}: not compared ({reason})")
    print(check.summary())
    if check.invariance is not None:
        print(f"Invariance across languages: {check.invariance['verdict']}")
    if args.json:
        args.json.write_text(json.dumps(check.to_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return EXIT_PROBLEMS if check.send_back else EXIT_OK
