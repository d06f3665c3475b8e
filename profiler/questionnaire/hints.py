"""One slip, several errors: find the cause and say it first.

A misspelt key (``kyes:`` for ``keys:``) or item id makes every reference to it fail too, so an author
reads five errors that have one cause. For each likely slip (an unknown key with a close known one, an
item or scale id close to a name that is referenced but missing) the document is validated again with the
slip corrected; a correction that makes at least two errors disappear becomes a hint that leads the list,
naming the lines of the errors it explains. Nothing is guessed that the re-validation does not confirm.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from profiler.errors import ErrorDetail
from profiler.questionnaire.references import _list, _mapping
from profiler.yamlsource import Path_, YamlDocument, format_path

MAX_CANDIDATES = 12  # each candidate costs one validation of the document
_DID_YOU_MEAN = re.compile(r"\(did you mean '([^']+)'\?\)$")
_REVERSE_KEY = re.compile(r"write (-\S+) to reverse-key")


@dataclass(frozen=True)
class _Fix:
    path: Path_  # where the slip is
    key: bool  # a mapping key (renamed) rather than a value (replaced)
    new: str
    says: str  # the hint's words


def _replace(node: Any, path: Path_, fix: _Fix) -> Any:
    """``node`` with the slip at ``path`` corrected; only the containers along the path are copied."""
    head, rest = path[0], path[1:]
    value = _replace(node[head], rest, fix) if rest else fix.new
    if isinstance(node, dict):
        if not rest and fix.key:
            return {(fix.new if k == head else k): v for k, v in node.items()}
        return {k: (value if k == head else v) for k, v in node.items()}
    return [value if i == head else v for i, v in enumerate(node)]


def _corrected(doc: YamlDocument, fix: _Fix) -> YamlDocument:
    return YamlDocument(_replace(doc.data, fix.path, fix), doc.file, doc.positions, doc.key_positions)


def _value_at(data: Any, path: Path_) -> Any:
    for part in path:
        data = data[part]
    return data


def _candidates(doc: YamlDocument, errors: list[ErrorDetail]) -> Iterator[_Fix]:
    key_paths = {format_path(p): p for p in doc.key_positions}
    value_paths = {format_path(p): p for p in doc.positions}
    for error in errors:
        suggestion = _DID_YOU_MEAN.search(error.message) or _REVERSE_KEY.search(error.message)
        if suggestion is None:
            continue
        new = suggestion.group(1)
        if error.message.startswith("unknown key") and error.path in key_paths:
            yield _Fix(key_paths[error.path], True, new, f"{key_paths[error.path][-1]!r} is probably {new!r}")
        elif error.path in value_paths and isinstance(old := _value_at(doc.data, value_paths[error.path]), str):
            sign = old.strip()[0] if old.strip()[:1] in ("-", "+") and not new.startswith("-") else ""
            yield _Fix(value_paths[error.path], False, sign + new, f"{old!r} is probably {sign + new!r}")
    data = doc.data if isinstance(doc.data, dict) else {}
    yield from _id_slips(data, "items", _item_references(data))
    yield from _id_slips(data, "scales", _facet_references(data))


def _id_slips(data: dict, section: str, referenced: set[str]) -> Iterator[_Fix]:
    """An id written differently where it is defined (``T22``) and where it is used (``T2``): rename the definition."""
    defined = [(i, e["id"]) for i, e in enumerate(_list(data.get(section)))
               if isinstance(e, dict) and isinstance(e.get("id"), str)]
    counts: dict[str, int] = {}
    for _, d in defined:
        counts[d] = counts.get(d, 0) + 1
    kind = section[:-1]
    # Ids defined but used nowhere come first: with systematic ids (N1_1 ... C6_4) many are equally close.
    unused = [d for d in counts if d not in referenced]
    for name in sorted(referenced - set(counts)):
        close = set(difflib.get_close_matches(name, unused, n=3, cutoff=0.6)
                    or difflib.get_close_matches(name, list(counts), n=3, cutoff=0.6))
        for i, d in defined:
            # A close id, or the second of two identical ids (written twice where another was meant).
            if d in close or (counts[d] > 1 and i != next(j for j, e in defined if e == d)):
                yield _Fix((section, i, "id"), False, name, f"{kind} id {d!r} here is probably {name!r}, which the "
                           "file uses but never defines")


def _item_references(data: dict) -> set[str]:
    names = {entry.strip().lstrip("+-").strip() for scale in _list(data.get("scales"))
             for entry in _list(_mapping(scale).get("keys")) if isinstance(entry, str)}
    for block in _list(_mapping(data.get("administration")).get("blocks")):
        names.update(n for n in _list(_mapping(block).get("items")) if isinstance(n, str))
    return names


def _facet_references(data: dict) -> set[str]:
    return {f for s in _list(data.get("scales")) for f in _list(_mapping(s).get("facets")) if isinstance(f, str)}


def leading_hints(doc: YamlDocument, errors: list[ErrorDetail],
                  validate: Callable[[YamlDocument], list[ErrorDetail]]) -> list[ErrorDetail]:
    """Hints for the slips that explain two or more of ``errors`` (re-validated with ``validate``)."""
    if len(errors) < 2:
        return []
    before = {(e.path, e.message): e for e in errors}
    found: list[tuple[_Fix, list[ErrorDetail]]] = []
    seen: set[tuple] = set()
    for fix in _candidates(doc, errors):
        if (fix.path, fix.new) in seen:
            continue
        seen.add((fix.path, fix.new))
        if len(seen) > MAX_CANDIDATES:
            break
        after = {(e.path, e.message) for e in validate(_corrected(doc, fix))}
        resolved = [e for k, e in before.items() if k not in after]
        if len(resolved) >= 2:
            found.append((fix, resolved))
    hints, explained = [], set()
    for fix, resolved in sorted(found, key=lambda f: -len(f[1])):
        new = [e for e in resolved if (e.path, e.message) not in explained]
        if len(new) < 2:
            continue
        explained.update((e.path, e.message) for e in new)
        lines = ", ".join(str(line) for line in sorted({e.line for e in new}))
        share = (f"{len(new)} of the {len(errors)}" if len(new) < len(errors)
                 else "both" if len(new) == 2 else f"all {len(new)}")
        hints.append(doc.error(fix.path, f"{fix.says}: correcting it resolves {share} errors below (lines {lines})",
                               key=fix.key, severity="hint"))
    return hints
