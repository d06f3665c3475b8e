"""What the commands share: exit codes, the ``--db`` option and how a store is named in what they print."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator
from contextlib import contextmanager

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

DB_ENV = "PROFILER_DB"  # a store file or database URL; keeps a password off the command line (and out of ps)
DEFAULT_DB = "profiler.db"


def add_db_option(parser) -> None:
    """``--db FILE|URL``, by default ``$PROFILER_DB`` or ``profiler.db``."""
    parser.add_argument("--db", default=None, metavar="FILE",
                        help=f"store file or database URL (default: ${DB_ENV}, else {DEFAULT_DB})")


def store_options(actor_help: str = "who acts, for the audit log (default: cli:<login name>)"):
    """A parent parser with ``--db`` and ``--actor``, for subcommands that write to a store."""
    import argparse

    common = argparse.ArgumentParser(add_help=False)
    add_db_option(common)
    common.add_argument("--actor", default=None, help=actor_help)
    return common


def default_actor() -> str:
    """Who runs a command, for the audit log when ``--actor`` is not given: ``cli:<login name>``."""
    import getpass

    try:
        return "cli:" + getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "cli"


def db_location(args) -> str:
    """The store the command uses: ``--db``, else ``$PROFILER_DB``, else ``profiler.db``."""
    return args.db or os.environ.get(DB_ENV) or DEFAULT_DB


def db_hint(args) -> str:
    """The ``--db`` part of a command shown to a user: empty when the store came from ``$PROFILER_DB`` or is the
    default; the location without its password otherwise (see :func:`profiler.store.redaction.redact_url`)."""
    from profiler.store.redaction import redact_url

    if args.db is None:
        return ""
    return f" --db {shlex.quote(redact_url(args.db))}"


# C0 controls but line feed, DEL, C1 controls (ESC, CSI and OSC sequences start with these), and the Unicode
# controls that reorder or hide text (bidirectional overrides and isolates, line and paragraph separators).
_CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def terminal_text(text: str) -> str:
    """``text`` safe to print on a terminal: control characters (escape sequences, bells, carriage returns,
    bidirectional overrides) removed, a tab shown as a space; line breaks kept.

    A questionnaire's author could otherwise move the cursor, rewrite what the respondent sees, change the
    window title or send sequences some terminals act on.
    """
    return _CONTROLS.sub(lambda m: " " if m.group() == "\t" else "", text)


@contextmanager
def staff_of(args) -> Iterator:
    """The accounts of the store of ``--db``, open for the ``with`` block."""
    from profiler.integration.staff import Staff
    from profiler.store import Store

    with Store(db_location(args)) as store:
        yield Staff(store)
