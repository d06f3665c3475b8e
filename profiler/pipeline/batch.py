"""Batch trait profiles of a responses file, streamed: what ``profiler score`` runs.

:func:`score_file` reads a CSV in chunks (``chunk_size`` rows), so memory stays flat however many respondents
it holds. Each chunk is validated once: the answers that pass are scored and placed against the norms
(:func:`profiler.norms.profiles_of_answers`, not checked again), the bad rows (an invalid answer, an unanswered
required item) are reported by CSV line number (the header is line 1, so the first respondent is line 2;
blank lines count, and a quoted value spanning lines would shift the count) and item, in
:func:`~profiler.questionnaire.scoring.validate_responses`' words. ``on_error="stop"`` (the default) stops at
the first chunk with a bad row and writes nothing; ``"skip"`` scores the other rows, and with ``rejects``
writes the bad ones with their problems.

The output has one row per scored respondent: the id column (``id_column``) if given, ``line``, then
``<scale>.<measure>`` columns (see :data:`profiler.norms.MEASURES`; rounded to 4 decimals, T-unit values and
percentiles to 2), then ``norm_group``, ``norms_sha256`` and ``percentiles``, so every row names the norms it
was placed against. It is written to ``<out>.partial`` and renamed when complete: a run that stops or fails
leaves no partial output.

Without norms (``norms=None``, a new questionnaire that has none yet) the output holds raw scale scores only,
labelled as such: ``<scale>.raw`` and ``<scale>.sem`` (the SEM from a calibration's reliabilities when one is
given, empty otherwise), then ``normed`` (``no``), ``calibration`` and ``calibration_sha256``.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from profiler.documents import did_you_mean
from profiler.errors import ProfilerError
from profiler.norms import MEASURES, RAW_MEASURES, NormTable, profiles_of_answers, raw_profiles_of_answers
from profiler.pipeline.batch_csv import ProfileWriter, open_rejects, write_rejects
from profiler.questionnaire import Questionnaire
from profiler.questionnaire.plan import describe_format
from profiler.questionnaire.scoring import validate_responses

ErrorPolicy = Literal["stop", "skip"]
PercentileMethod = Literal["empirical", "normal"]
SHOWN_PROBLEMS = 20
MAX_LINE_BYTES = 1 << 20  # a row of answers is a few kilobytes; a line past this is no row


class BatchError(ProfilerError, ValueError):
    """A batch that cannot run: unreadable or malformed file, a header that does not fit, bad options."""


@dataclass(frozen=True)
class ScoreOptions:
    """How :func:`score_file` reads, checks and writes.

    Attributes
    ----------
    id_column : str, optional
        A column identifying respondents, copied to the output (and the rejects).
    on_error : {"stop", "skip"}
        Stop at the first chunk with a bad row (nothing written), or skip bad rows and report them.
    rejects : Path, optional
        With ``on_error="skip"``: where to write the skipped rows, their line numbers and problems.
    percentiles : {"empirical", "normal"}
        Empirical (mid-rank in the norm sample) or normal-theory percentiles.
    chunk_size : int
        Rows per chunk.
    sep : str
        The CSV's field separator (one character; ``\\t`` or ``tab`` for a tab).
    """

    id_column: str | None = None
    on_error: ErrorPolicy = "stop"
    rejects: Path | None = None
    percentiles: PercentileMethod = "empirical"
    chunk_size: int = 20_000
    sep: str = ","

    def __post_init__(self) -> None:
        if self.on_error not in ("stop", "skip"):
            raise BatchError(f"on_error={self.on_error!r}; use 'stop' or 'skip'")
        if self.percentiles not in ("empirical", "normal"):
            raise BatchError(f"percentiles={self.percentiles!r}; use 'empirical' or 'normal'")
        if isinstance(self.chunk_size, bool) or not isinstance(self.chunk_size, int) or self.chunk_size < 1:
            raise BatchError(f"the chunk size must be a whole number of rows, at least 1, got {self.chunk_size!r}")
        if self.rejects is not None and self.on_error != "skip":
            raise BatchError("rejects only apply when bad rows are skipped (on_error='skip'); with 'stop' nothing is "
                             "skipped")
        sep = {"\\t": "\t", "tab": "\t"}.get(self.sep, self.sep)  # a tab typed on a command line arrives as \t
        if not isinstance(sep, str) or len(sep) != 1:
            raise BatchError(f"the separator must be one character (or \\t for a tab), got {self.sep!r}")
        object.__setattr__(self, "sep", sep)


@dataclass
class ScoreRun:
    """What a run did: rows read, scored and skipped, problems found, the first messages, where it stopped."""

    out: Path
    norms: str
    rows: int = 0
    scored: int = 0
    skipped: int = 0
    blank: int = 0
    problems: int = 0
    messages: list[str] = field(default_factory=list)  # the first SHOWN_PROBLEMS, "line N, item 'X': ..."
    stopped_at: tuple[int, int, int] | None = None  # first line, last line, bad rows of the chunk that stopped

    @property
    def complete(self) -> bool:
        """The output was written (the run did not stop at a bad row)."""
        return self.stopped_at is None


Progress = Callable[[int, int], None]  # (bytes of the file read so far, rows read so far)


@dataclass(frozen=True)
class _Placement:
    """What each scored chunk becomes: trait profiles against norms, or raw scores (not normed)."""

    scales: list[str]
    measures: tuple[str, ...]
    provenance: dict[str, str]
    place: Callable[[pd.DataFrame], pd.DataFrame]


@dataclass(frozen=True)
class RawScoreSEM:
    """Where the SEM of raw scores comes from: a calibration's label and sha256, and the SEM (raw units) per scale."""

    label: str
    sha256: str
    sem: dict[str, float]


def _placement(questionnaire: Questionnaire, norms: NormTable | None, calibration: RawScoreSEM | None,
               options: ScoreOptions) -> _Placement:
    if norms is not None:
        norms.check_applies_to(questionnaire)
        return _Placement(norms.scale_ids, MEASURES, {"norm_group": norms.name, "norms_sha256": norms.sha256,
                                                      "percentiles": options.percentiles},
                          lambda a: profiles_of_answers(questionnaire, a, norms, percentiles=options.percentiles))
    sem = calibration.sem if calibration is not None else {}
    provenance = {"normed": "no", "calibration": calibration.label if calibration else "none",
                  "calibration_sha256": calibration.sha256 if calibration else ""}
    return _Placement(list(questionnaire.scale_ids), RAW_MEASURES, provenance,
                      lambda a: raw_profiles_of_answers(questionnaire, a, sem))


def score_file(questionnaire: Questionnaire, norms: NormTable | None, responses: str | Path, out: str | Path,
               options: ScoreOptions | None = None, *, progress: Progress | None = None,
               calibration: RawScoreSEM | None = None) -> ScoreRun:
    """Trait profiles of every respondent of a CSV file, written to ``out`` (see the module docstring).

    With ``norms=None`` the output holds raw scale scores, not normed, with the SEM of ``calibration`` (see
    :func:`profiler.pipeline.calibration.raw_score_sem`) where it gives one.

    Raises
    ------
    BatchError
        The file is missing, empty, not UTF-8 or malformed; its header does not fit the questionnaire (unknown
        or duplicated columns, required items missing: all named at once); ``out`` is the input.
    NormsMismatchError
        The norms were built for other questionnaire content.
    """
    options = options or ScoreOptions()
    responses, out = Path(responses), Path(out)
    if not responses.exists():
        raise BatchError(f"no such file: {responses}")
    if not responses.is_file():  # a directory, a named pipe, a device such as /dev/zero: refused, never read
        raise BatchError(f"{responses} is not a regular file: give the path of a CSV file")
    if out.resolve() == responses.resolve():
        raise BatchError("the output must not be the responses file")
    placement = _placement(questionnaire, norms, calibration, options)
    header = read_header(responses, options.sep)
    item_columns = check_header(header, questionnaire, options.id_column)
    partial = out.with_name(out.name + ".partial")
    out.parent.mkdir(parents=True, exist_ok=True)
    run = ScoreRun(out=out, norms=f"{norms.name} {norms.version}" if norms else "none (raw scores, not normed)")
    try:
        _score_chunks(questionnaire, placement, responses, header, item_columns, partial, options, run, progress)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if run.stopped_at is not None:
        partial.unlink(missing_ok=True)
    else:
        os.replace(partial, out)
    return run


def read_header(path: Path, sep: str) -> list[str]:
    """The column names of a CSV (a byte-order mark and surrounding spaces removed); line 1 is read up to
    :data:`MAX_LINE_BYTES`."""
    with open(path, "rb") as handle:
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


class _LineCapped(io.RawIOBase):
    """A binary file that raises :class:`BatchError` when a line grows past :data:`MAX_LINE_BYTES`, so that a
    file without line breaks (or a row of one huge field) cannot fill memory; reads pass through unchanged."""

    def __init__(self, handle, path: Path):
        self.handle, self.path = handle, path
        self.run = 0  # bytes since the last line break

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.handle.read(len(buffer))
        last = data.rfind(b"\n")
        self.run = len(data) - last - 1 if last >= 0 else self.run + len(data)
        if self.run > MAX_LINE_BYTES:
            raise BatchError(f"{self.path}: a line is longer than {MAX_LINE_BYTES:,} bytes: not a row of answers")
        buffer[:len(data)] = data
        return len(data)

    def tell(self) -> int:
        return self.handle.tell()


def check_header(header: list[str], questionnaire: Questionnaire, id_column: str | None) -> list[str]:
    """The item columns present; every other problem with the header is one error naming the columns."""
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
        raise BatchError("the CSV header does not fit the questionnaire:\n" + "\n".join(problems))
    return [c for c in header if c in known]


def _chunks(path: Path, header: list[str], options: ScoreOptions) -> Iterator[tuple[pd.DataFrame, np.ndarray, int]]:
    """``(chunk, CSV line numbers of its rows, bytes of the file consumed)`` for each chunk."""
    rows_done = 0
    with open(path, "rb") as raw:
        handle = _LineCapped(raw, path)
        reader = pd.read_csv(
            handle, sep=options.sep, chunksize=options.chunk_size, skip_blank_lines=False, encoding="utf-8-sig",
            names=header, header=0, dtype={options.id_column: str} if options.id_column else None,
        )  # fmt: skip
        while True:
            try:
                chunk = next(reader)
            except StopIteration:
                return
            except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
                raise BatchError(f"{path}: cannot read the CSV: {exc}") from None
            lines = rows_done + 2 + np.arange(len(chunk))  # the header is line 1
            rows_done += len(chunk)
            yield chunk, lines, handle.tell()


def _score_chunks(questionnaire: Questionnaire, placement: _Placement, path: Path, header: list[str],
                  item_columns: list[str], partial: Path, options: ScoreOptions, run: ScoreRun,
                  progress: Progress | None) -> None:
    required = np.array([questionnaire.is_required(c) for c in item_columns], dtype=bool)
    rejects = None
    try:
        with open(partial, "w", newline="", encoding="utf-8") as out:
            writer = ProfileWriter(out, placement.scales, placement.measures, options.id_column, placement.provenance)
            for chunk, lines, done in _chunks(path, header, options):
                empty = chunk.isna().all(axis=1).to_numpy()
                if empty.any():  # blank lines (a trailing newline, say) are no respondents: skip and count them
                    run.blank += int(empty.sum())
                    chunk, lines = chunk[~empty], lines[~empty]
                    if chunk.empty:
                        continue
                run.rows += len(chunk)
                items = chunk[item_columns]
                # The one validation: invalid answers become missing, and the cells that were lost say which rows
                # are bad (an answer given but not valid, or a required item unanswered).
                answers = validate_responses(questionnaire, items, invalid="missing")
                lost = np.isnan(answers[item_columns].to_numpy())
                bad_cells = lost & (items.notna().to_numpy() | required)
                bad_rows = np.flatnonzero(bad_cells.any(axis=1))
                if len(bad_rows):
                    reports = _problems(questionnaire, items, bad_cells, bad_rows, lines)
                    run.problems += sum(len(r) for r in reports.values())
                    for messages in reports.values():
                        run.messages.extend(messages[: max(0, SHOWN_PROBLEMS - len(run.messages))])
                    if options.on_error == "stop":
                        run.stopped_at = (int(lines[0]), int(lines[-1]), len(bad_rows))
                        break
                    run.skipped += len(bad_rows)
                    if options.rejects is not None:
                        rejects = rejects or open_rejects(options.rejects)
                        write_rejects(rejects, chunk, bad_rows, lines, reports, options.id_column)
                good = np.ones(len(chunk), bool)
                good[bad_rows] = False
                if good.any():
                    profiles = placement.place(answers[good])
                    writer.write(profiles, lines[good], chunk[options.id_column][good] if options.id_column else None)
                    run.scored += int(good.sum())
                if progress is not None:
                    progress(done, run.rows)
        if options.rejects is not None and rejects is None:  # no bad row: an empty rejects file, header only
            rejects = open_rejects(options.rejects)
            columns = [options.id_column] if options.id_column else []
            pd.DataFrame(columns=[*columns, "line", "problems", *(c for c in header if c not in columns)]).to_csv(
                rejects, index=False)
    finally:
        if rejects is not None:
            rejects.close()


def _problems(questionnaire: Questionnaire, items: pd.DataFrame, bad_cells: np.ndarray, bad_rows: np.ndarray,
              lines: np.ndarray) -> dict[int, list[str]]:
    """Messages per bad row position, ``line N, item 'X': problem: value``, from the cells validation lost."""
    reports: dict[int, list[str]] = {}
    plan = questionnaire.scoring_plan
    rows, cols = np.nonzero(bad_cells[bad_rows])
    for r, c in zip(bad_rows[rows].tolist(), cols.tolist(), strict=True):
        item = items.columns[c]
        value = items.iat[r, c]
        if pd.isna(value):
            message = "required item not answered"
        elif pd.isna(pd.to_numeric(value, errors="coerce")):
            message = "not a number"
        else:
            message = f"not an answer of this item ({describe_format(plan.format_of(item))})"
        shown = "" if pd.isna(value) else f": {_show(value)}"
        reports.setdefault(r, []).append(f"line {lines[r]}, item {item!r}: {message}{shown}")
    return dict(sorted(reports.items()))


def _show(value: object) -> str:
    """A cell as the user wrote it: text quoted, numbers plain (no numpy reprs)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return repr(value) if isinstance(value, str) else str(value)


__all__ = ["SHOWN_PROBLEMS", "BatchError", "RawScoreSEM", "ScoreOptions", "ScoreRun", "check_header", "read_header",
           "score_file"]
