"""Calibrating a questionnaire from a sample file in one run: what ``profiler calibrate`` does.

Every step that a questionnaire needs before use, on one calibration sample, each recorded with its
outcome (done, skipped with the reason, or failed with the reason) so that nothing is silently missing:

1. **items**: per scale, each item's n, mean, SD (keyed), corrected item-total correlation and alpha if
   deleted (:func:`profiler.factors.item_statistics`, as ``psych::alpha``); weak or negative ones flagged;
2. **reliability**: per scale alpha with its Feldt interval, omega total (one factor), omega hierarchical
   for a domain of 3 or more facets, the SD and the SEM of the raw score;
3. **dimensionality**: KMO, Bartlett's test and parallel analysis (``psych::fa.parallel``);
4. **structure**: an EFA with one factor per domain, its factors matched to the scales, and the CFA of the
   declared structure with its fit indices (:func:`profiler.factors.calibrate_questionnaire`; the sealed factor
   model is written as ``factor-model.json``). A domain of one item cannot be a factor: it is left out of the
   CFA, and no factor model is written (it covers every domain);
5. **validity**: the response-validity calibration (``validity-calibration.json``);
6. **norms**: a norm table when the population and date of collection are given
   (:mod:`profiler.pipeline.norm_building`, with its minimum n);
7. **translation**: with a language column, every language compared with the source, item by item
   (:func:`profiler.fairness.translation.translation_check`: polarity check and invariance).

The numbers go into ``calibration.json``, a sealed :class:`CalibrationReport` naming the data file and
every file written with their SHA-256; each step is also appended to ``calibration-log.jsonl`` as it ends.
The technical manual is rendered from the report by :mod:`profiler.reports.manual`.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from profiler._version import __version__
from profiler.administration.validity import derive_validity_calibration
from profiler.artifacts import SealedArtifact, read_artifact, write_artifact
from profiler.canonical import sha256_text, to_plain
from profiler.errors import ProfilerError
from profiler.factors import (
    CFA,
    bartlett_sphericity,
    cronbach_alpha,
    item_statistics,
    kmo,
    omega,
    parallel_analysis,
)
from profiler.factors.calibration import FactorModel, _cfa_summary, bundled_factor_models, calibrate_questionnaire
from profiler.factors.scale_keys import cfa_keys
from profiler.fairness.translation import translation_check
from profiler.norms import NormTable, RawScoreSEM, bundled_norms
from profiler.pipeline.norm_building import MIN_NORM_N, NormProvenance, build_norm_tables
from profiler.pipeline.sample_file import SampleFile, read_sample
from profiler.pipeline.translation import translation_summary
from profiler.questionnaire import Questionnaire

FORMAT = "profiler.calibration-report/1"
WEAK_ITEM_R = 0.30  # corrected item-total correlations below .30 are commonly read as weak


class CalibrationError(ProfilerError, ValueError):
    """A calibration report that cannot be used (malformed, edited after sealing, or for other content)."""


@dataclass(frozen=True)
class CalibrationReport(SealedArtifact):
    """Everything one calibration run computed, sealed (``calibration.json``).

    Attributes
    ----------
    name : str
        The calibration's name.
    questionnaire : dict
        ``questionnaire_id``, ``questionnaire_version``, ``content_hash``.
    data : dict
        The sample file (name, sha256), rows read and used, the row rules, ``source`` in words.
    created : str
        ISO date of the run.
    steps : list of dict
        ``step``, ``status`` (``done``, ``skipped``, ``failed``) and ``detail`` for every step, in order.
    items, reliability, dimensionality, structure, validity, norms, translation : dict
        The numbers of each step (empty when it did not run).
    files : dict
        File name (relative to the output folder) -> sha256 of every file written before this one.
    software : dict
        profiler's version.
    """

    artifact_what: ClassVar[str] = "calibration report"
    artifact_format: ClassVar[str] = FORMAT
    artifact_error: ClassVar[type[Exception]] = CalibrationError
    artifact_made: ClassVar[str] = "calibrated"

    name: str
    questionnaire: dict[str, str]
    data: dict[str, Any]
    created: str
    steps: list[dict[str, str]]
    items: dict[str, Any]
    reliability: dict[str, Any]
    dimensionality: dict[str, Any]
    structure: dict[str, Any]
    validity: dict[str, Any]
    norms: dict[str, Any]
    translation: dict[str, Any]
    files: dict[str, str]
    software: dict[str, str]
    sha256: str = ""
    format: str = FORMAT

    def step(self, name: str) -> dict[str, str]:
        return next(s for s in self.steps if s["step"] == name)

    def check_applies_to(self, questionnaire: Questionnaire) -> None:
        if questionnaire.content_hash != self.questionnaire["content_hash"]:
            raise CalibrationError(f"calibration {self.name!r} was made for {self.questionnaire['questionnaire_id']} "
                                   f"content {self.questionnaire['content_hash']}, not {questionnaire.content_hash}")


@dataclass(frozen=True)
class CalibrationOptions:
    """What a calibration run is told besides the data.

    ``population`` and ``collected`` (both) make the run build a norm table named ``norms_name``.
    """

    name: str
    source: str
    created: dt.date | None = None
    population: str | None = None
    collected: str | None = None
    sampling: str | None = None
    norms_name: str = "general"
    force_norms: bool = False
    language_column: str | None = None
    source_language: str | None = None
    n_iter: int = 20
    random_state: int = 0


@dataclass
class CalibrationRun:
    """A finished run: the report, where it was written, and the files."""

    report: CalibrationReport
    folder: Path
    log: Path


@dataclass
class _Run:
    questionnaire: Questionnaire
    sample: SampleFile
    folder: Path
    options: CalibrationOptions
    log: Path
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    steps: list[dict[str, str]] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)

    def write(self, relative: str, text: str) -> None:
        write_artifact(self.folder / relative, text)
        self.files[relative] = sha256_text(text)

    def step(self, name: str, action: Callable[[], str]) -> None:
        """Run one step; a user-data problem (or a warning) fails the step, not the run, and is recorded."""
        start = time.perf_counter()
        written_before = set(self.files)
        caught: list[str] = []
        try:
            with warnings.catch_warnings(record=True) as recorded:
                warnings.simplefilter("always")
                detail = action()
            caught = sorted({f"{w.category.__name__}: {w.message}" for w in recorded})
            status = "skipped" if detail.startswith("skipped: ") else "done"
            detail = detail.removeprefix("skipped: ")
        except (ProfilerError, ValueError, Warning) as exc:
            status, detail = "failed", f"{type(exc).__name__}: {exc}"
        record = {"step": name, "status": status, "detail": detail + "".join(f" [{c}]" for c in caught)}
        self.steps.append(record)
        entry = {**record, "seconds": round(time.perf_counter() - start, 3),
                 "files": {f: self.files[f] for f in self.files if f not in written_before}}
        with open(self.log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, ensure_ascii=False) + "\n")


def _scored_scales(q: Questionnaire) -> list[str]:
    return [s for s in q.scale_ids if len(q.keys(s)) >= 2]


def _items(run: _Run) -> str:
    q, answers = run.questionnaire, run.sample.answers
    out, flagged = {}, []
    for scale in _scored_scales(q):
        keys = q.keys(scale)
        stats = item_statistics(answers[[k.item for k in keys]], [str(k) for k in keys],
                                item_range=q.item_range(keys[0].item))
        rows = []
        for item, r in stats.iterrows():
            row = {"item": str(item), "reversed": bool(r["reversed"]), "n": int(r["n"]), "mean": float(r["mean"]),
                   "sd": float(r["sd"]), "r_drop": float(r["r_drop"]),
                   "alpha_if_deleted": None if pd.isna(r["alpha_if_deleted"]) else float(r["alpha_if_deleted"])}
            row["flag"] = ("negative: the item runs against its scale (check its keying or its text)"
                           if row["r_drop"] < 0 else f"weak (below {WEAK_ITEM_R:.2f})" if row["r_drop"] < WEAK_ITEM_R
                           else "")
            flagged += [f"{scale}/{row['item']}"] if row["flag"] else []
            rows.append(row)
        out[scale] = rows
    run.sections["items"] = {"scales": out, "weak_r": WEAK_ITEM_R, "flagged": flagged}
    return f"{sum(len(v) for v in out.values())} item rows in {len(out)} scales; {len(flagged)} flagged"


def _reliability(run: _Run) -> str:
    q, answers = run.questionnaire, run.sample.answers
    scores = q.score(answers, invalid="missing")
    out = {}
    for scale in _scored_scales(q):
        keys = q.keys(scale)
        data, key_list, item_range = answers[[k.item for k in keys]], [str(k) for k in keys], q.item_range(keys[0].item)
        alpha = cronbach_alpha(data, key_list, item_range=item_range)
        sd = float(scores[scale].std(ddof=1))
        row = {"n": int(alpha.n_obs), "items": len(keys), "alpha": float(alpha.raw_alpha),
               "alpha_ci": [float(alpha.ci_lower), float(alpha.ci_upper)], "sd": sd,
               "sem": sd * float(np.sqrt(max(1 - alpha.raw_alpha, 0.0))), "omega_total": None, "omega_h": None}
        if len(keys) >= 3:
            row["omega_total"] = float(omega(data, 1, keys=key_list, item_range=item_range).omega_total)
        facets = q.facets_of.get(scale, [])
        if len(facets) >= 3:
            row["omega_h"] = float(omega(data, len(facets), keys=key_list, item_range=item_range).omega_h)
        out[scale] = row
    run.sections["reliability"] = {"scales": out}
    lowest = min(out.items(), key=lambda kv: kv[1]["alpha"])
    return f"{len(out)} scales; lowest alpha {lowest[1]['alpha']:.3f} ({lowest[0]})"


def _dimensionality(run: _Run) -> str:
    q = run.questionnaire
    complete = run.sample.answers[q.scored_items].dropna()
    adequacy = kmo(complete)
    sphericity = bartlett_sphericity(complete)
    pa = parallel_analysis(complete, n_iter=run.options.n_iter, random_state=run.options.random_state)
    shown = pa.table.head(min(len(pa.table), 12))
    domains = [s.id for s in q.scales if s.id not in q.parent_of]
    run.sections["dimensionality"] = {
        "n": len(complete), "kmo": float(adequacy.overall), "kmo_label": adequacy.label,
        "bartlett": {"chi_square": float(sphericity.chi_square), "dof": int(sphericity.dof),
                     "p_value": float(sphericity.p_value)},
        "parallel_analysis": {"n_factors": int(pa.n_factors), "n_components": int(pa.n_components),
                              "n_iter": pa.n_iter, "random_state": run.options.random_state,
                              "observed": shown["observed"].tolist(), "simulated": shown["simulated"].tolist()},
        "declared_factors": len(domains),
        "declared_facets": len(q.parent_of),
    }
    facets = f" domains of {len(q.parent_of)} facets" if q.parent_of else ""
    return (f"KMO {adequacy.overall:.2f} ({adequacy.label}); parallel analysis suggests {pa.n_factors} factor(s), "
            f"the questionnaire declares {len(domains)}{facets}")


def _structure(run: _Run) -> str:
    q = run.questionnaire
    domains = [s.id for s in q.scales if s.id not in q.parent_of]
    single = [d for d in domains if len(q.keys(d)) < 2]
    if single:
        return _structure_without(run, [d for d in domains if d not in single], single)
    model = calibrate_questionnaire(q, run.sample.answers, name=run.options.name, source=run.options.source,
                                    random_state=run.options.random_state)
    if run.options.created is not None:
        content = {k: v for k, v in model.to_dict().items() if k not in ("sha256", "format")}
        model = type(model).seal(**{**content, "created": run.options.created.isoformat()})
    run.write("factor-model.json", model.to_json())
    declared = _declared_structure(q, run.sample.answers)
    run.sections["structure"] = {"model": model.cfa["model"], "fit_indices": model.cfa["fit_indices"],
                                 "std_loadings": model.cfa["std_loadings"], "n": model.sample["n"],
                                 "factor_model_sha256": model.sha256, "left_out": [],
                                 "efa": {k: model.efa[k] for k in ("method", "rotation", "factors",
                                                                   "congruence_with_keys", "fit", "loadings")},
                                 **({"declared": declared} if declared else {})}
    fit = model.cfa["fit_indices"]
    return (f"CFA of {len(model.factor_names)} factor(s): CFI {fit['cfi']:.3f}, RMSEA {fit['rmsea']:.3f}, "
            f"SRMR {fit['srmr']:.3f}; factor model {model.sha256[:19]}..." + _declared_detail(declared))


def _declared_structure(q: Questionnaire, answers: pd.DataFrame) -> dict[str, Any] | None:
    """The CFA of the facets as declared: each facet a factor of its items, each domain a factor of its facets.

    The domain model (one factor per domain, every item on it) is the factor model that scores; for a
    questionnaire with facets it ignores that a facet's items share more than their domain, and fits badly
    however good the questionnaire (CFI .65 where the facet model gives .997, on 120 items in 30 facets).
    None without facets; a fit that fails or warns is reported with the reason.
    """
    if not q.facets_of:
        return None
    keyed = [s.id for s in q.scales if s.keys is not None and len(q.keys(s.id)) >= 2]
    leaves = cfa_keys(q, keyed)
    higher = {d: [f for f in facets if f in leaves or f in q.facets_of] for d, facets in q.facets_of.items()}
    lines = [f"{f} =~ " + " + ".join(k.lstrip("-") for k in items) for f, items in leaves.items()]
    # A domain of two facets is not identified on its own: its two loadings are fixed to 1 (equal).
    lines += [f"{d} =~ " + " + ".join(("1*" if len(facets) == 2 else "") + f for f in facets)
              for d, facets in higher.items() if facets]
    model = "\n".join(lines)
    items = list(dict.fromkeys(k.lstrip("-") for ks in leaves.values() for k in ks))
    complete = answers[items].dropna()
    out: dict[str, Any] = {"model": model, "n": len(complete), "facets": len(leaves),
                           "domains": sum(1 for f in higher.values() if f),
                           "equal_loadings": [d for d, f in higher.items() if len(f) == 2]}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cfa = CFA(model).fit(complete)
    except (ValueError, np.linalg.LinAlgError) as exc:
        return {**out, "failed": str(exc)}
    warned = sorted({str(w.message) for w in caught if issubclass(w.category, UserWarning)})
    return {**out, "fit_indices": {k: float(v) for k, v in cfa.fit_indices_.items()}, "warnings": warned}


def _declared_detail(declared: dict[str, Any] | None) -> str:
    if not declared:
        return ""
    head = f"; the declared {declared['facets']} facet(s) under {declared['domains']} domain(s): "
    if "failed" in declared:
        return head + f"not estimated ({declared['failed']})"
    fit = declared["fit_indices"]
    return head + (f"CFI {fit['cfi']:.3f}, RMSEA {fit['rmsea']:.3f}, SRMR {fit['srmr']:.3f}"
                   + (f" ({len(declared['warnings'])} warning(s))" if declared["warnings"] else ""))


def _structure_without(run: _Run, kept: list[str], single: list[str]) -> str:
    """The CFA of the domains of 2 or more items; one-item scales cannot be a factor (no factor model then)."""
    q = run.questionnaire
    if not kept:
        return "skipped: no domain has 2 or more items, so there is no structure to test"
    items = list(dict.fromkeys(k.item for d in kept for k in q.keys(d)))
    complete = run.sample.answers[items].dropna()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an inadmissible solution fails the step rather than being reported as fit
        cfa = CFA.from_questionnaire(q, kept).fit(complete)
    summary = _cfa_summary(cfa)
    declared = _declared_structure(q, run.sample.answers)
    run.sections["structure"] = {**summary, "n": len(complete), "factor_model_sha256": None, "left_out": single,
                                 "efa": None, **({"declared": declared} if declared else {})}
    fit = summary["fit_indices"]
    return (f"CFA of {len(kept)} factor(s), one-item scale(s) {', '.join(single)} left out (so no factor-model.json, "
            f"which covers every domain): CFI {fit['cfi']:.3f}, RMSEA {fit['rmsea']:.3f}, SRMR {fit['srmr']:.3f}"
            + _declared_detail(declared))


def _validity(run: _Run) -> str:
    q = run.questionnaire
    complete = run.sample.answers[q.scored_items].dropna()
    calibration = derive_validity_calibration(q, complete, source=run.options.source)
    run.write("validity-calibration.json", calibration.to_json())
    run.sections["validity"] = {
        "n": calibration.n, "synonym_pairs": len(calibration.synonym_pairs), "synonym_cutoff": calibration.synonym_cutoff,
        "antonym_pairs": len(calibration.antonym_pairs), "antonym_cutoff": calibration.antonym_cutoff,
        "notes": list(calibration.notes), "rules": run.questionnaire.spec.validity_rules.model_dump(),
        "sha256": calibration.sha256}
    return f"{len(calibration.synonym_pairs)} synonym and {len(calibration.antonym_pairs)} antonym pairs"


def _norms(run: _Run) -> str:
    o = run.options
    if not (o.population and o.collected):
        return "skipped: no population and date of collection were given, so no norm table was built"
    if run.sample.n < MIN_NORM_N and not o.force_norms:
        return (f"skipped: n = {run.sample.n} is below the minimum of {MIN_NORM_N} for norms (EFPA); force it to "
                "build a table marked as such")
    provenance = NormProvenance(name=o.norms_name, population=o.population, collected=o.collected,
                                **({"sampling": o.sampling} if o.sampling else {}))
    built = build_norm_tables(run.questionnaire, run.sample, provenance, force=o.force_norms)
    table = built.tables[0]
    run.write(f"norms/{table.name}.json", table.to_json())
    run.sections["norms"] = {"tables": [{
        "name": table.name, "version": table.version, "population": table.population, "collected": table.collected,
        "sampling": table.sampling, "n": table.sample.n, "rows_read": table.sample.rows_read, "sha256": table.sha256,
        "notes": table.notes, "scales": {s.scale: {"n": s.n, "mean": s.mean, "sd": s.sd, "alpha": s.reliability.value,
                                                   "sem": s.sem} for s in table.scales}}],
        "warnings": built.warnings}
    return f"norm table {table.name!r}, n = {table.sample.n}"


def _translation(run: _Run) -> str:
    column = run.options.language_column
    if column is None:
        return "skipped: the sample has no language column (give one to compare the language versions)"
    check = translation_check(run.sample.answers, run.questionnaire, run.sample.columns[column],
                              source=run.options.source_language)
    run.sections["translation"] = translation_summary(check)
    return check.summary().replace("\n", " ")


def calibrate_file(questionnaire: Questionnaire, data: str | Path, folder: str | Path,
                   options: CalibrationOptions) -> CalibrationRun:
    """Run every calibration step on the sample in ``data`` and write the results to ``folder``.

    Raises
    ------
    SampleFileError
        The data file cannot be read or does not fit the questionnaire (nothing is written then).
    """
    sample = read_sample(questionnaire, data, columns=[options.language_column] if options.language_column else [])
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "calibration-log.jsonl"
    log.write_text("", encoding="utf-8")
    run = _Run(questionnaire, sample, folder, options, log)
    run.step("items", lambda: _items(run))
    run.step("reliability", lambda: _reliability(run))
    run.step("dimensionality", lambda: _dimensionality(run))
    run.step("structure", lambda: _structure(run))
    run.step("validity", lambda: _validity(run))
    run.step("norms", lambda: _norms(run))
    run.step("translation", lambda: _translation(run))
    created = (options.created or dt.date.today()).isoformat()
    report = CalibrationReport.seal(
        name=options.name, questionnaire=questionnaire.identity(),
        data={"file": sample.path.name, "sha256": sample.sha256, "rows_read": sample.rows_read, "n": sample.n,
              "rules": [r.model_dump() for r in sample.rules], "source": options.source},
        created=created, steps=run.steps,
        **{name: to_plain(run.sections.get(name, {})) for name in
           ("items", "reliability", "dimensionality", "structure", "validity", "norms", "translation")},
        files=dict(run.files), software={"profiler": __version__})
    run.write("calibration.json", report.to_json())
    return CalibrationRun(report, folder, log)


def record_file(run: CalibrationRun, relative: str, text: str) -> str:
    """Write a file produced from a finished run (the manual) into its folder and log its sha256."""
    path = write_artifact(run.folder / relative, text)
    digest = sha256_text(text)
    with open(run.log, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"step": "manual", "status": "done", "detail": str(path), "files": {relative: digest}})
                     + "\n")
    return digest


def manual_sources(questionnaire: Questionnaire, calibration: str | Path | None = None
                   ) -> tuple[CalibrationReport | None, list[NormTable]]:
    """What a technical manual is written from: the calibration report (if given, refused for other content)
    and the norm tables that apply: those the calibration built, then those shipped for the questionnaire."""
    report, tables = None, []
    if calibration is not None:
        path = Path(calibration)
        report = CalibrationReport.read(path)
        report.check_applies_to(questionnaire)
        tables += [NormTable.read(path.parent / name) for name in report.files if name.startswith("norms/")]
    for shipped in bundled_norms(questionnaire.id).values():
        table = NormTable.read(shipped)
        if table.questionnaire.content_hash == questionnaire.content_hash:
            tables.append(table)
    return report, tables


def raw_score_sem(questionnaire: Questionnaire, path: str | Path | None = None) -> tuple[RawScoreSEM | None, str]:
    """The SEM that goes with raw scores (``profiler score`` without norms), and a sentence saying where it comes from.

    ``path`` names a calibration report (``calibration.json``: every scale of 2 or more items) or a factor model
    (its domains); either is refused when made for other content. Without it, the factor model shipped for the
    questionnaire is used when it was calibrated on this content.
    """
    if path is not None:
        text = read_artifact(path, what="calibration", error=CalibrationError)
        kind = json.loads(text).get("format") if text.lstrip().startswith("{") else None
        if kind == FORMAT:
            report = CalibrationReport.from_json(text, str(path))
            report.check_applies_to(questionnaire)
            return _sem_of(f"{report.name} (calibration report)", report.sha256,
                           {s: r["sem"] for s, r in report.reliability.get("scales", {}).items()})
        model = FactorModel.from_json(text, str(path))
        model.check_applies_to(questionnaire)
    else:
        shipped = bundled_factor_models().get(questionnaire.id)
        if shipped is None:
            return None, f"no calibration exists for {questionnaire.id!r}, so no SEM (run profiler calibrate)"
        model = FactorModel.read(shipped)
        if model.questionnaire["content_hash"] != questionnaire.content_hash:
            return None, (f"the calibration shipped for {questionnaire.id!r} was made for other content, so no SEM "
                          "(run profiler calibrate)")
    return _sem_of(f"{model.name} {model.version}", model.sha256,
                   {s: values["sem"] for s, values in model.reliability.items()})


def _sem_of(label: str, sha256: str, sem: dict[str, float]) -> tuple[RawScoreSEM, str]:
    return RawScoreSEM(label, sha256, sem), f"SEM from calibration {label} ({sha256[:19]}...) for {', '.join(sem)}"
