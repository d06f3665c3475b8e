"""Trait profiles: raw scale scores placed against a norm group, vectorized over respondents.

Per scale and respondent (``z = (raw - mean) / SD`` with the norm group's mean and SD):

- ``T = 50 + 10 z``; ``sten = clip(round(5.5 + 2 z), 1, 10)``; ``stanine = clip(round(5 + 2 z), 1, 9)``,
  rounding halves up so that a score on a band edge lands in the upper band (sten 6 is ``0 <= z < 0.5``),
  as in the published sten and stanine tables;
- ``percentile``: empirical (the mid-rank percentile of the raw score in the norm sample, interpolated
  between attainable scores for prorated scores) or normal-theory (``100 * Phi(z)``); the profile says which;
- ``sem = SD * sqrt(1 - alpha)`` (alpha of the norm sample) and bands ``raw +/- z_c * SEM`` at 90%
  (``z_c`` = 1.645) and 95% (1.960), and the same bands in T units (``T +/- z_c * 10 * SEM / SD``). Bands
  are centred on the observed score and not clipped to the score range.
- a prorated score (the respondent answered ``k'`` of the scale's ``k`` keyed items, enough for a score)
  is a mean of fewer items and so less precise: under classical test theory with parallel items the
  error variance of a mean of ``k'`` items is ``k / k'`` times that of the ``k``-item mean, so its
  ``sem`` is ``SD * sqrt(1 - alpha) * sqrt(k / k')`` and its bands widen accordingly. A respondent who
  answered every item keeps the norm group's SEM exactly.

:func:`trait_profiles` returns one row per respondent with columns ``(scale, measure)``;
:class:`TraitProfile` is one respondent's profile, for reading.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import pandas as pd
from scipy import special

from profiler.canonical import fields_of, to_plain
from profiler.norms.table import NormsError, NormsMismatchError, NormTable
from profiler.questionnaire.blocks import row_chunks
from profiler.questionnaire.questionnaire import Questionnaire
from profiler.questionnaire.scoring import score_and_count, score_answers, validate_responses
from profiler.resources import bundled_dir, model_files

PercentileMethod = Literal["empirical", "normal"]
PERCENTILE_METHODS: tuple[str, ...] = ("empirical", "normal")
PERCENTILE_DESCRIPTIONS = {
    "empirical": "empirical (mid-rank percentile of the raw score in the norm sample)",
    "normal": "normal-theory (100 * Phi(z) from the norm sample's mean and SD)",
}
BAND_LEVELS = (90, 95)
_Z_CRIT = {level: float(special.ndtri(0.5 + level / 200)) for level in BAND_LEVELS}  # norm.ppf, bit for bit

# Measures per scale, in column order.
MEASURES: tuple[str, ...] = (
    "raw", "z", "T", "percentile", "sten", "stanine", "sem",
    "raw_90_low", "raw_90_high", "raw_95_low", "raw_95_high",
    "T_90_low", "T_90_high", "T_95_low", "T_95_high",
)  # fmt: skip
INTEGER_MEASURES = ("sten", "stanine")  # nullable integers; the other measures are floats
FLOAT_MEASURES = tuple(m for m in MEASURES if m not in INTEGER_MEASURES)
SMALL_FRAME = 1_024  # profiles of at most this many rows are made in one step (copying their floats is cheaper)


@functools.lru_cache(maxsize=64)
def _profile_columns(scale_ids: tuple[str, ...]) -> tuple[pd.MultiIndex, pd.MultiIndex]:
    """The profile's columns (``(scale, measure)``, in :data:`MEASURES` order) and those of its float block."""
    every = pd.MultiIndex.from_tuples([(s, m) for s in scale_ids for m in MEASURES], names=["scale", "measure"])
    floats = pd.MultiIndex.from_tuples([(s, m) for s in scale_ids for m in FLOAT_MEASURES],
                                       names=["scale", "measure"])
    return every, floats
PROFILE_ROWS = 32_768  # rows placed together: their temporaries stay in the CPU cache
NO_FACTOR_MODEL = "none: no calibrated factor model was given, so the profile has no factor scores"


@runtime_checkable
class FactorScorer(Protocol):
    """What a calibrated factor model offers to add factor scores to a profile (the hook for them).

    :class:`profiler.factors.calibration.FactorModel` is one: ``check_applies_to`` refuses other
    questionnaire content, ``factor_scores(questionnaire, responses)`` returns one column per factor
    (same index), and ``name``, ``version`` and ``sha256`` identify it in the profile.
    """

    name: str
    version: str
    sha256: str

    def check_applies_to(self, questionnaire: Questionnaire) -> None: ...

    def factor_scores(self, questionnaire: Questionnaire, responses: pd.DataFrame) -> pd.DataFrame: ...


def _factor_model(questionnaire: Questionnaire, factor_model: FactorScorer | str | None) -> tuple[Any, str]:
    """The factor model to use (or None) and what the profile says about factor scores."""
    found = model_files(f"{questionnaire.id}/factor-model.json")  # bundled or in a PROFILER_PATH folder
    shipped = found[0] if found else bundled_dir("models") / questionnaire.id / "factor-model.json"
    if factor_model is None:
        if shipped.is_file():
            return None, ("not requested: a calibrated factor model ships for this questionnaire; pass "
                          "factor_model='bundled' to add its scores")  # fmt: skip
        return None, f"none: no calibrated factor model exists for {questionnaire.id!r}"
    if isinstance(factor_model, str):
        if factor_model != "bundled":
            raise NormsError(f"factor_model={factor_model!r}; use 'bundled', a factor model, or None")
        if not shipped.is_file():
            return None, f"none: no calibrated factor model exists for {questionnaire.id!r}"
        from profiler.factors.calibration import FactorModel

        factor_model = FactorModel.read(shipped)
    if not isinstance(factor_model, FactorScorer):
        raise TypeError("factor_model must offer name, version, sha256, check_applies_to() and factor_scores()")
    factor_model.check_applies_to(questionnaire)
    return factor_model, f"{factor_model.name} {factor_model.version} ({factor_model.sha256})"


def round_half_up(x: np.ndarray) -> np.ndarray:
    return np.floor(x + 0.5)


_INTEGER_SCALES = {"sten": (5.5, 10), "stanine": (5.0, 9)}  # centre and top: 2 z + centre, rounded, in 1..top


def integer_measures(twice_z: np.ndarray) -> list[np.ndarray]:
    """Sten and stanine (floats holding whole numbers, in :data:`INTEGER_MEASURES` order) of ``2 z`` (give 0
    where there is no z)."""
    out = []
    for name in INTEGER_MEASURES:
        centre, top = _INTEGER_SCALES[name]
        rounded = round_half_up(np.add(twice_z, centre))
        out.append(np.clip(rounded, 1, top, out=rounded))
    return out


def _check_method(percentiles: str) -> None:
    if percentiles not in PERCENTILE_METHODS:
        raise NormsError(f"percentiles={percentiles!r}; use one of {PERCENTILE_METHODS}")


def profile_scores(
    scores: pd.DataFrame,
    norms: NormTable,
    *,
    percentiles: PercentileMethod = "empirical",
    answered: pd.DataFrame | None = None,
    sem: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Place raw scale scores against a norm group.

    Parameters
    ----------
    scores : DataFrame
        Raw scale scores, one column per scale (as :func:`profiler.questionnaire.scoring.score_responses`);
        every scale of ``norms`` must be a column. If ``scores.attrs`` records a ``content_hash`` it must be
        the one the norms were built for.
    norms : NormTable
    percentiles : {"empirical", "normal"}
    answered : DataFrame, optional
        How many keyed items each score rests on, as :func:`profiler.questionnaire.scoring.answered_counts`
        (same index as ``scores``, a column per scale, ``.attrs["items_total"]``). With it, a prorated
        score's ``sem`` and bands are those of a mean of fewer items, ``SEM * sqrt(k / k')``; without it
        every score is taken to rest on all of its scale's items.
    sem : DataFrame, optional
        Each respondent's own SEM of some scales (a column per scale, same index as ``scores``; e.g. an IRT
        score's, :func:`profiler.norms.irt.irt_norm_profiles`): those scales' ``sem`` and bands come from it
        instead of the norm group's reliability, and ``answered`` does not widen them.

    Returns
    -------
    DataFrame
        Same index; columns ``(scale, measure)`` for the norms' scales in order and :data:`MEASURES`;
        ``sten`` and ``stanine`` are nullable integers. A missing raw score gives missing measures (the
        SEM stays, that of the whole scale). ``.attrs`` records the norms' identity and the percentile
        method, and with ``answered`` also ``items_total`` and ``sem_complete`` (scale -> number of keyed
        items, scale -> SEM of a score on all of them).
    """
    _check_method(percentiles)
    recorded = scores.attrs.get("content_hash")
    if recorded is not None and recorded != norms.questionnaire.content_hash:
        raise NormsMismatchError(
            f"these scores come from questionnaire content {recorded}, but norm group {norms.name!r} was built "
            f"for {norms.questionnaire.content_hash}"
        )
    missing = [s for s in norms.scale_ids if s not in scores.columns]
    if missing:
        raise NormsError(f"scores lack the scale(s) the norms cover: {', '.join(missing)}")
    totals = _check_answered(answered, scores, norms)
    own = _check_own_sem(sem, scores)
    if totals is not None:
        counts = answered.to_numpy()
        position = {scale: j for j, scale in enumerate(answered.columns)}
    sem_complete: dict[str, float] = {}
    # The float measures are written in place into one column-major block (the DataFrame's own, no copy), rows
    # chunk by chunk so that the temporaries stay in the CPU cache; sten and stanine (nullable integers) are
    # inserted beside them.
    floats = FLOAT_MEASURES
    n = len(scores)
    block = np.empty((n, len(floats) * len(norms.scales)), order="F")
    integers: list[tuple[int, tuple[str, str], Any]] = []
    for number, scale in enumerate(norms.scales):
        columns = dict(zip(floats, block[:, number * len(floats) : (number + 1) * len(floats)].T, strict=True))
        columns["raw"][:] = scores[scale.scale].to_numpy(dtype=float)
        if scale.scale not in own:
            sem_complete[scale.scale] = scale.sem
        k = totals[scale.scale] if totals is not None and scale.scale not in own else None
        stens, missing_raw = np.empty((2, n), np.int8), np.empty(n, bool)
        for a, b in row_chunks(n, PROFILE_ROWS):
            _place(scale, {m: c[a:b] for m, c in columns.items()}, stens[:, a:b], missing_raw[a:b], percentiles,
                   own[scale.scale][a:b] if scale.scale in own else None,
                   (k, counts[a:b, position[scale.scale]]) if k is not None else None)
        for name, values in zip(INTEGER_MEASURES, stens, strict=True):
            integers.append((number * len(MEASURES) + MEASURES.index(name), (scale.scale, name),
                             pd.arrays.IntegerArray(values, missing_raw.copy())))
    every, names = _profile_columns(tuple(norms.scale_ids))
    if n <= SMALL_FRAME:  # every column at once (inserting ten columns costs more than copying a few rows)
        placed = dict(zip(names, block.T, strict=True))
        placed.update({key: values for _, key, values in integers})
        frame = pd.DataFrame(dict(enumerate(placed[key] for key in every)), index=scores.index)
        frame.columns = every
    else:
        frame = pd.DataFrame(block, index=scores.index, columns=names, copy=False)
        for at, key, values in integers:  # in column order: each lands where MEASURES puts it
            frame.insert(at, key, values)
    identity = ("questionnaire_id", "questionnaire_version", "content_hash")
    frame.attrs.update({k: v for k, v in scores.attrs.items() if k in identity})
    frame.attrs.update(norms.identity())
    frame.attrs["norm_title"] = norms.title
    frame.attrs["percentile_method"] = PERCENTILE_DESCRIPTIONS[percentiles]
    frame.attrs["factor_scores"] = NO_FACTOR_MODEL
    if totals is not None:
        frame.attrs["items_total"] = {s: int(totals[s]) for s in norms.scale_ids}
        frame.attrs["sem_complete"] = sem_complete  # scales with their own SEM left out: counts not inferred
    return frame


def _place(scale: Any, out: dict[str, np.ndarray], stens: np.ndarray, missing_raw: np.ndarray, percentiles: str,
           own: np.ndarray | None, answered: tuple[int, np.ndarray] | None) -> None:
    """One scale's measures of some rows (their raw scores already in ``out["raw"]``), written into ``out``,
    ``stens`` (sten and stanine) and ``missing_raw``."""
    raw, z, t = out["raw"], out["z"], out["T"]
    np.isnan(raw, out=missing_raw)
    np.divide(np.subtract(raw, scale.mean, out=z), scale.sd, out=z)
    np.add(np.multiply(z, 10.0, out=t), 50.0, out=t)  # 50 + 10 z
    if percentiles == "empirical":
        out["percentile"][:] = scale.empirical_percentile(raw)
        out["percentile"][missing_raw] = np.nan
    else:
        special.ndtr(z, out=out["percentile"])
        out["percentile"] *= 100.0
    full_sem = scale.sem  # of a score on all k items
    error: float | np.ndarray = own if own is not None else full_sem
    if answered is not None:
        k, k_answered = answered
        prorated = np.flatnonzero(k_answered != k)
        if len(prorated) and len(prorated := prorated[~missing_raw[prorated]]):
            fewer = k_answered[prorated].astype(float)
            if not np.all((fewer >= 1) & (fewer < k)):
                raise NormsError(f"answered counts of {scale.scale!r} must be whole numbers from 1 to {k} "
                                 "where there is a score")
            error = np.full(len(raw), full_sem)
            error[prorated] = full_sem * np.sqrt(k / fewer)  # a mean of k' items: k / k' times the error variance
    twice_z = np.where(missing_raw, 0.0, z)  # integers cannot hold NaN: the mask marks missing ones
    twice_z *= 2.0
    stens[:] = integer_measures(twice_z)
    out["sem"][:] = error
    for level in BAND_LEVELS:
        half_raw = _Z_CRIT[level] * error
        np.subtract(raw, half_raw, out=out[f"raw_{level}_low"])
        np.add(raw, half_raw, out=out[f"raw_{level}_high"])
    for level in BAND_LEVELS:
        half_t = 10.0 * _Z_CRIT[level] * error / scale.sd
        np.subtract(t, half_t, out=out[f"T_{level}_low"])
        np.add(t, half_t, out=out[f"T_{level}_high"])


def _check_own_sem(sem: pd.DataFrame | None, scores: pd.DataFrame) -> dict[str, np.ndarray]:
    """Scale -> each respondent's own SEM (positive where the score is given)."""
    if sem is None:
        return {}
    if not isinstance(sem, pd.DataFrame) or not sem.index.equals(scores.index):
        raise NormsError("sem must be a DataFrame with the same index (respondents, in order) as the scores")
    out = {}
    for scale in sem.columns:
        values = sem[scale].to_numpy(dtype=float)
        given = ~np.isnan(scores[scale].to_numpy(dtype=float)) if scale in scores.columns else np.ones(len(sem), bool)
        if not np.all(np.isfinite(values[given]) & (values[given] > 0)):
            raise NormsError(f"sem of {scale!r}: every respondent with a score needs a positive, finite SEM")
        out[str(scale)] = values
    return out


def _check_answered(answered: pd.DataFrame | None, scores: pd.DataFrame, norms: NormTable) -> Mapping | None:
    """The scales' numbers of keyed items when ``answered`` counts fit the scores (else NormsError)."""
    if answered is None:
        return None
    if not isinstance(answered, pd.DataFrame):
        raise TypeError(f"answered must be a DataFrame of counts (answered_counts), got {type(answered).__name__}")
    totals = answered.attrs.get("items_total")
    if not isinstance(totals, Mapping):
        raise NormsError("answered lacks attrs['items_total'] (the scales' numbers of keyed items): "
                         "make it with profiler.questionnaire.scoring.answered_counts")
    recorded = answered.attrs.get("content_hash")
    if recorded is not None and recorded != norms.questionnaire.content_hash:
        raise NormsMismatchError(f"the answered counts come from questionnaire content {recorded}, but norm group "
                                 f"{norms.name!r} was built for {norms.questionnaire.content_hash}")
    missing = [s for s in norms.scale_ids if s not in answered.columns or s not in totals]
    if missing:
        raise NormsError(f"answered lacks the scale(s) the norms cover: {', '.join(missing)}")
    if not answered.index.equals(scores.index):
        raise NormsError("answered must have the same index (respondents, in order) as the scores")
    return totals


def trait_profiles(
    questionnaire: Questionnaire,
    responses: pd.DataFrame,
    norms: NormTable,
    *,
    percentiles: PercentileMethod = "empirical",
    invalid: str = "raise",
    factor_model: FactorScorer | str | None = None,
) -> pd.DataFrame:
    """Trait profiles of many respondents at once: raw score, z, T, percentile, sten, stanine, SEM, bands.

    Parameters
    ----------
    questionnaire : Questionnaire
    responses : DataFrame
        Item answers, one row per respondent (see :func:`profiler.questionnaire.scoring.validate_responses`).
    norms : NormTable
        Must have been built for this questionnaire's content hash (else :class:`NormsMismatchError`).
    percentiles : {"empirical", "normal"}
        Empirical mid-rank percentiles in the norm sample (default) or normal-theory ones.
    invalid : {"raise", "allow-unanswered", "missing"}
        What to do with invalid answers and unanswered required items (as for scoring).
    factor_model : FactorScorer, "bundled" or None
        A calibrated factor model (e.g. :func:`profiler.factors.calibration.load_factor_model`), or
        ``"bundled"`` for the one shipped with the questionnaire: its factor scores are added as columns
        ``(factor, "factor_score")`` (missing for a respondent with an unanswered item). Without one
        (the default) the profile says that it has no factor scores, and whether a calibrated model exists.

    Returns
    -------
    DataFrame
        One row per respondent (same index), columns ``(scale, measure)``; ``.attrs`` records the
        questionnaire id, version and content hash, the norm group, version and sha256, the percentile
        method and the factor model (or its absence). See the module docstring for the formulas: a
        prorated score has its own, larger ``sem`` and wider bands.
    """
    _check_method(percentiles)
    norms.check_applies_to(questionnaire)
    model, note = _factor_model(questionnaire, factor_model)
    if model is None:  # scores straight from the responses (no float copy of the answers is needed)
        scores, answered = score_and_count(questionnaire, responses, invalid=invalid)
        frame = profile_scores(scores, norms, percentiles=percentiles, answered=answered)
        frame.attrs["factor_scores"] = note
        return frame
    answers = validate_responses(questionnaire, responses, invalid=invalid)
    return _profiles(questionnaire, answers, norms, percentiles, model, note)


def profiles_of_answers(questionnaire: Questionnaire, answers: pd.DataFrame, norms: NormTable, *,
                        percentiles: PercentileMethod = "empirical",
                        factor_model: FactorScorer | str | None = None) -> pd.DataFrame:
    """:func:`trait_profiles` of answers that :func:`~profiler.questionnaire.scoring.validate_responses`
    returned: the same result, without validating them again (a batch validates once, at its boundary)."""
    _check_method(percentiles)
    norms.check_applies_to(questionnaire)
    model, note = _factor_model(questionnaire, factor_model)
    return _profiles(questionnaire, answers, norms, percentiles, model, note)


def _profiles(questionnaire: Questionnaire, answers: pd.DataFrame, norms: NormTable, percentiles: str, model: Any,
              note: str) -> pd.DataFrame:
    scores, answered = score_answers(questionnaire, answers)
    frame = profile_scores(scores, norms, percentiles=percentiles, answered=answered)
    if model is None:
        frame.attrs["factor_scores"] = note
        return frame
    # Factor scores need every scored item: respondents with a missing one get none (nothing is imputed).
    complete = answers[questionnaire.scored_items].notna().all(axis=1)
    factors = model.factor_scores(questionnaire, answers[complete]).reindex(answers.index)
    factors.columns = pd.MultiIndex.from_product([[str(c) for c in factors.columns], ["factor_score"]])
    attrs = dict(frame.attrs)
    frame = pd.concat([frame, factors.set_axis(frame.index)], axis=1)
    frame.attrs = {**attrs, "factor_scores": note}
    return frame


RAW_MEASURES: tuple[str, ...] = ("raw", "sem")


@dataclass(frozen=True)
class RawScoreSEM:
    """Where the SEM of raw scores comes from: a calibration's label and sha256, and the SEM (raw units) per scale."""

    label: str
    sha256: str
    sem: dict[str, float]


def raw_profiles_of_answers(questionnaire: Questionnaire, answers: pd.DataFrame,
                            sem: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Raw scale scores of validated answers, placed against no norm group, with their SEM where one is known.

    Parameters
    ----------
    questionnaire : Questionnaire
    answers : DataFrame
        What :func:`~profiler.questionnaire.scoring.validate_responses` returned (not checked again).
    sem : mapping, optional
        Scale -> standard error of measurement of the full-length raw score, in raw units, from a calibration
        (e.g. a factor model's ``reliability[scale]["sem"]``). A prorated score's SEM is widened by
        ``sqrt(k / k')`` as in :func:`profile_scores`; scales without one get NaN.

    Returns
    -------
    DataFrame
        Columns ``(scale, "raw")`` and ``(scale, "sem")`` for every scale; ``attrs["normed"]`` is False.
    """
    scores, answered = score_answers(questionnaire, answers)
    return raw_profiles(scores, answered, sem)


def raw_profiles(scores: pd.DataFrame, answered: pd.DataFrame, sem: Mapping[str, float] | None = None) -> pd.DataFrame:
    """:func:`raw_profiles_of_answers` of scores and answered counts already computed (as
    :func:`~profiler.questionnaire.scoring.score_answers` returns them)."""
    known = dict(sem or {})
    full = np.array([known.get(s, np.nan) for s in scores.columns], dtype=float)
    total = np.array([answered.attrs["items_total"][s] for s in scores.columns], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        widened = full * np.sqrt(total / answered.to_numpy(dtype=float))
    widened[np.isnan(scores.to_numpy())] = np.nan
    blocks = np.stack([scores.to_numpy(), widened], axis=2).reshape(len(scores), 2 * scores.shape[1])
    columns = pd.MultiIndex.from_product([list(scores.columns), list(RAW_MEASURES)])
    frame = pd.DataFrame(blocks, index=scores.index, columns=columns)
    frame.attrs = {**scores.attrs, "normed": False}
    return frame


# ------------------------------------------------------------------------------------------------
# One respondent
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScaleResult:
    """One scale of a :class:`TraitProfile` (bands are ``(low, high)``)."""

    scale: str
    name: str
    raw: float
    z: float
    T: float
    percentile: float
    sten: int | None
    stanine: int | None
    sem: float
    band_90_raw: tuple[float, float]
    band_95_raw: tuple[float, float]
    band_90_T: tuple[float, float]
    band_95_T: tuple[float, float]
    low: str | None = None
    high: str | None = None
    factor_score: float | None = None
    items_answered: int | None = None  # keyed items the score rests on (None: not known)
    items_total: int | None = None  # keyed items of the scale

    @property
    def prorated(self) -> bool:
        """Whether the score rests on fewer than all of the scale's items (so its SEM and bands are wider)."""
        return (not math.isnan(self.raw) and self.items_answered is not None and self.items_total is not None
                and self.items_answered < self.items_total)

    @property
    def reading(self) -> str:
        """Plain words: above or below the norm average only when the whole 90% band is."""
        if math.isnan(self.raw):
            return "no score (too few items answered)"
        low, high = self.band_90_T
        if low > 50:
            text = "above the norm group's average" + (f": {self.high}" if self.high else "")
        elif high < 50:
            text = "below the norm group's average" + (f": {self.low}" if self.low else "")
        else:
            text = "within measurement error of the norm group's average"
        if self.prorated:
            text += f" ({self.items_answered} of {self.items_total} items answered; wider band)"
        return text


@dataclass(frozen=True)
class TraitProfile:
    """One respondent's trait profile, pleasant to read (``print(profile)``).

    Build with :func:`trait_profile` (one respondent's answers) or :meth:`from_profiles` (a row of
    :func:`trait_profiles`' result).
    """

    respondent: Any
    questionnaire: Mapping[str, str]
    norms: Mapping[str, str]
    norm_title: str
    percentile_method: str
    scales: tuple[ScaleResult, ...]
    factor_scores: str = NO_FACTOR_MODEL
    language: str = "en"

    def __getitem__(self, scale: str) -> ScaleResult:
        for result in self.scales:
            if result.scale == scale:
                return result
        raise KeyError(f"the profile has no scale {scale!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (NaN as None); :meth:`from_dict` reads it back.

        Each scale keeps its own ``sem`` and bands (wider for a prorated score) and ``items_answered`` /
        ``items_total``.
        """
        return to_plain({
            "respondent": self.respondent, "questionnaire": dict(self.questionnaire), "norms": dict(self.norms),
            "norm_title": self.norm_title, "percentile_method": self.percentile_method,
            "scales": [dataclasses.asdict(s) for s in self.scales], "factor_scores": self.factor_scores,
            "language": self.language,
        }, "profile", nonfinite="null")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TraitProfile:
        """Rebuild a profile from :meth:`to_dict` (payloads without the item counts read them as not known)."""
        if isinstance(data, TraitProfile):
            return data
        scales = []
        for s in data["scales"]:
            values = fields_of(ScaleResult, s)
            for key in ("raw", "z", "T", "percentile", "sem"):
                values[key] = _number(values.get(key))
            for key in ("band_90_raw", "band_95_raw", "band_90_T", "band_95_T"):
                band = values.get(key)
                values[key] = (_number(band[0]), _number(band[1])) if band is not None else (math.nan, math.nan)
            for key in ("items_answered", "items_total"):  # absent from payloads older than these counts
                values[key] = None if values.get(key) is None else int(values[key])
            scales.append(ScaleResult(**values))
        return cls(respondent=data["respondent"], questionnaire=dict(data["questionnaire"]),
                   norms=dict(data["norms"]), norm_title=data.get("norm_title", ""),
                   percentile_method=data["percentile_method"], scales=tuple(scales),
                   **fields_of(cls, {k: data[k] for k in ("factor_scores", "language") if k in data}))

    @classmethod
    def from_profiles(
        cls, profiles: pd.DataFrame, respondent: Any, questionnaire: Questionnaire, *, language: str | None = None
    ) -> TraitProfile:
        """The profile of one row (by index label) of :func:`trait_profiles`' result."""
        attrs = profiles.attrs
        if attrs.get("content_hash") not in (None, questionnaire.content_hash):
            raise NormsMismatchError("these profiles were computed with different questionnaire content")
        row = profiles.loc[respondent]
        if isinstance(row, pd.DataFrame):
            raise KeyError(f"respondent label {respondent!r} is not unique in the profiles")
        language = language or questionnaire.default_language
        results = []
        for scale_id in dict.fromkeys(profiles.columns.get_level_values(0)):
            if scale_id not in questionnaire.scale_ids:
                continue
            spec = questionnaire.scale(scale_id)
            values = row[scale_id]

            def pick(texts, _language=language):
                return None if texts is None else texts.get(_language, next(iter(texts.values())))

            def num(measure, _values=values):
                value = _values.get(measure, np.nan)
                return float("nan") if pd.isna(value) else float(value)

            def integer(measure, _values=values):
                value = _values.get(measure)
                return None if value is None or pd.isna(value) else int(value)

            total, answered = _items_answered(attrs, scale_id, num("raw"), num("sem"))

            results.append(
                ScaleResult(
                    scale=scale_id,
                    name=pick(spec.name) or scale_id,
                    raw=num("raw"),
                    z=num("z"),
                    T=num("T"),
                    percentile=num("percentile"),
                    sten=integer("sten"),
                    stanine=integer("stanine"),
                    sem=num("sem"),
                    band_90_raw=(num("raw_90_low"), num("raw_90_high")),
                    band_95_raw=(num("raw_95_low"), num("raw_95_high")),
                    band_90_T=(num("T_90_low"), num("T_90_high")),
                    band_95_T=(num("T_95_low"), num("T_95_high")),
                    low=pick(spec.low),
                    high=pick(spec.high),
                    factor_score=None if "factor_score" not in values else num("factor_score"),
                    items_answered=answered,
                    items_total=total,
                )
            )
        return cls(
            respondent=respondent.item() if isinstance(respondent, np.generic) else respondent,
            questionnaire=questionnaire.identity(),
            norms={k: attrs[k] for k in ("norm_group", "norm_version", "norms_sha256")},
            norm_title=attrs.get("norm_title", ""),
            percentile_method=attrs["percentile_method"],
            scales=tuple(results),
            factor_scores=attrs.get("factor_scores", NO_FACTOR_MODEL),
            language=language,
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per scale with the numbers (bands as ``*_low`` / ``*_high`` columns)."""
        rows = {}
        for r in self.scales:
            rows[r.scale] = {
                "raw": r.raw, "z": r.z, "T": r.T, "percentile": r.percentile, "sten": r.sten,
                "stanine": r.stanine, "sem": r.sem,
                "raw_90_low": r.band_90_raw[0], "raw_90_high": r.band_90_raw[1],
                "raw_95_low": r.band_95_raw[0], "raw_95_high": r.band_95_raw[1],
                "T_90_low": r.band_90_T[0], "T_90_high": r.band_90_T[1],
                "T_95_low": r.band_95_T[0], "T_95_high": r.band_95_T[1],
            }  # fmt: skip
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.name = "scale"
        return frame

    def __str__(self) -> str:
        q, nm = self.questionnaire, self.norms
        with_factors = any(r.factor_score is not None for r in self.scales)
        lines = [
            f"Trait profile of respondent {self.respondent!r}",
            f"  questionnaire  {q['questionnaire_id']} {q['questionnaire_version']} ({q['content_hash']})",
            f"  norm group     {nm['norm_group']} {nm['norm_version']}: {self.norm_title} ({nm['norms_sha256']})",
            f"  percentiles    {self.percentile_method}",
            "",
            f"  {'scale':<38}{'raw':>6}{'T':>6}  {'90% band (T)':<14}{'pct':>6}{'sten':>6}{'stanine':>9}"
            + (f"{'factor':>8}" if with_factors else ""),
        ]
        for r in self.scales:
            band = "-" if math.isnan(r.T) else f"{r.band_90_T[0]:.0f}-{r.band_90_T[1]:.0f}"
            lines.append(
                f"  {r.name[:37]:<38}{_fmt(r.raw, 2):>6}{_fmt(r.T, 0):>6}  {band:<14}{_fmt(r.percentile, 0):>6}"
                f"{'-' if r.sten is None else r.sten:>6}{'-' if r.stanine is None else r.stanine:>9}"
                + (f"{_fmt(r.factor_score, 2):>8}" if with_factors else "")
            )
        lines += ["", "  Reading (a score differs from the average only if its whole 90% band does):"]
        lines += [f"  - {r.name}: {r.reading}" for r in self.scales]
        lines += ["", f"  factor scores: {self.factor_scores}"]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"TraitProfile(respondent={self.respondent!r}, norm_group={self.norms['norm_group']!r}, "
            f"T={{{', '.join(f'{r.scale!r}: {_fmt(r.T, 1)}' for r in self.scales)}}})"
        )


def _items_answered(attrs: Mapping, scale: str, raw: float, sem: float) -> tuple[int | None, int | None]:
    """The scale's number of keyed items and how many the score rests on, from a profile row.

    The count is read back from the row's own SEM, which :func:`profile_scores` made from it:
    ``k' = k * (SEM of all k items / sem)^2`` (exact after rounding). Unknown (None) for a missing score, a
    profile made without counts, or an SEM of 0.
    """
    total = (attrs.get("items_total") or {}).get(scale)
    complete = (attrs.get("sem_complete") or {}).get(scale)
    if total is None:
        return None, None
    if complete is None or math.isnan(raw) or not sem > 0 or not complete > 0:
        return int(total), None
    return int(total), int(round(total * (complete / sem) ** 2))


def _fmt(value: float, decimals: int) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.{decimals}f}"


def trait_profile(
    questionnaire: Questionnaire,
    answers: Mapping[str, Any] | pd.Series | pd.DataFrame,
    norms: NormTable,
    *,
    respondent: Any = None,
    percentiles: PercentileMethod = "empirical",
    invalid: str = "raise",
    factor_model: FactorScorer | str | None = None,
    language: str | None = None,
) -> TraitProfile:
    """The trait profile of one respondent, from a mapping ``item -> answer`` (or a one-row DataFrame)."""
    if isinstance(answers, pd.DataFrame):
        if len(answers) != 1:
            raise NormsError(f"trait_profile takes one respondent; got {len(answers)} rows (use trait_profiles)")
        frame = answers
    else:
        label = respondent if respondent is not None else getattr(answers, "name", None)
        label = 0 if label is None else label
        frame = pd.DataFrame([dict(answers)], index=[label])
    profiles = trait_profiles(
        questionnaire, frame, norms, percentiles=percentiles, invalid=invalid, factor_model=factor_model
    )
    return TraitProfile.from_profiles(profiles, profiles.index[0], questionnaire, language=language)


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)
