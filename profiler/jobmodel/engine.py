"""The one evaluation engine of a job model: the inputs of n candidates as arrays in, every figure of their
recommendations out.

``JobModel.evaluate`` runs it on a batch of one candidate and ``JobModel.evaluate_many`` on chunks of a frame:
the same computation, so bands, routing, contributions, stability, coverage and counterfactuals agree on
every row (``tests/jobmodel/test_one_engine.py`` checks it on random candidates). The two front ends only
turn their inputs into :class:`Inputs` (records or a frame) and the :class:`Evaluation` into their output (a
:class:`~profiler.jobmodel.recommendation.Recommendation` or a DataFrame).

What is computed, per candidate (``c_i = 100 w_i / sum w``, ``u_i`` the utility of criterion i):

- the score ``sum_i c_i u_i(x_i)`` with unknown inputs (missing or expired) at their norm mean, and the
  exact SHAP contribution of every criterion against the reference point, ``c_i (u_i(x_i) - r_i)``;
- routing to review: an input below a criterion's minimum (knock-out), an input unknown under the policy
  ``review``, a minimum that cannot be checked; and, under the job model's ``if_unknown_could_change:
  review`` (the default), unknown inputs whose plausible values could move the score into another band;
- the band: review when routed, otherwise the score band;
- decision stability (:mod:`profiler.jobmodel.stability`), coverage (the score range with every unknown input
  at plausible values) and counterfactuals (:mod:`profiler.jobmodel.explanation`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from profiler.jobmodel import stability
from profiler.jobmodel.compiled import row_any, row_sum
from profiler.jobmodel.arrays import Evaluation, Inputs
from profiler.jobmodel.counterfactuals import counterfactual_sets

if TYPE_CHECKING:
    from profiler.jobmodel.compiled import CompiledModel
    from profiler.jobmodel.reference import ReferencePoint

NOT_ADVANCE, REVIEW, ADVANCE = 0, 1, 2


def score_band(score: np.ndarray, lower: Any, upper: Any) -> np.ndarray:
    """Band codes of scores against thresholds: advance from ``upper``, not advance below ``lower``."""
    return np.where(score >= upper, ADVANCE, np.where(score < lower, NOT_ADVANCE, REVIEW))


def evaluate_arrays(cm: CompiledModel, inputs: Inputs, *, reference: ReferencePoint | None = None,
                    draws: int = 0, seed: int = 0, scores: bool = True, joint: bool = True,
                    into: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> Evaluation:
    """Evaluate n candidates (see the module docstring).

    Parameters
    ----------
    cm : CompiledModel
    inputs : Inputs
    reference : ReferencePoint, optional
        The background of the SHAP contributions (default: the norm group's average candidate).
    draws, seed : int
        Re-measurements simulated for decision stability (0: none) and their seed. Every candidate sees
        the same draws (common random numbers), so a candidate's figure does not depend on the batch.
    scores : bool
        Whether the counterfactuals carry the value and the score each gives (one candidate's words show
        them; the batch shows the change only, and skips them).
    joint : bool
        Whether to solve the joint counterfactuals here; ``False`` leaves them to the caller, which solves
        the rows of many batches together (:func:`profiler.jobmodel.counterfactuals.joint_counterfactuals`).
    into : dict, optional
        Per direction, the arrays (n, inputs) the counterfactuals' changes and changes in SEMs are written
        into (a batch's output block), instead of new ones.
    """
    reference = reference or cm.norm_reference
    measured = inputs.measured
    X = np.where(measured, inputs.values, cm.means)
    U = cm.utilities_of(X)
    score = row_sum(U, cm.coef)  # a fixed order of additions: the same bits alone and in a batch
    contributions = (U - reference.utility) * cm.coef
    score_code = score_band(score, cm.lower, cm.upper)

    crit_measured = cm.by_criterion(measured)
    knock = crit_measured & (cm.by_criterion(X) < cm.minimum)  # NaN minimum: never
    missing_review = ~crit_measured & cm.review_if_missing
    unchecked = ~crit_measured & cm.unchecked_if_missing
    routed = row_any(knock) | row_any(missing_review) | row_any(unchecked)

    unknown = ~measured
    if unknown.any():
        d_lo = row_sum(unknown, cm.unknown_deltas[:, 0])
        d_hi = row_sum(unknown, cm.unknown_deltas[:, 1])
    else:
        d_lo = d_hi = np.zeros(len(score))
    score_min, score_max = score + d_lo, score + d_hi
    if cm.review_if_unknown_could_change:
        lower, upper = cm.lower - d_hi, cm.upper - d_lo
    else:
        lower, upper = np.full(len(score), cm.lower), np.full(len(score), cm.upper)
    uncertain = (score_band(score_min, cm.lower, cm.upper) != score_code) | \
        (score_band(score_max, cm.lower, cm.upper) != score_code)
    band_code = np.where(routed, REVIEW, score_band(score, lower, upper))
    in_margin = ((score >= cm.advance_from) & (score < cm.upper)) | \
        ((score >= cm.lower) & (score < cm.not_advance_below))

    sem = np.where(measured, inputs.sem, 0.0)
    spread = stability.score_slopes(cm, X) * sem  # each input's SEM in score points (0 where unmeasured)
    variance = row_sum(spread * spread)
    se = np.sqrt(variance)
    p_same = stability.p_same_recommendation(cm, X, sem, measured, score, band_code, lower, upper, spread, variance)
    label = stability.label_codes(p_same)
    result = Evaluation(
        X=X, measured=measured, expired=inputs.expired & ~np.isnan(inputs.values), sem=sem, U=U, score=score,
        contributions=contributions, base_value=reference.base_value, score_code=score_code,
        band_code=band_code, knock=knock, missing_review=missing_review, unchecked=unchecked,
        uncertain=uncertain, score_min=score_min, score_max=score_max, lower=lower, upper=upper,
        in_margin=in_margin, se=se, p_same=p_same, label=label,
    )  # fmt: skip
    if draws:
        sim = stability.simulate(cm, X, sem, measured, routed, band_code, lower, upper, draws=draws, seed=seed,
                                 U=U, score_code=score_code)
        result.p_flip_simulated, result.p_score_flip_simulated = sim.p_flip, sim.p_score_flip
    result.counterfactuals = counterfactual_sets(cm, result, inputs, scores=scores,
                                                  defer_joint=not joint, into=into)
    return result


__all__ = ["Evaluation", "Inputs", "evaluate_arrays", "score_band"]
