"""Calibrating a questionnaire in one call: EFA and CFA by its scales, reliability per scale, factor scoring.

:func:`calibrate_questionnaire` fits, on a calibration sample,

* an exploratory factor analysis with one factor per top-level scale (domain), its factors matched to
  the scales by Tucker congruence with the keying (so they carry the scales' names and signs);
* a confirmatory factor analysis with each item loading on its scale's factor (lavaan defaults);
* per scale Cronbach's alpha (with Feldt's interval), omega total and the SEM of the raw scale score;
* the CFA's regression (Thurstone) factor-score weights, so that :meth:`FactorModel.factor_scores`
  reproduces ``lavaan::lavPredict(fit, newdata)`` for new respondents without refitting.

The result is a :class:`FactorModel`, a versioned JSON artifact sealed with its sha256 (see
:mod:`profiler.artifacts`) that saves under ``models/<questionnaire>/`` and loads back identical.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from profiler.artifacts import SealedArtifact
from profiler.errors import ProfilerError
from profiler.factors.cfa import CFA
from profiler.factors.efa import EFA
from profiler.factors.omega import omega
from profiler.factors.reliability import cronbach_alpha
from profiler.questionnaire.questionnaire import Questionnaire
from profiler.questionnaire.scoring import validate_responses
from profiler.resources import by_id, model_files

FORMAT = "profiler.factor-model/1"


class FactorModelError(ProfilerError, ValueError):
    """A factor-model artifact that cannot be used: malformed, edited after sealing, or for other content."""


@dataclass(frozen=True)
class FactorModel(SealedArtifact):
    """A calibrated factor model of one questionnaire content (a sealed JSON artifact).

    Attributes
    ----------
    name, version : str
        Name of the calibration (e.g. ``"big5-2012"``) and its version.
    questionnaire : dict
        ``questionnaire_id``, ``questionnaire_version``, ``content_hash`` it applies to.
    sample : dict
        ``n``, ``rows_read``, ``rows_excluded`` and a ``source`` description.
    efa : dict
        Method, rotation, loadings and phi by scale name, congruence with the keying, fit statistics.
    cfa : dict
        lavaan model syntax, fit indices, standardized loadings.
    reliability : dict
        Per scale: alpha, its interval, standardized alpha, omega total, scale SD and SEM (raw units).
    scoring : dict
        ``item_means`` and regression ``weights`` (item -> factor -> weight): scores = (x - means) @ weights.
    created : str
        ISO date of the calibration.
    sha256 : str
        ``sha256:`` of the canonical JSON of everything else.
    """

    name: str
    version: str
    questionnaire: dict[str, str]
    sample: dict[str, Any]
    efa: dict[str, Any]
    cfa: dict[str, Any]
    reliability: dict[str, dict[str, float]]
    scoring: dict[str, Any]
    created: str
    sha256: str = ""
    format: str = field(default=FORMAT)

    artifact_what = "factor model"
    artifact_format = FORMAT
    artifact_error = FactorModelError
    artifact_made = "calibrated"

    # Use -------------------------------------------------------------------------------------------
    @property
    def factor_names(self) -> list[str]:
        return list(self.efa["factors"])

    def check_applies_to(self, questionnaire: Questionnaire) -> None:
        """Refuse a questionnaire whose content differs from the one calibrated."""
        if questionnaire.content_hash != self.questionnaire["content_hash"]:
            raise FactorModelError(
                f"factor model {self.name!r} was calibrated on {self.questionnaire['questionnaire_id']} "
                f"with content {self.questionnaire['content_hash']}, not {questionnaire.content_hash}"
            )

    def factor_scores(self, questionnaire: Questionnaire, responses: pd.DataFrame) -> pd.DataFrame:
        """Regression factor scores of new respondents (NaN for a respondent with a missing item).

        In R: ``lavaan::lavPredict(fit, newdata = responses, method = "regression")``.
        """
        self.check_applies_to(questionnaire)
        answers = validate_responses(questionnaire, responses)
        items = list(self.scoring["item_means"])
        weights = pd.DataFrame(self.scoring["weights"]).T.loc[items, self.factor_names].to_numpy()
        centred = answers[items].to_numpy() - np.array([self.scoring["item_means"][i] for i in items])
        return pd.DataFrame(centred @ weights, index=responses.index, columns=self.factor_names)


def calibrate_questionnaire(
    questionnaire: Questionnaire,
    responses: pd.DataFrame,
    *,
    name: str,
    source: str,
    version: str = "1.0.0",
    method: str = "minres",
    rotation: str = "oblimin",
    random_state: int = 0,
) -> FactorModel:
    """Calibrate a questionnaire's factor model and reliabilities on a sample, in one call.

    Parameters
    ----------
    questionnaire : Questionnaire
    responses : DataFrame
        The calibration sample: one row per respondent, item ids as columns. Rows with an unanswered or
        invalid answer to a scored item are left out (listwise; counted in ``sample``), never imputed.
    name, source : str
        Name of the calibration and a description of the sample (population, dates, selection).
    version : str
    method, rotation : str
        EFA extraction and rotation (psych::fa's ``fm`` and ``rotate``).
    random_state : int
        Seed of the rotation's random starts.

    Returns
    -------
    FactorModel
    """
    # Unanswered or invalid answers exclude the row (listwise, counted in ``sample``); nothing is imputed.
    answers = validate_responses(questionnaire, responses, invalid="missing")
    domains = [s.id for s in questionnaire.scales if s.id not in questionnaire.parent_of]
    items = [i for i in questionnaire.scored_items if any(k.item == i for d in domains for k in questionnaire.keys(d))]
    complete = answers[items].dropna()
    if len(complete) < 2 * len(items):
        raise ValueError(f"{len(complete)} complete rows are too few to calibrate {len(items)} items")
    efa = _efa_by_scales(questionnaire, complete, domains, method, rotation, random_state)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an inadmissible CFA must not be sealed into an artifact
        cfa = CFA.from_questionnaire(questionnaire, domains).fit(complete)
    reliability = _reliability(questionnaire, complete, domains)
    return FactorModel.seal(
        name=name,
        version=version,
        questionnaire=questionnaire.identity(),
        sample={"n": len(complete), "rows_read": len(responses), "rows_excluded": len(responses) - len(complete),
                "source": source},
        efa=efa,
        cfa=_cfa_summary(cfa),
        reliability=reliability,
        scoring=_regression_weights(cfa, complete, domains),
        created=datetime.now(UTC).date().isoformat(),
    )


def _efa_by_scales(questionnaire, data, domains, method, rotation, random_state) -> dict[str, Any]:
    efa = EFA(n_factors=len(domains), method=method, rotation=rotation, random_state=random_state).fit(data)
    loadings = efa.loadings_.to_numpy()
    keying = np.array([[next((k.sign for k in questionnaire.keys(d) if k.item == item), 0) for d in domains]
                       for item in data.columns], dtype=float)
    # Tucker congruence between each factor's loadings and each scale's keying vector.
    congruence = (loadings.T @ keying) / np.outer(np.linalg.norm(loadings, axis=0), np.linalg.norm(keying, axis=0))
    rows, cols = linear_sum_assignment(-np.abs(congruence))
    order = np.empty(len(domains), dtype=int)
    order[cols] = rows
    signs = np.sign(congruence[order, np.arange(len(domains))])
    matched = loadings[:, order] * signs
    phi = efa.phi_.to_numpy()[np.ix_(order, order)] * np.outer(signs, signs)
    stats = {name: float(getattr(efa, f"{name}_")) for name in ("chi_square", "dof", "p_value", "rmsea", "tli", "bic")}
    return {
        "method": method,
        "rotation": rotation,
        "factors": domains,
        "loadings": {item: dict(zip(domains, map(float, row), strict=True)) for item, row in zip(data.columns, matched, strict=True)},
        "phi": {a: dict(zip(domains, map(float, row), strict=True)) for a, row in zip(domains, phi, strict=True)},
        "congruence_with_keys": {d: float(abs(congruence[order[j], j])) for j, d in enumerate(domains)},
        "fit": stats,
    }


def _cfa_summary(cfa: CFA) -> dict[str, Any]:
    loadings = cfa.estimates_[cfa.estimates_["op"] == "=~"]
    return {
        "model": "\n".join(f"{f} =~ " + " + ".join(loadings.loc[loadings.lhs == f, "rhs"]) for f in cfa.latent_names_),
        "fit_indices": {k: float(v) for k, v in cfa.fit_indices_.items()},
        "std_loadings": {f"{r.lhs}=~{r.rhs}": float(r.std_all) for r in loadings.itertuples()},
    }


def _regression_weights(cfa: CFA, data: pd.DataFrame, domains: list[str]) -> dict[str, Any]:
    # Regression scores are affine in the answers: probe the fitted model at the means and at each unit vector.
    means = data.mean()
    names = list(cfa.feature_names_in_)
    probe = pd.DataFrame(np.vstack([means[names].to_numpy(), means[names].to_numpy() + np.eye(len(names))]),
                         columns=names)
    scores = cfa.transform(probe)[domains].to_numpy()
    weights = scores[1:] - scores[0]
    return {
        "method": "regression (Thurstone), as lavaan::lavPredict",
        "item_means": {i: float(means[i]) for i in names},
        "weights": {i: dict(zip(domains, map(float, w), strict=True)) for i, w in zip(names, weights, strict=True)},
    }


def _reliability(questionnaire: Questionnaire, data: pd.DataFrame, domains: list[str]) -> dict[str, dict[str, float]]:
    out = {}
    scores = questionnaire.score(data.reindex(columns=questionnaire.item_ids), invalid="missing")
    for domain in domains:
        keys = [str(k) for k in questionnaire.keys(domain)]
        first = questionnaire.keys(domain)[0].item
        item_range = questionnaire.item_range(first)
        alpha = cronbach_alpha(data, keys, item_range=item_range)
        total = omega(data, 1, keys=keys, item_range=item_range).omega_total
        sd = float(scores[domain].std(ddof=1))
        out[domain] = {
            "alpha": float(alpha.raw_alpha), "alpha_ci_lower": float(alpha.ci_lower),
            "alpha_ci_upper": float(alpha.ci_upper), "std_alpha": float(alpha.std_alpha),
            "omega_total": float(total), "scale_sd": sd, "sem": sd * float(np.sqrt(1 - alpha.raw_alpha)),
        }
    return out


def bundled_factor_models() -> dict[str, Path]:
    """Paths of bundled factor models (and those in the ``PROFILER_PATH`` folders) by questionnaire id
    (``models/<id>/factor-model.json``)."""
    return by_id(model_files("*/factor-model.json"), lambda path: path.parent.name, "factor model of")


def load_factor_model(questionnaire_id_or_path: str | Path) -> FactorModel:
    """Load the bundled factor model of a questionnaire id, or an artifact by path."""
    bundled = bundled_factor_models()
    key = str(questionnaire_id_or_path)
    return FactorModel.read(bundled[key] if key in bundled else Path(key))
