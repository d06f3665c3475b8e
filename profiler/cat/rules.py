"""The rules of one scale's adaptive test, resolved: what an engine needs and nothing it has to look up.

:class:`CATRules` is plain data (the questionnaire's ``administration.adaptive`` section, merged for one scale,
becomes one of these in :mod:`profiler.cat.plan`), so the engine and the simulation study take the same object.

- **selection**: ``"fisher"`` (maximum Fisher information at the current EAP theta) or ``"kl"``
  (Kullback-Leibler information integrated over the current posterior: Chen, Ankenmann & Chang, 2000, catR's
  ``"KLP"``).
- **exposure**: ``"none"``; ``"randomesque"`` (one of the ``candidates`` best items at random: Kingsbury &
  Zara, 1989); ``"sympson-hetter"`` (the best item is given with probability ``K_j``, else the next is tried:
  Sympson & Hetter, 1985; items without a parameter have ``K = 1``).
- **content**: ``each_facet`` (at least that many items of every facet before the test may stop, forced
  when the items left would not suffice) and ``proportions`` (facet -> target share; the next item comes from
  the facet furthest below its share: Kingsbury & Zara, 1989).
- **start**: the theta at which the first item is chosen (default the prior mean 0) and optionally the first
  items themselves, in order.
- **stop**: when the posterior SD is at most ``se`` after at least ``min_items``, or after ``max_items``, or
  when the bank is exhausted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from profiler.errors import ProfilerError

CRITERIA = ("fisher", "kl")
EXPOSURE = ("none", "randomesque", "sympson-hetter")


class CATError(ProfilerError, ValueError):
    """Adaptive-testing rules or an item bank that cannot be used (the message names what and why)."""


@dataclass(frozen=True)
class CATRules:
    """The rules of one scale's adaptive test (see the module docstring).

    Parameters
    ----------
    selection : {"fisher", "kl"}
    exposure : {"none", "randomesque", "sympson-hetter"}
    candidates : int
        Randomesque: how many of the best items the next one is drawn from.
    sympson_hetter : mapping of item -> float
        Sympson-Hetter exposure parameters ``K`` in (0, 1]; items not listed have 1.
    each_facet : int
        Items of every facet required before stopping (0: no requirement).
    proportions : mapping of facet -> float, optional
        Target share of each facet (sums to 1).
    start_theta : float
        Theta at which the first item is chosen.
    start_items : tuple of str
        Items given first, in this order (then the selection rule takes over).
    se : float, optional
        Stop once the posterior SD is at most this (None: no SE rule).
    min_items, max_items : int
        Fewest items before the SE rule may stop the test; most items (None: the whole bank).
    prior_mean, prior_sd : float
        The N(mean, sd^2) prior of EAP (the calibration sample's N(0, 1) by default).
    """

    selection: str = "fisher"
    exposure: str = "none"
    candidates: int = 1
    sympson_hetter: Mapping[str, float] = field(default_factory=dict)
    each_facet: int = 0
    proportions: Mapping[str, float] | None = None
    start_theta: float = 0.0
    start_items: tuple[str, ...] = ()
    se: float | None = 0.3
    min_items: int = 1
    max_items: int | None = None
    prior_mean: float = 0.0
    prior_sd: float = 1.0

    def __post_init__(self) -> None:
        if self.selection not in CRITERIA:
            raise CATError(f"selection {self.selection!r}: one of {', '.join(CRITERIA)}")
        if self.exposure not in EXPOSURE:
            raise CATError(f"exposure {self.exposure!r}: one of {', '.join(EXPOSURE)}")
        if self.candidates < 1:
            raise CATError(f"randomesque candidates must be at least 1, got {self.candidates}")
        bad = {k: v for k, v in self.sympson_hetter.items() if not 0 < v <= 1}
        if bad:
            raise CATError(f"Sympson-Hetter parameters must be in (0, 1], got {bad}")
        if self.se is not None and not self.se > 0:
            raise CATError(f"the SE to stop at must be positive, got {self.se}")
        if self.min_items < 0 or (self.max_items is not None and self.max_items < max(self.min_items, 1)):
            raise CATError(f"min_items {self.min_items} and max_items {self.max_items}: need 0 <= min <= max, max >= 1")
        if self.proportions is not None:
            total = sum(self.proportions.values())
            if any(v < 0 for v in self.proportions.values()) or abs(total - 1) > 1e-6:
                raise CATError(f"facet proportions must be non-negative and sum to 1, got {dict(self.proportions)} "
                               f"(sum {total:g})")
        if not self.prior_sd > 0:
            raise CATError(f"the prior SD must be positive, got {self.prior_sd}")
