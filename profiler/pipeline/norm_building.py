"""Building norm tables from a sample file: what ``profiler norms build`` runs.

One norm table for the whole sample, or one per stratum (``by``: an age band, a region), each a sealed
artifact as :func:`profiler.norms.build_norms` makes it. Before a table is written:

- its sample must have at least :data:`MIN_NORM_N` respondents (EFPA Test Review Model 2013, norms for
  classical norm-referenced interpretation: a sample under 200 is inadequate, 200-299 adequate, 300-999
  good, 1,000 or more excellent); a smaller one is refused unless forced, and a forced table says so in its
  notes;
- every scale's reliability is reported (alpha from the table, omega total from a one-factor model of its
  keyed items), with a warning below :data:`LOW_RELIABILITY` (.70, the usual floor; decisions about
  individuals want .90);
- strata are never formed by protected attributes (within-group norming by race, colour, religion, sex or
  national origin is unlawful in US employment decisions: Civil Rights Act of 1991, section 106).

With population margins the sample is weighted by raking (:func:`profiler.norms.weighting.rake`) and the
weighting is described in the table.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from profiler.errors import ProfilerError
from profiler.factors import omega
from profiler.norms import NormTable, RowRule, build_norms
from profiler.norms.build import LOW_RELIABILITY, MIN_NORM_N
from profiler.norms.table import NormSampleWarning, NormsError
from profiler.norms.weighting import Raking, rake, read_margins
from profiler.pipeline.sample_file import SampleFile, read_sample
from profiler.questionnaire import Questionnaire

# Column names that say a stratum would be a protected group (matched on words of the name).
PROTECTED_WORDS = {"sex", "gender", "race", "ethnicity", "ethnic", "colour", "color", "religion", "nationality",
                   "national_origin", "origin", "citizenship", "native_language", "caste"}


class NormBuildError(ProfilerError, ValueError):
    """A norm table that must not be built: too small a sample, a protected stratum, options that do not fit."""


@dataclass(frozen=True)
class NormProvenance:
    """What a norm table says about itself (see :class:`profiler.norms.NormTable`)."""

    name: str
    population: str
    collected: str
    version: str = "1.0.0"
    title: str | None = None
    sampling: str = "not described by the author of this norm table"
    source: str | None = None  # default: the file's name and sha256


@dataclass(frozen=True)
class ScaleReliability:
    """One scale of one norm table, as reported: n, alpha (from the table) and omega total."""

    table: str
    scale: str
    n: int
    alpha: float
    omega_total: float | None
    sem: float


@dataclass
class NormBuild:
    """The tables built, their reliabilities and the warnings to show."""

    tables: list[NormTable] = field(default_factory=list)
    reliability: list[ScaleReliability] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    raking: dict[str, Raking] = field(default_factory=dict)

    def write(self, folder: str | Path, *, overwrite: bool = False) -> list[Path]:
        """Write every table to ``folder/<name>.json``; an existing file is refused unless ``overwrite``."""
        folder = Path(folder)
        paths = [folder / f"{t.name}.json" for t in self.tables]
        existing = [str(p) for p in paths if p.exists()]
        if existing and not overwrite:
            raise NormBuildError(f"{', '.join(existing)} exist(s); a norm table is never replaced silently "
                                 "(pass --overwrite, and give the new table a new --version)")
        return [t.write(p) for t, p in zip(self.tables, paths, strict=True)]


def _slug(value: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
    return slug or "blank"


def check_strata(by: Sequence[str]) -> None:
    """Refuse strata that name a protected attribute."""
    for column in by:
        words = set(re.split(r"[^a-z]+", column.lower())) | {column.lower()}
        if words & PROTECTED_WORDS:
            raise NormBuildError(
                f"norms by {column!r} would place candidates against their own protected group: within-group "
                "norming by race, colour, religion, sex or national origin is unlawful in US employment decisions "
                "(Civil Rights Act of 1991, section 106) and profiler does not build it. Use one norm group for "
                "every candidate, and examine group differences in a fairness audit instead.")


def build_norm_tables(questionnaire: Questionnaire, sample: SampleFile, provenance: NormProvenance, *,
                      by: Sequence[str] = (), margins: Mapping[str, Mapping[str, float]] | None = None,
                      force: bool = False, min_n: int = MIN_NORM_N) -> NormBuild:
    """Norm tables of ``sample`` (one, or one per combination of the ``by`` columns' values).

    Raises
    ------
    NormBuildError
        A protected stratum; margins together with strata (weighting within strata needs margins per
        stratum, which this does not take); a sample (or stratum) under ``min_n`` without ``force``.
    """
    check_strata(by)
    if by and margins:
        raise NormBuildError("weighting to margins and stratifying together are not supported: the margins would "
                             "have to be given within each stratum; build one or the other")
    groups: list[tuple[str, str | None, np.ndarray]] = []
    if by:
        keys = sample.columns[list(by)].astype(str).agg(" / ".join, axis=1)
        for value in sorted(keys.unique()):
            groups.append((f"{provenance.name}-{_slug(value)}", value, (keys == value).to_numpy()))
    else:
        groups.append((provenance.name, None, np.ones(sample.n, dtype=bool)))
    result = NormBuild()
    small = [(name, int(mask.sum())) for name, _, mask in groups if mask.sum() < min_n]
    if small and not force:
        shown = ", ".join(f"{name} (n = {n})" for name, n in small)
        raise NormBuildError(f"too few respondents for norms: {shown}; the minimum is {min_n} (EFPA Test Review "
                             "Model: under 200 is inadequate for norm-referenced interpretation). Collect more data, "
                             "or pass --force to build them anyway, marked as below the minimum")
    for name, value, mask in groups:
        part = sample.subset(mask)
        raking = rake(part.columns, margins) if margins else None
        try:
            table = _table(questionnaire, part, provenance, name, by, value, raking, min_n)
        except NormsError as exc:
            # Which table failed matters when there are several (a reversed translation breaks one language's).
            where = f"norm table {name!r}" + ("" if value is None else f" ({' / '.join(by)} = {value})")
            raise NormBuildError(f"{where}: {exc}" + (
                "; if the strata are language versions, profiler check-translation names the items whose "
                "translation runs against its scale" if by else "")) from exc
        result.tables.append(table)
        if raking is not None:
            result.raking[name] = raking
        _report(questionnaire, part, table, result)
    return result


def _table(questionnaire: Questionnaire, part: SampleFile, provenance: NormProvenance, name: str,
           by: Sequence[str], value: str | None, raking: Raking | None, min_n: int) -> NormTable:
    rules = list(part.rules)
    descriptives: dict[str, float | int | str] = {}
    population = provenance.population
    if value is not None:
        rules.append(RowRule(rule=f"not in stratum {' / '.join(by)} = {value}", rows=part.rows_read - part.n
                             - sum(r.rows for r in part.rules if r.action == "excluded"), action="excluded"))
        descriptives["stratum"] = f"{' / '.join(by)} = {value}"
        population = f"{population}; stratum {' / '.join(by)} = {value}"
    notes = []
    if part.n < min_n:
        notes.append(f"Built with n = {part.n}, below the minimum of {min_n} (EFPA Test Review Model: inadequate "
                     "for norm-referenced interpretation), because the author forced it. Treat percentiles as rough.")
    if raking is not None:
        descriptives.update(raking.describe())
        notes.append("Weighted by raking to population margins: " + "; ".join(
            f"{variable}: " + ", ".join(f"{c} {s:.1%}" for c, s in shares.items())
            for variable, shares in raking.margins.items()) + ". Means, SDs, alphas and percentiles are weighted; "
            "counts are of respondents.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NormSampleWarning)  # said per scale, with omega, by _report
        return build_norms(
            questionnaire, part.answers, name=name, version=provenance.version,
            title=provenance.title or f"{questionnaire.id} norms: {name}", population=population,
            collected=provenance.collected, sampling=provenance.sampling,
            source=provenance.source or f"{part.path.name} ({part.sha256})", rows_read=part.rows_read, rules=rules,
            descriptives=descriptives, notes=notes, invalid="missing",
            scales=[s for s in questionnaire.scale_ids if len(questionnaire.keys(s)) >= 2],
            weights=None if raking is None else raking.weights.to_numpy())


def _report(questionnaire: Questionnaire, part: SampleFile, table: NormTable, result: NormBuild) -> None:
    for scale in table.scales:
        keys = questionnaire.keys(scale.scale)
        omega_total = None
        if len(keys) >= 3:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                omega_total = float(omega(part.answers[[k.item for k in keys]], 1, keys=[str(k) for k in keys],
                                          item_range=questionnaire.item_range(keys[0].item)).omega_total)
            for w in caught:
                message = str(w.message)
                result.warnings.append(f"{table.name}, scale {scale.scale!r}: "
                                       + (message if message.startswith("omega") else f"omega: {message}"))
        alpha = scale.reliability.value
        result.reliability.append(ScaleReliability(table.name, scale.scale, scale.n, alpha, omega_total, scale.sem))
        low = [f"alpha {alpha:.2f}"] if alpha < LOW_RELIABILITY else []
        low += [f"omega {omega_total:.2f}"] if omega_total is not None and omega_total < LOW_RELIABILITY else []
        if low:
            result.warnings.append(
                f"{table.name}, scale {scale.scale!r}: {' and '.join(low)} below {LOW_RELIABILITY:.2f}: its scores "
                f"carry a large error (SEM {scale.sem:.3f} raw units); revise the scale before using it for decisions")
    skipped = [s for s in questionnaire.scale_ids if s not in table.scale_ids]
    if skipped:
        result.warnings.append(f"{table.name}: no norms for {', '.join(skipped)}: a scale of one item has no alpha, "
                               "so no SEM")


def read_margins_file(path: str | Path) -> dict[str, dict[str, float]]:
    """Population margins from a CSV with columns ``variable``, ``category``, ``share``."""
    path = Path(path)
    if not path.is_file():
        raise NormBuildError(f"no such file: {path}")
    return read_margins(pd.read_csv(path, dtype=str, keep_default_na=False), source=str(path))


def norms_from_file(questionnaire: Questionnaire, data: str | Path, provenance: NormProvenance, *,
                    by: Sequence[str] = (), margins: str | Path | None = None, force: bool = False,
                    sep: str = ",") -> tuple[SampleFile, NormBuild]:
    """Read a sample file (and a margins file) and build its norm tables: ``profiler norms build``."""
    check_strata(by)
    population = read_margins_file(margins) if margins is not None else None
    sample = read_sample(questionnaire, data, columns=[*by, *(population or {})], sep=sep)
    return sample, build_norm_tables(questionnaire, sample, provenance, by=by, margins=population, force=force)
