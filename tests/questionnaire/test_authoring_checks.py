"""Authoring checks: warning codes and silences, items in several scales, and the hint that leads."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

import profiler
from profiler.cli import main
from profiler.questionnaire.checks import questionnaire_warnings
from profiler.questionnaire.loader import validate_document
from profiler.questionnaire.questionnaire import Questionnaire
from profiler.questionnaire.warning_codes import WARNINGS, WarningCode
from profiler.yamlsource import parse_yaml

FIXTURES = Path(__file__).parents[1] / "fixtures" / "questionnaires"
MINI = (FIXTURES / "mini.yaml").read_text(encoding="utf-8")
MINI_HASH = profiler.load_questionnaire(FIXTURES / "mini.yaml").content_hash


def _edit(*pairs: tuple[str, str], text: str = MINI) -> str:
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def _check(text: str) -> tuple[list, list]:
    """(errors, warnings) of ``profiler check`` for a document."""
    doc = parse_yaml(text, "q.yaml")
    spec, errors = validate_document(doc)
    if spec is None:
        return errors, []
    return [], questionnaire_warnings(Questionnaire(spec), doc)


def test_catalogue_and_format_list_the_same_codes():
    assert set(WARNINGS) == set(get_args(WarningCode))


def test_every_warning_of_mini_has_a_code():
    _, warnings = _check(MINI)
    assert sorted(w.code for w in warnings) == ["missing-translation", "short-scale", "unvalidated-translation"]
    assert all(str(w).endswith(f"[{w.code}]") for w in warnings)


DE_LANGUAGE = "  de: {status: unvalidated, note: 'machine-assisted translation, not yet reviewed'}\n"
TENURE = "  - id: Tenure\n    keys: [TEN]\n"
T3_ITEM = "    text: {en: I rely on others to do their part.}\n"


def test_silences_per_place_and_per_document():
    silenced = _edit(
        (DE_LANGUAGE, "  de:\n    status: unvalidated\n    silence:\n"
                      "      - {warning: unvalidated-translation, reason: pilot only; adaptation study in 2027}\n"),
        (TENURE, TENURE + "    silence: [{warning: short-scale, reason: 'a single fact, not a trait'}]\n"),
        (T3_ITEM, T3_ITEM + "    silence: [{warning: missing-translation, reason: dropped from the German form}]\n"),
    )
    errors, warnings = _check(silenced)
    assert errors == [] and warnings == []
    # At the top of the document, a silence applies everywhere.
    top = _edit(("administration:\n", "silence:\n  - {warning: short-scale, reason: background questions}\n"
                 "administration:\n"))
    assert sorted(w.code for w in _check(top)[1]) == ["missing-translation", "unvalidated-translation"]


def test_silence_is_part_of_the_content_hash_and_absent_sections_are_not():
    assert profiler.parse_questionnaire(MINI).content_hash == MINI_HASH
    one = _edit((TENURE, TENURE + "    silence: [{warning: short-scale, reason: a fact}]\n"))
    other = _edit((TENURE, TENURE + "    silence: [{warning: short-scale, reason: another reason}]\n"))
    hashes = {profiler.parse_questionnaire(t).content_hash for t in (MINI, one, other)}
    assert len(hashes) == 3
    # The bundled questionnaire keeps the hash its shipped norms and factor model were built for.
    q = profiler.load_questionnaire("ipip-bfm-50")
    assert profiler.load_norms(q, "general").questionnaire.content_hash == q.content_hash


def test_unused_and_unknown_silences():
    unused = _edit((TENURE, TENURE + "    silence: [{warning: one-way-keying, reason: only one item}]\n"))
    warnings = _check(unused)[1]
    stale = [w for w in warnings if w.code == "unused-silence"]
    assert len(stale) == 1 and stale[0].line == 65
    assert "silence of 'one-way-keying' silences nothing" in stale[0].message
    unknown = _edit((TENURE, TENURE + "    silence: [{warning: short-scal, reason: typo}]\n"))
    errors = _check(unknown)[0]
    assert [e.message for e in errors if e.severity == "error"] == [
        "'short-scal' is not one of short-scale, one-way-keying, missing-translation, unvalidated-translation, "
        "duplicate-text, unused-silence (did you mean 'short-scale'?)"]


def test_duplicate_text_is_a_warning_at_the_second_item():
    dup = _edit(("    text: {en: I ask questions in meetings., de: Ich stelle in Meetings Fragen.}",
                 "    text: {en: I speak up when I disagree., de: Ich stelle in Meetings Fragen.}"))
    found = [w for w in _check(dup)[1] if w.code == "duplicate-text"]
    assert [w.message for w in found] == ["item 'S3' has the same 'en' text as item 'S1'"]
    assert found[0].path == "items[2].text.en"


def test_item_shared_on_purpose_passes_and_facet_and_top_level_are_different_levels():
    declared = _edit(
        ("  - id: S3\n    text: {en: I ask questions in meetings., de: Ich stelle in Meetings Fragen.}\n",
         "  - id: S3\n    text: {en: I ask questions in meetings., de: Ich stelle in Meetings Fragen.}\n"
         "    shared: {scales: [Voice, Trust], reason: speaking up in meetings needs trust}\n"),
        ("keys: [T1, -T2, T3]", "keys: [T1, -T2, T3, S3]"))
    assert _check(declared)[0] == []
    # Tenure is nobody's facet (level 0); Voice is a facet of Climate (level 1): not the same level.
    other_level = _edit(("keys: [TEN]", "keys: [TEN, S1]"))
    assert _check(other_level)[0] == []
    # Opposite keying is an error even when the sharing is declared: a domain would score it one way only.
    opposite = _edit(
        ("  - id: S3\n    text: {en: I ask questions in meetings., de: Ich stelle in Meetings Fragen.}\n",
         "  - id: S3\n    text: {en: I ask questions in meetings., de: Ich stelle in Meetings Fragen.}\n"
         "    shared: {scales: [Voice, Trust], reason: on purpose}\n"),
        ("keys: [T1, -T2, T3]", "keys: [T1, -T2, T3, -S3]"))
    errors = _check(opposite)[0]
    assert [(e.line, e.path) for e in errors] == [(55, "scales[0].keys[2]"), (58, "scales[1].keys[3]")]


def test_opposite_keys_in_two_facets_are_located_at_both_places():
    errors = _check(_edit(("keys: [T1, -T2, T3]", "keys: [T1, -T2, T3, -S3]")))[0]
    tail = ("; an item measures in one direction, and a domain made of both scales would score it one way only: "
            "key it alike in both, or use it in one scale")
    assert [(e.line, e.message) for e in errors] == [
        (54, "item 'S3' is keyed positively in scale 'Voice' but reverse keyed in scale 'Trust' (line 57)" + tail),
        (57, "item 'S3' is reverse keyed in scale 'Trust' but keyed positively in scale 'Voice' (line 54)" + tail),
    ]


def test_hint_leads_and_names_the_errors_it_explains():
    errors = _check(_edit(("keys: [S1, -S2, S3]", "kyes: [S1, -S2, S3]")))[0]
    assert errors[0].severity == "hint" and errors[0].line == 54
    assert errors[0].message == ("'kyes' is probably 'keys': correcting it resolves all 5 errors below "
                                 "(lines 31, 33, 35, 52, 54)")
    assert len(errors) == 6 and all(e.severity == "error" for e in errors[1:])


def test_no_hint_for_unrelated_errors():
    errors = _check(_edit(("allow_back: false", "alow_back: false"), ("expected: 4", "expected: 7")))[0]
    assert [e.severity for e in errors] == ["error", "error"]


def test_reverse_mark_of_other_tools():
    errors = _check(_edit(("keys: [T1, -T2, T3]", "keys: [T1, T2R, T3]")))[0]
    assert any(e.message == "scale 'Trust' names item 'T2R', which does not exist; write -T2 to reverse-key "
               "item 'T2'" for e in errors)
    assert "did you mean" not in " ".join(e.message for e in errors)


@pytest.mark.parametrize("entry", ["T2R", "T2_R", "T2-R", "T2(R)", "T2 (R)", "T2r", "T2-"])
def test_reverse_mark_spellings(entry):
    errors = _check(_edit(("keys: [T1, -T2, T3]", f"keys: [T1, '{entry}', T3]")))[0]
    assert any("write -T2 to reverse-key item 'T2'" in e.message for e in errors), [e.message for e in errors]


def test_cli_strict_turns_warnings_into_errors(capsys, tmp_path):
    path = tmp_path / "q.yaml"
    path.write_text(MINI, encoding="utf-8")
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "warning: scale 'Tenure' has 1 item(s); fewer than 3 items rarely give a reliable score [short-scale]" in out
    assert main(["check", "--strict", str(path)]) == 1
    captured = capsys.readouterr()
    assert "q.yaml:63:5: scale 'Tenure' has 1 item(s)" in captured.err
    assert "3 warning(s) treated as errors (--strict)" in captured.err and "ok" not in captured.out
    silenced = _edit(
        (DE_LANGUAGE, "  de:\n    status: unvalidated\n    silence:\n"
                      "      - {warning: unvalidated-translation, reason: pilot only}\n"
                      "      - {warning: missing-translation, reason: T3 is not asked in German}\n"),
        (TENURE, TENURE + "    silence: [{warning: short-scale, reason: 'a single fact, not a trait'}]\n"))
    path.write_text(silenced, encoding="utf-8")
    assert main(["check", "--strict", str(path)]) == 0
    assert "0 warning(s)" in capsys.readouterr().out


def test_cli_prints_the_hint_first(capsys):
    assert main(["check", str(FIXTURES / "broken" / "misspelt_keys.yaml")]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("misspelt_keys.yaml:54:5: hint: 'kyes' is probably 'keys'")
    assert len(lines) == 6


def _systematic(n_facets: int = 6, per_facet: int = 4) -> str:
    """A questionnaire with ids like a real inventory's (N1_1 ... N6_4): many ids equally close to any other."""
    items, scales = [], []
    for f in range(1, n_facets + 1):
        ids = [f"N{f}_{k}" for k in range(1, per_facet + 1)]
        items += [f"  - {{id: {i}, text: {{en: 'Item {i}'}}}}\n" for i in ids]
        keys = ", ".join(("-" if k % 2 == 0 else "") + i for k, i in enumerate(ids, 1))
        scales.append(f"  - {{id: N{f}, keys: [{keys}]}}\n")
    return ("id: systematic\nversion: '1'\ntitle: {en: S}\ndefault_language: en\nlanguages: {en: {status: original}}\n"
            "defaults: {response_format: agree5}\nresponse_formats:\n  agree5:\n    type: likert\n    options:\n"
            + "".join(f"      - {{value: {v}, label: {{en: '{v}'}}}}\n" for v in range(1, 6))
            + "items:\n" + "".join(items) + "scales:\n" + "".join(scales))


def test_systematic_ids_suggest_the_item_no_scale_keys():
    text = _systematic()
    assert _check(text) == ([], [])
    # The definition misspelt: among 24 ids one edit away from 'N3_2', the one no scale keys is meant.
    errors = _check(_edit(("{id: N3_2,", "{id: N3_Z,"), text=text))[0]
    assert [e.severity for e in errors] == ["hint", "error", "error"]
    assert errors[0].message.startswith("'-N3_2' is probably '-N3_Z': correcting it resolves both errors below")
    assert errors[2].message == "scale 'N3' names item 'N3_2', which does not exist (did you mean 'N3_Z'?)"
    # A key misspelt: the item left unkeyed is suggested, and the hint confirms it.
    errors = _check(_edit(("-N5_4]", "-N5_A]"), text=text))[0]
    assert errors[0].message.startswith("'-N5_A' is probably '-N5_4': correcting it resolves both errors below")
    assert errors[2].message == "scale 'N5' names item 'N5_A', which does not exist (did you mean 'N5_4'?)"
