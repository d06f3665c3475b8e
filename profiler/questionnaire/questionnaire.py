"""A loaded, validated questionnaire: items, scales, keying, administration order and content hash."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from profiler.artifacts import document_hash
from profiler.questionnaire.spec import (
    Item,
    LikertFormat,
    NumberFormat,
    QuestionnaireSpec,
    ResponseFormat,
    Scale,
)
from profiler.questionnaire.plan import ScoringPlan
from profiler.questionnaire.references import parse_key
from profiler.questionnaire.scoring import score_responses


@dataclass(frozen=True)
class KeyedItem:
    """An item's place in a scale: +1 keyed, or -1 reverse keyed (scored as min + max - x)."""

    item: str
    sign: int

    def __str__(self) -> str:
        return ("-" if self.sign < 0 else "") + self.item


class Questionnaire:
    """A validated questionnaire.

    Build one with :func:`profiler.load_questionnaire`. The object is immutable; its
    :attr:`content_hash` identifies the normalized content, so every score can record exactly what
    produced it.

    Attributes
    ----------
    spec : QuestionnaireSpec
        The validated file content (pydantic model).
    source : str
        Where it was loaded from (a path, ``bundled:<id>`` or ``<string>``).
    """

    def __init__(self, spec: QuestionnaireSpec, source: str = "<string>"):
        self.spec = spec
        self.source = source

    def __repr__(self) -> str:
        return (
            f"Questionnaire(id={self.id!r}, version={self.version!r}, items={len(self.items)}, "
            f"scales={len(self.scales)}, hash={self.content_hash[:19]}...)"
        )

    # Identity -------------------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def default_language(self) -> str:
        return self.spec.default_language

    @property
    def languages(self) -> list[str]:
        return list(self.spec.languages)

    @cached_property
    def content_hash(self) -> str:
        """``sha256:<hex>`` of the normalized content (defaults filled in, keys sorted, comments and layout ignored)."""
        return document_hash(self.spec)

    def identity(self) -> dict[str, str]:
        """What a score records about the questionnaire that produced it."""
        return {"questionnaire_id": self.id, "questionnaire_version": self.version, "content_hash": self.content_hash}

    # Items and scales ------------------------------------------------------------------------------
    @property
    def items(self) -> list[Item]:
        """Items in file order (validity items included)."""
        return list(self.spec.items)

    @property
    def scales(self) -> list[Scale]:
        """Scales in file order (domains and facets)."""
        return list(self.spec.scales)

    @cached_property
    def item_ids(self) -> list[str]:
        return [item.id for item in self.spec.items]

    @cached_property
    def scale_ids(self) -> list[str]:
        return [scale.id for scale in self.spec.scales]

    @cached_property
    def _items_by_id(self) -> dict[str, Item]:
        return {item.id: item for item in self.spec.items}

    @cached_property
    def _scales_by_id(self) -> dict[str, Scale]:
        return {scale.id: scale for scale in self.spec.scales}

    def item(self, item_id: str) -> Item:
        try:
            return self._items_by_id[item_id]
        except KeyError:
            raise KeyError(f"questionnaire {self.id!r} has no item {item_id!r}") from None

    def scale(self, scale_id: str) -> Scale:
        try:
            return self._scales_by_id[scale_id]
        except KeyError:
            raise KeyError(f"questionnaire {self.id!r} has no scale {scale_id!r}") from None

    def response_format(self, item_id: str) -> ResponseFormat:
        """The response format of an item (its own, or the questionnaire's default)."""
        item = self.item(item_id)
        name = item.format or self.spec.defaults.response_format
        return self.spec.response_formats[name]

    def is_required(self, item_id: str) -> bool:
        item = self.item(item_id)
        return self.spec.defaults.required if item.required is None else item.required

    @cached_property
    def validity_items(self) -> list[str]:
        """Ids of attention-check and infrequency items (never scored)."""
        return [item.id for item in self.spec.items if item.validity is not None]

    @cached_property
    def scored_items(self) -> list[str]:
        return [item.id for item in self.spec.items if item.validity is None]

    @cached_property
    def facets_of(self) -> dict[str, list[str]]:
        """Domain id -> ids of its facets (only scales that have facets appear)."""
        return {scale.id: list(scale.facets) for scale in self.spec.scales if scale.facets}

    @cached_property
    def parent_of(self) -> dict[str, str]:
        """Facet id -> id of its domain."""
        return {facet: domain for domain, facets in self.facets_of.items() for facet in facets}

    @cached_property
    def excluded_items(self) -> list[str]:
        """Items administered but left out of scoring (``scoring_exclusions``)."""
        return [exclusion.item for exclusion in self.spec.scoring_exclusions]

    def keys(self, scale_id: str, *, include_excluded: bool = False) -> list[KeyedItem]:
        """The keyed items of a scale; a domain's keys are the union of its facets' keys, in facet order.

        Items under ``scoring_exclusions`` are left out unless ``include_excluded``.
        """
        scale = self.scale(scale_id)
        if scale.keys is not None:
            keyed = [KeyedItem(item, sign) for sign, item in map(parse_key, scale.keys)]
        else:
            keyed = [k for facet in scale.facets or [] for k in self.keys(facet, include_excluded=True)]
        return keyed if include_excluded else [k for k in keyed if k.item not in self.excluded_items]

    def key_lists(self) -> dict[str, list[str]]:
        """psych-style key lists per scale, e.g. ``{"Extraversion": ["E1", "-E2", ...]}`` (as psych::scoreItems)."""
        return {scale_id: [str(k) for k in self.keys(scale_id)] for scale_id in self.scale_ids}

    @cached_property
    def scoring_matrix(self) -> pd.DataFrame:
        """Items x scales matrix of keying: +1, -1 (reverse keyed) or 0 (not in the scale)."""
        matrix = pd.DataFrame(0, index=self.scored_items, columns=self.scale_ids, dtype=np.int8)
        for scale_id in self.scale_ids:
            for keyed in self.keys(scale_id):
                matrix.loc[keyed.item, scale_id] = keyed.sign
        return matrix

    def item_range(self, item_id: str) -> tuple[float, float]:
        """Smallest and largest possible answer (used for reverse keying: min + max - x)."""
        fmt = self.response_format(item_id)
        if isinstance(fmt, LikertFormat):
            return fmt.options[0].value, fmt.options[-1].value
        if isinstance(fmt, NumberFormat):
            return fmt.min, fmt.max
        return 0, 1

    @cached_property
    def scoring_plan(self) -> ScoringPlan:
        """What validating and scoring answers read, as arrays computed once (the questionnaire is immutable)."""
        scored = self.scored_items
        matrix = self.scoring_matrix.loc[scored].to_numpy(dtype=float)
        lows, highs = np.array([self.item_range(i) for i in scored], dtype=float).T.reshape(2, -1)
        positive, negative = (matrix > 0).astype(float), (matrix < 0).astype(float)
        n_items = (positive + negative).sum(axis=0)
        needed = np.array([math.ceil(scale.min_answered * n - 1e-9)
                           for scale, n in zip(self.scales, n_items, strict=True)])
        position = {item: j for j, item in enumerate(self.item_ids)}
        return ScoringPlan(
            questionnaire_id=self.id, identity=self.identity(), item_ids=list(self.item_ids),
            formats=[self.response_format(i) for i in self.item_ids],
            required=np.array([self.is_required(i) for i in self.item_ids], dtype=bool),
            scale_ids=list(self.scale_ids), columns=np.array([position[i] for i in scored], dtype=np.intp),
            positive=positive, negative=negative, lows=lows, highs=highs, n_items=n_items,
            needed=np.maximum(needed, 1), is_sum=np.array([scale.scoring == "sum" for scale in self.scales]))

    # Text -----------------------------------------------------------------------------------------
    def text(self, item_id: str, language: str | None = None) -> str:
        """The item's text in ``language`` (default: the questionnaire's default language).

        Raises
        ------
        KeyError
            When the item has no text in that language (a translation that misses items).
        """
        language = language or self.default_language
        if language not in self.spec.languages:
            raise KeyError(f"questionnaire {self.id!r} is not offered in {language!r} (offered: {', '.join(self.languages)})")
        texts = self.item(item_id).text
        if language not in texts:
            raise KeyError(f"item {item_id!r} has no text in {language!r}")
        return texts[language]

    def title(self, language: str | None = None) -> str:
        titles = self.spec.title
        return titles.get(language or self.default_language, titles[self.default_language])

    # Administration ---------------------------------------------------------------------------------
    def pages(self, seed: int | None = None) -> list[list[str]]:
        """Item ids page by page in the order of administration.

        With ``order: random`` items are shuffled within each block by ``numpy.random.default_rng(seed)``,
        where ``seed`` is the questionnaire's fixed seed if it sets one, else the session's.
        """
        admin = self.spec.administration
        blocks = [list(b.items) for b in admin.blocks] if admin.blocks else [list(self.item_ids)]
        if admin.order == "random":
            chosen = admin.seed if admin.seed is not None else seed
            if chosen is None:
                raise ValueError(f"questionnaire {self.id!r} orders items at random: pass the session's seed")
            rng = np.random.default_rng(chosen)
            blocks = [[block[i] for i in rng.permutation(len(block))] for block in blocks]
        return blocks

    def item_order(self, seed: int | None = None) -> list[str]:
        """All item ids in order of administration (see :meth:`pages`)."""
        return [item_id for page in self.pages(seed) for item_id in page]

    # Scoring ----------------------------------------------------------------------------------------
    def score(self, responses: pd.DataFrame, *, invalid: str = "raise") -> pd.DataFrame:
        """Raw scale scores, one row per respondent; see :func:`profiler.questionnaire.scoring.score_responses`."""
        return score_responses(self, responses, invalid=invalid)
