"""Simulated respondents for demonstrations and tests: plausible answers without any real person's data.

Two generators:

* ``realistic`` (when a calibration with item means and covariances exists, e.g. the bundled one of
  ipip-bfm-50 derived from BIG5): answers drawn from a multivariate normal with the calibration sample's
  item means and covariances, rounded to the nearest option and clipped to the scale. Simulated people
  then look like the calibration sample (item means, correlations, how often validity checks fire).
* ``latent`` (otherwise): one standard-normal trait per scale; an item's latent response is its keying
  sign times that trait plus noise, cut into the options at evenly spaced normal quantiles (every option
  equally common).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from profiler.questionnaire.spec import LikertFormat, NumberFormat
from profiler.questionnaire.questionnaire import Questionnaire


def simulate_responses(
    questionnaire: Questionnaire,
    n_respondents: int,
    *,
    loading: float = 0.7,
    seed: int | None = 0,
    trait_means: dict[str, float] | None = None,
    method: str = "auto",
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
        Shift per scale id in standard deviations (default 0), to simulate a group that differs: keyed items
        move up, reverse-keyed items down.
    method : {"auto", "realistic", "latent"}
        ``auto`` uses ``realistic`` when a bundled validity calibration of the questionnaire exists.
    """
    if method not in ("auto", "realistic", "latent"):
        raise ValueError(f"method={method!r}; use 'auto', 'realistic' or 'latent'")
    calibration = _calibration(questionnaire) if method != "latent" else None
    if method == "realistic" and calibration is None:
        raise ValueError(f"no calibration with item means and covariances exists for {questionnaire.id!r}")
    if calibration is not None:
        return _realistic(questionnaire, calibration, n_respondents, seed, trait_means or {})
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
        for keyed in questionnaire.keys(scale_id, include_excluded=True):
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


def _calibration(questionnaire: Questionnaire):
    from profiler.administration.validity import bundled_validity_calibrations, load_validity_calibration

    if questionnaire.id not in bundled_validity_calibrations():
        return None
    calibration = load_validity_calibration(questionnaire.id)
    return calibration if set(calibration.items) == set(questionnaire.scored_items) else None


def _realistic(questionnaire: Questionnaire, calibration, n: int, seed: int | None, shifts: dict) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    items = list(calibration.items)
    mean = calibration.mean.loc[items].to_numpy(dtype=float)
    cov = calibration.covariance.loc[items, items].to_numpy(dtype=float)
    sd = np.sqrt(np.diag(cov))
    for scale_id, shift in shifts.items():
        for keyed in questionnaire.keys(scale_id):
            if keyed.item in items:
                mean[items.index(keyed.item)] += keyed.sign * shift * sd[items.index(keyed.item)]
    draws = rng.multivariate_normal(mean, cov, size=n, method="cholesky")
    columns = {}
    for j, item_id in enumerate(items):
        values = np.array([o.value for o in questionnaire.response_format(item_id).options], dtype=float)
        nearest = np.abs(draws[:, j, None] - values[None, :]).argmin(axis=1)
        columns[item_id] = values[nearest]
    for item_id in questionnaire.validity_items:
        expected = questionnaire.item(item_id).validity.expected
        columns[item_id] = np.full(n, expected[0] if isinstance(expected, list) else expected, float)
    frame = pd.DataFrame(columns, index=pd.RangeIndex(n, name="respondent"))
    return frame[questionnaire.item_ids]


def _to_answers(fmt, latent: np.ndarray) -> np.ndarray:
    if isinstance(fmt, LikertFormat):
        values = np.array([o.value for o in fmt.options], dtype=float)
        cuts = stats.norm.ppf(np.arange(1, len(values)) / len(values))
        return values[np.searchsorted(cuts, latent)]
    if isinstance(fmt, NumberFormat):
        scaled = fmt.min + (fmt.max - fmt.min) * stats.norm.cdf(latent)
        return np.round(scaled) if fmt.integer else scaled
    return (latent > 0).astype(float)


def simulated_evidence(model_id: str, rng: np.random.Generator) -> dict:
    """Plausible skill evidence for one candidate and one of the bundled job models (``customer-support``,
    ``software-engineer``), dated in October and November 2026: assess it as of a day after that."""
    def clip(x: float, lo: float, hi: float) -> float:
        return float(min(max(x, lo), hi))

    def ratings(mean: float) -> dict:
        return {f"rater-{k}": int(clip(round(rng.normal(mean, 0.7)), 1, 5)) for k in (1, 2)}

    if model_id == "customer-support":
        return {
            "email_work_sample": {"score": round(clip(rng.normal(60, 15), 0, 100)), "source": "work-sample platform",
                                  "date": "2026-11-02"},
            "interview_customer_focus": {"ratings": ratings(rng.normal(3.2, 0.6)), "source": "interview panel",
                                         "date": "2026-11-05"},
            "support_experience": {"years": round(clip(rng.gamma(1.2, 2.1), 0, 40), 1), "source": "CV",
                                   "date": "2026-10-28"},
        }
    return {
        "coding_work_sample": {"score": round(clip(rng.normal(55, 18), 0, 100)), "source": "take-home review",
                               "date": "2026-11-03"},
        "interview_system_design": {"ratings": ratings(rng.normal(3.0, 0.7)), "source": "interview panel",
                                    "date": "2026-11-06"},
        "reasoning_test": {"score": round(clip(rng.normal(22, 7), 0, 40)), "source": "test publisher",
                           "date": "2026-11-01"},
        "engineering_experience": {"years": round(clip(rng.gamma(1.5, 2.7), 0, 45), 1), "source": "CV",
                                   "date": "2026-10-28"},
        "cloud_certification": {"held": bool(rng.random() < 0.3), "expires": "2028-06-30",
                                "source": "certificate", "date": "2026-02-11"},
    }
