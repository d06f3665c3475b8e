"""``profiler irt fit QUESTIONNAIRE RESPONSES.csv --out DIR``: calibrate an IRT model per scale.

Writes ``DIR/<scale>.json`` for every domain scale (or each ``--scale``): a sealed IRT calibration
(item parameters with standard errors, fit, sample) that ``profiler.irt.load_irt_calibration`` reads.
Answers the questionnaire does not allow (e.g. 0 for "missed") count as missing; missing answers stay
out of the likelihood.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from profiler.cli._common import EXIT_OK


def register(commands) -> None:
    irt = commands.add_parser("irt", help="item response theory: calibrate scales (GRM, GPCM)")
    actions = irt.add_subparsers(dest="action", metavar="ACTION", required=True)
    fit = actions.add_parser("fit", help="calibrate an IRT model per scale and write one artifact per scale",
                             description="Fit a graded response (or GPCM) model to each scale of a questionnaire "
                             "by marginal maximum likelihood as R mirt does, and write DIR/<scale>.json.")
    fit.add_argument("questionnaire", metavar="QUESTIONNAIRE", help="questionnaire YAML file or bundled id")
    fit.add_argument("responses", metavar="RESPONSES.csv", type=Path, help="answers, one row per respondent")
    fit.add_argument("--out", required=True, type=Path, metavar="DIR", help="folder for the <scale>.json files")
    fit.add_argument("--model", choices=("graded", "gpcm"), default="graded", help="item model (default: graded)")
    fit.add_argument("--scale", action="append", dest="scales", metavar="SCALE",
                     help="calibrate this scale (repeatable; default: every domain)")
    fit.add_argument("--name", default="calibration", help="name recorded in the artifacts (default: calibration)")
    fit.add_argument("--source", default="", help="description of the sample, recorded in the artifacts")
    fit.add_argument("--version", default="1.0.0", help="version recorded in the artifacts (default: 1.0.0)")
    fit.add_argument("--sep", default=",", help="field separator of the CSV (default ','; \\t for a tab)")
    fit.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from profiler.irt.calibration import calibrate_irt, write_calibrations
    from profiler.questionnaire import load_questionnaire

    questionnaire = load_questionnaire(args.questionnaire)
    responses = _read_responses(args.responses, args.sep)
    calibrations = calibrate_irt(questionnaire, responses, name=args.name, source=args.source or str(args.responses),
                                 model=args.model, version=args.version, scales=args.scales)
    for path, (scale, c) in zip(write_calibrations(calibrations, args.out), calibrations.items(), strict=True):
        m2 = c.fit["m2"]
        print(f"{scale}: {c.sample['n']:,} respondents, {c.estimation['n_iter']} EM cycles, {m2['statistic']} "
              f"{m2['value']:.1f} on {m2['df']} df (RMSEA {m2['RMSEA']:.3f}), marginal reliability "
              f"{c.fit['marginal_reliability']:.3f} -> {path}")
    return EXIT_OK


def _read_responses(path: Path, sep: str):
    import pandas as pd

    from profiler.errors import ProfilerError

    sep = {"\\t": "\t", "tab": "\t"}.get(sep, sep)  # a tab typed on a command line arrives as \t
    if len(sep) != 1:
        raise ProfilerError(f"--sep must be one character (or \\t for a tab), got {sep!r}")
    try:
        return pd.read_csv(path, sep=sep, encoding="utf-8-sig")
    except FileNotFoundError:
        raise ProfilerError(f"{path}: no such file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise ProfilerError(f"{path}: cannot read the CSV: {exc}") from None
