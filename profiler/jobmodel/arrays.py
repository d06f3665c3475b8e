"""The arrays the evaluation engine reads and writes: :class:`Inputs` of n candidates and their
:class:`Evaluation` (see :mod:`profiler.jobmodel.engine`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Inputs:
    """The inputs of n candidates, one column per input of the compiled model (``cm.inputs``).

    ``values`` holds the given values (NaN where missing), ``sem`` each value's SEM in the input's units (0
    for recorded facts), ``expired`` marks values given but no longer valid on the evaluation date, and
    ``raters`` the number of raters behind an interview rating (1 for every other input).
    """

    values: np.ndarray
    sem: np.ndarray
    expired: np.ndarray
    raters: np.ndarray

    def __len__(self) -> int:
        return self.values.shape[0]

    @property
    def measured(self) -> np.ndarray:
        """Given and not expired."""
        return ~np.isnan(self.values) & ~self.expired

    def rows(self, rows: slice) -> Inputs:
        return Inputs(self.values[rows], self.sem[rows], self.expired[rows], self.raters[rows])


@dataclass
class Evaluation:
    """Every figure of the recommendations of n candidates, as arrays (rows = candidates).

    Shapes: ``(n, p)`` per input, ``(n, C)`` per criterion, ``(n,)`` per candidate. Band codes are 0 not
    advance, 1 review, 2 advance; stability label codes 0 stable, 1 borderline, 2 within measurement
    error, 3 not applicable (the band is review).
    """

    X: np.ndarray  # (n, p) values used: unknown inputs at their norm mean
    measured: np.ndarray  # (n, p)
    expired: np.ndarray  # (n, p)
    sem: np.ndarray  # (n, p)
    U: np.ndarray  # (n, C) utilities
    score: np.ndarray
    contributions: np.ndarray  # (n, C)
    base_value: float
    score_code: np.ndarray
    band_code: np.ndarray
    knock: np.ndarray  # (n, C) below the criterion's minimum
    missing_review: np.ndarray  # (n, C) unknown under policy review
    unchecked: np.ndarray  # (n, C) unknown under impute_mean, with a minimum that cannot be checked
    uncertain: np.ndarray  # (n,) unknown inputs at plausible values could give another band
    score_min: np.ndarray  # (n,) the score with every unknown input at its least favourable plausible value
    score_max: np.ndarray
    lower: np.ndarray  # (n,) the score below which the band is not advance (unknown inputs allowed for)
    upper: np.ndarray  # (n,) the score from which the band is advance (unknown inputs allowed for)
    in_margin: np.ndarray
    se: np.ndarray
    p_same: np.ndarray  # NaN where the band is review
    label: np.ndarray  # int8 codes
    p_flip_simulated: np.ndarray | None = None
    p_score_flip_simulated: np.ndarray | None = None
    counterfactuals: dict[str, Any] = field(default_factory=dict)  # direction -> CounterfactualSet


__all__ = ["Evaluation", "Inputs"]
