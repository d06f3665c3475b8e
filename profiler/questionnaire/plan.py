"""What validating and scoring answers need from a questionnaire, as plain arrays computed once.

:class:`ScoringPlan` is built by :class:`~profiler.questionnaire.Questionnaire` (``.scoring_plan``) and read
by :mod:`profiler.questionnaire.scoring`, so that the scoring code depends on this small structure rather than
on the class that calls it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import numpy as np
import pandas as pd

from profiler.questionnaire.spec import LikertFormat, NumberFormat, ResponseFormat


@dataclass(frozen=True, eq=False)
class ScoringPlan:
    """A questionnaire reduced to what scoring reads.

    Attributes
    ----------
    questionnaire_id : str
    identity : dict
        ``questionnaire_id``, ``questionnaire_version``, ``content_hash`` (recorded with every score).
    item_ids : list of str
        Every item, in file order (the columns of validated answers).
    formats : list
        Each item's response format (a pydantic model, shared between items that share a format).
    required : ndarray of bool
        Per item: must be answered.
    scale_ids : list of str
    columns : ndarray of int
        Positions of the scored items among ``item_ids``.
    positive, negative : ndarray
        Scored items x scales, 1.0 where keyed + (resp. -).
    lows, highs : ndarray
        Smallest and largest answer of each scored item (reverse keying is ``low + high - x``).
    n_items : ndarray
        Keyed items per scale.
    needed : ndarray of int
        Answered items a scale needs for a score (``min_answered``, at least 1).
    is_sum : ndarray of bool
        Per scale: scored as a sum (else a mean).
    """

    questionnaire_id: str
    identity: dict[str, str]
    item_ids: list[str]
    formats: list[ResponseFormat]
    required: np.ndarray
    scale_ids: list[str]
    columns: np.ndarray
    positive: np.ndarray
    negative: np.ndarray
    lows: np.ndarray
    highs: np.ndarray
    n_items: np.ndarray
    needed: np.ndarray
    is_sum: np.ndarray
    _position: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_position", {item: j for j, item in enumerate(self.item_ids)})

    @cached_property
    def scale_index(self) -> pd.Index:
        """:attr:`scale_ids` as a pandas Index, built once: building one from strings costs more than scoring a
        row. Give frames ``scale_index.view()`` (a new Index object on the same data), so that renaming one
        frame's columns never renames another's."""
        return pd.Index(self.scale_ids)

    def position(self, item_id: str) -> int:
        """The column of ``item_id`` among :attr:`item_ids`."""
        return self._position[item_id]

    def has_item(self, item_id: str) -> bool:
        return item_id in self._position

    def format_of(self, item_id: str) -> ResponseFormat:
        return self.formats[self._position[item_id]]

    def is_required(self, item_id: str) -> bool:
        return bool(self.required[self._position[item_id]])


class Scorable(Protocol):
    """Anything scoring accepts: a :class:`~profiler.questionnaire.Questionnaire`, or another holder of a plan."""

    @property
    def scoring_plan(self) -> ScoringPlan: ...


def acceptable(fmt: ResponseFormat, values: np.ndarray) -> np.ndarray:
    """Which ``values`` (floats, NaN for none) are answers of the response format ``fmt``."""
    if isinstance(fmt, LikertFormat):
        return np.isin(values, [option.value for option in fmt.options])
    if isinstance(fmt, NumberFormat):
        ok = (values >= fmt.min) & (values <= fmt.max)
        return ok & (values == np.round(values)) if fmt.integer else ok
    return np.isin(values, [0, 1])


def describe_format(fmt: ResponseFormat) -> str:
    """The answers a response format allows, in words (for error messages)."""
    if isinstance(fmt, LikertFormat):
        return "one of " + ", ".join(f"{o.value:g}" for o in fmt.options)
    if isinstance(fmt, NumberFormat):
        kind = "a whole number" if fmt.integer else "a number"
        return f"{kind} from {fmt.min:g} to {fmt.max:g}"
    return "1 (yes) or 0 (no)"


__all__ = ["Scorable", "ScoringPlan", "acceptable", "describe_format"]
