"""The result of evaluating one candidate: a recommendation with everything a reviewer needs to overrule it.

A :class:`Recommendation` is a *recommendation*: a named person decides. It carries the band and why,
the score and its additive explanation (base value + one SHAP contribution per criterion = score),
counterfactuals, decision stability under measurement error, evidence coverage, rater agreement, and the
versions and hashes of the questionnaire, norms and job model that produced it. ``str(rec)`` prints it
for reading, measurement error and coverage before the recommendation; :meth:`to_dict` gives plain data
for logging.
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from profiler.canonical import fields_of, to_plain
from profiler.jobmodel.contributions import shap_explanation
from profiler.jobmodel.evidence import RaterAgreement
from profiler.jobmodel.reference import WHY as REFERENCE_WHY

Band = Literal["advance", "review", "not_advance"]
BAND_WORDS = {"advance": "advance", "review": "human review", "not_advance": "not advance"}


@dataclass(frozen=True)
class Contribution:
    """One criterion's share of the score: its SHAP value against the reference point (by default the norm
    group's average candidate).

    ``contribution = 100 * weight * (utility - reference_utility) / total weight`` (score points);
    ``reference`` is the reference point's value of the input (its norm mean by default), ``status`` is
    ``measured``, ``imputed`` (missing or expired, replaced by the norm mean: contribution exactly 0) or
    ``missing_review`` (ditto, and the candidate is routed to review).
    """

    criterion: str
    input: str
    name: str
    value: float
    reference: float
    utility: float
    reference_utility: float
    weight: float
    weight_share: float
    contribution: float
    status: Literal["measured", "imputed", "missing_review"]


@dataclass(frozen=True)
class Requirement:
    """Something else that must change for a counterfactual to hold: an input below a criterion's minimum
    raised to it (``action`` ``raise_to``, ``value`` the value), or an unknown input measured (``measure``;
    the counterfactual holds for any plausible value it turns out to have, at or above a minimum it has)."""

    input: str
    name: str
    action: Literal["raise_to", "measure"]
    value: float | None = None

    @property
    def text(self) -> str:
        if self.action == "raise_to":
            return f"{self.name} raised to {self.value:.4g}, its minimum"
        at_least = f" at {self.value:.4g} or more" if self.value is not None else ""
        return f"{self.name} measured{at_least} (it is unknown; any plausible value will do)"


def _requirements(items: Any) -> tuple[Requirement, ...]:
    return tuple(r if isinstance(r, Requirement) else Requirement(**fields_of(Requirement, r)) for r in items or ())


@dataclass(frozen=True)
class Counterfactual:
    """The nearest attainable value of one input at which the recommendation would be another.

    ``direction`` is ``up`` (toward advance) or ``down``; ``target_band`` the recommendation sought. With
    ``new_value`` (on the input's grid of attainable values: an answer pattern, a rating grid, a whole year,
    a test step) and the ``requirements`` (what else must change, when routing would keep the case in
    review: an input raised to its minimum, an unknown input measured), the job model gives ``score_after``
    (inside the target band, never on its edge), score band ``score_band_after`` and recommendation
    ``band_after`` (= ``target_band``); ``alone`` is True when there are no requirements. ``change`` is in the
    input's units, ``units`` in words a person counts (answer steps over a scale's statements, rating
    points over the raters, years, test points), ``change_sem`` in SEMs (None for recorded facts),
    ``change_percentile`` in percentile points of the input's norm distribution (``percentile_method``
    ``empirical`` or ``normal``; None for 0/1 inputs). ``threshold`` is the score the target band begins or
    ends at (unknown inputs allowed for). ``reachable`` False: no value of this input gives the target;
    ``why`` says why (``why_short`` in a few words). ``imputed``: the input is unknown (the counterfactual is
    the value it would have to be measured at). ``note`` says when the new value lies below a minimum.
    ``checked`` is False for counterfactuals recorded by versions of profiler that moved the score onto a
    threshold without checking the recommendation (they are worded as they were).
    """

    criterion: str
    input: str
    name: str
    direction: Literal["up", "down"]
    target_band: str
    threshold: float
    reachable: bool
    value: float
    new_value: float | None = None
    change: float | None = None
    change_sem: float | None = None
    change_percentile: float | None = None
    percentile_method: str | None = None
    score_after: float | None = None
    why: str | None = None
    imputed: bool = False
    is_trait: bool = False
    note: str | None = None
    why_short: str | None = None
    band_after: str | None = None
    score_band_after: str | None = None
    alone: bool = True
    requirements: tuple[Requirement, ...] = ()
    units: str | None = None
    checked: bool = False

    @property
    def text(self) -> str:
        """Plain words: a distance in measurement terms, not advice."""
        goal = BAND_WORDS.get(self.target_band, self.target_band)
        if not self.checked:
            return self._recorded_text()
        if not self.reachable:
            return f"{self.name}: no value of it alone gives {goal} ({self.why})."
        if self.new_value is None or self.change is None:
            return f"{self.name}: {goal}."
        parts = [] if self.imputed else [f"{self.new_value:.4g} instead of {self.value:.4g}"]
        if self.units:
            parts.append(self.units)
        if self.change_sem is not None:
            parts.append(f"{abs(self.change_sem):.2g} SEM")
        if self.change_percentile is not None:
            parts.append(f"{self.change_percentile:+.0f} percentile points, {self.percentile_method}")
        detail = f" ({'; '.join(parts)})" if parts else ""
        verb = "higher" if self.change > 0 else "lower"
        if self.imputed:
            lead = f"{self.name} (unknown, counted at its norm mean {self.value:.4g}): measured at {self.new_value:.4g}"
        elif self.is_trait:
            lead = f"{self.name}: had it been measured {abs(self.change):.3g} points {verb}"
        elif self.value in (0.0, 1.0) and self.new_value in (0.0, 1.0) and self.units is None:
            lead, detail = f"{self.name}: {'held (or met)' if self.new_value else 'not held (or not met)'}", ""
        else:
            lead = f"{self.name}: {abs(self.change):.4g} {verb}"
        after = ""
        if self.score_after is not None:
            after = f", the score would be {score_words(self.score_after, self.threshold)} and the recommendation {goal}"
        together = f", together with {'; '.join(r.text for r in self.requirements)}" if self.requirements else ""
        extra = f" ({self.note})" if self.note else ""
        return f"{lead}{detail}{after}{together}{extra}."


    def _recorded_text(self) -> str:
        """The wording of counterfactuals recorded before they were checked against the recommendation (they
        moved the score onto a threshold and did not say what routing would still require)."""
        goal = BAND_WORDS.get(self.target_band, self.target_band)
        if not self.reachable:
            return f"{self.name}: no value of it alone moves the score to {self.threshold:g} ({self.why})."
        verb = "higher" if (self.change or 0) > 0 else "lower"
        parts = [f"{abs(self.change_sem):.2g} SEM"] if self.change_sem is not None else []
        if self.change_percentile is not None:
            parts.append(f"{self.change_percentile:+.0f} percentile points, {self.percentile_method}")
        detail = f" ({'; '.join(parts)})" if parts else ""
        return (f"{self.name}: with a value {abs(self.change or 0):.3g} {verb}{detail}, the score would reach "
                f"{self.threshold:g}, the edge of {goal} (recorded by an earlier version of profiler).")


def score_words(score: float, threshold: float) -> str:
    """A score to one decimal, with more where one decimal would read as the threshold itself."""
    for digits in (1, 2, 3, 4, 6):
        if round(score, digits) != round(threshold, digits):
            return f"{score:.{digits}f}"
    return f"{score:.9f}"


@dataclass(frozen=True)
class Change:
    """One input's part of a joint counterfactual."""

    input: str
    name: str
    value: float
    new_value: float
    change: float
    change_sem: float | None = None
    units: str | None = None

    @property
    def text(self) -> str:
        unit = f" ({self.units})" if self.units else ""
        return f"{self.name} {self.new_value:.4g} instead of {self.value:.4g}{unit}"


@dataclass(frozen=True)
class JointCounterfactual:
    """When no single input gives the target: the smallest change of two or three inputs that does.

    ``changes`` name the inputs moved, ``total_sem`` the total change in SEMs (norm SDs for recorded
    facts), ``score_after`` and ``band_after`` the result; ``requirements`` as for :class:`Counterfactual`.
    """

    direction: Literal["up", "down"]
    target_band: str
    changes: tuple[Change, ...]
    total_sem: float
    score_after: float
    band_after: str
    requirements: tuple[Requirement, ...] = ()

    @property
    def text(self) -> str:
        together = f", together with {'; '.join(r.text for r in self.requirements)}" if self.requirements else ""
        return (f"{' and '.join(c.text for c in self.changes)} (together {self.total_sem:.2g} SEM): the score would "
                f"be {self.score_after:.2f} and the recommendation {BAND_WORDS.get(self.band_after, self.band_after)}"
                f"{together}.")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JointCounterfactual:
        return cls(**{**fields_of(cls, data), "changes": tuple(Change(**fields_of(Change, c)) for c in data["changes"]),
                      "requirements": _requirements(data.get("requirements"))})


@dataclass(frozen=True)
class Stability:
    """How likely the recommendation is to change if the inputs were measured again (each ~ N(value, SEM^2)).

    ``p_flip_analytic``: the recommendation (score band, knock-out minimums, unknown inputs allowed for), by
    the delta method with the knock-outs' truncated normals (:mod:`profiler.jobmodel.stability`); ``se_score``
    is the score's SE. ``p_flip_simulated``: the same by a seeded Monte Carlo of ``draws`` re-measurements
    (clipped to each input's range; NaN with ``draws=0``); ``p_score_flip_simulated`` the score band alone in
    the same draws. ``label`` reads ``p_same = 1 - p_flip_analytic`` with the cut-offs of :data:`LABELS`.

    A recommendation of review carries no such figure (``p_flip_analytic`` and ``p_flip_simulated`` NaN,
    label ``not applicable``): a person decides it, and a percentage would suggest a certainty it has not.
    ``basis`` names the figure the label reads: ``analytic``; recommendations recorded before the engine
    was unified read the simulation (``simulated``, the value they are read back with).
    """

    se_score: float
    p_flip_analytic: float
    p_flip_simulated: float
    p_score_flip_simulated: float
    draws: int
    seed: int
    label: str
    basis: Literal["analytic", "simulated"] = "simulated"

    @property
    def applicable(self) -> bool:
        """False for a recommendation of review (no stability figure)."""
        return self.label != NOT_APPLICABLE

    @property
    def p_same(self) -> float:
        """Probability that the recommendation stays on re-measurement, the figure the label reads (NaN for review)."""
        flip = self.p_flip_analytic if self.basis == "analytic" else self.p_flip_simulated
        return math.nan if flip is None else 1.0 - flip

    @property
    def text(self) -> str:
        if not self.applicable:
            return f"{NOT_APPLICABLE}: the recommendation is review and a person decides"
        return f"{self.label} ({100 * self.p_same:.0f}%)"

    @property
    def sentence(self) -> str:
        """The decision-stability line of the printout."""
        if not self.applicable:
            return (f"decision stability: {self.text} (score SE {self.se_score:.1f} points; no percentage is given "
                    "for a review)")
        simulated = ""
        if self.basis == "analytic" and self.p_flip_simulated is not None and not math.isnan(self.p_flip_simulated):
            simulated = f"; simulated {100 * self.p_flip_simulated:.0f}% in {self.draws:,} re-measurements"
        return (f"decision stability: {self.text}: the recommendation would change in {100 * (1 - self.p_same):.0f}% "
                f"of re-measurements (score SE {self.se_score:.1f} points{simulated})")


@dataclass(frozen=True)
class InputCoverage:
    """What is known about one input: ``measured``, ``missing`` or ``expired``, and how it was handled.

    For an input that is not measured, ``plausible`` is the range of values it plausibly takes (its norm
    5th to 95th percentile, or 0..1 for a 0/1 input) and ``score_range`` the scores it would give there.
    """

    input: str
    name: str
    status: Literal["measured", "missing", "expired"]
    handling: Literal["measured", "imputed", "review"]
    detail: str | None = None
    plausible: tuple[float, float] | None = None
    score_range: tuple[float, float] | None = None
    source: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class Coverage:
    """Evidence coverage: each input's status, and the score range if the unknown inputs took plausible values."""

    inputs: tuple[InputCoverage, ...]
    score_range: tuple[float, float]
    bands_reachable: tuple[str, ...]

    @property
    def missing(self) -> list[str]:
        return [c.input for c in self.inputs if c.status == "missing"]

    @property
    def expired(self) -> list[str]:
        return [c.input for c in self.inputs if c.status == "expired"]

    @property
    def imputed(self) -> list[str]:
        return [c.input for c in self.inputs if c.handling == "imputed"]

    @property
    def complete(self) -> bool:
        return all(c.status == "measured" for c in self.inputs)


@dataclass(frozen=True)
class Reason:
    """Why the candidate is in this band, in plain words; ``code`` is one of
    ``knock_out``, ``knock_out_unchecked``, ``missing``, ``expired``, ``review_margin``, ``review_band``,
    ``score``."""

    code: str
    text: str
    criterion: str | None = None


# What the stability labels mean: probability that the recommendation stays on re-measurement.
LABELS: tuple[tuple[float, str], ...] = ((0.95, "stable"), (0.75, "borderline"), (0.0, "within measurement error"))
NOT_APPLICABLE = "not applicable"  # the label of a recommendation of review
LABEL_WORDS: tuple[str, ...] = (*(label for _, label in LABELS), NOT_APPLICABLE)  # by label code 0..3


def stability_label(p_same: float | np.ndarray) -> Any:
    """``stable`` (p_same >= 0.95), ``borderline`` (>= 0.75), ``within measurement error``, or ``not
    applicable`` for NaN (a recommendation of review)."""
    p = np.asarray(p_same, dtype=float)
    out = np.where(p >= LABELS[0][0], LABELS[0][1], np.where(p >= LABELS[1][0], LABELS[1][1], LABELS[2][1]))
    out = np.where(np.isnan(p), NOT_APPLICABLE, out)
    return str(out) if out.ndim == 0 else out


def _fmt(x: float | None, digits: int = 1) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


@dataclass(frozen=True)
class Recommendation:
    """The recommendation for one candidate (see the module docstring); never a decision."""

    band: Band
    score_band: Band
    score: float
    base_value: float
    contributions: tuple[Contribution, ...]
    counterfactuals: tuple[Counterfactual, ...]
    stability: Stability
    coverage: Coverage
    reasons: tuple[Reason, ...]
    agreement: tuple[RaterAgreement, ...]
    thresholds: dict[str, float]
    baseline: str
    versions: dict[str, str]
    as_of: dt.date
    engine: str = "shap.LinearExplainer (interventional, background = the norm group's average candidate)"
    reference: dict[str, Any] = field(default_factory=dict)
    joint_counterfactuals: tuple[JointCounterfactual, ...] = ()
    _utilities: Any = field(default=None, repr=False, compare=False)

    # Reading -------------------------------------------------------------------------------------------
    @property
    def additivity_error(self) -> float:
        """``|base + sum(contributions) - score|`` (local accuracy of the explanation)."""
        return abs(self.base_value + math.fsum(c.contribution for c in self.contributions) - self.score)

    @property
    def receipt(self) -> str:
        """``base 50.0 + contributions 12.3 = score 62.3 (checked)``."""
        total = math.fsum(c.contribution for c in self.contributions)
        ok = "checked" if self.additivity_error <= 1e-9 else f"MISMATCH {self.additivity_error:.2e}"
        sign = "+" if total >= 0 else "-"
        return f"base {self.base_value:.1f} {sign} contributions {abs(total):.1f} = score {self.score:.1f} ({ok})"

    def contribution(self, criterion: str) -> Contribution:
        for c in self.contributions:
            if c.criterion == criterion:
                return c
        raise KeyError(f"no criterion {criterion!r}")

    def explanation(self) -> Any:
        """The contributions as a ``shap.Explanation`` for shap's plots (``shap.plots.waterfall(rec.explanation())``).

        ``values`` are the contributions in score points, ``base_values`` the reference point's score,
        ``data`` the input value of each criterion (unknown inputs at the value used), ``feature_names`` the
        criteria. Also available on a recommendation read back from the store.
        """
        return shap_explanation(np.array([c.contribution for c in self.contributions]), self.base_value,
                                np.array([c.value for c in self.contributions]),
                                [c.criterion for c in self.contributions])

    @property
    def unknown_could_change(self) -> bool:
        """Whether the unknown inputs, at plausible values, could give another band (the coverage says which)."""
        return any(r.code == "unknown_could_change" for r in self.reasons)

    @property
    def headline(self) -> str:
        """``ADVANCE (score band: advance)``, saying so when unknown inputs could change the band."""
        text = f"{BAND_WORDS[self.band].upper()} (score band: {BAND_WORDS[self.score_band]})"
        if self.unknown_could_change:
            lo, hi = self.coverage.score_range
            text += (f"; unknown inputs could change the band (the score could lie in {lo:.1f}..{hi:.1f} with "
                     "them at plausible values)")
        return text

    @property
    def reference_sentence(self) -> str:
        """Which reference point the contributions are measured against, and why that matters."""
        description = self.reference.get("description") or self.baseline.removeprefix("relative to ")
        return (f"Reference point: {description} (score {self.base_value:.1f}). "
                f"{self.reference.get('why', REFERENCE_WHY)}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Recommendation:
        """Rebuild a recommendation from :meth:`to_dict` (as stored); payloads written by earlier versions
        (without a reference point, with old counterfactual fields) are read too."""
        if isinstance(data, Recommendation):
            return data
        coverage = data["coverage"]
        inputs = tuple(
            InputCoverage(**{**fields_of(InputCoverage, c), "plausible": _pair(c.get("plausible")),
                             "score_range": _pair(c.get("score_range"))})
            for c in coverage["inputs"])
        agreement = tuple(RaterAgreement(**{**fields_of(RaterAgreement, a), "ratings": tuple(a["ratings"])})
                          for a in data.get("agreement", ()))
        as_of = data["as_of"]
        return cls(
            band=data["band"], score_band=data["score_band"], score=float(data["score"]),
            base_value=float(data["base_value"]),
            contributions=tuple(Contribution(**fields_of(Contribution, c)) for c in data["contributions"]),
            counterfactuals=tuple(Counterfactual(**{**fields_of(Counterfactual, c),
                                                    "requirements": _requirements(c.get("requirements"))})
                                  for c in data["counterfactuals"]),
            joint_counterfactuals=tuple(JointCounterfactual.from_dict(j) for j in data.get("joint_counterfactuals", ())),
            stability=Stability(**{k: (math.nan if v is None and k.startswith("p_") else v)
                                   for k, v in fields_of(Stability, data["stability"]).items()}),
            coverage=Coverage(inputs=inputs, score_range=_pair(coverage["score_range"]),
                              bands_reachable=tuple(coverage["bands_reachable"])),
            reasons=tuple(Reason(**fields_of(Reason, r)) for r in data["reasons"]),
            agreement=agreement, thresholds={k: float(v) for k, v in data["thresholds"].items()},
            baseline=data["baseline"], versions=dict(data["versions"]),
            as_of=as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(as_of),
            **({"engine": data["engine"]} if "engine" in data else {}),
            reference=dict(data.get("reference") or {}),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-serializable) for the decision log; :meth:`from_dict` reads it back."""
        out = {
            "band": self.band, "score_band": self.score_band, "score": self.score, "base_value": self.base_value,
            "contributions": [asdict(c) for c in self.contributions],
            "counterfactuals": [asdict(c) for c in self.counterfactuals],
            "stability": asdict(self.stability),
            "coverage": {"inputs": [asdict(c) for c in self.coverage.inputs],
                         "score_range": list(self.coverage.score_range),
                         "bands_reachable": list(self.coverage.bands_reachable)},
            "reasons": [asdict(r) for r in self.reasons],
            "agreement": [asdict(a) for a in self.agreement],
            "thresholds": dict(self.thresholds), "baseline": self.baseline, "versions": dict(self.versions),
            "as_of": self.as_of.isoformat(), "engine": self.engine, "additivity_error": self.additivity_error,
            "reference": dict(self.reference),
            "joint_counterfactuals": [asdict(j) for j in self.joint_counterfactuals],
        }  # fmt: skip
        return to_plain(out, "recommendation", nonfinite="null")

    def __str__(self) -> str:
        v = self.versions
        lines = [
            f"Recommendation of job model {v['job_model_id']} {v['job_model_version']} ({v['job_model_hash'][:19]}...) "
            f"on {self.as_of.isoformat()}",
            f"  questionnaire {v['questionnaire_id']} {v['questionnaire_version']}; norms {v['norm_group']} "
            f"{v['norm_version']} ({v['norms_sha256'][:19]}...)",
            f"  {self.reference_sentence}",
            "",
            "Measurement and coverage (read these first)",
            f"  {self.stability.sentence}",
        ]
        for a in self.agreement:
            lines.append(f"  {a.evidence}: {a.reading}; reliability of the mean {a.reliability:.2f}")
        for c in self.coverage.inputs:
            if c.status != "measured":
                rng = f"; plausible {c.plausible[0]:.3g}..{c.plausible[1]:.3g} gives score " \
                      f"{c.score_range[0]:.1f}..{c.score_range[1]:.1f}" if c.plausible and c.score_range else ""
                lines.append(f"  {c.name}: {c.status}, {c.handling}{' (' + c.detail + ')' if c.detail else ''}{rng}")
        if not self.coverage.complete:
            lo, hi = self.coverage.score_range
            lines.append(f"  with every unknown input at plausible values the score lies in {lo:.1f}..{hi:.1f} "
                         f"(bands reachable: {', '.join(BAND_WORDS[b] for b in self.coverage.bands_reachable)})")
        lines += ["", f"  {'criterion':<22}{'value':>9}{'reference':>10}{'utility':>9}{'weight':>8}{'points':>9}"
                  "  status"]
        for c in self.contributions:
            lines.append(f"  {c.criterion[:21]:<22}{c.value:>9.3g}{c.reference:>10.3g}{c.utility:>9.2f}"
                         f"{c.weight:>8.2f}{c.contribution:>+9.2f}  {c.status}")
        lines += [f"  {self.receipt}", "", "Counterfactuals (distances, not advice)"]
        for direction in ("up", "down"):
            mine = [cf for cf in self.counterfactuals if cf.direction == direction]
            if not mine:
                continue
            goal = BAND_WORDS.get(mine[0].target_band, mine[0].target_band)
            lines.append(f"  To {goal}:")
            lines += [f"  - {cf.text}" for cf in mine if cf.reachable]
            lines += [f"  - {j.text}" for j in self.joint_counterfactuals if j.direction == direction]
            beyond = [cf for cf in mine if not cf.reachable]
            if beyond:
                reasons = "; ".join(f"{cf.name} ({cf.why_short or cf.why})" for cf in beyond)
                lines.append(f"  - Out of reach for one input alone: {reasons}.")
        if not self.counterfactuals:
            lines.append("  none")
        lines += ["", f"Recommendation: {self.headline}"]
        lines += [f"  - {r.text}" for r in self.reasons]
        lines.append("  A person decides; they can follow, override or set this recommendation aside, with a reason.")
        return "\n".join(_wrap(line) for line in lines)

    def __repr__(self) -> str:
        return (f"Recommendation(band={self.band!r}, score={self.score:.2f}, base_value={self.base_value:.2f}, "
                f"stability={self.stability.text!r})")


def _pair(value: Any) -> tuple[float, float] | None:
    return None if value is None else (float(value[0]), float(value[1]))


def _wrap(line: str, width: int = 110) -> str:
    """Long lines wrapped under their own indent (plus two spaces, or past a list dash)."""
    if len(line) <= width:
        return line
    indent = line[: len(line) - len(line.lstrip())]
    follow = indent + ("  " if line.lstrip().startswith("- ") else "    ")
    return "\n".join(textwrap.wrap(line, width=width, subsequent_indent=follow, break_on_hyphens=False))


__all__ = [
    "LABELS",
    "Band",
    "Contribution",
    "Change",
    "Counterfactual",
    "Coverage",
    "InputCoverage",
    "JointCounterfactual",
    "Reason",
    "Recommendation",
    "Requirement",
    "Stability",
    "stability_label",
]
