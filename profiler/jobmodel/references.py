"""Checks that span a job model and what it refers to: its questionnaire and its evidence (protected attributes are
refused by the spec itself, :mod:`profiler.jobmodel.protected`).

Like the questionnaire's cross-reference checks, they run on the raw document so that every problem
is reported at once, each located in the file.
"""

from __future__ import annotations

from typing import Any

from profiler.documents import did_you_mean
from profiler.errors import ErrorDetail
from profiler.jobmodel.protected import protected_match
from profiler.questionnaire.questionnaire import Questionnaire
from profiler.yamlsource import YamlDocument

_BINARY_KINDS = {"certification", "education"}


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _input_range(ref: str, evidence: dict[str, dict], questionnaire: Questionnaire | None) -> tuple[float, float] | None:
    """The possible range of an input (None when it cannot be told: an unknown scale or malformed evidence)."""
    source, _, name = ref.partition(".")
    if source == "trait":
        if questionnaire is None or name not in questionnaire.scale_ids:
            return None
        from profiler.jobmodel.compiled import _trait_range

        return _trait_range(questionnaire, name)
    item = evidence.get(name, {})
    kind = item.get("kind")
    if kind == "test_score" and all(isinstance(item.get(k), (int, float)) for k in ("min", "max")):
        return float(item["min"]), float(item["max"])
    if kind == "interview_rating":
        return 1.0, 5.0
    if kind == "experience":
        top = item.get("max", 50)
        return (0.0, float(top)) if isinstance(top, (int, float)) else None
    if kind in _BINARY_KINDS:
        return 0.0, 1.0
    return None


def minimum_problems(data: Any, questionnaire: Questionnaire | None) -> list[tuple[tuple[Any, ...], str]]:
    """A criterion's minimum outside its input's possible range: at or below the lowest value it routes nobody,
    above the highest everybody. ``data`` is a job model as a mapping (a parsed document or a spec's dump)."""
    data = _mapping(data)
    evidence = {item.get("id"): item for item in map(_mapping, _list(data.get("evidence")))}
    problems = []
    for i, criterion in enumerate(map(_mapping, _list(data.get("criteria")))):
        minimum, ref = criterion.get("minimum"), criterion.get("input")
        if not isinstance(minimum, (int, float)) or isinstance(minimum, bool) or not isinstance(ref, str):
            continue
        bounds = _input_range(ref, evidence, questionnaire)
        if bounds is None:
            continue
        low, high = bounds
        if minimum <= low:
            problems.append((("criteria", i, "minimum"), f"minimum {minimum:g} is at or below the lowest possible "
                             f"value {low:g} of {ref}: it would never route anyone to review"))
        elif minimum > high:
            problems.append((("criteria", i, "minimum"), f"minimum {minimum:g} is above the highest possible value "
                             f"{high:g} of {ref}: it would route everyone to review"))
    return problems


def check_references(doc: YamlDocument, questionnaire: Questionnaire | None) -> list[ErrorDetail]:
    """Every cross-reference problem of a job-model document (``questionnaire`` None: it could not be loaded)."""
    data = _mapping(doc.data)
    errors: list[ErrorDetail] = []
    err = lambda path, message: errors.append(doc.error(path, message))  # noqa: E731

    qid = data.get("questionnaire")
    if questionnaire is not None and isinstance(data.get("questionnaire_hash"), str):
        if data["questionnaire_hash"] != questionnaire.content_hash:
            err(("questionnaire_hash",), f"questionnaire {qid!r} has content {questionnaire.content_hash}, not the "
                "pinned hash: the questionnaire changed since this model was written; review the model and update the pin")

    evidence_kinds: dict[str, str] = {}
    protected: set[str] = set()
    for i, item in enumerate(_list(data.get("evidence"))):
        item = _mapping(item)
        eid = item.get("id")
        if not isinstance(eid, str):
            continue
        if eid in evidence_kinds:
            err(("evidence", i, "id"), f"duplicate evidence id {eid!r}")
            continue
        evidence_kinds[eid] = item.get("kind") if isinstance(item.get("kind"), str) else ""
        # protected attributes are refused by the spec itself (profiler.jobmodel.protected); such an item is
        # not reported again as unused
        if any(isinstance(item.get(key), str) and protected_match(item[key]) for key in ("id", "name", "competency")):
            protected.add(eid)

    used: set[str] = set()
    seen_criteria: set[str] = set()
    trait_only = True
    criteria = _list(data.get("criteria"))
    for i, criterion in enumerate(criteria):
        criterion = _mapping(criterion)
        cid = criterion.get("id")
        if isinstance(cid, str):
            if cid in seen_criteria:
                err(("criteria", i, "id"), f"duplicate criterion id {cid!r}")
            seen_criteria.add(cid)
        ref = criterion.get("input")
        if not isinstance(ref, str) or "." not in ref:
            continue
        source, _, name = ref.partition(".")
        if protected_match(name):
            continue  # refused by the spec itself
        kind = _mapping(criterion.get("transform")).get("kind")
        if source == "trait":
            if questionnaire is not None and name not in questionnaire.scale_ids:
                err(("criteria", i, "input"), f"questionnaire {questionnaire.id!r} has no scale {name!r}"
                    f"{did_you_mean(name, questionnaire.scale_ids)}")
            if kind == "binary":
                err(("criteria", i, "transform", "kind"), f"a trait scale is not 0/1: use linear, target_range "
                    f"or saturating for {ref!r}")
        elif source == "evidence":
            trait_only = False
            if name not in evidence_kinds:
                err(("criteria", i, "input"), f"evidence {name!r} is not declared under 'evidence'"
                    f"{did_you_mean(name, evidence_kinds)}")
                continue
            used.add(name)
            is_binary = evidence_kinds[name] in _BINARY_KINDS
            if is_binary and kind not in (None, "binary"):
                err(("criteria", i, "transform", "kind"), f"evidence {name!r} is held or not (0/1): use the "
                    "binary transform")
            elif not is_binary and kind == "binary":
                err(("criteria", i, "transform", "kind"), f"evidence {name!r} is not 0/1: use linear, "
                    "target_range or saturating")
    for path, message in minimum_problems(data, questionnaire):
        err(path, message)
    if criteria and trait_only and all(isinstance(_mapping(c).get("input"), str) for c in criteria):
        err(("criteria",), "only self-report personality scales decide in this model; add skill evidence "
            "(work sample, structured interview, ability test, experience): personality scales alone may not "
            "decide on a candidate")
    for i, item in enumerate(_list(data.get("evidence"))):
        eid = _mapping(item).get("id")
        if isinstance(eid, str) and eid not in used and eid in evidence_kinds and eid not in protected:
            err(("evidence", i, "id"), f"evidence {eid!r} is declared but no criterion uses it; collect only what "
                "the model uses (data minimisation)")
    return errors
