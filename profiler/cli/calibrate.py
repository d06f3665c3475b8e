"""``profiler calibrate QUESTIONNAIRE DATA.csv --out DIR`` and ``profiler manual QUESTIONNAIRE --out manual.html``.

``calibrate`` runs every calibration step (:mod:`profiler.pipeline.calibration`) and writes the technical manual
(:mod:`profiler.reports.manual`); ``manual`` writes the manual of a questionnaire, from a calibration report when
one is given. Both parse and print only.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from profiler.cli._common import EXIT_OK, EXIT_PROBLEMS


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def register(commands) -> None:
    calibrate = commands.add_parser(
        "calibrate", help="calibrate a questionnaire on a sample and write its technical manual",
        description="Item statistics, reliability (alpha, omega, SEM), dimensionality (parallel analysis, EFA), the "
        "CFA of the declared structure, the validity calibration and norms, from one CSV sample; every step and "
        "file logged and hashed, and a technical manual written from the numbers.")
    calibrate.add_argument("questionnaire", metavar="QUESTIONNAIRE", help="questionnaire YAML file or bundled id")
    calibrate.add_argument("data", metavar="DATA.csv", type=Path, help="answers, one row per respondent")
    calibrate.add_argument("--out", required=True, type=Path, metavar="DIR", help="folder for everything written")
    calibrate.add_argument("--name", help="name of the calibration (default: the data file's name)")
    calibrate.add_argument("--source", help="the sample in words: who, where, when, how selected")
    calibrate.add_argument("--population", help="with --collected: build a norm table for this population")
    calibrate.add_argument("--collected", help="when the data were collected (for the norm table)")
    calibrate.add_argument("--sampling", help="how respondents came to be in the sample (for the norm table)")
    calibrate.add_argument("--norms-name", default="general", help="name of the norm table (default general)")
    calibrate.add_argument("--force-norms", action="store_true", help="build norms below the minimum n (marked)")
    calibrate.add_argument("--language-column", metavar="COL",
                           help="a column naming the language of each respondent: compare the language versions")
    calibrate.add_argument("--source-language", help="the source language (default: the questionnaire's default)")
    calibrate.add_argument("--date", type=_date, help="the calibration's date (default today)")
    calibrate.add_argument("--seed", type=int, default=0, help="seed of the parallel analysis and rotations")
    calibrate.set_defaults(func=run_calibrate)

    manual = commands.add_parser("manual", help="write the technical manual of a questionnaire (HTML)")
    manual.add_argument("questionnaire", metavar="QUESTIONNAIRE", help="questionnaire YAML file or bundled id")
    manual.add_argument("--calibration", type=Path, metavar="calibration.json",
                        help="the report of a profiler calibrate run (without it, the manual says what is not known)")
    manual.add_argument("--out", required=True, type=Path, metavar="manual.html")
    manual.add_argument("--date", type=_date, help="the date printed on the manual (default today)")
    manual.set_defaults(func=run_manual)


def run_calibrate(args: argparse.Namespace) -> int:
    from profiler.pipeline.calibration import CalibrationOptions
    from profiler.questionnaire import load_questionnaire
    from profiler.reports.manual import calibrate_and_document

    questionnaire = load_questionnaire(args.questionnaire)
    options = CalibrationOptions(
        name=args.name or args.data.stem, source=args.source or f"the sample in {args.data.name} (not described)",
        created=args.date, population=args.population, collected=args.collected, sampling=args.sampling,
        norms_name=args.norms_name, force_norms=args.force_norms, language_column=args.language_column,
        source_language=args.source_language, random_state=args.seed)
    run, manual = calibrate_and_document(questionnaire, args.data, args.out, options)
    report = run.report
    print(f"calibration {report.name!r} of {questionnaire.id} {questionnaire.version}: {report.data['n']:,} of "
          f"{report.data['rows_read']:,} rows used")
    for step in report.steps:
        print(f"  {step['step']:<15}{step['status']:<9}{step['detail']}")
    print(f"wrote {run.folder}/: " + ", ".join([*report.files, "calibration.json", "manual.html"])
          + f"; the log of every step is {run.log.name}")
    print(f"technical manual: {run.folder / 'manual.html'} ({manual}); open it in a browser, print it for a PDF")
    return EXIT_PROBLEMS if any(s["status"] == "failed" for s in report.steps) else EXIT_OK


def run_manual(args: argparse.Namespace) -> int:
    from profiler.questionnaire import load_questionnaire
    from profiler.reports.manual import write_manual

    questionnaire = load_questionnaire(args.questionnaire)
    path = write_manual(questionnaire, args.out, calibration=args.calibration, prepared=args.date or dt.date.today())
    print(f"wrote {path}" + ("" if args.calibration else " (no calibration given: the measurement sections say what "
                             "is not yet known; pass --calibration DIR/calibration.json)"))
    return EXIT_OK
