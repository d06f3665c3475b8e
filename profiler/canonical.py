"""The project's one JSON form: plain values, canonical text and the hashes computed over it.

Everything profiler hashes or stores as JSON goes through here: audit-log payloads, stored case records,
sealed artifacts (norm tables, factor models, calibrations) and questionnaire documents.

- :func:`to_plain` turns Python, numpy and pandas-free values into plain JSON types, naming the place of a
  value that has no JSON form;
- :func:`canonical_json` is the text hashes are computed over: keys sorted, no whitespace, UTF-8
  characters unescaped, no NaN; floats in Python's shortest round-trip form;
- :func:`sha256_text` is ``"sha256:" + hex`` of text's UTF-8 bytes; :func:`utc_text` the one form of a moment.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any, Literal

from profiler.errors import ProfilerError


class JsonValueError(ProfilerError, ValueError):
    """A value with no canonical JSON form (an infinity, a naive datetime, an object, a non-text key)."""


def utc_text(moment: datetime) -> str:
    """A timezone-aware datetime as UTC text with microseconds: ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc_text(text: str) -> datetime:
    """The datetime of :func:`utc_text`'s form (timezone UTC)."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def to_plain(value: Any, where: str = "value", *, nonfinite: Literal["raise", "null"] = "raise",
             error: type[Exception] = JsonValueError) -> Any:
    """``value`` as plain JSON types (None, bool, int, float, str, dict with str keys, list).

    Accepted besides those: tuples, numpy scalars and arrays, enums (their value), timezone-aware datetimes
    (:func:`utc_text`) and dates (ISO 8601). NaN becomes None (a missing value); infinities raise
    ``error`` unless ``nonfinite="null"`` (then None too); so do naive datetimes and anything else.

    Parameters
    ----------
    where : str
        Names the value in error messages (``payload.scales[2].sem``).
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, Enum):
        return to_plain(value.value, where, nonfinite=nonfinite, error=error)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            if nonfinite == "null":
                return None
            raise error(f"{where} is infinite: JSON has no infinity; record it as text or None")
        return float(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise error(f"{where} is a naive datetime: give a timezone (UTC) so that it means one moment")
        return utc_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise error(f"{where} has a key {key!r} that is not a string")
            out[str(key)] = to_plain(item, f"{where}.{key}", nonfinite=nonfinite, error=error)
        return out
    if isinstance(value, list | tuple):
        return [to_plain(item, f"{where}[{i}]", nonfinite=nonfinite, error=error) for i, item in enumerate(value)]
    tolist = getattr(value, "tolist", None)  # numpy scalars and arrays, without importing numpy here
    if callable(tolist) and type(value).__module__ == "numpy":
        return to_plain(tolist(), where, nonfinite=nonfinite, error=error)
    raise error(f"{where} is a {type(value).__name__}, which has no canonical JSON form")


def canonical_json(value: Any, *, where: str = "value", error: type[Exception] = JsonValueError) -> str:
    """The canonical JSON text of ``value`` (after :func:`to_plain`): what every hash is computed over.

    Examples
    --------
    >>> canonical_json({"b": 1.5, "a": ["é", None]})
    '{"a":["é",null],"b":1.5}'
    """
    plain = to_plain(value, where, error=error)
    return json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sha256_text(text: str, *, error: type[Exception] = JsonValueError) -> str:
    """``"sha256:"`` + the hex SHA-256 of the UTF-8 bytes of ``text``."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate has no UTF-8 form
        raise error(f"text cannot be encoded as UTF-8: {exc}") from None
    return sha256_bytes(data)


def sha256_bytes(data: bytes) -> str:
    """``"sha256:"`` + the hex SHA-256 of ``data`` (a file's bytes, say)."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def fields_of(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``data`` that are fields of the dataclass ``cls`` (to rebuild it from stored plain data:
    a field stored by a later version is left out, one stored by none takes its default)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in data.items() if k in names}


__all__ = ["JsonValueError", "canonical_json", "fields_of", "parse_utc_text", "sha256_bytes", "sha256_text", "to_plain",
           "utc_text"]
