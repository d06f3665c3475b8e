"""``profiler report candidate|cohort`` and ``profiler audit fairness``: HTML reports from the store.

- ``report candidate ID [--for recruiter|candidate]``: the recruiter's report on a candidate's latest
  recommendation (validity and measurement first, the recommendation as advice, contributions, profile,
  evidence, counterfactuals, review), or the candidate's own report (``--for candidate``).
- ``report cohort MODEL``: every candidate of a job model with band, score, stability and review status,
  and the override figures.
- ``audit fairness MODEL [--groups FILE.csv]``: the adverse-impact audit of a job model's recommendations
  (selection and scoring rates, impact ratios with z, Fisher, CI, shortfall and flips, score differences,
  the NYC summary), as HTML and as JSON with every figure, recorded in the audit log. Group labels come
  from ``--groups`` (a CSV: a column ``candidate`` or ``candidate_id``, one column per attribute) or,
  without it, from the store's own demographics (read by profiler.pipeline.fairness_audit, logged).

Each report is logged (``report.generated`` with the report's SHA-256; the fairness audit as
``audit.run``). Reports hold pseudonyms, never names or protected attributes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from profiler.cli._common import EXIT_OK, EXIT_USAGE, add_db_option, db_location, default_actor

def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    add_db_option(common)
    common.add_argument("--actor", default=None, help="who asks, for the audit log (default: cli:<login name>)")
    return common


def register(commands) -> None:
    report = commands.add_parser("report", help="write HTML reports: a candidate's, or a job model's cohort")
    actions = report.add_subparsers(dest="action", metavar="ACTION", required=True)
    candidate = actions.add_parser("candidate", parents=[_common()], help="report on one candidate",
                                   description="The report on a candidate's latest recommendation: for the "
                                   "recruiter who decides (default) or for the candidate.")
    candidate.add_argument("id", metavar="ID", help="pseudonymous candidate id")
    candidate.add_argument("--out", type=Path, metavar="FILE.html", help="where to write (default: <ID>-<for>.html)")
    candidate.add_argument("--for", dest="audience", choices=("recruiter", "candidate"), default="recruiter",
                           help="whom the report is for (default: recruiter)")
    candidate.add_argument("--job-model", metavar="PATH", default=None,
                           help="the job model file that produced the recommendation (default: the bundled one)")
    candidate.add_argument("--recommendation", type=int, metavar="N", default=None,
                           help="one recorded recommendation by its record id (default: the latest)")
    candidate.add_argument("--contact", default=None, help="where the candidate contests or asks (candidate report)")
    candidate.set_defaults(func=run_candidate)
    cohort = actions.add_parser("cohort", parents=[_common()], help="report on every candidate of a job model")
    cohort.add_argument("model", metavar="MODEL", help="job model id, e.g. customer-support")
    cohort.add_argument("--out", type=Path, metavar="FILE.html", help="where to write (default: cohort-<MODEL>.html)")
    cohort.add_argument("--job-model", metavar="PATH", default=None,
                        help="the job model file (default: the bundled model of that id)")
    cohort.set_defaults(func=run_cohort)


def register_fairness(actions) -> None:
    """Add ``fairness`` to ``profiler audit`` (called by :mod:`profiler.cli.audit`)."""
    fairness = actions.add_parser(
        "fairness", parents=[_common()], help="adverse-impact audit of a job model (HTML and JSON, logged)",
        description="Selection and scoring rates, impact ratios with every measure beside them, score "
                    "differences and the NYC Local Law 144 summary, for the candidates a job model assessed.")
    fairness.add_argument("model", metavar="MODEL", help="job model id, e.g. customer-support")
    fairness.add_argument("--groups", type=Path, metavar="FILE.csv", default=None,
                          help="group labels: a column candidate (or candidate_id) and one column per attribute; "
                               "default: the store's demographics vault")
    fairness.add_argument("--out", type=Path, metavar="DIR", default=Path("."), help="folder to write to (default: .)")
    fairness.add_argument("--data-kind", choices=("historical", "test"), default="historical",
                          help="whether the store holds real candidates (historical, default) or test data")
    fairness.add_argument("--data-reason", default=None, help="with test data: why historical data were not used")
    fairness.add_argument("--first-used", type=_date, default=None, metavar="DATE",
                          help="date the tool was first used (default: the first recommendation in the store)")
    fairness.add_argument("--date", type=_date, default=None, metavar="DATE", help="audit date (default: today)")
    fairness.add_argument("--auditor", default=None, help="who carried out the audit (printed in the report)")
    fairness.add_argument("--version", default=None, dest="model_version",
                          help="job-model version to audit (an audit covers one version; default: the newest)")
    fairness.set_defaults(func=run_fairness)


def run_candidate(args: argparse.Namespace) -> int:
    from profiler.jobmodel import load_job_model
    from profiler.reports.recorded import write_candidate_report
    from profiler.store import Store

    job_model = load_job_model(args.job_model) if args.job_model else None
    out = args.out or Path(f"{args.id}-{args.audience}.html")
    with Store(db_location(args), create=False) as store:
        written = write_candidate_report(store, args.id, out, audience=args.audience,
                                         actor=args.actor or default_actor(), job_model=job_model,
                                         recommendation_id=args.recommendation, contact=args.contact)
    case = written.case
    print(f"wrote {out}: {args.audience} report on {args.id} ({case.review.state}; {written.sha256})")
    if not case.job_model_matches:
        print(f"warning: the job model {case.job_model.id} {case.job_model.version} given is not the one that "
              "produced the recommendation (content hashes differ); the report says so", file=sys.stderr)
    return EXIT_OK


def run_cohort(args: argparse.Namespace) -> int:
    from profiler.jobmodel import load_job_model
    from profiler.reports.recorded import write_cohort_report
    from profiler.store import Store

    model = load_job_model(args.job_model) if args.job_model else args.model
    if args.job_model and model.id != args.model:
        print(f"profiler report cohort: {args.job_model} is job model {model.id!r}, not {args.model!r}",
              file=sys.stderr)
        return EXIT_USAGE
    out = args.out or Path(f"cohort-{args.model}.html")
    with Store(db_location(args), create=False) as store:
        written = write_cohort_report(store, model, out, actor=args.actor or default_actor())
    cohort = written.cohort
    print(f"wrote {out}: cohort of {args.model}, {len(cohort.entries)} recommendation(s) ({written.sha256})")
    for warning in cohort.oversight.get("warnings", []):
        print(f"WARNING: {warning}")
    return EXIT_OK


def run_fairness(args: argparse.Namespace) -> int:
    from profiler.pipeline.fairness_audit import read_group_labels
    from profiler.reports.fairness import write_fairness_audit
    from profiler.store import Store

    if args.data_kind == "test" and not args.data_reason:
        print("profiler audit fairness: with --data-kind test, say why historical data were not used "
              "(--data-reason TEXT)", file=sys.stderr)
        return EXIT_USAGE
    groups, groups_source = read_group_labels(args.groups) if args.groups is not None else (None, None)
    with Store(db_location(args), create=False) as store:
        run = write_fairness_audit(
            store, args.model, args.out, actor=args.actor or default_actor(), groups=groups,
            groups_source=groups_source, audit_date=args.date, data_kind=args.data_kind,
            data_reason=args.data_reason, first_used=args.first_used, auditor=args.auditor,
            version=args.model_version)
    print(f"wrote {run.html_path} and {run.json_path} ({run.candidates} candidates; audit log entry {run.log_seq})")
    for name, value in run.minimum_impact_ratios.items():
        shown = "-" if value is None or value != value else f"{value:.3f}"
        print(f"  lowest impact ratio, {name}: {shown}")
    print("  every measure (z, Fisher, CI, shortfall, flips) and the disagreements are in the report")
    return EXIT_OK
