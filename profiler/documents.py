"""Turning pydantic's validation errors into messages an author can act on, located in the YAML file.

Shared by every YAML document profiler reads (questionnaires, job models): pydantic reports a location
such as ``("response_formats", "agree5", "likert", "options", 2, "value")``; we drop the union tags,
find the YAML node, and rewrite the message in plain words with a "did you mean" where one helps.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from profiler.errors import ErrorDetail
from profiler.yamlsource import YamlDocument

_QUOTED = re.compile(r"'([^']*)'")


def did_you_mean(word: Any, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or an empty string."""
    if not isinstance(word, str):
        return ""
    options = list(candidates)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not close:
        lowered = {option.lower(): option for option in options}
        close = [lowered[word.lower()]] if word.lower() in lowered else []
    return f" (did you mean {close[0]!r}?)" if close else ""


def describe(value: Any) -> str:
    """A short description of a YAML value for messages: ``'abc'``, ``a list``, ``a mapping``."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (empty value)"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    text = getattr(value, "source", None) or str(value)
    return repr(text) if isinstance(value, str) else text


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types an annotation may hold (Annotated, Optional and unions flattened)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for arg in typing.get_args(annotation) for t in _unwrap(arg)]
    return [annotation]


def _allowed_keys(root: type[BaseModel], loc: tuple) -> list[str]:
    """Field names of the model at ``loc`` (the location of the mapping that holds an unknown key)."""
    candidates: list[Any] = [root]
    for segment in loc:
        next_candidates: list[Any] = []
        for candidate in candidates:
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                field = candidate.model_fields.get(segment) if isinstance(segment, str) else None
                if field is not None:
                    next_candidates += _unwrap(field.annotation)
                continue
            origin = typing.get_origin(candidate)
            args = typing.get_args(candidate)
            if origin is list and isinstance(segment, int):
                next_candidates += _unwrap(args[0])
            elif origin is dict and isinstance(segment, str):
                next_candidates += _unwrap(args[1])
        # A segment that matched nothing is a union tag (e.g. 'likert'): pick the member it names.
        if not next_candidates:
            tagged = [c for c in candidates if _tag_of(c) == segment]
            next_candidates = tagged or candidates
        candidates = next_candidates
    keys: list[str] = []
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            keys += [k for k in candidate.model_fields if k not in keys]
    return keys


def _tag_of(candidate: Any) -> str | None:
    if isinstance(candidate, type) and issubclass(candidate, BaseModel) and "type" in candidate.model_fields:
        args = typing.get_args(candidate.model_fields["type"].annotation)
        return args[0] if args else None
    return None


def _data_path(data: Any, loc: tuple) -> tuple[tuple, bool]:
    """Map a pydantic location onto the document: drop union tags; report whether it names a dict key."""
    path: list[Any] = []
    node = data
    is_key = False
    for i, segment in enumerate(loc):
        last = i == len(loc) - 1
        if segment == "[key]":
            is_key = True
            continue
        if isinstance(node, dict) and isinstance(segment, str) and segment in node:
            node = node[segment]
            path.append(segment)
        elif isinstance(node, list) and isinstance(segment, int) and 0 <= segment < len(node):
            node = node[segment]
            path.append(segment)
        elif last and isinstance(segment, str) and isinstance(node, dict):
            path.append(segment)  # a missing key: the message names it, the position is its parent's
            node = None
        # otherwise a union member or tag name, which the author never wrote
    return tuple(path), is_key


def _message(error: dict, root: type[BaseModel], data_path: tuple) -> str:
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    last = data_path[-1] if data_path else None
    if kind == "value_error":
        return str(ctx.get("error", error["msg"])).removeprefix("Value error, ")
    if kind == "missing":
        return f"missing required key {last!r}"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(root, tuple(error["loc"][:-1]))
        return f"unknown key {last!r}{did_you_mean(last, allowed)}"
    if kind == "union_tag_invalid":
        expected = _QUOTED.findall(ctx.get("expected_tags", ""))
        field = ctx.get("discriminator", "'type'").strip("'")
        return f"{field} {ctx.get('tag')!r} is not one of {', '.join(expected)}{did_you_mean(ctx.get('tag'), expected)}"
    if kind == "union_tag_not_found":
        return f"missing key {ctx.get('discriminator', 'type').strip(chr(39))!r} that says which kind this is"
    if kind == "literal_error":
        expected = _QUOTED.findall(ctx.get("expected", ""))
        return f"{describe(value)} is not one of {', '.join(expected)}{did_you_mean(value, expected)}"
    if kind == "string_pattern_mismatch":
        if "a-z]{2,3}" in ctx.get("pattern", ""):
            return f"{describe(value)} is not a language code such as 'en', 'fr' or 'pt-BR'"
        return (
            f"{describe(value)} is not a valid id: start with a letter, then use letters, digits, '_', '-' or '.'"
        )
    if kind in ("too_short", "string_too_short"):
        if ctx.get("min_length", 1) <= 1:
            return "must not be empty"
        if kind == "string_too_short":
            return f"needs at least {ctx['min_length']} characters, found {len(value) if isinstance(value, str) else 0}"
        return f"needs at least {ctx['min_length']} entries, found {ctx.get('actual_length', 0)}"
    if kind == "string_too_long":
        return f"is longer than {ctx.get('max_length')} characters"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        sign = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}[kind]
        bound = next(iter(ctx.values()), "")
        return f"must be {sign} {bound}, found {describe(value)}"
    return _TYPE_WORDS.get(kind, "") and f"expected {_TYPE_WORDS[kind]}, found {describe(value)}" or error["msg"]


_TYPE_WORDS = {
    "string_type": "text",
    "int_type": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping of keys",
    "model_type": "a mapping of keys",
    "model_attributes_type": "a mapping of keys",
}


def pydantic_errors(exc: ValidationError, doc: YamlDocument, root: type[BaseModel]) -> list[ErrorDetail]:
    """Every pydantic error as a located, plain-language :class:`ErrorDetail` (one per document node)."""
    grouped: dict[tuple, list[tuple[dict, bool]]] = {}
    for error in exc.errors(include_url=False):
        data_path, is_key = _data_path(doc.data, tuple(error["loc"]))
        grouped.setdefault(data_path, []).append((error, is_key))
    details = []
    for data_path, errors in grouped.items():
        type_words = [_TYPE_WORDS[e["type"]] for e, _ in errors if e["type"] in _TYPE_WORDS]
        first, is_key = errors[0]
        if len(type_words) == len(errors) and len(errors) > 1:
            # A union such as int | float | list: one message naming every accepted kind.
            words = list(dict.fromkeys(type_words))
            message = f"expected {' or '.join(words)}, found {describe(first.get('input'))}"
        else:
            message = _message(first, root, data_path)
        key = is_key or first["type"] == "extra_forbidden"
        details.append(doc.error(data_path, message, key=key))
    return details


def sort_details(details: list[ErrorDetail]) -> list[ErrorDetail]:
    """Errors in file order, each reported once."""
    unique = list(dict.fromkeys(details))
    return sorted(unique, key=lambda d: (d.line, d.column, d.message))
