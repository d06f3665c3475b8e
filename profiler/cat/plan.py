"""A questionnaire's adaptive administration, resolved: each adaptive scale's calibration, rules and engine.

:func:`adaptive_plan` reads ``administration.adaptive`` (:class:`profiler.questionnaire.spec.Adaptive`): which
scales are adaptive, the test-wide rules merged with each scale's own, and the item bank (an IRT calibration,
:mod:`profiler.irt.calibration`) each scale uses. :func:`check_adaptive` says, located in the YAML file, every way
the declared bank does not fit the questionnaire: a scale it does not calibrate, items missing or extra, keyed
the other way, answers that are not the item's options, item texts that differ from the questionnaire it was
calibrated on, rules the bank cannot meet.

A bank is named by the id of a bundled questionnaire with IRT calibrations (``ipip-bfm-50``), a folder of
``<scale>.json`` artifacts, or one artifact file; a path is read relative to the questionnaire's file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from profiler.cat.engine import CATEngine
from profiler.cat.rules import CATError, CATRules
from profiler.errors import ErrorDetail, ProfilerError
from profiler.irt.calibration import (
    IRTCalibration,
    IRTCalibrationError,
    bundled_irt_calibrations,
    load_irt_calibration,
    load_irt_calibrations,
)
from profiler.questionnaire.questionnaire import Questionnaire
from profiler.questionnaire.spec import Adaptive, AdaptiveOverride, LikertFormat, NumberFormat
from profiler.yamlsource import YamlDocument


@dataclass(frozen=True)
class AdaptiveScale:
    """One adaptive scale: its calibration (the bank), engine and items."""

    scale: str
    calibration: IRTCalibration
    engine: CATEngine

    @property
    def items(self) -> tuple[str, ...]:
        return self.engine.bank.items


@dataclass(frozen=True)
class AdaptivePlan:
    """The adaptive scales of a questionnaire in order, and the items given before them (``fixed_items``)."""

    scales: tuple[AdaptiveScale, ...]
    fixed_items: tuple[str, ...]

    def scale_of(self, item: str) -> AdaptiveScale | None:
        return next((s for s in self.scales if item in s.items), None)

    def banks(self) -> dict[str, str]:
        """Scale -> sha256 of its calibration."""
        return {s.scale: s.calibration.sha256 for s in self.scales}

    @property
    def max_items(self) -> int:
        """The most items a session can give: the fixed ones and each adaptive scale's maximum."""
        return self.max_items_after(self.fixed_items)

    def max_items_after(self, fixed: tuple[str, ...]) -> int:
        """The most items a session that gives ``fixed`` before its tests can give."""
        return len(fixed) + sum(s.engine.max_items for s in self.scales)


def adaptive_scales(questionnaire: Questionnaire) -> list[str]:
    """The ids of the adaptive scales, in order (empty without ``administration.adaptive``)."""
    adaptive = questionnaire.spec.administration.adaptive
    if adaptive is None:
        return []
    if adaptive.scales is not None:
        return list(adaptive.scales)
    return [s for s in questionnaire.scale_ids if s not in questionnaire.parent_of]


def _merged(adaptive: Adaptive, own: AdaptiveOverride | None) -> dict[str, Any]:
    """The test-wide rules with a scale's own: given fields replace, within sections field by field."""
    out: dict[str, Any] = {"bank": adaptive.bank, "selection": adaptive.selection}
    for section in ("exposure", "content", "start", "stop"):
        out[section] = getattr(adaptive, section).model_dump()
    if own is not None:
        for name in own.model_fields_set:
            value = getattr(own, name)
            if value is None:
                continue
            if name in ("bank", "selection"):
                out[name] = value
            else:
                out[name] = {**out[name], **{k: getattr(value, k) for k in value.model_fields_set}}
    return out


def scale_rules(questionnaire: Questionnaire, scale: str) -> tuple[str, CATRules]:
    """The bank reference and :class:`CATRules` of one adaptive scale."""
    adaptive = questionnaire.spec.administration.adaptive
    if adaptive is None:
        raise CATError(f"questionnaire {questionnaire.id!r} has no adaptive administration")
    merged = _merged(adaptive, (adaptive.scales or {}).get(scale))
    exposure, content, start, stop = merged["exposure"], merged["content"], merged["start"], merged["stop"]
    rules = CATRules(
        selection=merged["selection"], exposure=exposure["method"], candidates=exposure["candidates"],
        sympson_hetter=dict(exposure["parameters"]), each_facet=content["each_facet"],
        proportions=None if content["proportions"] is None else dict(content["proportions"]),
        start_theta=start["theta"], start_items=tuple(start["items"]), se=stop["se"], min_items=stop["min_items"],
        max_items=stop["max_items"])
    return merged["bank"], rules


def facets_of_items(questionnaire: Questionnaire, scale: str) -> dict[str, str]:
    """Item -> facet of a domain made of facets (empty for a scale that keys its own items)."""
    return {k.item: facet for facet in questionnaire.facets_of.get(scale, []) for k in questionnaire.keys(facet)}


def resolve_bank(reference: str, questionnaire: Questionnaire | None = None) -> dict[str, IRTCalibration]:
    """Scale -> calibration of a bank reference (bundled id, folder or file; paths relative to the questionnaire's
    file, or to the working directory without one)."""
    if reference in bundled_irt_calibrations():
        return load_irt_calibrations(reference)
    source = Path(questionnaire.source) if questionnaire is not None else Path()
    path = Path(reference)
    if not path.is_absolute() and source.suffix in (".yaml", ".yml") and source.parent.is_dir():
        path = source.parent / path
    if path.is_file():
        calibration = load_irt_calibration(path)
        return {calibration.scale: calibration}
    if path.is_dir():
        return load_irt_calibrations(path)
    bundled = ", ".join(bundled_irt_calibrations()) or "none"
    raise IRTCalibrationError(f"item bank {reference!r}: no bundled IRT calibration of that id (bundled: {bundled}) "
                              f"and no file or folder {path}")


def adaptive_plan(questionnaire: Questionnaire,
                  calibrations: Mapping[str, IRTCalibration] | None = None) -> AdaptivePlan | None:
    """The questionnaire's adaptive plan (None without ``administration.adaptive``).

    ``calibrations`` (scale -> calibration) gives the banks instead of reading the files named in the
    questionnaire (a stored session uses the banks it started with).

    Raises
    ------
    CATError
        A bank that does not fit (the first problem :func:`bank_problems` finds).
    IRTCalibrationError
        A bank that cannot be read.
    """
    scales = adaptive_scales(questionnaire)
    if not scales:
        return None
    resolved: dict[str, IRTCalibrationError | dict[str, IRTCalibration]] = {}
    plan = []
    for scale in scales:
        reference, rules = scale_rules(questionnaire, scale)
        if calibrations is not None:
            if scale not in calibrations:
                raise CATError(f"no item bank given for adaptive scale {scale!r}")
            calibration = calibrations[scale]
        else:
            if reference not in resolved:
                resolved[reference] = resolve_bank(reference, questionnaire)
            bank = resolved[reference]
            assert isinstance(bank, dict)
            if scale not in bank:
                raise CATError(f"item bank {reference!r} has no calibration of scale {scale!r} "
                               f"(it calibrates {', '.join(bank)})")
            calibration = bank[scale]
        problems = bank_problems(questionnaire, scale, calibration)
        if problems:
            raise CATError(f"adaptive scale {scale!r}: {problems[0][1]}")
        engine = CATEngine(scale, calibration.bank(), rules, facets_of_items(questionnaire, scale))
        plan.append(AdaptiveScale(scale, calibration, engine))
    adaptive_items = {i for s in plan for i in s.items}
    fixed = tuple(i for i in questionnaire.item_order(_any_seed(questionnaire)) if i not in adaptive_items)
    return AdaptivePlan(tuple(plan), fixed)


def _any_seed(questionnaire: Questionnaire) -> int | None:
    admin = questionnaire.spec.administration
    return None if admin.order == "fixed" else (admin.seed if admin.seed is not None else 0)


def bank_problems(questionnaire: Questionnaire, scale: str, calibration: IRTCalibration) -> list[tuple[str, str]]:
    """How a calibration does not fit a scale, as (kind, message): items, keys, answers and item content."""
    problems: list[tuple[str, str]] = []
    keyed = {k.item: k.sign for k in questionnaire.keys(scale)}
    calibrated = {i["id"]: i for i in calibration.items}
    missing = [i for i in keyed if i not in calibrated]
    extra = [i for i in calibrated if i not in keyed]
    if missing:
        problems.append(("items", f"the bank {calibration.name!r} does not calibrate item(s) {', '.join(missing)} of "
                                  f"scale {scale!r}"))
    if extra:
        problems.append(("items", f"the bank {calibration.name!r} calibrates item(s) {', '.join(extra)}, which scale "
                                  f"{scale!r} does not key"))
    for item, sign in keyed.items():
        if item not in calibrated:
            continue
        entry = calibrated[item]
        if int(entry["key"]) != sign:
            way = {1: "keyed positively", -1: "reverse keyed"}
            problems.append(("keys", f"item {item!r} is {way[sign]} in scale {scale!r} but {way[int(entry['key'])]} "
                                     f"in the bank {calibration.name!r}"))
        allowed = _answers(questionnaire, item)
        if allowed is not None and sorted(entry["answers"]) != sorted(allowed):
            problems.append(("answers", f"item {item!r}: the bank's answers {sorted(entry['answers'])} are not the "
                                        f"item's options {sorted(allowed)}"))
    problems += _content_problems(questionnaire, scale, calibration, [i for i in keyed if i in calibrated])
    return problems


def _answers(questionnaire: Questionnaire, item: str) -> list[float] | None:
    fmt = questionnaire.response_format(item)
    if isinstance(fmt, LikertFormat):
        return [o.value for o in fmt.options]
    if isinstance(fmt, NumberFormat):
        return None
    return [0, 1]


def _content_problems(questionnaire: Questionnaire, scale: str, calibration: IRTCalibration,
                      items: list[str]) -> list[tuple[str, str]]:
    """Items whose text or options differ from the questionnaire the bank was calibrated on (when it is known)."""
    wanted = calibration.questionnaire["content_hash"]
    if wanted == questionnaire.content_hash:
        return []
    calibrated_on = _calibrated_questionnaire(calibration)
    if calibrated_on is None:
        return [("content-unknown", f"the bank {calibration.name!r} was calibrated on "
                 f"{calibration.questionnaire['questionnaire_id']} ({wanted[:19]}...), which is not available here: "
                 "its item texts cannot be compared with these")]
    out = []
    for item in items:
        if item not in calibrated_on.item_ids:
            out.append(("content", f"item {item!r} is not in {calibrated_on.id}, on which the bank was calibrated"))
            continue
        mine, theirs = questionnaire.item(item), calibrated_on.item(item)
        if mine.text != theirs.text:
            languages = sorted(lang for lang in set(mine.text) | set(theirs.text)
                               if mine.text.get(lang) != theirs.text.get(lang))
            out.append(("content", f"item {item!r}: its text in {', '.join(languages)} differs from the text "
                                   f"calibrated in {calibrated_on.id} {calibrated_on.version}"))
        if questionnaire.response_format(item) != calibrated_on.response_format(item):
            out.append(("content", f"item {item!r}: its response options differ from those calibrated in "
                                   f"{calibrated_on.id} {calibrated_on.version}"))
    return out


def _calibrated_questionnaire(calibration: IRTCalibration) -> Questionnaire | None:
    """The bundled questionnaire whose content the calibration was made for, if it is bundled."""
    from profiler.questionnaire.loader import bundled_questionnaires, load_questionnaire

    qid = calibration.questionnaire["questionnaire_id"]
    if qid not in bundled_questionnaires():
        return None
    try:
        found = load_questionnaire(qid)
    except ProfilerError:
        return None
    return found if found.content_hash == calibration.questionnaire["content_hash"] else None


def check_adaptive(questionnaire: Questionnaire, doc: YamlDocument) -> list[ErrorDetail]:
    """Every problem of the adaptive administration against its banks, located in ``doc`` (``profiler check``).

    Errors: a bank that cannot be read or does not calibrate a scale, items missing or extra, keyed differently,
    answers that are not the item's options, texts or options that differ from the questionnaire it was
    calibrated on, rules the bank cannot meet. A warning when the calibrated questionnaire is not available to
    compare texts with.
    """
    adaptive = questionnaire.spec.administration.adaptive
    if adaptive is None:
        return []
    base = ("administration", "adaptive")
    found: list[ErrorDetail] = []
    banks: dict[str, dict[str, IRTCalibration] | str] = {}
    for scale in adaptive_scales(questionnaire):
        own = (adaptive.scales or {}).get(scale)
        path = base + ("scales", scale) if adaptive.scales is not None else base
        bank_path = path + ("bank",) if own is not None and "bank" in own.model_fields_set else base + ("bank",)
        reference, rules = scale_rules(questionnaire, scale)
        if reference not in banks:
            try:
                banks[reference] = resolve_bank(reference, questionnaire)
            except ProfilerError as exc:
                banks[reference] = str(exc)
                found.append(doc.error(bank_path, str(exc)))
        bank = banks[reference]
        if isinstance(bank, str):
            continue
        if scale not in bank:
            found.append(doc.error(bank_path, f"item bank {reference!r} has no calibration of scale {scale!r} "
                                              f"(it calibrates {', '.join(bank)})"))
            continue
        calibration = bank[scale]
        problems = bank_problems(questionnaire, scale, calibration)
        for kind, message in problems:
            severity = "warning" if kind == "content-unknown" else "error"
            found.append(doc.error(bank_path, f"scale {scale!r}: {message}", severity=severity))
        if any(kind != "content-unknown" for kind, _ in problems):
            continue
        try:
            CATEngine(scale, calibration.bank(), rules, facets_of_items(questionnaire, scale))
        except CATError as exc:
            found.append(doc.error(path, str(exc)))
    return found
