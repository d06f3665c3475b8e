"""lavaan model syntax: what parses, and errors that name line and column."""

from __future__ import annotations

import pytest

from profiler.errors import ProfilerError
from profiler.factors.model_syntax import ModelSyntaxError, model_from_scales, parse_model


def test_statements_terms_and_modifiers():
    model = parse_model(
        """
        # Holzinger & Swineford, with extras
        visual  =~ x1 + x2 +
                   x3                       ! continued line
        textual =~ x4 + NA*x5 + a*x6; speed =~ x7
                   + x8 + -0.5*x9
        x7 ~~ x8
        visual ~~ 0*speed
        x1 ~ 1
        """
    )
    assert model.latent == ("visual", "textual", "speed")
    assert model.observed == tuple(f"x{i}" for i in range(1, 10))
    assert model.indicators["visual"] == ("x1", "x2", "x3")
    ops = [(s.lhs, s.op, tuple(t.name for t in s.rhs)) for s in model.statements]
    assert ops == [
        ("visual", "=~", ("x1", "x2", "x3")),
        ("textual", "=~", ("x4", "x5", "x6")),
        ("speed", "=~", ("x7", "x8", "x9")),
        ("x7", "~~", ("x8",)),
        ("visual", "~~", ("speed",)),
        ("x1", "~1", ("1",)),
    ]
    textual, speed = model.statements[1], model.statements[2]
    assert textual.rhs[1].free and textual.rhs[2].label == "a"
    assert speed.rhs[2].fixed == -0.5
    assert model.statements[4].rhs[0].fixed == 0.0
    # positions are 1-based line and column of the name
    x3 = model.statements[0].rhs[2]
    assert (x3.line, x3.column) == (4, 20)
    assert model.locate("speed") == (5, 39)


def _problems(text: str) -> list[tuple[int, int, str]]:
    with pytest.raises(ModelSyntaxError) as info:
        parse_model(text)
    assert isinstance(info.value, ProfilerError) and isinstance(info.value, ValueError)
    return [(p.line, p.column, p.message) for p in info.value.problems]


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("f =~ x1 + x2\ng =~ x3 x4", 2, 9, "expected '+'"),
        ("f =~ x1 +\n\n", 1, 10, "expected a variable name"),
        ("f =~ x1 + + x2", 1, 11, "found '+'"),
        ("f =~ 2 x1", 1, 6, "must be followed by '*'"),
        ("f =~ x1 + \"x2\"", 1, 11, "quoted"),
        ("f =~ x1 + x2\ny ~ f", 2, 1, "regressions are between factors; 'y' is not a factor"),
        ("f =~ x1 + x2\nd := 2*a", 2, 8, "'a' is not a parameter label"),
        ("f =~ a*x1 + x2\nd := sin(a)", 2, 6, "unknown function 'sin'"),
        ("f =~ a*x1 + x2\nd := a b", 2, 8, "unexpected 'b' in the expression"),
        ("f =~ a*x1 + x2\na := 2*a", 2, 1, "already a label"),
        ("f =~ x1 + x2\nf ~ 1 + x1", 2, 3, "intercept ('~ 1') must be a statement of its own"),
        ("f =~ x1\nx1 == x2", 2, 4, "equality constraints"),
        ("f =~ x1 + x2\nx1 | u1", 2, 6, "thresholds are named t1, t2"),
        ("f =~ x1 + x2\nf | t1", 2, 1, "thresholds belong to ordinal observed variables"),
        ("f =~ c(1, NA)*x1", 1, 6, "per-group vectors"),
        ("f =~ start(0.5)*x1", 1, 6, "start()"),
        ("f =~ a*0.5*x1", 1, 11, "only one modifier"),
        ("=~ x1", 1, 1, "must start with a variable"),
        ("f", 1, 2, "expected an operator"),
        ("f =~ x1 + x2\nf ~ f", 2, 5, "cannot be regressed on itself"),
        ("f =~ x1 + x1", 1, 11, "specified twice (first at line 1, column 6)"),
        ("f =~ x1\nf ~~ x1", 2, 6, "relates a factor to an observed"),
        ("f =~ x1 + 1", 1, 11, "only allowed after '~'"),
        ("f =~ x1 + x2 @", 1, 14, "unexpected character '@'"),
    ],
)
def test_syntax_errors_name_line_and_column(text, line, column, words):
    problems = _problems(text)
    assert len(problems) == 1, problems
    got_line, got_column, message = problems[0]
    assert (got_line, got_column) == (line, column), message
    assert words in message


def test_every_problem_is_reported_with_the_source_line():
    text = "f =~ x1 + x2\ng =~ x3 x4\nh := a b\nk =~ x5 + x6"
    with pytest.raises(ModelSyntaxError) as info:
        parse_model(text)
    problems = info.value.problems
    assert [(p.line, p.column) for p in problems] == [(2, 9), (3, 8)]
    message = str(info.value)
    assert message.startswith("invalid model syntax (2 problems):")
    assert "line 2, column 9" in message and "    g =~ x3 x4\n            ^" in message


def test_empty_or_factorless_models():
    assert "empty" in _problems("  # nothing here\n")[0][2]
    assert "no factor" in _problems("x1 ~~ x2")[0][2]
    with pytest.raises(TypeError):
        parse_model(None)  # type: ignore[arg-type]


def test_model_from_scales_drops_reverse_key_marks():
    model = model_from_scales({"A": ["-A1", "A2", "A3"], "C": ["C1", "-C2"]})
    assert model.latent == ("A", "C")
    assert model.observed == ("A1", "A2", "A3", "C1", "C2")
    assert model.locate("A1") == (0, 0)


@pytest.mark.parametrize(
    ("scales", "words"),
    [
        ({}, "non-empty mapping"),
        ({"A": []}, "non-empty list"),
        ({"A": "A1 A2"}, "non-empty list"),
        ({"A": ["A1", "-A1"]}, "more than once"),
        ({"A": ["A1", "A2"], "B": ["A", "B1"]}, "higher-order"),
    ],
)
def test_model_from_scales_errors(scales, words):
    with pytest.raises(ModelSyntaxError, match=words):
        model_from_scales(scales)


def test_structural_syntax_higher_order_regressions_and_defined_parameters():
    from profiler.factors.model_syntax import evaluate_expression

    model = parse_model(
        """
        visual =~ x1 + a*x2 + b*x3
        textual =~ x4 + x5 + x6
        g =~ visual + textual
        speed =~ x7 + x8 + x9
        speed ~ d*visual + e*textual
        ab := a*b
        ratio := (d - e) / sqrt(ab) ^ 2
        """
    )
    assert model.latent == ("visual", "textual", "g", "speed")
    assert model.observed == tuple(f"x{i}" for i in range(1, 10))
    assert model.indicators["g"] == ("visual", "textual")
    regression = model.statements[4]
    assert (regression.lhs, regression.op, [t.label for t in regression.rhs]) == ("speed", "~", ["d", "e"])
    ab, ratio = model.statements[5], model.statements[6]
    assert (ab.op, ab.rhs[0].name) == (":=", "a*b")
    values = {"a": 2.0, "b": 3.0, "d": 1.0, "e": 0.5, "ab": 6.0}
    assert evaluate_expression(ab.expr, values) == 6.0
    assert evaluate_expression(ratio.expr, values) == pytest.approx(0.5 / 6.0)
