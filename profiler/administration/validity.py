"""Response validity: is a respondent's set of answers fit to be read as a profile?

:func:`assess_validity` computes the careless-responding indices of
:mod:`profiler.administration.validity_indices` for every respondent, compares them with the
questionnaire's ``validity_rules`` and gives each respondent a verdict, ``valid``, ``questionable`` or
``invalid``, with its reasons in plain words. Nobody is dropped: every input row gets a verdict.

Indices that compare a respondent with other people (psychometric synonyms and antonyms, Mahalanobis
distance) need a :class:`ValidityCalibration`: item pairs, mean vector and covariance matrix derived
from a calibration sample, plus the sample's distribution of every index so that each value and each
threshold can be read as a percentile. :func:`derive_validity_calibration` builds one from a sample;
:func:`load_validity_calibration` reads a stored one (``models/<questionnaire id>/validity-calibration.json``).
A stored calibration is sealed with its sha256 (see :mod:`profiler.artifacts`): its verdicts can send a
candidate to human review, so a file edited after it was derived is refused on load.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from profiler.administration import validity_indices as vi
from profiler.artifacts import (
    check_format,
    parse_artifact,
    pretty_json,
    read_artifact,
    seal,
    verify_seal,
    write_artifact,
)
from profiler.errors import ValidityError
from profiler.questionnaire.spec import LikertFormat, ValidityRules
from profiler.questionnaire.questionnaire import Questionnaire
from profiler.questionnaire.scoring import validate_responses
from profiler.resources import by_id, model_files

VERDICTS = ("valid", "questionable", "invalid")
CALIBRATION_FORMAT = "profiler.validity-calibration"
CALIBRATION_FORMAT_VERSION = 1
CALIBRATION_FILE = "validity-calibration.json"
_WHAT = "profiler validity calibration"
_FORMATS = {"format": CALIBRATION_FORMAT, "format_version": CALIBRATION_FORMAT_VERSION}
# Indices whose distribution in the calibration sample is stored (to read values as percentiles).
CALIBRATED_INDICES = ("longstring", "irv", "synonyms", "antonyms", "even_odd", "mahalanobis")
QUANTILE_LEVELS = np.linspace(0.0, 1.0, 1001)
# Fewer answered scored items than this share and the answers are too few to judge.
MIN_ANSWERED_SHARE = 0.5
PAIR_CUTOFFS = (0.60, 0.55, 0.50, 0.45, 0.40)
MIN_PAIRS = 10

COLUMNS = (
    "items_answered", "longstring", "irv", "synonyms", "antonyms", "even_odd", "mahalanobis", "mahalanobis_df",
    "mahalanobis_p", "mahalanobis_percentile", "seconds_per_item", "share_too_fast", "attention_checks_failed",
    "infrequent_answers", "flagged", "verdict", "reasons",
)


# Calibration -----------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ValidityCalibration:
    """What the validity indices of one questionnaire were calibrated on.

    Attributes
    ----------
    questionnaire_id, questionnaire_version, content_hash : str
        The questionnaire the calibration was derived for.
    items : tuple of str
        Items of the mean vector and covariance matrix, in that order.
    response_values : dict
        Item id -> the answer values its format allowed (checked against the questionnaire in use).
    synonym_pairs, antonym_pairs : tuple of (item, item, r)
        Item pairs correlating at least ``synonym_cutoff`` (at most ``-antonym_cutoff``) in the sample.
    synonym_cutoff, antonym_cutoff : float
    mean : Series
        Item means.
    covariance : DataFrame
        Item covariance matrix (n - 1 denominator).
    quantiles : dict of str to ndarray
        For each index of ``CALIBRATED_INDICES``, its quantiles in the sample at levels 0, 0.001, ..., 1.
    n : int
        Respondents in the calibration sample.
    version : str
        Version of this calibration artifact (bumped whenever it is derived again differently).
    source : str
        Where the sample came from and how it was selected.
    notes : tuple of str
        Choices made while deriving (e.g. a lowered pair cutoff), in plain words.
    sha256 : str
        ``sha256:`` of the canonical JSON of the stored document without it (the ``sha256`` it is sealed with).
    """

    questionnaire_id: str
    questionnaire_version: str
    content_hash: str
    items: tuple[str, ...]
    response_values: dict[str, tuple[float, ...]]
    synonym_pairs: tuple[tuple[str, str, float], ...]
    antonym_pairs: tuple[tuple[str, str, float], ...]
    synonym_cutoff: float
    antonym_cutoff: float
    mean: pd.Series
    covariance: pd.DataFrame
    n: int
    source: str
    version: str = "1.0.0"
    quantiles: dict[str, np.ndarray] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    item_order: tuple[str, ...] = ()
    pair_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    origin: str = "<memory>"

    def __repr__(self) -> str:
        return (
            f"ValidityCalibration(questionnaire={self.questionnaire_id!r}, n={self.n}, items={len(self.items)}, "
            f"synonym_pairs={len(self.synonym_pairs)}, antonym_pairs={len(self.antonym_pairs)}, "
            f"sha256={self.sha256[:15]}...)"
        )

    def percentile(self, index: str, values: Any) -> np.ndarray:
        """Mid-rank percentile (0-100) of ``values`` of ``index`` in the calibration sample; NaN stays NaN.

        The share of the sample below the value plus half the share equal to it, read from the stored
        quantiles (0.1 % resolution).
        """
        if index not in self.quantiles:
            raise KeyError(f"the calibration has no distribution of {index!r}; it has: {', '.join(self.quantiles)}")
        table = self.quantiles[index]
        values = np.atleast_1d(np.asarray(values, dtype=float))
        below = np.searchsorted(table, values, side="left")
        at_most = np.searchsorted(table, values, side="right")
        result = 100.0 * (below + at_most) / (2.0 * len(table))
        result[np.isnan(values)] = np.nan
        return result

    def check_fits(self, questionnaire: Questionnaire) -> None:
        """Raise ValueError unless the calibration's items and answer values are the questionnaire's.

        A different content hash alone is allowed (e.g. changed thresholds or texts); it is reported by
        :func:`assess_validity` in ``attrs["calibration"]``.
        """
        if self.questionnaire_id != questionnaire.id:
            raise ValidityError(f"the validity calibration is for questionnaire {self.questionnaire_id!r}, "
                             f"not {questionnaire.id!r}")
        unknown = [item for item in self.items if item not in questionnaire.scored_items]
        if unknown:
            raise ValidityError(f"the validity calibration names items that are not scored items of "
                             f"{questionnaire.id!r}: {', '.join(unknown)}")
        changed = [item for item in self.items
                   if tuple(self.response_values.get(item, ())) != _answer_values(questionnaire, item)]
        if changed:
            raise ValidityError(f"the answer options of {', '.join(changed)} differ from those the validity "
                             "calibration was derived with; derive it again")

    @cached_property
    def sha256(self) -> str:
        """The sha256 this calibration is sealed with (of its stored document)."""
        return self.to_dict()["sha256"]

    def to_json(self) -> str:
        """The calibration as JSON text, exactly as stored (stable key order, innermost lists on one line)."""
        return pretty_json(self.to_dict(), indent=1, one_line="innermost")

    def write(self, path: str | Path) -> Path:
        return write_artifact(path, self.to_json())

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of the calibration (derived statistics only), sealed with its ``sha256``."""
        return seal({
            "format": CALIBRATION_FORMAT,
            "format_version": CALIBRATION_FORMAT_VERSION,
            "version": self.version,
            "questionnaire": {"id": self.questionnaire_id, "version": self.questionnaire_version,
                              "content_hash": self.content_hash},
            "sample": {"n": self.n, "source": self.source, "item_order": list(self.item_order)},
            "notes": list(self.notes),
            "items": list(self.items),
            "response_values": {item: [_number(v) for v in values] for item, values in self.response_values.items()},
            "pairs": {
                "counts_by_cutoff": self.pair_counts,
                "synonyms": {"cutoff": self.synonym_cutoff,
                             "pairs": [[a, b, round(r, 4)] for a, b, r in self.synonym_pairs]},
                "antonyms": {"cutoff": self.antonym_cutoff,
                             "pairs": [[a, b, round(r, 4)] for a, b, r in self.antonym_pairs]},
            },
            "mahalanobis": {
                "mean": [round(float(v), 6) for v in self.mean.to_numpy()],
                "covariance": [[round(float(v), 6) for v in row] for row in self.covariance.to_numpy()],
            },
            "distributions": {
                "levels": "quantiles at 0, 0.001, 0.002, ..., 1 (1001 values per index)",
                **{name: [round(float(v), 5) for v in table] for name, table in self.quantiles.items()},
            },
        })

    @classmethod
    def from_json(cls, text: str, origin: str = "<string>") -> ValidityCalibration:
        """Read a calibration from its JSON text, checking its format and its sha256."""
        return cls.from_dict(parse_artifact(text, source=origin, what=_WHAT, error=ValidityError, formats=_FORMATS),
                             origin=origin)

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "<memory>") -> ValidityCalibration:
        """Read a calibration document (as written by :meth:`to_dict`), checking its format and its sha256."""
        check_format(data, source=origin, what=_WHAT, error=ValidityError, formats=_FORMATS)
        try:
            items = tuple(data["items"])
            pairs = data["pairs"]
            quantiles = {name: np.asarray(values, dtype=float)
                         for name, values in data["distributions"].items() if name != "levels"}
            for name, table in quantiles.items():
                if len(table) != len(QUANTILE_LEVELS) or np.any(np.diff(table) < 0):
                    raise ValidityError(f"distribution {name!r} must hold {len(QUANTILE_LEVELS)} sorted quantiles")
            calibration = cls(
                questionnaire_id=data["questionnaire"]["id"],
                questionnaire_version=data["questionnaire"]["version"],
                content_hash=data["questionnaire"]["content_hash"],
                items=items,
                response_values={k: tuple(float(v) for v in vs) for k, vs in data["response_values"].items()},
                synonym_pairs=tuple((a, b, float(r)) for a, b, r in pairs["synonyms"]["pairs"]),
                antonym_pairs=tuple((a, b, float(r)) for a, b, r in pairs["antonyms"]["pairs"]),
                synonym_cutoff=float(pairs["synonyms"]["cutoff"]),
                antonym_cutoff=float(pairs["antonyms"]["cutoff"]),
                mean=pd.Series(data["mahalanobis"]["mean"], index=list(items), dtype=float),
                covariance=pd.DataFrame(data["mahalanobis"]["covariance"], index=list(items), columns=list(items),
                                        dtype=float),
                n=int(data["sample"]["n"]),
                source=data["sample"]["source"],
                version=str(data["version"]),
                quantiles=quantiles,
                notes=tuple(data.get("notes", ())),
                item_order=tuple(data["sample"].get("item_order", ())),
                pair_counts=pairs.get("counts_by_cutoff", {}),
                origin=origin,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidityError(f"{origin}: malformed validity calibration ({exc})") from None
        verify_seal(data, source=origin, what=_WHAT, error=ValidityError)
        if calibration.sha256 != data["sha256"]:  # what is used must be what was sealed, e.g. no extra decimals
            raise ValidityError(f"{origin}: the calibration is not stored as this profiler writes it (its content "
                                f"would be sealed as {calibration.sha256}, not {data['sha256']}); regenerate it")
        return calibration


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def _answer_values(questionnaire: Questionnaire, item_id: str) -> tuple[float, ...]:
    fmt = questionnaire.response_format(item_id)
    if isinstance(fmt, LikertFormat):
        return tuple(float(o.value) for o in fmt.options)
    return tuple(float(v) for v in questionnaire.item_range(item_id))


def bundled_validity_calibrations() -> dict[str, Path]:
    """Questionnaire ids that have a bundled validity calibration (or one in the ``PROFILER_PATH`` folders),
    with its path."""
    return by_id(model_files(f"*/{CALIBRATION_FILE}"), lambda path: path.parent.name, "validity calibration of")


def load_validity_calibration(name_or_path: str | Path) -> ValidityCalibration:
    """Load a validity calibration: a bundled questionnaire id such as ``"ipip-bfm-50"``, or a JSON path.

    Raises
    ------
    FileNotFoundError
        When there is no such file or bundled calibration.
    ValidityError
        When the file is not a readable calibration of this format version, or was edited after it was sealed.
    """
    path = Path(name_or_path)
    if not (path.suffix == ".json" or path.exists()):
        bundled = bundled_validity_calibrations()
        if str(name_or_path) not in bundled:
            raise FileNotFoundError(f"no validity calibration {str(name_or_path)!r}; bundled: "
                                    f"{', '.join(bundled) or 'none'}")
        path = bundled[str(name_or_path)]
    if not path.is_file():
        raise FileNotFoundError(f"no validity calibration file {path}")
    return ValidityCalibration.from_json(read_artifact(path, what=_WHAT, error=ValidityError), origin=str(path))


def derive_validity_calibration(
    questionnaire: Questionnaire,
    sample: pd.DataFrame,
    *,
    source: str,
    version: str = "1.0.0",
    order: Sequence[str] | None = None,
    cutoffs: Sequence[float] = PAIR_CUTOFFS,
    min_pairs: int = MIN_PAIRS,
) -> ValidityCalibration:
    """Derive a validity calibration from a sample of complete answers.

    Synonym (antonym) pairs are the item pairs whose correlation in the sample is at least ``cutoff``
    (at most ``-cutoff``), Meade & Craig (2012) with .60. A short questionnaire may have few such pairs,
    and a within-person correlation over a handful of pairs is mostly noise, so the cutoff is the first
    of ``cutoffs`` (.60, .55, ... .40) that yields at least ``min_pairs`` pairs, chosen separately for
    synonyms and antonyms; every lowering is recorded in ``notes``.

    Parameters
    ----------
    questionnaire : Questionnaire
    sample : DataFrame
        Answers to all scored items, complete rows only (drop incomplete rows before).
    source : str
        Description of the sample (where, when, how selected); stored in the calibration.
    version : str
        Version of the artifact.
    order : sequence of str, optional
        The order in which the sample saw the items (for the longstring distribution); default: the
        questionnaire's order.
    cutoffs : sequence of float
        Decreasing candidate magnitudes of the pair correlation.
    min_pairs : int
    """
    items = list(questionnaire.scored_items)
    answers = _validated_answers(questionnaire, sample, "raise")
    if answers[items].isna().any().any():
        raise ValidityError("the calibration sample must hold complete answers to every scored item")
    x = answers[items]
    corr = np.corrcoef(x.to_numpy(), rowvar=False)
    upper = np.triu_indices(len(items), 1)
    values = corr[upper]
    notes: list[str] = []
    counts: dict[str, dict[str, int]] = {"synonyms": {}, "antonyms": {}}
    chosen: dict[str, tuple[float, list[tuple[str, str, float]]]] = {}
    for kind, sign in (("synonyms", 1), ("antonyms", -1)):
        for cutoff in cutoffs:
            hits = np.flatnonzero(sign * values >= cutoff - 1e-12)
            counts[kind][f"{cutoff:.2f}"] = int(len(hits))
            if kind not in chosen or len(chosen[kind][1]) < min_pairs:
                hits = hits[np.argsort(-sign * values[hits], kind="stable")]
                chosen[kind] = (cutoff, [(items[upper[0][h]], items[upper[1][h]], float(values[h])) for h in hits])
        cutoff, pairs = chosen[kind]
        first = f"{cutoffs[0]:.2f}"
        if cutoff != cutoffs[0]:
            notes.append(f"{kind}: {counts[kind][first]} item pairs reach |r| >= {first} (the cutoff of Meade & "
                         f"Craig, 2012), fewer than the {min_pairs} wanted; the cutoff was lowered to {cutoff:.2f}, "
                         f"which gives {len(pairs)} pairs")
        if len(pairs) < min_pairs:
            notes.append(f"{kind}: {len(pairs)} pairs at the lowest cutoff {cutoff:.2f}; the index is imprecise")
    calibration = ValidityCalibration(
        questionnaire_id=questionnaire.id,
        questionnaire_version=questionnaire.version,
        content_hash=questionnaire.content_hash,
        items=tuple(items),
        response_values={item: _answer_values(questionnaire, item) for item in items},
        synonym_pairs=tuple(chosen["synonyms"][1]),
        antonym_pairs=tuple(chosen["antonyms"][1]),
        synonym_cutoff=chosen["synonyms"][0],
        antonym_cutoff=chosen["antonyms"][0],
        mean=x.mean(),
        covariance=x.cov(),
        n=len(x),
        source=source,
        version=version,
        notes=tuple(notes),
        item_order=_sample_order(questionnaire, order),
        pair_counts=counts,
    )
    indices = assess_validity(questionnaire, answers, calibration=calibration, order=order)
    quantiles = {}
    for name in CALIBRATED_INDICES:
        column = indices[name].dropna().to_numpy()
        if len(column):
            quantiles[name] = np.quantile(column, QUANTILE_LEVELS)
    return replace(calibration, quantiles=quantiles)


def _sample_order(questionnaire: Questionnaire, order: Sequence[str] | None) -> tuple[str, ...]:
    if order is not None:
        return tuple(order)
    admin = questionnaire.spec.administration
    return () if admin.order == "random" and admin.seed is None else tuple(questionnaire.item_order())


# Assessment -----------------------------------------------------------------------------------------
def assess_validity(
    questionnaire: Questionnaire,
    answers: pd.DataFrame,
    timings: pd.DataFrame | pd.Series | None = None,
    calibration: ValidityCalibration | str | None = "bundled",
    *,
    order: Sequence[str] | None = None,
    seeds: pd.Series | None = None,
    invalid: str = "raise",
) -> pd.DataFrame:
    """Careless-responding indices, a verdict and its reasons for every respondent.

    Parameters
    ----------
    questionnaire : Questionnaire
        Its ``validity_rules`` set the thresholds.
    answers : DataFrame
        One row per respondent, one column per item id (as for :func:`~profiler.questionnaire.scoring.score_responses`);
        NaN = unanswered, required or not.
    timings : DataFrame or Series, optional
        Seconds spent on each item (columns = item ids), or total seconds per respondent; same index
        as ``answers``. Without it the speed index is not available.
    calibration : ValidityCalibration, "bundled" or None
        ``"bundled"`` (default) uses the calibration shipped for this questionnaire if there is one;
        None uses none (synonyms, antonyms and Mahalanobis distance are then not available).
    order : sequence of str, optional
        Item ids in the order every respondent saw them (for longstring; items left out do not count).
        Default: the questionnaire's order of administration.
    seeds : Series, optional
        Each respondent's session seed, for questionnaires that shuffle items per session.
    invalid : {"raise", "missing"}
        ``"raise"``: an answer that is not an option of its item, or an unknown column, raises
        :class:`~profiler.errors.ResponseError`; ``"missing"``: such answers count as unanswered.

    Returns
    -------
    DataFrame
        Same index as ``answers``, columns ``COLUMNS``:

        - ``items_answered``;
        - ``longstring``: longest run of identical consecutive answers (order of administration);
        - ``irv``: SD of the answers to the scored Likert items;
        - ``synonyms``, ``antonyms``: within-person correlations across the calibration's item pairs;
        - ``even_odd``: Spearman-Brown corrected even-odd consistency across scales;
        - ``mahalanobis`` (D2), ``mahalanobis_df``, ``mahalanobis_p`` (chi-square) and
          ``mahalanobis_percentile`` (in the calibration sample);
        - ``seconds_per_item``, ``share_too_fast`` (below the floor);
        - ``attention_checks_failed``, ``infrequent_answers``;
        - ``flagged`` (names of the indices past their thresholds), ``verdict`` (ordered categorical
          ``valid`` < ``questionable`` < ``invalid``) and ``reasons`` (list of plain sentences).

        NaN where an index cannot be computed. ``attrs`` records the questionnaire identity, the rules,
        the calibration used, the indices not available (and why) and each threshold as a percentile of
        the calibration sample.

    Notes
    -----
    Verdict: ``invalid`` with at least ``flags_for_invalid`` flags or one flag of a ``decisive`` index;
    ``questionable`` with one flag, or when fewer than half the scored items are answered (too few
    answers to judge); otherwise ``valid``.
    """
    if invalid not in ("raise", "missing"):
        raise ValidityError(f"invalid={invalid!r}; use 'raise' or 'missing'")
    rules = questionnaire.spec.validity_rules
    x = _validated_answers(questionnaire, answers, invalid)
    calibration, calibration_info = _resolve_calibration(questionnaire, calibration)
    result = pd.DataFrame(index=answers.index)
    missing_why: dict[str, str] = {}
    details: dict[str, Any] = {}

    result["items_answered"] = x.notna().sum(axis=1).to_numpy()
    result["longstring"] = _longstring(questionnaire, x, order, seeds, missing_why)
    irv_items = _likert_items(questionnaire)
    if irv_items:
        result["irv"] = vi.response_variability(x[irv_items]).to_numpy()
    else:
        result["irv"] = np.nan
        missing_why["irv"] = "the questionnaire has no scored Likert items"
    result["synonyms"], result["antonyms"] = np.nan, np.nan
    result["mahalanobis"], result["mahalanobis_df"] = np.nan, np.nan
    result["mahalanobis_p"], result["mahalanobis_percentile"] = np.nan, np.nan
    if calibration is None:
        for name in ("synonyms", "antonyms", "mahalanobis"):
            missing_why[name] = "no validity calibration for this questionnaire"
    else:
        for name, pairs in (("synonyms", calibration.synonym_pairs), ("antonyms", calibration.antonym_pairs)):
            if pairs:
                result[name] = vi.item_pair_correlation(x, [(a, b) for a, b, _ in pairs], name=name).to_numpy()
            else:
                missing_why[name] = f"the calibration has no {name[:-1]} pairs"
        distance = vi.mahalanobis_distance(x, calibration.mean, calibration.covariance)
        for column in distance.columns:
            result[column] = distance[column].to_numpy()
        if "mahalanobis" in calibration.quantiles:
            result["mahalanobis_percentile"] = calibration.percentile("mahalanobis", result["mahalanobis"])
    result["even_odd"] = _even_odd(questionnaire, x, missing_why)
    per_item_timings = _speed(result, timings, questionnaire, rules, missing_why)
    details.update(_validity_items(result, questionnaire, x, missing_why))

    flags, reasons = _judge(result, rules, calibration, details, per_item_timings)
    result["flagged"] = _object_column(flags)
    answered_scored = x[questionnaire.scored_items].notna().sum(axis=1).to_numpy()
    too_few = answered_scored < MIN_ANSWERED_SHARE * len(questionnaire.scored_items)
    n_flags = np.array([len(f) for f in flags])
    decisive = np.array([any(name in rules.decisive for name in f) for f in flags])
    verdict = np.where((n_flags >= rules.flags_for_invalid) | decisive, "invalid",
                       np.where((n_flags >= 1) | too_few, "questionable", "valid"))
    for row in np.flatnonzero(too_few):
        reasons[row].append(f"only {answered_scored[row]} of {len(questionnaire.scored_items)} scored items "
                            "answered: too few answers to judge their validity")
    result["verdict"] = pd.Categorical(verdict, categories=VERDICTS, ordered=True)
    result["reasons"] = _object_column(reasons)
    result = result[list(COLUMNS)]
    result.attrs.update(questionnaire.identity())
    result.attrs["validity_rules"] = rules.model_dump(mode="json")
    result.attrs["calibration"] = calibration_info
    result.attrs["not_available"] = {name: missing_why[name] for name in _INDEX_ORDER if name in missing_why}
    if calibration is not None:
        result.attrs["threshold_percentiles"] = _threshold_percentiles(rules, calibration)
    return result


_INDEX_ORDER = ("longstring", "irv", "synonyms", "antonyms", "even_odd", "mahalanobis", "speed",
                "attention_checks", "infrequency")


def _validated_answers(questionnaire: Questionnaire, answers: pd.DataFrame, invalid: str) -> pd.DataFrame:
    """Float answers of every item; unanswered items (required or not) stay NaN and are never an error."""
    clean = validate_responses(questionnaire, answers, invalid="missing")
    if invalid == "raise":
        columns = [str(c) for c in answers.columns]
        known = [j for j, c in enumerate(columns) if c in clean.columns]
        given = answers.iloc[:, known].notna().to_numpy()
        lost = clean[[columns[j] for j in known]].isna().to_numpy()
        if len(known) == len(columns) and not (given & lost).any():
            return clean  # every answer given is an option of its item
        # Give every unanswered cell a valid answer, so that validate_responses reports exactly the
        # answers that are not options and the unknown columns, with its usual messages.
        probe = answers.copy()
        for item_id in questionnaire.item_ids:
            low = questionnaire.item_range(item_id)[0]
            if item_id in probe.columns:
                values = probe[item_id].to_numpy(dtype=object, copy=True)
                values[pd.isna(values)] = low
                probe[item_id] = values
            else:
                probe[item_id] = low
        validate_responses(questionnaire, probe, invalid="raise")
    return clean


def _resolve_calibration(questionnaire: Questionnaire, calibration) -> tuple[ValidityCalibration | None, dict]:
    if isinstance(calibration, str):
        if calibration != "bundled":
            raise ValidityError(f"calibration={calibration!r}; pass a ValidityCalibration, 'bundled' or None")
        path = bundled_validity_calibrations().get(questionnaire.id)
        calibration = load_validity_calibration(path) if path is not None else None
    if calibration is None:
        return None, {}
    if not isinstance(calibration, ValidityCalibration):
        raise TypeError(f"calibration must be a ValidityCalibration, 'bundled' or None, "
                        f"got {type(calibration).__name__}")
    calibration.check_fits(questionnaire)
    info = {
        "origin": calibration.origin,
        "version": calibration.version,
        "sha256": calibration.sha256,
        "questionnaire_version": calibration.questionnaire_version,
        "content_hash": calibration.content_hash,
        "content_hash_matches": calibration.content_hash == questionnaire.content_hash,
        "n": calibration.n,
        "source": calibration.source,
    }
    return calibration, info


def _likert_items(questionnaire: Questionnaire) -> list[str]:
    """Scored Likert items sharing the answer values most of them use (IRV needs one answer scale)."""
    groups: dict[tuple[float, ...], list[str]] = {}
    for item_id in questionnaire.scored_items:
        if isinstance(questionnaire.response_format(item_id), LikertFormat):
            groups.setdefault(_answer_values(questionnaire, item_id), []).append(item_id)
    return max(groups.values(), key=len) if groups else []


def _format_name(questionnaire: Questionnaire, item_id: str) -> str:
    return questionnaire.item(item_id).format or questionnaire.spec.defaults.response_format or ""


def _longstring(questionnaire, x, order, seeds, missing_why) -> np.ndarray:
    """Longest run in the order each respondent saw the items; respondents grouped by that order."""
    n = len(x)
    groups: dict[Any, tuple[list[str], list[int]]] = {}
    if order is not None:
        order = [str(item) for item in order]
        unknown = [item for item in order if item not in questionnaire.item_ids]
        if unknown:
            raise ValidityError(f"order names items that are not in {questionnaire.id!r}: {', '.join(unknown)}")
        groups[None] = (order, list(range(n)))
    elif seeds is not None:
        seeds = _aligned(pd.Series(seeds), x.index)
        for row, seed in enumerate(seeds.to_numpy()):
            if pd.isna(seed):
                continue  # order unknown: longstring stays NaN for this respondent
            key = int(seed)
            if key not in groups:
                groups[key] = (questionnaire.item_order(key), [])
            groups[key][1].append(row)
    else:
        admin = questionnaire.spec.administration
        if admin.order == "random" and admin.seed is None:
            missing_why["longstring"] = ("items are shuffled per session and no order or seeds were given, so "
                                         "the order each respondent saw is unknown")
            return np.full(n, np.nan)
        groups[None] = (questionnaire.item_order(), list(range(n)))
    out = np.full(n, np.nan)
    values = x.to_numpy()
    column = {item: j for j, item in enumerate(x.columns)}
    for item_order, rows in groups.values():
        formats = [_format_name(questionnaire, item) for item in item_order]
        joined = np.array([a == b for a, b in zip(formats[:-1], formats[1:], strict=True)], dtype=bool)
        out[rows] = vi.longest_run(values[np.ix_(rows, [column[item] for item in item_order])], joined)
    return out


def _aligned(series: pd.Series, index: pd.Index) -> pd.Series:
    return series if series.index.equals(index) else series.reindex(index)


def _even_odd(questionnaire, x, missing_why) -> np.ndarray:
    """Even-odd consistency over the scales that list their own keys (facets, not domains made of facets)."""
    likert = {item for item in questionnaire.scored_items
              if isinstance(questionnaire.response_format(item), LikertFormat)}
    scales: dict[str, list[str]] = {}
    keyed: dict[str, np.ndarray] = {}  # one column per (scale, item): an item may be keyed differently per scale
    for scale in questionnaire.scales:
        keys = questionnaire.keys(scale.id) if scale.keys is not None else []
        if len(keys) < 2 or any(k.item not in likert for k in keys):
            continue
        scales[scale.id] = []
        for k in keys:
            low, high = questionnaire.item_range(k.item)
            values = x[k.item].to_numpy()
            name = f"{scale.id}/{k.item}"
            keyed[name] = low + high - values if k.sign < 0 else values
            scales[scale.id].append(name)
    if len(scales) < vi.MIN_CORRELATION_POINTS:
        missing_why["even_odd"] = (f"needs at least {vi.MIN_CORRELATION_POINTS} scales of 2 or more Likert items; "
                                   f"the questionnaire has {len(scales)}")
        return np.full(len(x), np.nan)
    return vi.even_odd_consistency(pd.DataFrame(keyed, index=x.index), scales).to_numpy()


def _speed(result, timings, questionnaire, rules: ValidityRules, missing_why) -> bool:
    """Fill the speed columns; True when the timings are per item."""
    floor = rules.seconds_per_item_min if rules.seconds_per_item_min is not None else 2.0
    if timings is None:
        result["seconds_per_item"], result["share_too_fast"] = np.nan, np.nan
        missing_why["speed"] = "no timings were given"
        return False
    if isinstance(timings, pd.DataFrame):
        unknown = [str(c) for c in timings.columns if str(c) not in questionnaire.item_ids]
        if unknown:
            raise ValidityError(f"timings has columns that are not items of {questionnaire.id!r}: {', '.join(unknown)}")
        speed = vi.response_speed(timings if timings.index.equals(result.index) else timings.reindex(result.index),
                                  floor)
    elif isinstance(timings, pd.Series):
        speed = vi.response_speed(_aligned(timings, result.index), floor, result["items_answered"])
    else:
        raise TypeError(f"timings must be a DataFrame (seconds per item) or a Series (total seconds), "
                        f"got {type(timings).__name__}")
    result["seconds_per_item"] = speed["seconds_per_item"].to_numpy()
    result["share_too_fast"] = speed["share_too_fast"].to_numpy()
    return isinstance(timings, pd.DataFrame)


def _validity_items(result, questionnaire, x, missing_why) -> dict[str, Any]:
    details = {}
    for kind, column, name in (("attention_check", "attention_checks_failed", "attention_checks"),
                               ("infrequency", "infrequent_answers", "infrequency")):
        items = [item.id for item in questionnaire.items if item.validity is not None and item.validity.kind == kind]
        if not items:
            result[column] = np.nan
            missing_why[name] = f"the questionnaire has no {kind.replace('_', '-')} items"
            continue
        answered = x[items].notna().to_numpy()
        failed = np.zeros_like(answered)
        for j, item_id in enumerate(items):
            expected = questionnaire.item(item_id).validity.expected
            expected = expected if isinstance(expected, list) else [expected]
            failed[:, j] = answered[:, j] & ~np.isin(x[item_id].to_numpy(), expected)
        counts = failed.sum(axis=1).astype(float)
        counts[~answered.any(axis=1)] = np.nan
        result[column] = counts
        details[name] = (items, failed, answered)
    return details


def _object_column(lists: list[list[str]]) -> np.ndarray:
    column = np.empty(len(lists), dtype=object)
    for i, value in enumerate(lists):
        column[i] = value
    return column


# (index, column compared, threshold field, flagged above the threshold?)
_COMPARISONS = (
    ("longstring", "longstring", "longstring_max", True),
    ("irv", "irv", "irv_min", False),
    ("synonyms", "synonyms", "synonyms_min", False),
    ("antonyms", "antonyms", "antonyms_max", True),
    ("even_odd", "even_odd", "even_odd_min", False),
    ("mahalanobis", "mahalanobis_p", "mahalanobis_p_min", False),
    ("speed", "seconds_per_item", "seconds_per_item_min", False),
    ("attention_checks", "attention_checks_failed", "attention_checks_failed_max", True),
    ("infrequency", "infrequent_answers", "infrequent_answers_max", True),
)


def _judge(result, rules: ValidityRules, calibration, details, per_item):
    """Flags and reasons; thresholds compared vectorized, sentences written only for flagged rows."""
    n = len(result)
    values = {column: result[column].to_numpy(dtype=float) for _, column, _, _ in _COMPARISONS}
    values.update({c: result[c].to_numpy(dtype=float) for c in ("mahalanobis", "mahalanobis_df")})
    percentiles = {}
    if calibration is not None:
        for name in CALIBRATED_INDICES:
            if name in calibration.quantiles:
                percentiles[name] = calibration.percentile(name, values[name])
    context = _ReasonContext(values, percentiles, rules, calibration, details, per_item)
    flags: list[list[str]] = [[] for _ in range(n)]
    reasons: list[list[str]] = [[] for _ in range(n)]
    for name, column, threshold_field, above in _COMPARISONS:
        threshold = getattr(rules, threshold_field)
        if threshold is None:
            continue
        with np.errstate(invalid="ignore"):
            hit = values[column] > threshold if above else values[column] < threshold
        for row in np.flatnonzero(hit):
            flags[row].append(name)
            reasons[row].append(context.reason(name, row))
    return flags, reasons


@dataclass
class _ReasonContext:
    values: dict[str, np.ndarray]
    percentiles: dict[str, np.ndarray]
    rules: ValidityRules
    calibration: ValidityCalibration | None
    details: dict[str, Any]
    per_item: bool

    def _where(self, name: str, row: int) -> str:
        if name not in self.percentiles:
            return ""
        return f"; percentile {self.percentiles[name][row]:.1f} of the calibration sample"

    def reason(self, name: str, row: int) -> str:
        """One plain sentence: the value, what it means, the threshold and (if known) its percentile."""
        v, r, where = self.values, self.rules, self._where(name, row)
        if name == "longstring":
            return (f"longstring: {v['longstring'][row]:.0f} identical answers in a row (more than "
                    f"{r.longstring_max} is flagged{where})")
        if name == "irv":
            return (f"little variation: the answers' standard deviation is {v['irv'][row]:.2f} (below "
                    f"{r.irv_min:g} is flagged{where})")
        if name in ("synonyms", "antonyms"):
            pairs = self.calibration.synonym_pairs if name == "synonyms" else self.calibration.antonym_pairs
            how, side, threshold = (("alike", "below", r.synonyms_min) if name == "synonyms"
                                    else ("oppositely", "above", r.antonyms_max))
            return (f"psychometric {name}: r = {v[name][row]:.2f} across {len(pairs)} pairs of items that most "
                    f"people answer {how} ({side} {threshold:g} is flagged{where})")
        if name == "even_odd":
            return (f"even-odd consistency {v['even_odd'][row]:.2f}: the two halves of the scales disagree "
                    f"(below {r.even_odd_min:g} is flagged{where})")
        if name == "mahalanobis":
            p = v["mahalanobis_p"][row]
            shown = "p < 0.0001" if p < 1e-4 else f"p = {p:.4f}"
            return (f"unusual pattern of answers: Mahalanobis D² = {v['mahalanobis'][row]:.1f} over "
                    f"{v['mahalanobis_df'][row]:.0f} items, {shown} (p below {r.mahalanobis_p_min:g} is flagged"
                    f"{where})")
        if name == "speed":
            how = "median over items" if self.per_item else "total time / items answered"
            return (f"answered too fast: {v['seconds_per_item'][row]:.1f} seconds per item ({how}; below "
                    f"{r.seconds_per_item_min:g} is flagged)")
        items, failed, answered = self.details[name]
        which = [item for item, bad in zip(items, failed[row], strict=True) if bad]
        if name == "attention_checks":
            return (f"failed {len(which)} of {int(answered[row].sum())} attention checks answered "
                    f"({', '.join(which)}; more than {r.attention_checks_failed_max} is flagged)")
        return (f"{len(which)} infrequent answer{'s' if len(which) != 1 else ''} to infrequency items "
                f"({', '.join(which)}; more than {r.infrequent_answers_max} is flagged)")


def _threshold_percentiles(rules: ValidityRules, calibration: ValidityCalibration) -> dict[str, float]:
    """Each threshold as a percentile of the calibration sample (how much of it lies beyond)."""
    thresholds = {"longstring": rules.longstring_max, "irv": rules.irv_min, "synonyms": rules.synonyms_min,
                  "antonyms": rules.antonyms_max, "even_odd": rules.even_odd_min}
    if rules.mahalanobis_p_min is not None:  # the D2 that has this p with every calibration item answered
        thresholds["mahalanobis"] = float(stats.chi2.isf(rules.mahalanobis_p_min, len(calibration.items)))
    out = {}
    for name, threshold in thresholds.items():
        if threshold is not None and name in calibration.quantiles:
            out[name] = round(float(calibration.percentile(name, threshold)[0]), 1)
    return out
