"""``profiler audit verify|checkpoint|export-head|keygen``: the tamper-evident audit log and its anchors.

- ``verify``: recompute the hash chain, check it against every signed checkpoint (truncation and rewrites),
  and check every table that decides against the log; prints ``audit log intact: ...`` and exits 0, or
  ``TAMPERED: ...`` with every problem, one per line, and exits 1. ``--anchor SEQ:HASH`` or ``--anchor FILE``
  (an exported head) adds a head noted elsewhere; ``--max-age HOURS`` fails when no checkpoint is that recent.
- ``checkpoint``: sign the log's head with the key of ``--key-file``, ``$PROFILER_AUDIT_KEY`` or
  ``$PROFILER_AUDIT_KEY_FILE`` and record it; ``--every SECONDS`` keeps doing so (a schedule; cron or a
  systemd timer running it with ``--if-new`` does the same).
- ``export-head``: the latest checkpoint as JSON, to publish or to keep in write-once storage (``--dir``
  writes a new file that is never overwritten).
- ``keygen``: a new signing key in a file only its owner can read; prints the public key to trust.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from datetime import timedelta
from pathlib import Path

from profiler.cli._common import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, add_db_option, db_location

ANCHOR = re.compile(r"^(\d+):(sha256:[0-9a-f]{64})$")


def register(commands) -> None:
    audit = commands.add_parser("audit", help="check the tamper-evident audit log; audit a job model's fairness")
    actions = audit.add_subparsers(dest="action", metavar="ACTION", required=True)
    verify = actions.add_parser("verify", help="recompute the hash chain; exit 1 if an entry was tampered with",
                                description="Recompute the audit log's hash chain, check it against the signed "
                                "checkpoints, and check every table that decides against the log; name every "
                                "entry or row edited, missing, reordered or inserted.")
    add_db_option(verify)
    verify.add_argument("--anchor", type=_anchor, metavar="SEQ:HASH|FILE",
                        help="a head noted earlier (seq and entry hash) or an exported head file: the log must "
                             "still hold it")
    verify.add_argument("--trusted-keys", type=Path, metavar="FILE",
                        help="keys that check checkpoint signatures, one per line (also $PROFILER_AUDIT_TRUSTED_KEYS)")
    verify.add_argument("--max-age", type=float, metavar="HOURS",
                        help="fail when the latest checkpoint is older than this (or there is none)")
    verify.set_defaults(func=run)

    checkpoint = actions.add_parser("checkpoint", help="sign the log's head (on demand, or --every SECONDS)",
                                    description="Sign the audit log's head with the signing key and record it, "
                                    "so that verify detects a log cut short or rewritten.")
    add_db_option(checkpoint)
    checkpoint.add_argument("--key-file", type=Path, metavar="FILE",
                            help="the signing key (default: $PROFILER_AUDIT_KEY or $PROFILER_AUDIT_KEY_FILE)")
    checkpoint.add_argument("--actor", default="system:checkpoint", help="who signs, for the log")
    checkpoint.add_argument("--if-new", action="store_true",
                            help="write nothing when nothing was logged since the last checkpoint")
    checkpoint.add_argument("--every", type=float, metavar="SECONDS",
                            help="keep running: a checkpoint every SECONDS (with --if-new) until interrupted")
    checkpoint.add_argument("--export-dir", type=Path, metavar="DIR",
                            help="also write each new head to DIR (write-once: files are never overwritten)")
    checkpoint.set_defaults(func=run_checkpoint)

    export = actions.add_parser("export-head", help="write the latest signed checkpoint as JSON, to publish",
                                description="The latest checkpoint (seq, entry hash, time, key id, signature and "
                                "the public key) as JSON: publish it, or keep it where the database's "
                                "administrators cannot change it; verify --anchor FILE checks the log against it.")
    add_db_option(export)
    export.add_argument("--out", type=Path, metavar="FILE", help="write here (default: standard output)")
    export.add_argument("--dir", type=Path, metavar="DIR", help="write a new file head-<seq>-<time>.json in DIR, "
                        "read-only and never overwritten")
    export.add_argument("--key-file", type=Path, metavar="FILE", help="the signing key, to include its public key")
    export.set_defaults(func=run_export_head)

    keygen = actions.add_parser("keygen", help="create a signing key for checkpoints",
                                description="Write a new signing key to FILE (readable by its owner only) and "
                                "print the key that checks it (Ed25519: the public key, to publish and trust).")
    keygen.add_argument("out", type=Path, metavar="FILE")
    keygen.add_argument("--algorithm", choices=("ed25519", "hmac-sha256"), default="ed25519")
    keygen.set_defaults(func=run_keygen)

    from profiler.cli.report import register_fairness

    register_fairness(actions)  # profiler audit fairness (profiler.cli.report)


def _anchor(text: str):
    match = ANCHOR.match(text)
    if match is not None:
        return int(match.group(1)), match.group(2)
    if Path(text).is_file():
        from profiler.store.anchoring import AnchorError, read_head

        try:
            return read_head(text)
        except AnchorError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    raise argparse.ArgumentTypeError(f"{text!r} is not SEQ:HASH (e.g. 42:sha256:<64 hex digits>) nor an exported "
                                     "head file")


def run(args: argparse.Namespace) -> int:
    from profiler.store import Store
    from profiler.store.anchoring import signing_key, trusted_keys
    from profiler.store.audit_log import AuditLog

    keys = trusted_keys(args.trusted_keys, signing=signing_key())
    max_age = timedelta(hours=args.max_age) if args.max_age is not None else None
    with Store(db_location(args), create=False) as store:
        result = AuditLog(store).verify(anchor=args.anchor, keys=keys, max_age=max_age)
    print(f"{store.name}: {result}")
    if result.problem_count > 1:  # every row that disagrees, one per line
        for problem in result.problems:
            print(f"  {problem}")
        if result.problem_count > len(result.problems):
            print(f"  ... and {result.problem_count - len(result.problems)} more")
    return EXIT_OK if result.ok else EXIT_PROBLEMS


def run_checkpoint(args: argparse.Namespace) -> int:
    from profiler.store import Store
    from profiler.store.anchoring import signing_key
    from profiler.store.audit_log import AuditLog

    key = signing_key(args.key_file)
    if key is None:
        print("profiler audit checkpoint: no signing key: give --key-file, or set $PROFILER_AUDIT_KEY or "
              "$PROFILER_AUDIT_KEY_FILE (profiler audit keygen makes one)", file=sys.stderr)
        return EXIT_USAGE
    if args.every is not None and args.every <= 0:
        print("profiler audit checkpoint: --every must be positive", file=sys.stderr)
        return EXIT_USAGE
    with Store(db_location(args), create=False) as store:
        log = AuditLog(store)
        while True:
            made = log.checkpoint(key, actor=args.actor, if_new=args.if_new or args.every is not None)
            if made is None:
                print("nothing logged since the last checkpoint: none written", flush=True)
            else:
                print(f"{made.describe()}: signed head {made.seq} {made.entry_hash}; log entry {made.log_seq}",
                      flush=True)
                if args.export_dir is not None:
                    print(f"wrote {_write_once(args.export_dir, made.head(store.name, key.trusted()))}", flush=True)
            if args.every is None:
                return EXIT_OK
            try:
                time.sleep(args.every)
            except KeyboardInterrupt:
                return EXIT_OK


def run_export_head(args: argparse.Namespace) -> int:
    from profiler.store import Store
    from profiler.store.anchoring import signing_key, trusted_keys
    from profiler.store.audit_log import AuditLog

    with Store(db_location(args), create=False) as store:
        latest = AuditLog(store).latest_checkpoint()
        name = store.name
    if latest is None:
        print("profiler audit export-head: no checkpoint yet; write one with profiler audit checkpoint",
              file=sys.stderr)
        return EXIT_PROBLEMS
    key = trusted_keys(signing=signing_key(args.key_file)).get(latest.key_id)
    document = latest.head(name, key)
    if args.dir is not None:
        try:
            print(f"wrote {_write_once(args.dir, document)}")
        except FileExistsError as exc:
            print(f"{exc.filename} exists already: this head was exported before (files there are never "
                  "overwritten)")
    elif args.out is not None:
        args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.out}: {latest.describe()}", file=sys.stderr)
    else:
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    return EXIT_OK


def _write_once(folder: Path, document: dict) -> Path:
    """Write ``document`` to a new read-only file in ``folder``; an existing file is never replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = document["created_at"].replace(":", "").replace("-", "")
    path = folder / f"head-{document['seq']}-{stamp}.json"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(document, indent=2) + "\n")
    return path


def run_keygen(args: argparse.Namespace) -> int:
    from profiler.store.anchoring import generate_key, parse_signing_key

    text = generate_key(args.algorithm)
    try:
        descriptor = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        print(f"profiler audit keygen: {args.out} exists; a key is never overwritten", file=sys.stderr)
        return EXIT_USAGE
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(text + "\n")
    key = parse_signing_key(text)
    print(f"wrote the signing key {key.key_id} to {args.out} (readable by you only; keep it off the database's "
          "machine if you can)")
    if key.algorithm == "ed25519":
        print(f"trust it with (publish this): {key.trusted().text()}")
    else:
        print("an hmac-sha256 key both signs and checks: give the same file to whoever verifies")
    return EXIT_OK
