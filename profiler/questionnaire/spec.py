"""The questionnaire format as pydantic models: what an author may write, field by field.

These models define the YAML format (and its JSON Schema, ``profiler schema``). Cross-references between
parts of a file (an item named in a scale, an expected answer among a format's options) are checked in
:mod:`profiler.questionnaire.references`, which can report them all at once even when other fields fail.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_serializer

from profiler.questionnaire.warning_codes import WarningCode

# Identifiers: start with a letter; letters, digits, '_', '-', '.' after it (item ids like E1, scale ids like
# Extraversion or facet ids like E-Assertiveness).
ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_.\-]*$"
LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"


def _number_as_text(value: Any) -> Any:
    """Numbers written where text belongs keep their spelling (``version: 1.10`` is "1.10", not 1.1)."""
    source = getattr(value, "source", None)
    return source if source is not None and not isinstance(value, bool) else value


Text = Annotated[str, BeforeValidator(_number_as_text)]
Identifier = Annotated[str, BeforeValidator(_number_as_text), Field(pattern=ID_PATTERN, max_length=64)]
LanguageCode = Annotated[str, Field(pattern=LANGUAGE_PATTERN)]
NonEmptyText = Annotated[str, BeforeValidator(_number_as_text), Field(min_length=1)]
Translations = Annotated[
    dict[LanguageCode, NonEmptyText],
    Field(description="Text per language code, e.g. {en: ..., fr: ...}; the default language is required."),
]


# Bounds of the format's numbers (docs/questionnaire-format.md, "Numbers and their bounds"): finite, and small
# enough that nothing downstream overflows (a seed is a signed 64-bit integer in the store).
MAX_SEED = 2**63 - 1
MAX_VALUE = 1e9  # answer values, number ranges, expected answers
MAX_SECONDS = 7 * 24 * 3600.0  # time limits
MAX_COUNT = 100_000  # counts of answers, items, flags
Value = Annotated[int | float, Field(ge=-MAX_VALUE, le=MAX_VALUE)]


class Strict(BaseModel):
    """Base of every format model: unknown keys are errors, values are not coerced between types."""

    # allow_inf_nan: no infinity or NaN anywhere (1e400 and .inf are refused earlier, with their line).
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)

    # Sections added to the format after its first release are left out of the normalized content while they
    # are empty, so that a document which does not use them keeps its content hash (and its artifacts).
    _omit_when_empty: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _without_empty_sections(self, handler: Any) -> Any:
        data = handler(self)
        for name in self._omit_when_empty:
            if isinstance(data, dict) and data.get(name) in (None, [], {}):
                del data[name]
        return data


class Silence(Strict):
    """A warning of ``profiler check`` that the author has looked at and accepts, with the reason written down.

    Given at the top of the document it silences the warning everywhere; given on an item, a scale or a
    language it silences it there only. The reason is part of the content hash.
    """

    warning: WarningCode = Field(description="The warning's code, as ``profiler check`` prints it in brackets.")
    reason: NonEmptyText = Field(description="Why the warning does not apply, in plain words.")


Silences = Annotated[
    list[Silence],
    Field(description="Warnings accepted here, each with its reason (see docs/questionnaire-format.md)."),
]


class LanguageInfo(Strict):
    """A language the questionnaire is offered in, and whether that version has been validated."""

    _omit_when_empty = frozenset({"silence"})

    status: Literal["original", "validated", "unvalidated"] = Field(
        description="original: the language it was developed in; validated: an adaptation with published "
        "evidence of equivalence; unvalidated: a translation without such evidence (shown as a warning)."
    )
    note: Text | None = None
    silence: Silences = Field(default_factory=list)


class ResponseOption(Strict):
    """One answer on a Likert scale: the value stored and scored, and its label in each language."""

    value: Value
    label: Translations


class LikertFormat(Strict):
    """Ordered options with explicit values (strictly increasing), e.g. 1 = disagree ... 5 = agree."""

    type: Literal["likert"]
    options: list[ResponseOption] = Field(min_length=2)


class YesNoFormat(Strict):
    """A yes/no answer stored as 1 (yes) and 0 (no); labels per language are optional."""

    type: Literal["yes_no"]
    yes: Translations | None = None
    no: Translations | None = None


class NumberFormat(Strict):
    """A bounded number, e.g. years of experience; ``integer: true`` refuses fractions."""

    type: Literal["number"]
    min: Value
    max: Value
    integer: bool = False
    unit: Translations | None = None


ResponseFormat = Annotated[LikertFormat | YesNoFormat | NumberFormat, Field(discriminator="type")]


class ValidityCheck(Strict):
    """Marks an item as a response-validity item; such items are never scored.

    ``attention_check``: an instructed item ("answer 'Agree' here"); ``expected`` is the one right answer.
    ``infrequency``: an item almost everybody answers the same way ("I have never used a phone");
    ``expected`` lists the attentive answers; any other answer counts as infrequent.
    """

    kind: Literal["attention_check", "infrequency"]
    expected: Value | list[Value]


class SharedItem(Strict):
    """An item that belongs to several scales of the same level on purpose (otherwise an error)."""

    scales: list[Identifier] = Field(min_length=2, description="Every scale whose keys list the item.")
    reason: NonEmptyText = Field(description="Why the item belongs to each of them, in plain words.")


class Item(Strict):
    """One item: its text per language, its response format, and whether an answer is required."""

    _omit_when_empty = frozenset({"shared", "silence"})

    id: Identifier
    text: Translations
    format: Identifier | None = Field(
        default=None, description="Name of a response format; defaults to defaults.response_format."
    )
    required: bool | None = Field(default=None, description="Defaults to defaults.required.")
    validity: ValidityCheck | None = None
    note: Text | None = None
    shared: SharedItem | None = Field(
        default=None, description="Declares that the item is keyed in several scales of the same level on purpose."
    )
    silence: Silences = Field(default_factory=list)


class Scale(Strict):
    """A scored scale: its items with keying, the scoring rule and how many answers it needs.

    A domain either lists its own ``keys`` or is made of ``facets`` (other scales), never both: its
    membership is then the union of its facets' keys.
    """

    _omit_when_empty = frozenset({"silence"})

    id: Identifier
    name: Translations | None = None
    description: Translations | None = None
    low: Translations | None = Field(default=None, description="What a low score means, in plain words.")
    high: Translations | None = Field(default=None, description="What a high score means, in plain words.")
    keys: list[Text] | None = Field(
        default=None,
        description="psych-style key list: item ids, '-' before an item that is reverse keyed, e.g. [E1, -E2, E3].",
    )
    facets: list[Identifier] | None = Field(default=None, description="Ids of the scales that make up this domain.")
    scoring: Literal["mean", "sum"] = "mean"
    min_answered: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="Smallest share of the scale's items that must be answered for a score; the score of a "
        "respondent who answered fewer is missing. Sums are prorated (mean of answered items x number of items).",
    )
    silence: Silences = Field(default_factory=list)


class Block(Strict):
    """A page of items shown together; ``order: random`` shuffles items within each block."""

    id: Identifier
    items: list[Identifier] = Field(min_length=1)
    title: Translations | None = None


class Exposure(Strict):
    """Exposure control of an adaptive test: how often the best items may be given (see docs/administration.md)."""

    method: Literal["none", "randomesque", "sympson-hetter"] = Field(
        default="none",
        description="none: always the best item; randomesque: one of the `candidates` best at random (Kingsbury "
        "& Zara, 1989); sympson-hetter: the best item is given with probability K (its parameter), else the "
        "next one is tried (Sympson & Hetter, 1985; parameters from `profiler cat simulate --sympson-hetter`).",
    )
    candidates: int = Field(default=5, ge=1, le=MAX_COUNT,
                            description="randomesque: how many of the best items to draw from.")
    parameters: dict[Identifier, Annotated[float, Field(gt=0, le=1)]] = Field(
        default_factory=dict,
        description="sympson-hetter: item -> K in (0, 1], the probability that the item is given when it is the "
        "best; items not listed have K = 1.",
    )


class ContentBalancing(Strict):
    """Which facets an adaptive test must cover (facets are the scale's `facets`)."""

    each_facet: int = Field(default=0, ge=0, le=MAX_COUNT, description="At least this many items of every facet "
                            "before the test may stop (0: no requirement).")
    proportions: dict[Identifier, Annotated[float, Field(ge=0, le=1)]] | None = Field(
        default=None, description="Facet -> target share of the items (sums to 1): the next item comes from the "
        "facet furthest below its share (Kingsbury & Zara, 1989).")


class StartRule(Strict):
    """How an adaptive test starts."""

    theta: float = Field(default=0.0, ge=-6, le=6, description="Theta at which the first item is chosen (0: the "
                         "mean of the calibration sample).")
    items: list[Identifier] = Field(default_factory=list, description="Items given first, in this order.")


class StopRule(Strict):
    """When an adaptive test stops: the SE reached after at least `min_items`, or `max_items`."""

    se: float | None = Field(default=0.3, gt=0, le=MAX_VALUE, description="Stop once the standard error (posterior "
                             "SD) of theta is at most this; null: no SE rule. 0.3 is a reliability of about .91.")
    min_items: int = Field(default=1, ge=0, le=MAX_COUNT,
                           description="Fewest items before the SE rule may stop the test.")
    max_items: int | None = Field(default=None, ge=1, le=MAX_COUNT, description="Most items; null: the whole bank.")


Criterion = Literal["fisher", "kl"]


class _Given(Strict):
    """A part of a scale's own rules: only the fields the author gave are its content (the others are inherited
    from the test-wide rules), so they alone are dumped, hashed and stored, and read back as given."""

    @model_serializer(mode="wrap")
    def _without_empty_sections(self, handler: Any) -> Any:
        data = handler(self)
        return {k: v for k, v in data.items() if k in self.model_fields_set} if isinstance(data, dict) else data


class ExposureGiven(Exposure, _Given):
    """Exposure rules of one scale (fields not given are the test-wide ones)."""


class ContentGiven(ContentBalancing, _Given):
    """Content balancing of one scale (fields not given are the test-wide ones)."""


class StartGiven(StartRule, _Given):
    """Start rule of one scale (fields not given are the test-wide ones)."""


class StopGiven(StopRule, _Given):
    """Stopping rule of one scale (fields not given are the test-wide ones)."""


class AdaptiveOverride(_Given):
    """One scale's own adaptive rules: every field given replaces the test-wide one (within exposure, content,
    start and stop, field by field)."""

    bank: NonEmptyText | None = None
    selection: Criterion | None = None
    exposure: ExposureGiven | None = None
    content: ContentGiven | None = None
    start: StartGiven | None = None
    stop: StopGiven | None = None


class Adaptive(Strict):
    """Adaptive administration (computerized adaptive testing) of some or all scales on a calibrated item bank.

    Each adaptive scale is a test of its own, given after the items of no adaptive scale, in the order of
    `scales` (default: every scale that is no other's facet). See docs/administration.md.
    """

    bank: NonEmptyText = Field(description="The IRT calibration: the id of a bundled questionnaire with one "
                               "(e.g. ipip-bfm-50), a folder of <scale>.json artifacts or one artifact file "
                               "(relative to this file).")
    selection: Criterion = Field(default="fisher", description="fisher: maximum Fisher information at the current "
                                 "theta; kl: Kullback-Leibler information over the current posterior.")
    exposure: Exposure = Exposure()
    content: ContentBalancing = ContentBalancing()
    start: StartRule = StartRule()
    stop: StopRule = StopRule()
    scales: dict[Identifier, AdaptiveOverride] | None = Field(
        default=None, description="The adaptive scales, each with its own rules ({} for none); default every "
        "scale that is no other's facet.")


class Administration(Strict):
    """How the questionnaire is presented."""

    _omit_when_empty = frozenset({"adaptive"})

    order: Literal["fixed", "random"] = "fixed"
    seed: int | None = Field(
        default=None,
        ge=0,
        le=MAX_SEED,
        description="With order: random, a fixed seed gives every session the same order; without it each "
        "session draws its own seed and records it.",
    )
    blocks: list[Block] | None = Field(
        default=None, description="Pages of items in order; every item in exactly one block. Default: one page."
    )
    allow_back: bool = True
    time_limit_seconds: float | None = Field(default=None, gt=0, le=MAX_SECONDS)
    item_time_limit_seconds: float | None = Field(default=None, gt=0, le=MAX_SECONDS)
    adaptive: Adaptive | None = Field(
        default=None, description="Adaptive administration of scales on an IRT item bank (needs allow_back: "
        "false and no blocks).")


ValidityIndex = Literal[
    "longstring", "irv", "synonyms", "antonyms", "even_odd", "mahalanobis", "speed", "attention_checks", "infrequency"
]


class ValidityRules(Strict):
    """Thresholds of the response-validity indices (see docs/administration.md, "Response validity").

    Each index flags a respondent past its threshold; ``null`` switches an index off. One flag makes a
    response ``questionable``; ``flags_for_invalid`` flags, or one flag of a ``decisive`` index, make it
    ``invalid``. The defaults follow the careless-responding literature (Meade & Craig, 2012; Curran, 2016).
    """

    longstring_max: int | None = Field(
        default=10,
        ge=1,
        le=MAX_COUNT,
        description="Flag more than this many identical answers in a row (in order of administration). "
        "Default 10, within the per-answer limits of 6 to 14 used for the NEO-PI-R (Costa & McCrae, 1992) "
        "and web-based IPIP inventories (Johnson, 2005).",
    )
    irv_min: float | None = Field(
        default=0.5,
        ge=0,
        le=MAX_VALUE,
        description="Flag an intra-individual response variability (SD of a person's answers; Dunn et al., "
        "2018) below this, in answer-scale points. Dunn et al. give no fixed cut; 0.5 (less than half a "
        "step) means nearly every answer is the same.",
    )
    synonyms_min: float | None = Field(
        default=0.0,
        ge=-1,
        le=1,
        description="Flag a psychometric-synonyms correlation (Meade & Craig, 2012) below this: items that "
        "nearly everyone answers alike, answered without any agreement. Needs a calibration. Default 0.",
    )
    antonyms_max: float | None = Field(
        default=0.0,
        ge=-1,
        le=1,
        description="Flag a psychometric-antonyms correlation (Meade & Craig, 2012; attentive respondents "
        "score strongly negative) above this. Needs a calibration. Default 0.",
    )
    even_odd_min: float | None = Field(
        default=0.3,
        ge=-1,
        le=1,
        description="Flag an even-odd consistency (Jackson's individual reliability, Spearman-Brown "
        "corrected) below this. Default .30 as used by Johnson (2005). Needs at least 3 scales of 2 or more items.",
    )
    mahalanobis_p_min: float | None = Field(
        default=0.001,
        gt=0,
        lt=1,
        description="Flag a Mahalanobis distance whose chi-square p is below this (the usual p < .001 for "
        "multivariate outliers; Tabachnick & Fidell). Needs a calibration.",
    )
    seconds_per_item_min: float | None = Field(
        default=2.0,
        gt=0,
        le=MAX_SECONDS,
        description="Flag fewer seconds per item than this (median over items when per-item times are "
        "known); about 2 s per item is too fast to read an item (Huang et al., 2012). Needs timings.",
    )
    attention_checks_failed_max: int | None = Field(
        default=0, ge=0, le=MAX_COUNT,
        description="Flag more failed attention checks (instructed items) than this. Default 0."
    )
    infrequent_answers_max: int | None = Field(
        default=0, ge=0, le=MAX_COUNT,
        description="Flag more infrequent answers to infrequency items than this. Default 0."
    )
    flags_for_invalid: int = Field(
        default=2,
        ge=1,
        le=MAX_COUNT,
        description="Number of flagged indices that make a response invalid (a multiple-hurdle rule, "
        "Curran, 2016: one index alone errs too often). Default 2.",
    )
    decisive: list[ValidityIndex] = Field(
        default=["attention_checks"],
        description="Indices whose flag alone makes a response invalid. Default: failed attention checks, "
        "which have one unambiguous right answer (Meade & Craig, 2012).",
    )


class ScoringExclusion(Strict):
    """An item kept in administration but left out of scoring, e.g. after a DIF audit flagged it (ETS class C).

    Scales are scored from their remaining items; the exclusion is part of the content hash, so norms and
    factor models built with the item no longer apply and must be rebuilt.
    """

    item: Identifier
    reason: NonEmptyText = Field(description="Why, in plain words (e.g. 'DIF class C by native language').")
    audit: Text | None = Field(default=None, description="Reference to the audit that found it (date, report).")


class Defaults(Strict):
    """Values that items take unless they say otherwise."""

    response_format: Identifier | None = None
    required: bool = True


class QuestionnaireSpec(Strict):
    """A questionnaire file: identity, languages, response formats, items, scales and administration."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        title="profiler questionnaire",
        json_schema_extra={"description": "A psychometric questionnaire for profiler (see docs/questionnaire-format.md)."},
    )
    _omit_when_empty = frozenset({"silence"})

    id: Identifier
    version: NonEmptyText
    title: Translations
    description: Translations | None = None
    authors: list[NonEmptyText] = Field(default_factory=list)
    citation: Text | None = None
    licence: Text | None = None
    default_language: LanguageCode
    languages: dict[LanguageCode, LanguageInfo] = Field(min_length=1)
    defaults: Defaults = Defaults()
    response_formats: dict[Identifier, ResponseFormat] = Field(min_length=1)
    items: list[Item] = Field(min_length=1)
    scales: list[Scale] = Field(min_length=1)
    administration: Administration = Administration()
    scoring_exclusions: list[ScoringExclusion] = Field(
        default_factory=list, description="Items administered but not scored (e.g. flagged by a DIF audit)."
    )
    validity_rules: ValidityRules = Field(
        default=ValidityRules(),
        description="Thresholds of the response-validity indices; every one has a default from the literature.",
    )
    silence: Silences = Field(default_factory=list)
