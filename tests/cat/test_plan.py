"""Adaptive administration in the questionnaire format: the YAML section, its located errors, the plan it
resolves to, and `profiler check` against the item bank."""

from __future__ import annotations

import pytest

from profiler.cat.plan import adaptive_plan, check_adaptive, scale_rules
from profiler.cli import main
from profiler.errors import QuestionnaireError
from profiler.irt import load_irt_calibration
from profiler.questionnaire.loader import load_questionnaire, parse_questionnaire
from profiler.yamlsource import parse_yaml, read_yaml_file

from .conftest import facet_yaml, ipip_cat_yaml, write_bank


def test_a_questionnaire_without_the_section_keeps_its_content_hash():
    # The shipped calibration was made before adaptive administration existed, for this very content.
    calibration = load_irt_calibration("ipip-bfm-50", "Extraversion")
    assert load_questionnaire("ipip-bfm-50").content_hash == calibration.questionnaire["content_hash"]


def test_the_plan_of_a_facet_domain(facet_questionnaire):
    plan = adaptive_plan(facet_questionnaire)
    assert [s.scale for s in plan.scales] == ["Sociability"]
    assert plan.fixed_items == ("X1", "AC")
    engine = plan.scales[0].engine
    assert engine.facet_names == ("Warmth", "Energy", "Cheer")
    assert engine.rules.each_facet == 1 and engine.rules.se == 0.45 and engine.rules.max_items == 8
    assert engine.rules.exposure == "randomesque" and engine.rules.candidates == 2
    assert plan.max_items == 2 + 8
    # Reverse-keyed items take raw answers: the bank lists their answers from the highest down.
    assert list(plan.scales[0].calibration.bank().categories[1]) == [5, 4, 3, 2, 1]


def test_a_scale_overrides_fields_of_the_test_wide_rules():
    q = parse_questionnaire(facet_yaml("    bank: irt\n    stop: {se: 0.3, min_items: 3, max_items: 10}\n"
                                       "    scales: {Sociability: {stop: {max_items: 6}, selection: kl}}"))
    _, rules = scale_rules(q, "Sociability")
    assert (rules.se, rules.min_items, rules.max_items, rules.selection) == (0.3, 3, 6, "kl")


@pytest.mark.parametrize(("adaptive", "allow_back", "message", "line"), [
    ("    bank: irt", "true", "adaptive administration needs allow_back: false", 33),
    ("    bank: irt\n    scales: {Sociabilty: {}}", "false", "'Sociabilty' is not a scale of the questionnaire "
     "(did you mean 'Sociability'?)", 36),
    ("    bank: irt\n    scales: {Sociability: {start: {items: [X1]}}}", "false",
     "start item 'X1' is not an item of scale 'Sociability'", 36),
    ("    bank: irt\n    scales: {Sociability: {content: {proportions: {Warmth: 0.5, Other: 0.5}}}}", "false",
     "'Other' is not a facet of scale 'Sociability' (its facets: Warmth, Energy, Cheer)", 36),
    ("    bank: irt\n    content: {proportions: {Warmth: 0.5, Cheer: 0.4}}", "false",
     "facet proportions must sum to 1, they sum to 0.9", 36),
    ("    bank: irt\n    stop: {min_items: 9, max_items: 4}", "false", "min_items (9) is more than max_items (4)", 36),
    ("    bank: irt\n    scales: {Sociability: {}, Warmth: {}}", "false",
     "adaptive scales 'Sociability' and 'Warmth' share item 'W1'", 36),
    ("    bank: irt\n    exposure: {method: sympson-hetter, parameters: {W9: 0.5}}", "false",
     "item 'W9' does not exist", 36),
    ("    bank: irt\n    stop: {se: 0}", "false", "must be > 0.0, found 0", 36),
])
def test_structural_mistakes_are_located(adaptive, allow_back, message, line):
    with pytest.raises(QuestionnaireError) as caught:
        parse_questionnaire(facet_yaml(adaptive, allow_back=allow_back), "q.yaml")
    found = [e for e in caught.value.errors if message in e.message]
    assert found, [str(e) for e in caught.value.errors]
    assert found[0].line >= line - 3 and found[0].file == "q.yaml"


def test_blocks_cannot_be_combined_with_adaptive_administration():
    text = facet_yaml("    bank: irt").replace("  order: fixed\n", "  order: fixed\n  blocks:\n"
                                                   "    - {id: all, items: [W1, W2, W3, W4, E1, E2, E3, E4, C1, C2, "
                                                   "C3, C4, X1, AC]}\n")
    with pytest.raises(QuestionnaireError, match="blocks .pages. cannot be combined"):
        parse_questionnaire(text)


def _problems(path):
    doc = read_yaml_file(path)
    return check_adaptive(load_questionnaire(path), doc)


def test_check_passes_a_matching_bank(facet_questionnaire, tmp_path):
    assert _problems(tmp_path / "facet-test.yaml") == []


def test_check_names_a_bank_keyed_otherwise_or_missing_items(tmp_path):
    path = tmp_path / "q.yaml"
    path.write_text(facet_yaml("    bank: irt\n    scales: {Sociability: {}}"))
    write_bank(tmp_path / "irt", load_questionnaire(path), flip="E3")
    problems = _problems(path)
    assert [p.message for p in problems] == ["scale 'Sociability': item 'E3' is reverse keyed in scale "
                                             "'Sociability' but keyed positively in the bank 'test-bank'"]
    assert problems[0].path == "administration.adaptive.bank" and problems[0].line == 42
    write_bank(tmp_path / "irt", load_questionnaire(path), scale="Warmth")  # a bank of another scale only
    (tmp_path / "irt" / "Sociability.json").unlink()
    assert "has no calibration of scale 'Sociability' (it calibrates Warmth)" in _problems(path)[0].message


def test_check_names_a_bank_that_cannot_be_read_or_met(tmp_path):
    path = tmp_path / "q.yaml"
    path.write_text(facet_yaml("    bank: nowhere\n    scales: {Sociability: {}}"))
    assert "item bank 'nowhere': no bundled IRT calibration" in _problems(path)[0].message
    path.write_text(facet_yaml("    bank: irt\n    scales: {Sociability: {content: {each_facet: 3}, "
                               "stop: {max_items: 8}}}"))
    write_bank(tmp_path / "irt", load_questionnaire(path))
    problems = _problems(path)
    assert len(problems) == 1 and "need 9 items, more than max_items = 8" in problems[0].message
    assert problems[0].path == "administration.adaptive.scales.Sociability"


def test_the_ipip50_given_adaptively_on_its_shipped_calibration(tmp_path):
    path = tmp_path / "ipip-bfm-50-cat.yaml"
    path.write_text(ipip_cat_yaml())
    assert _problems(path) == []
    plan = adaptive_plan(load_questionnaire(path))
    assert [s.scale for s in plan.scales] == ["Extraversion", "Neuroticism", "Agreeableness", "Conscientiousness",
                                              "Openness"]
    assert plan.fixed_items == ()
    # The same bank with an item reworded: the calibration no longer speaks for it.
    path.write_text(ipip_cat_yaml().replace('en: "I am the life of the party."', 'en: "I like parties."'))
    problems = _problems(path)
    assert [p.message for p in problems] == ["scale 'Extraversion': item 'E1': its text in en differs from the "
                                             "text calibrated in ipip-bfm-50 1.0.0"]


def test_profiler_check_reports_the_bank(tmp_path, capsys, facet_questionnaire):
    assert main(["check", str(tmp_path / "facet-test.yaml")]) == 0
    assert "adaptive: Sociability" in capsys.readouterr().out
    path = tmp_path / "q.yaml"
    path.write_text(facet_yaml("    bank: irt\n    scales: {Sociability: {}}"))
    write_bank(tmp_path / "irt", load_questionnaire(path), flip="E3")
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert "q.yaml:42:11: scale 'Sociability': item 'E3' is reverse keyed" in err and "(--strict)" not in err


def test_parse_yaml_document_for_checks():
    doc = parse_yaml(facet_yaml("    bank: irt"), "q.yaml")
    assert doc.data["administration"]["adaptive"]["bank"] == "irt"

