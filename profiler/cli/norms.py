"""``profiler norms build QUESTIONNAIRE DATA.csv --name NAME ...``: norm tables from a sample file.

The command parses and prints; :func:`profiler.pipeline.norm_building.build_norm_tables` decides (minimum n,
reliability warnings, strata, weighting) and :class:`profiler.norms.NormTable` seals each table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from profiler.cli._common import EXIT_OK


def register(commands) -> None:
    norms = commands.add_parser("norms", help="build norm tables from a sample of answers")
    actions = norms.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = actions.add_parser(
        "build", help="build a norm table (or one per stratum) from a CSV of answers",
        description="Build a sealed norm table from a calibration sample: n and reliability per scale are "
        "reported, samples under the minimum n are refused unless forced, low alpha or omega is warned about.")
    build.add_argument("questionnaire", metavar="QUESTIONNAIRE", help="questionnaire YAML file or bundled id")
    build.add_argument("data", metavar="DATA.csv", type=Path, help="answers, one row per respondent, items as columns")
    build.add_argument("--name", required=True, help="name of the norm group (lower case, e.g. general)")
    build.add_argument("--population", required=True, help="who the sample represents, in words")
    build.add_argument("--collected", required=True, help="when the data were collected")
    build.add_argument("--sampling", help="how respondents came to be in the sample")
    build.add_argument("--title", help="a title for the table")
    build.add_argument("--version", default="1.0.0", help="version of the table (default 1.0.0)")
    build.add_argument("--source", help="the data set, in words (default: the file name and its sha256)")
    build.add_argument("--by", metavar="COL[,COL...]", help="one norm table per stratum of these columns")
    build.add_argument("--margins", type=Path, metavar="MARGINS.csv",
                       help="weight the sample to population margins (columns variable, category, share)")
    build.add_argument("--force", action="store_true", help="build tables below the minimum n (marked as such)")
    build.add_argument("--out", type=Path, default=Path("norms"), metavar="DIR",
                       help="folder for the tables (default ./norms)")
    build.add_argument("--overwrite", action="store_true", help="replace existing tables of the same name")
    build.add_argument("--sep", default=",", help="field separator of the CSV (default ',')")
    build.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from profiler.pipeline.norm_building import MIN_NORM_N, NormProvenance, norms_from_file
    from profiler.questionnaire import load_questionnaire

    questionnaire = load_questionnaire(args.questionnaire)
    by = [c.strip() for c in args.by.split(",") if c.strip()] if args.by else []
    provenance = NormProvenance(name=args.name, population=args.population, collected=args.collected,
                                version=args.version, title=args.title, source=args.source,
                                **({"sampling": args.sampling} if args.sampling else {}))
    sample, built = norms_from_file(questionnaire, args.data, provenance, by=by, margins=args.margins,
                                    force=args.force, sep=args.sep)
    print(sample.describe())
    for table in built.tables:
        print(f"\nnorm group {table.name!r}: n = {table.sample.n:,}"
              + (" (below the minimum of %d: forced)" % MIN_NORM_N if table.sample.n < MIN_NORM_N else ""))
        if table.name in built.raking:
            raking = built.raking[table.name]
            print(f"  weighted to margins of {', '.join(raking.margins)}: effective n {raking.effective_n:,.1f}, "
                  f"weights {raking.weights.min():.3f} to {raking.weights.max():.3f}")
        print(f"  {'scale':<24}{'n':>8}{'mean':>9}{'SD':>8}{'alpha':>8}{'omega':>8}{'SEM':>8}")
        rows = {r.scale: r for r in built.reliability if r.table == table.name}
        for s in table.scales:
            omega_text = "-" if rows[s.scale].omega_total is None else f"{rows[s.scale].omega_total:.3f}"
            print(f"  {s.scale:<24}{s.n:>8,}{s.mean:>9.3f}{s.sd:>8.3f}{s.reliability.value:>8.3f}{omega_text:>8}"
                  f"{s.sem:>8.3f}")
    for message in built.warnings:
        print(f"warning: {message}", file=sys.stderr)
    for table, path in zip(built.tables, built.write(args.out, overwrite=args.overwrite), strict=True):
        print(f"wrote {path} ({table.sha256})")
    return EXIT_OK
