"""What a batch is asked to do (:class:`ScoreOptions`), what it did (:class:`ScoreRun`), and its error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from profiler.errors import ProfilerError

ErrorPolicy = Literal["stop", "skip"]
PercentileMethod = Literal["empirical", "normal"]
OutputFormat = Literal["csv", "parquet"]
SHOWN_PROBLEMS = 20


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
    output_format : {"csv", "parquet"}
        How the profiles are written.
    """

    id_column: str | None = None
    on_error: ErrorPolicy = "stop"
    rejects: Path | None = None
    percentiles: PercentileMethod = "empirical"
    chunk_size: int = 16_384
    sep: str = ","
    output_format: OutputFormat = "csv"

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
        if self.output_format not in ("csv", "parquet"):
            raise BatchError(f"output_format={self.output_format!r}; use 'csv' or 'parquet'")
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
    manifest: Path | None = None  # the run manifest written next to the output
    log_seq: int | None = None  # the audit-log entry that records the run (given a store)

    @property
    def complete(self) -> bool:
        """The output was written (the run did not stop at a bad row)."""
        return self.stopped_at is None


Progress = Callable[[int, int], None]  # (bytes of the file read so far, rows read so far)




__all__ = ["SHOWN_PROBLEMS", "BatchError", "ErrorPolicy", "PercentileMethod", "Progress", "ScoreOptions", "ScoreRun"]
