"""A loaded job model: its criteria, inputs and identity (evaluation lives in its own modules)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from pydantic import ValidationError

from profiler.artifacts import document_hash
from profiler.errors import ErrorDetail, JobModelError
from profiler.jobmodel.checks import check_effective_weights, effective_weights
from profiler.jobmodel.compiled import CompiledModel, compile_model
from profiler.jobmodel.evaluation import evaluate, evaluate_many, frame_inputs
from profiler.jobmodel.references import minimum_problems
from profiler.jobmodel.reference import ReferencePoint
from profiler.jobmodel.spec import Criterion, JobModelSpec
from profiler.questionnaire.questionnaire import Questionnaire

if TYPE_CHECKING:
    import pandas as pd

    from profiler.jobmodel.recommendation import Recommendation
    from profiler.norms import NormTable


def _validated(spec: JobModelSpec, source: str) -> JobModelSpec:
    """The spec validated again from its content: a spec made with ``model_construct`` (which skips validation)
    is held to the same rules, protected attributes and bounds included."""
    try:
        return JobModelSpec.model_validate(spec.model_dump(mode="python"))
    except ValidationError as exc:
        raise JobModelError([ErrorDetail(source, 0, 0, ".".join(str(part) for part in error["loc"]),
                                         str((error.get("ctx") or {}).get("error", error["msg"])))
                             for error in exc.errors(include_url=False)]) from None


class JobModel:
    """A validated job model bound to its questionnaire.

    Build one with :func:`profiler.load_job_model`. Immutable; :attr:`content_hash` identifies the
    normalized content so that every recommendation records exactly which model produced it.
    """

    def __init__(self, spec: JobModelSpec, questionnaire: Questionnaire, source: str = "<string>"):
        if not isinstance(spec, JobModelSpec):
            raise TypeError(f"spec must be a JobModelSpec, got {type(spec).__name__}")
        self.spec = _validated(spec, source)
        self.questionnaire = questionnaire
        self.source = source
        problems = minimum_problems(self.spec.model_dump(mode="json"), questionnaire)
        if problems:
            raise JobModelError([ErrorDetail(source, 0, 0, ".".join(map(str, path)), message)
                                 for path, message in problems])

    def __repr__(self) -> str:
        return (f"JobModel(id={self.id!r}, version={self.version!r}, criteria={len(self.criteria)}, "
                f"hash={self.content_hash[:19]}...)")

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def criteria(self) -> list[Criterion]:
        return list(self.spec.criteria)

    @cached_property
    def content_hash(self) -> str:
        """``sha256:<hex>`` of the normalized content (defaults filled in, keys sorted)."""
        return document_hash(self.spec)

    def identity(self) -> dict[str, str]:
        """What a recommendation records about the model and its questionnaire."""
        return {"job_model_id": self.id, "job_model_version": self.version, "job_model_hash": self.content_hash,
                **self.questionnaire.identity()}

    @cached_property
    def inputs(self) -> list[str]:
        """The inputs the model declares (``trait.X``, ``evidence.Y``), in criterion order, each once."""
        return list(dict.fromkeys(c.input for c in self.spec.criteria))

    @cached_property
    def evidence_specs(self) -> dict:
        """Declared evidence by id: the only evidence this model accepts."""
        return {e.id: e for e in self.spec.evidence}

    # Evaluation (profiler.jobmodel.evaluation, explanation, stability, checks) ---------------------------
    @cached_property
    def _compiled(self) -> CompiledModel:
        compiled = compile_model(self.spec, self.questionnaire, content_hash=self.content_hash)
        compiled.warnings = check_effective_weights(compiled)
        return compiled

    @property
    def norms(self) -> NormTable:
        """The norm group named by ``spec.norms``: it defines the average candidate and the trait SEMs."""
        return self._compiled.norms

    @property
    def warnings(self) -> list[str]:
        """Warnings about the model itself (a criterion carrying more than half the effective weight)."""
        return list(self._compiled.warnings)

    def effective_weights(self) -> pd.DataFrame:
        """Weight x spread of each criterion's utility in the norm group; see :mod:`profiler.jobmodel.checks`."""
        return effective_weights(self._compiled)

    # Reference points (profiler.jobmodel.reference) ----------------------------------------------------
    @property
    def norm_reference(self) -> ReferencePoint:
        """The default reference point: the norm group's average candidate."""
        return self._compiled.norm_reference

    def cohort_reference(self, frame: pd.DataFrame, *, description: str, as_of: Any = None) -> ReferencePoint:
        """A cohort (a frame as :meth:`evaluate_many` takes it) as the reference point of explanations.

        The base value becomes the cohort's mean score and each contribution is measured against the
        cohort's mean utility of its criterion. ``description`` says who the cohort is (it is printed with
        every explanation that uses it).
        """
        from profiler.jobmodel.evaluation import _as_date

        cm = self._compiled
        inputs = frame_inputs(cm, frame, _as_date(as_of))
        return cm.cohort_reference(np.where(inputs.measured, inputs.values, cm.means), description)

    def declared_reference(self, values: Mapping[str, float], *, description: str) -> ReferencePoint:
        """One declared reference candidate (input -> value, every input of the model) as the reference point."""
        cm = self._compiled
        given = {str(k) if "." in str(k) else f"trait.{k}": v for k, v in values.items()}
        refs = [info.ref for info in cm.inputs]
        unknown = sorted(set(given) - set(refs))
        missing = [ref for ref in refs if ref not in given]
        if unknown or missing:
            raise ValueError(f"a declared reference needs a value for every input of job model {self.id!r} "
                             f"and no other: missing {missing}, not inputs {unknown}")
        return cm.declared_reference(np.array([float(given[ref]) for ref in refs]), description)

    def evaluate(self, profile: Any, evidence: Mapping[str, Any] | None = None, *, as_of: Any = None,
                 draws: int = 5_000, seed: int = 0, reference: ReferencePoint | None = None) -> Recommendation:
        """The recommendation for one candidate, with its explanation.

        Parameters
        ----------
        profile : TraitProfile or mapping
            A :class:`profiler.norms.TraitProfile` placed against this model's norm group (only the scales
            the model uses are read; SEMs are the profile's), or a mapping ``scale id -> raw score``
            (``"Conscientiousness"`` or ``"trait.Conscientiousness"``; SEMs from the norm table). A scale
            left out, None or NaN is missing.
        evidence : mapping, optional
            Evidence id -> record (:class:`profiler.jobmodel.evidence.TestScoreRecord`, ...) or a mapping of
            its fields, for the evidence the model declares; evidence left out is missing.
        as_of : date, optional
            The evaluation date (default today): evidence dated later is refused, older evidence may expire.
        draws, seed : int
            Re-measurements simulated to check decision stability (0: none), and the seed (results are
            reproducible); the stability label reads the analytic figure, as :meth:`evaluate_many` does.
        reference : ReferencePoint, optional
            What the contributions are measured against (default: the norm group's average candidate; see
            :meth:`cohort_reference`, :meth:`declared_reference`).

        Returns
        -------
        Recommendation
            Band, score, base value, SHAP contributions (computed with shap), counterfactuals, stability,
            coverage, reasons, rater agreement, versions and hashes.

        Raises
        ------
        UndeclaredInputError
            An input the model does not declare (data minimisation).
        EvidenceError
            Evidence of the wrong kind, out of range, with too few raters, or dated after ``as_of``.
        """
        return evaluate(self._compiled, profile, evidence, as_of=as_of, draws=draws, seed=seed, reference=reference)

    def evaluate_many(self, frame: pd.DataFrame, *, as_of: Any = None, simulate: int = 0, seed: int = 0,
                      reference: ReferencePoint | str | None = None) -> pd.DataFrame:
        """Recommendations for many candidates at once, vectorized: one row per candidate (same index).

        Input columns (every one optional; only these are accepted):

        - ``trait.<scale id>``: raw scale score (SEM from the norm table);
        - ``trait.<scale id>.sem``: the person's own SEM of that score (an IRT-scored scale's, as
          :func:`profiler.norms.irt_norm_profiles` gives it; NaN: the norm table's);
        - ``evidence.<id>``: the evidence value: test score, mean interview rating, certification held
          (1/0), years of experience, education requirement met (1/0);
        - ``evidence.<id>.date``: date of the evidence (for ``max_age_days``);
        - ``evidence.<id>.raters``: number of interview raters (SEM by Spearman-Brown; default min_raters);
        - ``evidence.<id>.expires``: last valid day of a certification.

        NaN (or an absent column) is missing. Output columns: ``band``, ``score_band``, ``score``,
        ``contribution.<criterion>`` (closed-form SHAP values, identical to shap's), ``se_score``,
        ``p_flip`` (analytic), ``stability``, ``score_min`` / ``score_max`` (unknown inputs at plausible
        values), ``cf_up.<criterion>`` / ``cf_down.<criterion>`` (input change reaching the next band up /
        down, NaN if none or out of reach), ``cf_up_sem.<criterion>`` / ``cf_down_sem.<criterion>`` (the
        same in SEMs), ``in_review_margin``, ``n_missing``, ``n_expired``, ``n_imputed``,
        ``knock_out.<criterion>``, ``missing_review.<criterion>`` and, with ``simulate=draws``,
        ``p_flip_simulated``. ``.attrs`` holds the base value, the baseline, thresholds and versions.
        """
        return evaluate_many(self._compiled, frame, as_of=as_of, simulate=simulate, seed=seed, reference=reference)
