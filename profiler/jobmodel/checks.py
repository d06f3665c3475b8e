"""Checks of a job model that need its norms: effective weights, and a warning when one criterion dominates.

A written weight says how much a criterion *may* move the score; how much it *does* move it depends on how
much its utility varies among candidates. The effective weight of criterion ``i`` is the standard deviation
of ``w_i u_i(X_i)`` when ``X_i`` follows the norm distribution of its input:

- trait scales: the norm sample's empirical distribution (every attainable raw score with its share of the
  sample): an exact sum;
- 0/1 evidence (certification, education): Bernoulli(declared base rate): exact;
- other evidence (test scores, interview ratings, experience): the declared normal(mean, SD), clipped to the
  input's possible range, integrated numerically on 4,096 equal-probability quantiles (midpoints in
  probability, so kinks and clipping of the utility cost no accuracy).

``effective_share`` is each criterion's effective weight over their sum. When one criterion carries more
than half of it, it decides more than all the others together among typical candidates:
:class:`DominantCriterionWarning` is issued and the message is kept in ``JobModel.warnings``.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from profiler.jobmodel.compiled import CompiledModel

DOMINANCE_SHARE = 0.5


class DominantCriterionWarning(UserWarning):
    """One criterion carries more than half of a job model's effective weight."""


def effective_weights(cm: CompiledModel) -> pd.DataFrame:
    """One row per criterion: written weight and share, utility SD in the norm group, effective weight and share.

    Columns: ``input``, ``weight``, ``weight_share``, ``utility_mean``, ``utility_sd``, ``effective_weight``
    (``weight * utility_sd``), ``effective_share``, ``points_sd`` (SD of the criterion's contribution in
    score points, ``100 * effective_weight / sum w``), ``distribution`` (what the expectation was taken over).
    """
    rows = {}
    for c, cid in enumerate(cm.criterion_ids):
        j = cm.input_of[c]
        info = cm.inputs[j]
        x, prob = info.nodes()
        u = cm.utilities[c](x)
        mean = float(np.dot(prob, u))
        sd = float(np.sqrt(max(np.dot(prob, (u - mean) ** 2), 0.0)))
        rows[cid] = {
            "input": info.ref, "weight": cm.weights[c], "weight_share": cm.weights[c] / cm.total_weight,
            "utility_mean": mean, "utility_sd": sd, "effective_weight": cm.weights[c] * sd,
            "points_sd": cm.coef[c] * sd, "distribution": info.distribution_description,
        }  # fmt: skip
    table = pd.DataFrame.from_dict(rows, orient="index")
    total = table["effective_weight"].sum()
    table.insert(table.columns.get_loc("effective_weight") + 1, "effective_share",
                 table["effective_weight"] / total if total > 0 else np.nan)
    table.index.name = "criterion"
    return table


def dominance_messages(table: pd.DataFrame, model_id: str) -> list[str]:
    """A message for each criterion carrying more than half of the effective weight (at most one)."""
    out = []
    for cid, row in table.iterrows():
        if row["effective_share"] > DOMINANCE_SHARE:
            out.append(
                f"job model {model_id!r}: criterion {cid!r} carries {100 * row['effective_share']:.0f}% of the "
                f"effective weight (written weight share {100 * row['weight_share']:.0f}%, utility SD "
                f"{row['utility_sd']:.2f} in the norm group): among typical candidates it decides more than all "
                "other criteria together; check that the job analysis intends this"
            )
    return out


def check_effective_weights(cm: CompiledModel) -> list[str]:
    """Issue :class:`DominantCriterionWarning` for a dominating criterion; return the messages."""
    messages = dominance_messages(effective_weights(cm), cm.job_model_id)
    for message in messages:
        warnings.warn(message, DominantCriterionWarning, stacklevel=4)
    return messages


__all__ = ["DOMINANCE_SHARE", "DominantCriterionWarning", "check_effective_weights", "dominance_messages",
           "effective_weights"]
