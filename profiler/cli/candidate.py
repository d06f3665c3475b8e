"""``profiler candidate export|erase|purge|hold``: a candidate's data rights and the retention of cases.

- ``export ID``: everything held about the candidate, as JSON (standard output or ``--output FILE``).
- ``erase ID --reason TEXT --yes``: delete their answers, case records, identity and demographics; their log
  entries keep only hashes; prints the receipt (the erasure's log entry is the proof).
- ``purge [--days N] [--dry-run]``: erase cases finished more than N days ago (default 365), except
  those on legal hold.
- ``hold ID --reason TEXT [--release]``: put a candidate's records on legal hold, or release them.
- ``scrub``: finish an erasure a reader held up: copy the write-ahead log into the database file and empty it.

Every action is logged with ``--actor`` (default ``cli:<login name>``).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from pathlib import Path

from profiler.cli._common import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, db_location, default_actor, store_options


def register(commands) -> None:
    candidate = commands.add_parser("candidate", help="export or erase a candidate's data; purge expired cases")
    actions = candidate.add_subparsers(dest="action", metavar="ACTION", required=True)
    common = store_options()

    export = actions.add_parser("export", parents=[common], help="write everything held about a candidate as JSON")
    export.add_argument("id", metavar="ID", help="pseudonymous candidate id")
    export.add_argument("--output", "-o", type=Path, metavar="FILE", help="write here instead of standard output")
    export.set_defaults(func=run_export)

    erase = actions.add_parser("erase", parents=[common], help="erase a candidate's data (keeps the log verifiable)")
    erase.add_argument("id", metavar="ID", help="pseudonymous candidate id")
    erase.add_argument("--reason", required=True, help="why (logged; must not identify the person)")
    erase.add_argument("--yes", action="store_true", help="confirm: erasure cannot be undone")
    erase.add_argument("--wait", type=float, default=30.0, metavar="SECONDS",
                       help="how long to wait for other processes' reads to finish (default 30)")
    erase.set_defaults(func=run_erase)

    scrub = actions.add_parser("scrub", parents=[common], help="make erased data leave the database file (SQLite)")
    scrub.add_argument("--wait", type=float, default=30.0, metavar="SECONDS",
                       help="how long to wait for other processes' reads to finish (default 30)")
    scrub.set_defaults(func=run_scrub)

    purge = actions.add_parser("purge", parents=[common], help="erase finished cases past the retention period")
    purge.add_argument("--days", type=float, default=365.0,
                       help="retention period in days after a case is closed (default 365)")
    purge.add_argument("--dry-run", action="store_true", help="list what would be purged; change nothing")
    purge.set_defaults(func=run_purge)

    hold = actions.add_parser("hold", parents=[common], help="put a candidate's records on legal hold, or release")
    hold.add_argument("id", metavar="ID", help="pseudonymous candidate id")
    hold.add_argument("--reason", required=True, help="why (logged)")
    hold.add_argument("--release", action="store_true", help="release the hold instead of setting it")
    hold.set_defaults(func=run_hold)


def run_export(args: argparse.Namespace) -> int:
    from profiler.oversight.privacy import export_candidate
    from profiler.store import Store

    with Store(db_location(args), create=False) as store:
        document = export_candidate(store, args.id, actor=args.actor or default_actor())
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}: {len(document['sessions'])} session(s), {len(document['records'])} "
              f"case record(s), {len(document['audit_log'])} log entries", file=sys.stderr)
    return EXIT_OK


def run_erase(args: argparse.Namespace) -> int:
    from profiler.oversight.privacy import erase_candidate
    from profiler.store import Store

    if not args.yes:
        print(f"profiler candidate erase: erasing {args.id} cannot be undone; add --yes to confirm", file=sys.stderr)
        return EXIT_USAGE
    with Store(db_location(args), create=False) as store:
        receipt = erase_candidate(store, args.id, actor=args.actor or default_actor(), reason=args.reason,
                                  wait=args.wait)
    print(receipt)
    return EXIT_PROBLEMS if receipt.files_clean is False else EXIT_OK


def run_scrub(args: argparse.Namespace) -> int:
    from profiler.oversight.privacy import scrub_files
    from profiler.store import Store

    with Store(db_location(args), create=False) as store:
        if store.file is None:
            print(f"{store.name}: not a SQLite file; a server database keeps deleted rows until VACUUM")
            return EXIT_PROBLEMS
        done = scrub_files(store, wait=args.wait)
        name = store.name
    print(f"{name}: " + ("the write-ahead log is copied into the file and emptied: deleted data are overwritten"
                         if done else "another process still reads an older snapshot; try again later"))
    return EXIT_OK if done else EXIT_PROBLEMS


def run_purge(args: argparse.Namespace) -> int:
    from profiler.oversight.privacy import purge_expired
    from profiler.store import Store

    if not args.days > 0:
        print("profiler candidate purge: --days must be positive", file=sys.stderr)
        return EXIT_USAGE
    with Store(db_location(args), create=False) as store:
        report = purge_expired(store, actor=args.actor or default_actor(), retention=timedelta(days=args.days),
                               dry_run=args.dry_run)
    print(report)
    for candidate_id in report.purged:
        print(f"  {'due' if report.dry_run else 'purged'}: {candidate_id}")
    for candidate_id in report.held:
        print(f"  on legal hold: {candidate_id}")
    return EXIT_OK


def run_hold(args: argparse.Namespace) -> int:
    from profiler.oversight.candidates import Candidates
    from profiler.store import Store

    with Store(db_location(args), create=False) as store:
        record = Candidates(store).set_legal_hold(args.id, not args.release, actor=args.actor or default_actor(),
                                                  reason=args.reason)
    print(f"candidate {record.id}: legal hold {'on' if record.legal_hold else 'off'}")
    return EXIT_OK
