"""The header of a responses file: read (:func:`read_header`) and checked against the questionnaire
(:func:`check_header`), every problem named at once."""

from __future__ import annotations

import csv

from profiler.batch.options import BatchError
from profiler.batch.sources import Location, open_source

MAX_LINE_BYTES = 1 << 20  # a row of answers is a few kilobytes; a line past this is no row
from profiler.documents import did_you_mean
from profiler.questionnaire import Questionnaire


def read_header(path: Location, sep: str) -> list[str]:
    """The column names of a CSV (a byte-order mark and surrounding spaces removed); line 1 is read up to
    :data:`MAX_LINE_BYTES`."""
    with open_source(path) as handle:
        first = handle.readline(MAX_LINE_BYTES + 1)
    if len(first) > MAX_LINE_BYTES:
        raise BatchError(f"{path}: line 1 is longer than {MAX_LINE_BYTES:,} bytes: not a header naming items")
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BatchError(f"{path}: line 1 is not UTF-8 text; save the file as UTF-8 (CSV UTF-8)") from None
    try:
        header = next(csv.reader([text.rstrip("\r\n")], delimiter=sep), None)
    except csv.Error as exc:
        raise BatchError(f"{path}: line 1 cannot be read as CSV ({exc})") from None
    if not text.strip() or header is None:
        raise BatchError(f"{path} is empty: expected a header line naming the items")
    return [name.strip() for name in header]


def check_header(header: list[str], questionnaire: Questionnaire, id_column: str | None,
                 other: frozenset[str] = frozenset()) -> list[str]:
    """The item columns present; every other problem with the header is one error naming the columns.

    ``other`` names further columns the header may hold (a job model's evidence)."""
    problems = []
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        problems.append(f"column(s) appearing more than once: {', '.join(map(repr, duplicated))}")
    known = set(questionnaire.item_ids)
    if id_column is not None and id_column not in header:
        problems.append(f"--id-column {id_column!r} is not a column{did_you_mean(id_column, header)}")
    unknown = [c for c in header if c not in known and c != id_column and c not in other]
    if unknown:
        described = ", ".join(f"{c!r}{did_you_mean(c, questionnaire.item_ids)}" for c in unknown)
        hint = "" if id_column else " (pass --id-column for a column identifying respondents)"
        problems.append(f"unknown column(s), not items of {questionnaire.id!r}: {described}{hint}")
    absent = [i for i in questionnaire.item_ids if i not in header and questionnaire.is_required(i)]
    if absent:
        problems.append(f"required item(s) missing from the header: {', '.join(absent)}")
    if problems:
        raise BatchError("the CSV header does not fit the questionnaire:\n" + "\n".join(problems))
    return [c for c in header if c in known]


__all__ = ["MAX_LINE_BYTES", "check_header", "read_header"]
