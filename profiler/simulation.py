"""Simulated respondents for demonstrations and tests: plausible answers from latent traits.

Each respondent has one standard-normal trait per scale; an item's latent response is its keying sign
times the trait of its scale plus noise, cut into the response options at evenly spaced normal
quantiles. The result looks like real Likert data (items of a scale correlate, reverse-keyed items
correlate negatively) without using any real person's answers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from profiler.questionnaire.model import LikertFormat, NumberFormat
from profiler.questionnaire.questionnaire import Questionnaire


def simulate_responses(
    questionnaire: Questionnaire,
    n_respondents: int,
    *,
    loading: float = 0.7,
    seed: int | None = 0,
    trait_means: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Answers of ``n_respondents`` simulated people, one column per item (validity items answered as expected).

    Parameters
    ----------
    questionnaire : Questionnaire
    n_respondents : int
    loading : float
        Standardized loading of each item on its scale's trait (0 < loading < 1).
    seed : int or None
        Seed of ``numpy.random.default_rng``; the same seed gives the same answers.
    trait_means : dict, optional
        Mean of the latent trait per scale id (default 0), to simulate a group that differs.
    """
    if not 0 < loading < 1:
        raise ValueError(f"loading must lie strictly between 0 and 1, got {loading}")
    rng = np.random.default_rng(seed)
    trait_means = trait_means or {}
    top_scales = [s.id for s in questionnaire.scales if s.id not in questionnaire.parent_of]
    traits = {
        scale_id: rng.standard_normal(n_respondents) + trait_means.get(scale_id, 0.0) for scale_id in top_scales
    }
    home: dict[str, tuple[str, int]] = {}
    for scale_id in top_scales:
        for keyed in questionnaire.keys(scale_id):
            home.setdefault(keyed.item, (scale_id, keyed.sign))
    columns = {}
    noise_sd = np.sqrt(1 - loading**2)
    for item_id in questionnaire.item_ids:
        fmt = questionnaire.response_format(item_id)
        item = questionnaire.item(item_id)
        if item.validity is not None:
            expected = item.validity.expected
            columns[item_id] = np.full(n_respondents, expected[0] if isinstance(expected, list) else expected, float)
            continue
        scale_id, sign = home[item_id]
        latent = sign * loading * traits[scale_id] + noise_sd * rng.standard_normal(n_respondents)
        columns[item_id] = _to_answers(fmt, latent)
    return pd.DataFrame(columns, index=pd.RangeIndex(n_respondents, name="respondent"))


def _to_answers(fmt, latent: np.ndarray) -> np.ndarray:
    if isinstance(fmt, LikertFormat):
        values = np.array([o.value for o in fmt.options], dtype=float)
        cuts = stats.norm.ppf(np.arange(1, len(values)) / len(values))
        return values[np.searchsorted(cuts, latent)]
    if isinstance(fmt, NumberFormat):
        scaled = fmt.min + (fmt.max - fmt.min) * stats.norm.cdf(latent)
        return np.round(scaled) if fmt.integer else scaled
    return (latent > 0).astype(float)
