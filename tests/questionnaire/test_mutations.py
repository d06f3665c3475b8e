"""Property test: any mutation of a valid questionnaire loads or raises QuestionnaireError, nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import profiler
from profiler.yamlsource import parse_yaml

MINI = Path(__file__).parents[1] / "fixtures" / "questionnaires" / "mini.yaml"
BASE = parse_yaml(MINI.read_text(encoding="utf-8")).data

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10, 100), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["No", "yes", "on", "2024-01-01", "-S2", "agree5", "likert", "mean"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                        st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=6)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            out += _paths(child, prefix + (key,))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            out += _paths(child, prefix + (i,))
    return out


PATHS = [p for p in _paths(BASE) if p]


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, float):
        return float(node)
    if isinstance(node, int) and not isinstance(node, bool):
        return int(node)
    return node


@st.composite
def mutated(draw) -> dict:
    doc = _plain(BASE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        parent = doc
        try:
            for part in path[:-1]:
                parent = parent[part]
            key = path[-1]
            current = parent[key]
        except (KeyError, IndexError, TypeError):
            continue
        if not isinstance(parent, dict | list):  # a text (indexable too) where the path expected a mapping
            continue
        action = draw(st.sampled_from(["delete", "duplicate", "retype", "rename"]))
        if action == "delete":
            del parent[key]
        elif action == "duplicate" and isinstance(parent, list):
            parent.insert(key, current)
        elif action == "rename" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=10))] = parent.pop(key)
        else:
            parent[key] = draw(values)
    return doc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_questionnaires_load_or_raise_questionnaire_error(doc):
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    try:
        questionnaire = profiler.parse_questionnaire(text, "mutant.yaml")
    except profiler.QuestionnaireError as error:
        assert error.errors
        for detail in error.errors:
            assert detail.file == "mutant.yaml" and detail.message
        return
    assert questionnaire.content_hash.startswith("sha256:")
    assert questionnaire.item_order(seed=1)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_loads_or_raises_questionnaire_error(text):
    try:
        profiler.parse_questionnaire(text, "noise.yaml")
    except profiler.QuestionnaireError as error:
        assert error.errors
