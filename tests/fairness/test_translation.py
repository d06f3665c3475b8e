"""The translation check: reversed and collapsed items found and named, nothing flagged in a faithful translation,
Fisher's z by hand, invariance across languages, the command and the calibration step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import profiler
from profiler.cli import main
from profiler.fairness.translation import translation_check
from profiler.simulation import simulate_responses

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ipip():
    return profiler.load_questionnaire("ipip-bfm-50")


@pytest.fixture(scope="module")
def two_languages(ipip):
    """400 answers in English and 400 in German, where the German E2 and N4 say the opposite (answers turned
    around) and the German A3 means nothing (answers at random)."""
    en = simulate_responses(ipip, 400, seed=1).astype(float)
    de = simulate_responses(ipip, 400, seed=2).astype(float)
    de["E2"], de["N4"] = 6 - de["E2"], 6 - de["N4"]
    de["A3"] = np.random.default_rng(0).integers(1, 6, len(de)).astype(float)
    return pd.concat([en, de], ignore_index=True), np.array(["en"] * 400 + ["de"] * 400)


@pytest.fixture(scope="module")
def checked(ipip, two_languages):
    data, languages = two_languages
    return translation_check(data, ipip, list(languages), check_invariance=False)


def test_reversed_and_collapsed_items_are_named(checked, ipip):
    assert [(s["language"], s["item"], s["verdict"]) for s in checked.send_back] == [
        ("de", "E2", "reversed"), ("de", "N4", "reversed"), ("de", "A3", "collapsed")]
    e2 = checked.send_back[0]
    assert e2["text"] == ipip.text("E2", "de") and e2["r"] < 0 < e2["r_source"]
    summary = checked.summary()
    assert summary.startswith("Send 3 item(s) back to the translator:")
    assert f'- de E2 (Extraversion) "{ipip.text("E2", "de")}": its answers run against the rest of its scale in de' \
           in summary
    assert "the translation may not carry the item's meaning" in summary
    # Only those three: the other 47 German items are as related to their scales as the English ones.
    assert set(checked.items.query("language == 'de' and verdict in ['reversed', 'collapsed']").item) == {
        "E2", "N4", "A3"}


def test_fisher_z_by_hand(checked, two_languages, ipip):
    data, languages = two_languages
    keys = ipip.keys("Extraversion")
    def item_rest(frame):
        x = np.column_stack([frame[k.item] if k.sign > 0 else 6 - frame[k.item] for k in keys])
        j = [k.item for k in keys].index("E5")
        return np.corrcoef(x[:, j], x.sum(axis=1) - x[:, j])[0, 1]
    r_de, r_en = item_rest(data[languages == "de"]), item_rest(data[languages == "en"])
    row = checked.items.query("language == 'de' and item == 'E5'").iloc[0]
    assert row.r_drop == pytest.approx(r_de, abs=1e-12) and row.r_source == pytest.approx(r_en, abs=1e-12)
    z = (np.arctanh(r_en) - np.arctanh(r_de)) / np.sqrt(1 / 397 + 1 / 397)
    assert row.z == pytest.approx(z, abs=1e-12)
    from scipy import stats
    assert row.p == pytest.approx(stats.norm.sf(z), abs=1e-15)


def test_a_faithful_translation_is_not_flagged(ipip):
    en = simulate_responses(ipip, 400, seed=5)
    de = simulate_responses(ipip, 400, seed=6)
    data = pd.concat([en, de], ignore_index=True)
    result = translation_check(data, ipip, pd.Series(["en"] * 400 + ["de"] * 400), check_invariance=False)
    assert result.send_back == [] and result.summary().startswith("No item's relation to its scale reverses")


def test_invariance_across_languages_frees_the_reversed_loadings(ipip, two_languages):
    data, languages = two_languages
    subset = ["Extraversion", "Neuroticism"]
    items = [k.item for s in subset for k in ipip.keys(s)]
    mini = {s: [k.item for k in ipip.keys(s)] for s in subset}
    with pytest.warns(profiler.LoadingSignWarning, match="E2 on Extraversion .*; N4 on Neuroticism"):
        result = profiler.invariance(data[items], mini, languages, steps=("configural", "metric"))
    assert result.markers == {"Extraversion": "E5", "Neuroticism": "N6"}  # never a reversed item
    # The reversed E2 (the stronger of the two) is the first constraint the metric step releases.
    assert result.freed.iloc[0][["kind", "item"]].tolist() == ["loading", "E2"]


def test_inputs_are_checked(ipip, two_languages):
    data, languages = two_languages
    with pytest.raises(ValueError, match="no respondent answered in the source language 'fr'"):
        translation_check(data, ipip, languages, source="fr", check_invariance=False)
    with pytest.raises(ValueError, match="languages has 3 entries but responses has 800 rows"):
        translation_check(data, ipip, ["en", "de", "de"], check_invariance=False)


def checked_small(small, ipip):
    return translation_check(small[ipip.item_ids], ipip, small["lang"], check_invariance=False)


def test_cli_and_calibration_step(ipip, two_languages, tmp_path, capsys):
    data, languages = two_languages
    small = data.iloc[::2].astype(int).assign(lang=languages[::2])
    small = pd.concat([small, simulate_responses(ipip, 10, seed=9).astype(int).assign(lang="fr")], ignore_index=True)
    path = tmp_path / "answers.csv"
    small.to_csv(path, index=False)
    assert main(["check-translation", "ipip-bfm-50", str(path), "--language-column", "lang", "--no-invariance",
                 "--json", str(tmp_path / "t.json")]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    # Scales as rows (a questionnaire may have 30 facets), languages as columns.
    assert lines[1:3] == ["  alpha" + " " * 25 + "de  en (source)", "  n" + " " * 28 + "200          200"]
    alphas = checked_small(small, ipip).alphas
    assert lines[3] == f"  Extraversion{alphas.at['de', 'Extraversion']:>20.3f}{alphas.at['en', 'Extraversion']:>13.3f}"
    assert "  fr: not compared (10 respondents, fewer than 30)" in out
    assert "- de E2 (Extraversion)" in out and (tmp_path / "t.json").is_file()
    assert main(["calibrate", "ipip-bfm-50", str(path), "--out", str(tmp_path / "cal"), "--language-column", "lang",
                 "--date", "2026-05-01"]) == 0
    out = capsys.readouterr().out
    assert "translation    done     Send" in out
    html = (tmp_path / "cal" / "manual.html").read_text(encoding="utf-8")
    assert "<b>E2</b> (its answers run against the rest of its scale in de" in html
    assert "Invariance across languages:" in html


FACETED = PROJECT / "tests" / "fixtures" / "questionnaires" / "faceted.yaml"
REFERENCE = PROJECT / "tests" / "fixtures" / "reference"


@pytest.fixture(scope="module")
def negations_dropped():
    """400 answers per language; the German facet D1F2 lost its negations: its two reverse-keyed items (half
    of the facet) say the opposite."""
    q = profiler.load_questionnaire(FACETED)
    en, de = simulate_responses(q, 400, seed=11), simulate_responses(q, 400, seed=12)
    de[["D1F2_2", "D1F2_4"]] = 6 - de[["D1F2_2", "D1F2_4"]]
    return q, pd.concat([en, de], ignore_index=True), pd.Series(["en"] * 400 + ["de"] * 400)


def test_a_facet_half_turned_around_is_judged_against_its_domain(negations_dropped):
    q, data, languages = negations_dropped
    result = translation_check(data, q, languages, check_invariance=False)
    de = result.items[result.items.language == "de"].set_index("item")
    # Within the facet the two halves run against each other: every item's item-rest r is negative.
    assert (de.loc[[f"D1F2_{k}" for k in (1, 2, 3, 4)], "r_drop"] < 0).all()
    # Against the rest of the domain only the two that were turned around are; they alone go back.
    assert [(s["item"], s["verdict"]) for s in result.send_back] == [("D1F2_2", "reversed"), ("D1F2_4", "reversed")]
    assert "against the rest of its domain D1 in de" in result.send_back[0]["reason"]
    # r by hand: the keyed item against the sum of the other eleven keyed items of D1, German rows.
    keys = q.keys("D1")
    x = np.column_stack([data[k.item] if k.sign > 0 else 6 - data[k.item] for k in keys])[languages == "de"]
    j = [k.item for k in keys].index("D1F2_2")
    assert de.at["D1F2_2", "r"] == pytest.approx(np.corrcoef(x[:, j], x.sum(axis=1) - x[:, j])[0, 1], abs=1e-12)
    assert de.at["D1F2_2", "against"] == "D1" and de.at["D1F2_2", "n"] == 400


def test_invariance_is_tested_scale_by_scale(negations_dropped):
    q, data, languages = negations_dropped
    result = translation_check(data, q, languages)
    scales = result.invariance["scales"]
    assert list(scales) == ["D1F1", "D1F2", "D1F3", "D2F1", "D2F2", "D2F3"]
    assert scales["D1F2"]["metric"] in ("fails", "partial") and scales["D2F1"]["metric"] == "holds"
    assert "loadings change sign between groups: D1F2_2 on D1F2" in result.invariance["verdict"]


def test_per_language_figures_agree_with_psych_alpha():
    """make_faceted_reference.R: psych::alpha per language, of the facets and of the domain D1."""
    import json
    reference = json.loads((REFERENCE / "faceted_reference.json").read_text(encoding="utf-8"))
    data = pd.read_csv(REFERENCE / "faceted_sample.csv")
    q = profiler.load_questionnaire(FACETED)
    result = translation_check(data[q.item_ids], q, data["lang"], check_invariance=False)
    items = result.items.set_index(["language", "item"])
    for key, ref in reference["alpha"].items():
        language, facet = key.split()
        assert result.alphas.at[language, facet] == pytest.approx(ref["raw_alpha"], abs=1e-10)
        for item, r_drop in ref["r_drop"].items():
            assert items.at[(language, item), "r_drop"] == pytest.approx(r_drop, abs=1e-10)
    for language, ref in reference["domain_r_drop"].items():
        for item, r in ref.items():
            assert items.at[(language, item), "r"] == pytest.approx(r, abs=1e-10)
    assert [(s["language"], s["item"]) for s in result.send_back] == [("de", "D1F2_2"), ("de", "D1F2_4")]
