"""A job model compiled to arrays: inputs, weights, utilities, minimums, the average candidate, thresholds.

:func:`compile_model` binds a job model's document (:class:`~profiler.jobmodel.spec.JobModelSpec`) and its
questionnaire to a norm group. The evaluation, explanation, stability and checks modules read the resulting
:class:`CompiledModel`; none of them needs the :class:`~profiler.jobmodel.JobModel` class that calls them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import special

from profiler.artifacts import document_hash
from profiler.jobmodel.contributions import make_explainer
from profiler.jobmodel.evidence import evidence_sem
from profiler.jobmodel.reference import ReferencePoint
from profiler.jobmodel.spec import (
    CertificationEvidence,
    EducationEvidence,
    ExperienceEvidence,
    InterviewEvidence,
    JobModelSpec,
    TestScoreEvidence,
)
from profiler.jobmodel.transforms import Utility, UtilityBank, utility_of

if TYPE_CHECKING:
    from profiler.norms import NormTable, ScaleNorm
    from profiler.questionnaire import Questionnaire

BANDS = np.array(["not_advance", "review", "advance"])  # band codes 0, 1, 2
PLAUSIBLE = (5.0, 95.0)  # percentiles bounding the plausible values of an unknown input
NORMAL_GRID = 4096  # quantile grid for expectations over a normal norm distribution
DEFAULT_DRAWS = 5_000  # Monte Carlo SE of a probability at most 0.007


def row_sum(A: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """``sum_k A[:, k] (* weights[k])`` column by column, in a fixed order.

    The same bits for a candidate whatever the batch it is evaluated in: numpy's reductions (``sum``,
    ``einsum``, BLAS) may vectorise across rows and order the additions differently for another number of
    rows, and a score a hair off a threshold would then change band.
    """
    n, k = A.shape
    if k == 0:
        return np.zeros(n)
    out = A[:, 0] * weights[0] if weights is not None else A[:, 0].astype(float)
    for m in range(1, k):
        out += A[:, m] * weights[m] if weights is not None else A[:, m]
    return out


def row_any(A: np.ndarray) -> np.ndarray:
    """``A.any(axis=1)`` of a boolean array, column by column (fast on the engine's column-ordered arrays)."""
    out = A[:, 0].copy() if A.shape[1] else np.zeros(A.shape[0], bool)
    for m in range(1, A.shape[1]):
        out |= A[:, m]
    return out


def row_count(A: np.ndarray) -> np.ndarray:
    """``A.sum(axis=1)`` of a boolean array (int64), column by column (counted in bytes while fewer than 256
    columns can add up: an eighth of the memory traffic)."""
    out = np.zeros(A.shape[0], np.uint8 if A.shape[1] < 256 else np.int64)
    for m in range(A.shape[1]):
        out += A[:, m]
    return out.astype(np.int64, copy=False)


# Inputs ---------------------------------------------------------------------------------------------------
@dataclass
class InputInfo:
    """One declared input: its range, norm distribution, default SEM and how its percentiles are read."""

    ref: str
    key: str
    name: str
    kind: str  # "trait" or the evidence kind
    low: float
    high: float
    mean: float
    sd: float
    sem: float
    sem_source: str
    norm_description: str
    scale_norm: Any = None  # ScaleNorm for traits
    spec: Any = None  # evidence declaration
    items: int = 0  # statements of a trait scale
    mean_scored: bool = False  # a trait scale scored as the mean of its items (else their sum)

    @property
    def is_trait(self) -> bool:
        return self.kind == "trait"

    @property
    def binary(self) -> bool:
        return self.kind in ("certification", "education")

    @property
    def percentile_method(self) -> str | None:
        if self.binary:
            return None
        return "empirical" if self.is_trait else "normal"

    def percentile(self, x: np.ndarray | float) -> np.ndarray:
        """Percentile of ``x`` in the norm group: empirical mid-rank for traits, normal otherwise."""
        x = np.asarray(x, dtype=float)
        if self.is_trait:
            return self.scale_norm.empirical_percentile(x)
        if self.binary or self.sd == 0:
            return np.full(x.shape, np.nan)
        return 100.0 * special.ndtr((x - self.mean) / self.sd)

    def quantile(self, p: float) -> float:
        """The ``p``-th percentile of the norm distribution, within the input's range."""
        if self.binary:
            return self.low if p < 50 else self.high
        if self.is_trait:
            dist = self.scale_norm.distribution
            cumulative = np.cumsum(dist.counts) / dist.n
            return float(dist.scores[int(np.searchsorted(cumulative, p / 100.0 - 1e-12))])
        return float(np.clip(self.mean + self.sd * special.ndtri(p / 100.0), self.low, self.high))

    def nodes(self) -> tuple[np.ndarray, np.ndarray]:
        """Points and probabilities of the norm distribution, for expectations over it.

        Traits: the norm sample's empirical distribution (every attainable raw score with its share).
        0/1 evidence: Bernoulli(base rate). Other evidence: the declared normal(mean, SD), clipped to the
        input's range, on a grid of ``NORMAL_GRID`` equal-probability quantiles (midpoint rule in
        probability, robust to the kinks of clipped utilities).
        """
        if self.is_trait:
            dist = self.scale_norm.distribution
            counts = np.asarray(dist.counts, dtype=float)
            return np.asarray(dist.scores, dtype=float), counts / counts.sum()
        if self.binary:
            return np.array([0.0, 1.0]), np.array([1.0 - self.mean, self.mean])
        p = (np.arange(NORMAL_GRID) + 0.5) / NORMAL_GRID
        x = np.clip(self.mean + self.sd * special.ndtri(p), self.low, self.high)
        return x, np.full(NORMAL_GRID, 1.0 / NORMAL_GRID)

    @property
    def distribution_description(self) -> str:
        if self.is_trait:
            return f"empirical distribution of {self.norm_description}"
        if self.binary:
            return f"Bernoulli(base rate {self.mean:g}) of {self.norm_description}"
        return (f"normal(mean {self.mean:g}, SD {self.sd:g}) of {self.norm_description}, clipped to "
                f"{self.low:g}..{self.high:g}, {NORMAL_GRID:,}-point quantile grid")


def _trait_range(questionnaire: Any, scale_id: str) -> tuple[float, float]:
    keyed = questionnaire.keys(scale_id)
    ranges = np.array([questionnaire.item_range(k.item) for k in keyed], dtype=float)
    if questionnaire.scale(scale_id).scoring == "sum":
        return float(ranges[:, 0].sum()), float(ranges[:, 1].sum())
    return float(ranges[:, 0].mean()), float(ranges[:, 1].mean())


def _input_info(questionnaire: Questionnaire, evidence_specs: dict[str, Any], norms: NormTable,
                ref: str) -> InputInfo:
    source, _, key = ref.partition(".")
    if source == "trait":
        scale: ScaleNorm = norms.scale(key)
        low, high = _trait_range(questionnaire, key)
        texts = questionnaire.scale(key).name
        name = texts.get(questionnaire.default_language, next(iter(texts.values()))) if texts else key
        return InputInfo(ref, key, name, "trait", low, high, scale.mean, scale.sd, scale.sem,
                         f"norm table alpha {scale.reliability.value:.3f}: SD x sqrt(1 - alpha)",
                         f"norm group {norms.name!r} (n = {scale.n:,})", scale_norm=scale,
                         items=len(questionnaire.keys(key)),
                         mean_scored=questionnaire.scale(key).scoring == "mean")
    spec = evidence_specs[key]
    sem, sem_source = evidence_sem(spec)
    if isinstance(spec, TestScoreEvidence):
        low, high = spec.min, spec.max
    elif isinstance(spec, InterviewEvidence):
        low, high = 1.0, 5.0
    elif isinstance(spec, ExperienceEvidence):
        low, high = 0.0, spec.max
    else:
        low, high = 0.0, 1.0
    if isinstance(spec, (CertificationEvidence, EducationEvidence)):
        mean, sd = spec.base_rate, math.sqrt(spec.base_rate * (1 - spec.base_rate))
        described = f"the model's reference group (base rate {spec.base_rate:g})"
    else:
        mean, sd = spec.norm.mean, spec.norm.sd
        described = f"{spec.norm.group}" + (f" (n = {spec.norm.n:,})" if spec.norm.n else "")
    return InputInfo(ref, key, spec.name, spec.kind, float(low), float(high), float(mean), float(sd), sem,
                     sem_source, described, spec=spec)


# The compiled model ----------------------------------------------------------------------------------------
class CompiledModel:
    """A job model as arrays: inputs, weights, utilities, minimums, the average candidate and the thresholds.

    Attributes
    ----------
    spec : JobModelSpec
    questionnaire : Questionnaire
    norms : NormTable
    job_model_id : str
    evidence_specs : dict
        Declared evidence by id.
    """

    def __init__(self, spec: JobModelSpec, questionnaire: Questionnaire, norms: NormTable, content_hash: str):
        self.spec = spec
        self.questionnaire = questionnaire
        self.norms = norms
        self.job_model_id = spec.id
        self.content_hash = content_hash
        self.evidence_specs = {e.id: e for e in spec.evidence}
        refs = list(dict.fromkeys(c.input for c in spec.criteria))
        self.inputs: list[InputInfo] = [_input_info(questionnaire, self.evidence_specs, norms, ref) for ref in refs]
        self.index = {info.ref: j for j, info in enumerate(self.inputs)}
        criteria = list(spec.criteria)
        self.criterion_ids = [c.id for c in criteria]
        self.input_of = np.array([self.index[c.input] for c in criteria])
        self.criteria_of = [[int(c) for c in np.flatnonzero(self.input_of == j)] for j in range(len(self.inputs))]
        self.weights = np.array([c.weight for c in criteria], dtype=float)
        self.total_weight = float(self.weights.sum())
        self.coef = 100.0 * self.weights / self.total_weight
        self.utilities: list[Utility] = [utility_of(c.transform) for c in criteria]
        self.bank = UtilityBank(self.utilities)
        self.minimum = np.array([np.nan if c.minimum is None else c.minimum for c in criteria], dtype=float)
        # per input, the highest minimum of its criteria (NaN: none): below it the candidate is routed to review
        self.input_minimum = np.full(len(self.inputs), np.nan)
        for c in np.flatnonzero(~np.isnan(self.minimum)):
            self.input_minimum[self.input_of[c]] = np.fmax(self.input_minimum[self.input_of[c]], self.minimum[c])
        self.review_if_missing = np.array([c.missing == "review" for c in criteria])
        self.knock_columns = np.flatnonzero(~np.isnan(self.minimum))  # criteria with a minimum
        self.unchecked_if_missing = ~np.isnan(self.minimum) & ~self.review_if_missing
        self.means = np.array([info.mean for info in self.inputs])
        self.lows = np.array([info.low for info in self.inputs])
        self.highs = np.array([info.high for info in self.inputs])
        self.sems = np.array([info.sem for info in self.inputs])
        self.sds = np.array([info.sd for info in self.inputs])
        self.criterion_lows, self.criterion_highs = self.lows[self.input_of], self.highs[self.input_of]
        self.incidence = np.zeros((len(criteria), len(self.inputs)))  # criterion -> its input
        self.incidence[np.arange(len(criteria)), self.input_of] = 1.0
        self.one_input_each = len(set(self.input_of.tolist())) == len(self.inputs) == len(criteria)
        # criterion c reads input c: per-criterion columns are per-input columns as they are
        self.inputs_in_criterion_order = self.one_input_each and bool(
            (self.input_of == np.arange(len(criteria))).all())
        self.reference_utility = self.utilities_of(self.means[None, :])[0]
        self.base_value = float(np.dot(self.coef, self.reference_utility))
        bands = spec.bands
        self.advance_from = bands.advance_from
        self.not_advance_below = bands.not_advance_below
        self.margin = bands.review_margin
        self.upper = bands.advance_from + bands.review_margin  # score >= upper: advance
        self.lower = bands.not_advance_below - bands.review_margin  # score < lower: not advance
        self.review_if_unknown_could_change = bands.if_unknown_could_change == "review"
        self.unknown_deltas = self._plausible_deltas()
        self.unknown_deltas_above_minimum = self._plausible_deltas(above_minimum=True)
        self.warnings: list[str] = []  # set by the model checks (profiler.jobmodel.checks)
        self.grids: dict[tuple[int, int], Any] = {}  # attainable values per input (profiler.jobmodel.grids)

    def by_criterion(self, A: np.ndarray) -> np.ndarray:
        """Per-input columns ``A`` (n, inputs) as the columns of the criteria reading them (n, criteria): ``A``
        itself when criterion c reads input c (no gather to copy; callers do not write into it)."""
        return A if self.inputs_in_criterion_order else A[:, self.input_of]

    def by_input(self, A: np.ndarray) -> np.ndarray:
        """Per-criterion columns ``A`` (n, criteria) gathered per input (n, inputs), the reverse of
        :meth:`by_criterion`: a boolean input's column is any of its criteria's, a numeric one their sum (added
        in criterion order). ``A`` itself when criterion c reads input c (callers do not write into it)."""
        if self.inputs_in_criterion_order:
            return A
        out = np.zeros((A.shape[0], len(self.inputs)), A.dtype, order="F")  # read input by input
        if self.one_input_each:
            out[:, self.input_of] = A
            return out
        for c, j in enumerate(self.input_of):  # criteria sharing an input
            if A.dtype == bool:
                out[:, j] |= A[:, c]
            else:
                out[:, j] += A[:, c]
        return out

    def utilities_of(self, X: np.ndarray) -> np.ndarray:
        """Utilities (n, criteria) of inputs ``X`` (n, inputs)."""
        return self.bank(self.by_criterion(X))

    def score_band(self, score: np.ndarray) -> np.ndarray:
        """Band codes (0 not advance, 1 review, 2 advance) of scores."""
        return np.where(score >= self.upper, 2, np.where(score < self.lower, 0, 1))

    def plausible(self, j: int) -> tuple[float, float]:
        info = self.inputs[j]
        return info.quantile(PLAUSIBLE[0]), info.quantile(PLAUSIBLE[1])

    def _plausible_deltas(self, above_minimum: bool = False) -> np.ndarray:
        """Per input: the smallest and largest change of the score when, instead of its norm mean, it takes a
        plausible value (a dense grid over its plausible range plus every kink of its utilities); with
        ``above_minimum``, a plausible value at or above the input's minimum (where it has one)."""
        out = np.zeros((len(self.inputs), 2))
        for j, info in enumerate(self.inputs):
            lo, hi = self.plausible(j)
            if above_minimum and not np.isnan(self.input_minimum[j]):
                lo = min(max(lo, float(self.input_minimum[j])), hi)
            grid = np.array([0.0, 1.0]) if info.binary else np.linspace(lo, hi, 257)
            crits = self.criteria_of[j]
            kinks = [b for c in crits for b in self.utilities[c].breakpoints if lo <= b <= hi]
            grid = np.concatenate([grid, kinks])
            delta = sum(self.coef[c] * (self.utilities[c](grid) - self.reference_utility[c]) for c in crits)
            out[j] = float(np.min(delta)), float(np.max(delta))
        return out

    @cached_property
    def explainer(self) -> Any:
        """shap's LinearExplainer of the weighted sum, background = the average candidate (built on first use)."""
        return make_explainer(self.coef, self.reference_utility)

    @cached_property
    def norm_reference(self) -> ReferencePoint:
        """The default reference point: the norm group's average candidate (every input at its norm mean)."""
        return ReferencePoint("norm_group", self.baseline.removeprefix("relative to "), self.means.copy(),
                              self.reference_utility.copy(), self.base_value)

    def cohort_reference(self, X: np.ndarray, description: str) -> ReferencePoint:
        """The cohort ``X`` (n, inputs; values used, unknown ones at the norm mean) as the reference point."""
        if X.shape[0] == 0:
            raise ValueError("a cohort reference needs at least one candidate")
        # the means' orders of additions fixed whatever the layout of the caller's array (numpy adds rows in
        # order over a C-ordered array's first axis, and contiguous columns pairwise): the inputs' rows in
        # order, the utilities (of a gathered copy, which numpy lays out by columns) pairwise
        X = np.ascontiguousarray(X)
        utility = self.bank(X[:, self.input_of]).mean(axis=0)
        return ReferencePoint("cohort", description, X.mean(axis=0), utility, float(np.dot(self.coef, utility)),
                              n=int(X.shape[0]))

    def declared_reference(self, values: np.ndarray, description: str) -> ReferencePoint:
        """One declared reference candidate with input ``values`` (one per input) as the reference point."""
        values = np.asarray(values, dtype=float)
        utility = self.utilities_of(values[None, :])[0]
        return ReferencePoint("declared", description, values, utility, float(np.dot(self.coef, utility)))

    @cached_property
    def baseline(self) -> str:
        n = self.norms
        groups = sorted({info.norm_description for info in self.inputs if not info.is_trait})
        evidence = f"; skill evidence at the means declared for {'; '.join(groups)}" if groups else ""
        return (f"relative to the average candidate: trait scales at the means of norm group {n.name!r} "
                f"({n.title}; n = {n.sample.n:,}, collected {n.collected}, version {n.version}){evidence}")

    def versions(self) -> dict[str, str]:
        return dict(self._versions)

    @cached_property
    def _versions(self) -> dict[str, str]:
        return {**self.identity(), **self.norms.identity()}

    def identity(self) -> dict[str, str]:
        """The job model's id, version and hash, and its questionnaire's (as ``JobModel.identity``)."""
        return {"job_model_id": self.spec.id, "job_model_version": self.spec.version,
                "job_model_hash": self.content_hash, **self.questionnaire.identity()}


def compile_model(spec: JobModelSpec, questionnaire: Questionnaire, norms: NormTable | None = None, *,
                  content_hash: str | None = None) -> CompiledModel:
    """Bind a job model's document to its norm group (``spec.norms``, shipped for its questionnaire) as arrays.

    ``content_hash`` is the document's hash when the caller knows it already (computed otherwise).
    """
    if norms is None:
        from profiler.norms import load_norms

        norms = load_norms(questionnaire, spec.norms)
    else:
        norms.check_applies_to(questionnaire)
    return CompiledModel(spec, questionnaire, norms, content_hash or document_hash(spec))



__all__ = ["BANDS", "CompiledModel", "InputInfo", "compile_model", "row_sum"]
