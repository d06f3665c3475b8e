"""``profiler score QUESTIONNAIRE RESPONSES.csv --norms NAME --out PROFILES.csv``: batch trait profiles.

The CSV is read in chunks (``--chunk-size`` rows), so memory stays flat however many respondents it
holds. Each chunk is validated and scored at once; a bad row (an invalid answer, an unanswered required
item) is reported by its CSV line number (the header is line 1, so the first respondent is line 2; blank
lines count, and a quoted value spanning lines would shift the count) and item. ``--on-error stop`` (the
default) stops at the first chunk with a bad row and writes nothing; ``--on-error skip`` scores the other
rows, lists the skipped ones in a summary and, with ``--rejects FILE``, writes them with their problems.

The output has one row per scored respondent: the id column (``--id-column``) if given, ``line``, then
``<scale>.<measure>`` columns (see :data:`profiler.norms.MEASURES`; rounded to 4 decimals, T-unit
values and percentiles to 2), then ``norm_group``, ``norms_sha256`` and ``percentiles`` so every row
names the norms it was placed against.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from profiler.cli._common import EXIT_OK, EXIT_PROBLEMS

SHOWN_PROBLEMS = 20
_DECIMALS = {"raw": 4, "z": 4, "T": 2, "percentile": 2, "sem": 4}


def register(commands) -> None:
    score = commands.add_parser(
        "score",
        help="score many respondents' answers (CSV) to trait profiles against a norm group",
        description="Score a CSV of answers (one row per respondent, one column per item) to trait profiles "
        "against a norm group, chunk by chunk.",
    )
    score.add_argument("questionnaire", metavar="QUESTIONNAIRE", help="questionnaire YAML file or bundled id")
    score.add_argument("responses", metavar="RESPONSES.csv", type=Path, help="answers, one row per respondent")
    score.add_argument("--norms", required=True, metavar="NAME",
                       help="norm group shipped for the questionnaire (e.g. general) or a norm table .json")
    score.add_argument("--out", required=True, type=Path, metavar="PROFILES.csv", help="where to write profiles")
    score.add_argument("--id-column", metavar="COLUMN", help="a column identifying respondents, copied to the output")
    score.add_argument("--on-error", choices=("stop", "skip"), default="stop",
                       help="stop at the first chunk with a bad row (default), or skip bad rows and report them")
    score.add_argument("--rejects", type=Path, metavar="REJECTS.csv",
                       help="with --on-error skip: write the skipped rows, their line numbers and problems here")
    score.add_argument("--percentiles", choices=("empirical", "normal"), default="empirical",
                       help="empirical (mid-rank in the norm sample, default) or normal-theory percentiles")
    score.add_argument("--chunk-size", type=int, default=20_000, metavar="ROWS", help="rows per chunk (default 20000)")
    score.add_argument("--sep", default=",", help="field separator of the CSV (default ',')")
    progress = score.add_mutually_exclusive_group()
    progress.add_argument("--progress", dest="progress", action="store_true", default=None,
                          help="show a progress bar on stderr (default: when stderr is a terminal)")
    progress.add_argument("--no-progress", dest="progress", action="store_false")
    score.set_defaults(func=run)  # fmt: skip


class _Progress:
    """A one-line progress bar on stderr, driven by the bytes of the CSV consumed so far."""

    def __init__(self, total_bytes: int, enabled: bool, stream=None):
        self.total = max(total_bytes, 1)
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()

    def update(self, done_bytes: int, rows: int) -> None:
        if not self.enabled:
            return
        share = min(done_bytes / self.total, 1.0)
        bar = "#" * round(30 * share)
        elapsed = time.perf_counter() - self.start
        self.stream.write(f"\rscoring [{bar:<30}] {share:4.0%}  {rows:,} rows  {elapsed:.1f} s")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def run(args: argparse.Namespace) -> int:
    from profiler.errors import ProfilerError
    from profiler.norms import load_norms
    from profiler.questionnaire import load_questionnaire

    if args.chunk_size < 1:
        raise ProfilerError(f"--chunk-size must be at least 1, got {args.chunk_size}")
    if args.rejects is not None and args.on_error != "skip":
        raise ProfilerError("--rejects only applies with --on-error skip (with stop, nothing is skipped)")
    if not args.responses.is_file():
        raise ProfilerError(f"no such file: {args.responses}")
    if args.out.resolve() == args.responses.resolve():
        raise ProfilerError("--out must not be the responses file")
    questionnaire = load_questionnaire(args.questionnaire)
    norms = load_norms(questionnaire, args.norms)
    args.sep = _separator(args.sep)
    header = _read_header(args.responses, args.sep)
    item_columns = _check_header(header, questionnaire, args.id_column)
    return _score_file(args, questionnaire, norms, header, item_columns)


def _separator(sep: str) -> str:
    from profiler.errors import ProfilerError

    sep = {"\\t": "\t", "tab": "\t"}.get(sep, sep)  # a tab typed on the command line arrives as backslash-t
    if len(sep) != 1:
        raise ProfilerError(f"--sep must be one character (or \\t for a tab), got {sep!r}")
    return sep


def _read_header(path: Path, sep: str) -> list[str]:
    from profiler.errors import ProfilerError

    with open(path, newline="", encoding="utf-8-sig") as handle:
        try:
            header = next(csv.reader(handle, delimiter=sep))
        except StopIteration:
            raise ProfilerError(f"{path} is empty: expected a header line naming the items") from None
        except UnicodeDecodeError:
            raise ProfilerError(f"{path}: line 1 is not UTF-8 text; save the file as UTF-8 (CSV UTF-8)") from None
    return [name.strip() for name in header]


def _check_header(header: list[str], questionnaire, id_column: str | None) -> list[str]:
    """The item columns present; every other problem with the header is one error naming the columns."""
    from profiler.documents import did_you_mean
    from profiler.errors import ProfilerError

    problems = []
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        problems.append(f"column(s) appearing more than once: {', '.join(map(repr, duplicated))}")
    known = set(questionnaire.item_ids)
    if id_column is not None and id_column not in header:
        problems.append(f"--id-column {id_column!r} is not a column{did_you_mean(id_column, header)}")
    unknown = [c for c in header if c not in known and c != id_column]
    if unknown:
        described = ", ".join(f"{c!r}{did_you_mean(c, questionnaire.item_ids)}" for c in unknown)
        hint = "" if id_column else " (pass --id-column for a column identifying respondents)"
        problems.append(f"unknown column(s), not items of {questionnaire.id!r}: {described}{hint}")
    absent = [i for i in questionnaire.item_ids if i not in header and questionnaire.is_required(i)]
    if absent:
        problems.append(f"required item(s) missing from the header: {', '.join(absent)}")
    if problems:
        raise ProfilerError("the CSV header does not fit the questionnaire:\n" + "\n".join(problems))
    return [c for c in header if c in known]


def _csv_field(text: str) -> str:
    """A CSV field: quoted (inner quotes doubled) when it holds a separator, a quote or a line break."""
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\r\n') else text


class _ProfileWriter:
    """Profile rows as CSV, numbers formatted by Python's ``%`` a block of rows at a time.

    About three times faster than ``DataFrame.to_csv`` on these wide rows of floats, with memory bounded by
    ``ROWS_PER_WRITE``. Missing values are empty fields.
    """

    ROWS_PER_WRITE = 10_000

    def __init__(self, handle, norms, id_column: str | None, provenance: dict[str, str]):
        from profiler.norms import MEASURES

        self.handle = handle
        self.id_column = id_column
        names = [*([id_column] if id_column else []), "line"]
        self.formats = [*(["%s"] if id_column else []), "%d"]
        for scale in norms.scale_ids:
            for measure in MEASURES:
                names.append(f"{scale}.{measure}")
                unit = measure.split("_")[0]
                self.formats.append(f"%.{_DECIMALS[unit]}f" if unit in _DECIMALS else "%d")
        names += list(provenance)
        self.constants = ",".join(_csv_field(str(v)) for v in provenance.values())
        self.row_format = ",".join(self.formats) + "," + self.constants.replace("%", "%%") + "\n"
        handle.write(",".join(_csv_field(n) for n in names) + "\n")

    def write(self, profiles: pd.DataFrame, lines: np.ndarray, ids: pd.Series | None) -> None:
        block = profiles.to_numpy(dtype=float, na_value=np.nan)
        columns: list = [] if self.id_column is None else [
            ["" if pd.isna(v) else _csv_field(str(v)) for v in ids.tolist()]
        ]  # fmt: skip
        columns += [lines, *block.T]
        incomplete = np.isnan(block).any(axis=1)
        for start in range(0, len(block), self.ROWS_PER_WRITE):
            stop = start + self.ROWS_PER_WRITE
            rows = zip(*[c[start:stop].tolist() if isinstance(c, np.ndarray) else c[start:stop] for c in columns])
            if not incomplete[start:stop].any():
                self.handle.write("".join([self.row_format % row for row in rows]))
            else:
                self.handle.write(
                    "".join([self._with_missing(row) if gap else self.row_format % row
                             for row, gap in zip(rows, incomplete[start:stop])])  # fmt: skip
                )

    def _with_missing(self, row: tuple) -> str:
        fields = ["" if isinstance(v, float) and v != v else f % v for f, v in zip(self.formats, row)]
        return ",".join(fields) + "," + self.constants + "\n"


@dataclass
class _Tally:
    """What a run did: rows read, scored and skipped, problems found, and the messages to show."""

    rows: int = 0
    scored: int = 0
    skipped: int = 0
    blank: int = 0
    problems: int = 0
    shown: list[str] = field(default_factory=list)
    stopped_at: tuple[int, int, int] | None = None  # first line, last line, bad rows of the chunk that stopped


def _score_file(args, questionnaire, norms, header, item_columns) -> int:
    partial = args.out.with_name(args.out.name + ".partial")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    try:
        tally = _score_chunks(args, questionnaire, norms, header, item_columns, partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _print_problems(tally.shown, tally.problems)
    if tally.stopped_at is not None:
        partial.unlink(missing_ok=True)
        first, last, bad = tally.stopped_at
        print(
            f"profiler score: stopped at the chunk of lines {first}-{last}, which has {bad:,} bad row(s); nothing "
            f"was written to {args.out}. Fix them, or pass --on-error skip to score the other rows.",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
    os.replace(partial, args.out)
    if tally.blank:
        print(f"profiler score: {tally.blank:,} blank line(s) ignored", file=sys.stderr)
    if tally.skipped:
        where = f"all are in {args.rejects}" if args.rejects else "pass --rejects FILE to get them all"
        print(f"profiler score: skipped {tally.skipped:,} bad row(s) with {tally.problems:,} problem(s); {where}",
              file=sys.stderr)  # fmt: skip
    print(
        f"scored {tally.scored:,} of {tally.rows:,} respondents -> {args.out} "
        f"(norm group {norms.name} {norms.version}, {norms.sha256[:19]}..., {args.percentiles} percentiles)"
    )
    return EXIT_OK if tally.scored or not tally.rows else EXIT_PROBLEMS


def _chunks(args, header):
    """``(chunk, CSV line numbers of its rows, bytes of the file consumed)`` for each chunk."""
    from profiler.errors import ProfilerError

    rows_done = 0
    with open(args.responses, "rb") as handle:
        reader = pd.read_csv(
            handle, sep=args.sep, chunksize=args.chunk_size, skip_blank_lines=False, encoding="utf-8-sig",
            names=header, header=0, dtype={args.id_column: str} if args.id_column else None,
        )  # fmt: skip
        while True:
            try:
                chunk = next(reader)
            except StopIteration:
                return
            except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
                raise ProfilerError(f"{args.responses}: cannot read the CSV: {exc}") from None
            lines = rows_done + 2 + np.arange(len(chunk))  # the header is line 1
            rows_done += len(chunk)
            yield chunk, lines, handle.tell()


def _score_chunks(args, questionnaire, norms, header, item_columns, partial: Path) -> _Tally:
    from profiler.norms import trait_profiles
    from profiler.questionnaire.scoring import validate_responses

    required = np.array([questionnaire.is_required(c) for c in item_columns], dtype=bool)
    provenance = {"norm_group": norms.name, "norms_sha256": norms.sha256, "percentiles": args.percentiles}
    tally = _Tally()
    progress = _Progress(args.responses.stat().st_size,
                         sys.stderr.isatty() if args.progress is None else args.progress)  # fmt: skip
    rejects = None
    try:
        with open(partial, "w", newline="", encoding="utf-8") as out:
            writer = _ProfileWriter(out, norms, args.id_column, provenance)
            for chunk, lines, done in _chunks(args, header):
                empty = chunk.isna().all(axis=1).to_numpy()
                if empty.any():  # blank lines (a trailing newline, say) are no respondents: skip and count them
                    tally.blank += int(empty.sum())
                    chunk, lines = chunk[~empty], lines[~empty]
                    if chunk.empty:
                        continue
                tally.rows += len(chunk)
                items = chunk[item_columns]
                answers = validate_responses(questionnaire, items, invalid="missing")
                # A bad cell: no valid answer where there was an answer (invalid) or one is required.
                bad_cells = np.isnan(answers[item_columns].to_numpy()) & (items.notna().to_numpy() | required)
                bad_rows = np.flatnonzero(bad_cells.any(axis=1))
                if len(bad_rows):
                    reports = _problems(questionnaire, items, bad_rows, lines)
                    tally.problems += sum(len(r) for r in reports.values())
                    for messages in reports.values():
                        tally.shown.extend(messages[: max(0, SHOWN_PROBLEMS - len(tally.shown))])
                    if args.on_error == "stop":
                        tally.stopped_at = (int(lines[0]), int(lines[-1]), len(bad_rows))
                        break
                    tally.skipped += len(bad_rows)
                    if args.rejects is not None:
                        rejects = rejects or _open_rejects(args.rejects)
                        _write_rejects(rejects, chunk, bad_rows, lines, reports, args.id_column)
                good = np.ones(len(chunk), bool)
                good[bad_rows] = False
                if good.any():
                    profiles = trait_profiles(questionnaire, answers[good], norms, percentiles=args.percentiles)
                    writer.write(profiles, lines[good], chunk[args.id_column][good] if args.id_column else None)
                    tally.scored += int(good.sum())
                progress.update(done, tally.rows)
        if args.rejects is not None and rejects is None:  # no bad row: an empty rejects file, header only
            rejects = _open_rejects(args.rejects)
            columns = [args.id_column] if args.id_column else []
            pd.DataFrame(columns=[*columns, "line", "problems", *(c for c in header if c not in columns)]).to_csv(
                rejects, index=False
            )
    finally:
        progress.close()
        if rejects is not None:
            rejects.close()
    return tally


def _problems(questionnaire, items, bad_rows, lines) -> dict[int, list[str]]:
    """Messages per bad row position: ``line N, item 'X': problem: value``, in validate_responses' words.

    validate_responses keeps at most ``MAX_PROBLEMS_KEPT`` problems, so the bad rows go in batches that fit.
    """
    from profiler.errors import ResponseError
    from profiler.questionnaire.scoring import MAX_PROBLEMS_KEPT, validate_responses

    batch_rows = max(1, MAX_PROBLEMS_KEPT // max(1, items.shape[1]))
    reports: dict[int, list[str]] = {}
    for start in range(0, len(bad_rows), batch_rows):
        batch = bad_rows[start : start + batch_rows]
        try:
            validate_responses(questionnaire, items.iloc[batch], invalid="raise")
        except ResponseError as exc:
            for problem in exc.problems:
                position = int(batch[problem.position])
                value = "" if pd.isna(problem.value) else f": {_show(problem.value)}"
                reports.setdefault(position, []).append(
                    f"line {lines[position]}, item {problem.item!r}: {problem.message}{value}"
                )
    return dict(sorted(reports.items()))


def _show(value) -> str:
    """A cell as the user wrote it: text quoted, numbers plain (no numpy reprs)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return repr(value) if isinstance(value, str) else str(value)


def _print_problems(messages: list[str], total: int) -> None:
    for message in messages[:SHOWN_PROBLEMS]:
        print(message, file=sys.stderr)
    if total > min(len(messages), SHOWN_PROBLEMS):
        print(f"... and {total - min(len(messages), SHOWN_PROBLEMS):,} more problem(s)", file=sys.stderr)


def _open_rejects(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "w", newline="", encoding="utf-8")


def _write_rejects(handle, chunk, bad_rows, lines, reports, id_column) -> None:
    """The bad rows as read, after their line number and problems (``item 'X': problem; ...``)."""
    rows = chunk.iloc[bad_rows].copy()
    problems = ["; ".join(m.split(", ", 1)[1] for m in reports.get(p, [])) for p in bad_rows]
    front = {"line": lines[bad_rows], "problems": problems}
    if id_column:
        front = {id_column: rows.pop(id_column).to_numpy(), **front}
    rejected = pd.concat([pd.DataFrame(front, index=rows.index), rows], axis=1)
    rejected.to_csv(handle, header=handle.tell() == 0, index=False)
