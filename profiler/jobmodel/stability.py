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

from profiler.jobmodel.compiled import row_sum

if TYPE_CHECKING:
    from profiler.jobmodel.compiled import CompiledModel

SIMULATION_BLOCK = 2_000_000  # input values drawn per block (memory bound of the simulation)
_SQRT_2PI = float(np.sqrt(2.0 * np.pi))
# label cut-offs on P(same recommendation): stable, borderline, else within measurement error
STABLE_FROM, BORDERLINE_FROM = 0.95, 0.75


@lru_cache(maxsize=8)
def _standard_normals(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    """The seeded draws of the simulation, one row per input: every candidate sees the same draws (common
    random numbers), so a candidate's figure does not depend on the batch it is evaluated in. Read-only."""
    z = np.random.default_rng(seed).standard_normal(shape)
    z.flags.writeable = False
    return z


def score_slopes(cm: CompiledModel, X: np.ndarray) -> np.ndarray:
    """``d score / d x_j`` (n, inputs): the criteria's ``c_i u_i'(x_j)`` summed per input."""
    return cm.by_input(cm.bank.derivative(cm.by_criterion(X)) * cm.coef)


def score_se(cm: CompiledModel, X: np.ndarray, sem: np.ndarray, measured: np.ndarray) -> np.ndarray:
    """Standard error of the score (n,) by the delta method; unmeasured inputs count 0."""
    spread = score_slopes(cm, X) * np.where(measured, sem, 0.0)
    return np.sqrt(row_sum(spread * spread))


def band_limits(cm: CompiledModel, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The score interval ``[lo, hi)`` of each score's band."""
    return band_limits_of(cm, cm.score_band(score))


def band_limits_of(cm: CompiledModel, code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The score interval ``[lo, hi)`` of each score band code."""
    lo = np.where(code == 2, cm.upper, np.where(code == 1, cm.lower, -np.inf))
    hi = np.where(code == 2, np.inf, np.where(code == 1, cm.upper, cm.lower))
    return lo, hi


def p_same_band(cm: CompiledModel, score: np.ndarray, se: np.ndarray) -> np.ndarray:
    """Probability that a re-measured score stays in the current score band (normal, delta-method SE)."""
    lo, hi = band_limits(cm, score)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = special.ndtr((hi - score) / se) - special.ndtr((lo - score) / se)
    return np.where(se > 0, p, 1.0)


def p_same_recommendation(cm: CompiledModel, X: np.ndarray, sem: np.ndarray, measured: np.ndarray,
                          score: np.ndarray, band_code: np.ndarray, lower: np.ndarray,
                          upper: np.ndarray, spread: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """Probability that re-measurement leaves the recommendation as it is (NaN where it is review).

    For a candidate recommended advance or not advance, the recommendation stays when no re-measured input
    falls below a criterion's minimum (a knock-out routes to review) and the re-measured score stays in the
    band (``[upper, inf)`` or ``(-inf, lower)``: the thresholds after allowing for unknown inputs). Inputs
    are independent, ``x_j' ~ N(x_j, SEM_j^2)``; the score is linearised (delta method). A minimum ``m_j``
    of input j is kept with probability ``Phi(-d_j)``, ``d_j = (m_j - x_j) / SEM_j``; given that, ``x_j'``
    is a truncated normal, whose mean ``SEM_j lambda_j`` (``lambda_j = phi(d_j) / Phi(-d_j)``) and variance
    ``SEM_j^2 (1 + d_j lambda_j - lambda_j^2)`` enter the score's. So
    ``P = prod_j Phi(-d_j) * P(score' in band | no knock-out)``, the latter normal with those moments.
    ``spread`` is ``score_slopes(cm, X) * sem`` and ``variance`` ``row_sum(spread * spread)`` (the caller has
    them).
    """
    out = np.full(len(score), np.nan)
    rows = np.flatnonzero(band_code != 1)  # only these have a figure: computed on them alone
    if len(rows) == 0:
        return out
    score, band_code, lower, upper, variance = (a.take(rows) for a in (score, band_code, lower, upper, variance))
    mean = score.copy()
    p_kept = np.ones(len(score))
    for j in np.flatnonzero(~np.isnan(cm.input_minimum)):
        sem_j = sem[:, j].take(rows)
        active = measured[:, j].take(rows) & (sem_j > 0)
        if not active.any():
            continue
        spread_j = spread[:, j].take(rows)
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(active, (cm.input_minimum[j] - X[:, j].take(rows)) / sem_j, -np.inf)
            tail = special.ndtr(-d)
            lam = np.where(active, np.exp(-0.5 * d * d) / _SQRT_2PI / tail, 0.0)
            shrink = np.where(active, lam * lam - d * lam, 0.0)  # 1 - variance of the truncated normal
        mean += spread_j * lam
        variance -= spread_j ** 2 * shrink
        p_kept *= tail
    advance = band_code == 2
    lo = np.where(advance, upper, -np.inf)
    hi = np.where(advance, np.inf, lower)
    sd = np.sqrt(np.maximum(variance, 0.0))
    # Phi((hi - mean) / sd) - Phi((lo - mean) / sd) where one side is infinite: 1 - Phi(.) at upper, Phi(.) at
    # lower (Phi(inf) = 1, Phi(-inf) = 0: the same values with one Phi per candidate)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = special.ndtr((np.where(advance, upper, lower) - mean) / sd)
    inside = np.where(advance, 1.0 - phi, phi)
    inside = np.where(sd > 0, inside, (mean >= lo) & (mean < hi))
    out[rows] = p_kept * inside
    return out


def label_codes(p_same: np.ndarray) -> np.ndarray:
    """Label codes of P(same recommendation): 0 stable, 1 borderline, 2 within measurement error, 3 not
    applicable (NaN: the recommendation is review)."""
    codes = 2 - (p_same >= BORDERLINE_FROM).astype(np.int8)  # stable (0) implies borderline's cut-off too
    codes -= p_same >= STABLE_FROM
    return np.where(np.isnan(p_same), 3, codes).astype(np.int8)


@dataclass(frozen=True)
class Simulation:
    """Monte Carlo stability of n candidates: recommendation and score-band flip probabilities."""

    p_flip: np.ndarray
    p_score_flip: np.ndarray
    draws: int
    seed: int


def simulate(cm: CompiledModel, X: np.ndarray, sem: np.ndarray, measured: np.ndarray, routed: np.ndarray,
             band_code: np.ndarray, lower: np.ndarray | None = None, upper: np.ndarray | None = None, *,
             draws: int = 5_000, seed: int = 0, U: np.ndarray | None = None,
             score_code: np.ndarray | None = None) -> Simulation:
    """Re-measure every candidate ``draws`` times (seeded) and count how often the recommendation changes.

    Parameters
    ----------
    X, sem, measured : arrays (n, inputs)
        Inputs (unknown ones at their norm mean), their SEMs, and which were measured.
    routed : array (n,)
        Routed to review as evaluated (their ``p_flip`` is NaN: a review is not a figure of certainty).
    band_code : array (n,)
        The current recommendation (0 not advance, 1 review, 2 advance).
    lower, upper : arrays (n,), optional
        The score thresholds after allowing for unknown inputs (default: the job model's).
    U, score_code : arrays, optional
        The utilities (n, criteria) and score bands (n,) at ``X``, when the caller has them.

    Every candidate sees the same standard normal draws, one row per input (common random numbers): a
    candidate's figure is the same alone and in a batch. ``p_score_flip`` is the share of draws whose score
    band (the job model's thresholds) differs from the current one, for every candidate.
    """
    if draws < 1:
        raise ValueError("draws must be >= 1")
    n, p = X.shape
    lower = np.full(n, cm.lower) if lower is None else lower
    upper = np.full(n, cm.upper) if upper is None else upper
    z = _standard_normals(seed, (p, draws))
    scale = np.where(measured, sem, 0.0)
    is_varied = (scale > 0).any(axis=0)
    varied = np.flatnonzero(is_varied)  # only inputs with measurement error are redrawn
    U = cm.utilities_of(X) if U is None else U
    score_code = cm.score_band(row_sum(U, cm.coef)) if score_code is None else score_code
    # a draw changes the recommendation of a decided candidate when it knocks out or leaves the band
    # [lo, hi) (the score band likewise, on the job model's thresholds)
    decided = (band_code != 1) & ~routed
    lo = np.where(band_code == 2, upper, -np.inf)
    hi = np.where(band_code == 2, np.inf, lower)
    score_lo, score_hi = band_limits_of(cm, score_code)
    fixed = ~is_varied[cm.input_of]
    constant = row_sum(U[:, fixed], cm.coef[fixed])
    knock_crits = [c for c in cm.knock_columns if is_varied[cm.input_of[c]]]
    p_flip = np.empty(n)
    p_score_flip = np.empty(n)
    rows = max(1, SIMULATION_BLOCK // (draws * max(len(varied), 1)))
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        k = stop - start
        drawn = {}
        for j in varied:
            values = z[j][:, None] * scale[start:stop, j]
            values += X[start:stop, j]
            drawn[j] = np.minimum(np.maximum(values, cm.lows[j], out=values), cm.highs[j], out=values)
        score = np.broadcast_to(constant[start:stop], (draws, k)).copy()
        for c, utility in enumerate(cm.utilities):  # criteria one by one: each input's draws are contiguous
            j = cm.input_of[c]
            if j in drawn:
                score += cm.coef[c] * utility(drawn[j])
        if decided[start:stop].any():
            knocked = np.zeros((draws, k), bool)
            for c in knock_crits:
                j = cm.input_of[c]
                knocked |= (drawn[j] < cm.minimum[c]) & measured[start:stop, j]
            knocked |= score < lo[start:stop]
            knocked |= score >= hi[start:stop]
            p_flip[start:stop] = np.where(decided[start:stop], np.count_nonzero(knocked, axis=0) / draws, np.nan)
        else:
            p_flip[start:stop] = np.nan
        moved = score < score_lo[start:stop]
        moved |= score >= score_hi[start:stop]
        p_score_flip[start:stop] = np.count_nonzero(moved, axis=0) / draws
    return Simulation(p_flip, p_score_flip, draws, seed)


__all__ = ["Simulation", "band_limits", "label_codes", "p_same_band", "p_same_recommendation", "score_se",
           "score_slopes", "simulate"]
