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


def test_cli_and_calibration_step(ipip, two_languages, tmp_path, capsys):
    data, languages = two_languages
    small = data.iloc[::2].astype(int).assign(lang=languages[::2])
    small = pd.concat([small, simulate_responses(ipip, 10, seed=9).astype(int).assign(lang="fr")], ignore_index=True)
    path = tmp_path / "answers.csv"
    small.to_csv(path, index=False)
    assert main(["check-translation", "ipip-bfm-50", str(path), "--language-column", "lang", "--no-invariance",
                 "--json", str(tmp_path / "t.json")]) == 1
    out = capsys.readouterr().out
    assert "  fr               10  not compared: 10 respondents, fewer than 30" in out
    assert "- de E2 (Extraversion)" in out and (tmp_path / "t.json").is_file()
    assert main(["calibrate", "ipip-bfm-50", str(path), "--out", str(tmp_path / "cal"), "--language-column", "lang",
                 "--date", "2026-05-01"]) == 0
    out = capsys.readouterr().out
    assert "translation    done     Send" in out
    html = (tmp_path / "cal" / "manual.html").read_text(encoding="utf-8")
    assert "<b>E2</b> (its answers run against the rest of its scale in de" in html
    assert "Invariance across languages:" in html
