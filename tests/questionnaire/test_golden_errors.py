"""Golden tests: each broken questionnaire beside the exact messages it must produce.

To add a case, put ``name.yaml`` in tests/fixtures/questionnaires/broken and its expected
``str(QuestionnaireError)`` in ``name.expected``; read the messages yourself before committing them.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import profiler

BROKEN = Path(__file__).parents[1] / "fixtures" / "questionnaires" / "broken"
CASES = sorted(p.stem for p in BROKEN.glob("*.yaml"))


def test_every_case_has_its_expected_messages():
    assert CASES and all((BROKEN / f"{name}.expected").exists() for name in CASES)
    assert len(CASES) >= 23


@pytest.mark.parametrize("name", CASES)
def test_broken_questionnaire_gives_exact_messages(name):
    expected = (BROKEN / f"{name}.expected").read_text(encoding="utf-8").rstrip("\n")
    with pytest.raises(profiler.QuestionnaireError) as info:
        profiler.load_questionnaire(BROKEN / f"{name}.yaml")
    assert str(info.value) == expected
    for error in info.value.errors:
        assert error.file == f"{name}.yaml"
        assert error.line >= 1 and error.column >= 1


def test_all_problems_are_reported_at_once():
    with pytest.raises(profiler.QuestionnaireError) as info:
        profiler.load_questionnaire(BROKEN / "several_problems.yaml")
    errors = [e for e in info.value.errors if e.severity == "error"]
    assert len(errors) == 5
    lines = [e.line for e in errors]
    assert lines == sorted(lines)


def test_alias_bomb_is_refused_quickly():
    start = time.perf_counter()
    with pytest.raises(profiler.QuestionnaireError, match="more than 200,000 nodes"):
        profiler.load_questionnaire(BROKEN / "alias_bomb.yaml")
    # Generous bound: expanding the bomb would take minutes and gigabytes.
    assert time.perf_counter() - start < 30


def test_recursive_alias_is_refused():
    with pytest.raises(profiler.QuestionnaireError, match="recursive"):
        profiler.parse_questionnaire("a: &a [1, *a]\n")


def test_python_tags_are_refused():
    with pytest.raises(profiler.QuestionnaireError, match="tags such as"):
        profiler.parse_questionnaire("id: !!python/object/apply:os.system ['true']\n")


def test_several_documents_are_refused():
    with pytest.raises(profiler.QuestionnaireError, match="several YAML documents"):
        profiler.parse_questionnaire("id: a\n---\nid: b\n")
