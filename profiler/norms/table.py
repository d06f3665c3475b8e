"""The norm table: what a calibration sample says about each scale, as a versioned, hashed JSON artifact.

A norm table belongs to one questionnaire *content* (its ``content_hash``): a questionnaire whose items,
keys or options changed is a different instrument, and applying old norms to it is refused
(:class:`NormsMismatchError`). Per scale it holds the sample's n, mean, SD, Cronbach's alpha (with its
n and Feldt 95% interval) and the empirical distribution of raw scores: the count of respondents at each
attainable raw score, from which mid-rank percentiles are read.

The artifact is JSON (``format: profiler.norms/1``). Its ``sha256`` is the SHA-256 of the canonical
JSON of everything else (keys sorted, no whitespace, UTF-8), so a profile can record exactly which table
it used and an edited file is detected on load. Floats are written with Python's shortest round-trip
repr, so a table saved and loaded back is identical, byte for byte and value for value.
"""

from __future__ import annotations

import math
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_serializer, model_validator

from profiler.artifacts import (
    content_sha256,
    parse_artifact,
    pretty_json,
    read_artifact,
    verify_seal,
    write_artifact,
)
from profiler.errors import ProfilerError

NORMS_FORMAT = "profiler.norms/1"
NAME_PATTERN = r"^[a-z][a-z0-9_\-]*$"


class NormsError(ProfilerError, ValueError):
    """A norm table that cannot be used: missing, malformed, edited after it was built, or of a later format."""


class NormsMismatchError(NormsError):
    """Norms built for a different questionnaire, or for different content of the same questionnaire."""


class NormSampleWarning(UserWarning):
    """A norm table built from too few people (under 200) or with scales of low reliability (alpha under .70)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuestionnaireRef(_Model):
    """The questionnaire content the norms apply to (as :meth:`Questionnaire.identity`)."""

    questionnaire_id: str
    questionnaire_version: str
    content_hash: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")


class RowRule(_Model):
    """One rule applied to the rows of the source data, and how many rows it concerned.

    Rules are applied in order; ``rows`` counts the rows that failed this rule and no earlier one.
    ``action`` says whether those rows were excluded from the norm sample or kept (for facts that were
    checked and counted but do not matter for norms, such as a missing gender).
    """

    rule: str
    rows: int = Field(ge=0)
    action: Literal["excluded", "kept"]
    note: str | None = None


class SampleDescription(_Model):
    """Where the norm sample came from and how it was cut from the source rows."""

    rows_read: int = Field(ge=0)
    rows_excluded: int = Field(ge=0)
    n: int = Field(ge=2, description="Respondents in the norm sample.")
    rules: list[RowRule] = Field(default_factory=list)
    descriptives: dict[str, float | int | str] = Field(
        default_factory=dict, description="Facts describing the sample, e.g. median age or share by country."
    )

    @model_validator(mode="after")
    def _counts_add_up(self) -> SampleDescription:
        excluded = sum(rule.rows for rule in self.rules if rule.action == "excluded")
        if excluded != self.rows_excluded or self.rows_read - self.rows_excluded != self.n:
            raise ValueError(
                f"row counts do not add up: read {self.rows_read}, excluded {self.rows_excluded} "
                f"(rules: {excluded}), n {self.n}"
            )
        return self


class Reliability(_Model):
    """Reliability of a scale in the norm sample; the SEM of a profile uses ``value``."""

    method: Literal["cronbach_alpha"] = "cronbach_alpha"
    value: float = Field(ge=0, le=1)
    n: int = Field(ge=2, description="Respondents who answered every item of the scale (listwise).")
    ci95: tuple[float, float] = Field(description="Feldt (1965) 95% confidence interval.")


class Distribution(_Model):
    """Counts of norm-sample respondents at each attainable raw score (those who answered every item).

    A weighted norm sample (raked to population margins) adds ``weighted_shares``, the weighted proportion
    at each score, from which its percentiles are read.
    """

    scores: list[float] = Field(min_length=1)
    counts: list[int]
    weighted_shares: list[float] | None = None

    @model_serializer(mode="wrap")
    def _unweighted_as_before(self, handler: Any) -> Any:
        # Tables without weights keep exactly the content (and sha256) they had before weighting existed.
        data = handler(self)
        if isinstance(data, dict) and data.get("weighted_shares") is None:
            data.pop("weighted_shares", None)
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Distribution:
        if len(self.scores) != len(self.counts):
            raise ValueError(f"{len(self.scores)} scores but {len(self.counts)} counts")
        if any(b <= a for a, b in zip(self.scores, self.scores[1:])):
            raise ValueError("scores must be strictly increasing")
        if any(c < 0 for c in self.counts) or sum(self.counts) < 1:
            raise ValueError("counts must be >= 0 and not all zero")
        shares = self.weighted_shares
        if shares is not None and (len(shares) != len(self.counts) or any(s < 0 for s in shares)
                                   or abs(sum(shares) - 1) > 1e-9):
            raise ValueError("weighted_shares must be one share >= 0 per score, adding up to 1")
        return self

    @property
    def n(self) -> int:
        return int(sum(self.counts))

    @cached_property
    def midrank_percentiles(self) -> np.ndarray:
        """``100 * (count below + count at / 2) / n`` at each attainable score (weighted shares if any)."""
        counts = np.asarray(self.counts if self.weighted_shares is None else self.weighted_shares, dtype=float)
        below = np.concatenate(([0.0], np.cumsum(counts)[:-1]))
        return 100.0 * (below + counts / 2.0) / counts.sum()


class ScaleNorm(_Model):
    """Norms of one scale: sample n, mean and SD (of raw scores), reliability and distribution."""

    scale: str
    n: int = Field(ge=2, description="Respondents with a score on the scale.")
    mean: float
    sd: float = Field(gt=0)
    reliability: Reliability
    distribution: Distribution

    @property
    def sem(self) -> float:
        """Standard error of measurement in raw-score units, ``SD * sqrt(1 - reliability)``."""
        # profiler.factors.reliability.standard_error_of_measurement's formula, here so that placing scores
        # against norms does not import the factor-analysis package (the command line's start-up)
        return self.sd * math.sqrt(1.0 - self.reliability.value)

    def z(self, raw: np.ndarray | float) -> np.ndarray:
        return (np.asarray(raw, dtype=float) - self.mean) / self.sd

    def empirical_percentile(self, raw: np.ndarray | float) -> np.ndarray:
        """Mid-rank percentile of the norm sample at ``raw``.

        Exact at every attainable score; a prorated score between two attainable scores (a respondent
        who skipped items) gets the linear interpolation of its neighbours' percentiles.
        """
        scalar = np.ndim(raw) == 0
        x = np.atleast_1d(np.asarray(raw, dtype=float))
        grid, percentiles, step = self._lookup
        if scalar:
            return self.empirical_percentile(x)[0]
        if step is None:
            return np.interp(x, grid, percentiles)
        # Equally spaced attainable scores (the usual case): most scores sit on the grid, so index it directly.
        position = (x - grid[0]) / step
        rounded = np.rint(position)
        with np.errstate(invalid="ignore"):
            index = rounded.astype(np.intp)  # NaN and values off the grid: any index, refused below
        position -= rounded
        on_grid = np.abs(position, out=position) < 1e-6  # NaN: False
        on_grid &= index.view(np.uintp) < len(grid)  # negative indices read as huge ones
        result = percentiles.take(np.where(on_grid, index, 0))
        if not on_grid.all():
            off = ~on_grid
            result[off] = np.interp(x[off], grid, percentiles)
        return result

    @cached_property
    def _lookup(self) -> tuple[np.ndarray, np.ndarray, float | None]:
        grid = np.asarray(self.distribution.scores, dtype=float)
        steps = np.diff(grid)
        step = float(steps.mean()) if len(grid) > 1 and np.allclose(steps, steps.mean(), rtol=0, atol=1e-9) else None
        return grid, self.distribution.midrank_percentiles, step


class NormTable(_Model):
    """A norm group for one questionnaire: sample description, per-scale statistics and provenance.

    Build one with :func:`profiler.norms.build_norms`; load a shipped one with
    :func:`profiler.norms.load_norms`. Attributes mirror the JSON artifact field by field.
    """

    format: Literal["profiler.norms/1"] = NORMS_FORMAT
    name: str = Field(pattern=NAME_PATTERN, description="Short name of the norm group, e.g. 'general'.")
    version: str = Field(min_length=1, description="Version of this norm table.")
    title: str = Field(min_length=1)
    questionnaire: QuestionnaireRef
    population: str = Field(min_length=1, description="Who the norm sample represents, in words.")
    collected: str = Field(min_length=1, description="When the data were collected.")
    sampling: str = Field(min_length=1, description="How respondents came to be in the sample.")
    source: str = Field(min_length=1, description="The data set the norms were computed from.")
    sample: SampleDescription
    scales: list[ScaleNorm] = Field(min_length=1)
    notes: list[str] = Field(default_factory=list)
    sha256: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")

    @model_validator(mode="after")
    def _unique_scales(self) -> NormTable:
        ids = [s.scale for s in self.scales]
        if len(set(ids)) != len(ids):
            raise ValueError(f"scales appear more than once: {sorted({i for i in ids if ids.count(i) > 1})}")
        return self

    def __repr__(self) -> str:
        return (
            f"NormTable(name={self.name!r}, version={self.version!r}, questionnaire="
            f"{self.questionnaire.questionnaire_id!r}, n={self.sample.n}, scales={len(self.scales)}, "
            f"sha256={self.sha256[:15]}...)"
        )

    def __str__(self) -> str:
        lines = [
            f"Norm group {self.name!r} {self.version}: {self.title}",
            f"  for {self.questionnaire.questionnaire_id} {self.questionnaire.questionnaire_version} "
            f"({self.questionnaire.content_hash})",
            f"  n = {self.sample.n:,} of {self.sample.rows_read:,} rows read; collected {self.collected}",
            f"  {'scale':<22}{'n':>8}{'mean':>8}{'SD':>8}{'alpha':>8}{'SEM':>8}",
        ]
        for s in self.scales:
            lines.append(
                f"  {s.scale:<22}{s.n:>8,}{s.mean:>8.3f}{s.sd:>8.3f}{s.reliability.value:>8.3f}{s.sem:>8.3f}"
            )
        return "\n".join(lines)

    # Lookup --------------------------------------------------------------------------------------
    @property
    def scale_ids(self) -> list[str]:
        return [s.scale for s in self.scales]

    def scale(self, scale_id: str) -> ScaleNorm:
        for s in self.scales:
            if s.scale == scale_id:
                return s
        raise KeyError(f"norm group {self.name!r} has no norms for scale {scale_id!r}")

    def identity(self) -> dict[str, str]:
        """What a profile records about the norms that produced it."""
        return {"norm_group": self.name, "norm_version": self.version, "norms_sha256": self.sha256}

    def check_applies_to(self, questionnaire: Any) -> None:
        """Raise :class:`NormsMismatchError` unless these norms were built for ``questionnaire``'s content."""
        ref = self.questionnaire
        if questionnaire.id != ref.questionnaire_id:
            raise NormsMismatchError(
                f"norm group {self.name!r} is for questionnaire {ref.questionnaire_id!r}, not {questionnaire.id!r}"
            )
        if questionnaire.content_hash != ref.content_hash:
            raise NormsMismatchError(
                f"norm group {self.name!r} was built for {ref.questionnaire_id} {ref.questionnaire_version} with "
                f"content hash {ref.content_hash}, but the questionnaire given ({questionnaire.version}) has "
                f"{questionnaire.content_hash}: its items, keys or options differ, so these norms do not apply. "
                "Rebuild the norms from a calibration sample of this version."
            )

    # JSON artifact ---------------------------------------------------------------------------------
    @classmethod
    def seal(cls, **content: Any) -> NormTable:
        """A table from its content (every field but ``sha256``), with its ``sha256`` computed."""
        content = dict(content)
        content.setdefault("format", NORMS_FORMAT)
        if "sha256" in content:
            raise TypeError("seal() computes sha256 itself; do not pass it")
        draft = cls.model_validate({**content, "sha256": "sha256:" + "0" * 64})
        return draft.model_copy(update={"sha256": content_sha256(draft.model_dump(mode="json"))})

    def to_json(self) -> str:
        """The artifact text: indented JSON in field order (lists of numbers on one line), UTF-8, final newline."""
        return pretty_json(self.model_dump(mode="json"), indent=2, one_line="numbers")

    def write(self, path: str | Path) -> Path:
        return write_artifact(path, self.to_json())

    @classmethod
    def from_json(cls, text: str, source: str = "<string>") -> NormTable:
        """Load an artifact, checking its format version and its sha256.

        Raises
        ------
        NormsError
            Not JSON, a format this profiler does not know, missing or wrong fields, or a sha256 that does
            not match the content (the file was edited after it was built).
        """
        data = parse_artifact(text, source=source, what="norm table", error=NormsError,
                              formats={"format": NORMS_FORMAT})
        try:
            table = cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg']}" for e in exc.errors(include_url=False)
            )
            raise NormsError(f"{source}: not a valid norm table: {problems}") from None
        verify_seal(table.model_dump(mode="json"), source=source, what="norm table", error=NormsError, made="built")
        return table

    @classmethod
    def read(cls, path: str | Path) -> NormTable:
        return cls.from_json(read_artifact(path, what="norm table", error=NormsError), source=str(path))
