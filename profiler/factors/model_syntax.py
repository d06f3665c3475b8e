"""Parse the measurement part of lavaan's model syntax, with errors located by line and column.

A model is a list of statements, separated by newlines or ``;``::

    # three correlated abilities (Holzinger & Swineford 1939)
    visual  =~ x1 + x2 + x3
    textual =~ x4 + x5 + x6
    speed   =~ x7 + x8 + x9
    x7 ~~ x8            # a residual covariance
    visual ~~ 0*speed   # a fixed (zero) factor covariance

Supported operators (the confirmatory-factor subset of lavaan's syntax):

``f =~ a + b + c``
    factor ``f`` is measured by the observed variables ``a``, ``b``, ``c``.
``a ~~ b``
    a (residual) variance (``a ~~ a``) or covariance; between two observed variables or two factors.
``a ~ 1``
    an intercept (observed variable) or mean (factor).
``F1 ~ F2 + F3``
    regression of a factor on other factors (a structural model); ``g =~ F1 + F2 + F3`` makes ``g``
    a higher-order factor of the first-order factors.
``name := expression``
    a defined parameter: a function of labelled parameters (``ab := a*b``) with ``+ - * / ^``,
    parentheses, numbers and ``sqrt()``, ``exp()``, ``log()``; its standard error by the delta method.
``y | t1 + t2``
    thresholds of an ordinal variable (``t1`` is the first); with a modifier, fixed (``0*t1``) or
    labelled (``a*t1``). Only for variables fitted as ordinal (``CFA(..., ordered=...)``).

Each right-hand term may carry one modifier, ``modifier*name``: a number fixes the parameter
(``1*x1``, ``-0.5*x2``, ``0*speed``); ``NA`` frees it (``NA*x1`` frees a marker loading); any other
name is a label, and parameters sharing a label are constrained equal (also across groups). A
statement continues on the next line when its line ends with an operator (``+``, ``*``, ``=~`` ...)
or the next line starts with ``+``. ``#`` and ``!`` start comments.

Regressions on or of observed variables, constraints (``==``, ``<``, ``>``), formative factors (``<~``), ``start()``/``equal()`` and per-group vectors
``c(...)`` are not supported: they are reported as errors naming line and column, never ignored.

In R: ``lavaan::lavaanify(model)`` turns the same text into lavaan's parameter table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from profiler.documents import did_you_mean
from profiler.errors import ProfilerError

__all__ = ["ModelSyntaxError", "ParsedModel", "Statement", "SyntaxProblem", "Term", "parse_model", "model_from_scales"]

# Token patterns, tried in this order (longest operators first).
_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\r]+)
  | (?P<comment>[#!][^\n]*)
  | (?P<newline>\n)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?![A-Za-z_.]))
  | (?P<name>[A-Za-z_.][A-Za-z0-9_.]*)
  | (?P<op>=~|~~|~\*~|<~|:=|==|<=|>=|~|\*|\+|-|/|\^|;|<|>|\||\(|\)|,|%|=|:)
    """,
    re.VERBOSE,
)
_SUPPORTED = {"=~", "~~", "~", "|", ":="}
_UNSUPPORTED = {
    "~*~": "scaling factors ('~*~') are for categorical indicators, which are not supported",
    "<~": "formative factors ('<~') are not supported",
    "==": "equality constraints ('==') are not supported; give the parameters the same label instead",
    "<": "inequality constraints ('<') are not supported",
    ">": "inequality constraints ('>') are not supported",
    "<=": "inequality constraints ('<=') are not supported",
    ">=": "inequality constraints ('>=') are not supported",
    "%": "group weights ('%') are not supported",
}
# An operator at the end of a line means the statement goes on.
_CONTINUES = {"=~", "~~", "~", "|", ":=", "*", "+", "-", "/", "^", "(", ","}
_FUNCTIONS = ("sqrt", "exp", "log")
_THRESHOLD = re.compile(r"t([1-9][0-9]*)")


@dataclass(frozen=True)
class SyntaxProblem:
    """One problem in a model string, at a 1-based line and column (0, 0 when not located)."""

    line: int
    column: int
    message: str
    source_line: str = ""

    def __str__(self) -> str:
        if self.line <= 0:
            return self.message
        text = f"line {self.line}, column {self.column}: {self.message}"
        if self.source_line:
            text += f"\n    {self.source_line}\n    {' ' * (self.column - 1)}^"
        return text


class ModelSyntaxError(ProfilerError, ValueError):
    """A model string that cannot be parsed; ``.problems`` lists every problem found, located."""

    def __init__(self, problems: Sequence[SyntaxProblem]):
        self.problems = list(problems)
        count = len(self.problems)
        header = "invalid model syntax" if count == 1 else f"invalid model syntax ({count} problems)"
        super().__init__(header + ":\n" + "\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Term:
    """A right-hand term: a variable name (or ``"1"`` for an intercept) and its optional modifier.

    ``fixed`` is the fixed value (``1*x1`` -> 1.0), ``free`` is True for ``NA*x1``, ``label`` is
    the equality label (``a*x1`` -> ``"a"``); at most one of them is set.
    """

    name: str
    line: int = 0
    column: int = 0
    fixed: float | None = None
    free: bool = False
    label: str | None = None


@dataclass(frozen=True)
class Statement:
    """One formula ``lhs op rhs``; ``op`` is ``"=~"``, ``"~~"``, ``"~1"`` (intercept/mean) or ``"|"``."""

    lhs: str
    op: str
    rhs: tuple[Term, ...]
    line: int = 0
    column: int = 0
    expr: tuple | None = None  # ':=': the expression tree, see :func:`evaluate_expression`


@dataclass(frozen=True)
class ParsedModel:
    """A parsed measurement model.

    Attributes
    ----------
    statements : tuple of Statement
        In the order written.
    latent : tuple of str
        Factors, in order of first appearance on the left of ``=~``.
    observed : tuple of str
        Observed variables, in order of first appearance (indicators first, as lavaan orders them).
    text : str
        The source text ("" when built from a mapping).
    """

    statements: tuple[Statement, ...]
    latent: tuple[str, ...]
    observed: tuple[str, ...]
    text: str = ""
    indicators: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def locate(self, name: str) -> tuple[int, int]:
        """Line and column where ``name`` first appears (0, 0 if the model came from a mapping)."""
        for st in self.statements:
            if st.lhs == name:
                return st.line, st.column
            for term in st.rhs:
                if term.name == name:
                    return term.line, term.column
        return 0, 0


@dataclass
class _Token:
    kind: str
    text: str
    line: int
    column: int


def _tokenize(text: str, problems: list[SyntaxProblem], lines: list[str]) -> list[_Token]:
    tokens: list[_Token] = []
    pos, line, line_start = 0, 1, 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        column = pos - line_start + 1
        if match is None:
            char = text[pos]
            hint = " (quoted names and labels are not supported)" if char in "\"'" else ""
            problems.append(SyntaxProblem(line, column, f"unexpected character {char!r}{hint}", lines[line - 1]))
            # skip to the end of the line: the rest of this statement cannot be trusted
            end = text.find("\n", pos)
            pos = len(text) if end < 0 else end
            tokens.append(_Token("bad", char, line, column))
            continue
        kind = match.lastgroup or ""
        if kind == "newline":
            tokens.append(_Token("newline", "\n", line, column))
            line += 1
            line_start = match.end()
        elif kind not in ("space", "comment"):
            tokens.append(_Token(kind, match.group(), line, column))
        pos = match.end()
    return tokens


def _split_statements(tokens: list[_Token]) -> list[list[_Token]]:
    """Group tokens into statements: ``;`` always ends one; a newline does unless the line ends with
    an operator or the next line starts with ``+``/``*``."""
    statements: list[list[_Token]] = []
    current: list[_Token] = []
    for i, tok in enumerate(tokens):
        if tok.kind == "op" and tok.text == ";":
            if current:
                statements.append(current)
            current = []
        elif tok.kind == "newline":
            nxt = next((t for t in tokens[i + 1 :] if t.kind != "newline"), None)
            goes_on = (current and current[-1].kind == "op" and current[-1].text in _CONTINUES) or (
                current and nxt is not None and nxt.kind == "op" and nxt.text in ("+", "*")
            )
            if current and not goes_on:
                statements.append(current)
                current = []
        else:
            current.append(tok)
    if current:
        statements.append(current)
    return statements


class _StatementParser:
    """Recursive-descent parser for one statement; raises _Stop with the problem found."""

    def __init__(self, tokens: list[_Token], lines: list[str]):
        self.tokens = tokens
        self.pos = 0
        self.lines = lines

    def problem(self, tok: _Token | None, message: str) -> SyntaxProblem:
        if tok is None:  # end of statement: point just past the last token
            last = self.tokens[-1]
            return SyntaxProblem(last.line, last.column + len(last.text), message, self.lines[last.line - 1])
        return SyntaxProblem(tok.line, tok.column, message, self.lines[tok.line - 1])

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> _Token | None:
        tok = self.peek()
        self.pos += 1
        return tok

    def parse(self) -> Statement:
        first = self.take()
        assert first is not None
        if first.kind != "name":
            message = f"a statement must start with a variable or factor name, not {first.text!r}"
            raise _Stop(self.problem(first, message))
        op_tok = self.take()
        if op_tok is not None and op_tok.kind == "op" and op_tok.text == ":=":
            return self.defined(first, op_tok)
        if op_tok is None:
            raise _Stop(self.problem(None, f"expected an operator ('=~', '~~' or '~ 1') after {first.text!r}"))
        if op_tok.kind != "op" or op_tok.text not in _SUPPORTED:
            message = _UNSUPPORTED.get(op_tok.text)
            if message is None:
                message = f"expected an operator ('=~', '~~' or '~ 1') after {first.text!r}, found {op_tok.text!r}"
            raise _Stop(self.problem(op_tok, message))
        terms = [self.term(op_tok.text)]
        while (tok := self.take()) is not None:
            if tok.kind == "op" and tok.text == "+":
                terms.append(self.term(op_tok.text))
            else:
                raise _Stop(self.problem(tok, f"expected '+' or the end of the statement, found {tok.text!r}"))
        op = op_tok.text
        if op == "~" and any(t.name == "1" for t in terms):
            if len(terms) != 1:
                raise _Stop(self.problem(op_tok, "an intercept ('~ 1') must be a statement of its own"))
            op = "~1"
        if op == "|":
            for term in terms:
                if not _THRESHOLD.fullmatch(term.name):
                    tok = next(t for t in self.tokens if t.line == term.line and t.column == term.column)
                    raise _Stop(self.problem(tok, f"thresholds are named t1, t2, ... (found {term.name!r})"))
        return Statement(first.text, op, tuple(terms), first.line, first.column)

    def defined(self, name: _Token, op_tok: _Token) -> Statement:
        """``name := expression``: the expression parsed into a tree of tuples."""
        if self.peek() is None:
            raise _Stop(self.problem(None, f"expected an expression after ':=' (e.g. '{name.text} := a*b')"))
        start = self.pos
        tree = self.sum()
        tok = self.peek()
        if tok is not None:
            raise _Stop(self.problem(tok, f"unexpected {tok.text!r} in the expression"))
        text = "".join(t.text for t in self.tokens[start:])
        return Statement(name.text, ":=", (Term(text, op_tok.line, op_tok.column),), name.line, name.column, tree)

    def sum(self) -> tuple:
        left = self.product()
        while (tok := self.peek()) is not None and tok.kind == "op" and tok.text in "+-":
            self.take()
            left = (tok.text, left, self.product())
        return left

    def product(self) -> tuple:
        left = self.power()
        while (tok := self.peek()) is not None and tok.kind == "op" and tok.text in "*/":
            self.take()
            left = (tok.text, left, self.power())
        return left

    def power(self) -> tuple:
        base = self.unary()
        tok = self.peek()
        if tok is not None and tok.kind == "op" and tok.text == "^":
            self.take()
            return ("^", base, self.power())
        return base

    def unary(self) -> tuple:
        tok = self.peek()
        if tok is not None and tok.kind == "op" and tok.text in "+-":
            self.take()
            inner = self.unary()
            return ("neg", inner) if tok.text == "-" else inner
        return self.primary()

    def primary(self) -> tuple:
        tok = self.take()
        if tok is None:
            raise _Stop(self.problem(None, "the expression ends too early"))
        if tok.kind == "number":
            return ("num", float(tok.text))
        if tok.kind == "op" and tok.text == "(":
            inner = self.sum()
            close = self.take()
            if close is None or close.text != ")":
                raise _Stop(self.problem(close, "expected ')'"))
            return inner
        if tok.kind == "name":
            nxt = self.peek()
            if nxt is not None and nxt.kind == "op" and nxt.text == "(":
                if tok.text not in _FUNCTIONS:
                    raise _Stop(self.problem(tok, f"unknown function {tok.text!r}; defined parameters can use "
                                             f"{', '.join(f + '()' for f in _FUNCTIONS)}"))
                self.take()
                inner = self.sum()
                close = self.take()
                if close is None or close.text != ")":
                    raise _Stop(self.problem(close, "expected ')'"))
                return ("call", tok.text, inner)
            return ("name", tok.text, tok.line, tok.column)
        raise _Stop(self.problem(tok, f"unexpected {tok.text!r} in the expression"))

    def term(self, op: str) -> Term:
        """``[modifier '*'] name`` where modifier is a signed number, ``NA`` or a label."""
        tok = self.take()
        if tok is None:
            raise _Stop(self.problem(None, f"expected a variable name after {op!r}"))
        sign = 1.0
        start = tok
        if tok.kind == "op" and tok.text in ("-", "+"):
            sign = -1.0 if tok.text == "-" else 1.0
            tok = self.take()
            if tok is None or tok.kind != "number":
                if sign > 0:  # a doubled '+', or a '+' with nothing after it
                    raise _Stop(self.problem(start, f"expected a variable name after {op!r} or '+', found '+'"))
                raise _Stop(self.problem(tok, "a sign must be followed by a number (e.g. '-1*x1')"))
        nxt = self.peek()
        if nxt is not None and nxt.kind == "op" and nxt.text == "(" and tok.kind == "name":
            hint = {
                "c": "per-group vectors c(...) are not supported; use equal=... in fit() or labels",
                "start": "start() values are not supported; profiler computes its own starting values",
                "equal": "equal() is not supported; give the parameters the same label instead",
                "label": "label() is not supported; write the label directly, e.g. 'a*x1'",
            }.get(tok.text, f"function-style modifiers ({tok.text}(...)) are not supported")
            raise _Stop(self.problem(tok, hint))
        if nxt is not None and nxt.kind == "op" and nxt.text == "*":
            self.take()
            target = self.take()
            if target is None:
                raise _Stop(self.problem(None, "expected a variable name after '*'"))
            after = self.peek()
            if after is not None and after.kind == "op" and after.text == "*":
                raise _Stop(self.problem(after, "only one modifier per term is supported (e.g. '0.5*x1' or 'a*x1')"))
            if target.kind == "number" and target.text == "1" and op == "~":
                name_tok = target
            elif target.kind != "name":
                raise _Stop(self.problem(target, f"expected a variable name after '*', found {target.text!r}"))
            else:
                name_tok = target
            if tok.kind == "number":
                return Term(name_tok.text, name_tok.line, name_tok.column, fixed=sign * float(tok.text))
            if tok.kind == "name" and tok.text == "NA":
                return Term(name_tok.text, name_tok.line, name_tok.column, free=True)
            if tok.kind == "name":
                return Term(name_tok.text, name_tok.line, name_tok.column, label=tok.text)
            raise _Stop(self.problem(tok, f"a modifier must be a number, NA or a label, not {tok.text!r}"))
        if start is not tok:
            raise _Stop(self.problem(start, "a signed number must be followed by '*' and a variable name"))
        if tok.kind == "number":
            if tok.text == "1" and op == "~":
                return Term("1", tok.line, tok.column)
            if tok.text == "1":
                raise _Stop(self.problem(tok, f"'1' is only allowed after '~' (intercepts), not after {op!r}"))
            message = f"a number must be followed by '*' and a variable name (e.g. '{tok.text}*x1')"
            raise _Stop(self.problem(tok, message))
        if tok.kind != "name":
            raise _Stop(self.problem(tok, f"expected a variable name, found {tok.text!r}"))
        return Term(tok.text, tok.line, tok.column)


class _Stop(Exception):
    def __init__(self, problem: SyntaxProblem):
        self.problem = problem


def _check_semantics(statements: list[Statement], lines: list[str], problems: list[SyntaxProblem]) -> None:
    """Checks that need the whole model: higher-order factors, duplicates, undefined factors."""

    def at(line: int, column: int, message: str) -> SyntaxProblem:
        return SyntaxProblem(line, column, message, lines[line - 1] if line > 0 else "")

    latent = {st.lhs for st in statements if st.op == "=~"}
    seen: dict[tuple[str, str, str], Term] = {}
    labels = {t.label for st in statements if st.op != ":=" for t in st.rhs if t.label}
    defined: set[str] = set()
    for st in statements:
        if st.op == ":=":
            for name, line, column in _names(st.expr):
                if name not in labels and name not in defined:
                    known = sorted(labels | defined)
                    problems.append(at(line, column, f"{name!r} is not a parameter label of the model"
                                       f"{suggest(name, known)}; label a parameter first (e.g. '{name}*x2')"))
            if st.lhs in labels or st.lhs in defined:
                problems.append(at(st.line, st.column, f"{st.lhs!r} is already a label: a defined parameter needs "
                                   "a new name"))
            defined.add(st.lhs)
            continue
        if st.op == "~":
            for term in st.rhs:
                for name, tok in ((st.lhs, None), (term.name, term)):
                    if name not in latent:
                        line, column = (st.line, st.column) if tok is None else (term.line, term.column)
                        problems.append(at(line, column, f"regressions are between factors; {name!r} is not a factor "
                                           "(regressions of or on observed variables are not supported)"))
                if term.name == st.lhs:
                    problems.append(at(term.line, term.column, f"factor {st.lhs!r} cannot be regressed on itself"))
        for term in st.rhs:
            if st.op == "=~" and term.name == st.lhs:
                problems.append(at(term.line, term.column, f"factor {st.lhs!r} cannot be its own indicator"))
            a, b = st.lhs, term.name
            key = (a, st.op, b) if st.op != "~~" else (min(a, b), "~~", max(a, b))
            if key in seen:
                first = seen[key]
                problems.append(
                    at(term.line, term.column, f"'{st.lhs} {st.op} {term.name}' is specified twice "
                       f"(first at line {first.line}, column {first.column})")
                )
            else:
                seen[key] = term
        if st.op == "|" and st.lhs in latent:
            problems.append(at(st.line, st.column, f"thresholds belong to ordinal observed variables; {st.lhs!r} is a factor"))
        if st.op == "~~":
            for term in st.rhs:
                if (st.lhs in latent) != (term.name in latent):
                    problems.append(
                        at(term.line, term.column, f"'{st.lhs} ~~ {term.name}' relates a factor to an observed "
                           "variable, which a CFA measurement model cannot contain")
                    )
    if not latent and statements:
        message = "the model defines no factor: add at least one 'factor =~ items' statement"
        problems.append(SyntaxProblem(0, 0, message))


def _names(tree: tuple) -> list[tuple[str, int, int]]:
    """Every name in an expression tree, with its line and column."""
    if tree[0] == "name":
        return [(tree[1], tree[2], tree[3])]
    if tree[0] == "num":
        return []
    if tree[0] == "call":
        return _names(tree[2])
    return [n for child in tree[1:] for n in _names(child)]


def evaluate_expression(tree: tuple, values):
    """Value of an expression tree given ``values[name]`` (numbers, or complex for the complex step)."""
    import numpy as np

    kind = tree[0]
    if kind == "num":
        return tree[1]
    if kind == "name":
        return values[tree[1]]
    if kind == "neg":
        return -evaluate_expression(tree[1], values)
    if kind == "call":
        return {"sqrt": np.sqrt, "exp": np.exp, "log": np.log}[tree[1]](evaluate_expression(tree[2], values))
    a, b = evaluate_expression(tree[1], values), evaluate_expression(tree[2], values)
    if kind == "+":
        return a + b
    if kind == "-":
        return a - b
    if kind == "*":
        return a * b
    if kind == "/":
        return a / b
    return a**b


def parse_model(text: str) -> ParsedModel:
    """Parse lavaan model syntax (the CFA subset) into statements.

    Parameters
    ----------
    text : str
        The model, e.g. ``"visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6"``.

    Returns
    -------
    ParsedModel

    Raises
    ------
    ModelSyntaxError
        Listing every problem found, each with its line and column and the offending line.

    Notes
    -----
    In R: ``lavaan::lavParseModelString(model)``.
    """
    if not isinstance(text, str):
        raise TypeError(f"model must be a string of lavaan syntax or a mapping, not {type(text).__name__}")
    lines = text.split("\n")
    problems: list[SyntaxProblem] = []
    tokens = _tokenize(text, problems, lines)
    statements: list[Statement] = []
    for group in _split_statements(tokens):
        if any(t.kind == "bad" for t in group):
            continue  # already reported by the tokenizer
        try:
            statements.append(_StatementParser(group, lines).parse())
        except _Stop as stop:
            problems.append(stop.problem)
    if not problems:
        if not statements:
            problems.append(SyntaxProblem(0, 0, "the model is empty: write at least one 'factor =~ items' statement"))
        _check_semantics(statements, lines, problems)
    if problems:
        raise ModelSyntaxError(problems)
    return _assemble(statements, text)


def _assemble(statements: Iterable[Statement], text: str) -> ParsedModel:
    statements = tuple(statements)
    latent: list[str] = []
    indicators: dict[str, list[str]] = {}
    for st in statements:
        if st.op == "=~":
            if st.lhs not in latent:
                latent.append(st.lhs)
                indicators[st.lhs] = []
            indicators[st.lhs].extend(t.name for t in st.rhs)
    observed: list[str] = []
    # lavaan orders observed variables: indicators first (in order of appearance), then the others
    for st in statements:
        if st.op == "=~":
            observed.extend(t.name for t in st.rhs if t.name not in observed and t.name not in latent)
    for st in statements:
        if st.op == ":=":
            continue
        names = [st.lhs] + ([] if st.op == "|" else [t.name for t in st.rhs])
        observed.extend(n for n in names if n not in latent and n != "1" and n not in observed)
    return ParsedModel(
        statements, tuple(latent), tuple(observed), text, {k: tuple(v) for k, v in indicators.items()}
    )


def model_from_scales(scales: Mapping[str, Sequence[str]]) -> ParsedModel:
    """A model with one factor per scale, measured by the scale's items.

    Parameters
    ----------
    scales : mapping of str to sequence of str
        ``{factor: [item, ...]}``. A leading ``-`` (psych's reverse-key mark, ``"-A1"``) is dropped:
        a CFA loading carries its own sign, so keying does not change the model.

    Returns
    -------
    ParsedModel
        Equivalent to the syntax ``factor =~ item1 + item2 + ...``, one line per scale.
    """
    if not isinstance(scales, Mapping) or not scales:
        raise ModelSyntaxError([SyntaxProblem(0, 0, "scales must be a non-empty mapping {factor: [items]}")])
    problems: list[SyntaxProblem] = []
    statements: list[Statement] = []
    for factor, items in scales.items():
        if not isinstance(factor, str) or not factor:
            problems.append(SyntaxProblem(0, 0, f"factor names must be non-empty strings, got {factor!r}"))
            continue
        if isinstance(items, str) or not isinstance(items, Sequence) or len(items) == 0:
            problems.append(SyntaxProblem(0, 0, f"factor {factor!r} needs a non-empty list of items, got {items!r}"))
            continue
        names = [str(item).removeprefix("-") for item in items]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            listed = ", ".join(map(repr, dupes))
            problems.append(SyntaxProblem(0, 0, f"factor {factor!r} lists {listed} more than once"))
            continue
        statements.append(Statement(factor, "=~", tuple(Term(n) for n in names)))
    latent = {st.lhs for st in statements}
    for st in statements:
        for term in st.rhs:
            if term.name in latent:
                problems.append(
                    SyntaxProblem(0, 0, f"factor {term.name!r} is used as an item of {st.lhs!r}: "
                                  "higher-order factors are not supported")
                )
    if problems:
        raise ModelSyntaxError(problems)
    return _assemble(statements, "")


def suggest(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x1'?)`` when a close match exists, else ``""`` (profiler's one did-you-mean)."""
    return did_you_mean(name, candidates)
