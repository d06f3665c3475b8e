"""Scoring without the items an audit flagged (e.g. DIF class C), leaving the questionnaire file untouched.

The flagged items stay in the questionnaire (still administered, answers still validated and stored) but
leave every scale's key list, so that scale means are taken over the remaining items, with the scale's
``min_answered`` share applied to the shorter key list and sums prorated to it. The derived questionnaire
has its own content hash, so scores record that they came from the reduced scoring::

    result = profiler.fairness.dif(responses, questionnaire, groups)
    exclude = result.flagged("C")                      # e.g. ["E9"]
    scores = score_without(questionnaire, responses, exclude)

Norms built on the full scales do not fit the reduced ones: build norms for the reduced scoring before
turning its scores into T-scores or percentiles.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from profiler.questionnaire.questionnaire import Questionnaire
from profiler.questionnaire.references import parse_key

__all__ = ["score_without", "without_items"]


def without_items(questionnaire: Questionnaire, exclude: Iterable[str]) -> Questionnaire:
    """A copy of ``questionnaire`` whose scales no longer key the ``exclude`` items.

    Raises
    ------
    KeyError
        An excluded id is not an item of the questionnaire.
    ValueError
        A scale would be left with no items.
    """
    exclude = list(dict.fromkeys(exclude))
    unknown = [i for i in exclude if i not in questionnaire.item_ids]
    if unknown:
        raise KeyError(f"questionnaire {questionnaire.id!r} has no items {unknown}")
    drop = set(exclude)
    scales = []
    for scale in questionnaire.spec.scales:
        if scale.keys is None:
            scales.append(scale)
            continue
        kept = [key for key in scale.keys if parse_key(key)[1] not in drop]
        if not kept:
            raise ValueError(f"excluding {sorted(drop)} leaves scale {scale.id!r} without items")
        scales.append(scale.model_copy(update={"keys": kept}))
    spec = questionnaire.spec.model_copy(update={"scales": scales})
    return Questionnaire(spec, source=f"{questionnaire.source} without {', '.join(exclude) or 'nothing'}")


def score_without(
    questionnaire: Questionnaire, responses: pd.DataFrame, exclude: Iterable[str], *, invalid: str = "raise"
) -> pd.DataFrame:
    """Scale scores as :meth:`Questionnaire.score`, with the ``exclude`` items left out of every scale.

    ``.attrs`` records the questionnaire identity (with the reduced scoring's content hash) and
    ``excluded_items``.
    """
    exclude = list(dict.fromkeys(exclude))
    scores = without_items(questionnaire, exclude).score(responses, invalid=invalid)
    scores.attrs["excluded_items"] = exclude
    return scores
