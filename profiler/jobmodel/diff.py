"""What changed between two versions of a job model: weights, thresholds, criteria, knock-outs (a criterion's
``minimum``), justifications (rationales, the job analysis, protected-attribute exceptions), evidence, as rows
a psychologist reads.

Works on the job model's canonical document (``JobModel.spec.model_dump(mode="json")``, as the store keeps it
under the content hash), so that a version recorded years ago compares with today's file. Lists of things
with an ``id`` (criteria, evidence) are matched by id, not by position: moving a criterion is no change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Sections in the order a reader wants them, with a readable name; anything else follows under its own key.
SECTIONS = {
    "version": "Version",
    "bands": "Thresholds",
    "criteria": "Criteria",
    "evidence": "Evidence",
    "protected_exceptions": "Protected-attribute exceptions",
    "job_analysis": "Job analysis",
    "role": "Role",
    "questionnaire": "Questionnaire",
    "norms": "Norm group",
}
# Field names said in the words of the job-model guide.
FIELDS = {
    "minimum": "knock-out (minimum; below it a person reviews)",
    "rationale": "justification (rationale)",
    "justification": "justification",
    "advance_from": "advance from (score)",
    "not_advance_below": "not advance below (score)",
    "review_margin": "review margin (points)",
    "if_unknown_could_change": "if an unknown input could change the band",
    "missing": "when the input is missing",
}
IGNORED = ("id",)  # the same model by definition


@dataclass(frozen=True)
class Change:
    """One difference: where (section, item, field), what it was and what it is (None: absent)."""

    section: str
    item: str
    field: str
    before: Any
    after: Any

    @property
    def kind(self) -> str:
        """``added``, ``removed`` or ``changed``."""
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "changed"

    @staticmethod
    def text(value: Any) -> str:
        """A value as one readable line (a mapping or list as compact JSON; absent as an empty string)."""
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def _by_id(items: list[Any]) -> dict[str, Any] | None:
    """A list of mappings that all have a distinct ``id``, keyed by it; None for any other list."""
    if not all(isinstance(i, Mapping) and isinstance(i.get("id"), str) for i in items):
        return None
    keyed = {i["id"]: i for i in items}
    return keyed if len(keyed) == len(items) else None


def _fields(section: str, item: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """Field by field; a nested mapping (a transform, a norm) is one field, shown whole."""
    out = []
    for key in sorted(set(before) | set(after), key=lambda k: (k in ("rationale", "justification"), k)):
        if key in IGNORED or before.get(key) == after.get(key):
            continue
        out.append(Change(section, item, FIELDS.get(key, key.replace("_", " ")), before.get(key), after.get(key)))
    return out


def _section(name: str, before: Any, after: Any) -> list[Change]:
    title = SECTIONS.get(name, name.replace("_", " "))
    if before == after:
        return []
    if isinstance(before, list | type(None)) and isinstance(after, list | type(None)):
        old, new = _by_id(before or []), _by_id(after or [])
        if old is not None and new is not None:
            out = []
            for key in [*old, *(k for k in new if k not in old)]:
                if key not in new:
                    out.append(Change(title, key, "(the whole item)", old[key], None))
                elif key not in old:
                    out.append(Change(title, key, "(the whole item)", None, new[key]))
                else:
                    out += _fields(title, key, old[key], new[key])
            return out
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        return _fields(title, "", before, after)
    return [Change(title, "", "", before, after)]


def job_model_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """Every difference between two job-model documents, thresholds and criteria first.

    Parameters
    ----------
    before, after : mapping
        Job model documents (``JobModel.spec.model_dump(mode="json")`` or the stored canonical JSON, parsed).

    Returns
    -------
    list of Change
        Empty when the documents are equal. A criterion or evidence added or removed is one row with the whole
        item; a changed one, a row per field that changed (weight, transform, knock-out, rationale...).
    """
    keys = [k for k in SECTIONS if k in before or k in after]
    keys += sorted((set(before) | set(after)) - set(SECTIONS) - set(IGNORED))
    out = []
    for key in keys:
        out += _section(key, before.get(key), after.get(key))
    return out


__all__ = ["Change", "FIELDS", "SECTIONS", "job_model_diff"]
