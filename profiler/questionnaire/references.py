"""Checks that span several parts of a questionnaire file (ids, keys, expected answers, languages).

They run on the raw document, defensively, so that they report their problems even when pydantic has
found others elsewhere in the file: an author sees every problem at once.
"""

from __future__ import annotations

import re
from typing import Any

from profiler.documents import did_you_mean
from profiler.errors import ErrorDetail
from profiler.yamlsource import YamlDocument

KEY_PATTERN = re.compile(r"^([+-]?)\s*([A-Za-z][A-Za-z0-9_.\-]*)$")


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_key(entry: Any) -> tuple[int, str] | None:
    """``"-E2"`` -> ``(-1, "E2")``; ``"E1"`` -> ``(1, "E1")``; None when malformed."""
    if not isinstance(entry, str):
        return None
    match = KEY_PATTERN.match(entry.strip())
    if not match:
        return None
    return (-1 if match.group(1) == "-" else 1), match.group(2)


def format_values(fmt: Any) -> list[float] | tuple[float, float] | None:
    """The answers a response format accepts: a list of option values, or a (min, max) range for numbers."""
    fmt = _mapping(fmt)
    if fmt.get("type") == "likert":
        values = [o.get("value") for o in _list(fmt.get("options")) if isinstance(o, dict)]
        return [v for v in values if _is_number(v)]
    if fmt.get("type") == "yes_no":
        return [0, 1]
    if fmt.get("type") == "number" and _is_number(fmt.get("min")) and _is_number(fmt.get("max")):
        return (fmt["min"], fmt["max"])
    return None


def accepts(allowed: list[float] | tuple[float, float], value: Any) -> bool:
    if not _is_number(value):
        return False
    if isinstance(allowed, tuple):
        return allowed[0] <= value <= allowed[1]
    return value in allowed


def check_references(doc: YamlDocument) -> list[ErrorDetail]:
    """Every cross-reference problem in a questionnaire document."""
    data = _mapping(doc.data)
    errors: list[ErrorDetail] = []
    err = lambda path, message, key=False: errors.append(doc.error(path, message, key=key))  # noqa: E731

    languages = _mapping(data.get("languages"))
    default_language = data.get("default_language")
    if isinstance(default_language, str) and languages and default_language not in languages:
        err(("default_language",), f"default language {default_language!r} is not among the languages "
            f"({', '.join(languages)}){did_you_mean(default_language, languages)}")
    _check_translations(doc, data, languages, default_language, err)

    formats = _mapping(data.get("response_formats"))
    for name, fmt in formats.items():
        _check_format(name, _mapping(fmt), err)
    default_format = _mapping(data.get("defaults")).get("response_format")
    if isinstance(default_format, str) and default_format not in formats:
        err(("defaults", "response_format"), f"response format {default_format!r} is not defined"
            f"{did_you_mean(default_format, formats)}")

    items = _list(data.get("items"))
    item_index: dict[str, int] = {}
    for i, item in enumerate(items):
        item = _mapping(item)
        item_id = item.get("id")
        if not isinstance(item_id, str):
            continue
        if item_id in item_index:
            first_line = doc.locate(("items", item_index[item_id]))[0]
            err(("items", i, "id"), f"duplicate item id {item_id!r} (first used on line {first_line})")
            continue
        item_index[item_id] = i
        fmt_name = item.get("format", default_format)
        if isinstance(item.get("format"), str) and item["format"] not in formats:
            err(("items", i, "format"), f"item {item_id!r} uses response format {item['format']!r}, which is not "
                f"defined{did_you_mean(item['format'], formats)}")
        elif fmt_name is None and "format" not in item:
            err(("items", i), f"item {item_id!r} has no response format; give it 'format' or set "
                "defaults.response_format")
        validity = _mapping(item.get("validity"))
        if "expected" in validity and isinstance(fmt_name, str) and fmt_name in formats:
            allowed = format_values(formats[fmt_name])
            expected = validity["expected"]
            for value in expected if isinstance(expected, list) else [expected]:
                if allowed is not None and _is_number(value) and not accepts(allowed, value):
                    shown = allowed if isinstance(allowed, list) else f"{allowed[0]}..{allowed[1]}"
                    err(("items", i, "validity", "expected"), f"{validity.get('kind', 'validity')} item {item_id!r} "
                        f"expects the answer {value}, which is not an option of format {fmt_name!r} ({shown})")

    validity_items = {
        _mapping(it).get("id") for it in items
        if isinstance(_mapping(it).get("validity"), dict) and isinstance(_mapping(it).get("id"), str)
    }
    _check_scales(doc, data, item_index, validity_items, err)
    for i, exclusion in enumerate(_list(data.get("scoring_exclusions"))):
        item_id = _mapping(exclusion).get("item")
        if isinstance(item_id, str) and item_id not in item_index:
            err(("scoring_exclusions", i, "item"), f"excluded item {item_id!r} does not exist"
                f"{did_you_mean(item_id, item_index)}")
        elif isinstance(item_id, str) and item_id in validity_items:
            err(("scoring_exclusions", i, "item"), f"item {item_id!r} is a validity item and never scored anyway")
    _check_blocks(data, item_index, err)
    _check_adaptive(data, item_index, err)
    return errors


def _check_translations(doc, data, languages, default_language, err) -> None:
    """Texts in declared languages only; the default language present in every text."""

    def visit(node: Any, path: tuple) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                if key in _TRANSLATION_KEYS and isinstance(child, dict):
                    check(child, path + (key,))
                else:
                    visit(child, path + (key,))
        elif isinstance(node, list):
            for i, child in enumerate(node):
                visit(child, path + (i,))

    def check(texts: dict, path: tuple) -> None:
        if isinstance(default_language, str) and languages and default_language in languages and \
                default_language not in texts:
            err(path, f"text missing in the default language {default_language!r}")
        for code in texts:
            if languages and code not in languages:
                err(path + (code,), f"text in language {code!r}, which is not declared under 'languages'"
                    f"{did_you_mean(code, languages)}", key=True)

    visit({k: v for k, v in data.items() if k != "languages"}, ())


_TRANSLATION_KEYS = {"title", "description", "text", "label", "name", "low", "high", "yes", "no", "unit"}


def _check_format(name: str, fmt: dict, err) -> None:
    if fmt.get("type") == "likert":
        previous = None
        for j, option in enumerate(_list(fmt.get("options"))):
            value = _mapping(option).get("value")
            if not _is_number(value):
                continue
            if previous is not None and value <= previous:
                err(("response_formats", name, "options", j, "value"), f"option values of {name!r} must be "
                    f"strictly increasing: {value} follows {previous}")
            previous = value
    if fmt.get("type") == "number" and _is_number(fmt.get("min")) and _is_number(fmt.get("max")):
        if fmt["min"] >= fmt["max"]:
            err(("response_formats", name, "max"), f"max ({fmt['max']}) must be greater than min ({fmt['min']})")


# Reverse-key marks of other tools ("N2_4R", "N2_4(R)", "N2_4-") where profiler writes "-N2_4".
_REVERSE_SUFFIX = re.compile(r"^\s*(.+?)\s*(?:[_.\-]?[Rr]|\([Rr]\)|-)\s*$")


def _reverse_key_hint(entry: str, item_index: dict[str, int]) -> str | None:
    """``"; write -N2_4 to reverse-key it"`` when ``entry`` is an item id with another tool's reverse mark."""
    match = _REVERSE_SUFFIX.match(entry)
    if match and match.group(1) in item_index:
        return f"; write -{match.group(1)} to reverse-key item {match.group(1)!r}"
    return None


def _check_scales(doc, data, item_index, validity_items, err) -> None:
    scales = _list(data.get("scales"))
    scale_index: dict[str, int] = {}
    for i, scale in enumerate(scales):
        scale_id = _mapping(scale).get("id")
        if isinstance(scale_id, str):
            if scale_id in scale_index:
                first_line = doc.locate(("scales", scale_index[scale_id]))[0]
                err(("scales", i, "id"), f"duplicate scale id {scale_id!r} (first used on line {first_line})")
            else:
                scale_index[scale_id] = i
    keyed: dict[str, list[tuple[int, int, int]]] = {}  # item -> (scale index, key index, sign) in file order
    parent_of: dict[str, str] = {}
    # A key naming no item is most often the id of an item no scale keys (N1_1 written, N1_l defined): with
    # systematic ids (N1_1 ... C6_4) many ids are equally close, so those are suggested first.
    named = {p[1] for s in scales for e in _list(_mapping(s).get("keys")) if (p := parse_key(e)) is not None}
    unkeyed = [i for i in item_index if i not in named and i not in validity_items]
    for i, scale in enumerate(scales):
        scale = _mapping(scale)
        scale_id = scale.get("id")
        keys, facets = scale.get("keys"), scale.get("facets")
        if keys is not None and facets is not None:
            err(("scales", i, "facets"), f"scale {scale_id!r} lists both keys and facets; a domain takes its "
                "items from its facets, so give keys to the facets only")
        elif keys is None and facets is None and "id" in scale:
            err(("scales", i), f"scale {scale_id!r} has neither keys nor facets")
        seen: dict[str, int] = {}
        for j, entry in enumerate(_list(keys)):
            parsed = parse_key(entry)
            hint = _reverse_key_hint(entry, item_index) if isinstance(entry, str) else None
            if parsed is None:
                if isinstance(entry, str):
                    err(("scales", i, "keys", j), f"{entry!r} is not an item key" + (hint or "; write an item id, "
                        "with '-' in front when the item is reverse keyed (e.g. -E2)"))
                continue
            sign, item_id = parsed
            if item_id not in item_index:
                err(("scales", i, "keys", j), f"scale {scale_id!r} names item {item_id!r}, which does not exist"
                    + (hint or did_you_mean(item_id, unkeyed) or did_you_mean(item_id, item_index)))
            elif item_id in validity_items:
                err(("scales", i, "keys", j), f"scale {scale_id!r} keys item {item_id!r}, which is a validity "
                    "item and never scored; remove it from the keys")
            elif item_id in seen:
                err(("scales", i, "keys", j), f"item {item_id!r} is listed twice in scale {scale_id!r}")
            else:
                keyed.setdefault(item_id, []).append((i, j, sign))
            seen[item_id] = j
        for j, facet in enumerate(_list(facets)):
            if not isinstance(facet, str):
                continue
            if facet not in scale_index:
                err(("scales", i, "facets", j), f"scale {scale_id!r} names facet {facet!r}, which is not a scale"
                    f"{did_you_mean(facet, scale_index)}")
            elif facet == scale_id:
                err(("scales", i, "facets", j), f"scale {scale_id!r} lists itself as a facet")
            elif facet in parent_of:
                err(("scales", i, "facets", j), f"facet {facet!r} already belongs to domain {parent_of[facet]!r}")
            elif isinstance(scale_id, str):
                parent_of[facet] = scale_id
    # Facets of facets are allowed, cycles are not.
    cyclic: set[str] = set()
    for start in parent_of:
        node, visited = start, set()
        while node in parent_of:
            if node in visited:
                err(("scales", scale_index[start], "facets"), f"facets of {start!r} form a cycle")
                cyclic.add(start)
                break
            visited.add(node)
            node = parent_of[node]
    for item_id, i in item_index.items():
        if item_id not in keyed and item_id not in validity_items:
            err(("items", i, "id"), f"item {item_id!r} is in no scale; add it to a scale's keys or mark it "
                "as a validity item")
    if not cyclic:
        _check_shared_items(doc, data, scales, item_index, keyed, parent_of, err)


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _depth(scale_id: Any, parent_of: dict[str, str]) -> int:
    """0 for a scale that is nobody's facet, 1 for a facet of it, and so on."""
    depth = 0
    while scale_id in parent_of:
        scale_id, depth = parent_of[scale_id], depth + 1
    return depth


def _check_shared_items(doc, data, scales, item_index, keyed, parent_of, err) -> None:
    """An item keyed in several scales: never in opposite directions; at one level only when declared."""
    items = _list(data.get("items"))
    # A malformed id (a list, a number) is reported elsewhere; here it must not break the set and dict lookups.
    scale_id = lambda i: _text_or_none(_mapping(scales[i]).get("id"))  # noqa: E731
    line = lambda i, j: doc.locate(("scales", i, "keys", j))[0]  # noqa: E731
    for item_id, places in keyed.items():
        shared = _mapping(_mapping(items[item_index[item_id]]).get("shared"))
        declared = [s for s in _list(shared.get("scales")) if isinstance(s, str)]
        in_scales = [scale_id(i) for i, _, _ in places]
        for k, name in enumerate(_list(shared.get("scales"))):
            if isinstance(name, str) and name not in in_scales:
                err(("items", item_index[item_id], "shared", "scales", k), f"item {item_id!r} declares it is "
                    f"shared by scale {name!r}, but that scale does not key it"
                    f"{did_you_mean(name, [s for s in in_scales if s not in declared])}")
        if len(places) < 2:
            continue
        positive = [p for p in places if p[2] > 0]
        negative = [p for p in places if p[2] < 0]
        if positive and negative:
            for here in places:
                there = (negative if here[2] > 0 else positive)[0]
                direction = "keyed positively" if here[2] > 0 else "reverse keyed"
                other = "reverse keyed" if here[2] > 0 else "keyed positively"
                err(("scales", here[0], "keys", here[1]), f"item {item_id!r} is {direction} in scale "
                    f"{scale_id(here[0])!r} but {other} in scale {scale_id(there[0])!r} "
                    f"(line {line(there[0], there[1])}); an item measures in one direction, and a domain made of both scales would "
                    "score it one way only: key it alike in both, or use it in one scale")
            continue
        first_at_depth: dict[int, tuple[int, int, int]] = {}
        for place in places:
            depth = _depth(scale_id(place[0]), parent_of)
            first = first_at_depth.setdefault(depth, place)
            if first is place or {scale_id(first[0]), scale_id(place[0])} <= set(declared):
                continue
            err(("scales", place[0], "keys", place[1]), f"item {item_id!r} is already keyed in scale "
                f"{scale_id(first[0])!r} (line {line(first[0], first[1])}), a scale of the same level as "
                f"{scale_id(place[0])!r}; an item belongs to one scale unless the item declares it on purpose "
                f"(shared: {{scales: [{scale_id(first[0])}, {scale_id(place[0])}], reason: ...}})")


def _check_blocks(data, item_index, err) -> None:
    blocks = _list(_mapping(data.get("administration")).get("blocks"))
    if not blocks:
        return
    placed: dict[str, str] = {}
    for b, block in enumerate(blocks):
        block = _mapping(block)
        for j, item_id in enumerate(_list(block.get("items"))):
            if not isinstance(item_id, str):
                continue
            if item_id not in item_index:
                err(("administration", "blocks", b, "items", j), f"block {block.get('id')!r} names item "
                    f"{item_id!r}, which does not exist{did_you_mean(item_id, item_index)}")
            elif item_id in placed:
                err(("administration", "blocks", b, "items", j), f"item {item_id!r} is already in block "
                    f"{placed[item_id]!r}")
            else:
                placed[item_id] = block.get("id")
    missing = [item_id for item_id in item_index if item_id not in placed]
    if missing:
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        err(("administration", "blocks"), f"{len(missing)} item(s) are in no block: {shown}")


def _scale_items(scales: list, scale_id: str, seen: frozenset = frozenset()) -> list[str]:
    """The item ids a scale keys, through its facets (raw document; cycles and bad entries ignored)."""
    for scale in scales:
        scale = _mapping(scale)
        if scale.get("id") != scale_id or scale_id in seen:
            continue
        if scale.get("keys") is not None:
            return [parsed[1] for parsed in map(parse_key, _list(scale.get("keys"))) if parsed is not None]
        return [i for f in _list(scale.get("facets")) if isinstance(f, str)
                for i in _scale_items(scales, f, seen | {scale_id})]
    return []


def _check_adaptive(data, item_index, err) -> None:
    """Adaptive administration: no going back, no pages, scales, items and facets that exist and fit."""
    admin = _mapping(data.get("administration"))
    adaptive = admin.get("adaptive")
    if not isinstance(adaptive, dict):
        return
    where = ("administration", "adaptive")
    if admin.get("allow_back") is not False:
        err(("administration", "allow_back") if "allow_back" in admin else where, "adaptive administration needs "
            "allow_back: false: each item is chosen from the answers before it, so changing an answer would change "
            "the items after it")
    if admin.get("blocks"):
        err(("administration", "blocks"), "blocks (pages) cannot be combined with adaptive administration, which "
            "chooses its items one at a time")
    scales = _list(data.get("scales"))
    scale_ids = [_mapping(s).get("id") for s in scales if isinstance(_mapping(s).get("id"), str)]
    facets_of = {_mapping(s).get("id"): [f for f in _list(_mapping(s).get("facets")) if isinstance(f, str)]
                 for s in scales}
    overrides = adaptive.get("scales")
    if isinstance(overrides, dict):
        chosen = [name for name in overrides if isinstance(name, str)]
        for name in chosen:
            if name not in scale_ids:
                err(where + ("scales", name), f"adaptive scale {name!r} is not a scale of the questionnaire"
                    f"{did_you_mean(name, scale_ids)}", key=True)
    else:
        nested = {f for fs in facets_of.values() for f in fs}
        chosen = [s for s in scale_ids if s not in nested]
    owner: dict[str, str] = {}
    for name in chosen:
        items = _scale_items(scales, name)
        for item in items:
            if item in owner and owner[item] != name:
                err(where + (("scales", name) if isinstance(overrides, dict) else ()), f"adaptive scales {owner[item]!r} "
                    f"and {name!r} share item {item!r}: each adaptive scale is a test of its own, so an item can "
                    "belong to one only")
                break
            owner[item] = name
    sections = [(where, adaptive, chosen)]
    if isinstance(overrides, dict):
        sections += [(where + ("scales", name), _mapping(rules), [name]) for name, rules in overrides.items()
                     if name in scale_ids]
    for path, rules, names in sections:
        items = {i for name in names for i in _scale_items(scales, name)}
        facets = {f for name in names for f in facets_of.get(name, [])}
        own = len(names) == 1
        start = _mapping(rules.get("start"))
        for j, item in enumerate(_list(start.get("items"))):
            if isinstance(item, str) and item not in item_index:
                err(path + ("start", "items", j), f"start item {item!r} does not exist{did_you_mean(item, item_index)}")
            elif isinstance(item, str) and own and item not in items:
                err(path + ("start", "items", j), f"start item {item!r} is not an item of scale {names[0]!r}")
        exposure = _mapping(rules.get("exposure"))
        for item in _mapping(exposure.get("parameters")):
            if isinstance(item, str) and item not in item_index:
                err(path + ("exposure", "parameters", item), f"item {item!r} does not exist"
                    f"{did_you_mean(item, item_index)}", key=True)
        proportions = _mapping(_mapping(rules.get("content")).get("proportions"))
        for facet in proportions:
            if isinstance(facet, str) and own and facet not in facets:
                err(path + ("content", "proportions", facet), f"{facet!r} is not a facet of scale {names[0]!r}"
                    + (f" (its facets: {', '.join(facets_of.get(names[0], []))})" if facets_of.get(names[0])
                       else ", which has no facets"), key=True)
        shares = [v for v in proportions.values() if _is_number(v)]
        if proportions and len(shares) == len(proportions) and abs(sum(shares) - 1) > 1e-6:
            err(path + ("content", "proportions"), f"facet proportions must sum to 1, they sum to {sum(shares):g}")
        stop = _mapping(rules.get("stop"))
        low, high = stop.get("min_items"), stop.get("max_items")
        if _is_number(low) and _is_number(high) and low > high:
            err(path + ("stop", "min_items"), f"min_items ({low}) is more than max_items ({high})")
