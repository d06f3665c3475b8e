"""``profiler audit verify [--db FILE]``: recompute the audit log's hash chain and report tampering.

Prints ``audit log intact: N entries ...; head SEQ HASH`` and exits 0, or ``TAMPERED: <the first entry
edited, missing, reordered or inserted>`` and exits 1. Note the head: passed back later as ``--anchor
SEQ:HASH`` it also detects entries removed from the end of the log, which the chain alone cannot show.
"""

from __future__ import annotations

import argparse
import re

from profiler.cli._common import EXIT_OK, EXIT_PROBLEMS, add_db_option, db_location

ANCHOR = re.compile(r"^(\d+):(sha256:[0-9a-f]{64})$")


def register(commands) -> None:
    audit = commands.add_parser("audit", help="check the tamper-evident audit log; audit a job model's fairness")
    actions = audit.add_subparsers(dest="action", metavar="ACTION", required=True)
    verify = actions.add_parser("verify", help="recompute the hash chain; exit 1 if an entry was tampered with",
                                description="Recompute the audit log's hash chain and the case records' hashes; "
                                "name the first entry edited, missing, reordered or inserted.")
    add_db_option(verify)
    verify.add_argument("--anchor", type=_anchor, metavar="SEQ:HASH",
                        help="an entry noted earlier (its seq and entry hash): detects a log cut short")
    verify.set_defaults(func=run)
    from profiler.cli.report import register_fairness

    register_fairness(actions)  # profiler audit fairness (profiler.cli.report)


def _anchor(text: str) -> tuple[int, str]:
    match = ANCHOR.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not SEQ:HASH (e.g. 42:sha256:<64 hex digits>)")
    return int(match.group(1)), match.group(2)


def run(args: argparse.Namespace) -> int:
    from profiler.store.audit_log import AuditLog
    from profiler.store import Store

    with Store(db_location(args), create=False) as store:
        result = AuditLog(store).verify(anchor=args.anchor)
    print(f"{store.name}: {result}")
    if result.problem_count > 1:  # every row that disagrees, one per line
        for problem in result.problems:
            print(f"  {problem}")
        if result.problem_count > len(result.problems):
            print(f"  ... and {result.problem_count - len(result.problems)} more")
    return EXIT_OK if result.ok else EXIT_PROBLEMS
