"""Decision stability: how likely the band is to change if the candidate's inputs were measured again.

Each measured input is taken as ``x' ~ N(x, SEM^2)`` around its observed value (SEM in the input's units:
from the norm table for trait scales, from the declared reliability for tests and interviews; recorded
facts such as experience or a certification have none). Inputs replaced by their norm mean are unknown
rather than imprecise; evidence coverage reports them instead.

Analytic (the additive part, :func:`score_se`, :func:`p_same_band`)
    By the delta method through each transform's derivative,
    ``SE_s = sqrt(sum_j (sum_{i: input j} c_i u_i'(x_j))^2 SEM_j^2)`` with ``c_i = 100 w_i / sum w`` (criteria
    sharing an input add their slopes first). The score band is the interval ``[lo, hi)`` of the current band
    (thresholds ``advance_from + margin`` and ``not_advance_below - margin``), and
    ``P(same band) = Phi((hi - s) / SE_s) - Phi((lo - s) / SE_s)``, both thresholds combined.

Simulated (everything, :func:`simulate`)
    A seeded Monte Carlo: ``draws`` re-measurements of every input with an SEM, clipped to the input's
    possible range, through the real transforms, the score bands and the knock-out minimums; routing that
    re-measurement cannot change (a missing input under policy ``review``) stays. ``p_flip`` is the share of
    draws whose final band differs from the current one.

Where the score is locally linear (no kink, clip or knock-out within a few SEMs) the two agree; near a kink
the derivative is the mean of the one-sided slopes, and the simulation is the better figure.

Labels read ``p_same`` (:data:`profiler.jobmodel.recommendation.LABELS`): ``stable`` at 0.95 or more,
``borderline`` from 0.75, ``within measurement error`` below 0.75.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from scipy import special

if TYPE_CHECKING:
    from profiler.jobmodel.compiled import CompiledModel

SIMULATION_BLOCK = 2_000_000  # input values drawn per block (memory bound of the simulation)
_CACHED_NORMALS = 1_000_000  # one candidate's draws are reused across candidates up to this size


@lru_cache(maxsize=8)
def _standard_normals(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    """The seeded draws of one candidate's simulation: every candidate with the same seed gets the same
    draws (common random numbers), so they are generated once. Read-only."""
    z = np.random.default_rng(seed).standard_normal(shape)
    z.flags.writeable = False
    return z


def score_slopes(cm: CompiledModel, X: np.ndarray) -> np.ndarray:
    """``d score / d x_j`` (n, inputs): the criteria's ``c_i u_i'(x_j)`` summed per input."""
    slopes = cm.bank.derivative(X[:, cm.input_of]) * cm.coef
    if cm.one_input_each:
        out = np.empty(X.shape)
        out[:, cm.input_of] = slopes
        return out
    return np.einsum("ic,cj->ij", slopes, cm.incidence)  # criteria sharing an input add their slopes


def score_se(cm: CompiledModel, X: np.ndarray, sem: np.ndarray, measured: np.ndarray) -> np.ndarray:
    """Standard error of the score (n,) by the delta method; unmeasured inputs count 0."""
    spread = score_slopes(cm, X) * np.where(measured, sem, 0.0)
    return np.sqrt(np.einsum("ij,ij->i", spread, spread))


def band_limits(cm: CompiledModel, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The score interval ``[lo, hi)`` of each score's band."""
    code = cm.score_band(score)
    lo = np.where(code == 2, cm.upper, np.where(code == 1, cm.lower, -np.inf))
    hi = np.where(code == 2, np.inf, np.where(code == 1, cm.upper, cm.lower))
    return lo, hi


def p_same_band(cm: CompiledModel, score: np.ndarray, se: np.ndarray) -> np.ndarray:
    """Probability that a re-measured score stays in the current score band (normal, delta-method SE)."""
    lo, hi = band_limits(cm, score)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = special.ndtr((hi - score) / se) - special.ndtr((lo - score) / se)
    return np.where(se > 0, p, 1.0)


@dataclass(frozen=True)
class Simulation:
    """Monte Carlo stability of n candidates: final-band and score-band flip probabilities."""

    p_flip: np.ndarray
    p_score_flip: np.ndarray
    draws: int
    seed: int


def simulate(cm: CompiledModel, X: np.ndarray, sem: np.ndarray, measured: np.ndarray, fixed_review: np.ndarray,
             band_code: np.ndarray, *, draws: int = 5_000, seed: int = 0) -> Simulation:
    """Re-measure every candidate ``draws`` times (seeded) and count how often the band changes.

    Parameters
    ----------
    X, sem, measured : arrays (n, inputs)
        Inputs (unknown ones at their norm mean), their SEMs, and which were measured.
    fixed_review : array (n,)
        Routed to review whatever re-measurement gives (missing inputs under policy ``review``, or a
        minimum that cannot be checked).
    band_code : array (n,)
        The current final band (0 not advance, 1 review, 2 advance).
    """
    if draws < 1:
        raise ValueError("draws must be >= 1")
    rng = np.random.default_rng(seed)
    n, p = X.shape
    scale = np.where(measured, sem, 0.0)
    is_varied = (scale > 0).any(axis=0)
    varied = np.flatnonzero(is_varied)  # only inputs with measurement error are redrawn
    U = cm.utilities_of(X)
    score_code = cm.score_band(np.einsum("ij,j->i", U, cm.coef))
    constant = (U * cm.coef)[:, ~is_varied[cm.input_of]].sum(axis=1)
    knock_crits = [c for c in cm.knock_columns if is_varied[cm.input_of[c]]]
    p_flip = np.empty(n)
    p_score_flip = np.empty(n)
    rows = max(1, SIMULATION_BLOCK // (draws * max(len(varied), 1)))
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        k = stop - start
        drawn = {}
        shape = (len(varied), draws, k)
        if n == 1 and draws * len(varied) <= _CACHED_NORMALS:
            z = _standard_normals(seed, shape)
        else:
            z = rng.standard_normal(shape)
        for m, j in enumerate(varied):
            values = z[m] * scale[start:stop, j]
            values += X[start:stop, j]
            drawn[j] = np.minimum(np.maximum(values, cm.lows[j], out=values), cm.highs[j], out=values)
        score = np.broadcast_to(constant[start:stop], (draws, k)).copy()
        for c, utility in enumerate(cm.utilities):  # criteria one by one: each input's draws are contiguous
            j = cm.input_of[c]
            if j in drawn:
                score += cm.coef[c] * utility(drawn[j])
        code = cm.score_band(score)
        final = code
        fixed = fixed_review[start:stop]
        if knock_crits or fixed.any():
            knocked = np.broadcast_to(fixed, (draws, k)).copy()
            for c in knock_crits:
                j = cm.input_of[c]
                knocked |= (drawn[j] < cm.minimum[c]) & measured[start:stop, j]
            final = np.where(knocked, 1, code)
        p_flip[start:stop] = np.count_nonzero(final != band_code[start:stop], axis=0) / draws
        p_score_flip[start:stop] = np.count_nonzero(code != score_code[start:stop], axis=0) / draws
    return Simulation(p_flip, p_score_flip, draws, seed)


__all__ = ["Simulation", "band_limits", "p_same_band", "score_se", "score_slopes", "simulate"]
