"""Loading questionnaires: bundled ids, paths, the parsed model, content hashes and YAML traps."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import profiler
from profiler.questionnaire.spec import LikertFormat, NumberFormat

FIXTURES = Path(__file__).parents[1] / "fixtures" / "questionnaires"
MINI = FIXTURES / "mini.yaml"


def test_bundled_by_id_and_by_path_are_the_same():
    by_id = profiler.load_questionnaire("ipip-bfm-50")
    by_path = profiler.load_questionnaire(Path(profiler.bundled_questionnaires()["ipip-bfm-50"]))
    assert by_id.content_hash == by_path.content_hash
    assert by_id.source == "bundled:ipip-bfm-50"


def test_ipip50_structure():
    q = profiler.load_questionnaire("ipip-bfm-50")
    assert len(q.items) == 50
    assert q.scale_ids == ["Extraversion", "Neuroticism", "Agreeableness", "Conscientiousness", "Openness"]
    assert q.item_order()[:6] == ["E1", "A1", "C1", "N1", "O1", "E2"]
    assert q.key_lists()["Neuroticism"] == ["N1", "-N2", "N3", "-N4", "N5", "N6", "N7", "N8", "N9", "N10"]
    assert q.text("E2") == "I don't talk a lot."
    assert q.text("E1", "fr") == "Je suis l’attraction des soirées."
    assert q.spec.languages["de"].status == "unvalidated"
    fmt = q.response_format("E1")
    assert isinstance(fmt, LikertFormat) and [o.value for o in fmt.options] == [1, 2, 3, 4, 5]
    assert q.content_hash.startswith("sha256:") and len(q.content_hash) == 71


def test_mini_questionnaire_model():
    q = profiler.load_questionnaire(MINI)
    assert q.id == "team-climate-mini" and q.version == "0.3"
    assert q.validity_items == ["ATT1"]
    assert q.is_required("S1") and not q.is_required("T3")
    assert q.facets_of == {"Climate": ["Voice", "Trust"]}
    assert q.parent_of == {"Voice": "Climate", "Trust": "Climate"}
    assert [str(k) for k in q.keys("Climate")] == ["S1", "-S2", "S3", "T1", "-T2", "T3"]
    assert isinstance(q.response_format("TEN"), NumberFormat)
    assert q.item_range("TEN") == (0, 50)
    matrix = q.scoring_matrix
    assert matrix.loc["S2", "Voice"] == -1 and matrix.loc["S2", "Climate"] == -1 and matrix.loc["S2", "Trust"] == 0
    assert "ATT1" not in matrix.index


def test_text_in_missing_language_is_a_clear_error():
    q = profiler.load_questionnaire(MINI)
    with pytest.raises(KeyError, match="item 'T3' has no text in 'de'"):
        q.text("T3", "de")
    with pytest.raises(KeyError, match="not offered in 'fr'"):
        q.text("S1", "fr")


def test_random_order_is_reproducible_from_the_seed_and_stays_in_blocks():
    q = profiler.load_questionnaire(MINI)
    first = q.pages(seed=7)
    assert first == q.pages(seed=7)
    assert sorted(first[0]) == sorted(["S1", "S2", "S3", "T1", "T2", "T3", "ATT1"]) and first[1] == ["TEN"]
    orders = {tuple(q.item_order(seed)) for seed in range(20)}
    assert len(orders) > 10
    with pytest.raises(ValueError, match="seed"):
        q.pages()


def test_content_hash_ignores_layout_and_comments_but_not_content(tmp_path):
    original = profiler.load_questionnaire(MINI).content_hash
    text = MINI.read_text(encoding="utf-8")
    relaid = tmp_path / "relaid.yaml"
    relaid.write_text("# a new comment\n" + text.replace("licence: CC-BY-4.0", "licence:   'CC-BY-4.0'  # same"))
    assert profiler.load_questionnaire(relaid).content_hash == original
    changed = tmp_path / "changed.yaml"
    changed.write_text(text.replace("I trust my colleagues.", "I trust my team."))
    assert profiler.load_questionnaire(changed).content_hash != original
    # Writing a default explicitly does not change the normalized content.
    explicit = tmp_path / "explicit.yaml"
    explicit.write_text(text.replace("    scoring: sum", "    scoring: sum\n    min_answered: 1.0"))
    assert profiler.load_questionnaire(explicit).content_hash == original


def test_yaml_traps_keep_authors_text():
    q = profiler.load_questionnaire(FIXTURES / "traps.yaml")
    assert q.version == "2024-05-01"  # a date stays text
    assert "NO" in q.item_ids  # the Norway problem: NO stays the text 'NO'
    assert q.keys("Voice")[0].item == "NO"


def test_numbers_written_as_versions_keep_their_spelling():
    text = MINI.read_text(encoding="utf-8").replace('version: "0.3"', "version: 1.10")
    assert profiler.parse_questionnaire(text).version == "1.10"


def test_yes_no_stay_text_in_translations():
    text = MINI.read_text(encoding="utf-8").replace("{en: Neither, de: Weder noch}", "{en: No, de: Nein}")
    q = profiler.parse_questionnaire(text)
    assert q.response_format("S1").options[2].label["en"] == "No"


def test_unknown_bundled_id_suggests_the_closest():
    with pytest.raises(profiler.QuestionnaireError, match="did you mean 'ipip-bfm-50'"):
        profiler.load_questionnaire("ipip-bfm-5")


def test_missing_file_is_a_questionnaire_error(tmp_path):
    with pytest.raises(profiler.QuestionnaireError, match="cannot read file"):
        profiler.load_questionnaire(tmp_path / "absent.yaml")


def test_oversized_file_is_refused_quickly(tmp_path):
    big = tmp_path / "big.yaml"
    shutil.copy(MINI, big)
    with big.open("a") as handle:
        handle.write("# " + "x" * (3 * 1024 * 1024) + "\n")
    with pytest.raises(profiler.QuestionnaireError, match="the limit is"):
        profiler.load_questionnaire(big)


def test_error_objects_carry_file_line_column_path():
    text = MINI.read_text(encoding="utf-8").replace("  allow_back: false", "  alow_back: false")
    with pytest.raises(profiler.QuestionnaireError) as info:
        profiler.parse_questionnaire(text, "mine.yaml")
    (error,) = info.value.errors
    assert (error.file, error.line, error.column, error.path) == ("mine.yaml", 70, 3, "administration.alow_back")
    assert isinstance(info.value, ValueError)
    assert str(info.value) == "mine.yaml:70:3: unknown key 'alow_back' (did you mean 'allow_back'?)"


def test_a_scale_id_that_is_a_list_is_a_located_error_not_a_crash():
    # Found by the mutation test: the shared-item check looked the malformed id up in a dict.
    text = (FIXTURES / "mini.yaml").read_text(encoding="utf-8").replace("  - id: Voice\n", "  - id: [Voice]\n", 1)
    with pytest.raises(profiler.QuestionnaireError, match=r"mini.yaml:\d+:\d+: expected text, found a list"):
        profiler.parse_questionnaire(text, "mini.yaml")
