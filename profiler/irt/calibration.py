"""IRT calibrations of a questionnaire's scales: one sealed, hashed JSON artifact per scale.

:func:`calibrate_irt` fits a GRM (or GPCM) to each domain scale of a questionnaire on a calibration
sample, with the questionnaire's keying applied first (a reverse-keyed answer x becomes min + max - x,
so every slope is positive and theta runs in the scale's direction). Each scale's result is an
:class:`IRTCalibration`: item parameters with their standard errors, the model's fit (M2*/C2, S-X2,
reliabilities) and what it was fitted on, sealed with its sha256 (:mod:`profiler.artifacts`). Its
:meth:`~IRTCalibration.bank` is the scale's item bank, taking raw answers (a reverse-keyed item lists
its answers from the highest down), so scoring needs no keying step.

Bundled calibrations live in ``models/<questionnaire>/irt/<scale>.json`` and load by questionnaire id
(:func:`load_irt_calibrations`); ``profiler irt fit`` writes the same files for any questionnaire.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from profiler.artifacts import SealedArtifact
from profiler.documents import did_you_mean
from profiler.errors import ProfilerError
from profiler.irt.bank import ItemBank
from profiler.irt.models import GPCM, GRM
from profiler.irt.scoring import score_responses
from profiler.questionnaire.questionnaire import Questionnaire
from profiler.questionnaire.scoring import validate_responses
from profiler.resources import by_id, model_files

FORMAT = "profiler.irt-calibration/1"
MODELS = {"graded": GRM, "gpcm": GPCM}


class IRTCalibrationError(ProfilerError, ValueError):
    """An IRT calibration that cannot be used: malformed, edited after sealing, or for other content."""


@dataclass(frozen=True)
class IRTCalibration(SealedArtifact):
    """The IRT calibration of one scale of one questionnaire content (a sealed JSON artifact).

    Attributes
    ----------
    name, version : str
        Name of the calibration (e.g. ``"big5-2012"``) and its version.
    questionnaire : dict
        ``questionnaire_id``, ``questionnaire_version``, ``content_hash`` it applies to.
    scale : str
        The scale calibrated.
    model : str
        ``"graded"`` or ``"gpcm"``.
    items : list of dict
        Per item: ``id``, ``key`` (+1 or -1), ``answers`` (the raw answer of each category, in the keyed
        order), ``a``, ``d``, ``b``, ``se_a``, ``se_d``.
    estimation : dict
        Method and settings (quadrature, tolerance, cycles, convergence, SE type).
    sample : dict
        ``n`` (rows with an answer on the scale), ``rows_read``, ``answers_invalid`` (treated as missing),
        ``answers_missing``, ``source``.
    fit : dict
        ``loglik``, ``aic``, ``bic``, ``m2`` (M2* where it has degrees of freedom, else C2), ``c2``,
        ``itemfit`` (S-X2 per item), ``marginal_reliability``, ``empirical_reliability``.
    created : str
    sha256 : str
    """

    name: str
    version: str
    questionnaire: dict[str, str]
    scale: str
    model: str
    items: list[dict[str, Any]]
    estimation: dict[str, Any]
    sample: dict[str, Any]
    fit: dict[str, Any]
    created: str
    sha256: str = ""
    format: str = field(default=FORMAT)

    artifact_what = "IRT calibration"
    artifact_format = FORMAT
    artifact_error = IRTCalibrationError
    artifact_made = "calibrated"
    artifact_one_line = "numbers"

    def check_loaded(self, source: str) -> None:
        """The item parameters make a valid item bank."""
        try:
            self.bank()
        except (ProfilerError, KeyError, TypeError, ValueError) as exc:
            raise IRTCalibrationError(f"{source}: malformed item parameters ({exc})") from None

    # Use -------------------------------------------------------------------------------------------
    def bank(self) -> ItemBank:
        """The scale's item bank; it takes raw answers (keying is in each item's answer order)."""
        return ItemBank([i["id"] for i in self.items], [self.model] * len(self.items), [i["a"] for i in self.items],
                        [i["d"] for i in self.items], [i["answers"] for i in self.items])

    def check_applies_to(self, questionnaire: Questionnaire) -> None:
        """Refuse a questionnaire whose content differs from the one calibrated."""
        if questionnaire.content_hash != self.questionnaire["content_hash"]:
            raise IRTCalibrationError(
                f"IRT calibration {self.name!r} ({self.scale}) was made for {self.questionnaire['questionnaire_id']} "
                f"with content {self.questionnaire['content_hash']}, not {questionnaire.content_hash}")

    def score(self, questionnaire: Questionnaire, responses: pd.DataFrame, method: str = "EAP") -> pd.DataFrame:
        """theta, SE and items answered for each respondent on this scale (answers the questionnaire
        does not allow are an error, unanswered items drop out)."""
        self.check_applies_to(questionnaire)
        answers = validate_responses(questionnaire, responses, invalid="allow-unanswered")
        return score_responses(self.bank(), answers[[i["id"] for i in self.items]], method)

    def params(self) -> pd.DataFrame:
        """items x ``a1, d1..dk`` with each item's key (the keyed direction's parameters)."""
        table = self.bank().params()
        table.insert(0, "key", [i["key"] for i in self.items])
        return table


def calibrate_irt(questionnaire: Questionnaire, responses: pd.DataFrame, *, name: str, source: str,
                  model: str = "graded", version: str = "1.0.0", scales: list[str] | None = None,
                  se: str = "oakes") -> dict[str, IRTCalibration]:
    """Calibrate an IRT model for each domain scale (or the named ``scales``) of a questionnaire.

    Parameters
    ----------
    questionnaire : Questionnaire
    responses : DataFrame
        The calibration sample, item ids as columns. Answers the questionnaire does not allow (e.g. a 0
        coding "missed") are treated as missing and counted; missing answers stay out of the likelihood.
    name, source : str
        Name of the calibration and a description of the sample.
    model : {"graded", "gpcm"}
    version : str
    scales : list of str, optional
        Scale ids; default every domain (a scale that is nobody's facet).
    se : {"oakes", "crossprod"}

    Returns
    -------
    dict
        Scale id -> :class:`IRTCalibration`.
    """
    if model not in MODELS:
        raise IRTCalibrationError(f"unknown IRT model {model!r}; one of {list(MODELS)}")
    domains = [s.id for s in questionnaire.scales if s.id not in questionnaire.parent_of]
    chosen = list(scales) if scales else domains
    unknown = [s for s in chosen if s not in questionnaire.scale_ids]
    if unknown:
        named = ", ".join(f"{s!r}{did_you_mean(s, questionnaire.scale_ids)}" for s in unknown)
        raise IRTCalibrationError(f"unknown scale(s) {named}; the questionnaire has {', '.join(questionnaire.scale_ids)}")
    answers = validate_responses(questionnaire, responses, invalid="missing")
    created = datetime.now(UTC).date().isoformat()
    out = {}
    for scale in chosen:
        keyed = questionnaire.keys(scale)
        items = [k.item for k in keyed]
        raw = answers[items]
        invalid = int((raw.isna() & responses.reindex(columns=items).notna()).to_numpy().sum())
        data = raw.copy()
        for k in keyed:
            if k.sign < 0:
                low, high = questionnaire.item_range(k.item)
                data[k.item] = low + high - data[k.item]
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)  # an unconverged calibration must not be sealed
            fitted = MODELS[model](se=se).fit(data)
        out[scale] = _seal_scale(questionnaire, scale, keyed, fitted, name=name, version=version, source=source,
                                 created=created, rows_read=len(responses), invalid=invalid,
                                 missing=int(raw.isna().to_numpy().sum()) - invalid)
    return out


def _seal_scale(questionnaire, scale, keyed, fitted, *, name, version, source, created, rows_read, invalid,
                missing) -> IRTCalibration:
    items = []
    for k in keyed:
        low, high = questionnaire.item_range(k.item)
        categories = fitted.categories_[k.item]
        raw_answers = categories if k.sign > 0 else low + high - categories
        n_d = len(categories) - 1
        params = fitted.params_.loc[k.item].to_numpy()[: n_d + 1]
        se = fitted.se_.loc[k.item].to_numpy()[: n_d + 1]
        b = fitted.irt_params_.loc[k.item].to_numpy()[1 : n_d + 1]
        items.append({"id": k.item, "key": int(k.sign), "answers": [_number(v) for v in raw_answers],
                      "a": float(params[0]), "d": [float(v) for v in params[1:]], "b": [float(v) for v in b],
                      "se_a": float(se[0]), "se_d": [float(v) for v in se[1:]]})
    itemfit = fitted.itemfit()
    fit = {"loglik": fitted.loglik_, "aic": fitted.aic_, "bic": fitted.bic_, "m2": fitted.m2(), "c2": fitted.m2("C2"),
           "itemfit": {item: {c: float(itemfit.loc[item, c]) for c in ("S_X2", "df", "RMSEA", "p")} for item in itemfit.index},
           "marginal_reliability": fitted.marginal_reliability(), "empirical_reliability": fitted.empirical_reliability()}
    estimation = {"method": "marginal maximum likelihood, EM over fixed quadrature (Bock-Aitkin) as R mirt 1.47",
                  "quadrature": fitted.quadrature, "theta_range": list(fitted.theta_range), "tol": fitted.tol,
                  "n_iter": fitted.n_iter_, "converged": bool(fitted.converged_), "se": fitted.se,
                  "latent": "theta ~ N(0, 1) in the calibration sample"}
    sample = {"n": fitted.n_obs_, "rows_read": rows_read, "rows_without_answers": fitted.n_empty_rows_,
              "answers_invalid": invalid, "answers_missing": missing, "source": source}
    return IRTCalibration.seal(name=name, version=version, questionnaire=questionnaire.identity(), scale=scale,
                               model=fitted.bank_.models[0], items=items, estimation=estimation, sample=sample,
                               fit=_plain(fit), created=created)


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def _plain(value: Any) -> Any:
    """JSON-ready: numpy scalars as Python numbers, NaN as None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not np.isfinite(value) else float(value)
    return value


def write_calibrations(calibrations: dict[str, IRTCalibration], folder: str | Path) -> list[Path]:
    """Write each scale's artifact as ``<folder>/<scale>.json``."""
    return [calibration.write(Path(folder) / f"{scale}.json") for scale, calibration in calibrations.items()]


def bundled_irt_calibrations() -> dict[str, Path]:
    """Folders of bundled IRT calibrations (and those in the ``PROFILER_PATH`` folders) by questionnaire id
    (``models/<id>/irt/``)."""
    return by_id([p for p in model_files("*/irt") if p.is_dir()], lambda path: path.parent.name,
                 "IRT calibration of")


def load_irt_calibrations(questionnaire_id_or_folder: str | Path) -> dict[str, IRTCalibration]:
    """Every scale's calibration: a bundled questionnaire id (e.g. ``"ipip-bfm-50"``) or a folder of artifacts."""
    bundled = bundled_irt_calibrations()
    key = str(questionnaire_id_or_folder)
    folder = bundled[key] if key in bundled else Path(key)
    if not folder.is_dir():
        raise IRTCalibrationError(f"no bundled IRT calibration {key!r} and no such folder "
                                  f"(bundled: {', '.join(bundled) or 'none'})")
    files = sorted(folder.glob("*.json"))
    if not files:
        raise IRTCalibrationError(f"{folder}: no IRT calibration files (*.json)")
    calibrations = [IRTCalibration.read(f) for f in files]
    return {c.scale: c for c in calibrations}


def load_irt_calibration(questionnaire_id_or_path: str | Path, scale: str | None = None) -> IRTCalibration:
    """One scale's calibration: an artifact's path, or a bundled questionnaire id (or folder) with ``scale``."""
    path = Path(str(questionnaire_id_or_path))
    if path.is_file():
        calibration = IRTCalibration.read(path)
        if scale is not None and calibration.scale != scale:
            raise IRTCalibrationError(f"{path} calibrates {calibration.scale!r}, not {scale!r}")
        return calibration
    calibrations = load_irt_calibrations(questionnaire_id_or_path)
    if scale is None or scale not in calibrations:
        what = "name a scale" if scale is None else f"no scale {scale!r}"
        raise IRTCalibrationError(f"{questionnaire_id_or_path}: {what}; calibrated scales: {', '.join(calibrations)}")
    return calibrations[scale]
