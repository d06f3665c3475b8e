"""Reading a calibration sample from a CSV file: item answers, the other columns asked for, and what was dropped.

Building norms, calibrating and checking translations read the same kind of file: one row per respondent,
one column per item id, and a few other columns (a language, an age band, a census variable). Rows whose
answers cannot be used (an answer that is not an option of its item, a required item unanswered) are
excluded and counted as a row rule, never silently; so are rows without a value in a column the analysis
groups by. The file's SHA-256 is kept, so whatever is built from it can name exactly what it read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from profiler.documents import did_you_mean
from profiler.errors import ProfilerError
from profiler.norms import RowRule
from profiler.questionnaire import Questionnaire, validate_responses


class SampleFileError(ProfilerError, ValueError):
    """A sample file that cannot be read or does not fit the questionnaire."""


@dataclass
class SampleFile:
    """A sample read from a file: usable rows only, with the rules that excluded the others.

    Attributes
    ----------
    path : Path
    sha256 : str
        ``sha256:<hex>`` of the file's bytes.
    answers : DataFrame
        Validated answers of the rows kept (every item id as a column, in questionnaire order; NaN unanswered).
    columns : DataFrame
        The other columns asked for, as text, for the rows kept.
    rows_read : int
    rules : list of RowRule
        Why rows were excluded, in order (a row is counted under the first rule it fails).
    ignored : list of str
        Columns of the file that are neither items nor asked for.
    """

    path: Path
    sha256: str
    answers: pd.DataFrame
    columns: pd.DataFrame
    rows_read: int
    rules: list[RowRule] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.answers)

    def describe(self) -> str:
        """One line: the file, its hash, rows read and kept, and why the others were excluded."""
        excluded = "; ".join(f"{r.rows} {r.rule}" for r in self.rules if r.rows and r.action == "excluded")
        return (f"{self.path.name} ({self.sha256[:19]}...): {self.rows_read:,} rows read, {self.n:,} used"
                + (f" (excluded: {excluded})" if excluded else ""))

    def subset(self, mask: np.ndarray) -> SampleFile:
        """The rows where ``mask`` holds (rules and counts kept: they describe the file)."""
        return SampleFile(self.path, self.sha256, self.answers[mask], self.columns[mask], self.rows_read,
                          self.rules, self.ignored)


def read_sample(questionnaire: Questionnaire, path: str | Path, *, columns: Sequence[str] = (),
                sep: str = ",") -> SampleFile:
    """Read ``path`` (CSV, UTF-8, header on line 1) as a sample of ``questionnaire``.

    Parameters
    ----------
    columns : sequence of str
        Non-item columns the caller needs (kept as text); a row without a value in one is excluded.

    Raises
    ------
    SampleFileError
        Missing or unreadable file, a required item or an asked-for column missing from the header, a column
        named twice, or no usable row at all.
    """
    path = Path(path)
    if not path.is_file():
        raise SampleFileError(f"no such file: {path}")
    raw = path.read_bytes()
    try:
        frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise SampleFileError(f"{path}: cannot read the CSV: {exc}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    header = list(frame.columns)
    problems = []
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        problems.append(f"column(s) appearing more than once: {', '.join(duplicated)}")
    absent = [i for i in questionnaire.item_ids if i not in header and questionnaire.is_required(i)]
    if absent:
        problems.append(f"required item(s) missing from the header: {', '.join(absent)}")
    for name in columns:
        if name not in header:
            problems.append(f"no column {name!r}{did_you_mean(name, header)}")
    if problems:
        raise SampleFileError(f"{path}: the header does not fit {questionnaire.id!r}:\n" + "\n".join(problems))
    items = [c for c in header if c in questionnaire.item_ids]
    given = frame[items].replace("", np.nan)
    numeric = given.apply(pd.to_numeric, errors="coerce")
    answers = validate_responses(questionnaire, numeric, invalid="missing")
    lost = answers[items].isna().to_numpy() & given.notna().to_numpy()
    required = np.array([questionnaire.is_required(i) for i in questionnaire.item_ids])
    unanswered = answers.isna().to_numpy() & required
    bad = lost.any(axis=1) | unanswered.any(axis=1)
    rules = [RowRule(rule="with an answer that is not an option of its item, or a required item unanswered",
                     rows=int(bad.sum()), action="excluded")]
    keep = ~bad
    extras = frame[list(columns)].apply(lambda c: c.str.strip())
    for name in columns:
        blank = (extras[name] == "").to_numpy() & keep
        rules.append(RowRule(rule=f"without a value in column {name!r}", rows=int(blank.sum()), action="excluded"))
        keep &= ~blank
    if not keep.any():
        raise SampleFileError(f"{path}: no usable row ({frame.shape[0]} read); "
                              + "; ".join(f"{r.rows} {r.rule}" for r in rules if r.rows))
    return SampleFile(path, "sha256:" + hashlib.sha256(raw).hexdigest(), answers[keep], extras[keep],
                      len(frame), rules, [c for c in header if c not in items and c not in columns])
