"""Reading YAML documents safely, keeping the line and column of every node.

Authors' YAML goes through PyYAML's composer (which records node positions) and then through our own
constructor rather than PyYAML's, because the standard one has traps for psychologists' text:

* ``No``, ``yes``, ``on`` and ``off`` stay text (the "Norway problem"); only ``true``/``false`` are booleans;
* dates stay text;
* numbers remember how they were written, so ``version: 1.10`` can become the text ``"1.10"``;
* duplicate keys are an error instead of silently keeping the last one;
* explicit tags (``!!python/...``) are refused;
* hostile documents are bounded: the file is read up to :data:`MAX_FILE_BYTES` (regular files only: a
  device, a named pipe or a directory is refused before it is opened for reading, so nothing hangs), the
  nesting depth (:data:`MAX_DEPTH`, checked while composing, before Python's recursion limit), the nodes
  after alias expansion (:data:`MAX_NODES`) and the text they expand to (:data:`MAX_EXPANDED_CHARS`: an
  alias of a long string repeated many times is refused, not built into gigabytes downstream);
* numbers must be finite and of sane length: ``1e400``, ``.inf`` and ``.nan`` are refused with their line;
  a line longer than :data:`MAX_LINE_CHARS` is refused before parsing (PyYAML would scan it for seconds).

Every problem becomes an :class:`~profiler.errors.ErrorDetail` located by file, line and column.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from profiler.errors import ErrorDetail
from profiler.files import read_capped

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_NODES = 200_000
MAX_DEPTH = 32  # a questionnaire nests 6 levels deep; hundreds only come from a hostile file
MAX_EXPANDED_CHARS = 2 * MAX_FILE_BYTES  # text after alias expansion
MAX_DIGITS = 40  # a whole number longer than this is no value of any format (a seed has 19 digits)
MAX_LINE_CHARS = 100_000  # a line of text; PyYAML scans a character at a time, so a 2 MB line takes seconds

Path_ = tuple[str | int, ...]

_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_NULL = {"", "~", "null", "Null", "NULL"}
_PLAIN_TAGS = {"tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"}
_NON_FINITE = re.compile(r"[-+]?\.(inf|Inf|INF|nan|NaN|NAN)")


_SYNTAX_HINTS = [
    ("expected <block end>", "the indentation of this line does not line up with the lines above it"),
    ("mapping values are not allowed here", "a ':' inside text: put the text in quotes"),
    ("could not find expected ':'", "a key without ':' or an unclosed quote"),
    ("found undefined alias", "an '*alias' used before its '&anchor'"),
    ("found unexpected end of stream", "an unclosed quote or bracket"),
]


class SourceInt(int):
    """An integer read from YAML that remembers how it was written."""

    source: str

    def __new__(cls, value: int, source: str) -> SourceInt:
        obj = super().__new__(cls, value)
        obj.source = source
        return obj


class SourceFloat(float):
    """A float read from YAML that remembers how it was written (``1.10`` is not ``1.1`` as a version)."""

    source: str

    def __new__(cls, value: float, source: str) -> SourceFloat:
        obj = super().__new__(cls, value)
        obj.source = source
        return obj


class _Refused(Exception):
    """Composition stopped: the document is too deep or expands too far (raised before it is all read)."""

    def __init__(self, mark, message: str):
        self.mark, self.message = mark, message


class _Loader(yaml.SafeLoader):
    """A loader without implicit type resolution: every plain scalar is composed as text; we type it.

    Composition is bounded as it goes, so that a hostile document is refused before the rest of it is even
    read: nesting deeper than :data:`MAX_DEPTH` (PyYAML composes recursively), and more than :data:`MAX_NODES`
    nodes or :data:`MAX_EXPANDED_CHARS` characters of text once aliases are expanded (each alias counts the
    whole of the node it repeats).
    """

    yaml_implicit_resolvers: dict = {}

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = self._nodes = self._chars = 0
        self._weights: dict[int, tuple[int, int]] = {}  # id(node) -> (nodes, characters), aliases expanded

    def compose_node(self, parent, index):
        alias = self.check_event(yaml.AliasEvent)
        mark = self.peek_event().start_mark
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(mark, f"nested more than {MAX_DEPTH} levels deep; refused")
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if alias:  # the whole node again; an alias inside its own anchor counts once (reported later)
            nodes, chars = self._weights.get(id(node), (1, 0))
        else:
            nodes, chars = self._weigh(node)
            self._weights[id(node)] = (nodes, chars)
            nodes, chars = 1, chars if isinstance(node, yaml.ScalarNode) else 0  # children counted already
        self._nodes += nodes
        self._chars += chars
        if self._nodes > MAX_NODES:
            raise _Refused(mark, f"document expands to more than {MAX_NODES:,} nodes (anchors and aliases?); refused")
        if self._chars > MAX_EXPANDED_CHARS:
            raise _Refused(mark, f"document expands to more than {MAX_EXPANDED_CHARS:,} characters of text (an "
                                 "alias of a long text repeated?); refused")
        return node

    def _weigh(self, node) -> tuple[int, int]:
        if isinstance(node, yaml.ScalarNode):
            return 1, len(node.value)
        children = node.value if isinstance(node, yaml.SequenceNode) else [n for pair in node.value for n in pair]
        nodes, chars = 1, 0
        for child in children:
            weight = self._weights.get(id(child), (1, 0))
            nodes, chars = nodes + weight[0], chars + weight[1]
        return nodes, chars


def format_path(path: Path_) -> str:
    """``("items", 3, "text", "en")`` -> ``items[3].text.en``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(document)"


@dataclass
class YamlDocument:
    """Plain Python data from one YAML document, with the position of every node.

    ``positions[path]`` is the (line, column) of the value at ``path``; ``key_positions[path]`` is the
    position of the mapping key that introduces it. Both are 1-based.
    """

    data: Any
    file: str
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: Path_, *, key: bool = False) -> tuple[int, int]:
        """Position of ``path``, or of its nearest existing ancestor when the node itself is absent."""
        path = tuple(path)
        while True:
            if key and path in self.key_positions:
                return self.key_positions[path]
            if path in self.positions:
                return self.positions[path]
            if not path:
                return (1, 1)
            path = path[:-1]

    def error(self, path: Path_, message: str, *, key: bool = False, severity: str = "error",
              code: str = "") -> ErrorDetail:
        line, column = self.locate(path, key=key)
        return ErrorDetail(self.file, line, column, format_path(path), message, severity, code)


class YamlSourceError(Exception):
    """Raised by :func:`parse_yaml` with every problem found; wrapped by the caller's own error class."""

    def __init__(self, errors: list[ErrorDetail]):
        self.errors = errors
        super().__init__("\n".join(map(str, errors)))


def read_yaml_file(path: str | Path) -> YamlDocument:
    """Read and parse a YAML file; refuses what is not a regular file, oversized and unreadable files with a
    located error. At most :data:`MAX_FILE_BYTES` + 1 bytes are read, whatever the file claims to be."""
    path = Path(path)
    name = path.name
    raw = read_capped(path, MAX_FILE_BYTES, lambda message: YamlSourceError([ErrorDetail(name, 0, 0, "", message)]))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlSourceError([ErrorDetail(name, line, 0, "", "file is not valid UTF-8 text")]) from None
    return parse_yaml(text, name)


def parse_yaml(text: str, file: str = "<string>") -> YamlDocument:
    """Parse one YAML document from ``text`` into plain data with node positions.

    Raises
    ------
    YamlSourceError
        For an empty document, tabs used for indentation, a syntax error, several documents, duplicate
        keys, explicit tags, or too many nodes after alias expansion.
    """
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise YamlSourceError([ErrorDetail(file, 0, 0, "", f"document is larger than {MAX_FILE_BYTES:,} bytes")])
    long_line = next((n for n, line in enumerate(text.splitlines(), start=1) if len(line) > MAX_LINE_CHARS), None)
    if long_line is not None:
        raise YamlSourceError([ErrorDetail(file, long_line, MAX_LINE_CHARS + 1, "",
                                           f"line longer than {MAX_LINE_CHARS:,} characters; break it (a folded "
                                           "'>' block keeps long text on several lines)")])
    tabs = _tab_indentation(text, file)
    if tabs:
        raise YamlSourceError(tabs)
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except _Refused as exc:
        raise YamlSourceError([ErrorDetail(file, exc.mark.line + 1, exc.mark.column + 1, "", exc.message)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = " ".join(part for part in (exc.context, exc.problem) if part)
        for technical, plain in _SYNTAX_HINTS:
            if technical in problem:
                problem += f" ({plain})"
                break
        if "flow" in problem:
            problem += " (inside [...] or {...}, quote text that contains , : ? # [ ] { } or quotes)"
        if "expected a single document" in problem:
            problem = "the file holds several YAML documents ('---'); put one questionnaire per file"
        raise YamlSourceError([ErrorDetail(file, line, column, "", f"YAML syntax error: {problem}")]) from None
    except yaml.YAMLError as exc:
        raise YamlSourceError([ErrorDetail(file, 0, 0, "", f"YAML error: {exc}")]) from None
    if node is None:
        raise YamlSourceError([ErrorDetail(file, 1, 1, "", "the file is empty")])
    doc = YamlDocument(data=None, file=file)
    builder = _Builder(doc)
    doc.data = builder.build(node, ())
    if builder.errors:
        raise YamlSourceError(builder.errors)
    return doc


def _tab_indentation(text: str, file: str) -> list[ErrorDetail]:
    errors = []
    for number, line in enumerate(text.splitlines(), start=1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent and line.strip() and not line.lstrip().startswith("#"):
            errors.append(
                ErrorDetail(file, number, indent.index("\t") + 1, "", "tab used for indentation; indent YAML with spaces")
            )
            if len(errors) >= 10:
                break
    return errors


class _Builder:
    """Turns composed nodes into Python data, recording positions and bounding alias expansion."""

    def __init__(self, doc: YamlDocument):
        self.doc = doc
        self.errors: list[ErrorDetail] = []
        self.count = 0
        self.chars = 0  # text built so far, aliases expanded
        self.active: set[int] = set()

    def _error(self, node: yaml.Node, message: str) -> None:
        mark = node.start_mark
        self.errors.append(ErrorDetail(self.doc.file, mark.line + 1, mark.column + 1, "", message))

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            if self.count == MAX_NODES + 1:
                self._error(node, f"document expands to more than {MAX_NODES:,} nodes (anchors and aliases?); refused")
            return None
        if id(node) in self.active:
            self._error(node, "an alias refers to the node that contains it (recursive structure)")
            return None
        self.doc.positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if node.tag not in _PLAIN_TAGS and not (isinstance(node, yaml.ScalarNode) and node.tag == "!"):
            self._error(node, f"YAML tags such as {node.tag!r} are not supported; write plain values")
            return None
        if isinstance(node, yaml.ScalarNode):
            self.chars += len(node.value)
            if self.chars > MAX_EXPANDED_CHARS:
                if self.chars - len(node.value) <= MAX_EXPANDED_CHARS:
                    self._error(node, f"document expands to more than {MAX_EXPANDED_CHARS:,} characters of text "
                                      "(an alias of a long text repeated?); refused")
                return None
            return self._scalar(node)
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(child, path + (i,)) for i, child in enumerate(node.value)]
            return self._mapping(node, path)
        finally:
            self.active.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge" or (
                isinstance(key_node, yaml.ScalarNode) and key_node.value == "<<" and key_node.style is None
            ):
                self._error(key_node, "merge keys ('<<') are not supported; write the keys out")
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self._error(key_node, "a mapping key must be plain text, not a list or mapping")
                continue
            key = key_node.value
            if key in first_seen:
                self._error(key_node, f"duplicate key {key!r} (first given on line {first_seen[key]})")
                continue
            first_seen[key] = key_node.start_mark.line + 1
            child = path + (key,)
            self.doc.key_positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = self.build(value_node, child)
        return out

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        value = node.value
        if node.style is not None:  # quoted or block scalars are always text
            return value
        if value in _NULL:
            return None
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        if _NON_FINITE.fullmatch(value):
            self._error(node, f"{value} is not a finite number; write a number (or quote it to make it text)")
            return None
        if _INT.fullmatch(value):
            if len(value.lstrip("+-")) > MAX_DIGITS:
                self._error(node, f"a whole number of {len(value.lstrip('+-'))} digits; numbers here have at most "
                                  f"{MAX_DIGITS}")
                return None
            return SourceInt(int(value), value)
        if _FLOAT.fullmatch(value) and any(ch.isdigit() for ch in value):
            number = float(value)
            if not math.isfinite(number):
                self._error(node, f"{value} is too large to be a number (it overflows to infinity)")
                return None
            return SourceFloat(number, value)
        return value
