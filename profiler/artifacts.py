"""Versioned, hashed JSON artifacts (norm tables, factor models, calibrations): one way to seal and check them.

An artifact's ``sha256`` is the SHA-256 of the canonical JSON of everything else in it (keys sorted, no
whitespace, UTF-8, no NaN). Floats are written with Python's shortest round-trip repr, so an artifact saved
and loaded back is identical, and any edit after sealing is detected on load.

The life of an artifact: :func:`seal` its content, write :func:`pretty_json` text with :func:`write_artifact`;
to load, :func:`read_artifact` the file, :func:`parse_artifact` it (JSON, an object, a format this profiler
reads), validate it as the artifact's own class does, then :func:`verify_seal`. Every error names the file.
:class:`SealedArtifact` does all of that for an artifact that is a frozen dataclass.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from profiler.canonical import canonical_json, sha256_text

SHA256_FIELD = "sha256"


def content_sha256(data: Mapping[str, Any], *, exclude: str = SHA256_FIELD) -> str:
    """``sha256:<hex>`` of ``data`` without its own ``exclude`` field."""
    content = {k: v for k, v in data.items() if k != exclude}
    return sha256_text(canonical_json(content))


def seal(document: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` with its ``sha256`` (of everything else; a stale one is replaced) as the last field."""
    content = {k: v for k, v in document.items() if k != SHA256_FIELD}
    return {**content, SHA256_FIELD: content_sha256(content)}


# Lists as json.dumps(indent=...) writes them: "[" then a newline (inside a JSON string a newline is always
# escaped, so neither pattern ever changes text, only the layout between tokens).
_NUMBER_LIST = re.compile(r"\[\n\s*(-?[0-9.eE+-]+(?:,\n\s*-?[0-9.eE+-]+)*)\n\s*\]")
_INNERMOST_LIST = re.compile(r"\[([^\[\]{}]*)\]")


def pretty_json(data: Any, *, indent: int = 1, one_line: Literal["none", "numbers", "innermost"] = "none") -> str:
    """Readable JSON for files in models/, with a final newline (the hash does not depend on the layout).

    ``one_line`` puts lists of numbers (``"numbers"``) or every list holding no list or object
    (``"innermost"``) on one line each.
    """
    text = json.dumps(data, indent=indent, ensure_ascii=False, allow_nan=False)
    if one_line == "numbers":
        text = _NUMBER_LIST.sub(lambda m: "[" + ", ".join(re.split(r",\s*", m.group(1))) + "]", text)
    elif one_line == "innermost":
        text = _INNERMOST_LIST.sub(lambda m: "[" + re.sub(r"\n\s*", " ", m.group(1)).strip() + "]", text)
    return text + "\n"


def write_artifact(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path``, creating its folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def read_artifact(path: str | Path, *, what: str, error: type[Exception]) -> str:
    """The text of the artifact file; ``error`` (e.g. ``NormsError``) names the file when it cannot be read."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise error(f"cannot read {what} {path}: {reason}") from None


def parse_artifact(
    text: str, *, source: str, what: str, error: type[Exception], formats: Mapping[str, Any]
) -> dict[str, Any]:
    """The JSON object of an artifact whose ``formats`` fields (e.g. ``{"format": ...}``) are those expected.

    Raises ``error`` naming ``source``: not JSON (with line and column), not an object, or a format this
    profiler does not read. The content is validated by the caller, then checked with :func:`verify_seal`.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{source}: not a JSON {what} ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    check_format(data, source=source, what=what, error=error, formats=formats)
    return data


def check_format(data: Any, *, source: str, what: str, error: type[Exception], formats: Mapping[str, Any]) -> None:
    """Raise ``error`` unless ``data`` is a JSON object whose ``formats`` fields have the values expected."""
    if not isinstance(data, dict):
        raise error(f"{source}: a {what} is a JSON object, got {type(data).__name__}")
    for key, expected in formats.items():
        if data.get(key) != expected:
            name = key.replace("_", " ")
            raise error(f"{source}: {name} {data.get(key)!r} is not a {what} {name} this profiler reads "
                        f"({expected!r})")


def verify_seal(document: Mapping[str, Any], *, source: str, what: str, error: type[Exception],
                made: str = "sealed") -> None:
    """Raise ``error`` unless ``document``'s ``sha256`` is that of the rest of it (an edited file).

    ``made`` says how the artifact came about ("built", "calibrated"), for the message.
    """
    recorded = document.get(SHA256_FIELD)
    if not recorded:
        raise error(f"{source}: the {what} has no sha256, so edits to it cannot be detected; regenerate it")
    computed = content_sha256(document)
    if recorded != computed:
        raise error(f"{source}: sha256 does not match the content (recorded {recorded}, computed {computed}): "
                    f"the file was edited after it was {made}; regenerate it instead of editing it")


def document_hash(spec: Any) -> str:
    """``sha256:<hex>`` of a validated document (a pydantic model): defaults filled in, keys sorted.

    Comments, quoting and layout of the YAML it came from do not change it; any change of content does.
    """
    return sha256_text(canonical_json(spec.model_dump(mode="json")))


class SealedArtifact:
    """The life of a frozen-dataclass artifact in one place: ``to_dict``/``to_json``/``write``, ``seal``, ``read``.

    A subclass (a ``@dataclass(frozen=True)`` with ``sha256`` and ``format`` fields) names what it is in
    ``artifact_what`` (for messages), its ``artifact_format``, the ``artifact_error`` it raises, how it came
    about (``artifact_made``) and how its lists are laid out (``artifact_one_line``); ``check_loaded`` may
    validate the content further after the seal is verified.
    """

    artifact_what: ClassVar[str]
    artifact_format: ClassVar[str]
    artifact_error: ClassVar[type[Exception]]
    artifact_made: ClassVar[str] = "sealed"
    artifact_one_line: ClassVar[Literal["none", "numbers", "innermost"]] = "none"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    def to_json(self) -> str:
        return pretty_json(self.to_dict(), one_line=self.artifact_one_line)

    def write(self, path: str | Path) -> Path:
        return write_artifact(path, self.to_json())

    @classmethod
    def seal(cls: type[_A], **content: Any) -> _A:
        return cls(**seal(cls(**content).to_dict()))

    @classmethod
    def from_json(cls: type[_A], text: str, source: str = "<string>") -> _A:
        """Load an artifact, checking its format, its fields and its sha256."""
        data = parse_artifact(text, source=source, what=cls.artifact_what, error=cls.artifact_error,
                              formats={"format": cls.artifact_format})
        try:
            artifact = cls(**data)
        except TypeError as exc:
            raise cls.artifact_error(f"{source}: malformed {cls.artifact_what} ({exc})") from None
        verify_seal(artifact.to_dict(), source=source, what=cls.artifact_what, error=cls.artifact_error,
                    made=cls.artifact_made)
        artifact.check_loaded(source)
        return artifact

    @classmethod
    def read(cls: type[_A], path: str | Path) -> _A:
        return cls.from_json(read_artifact(path, what=cls.artifact_what, error=cls.artifact_error), str(path))

    def check_loaded(self, source: str) -> None:
        """Further checks of a loaded artifact's content (none by default)."""


_A = TypeVar("_A", bound=SealedArtifact)
