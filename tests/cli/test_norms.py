"""``profiler norms build``: minimum n, reliability reported and warned, strata, weighting, sealed tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import profiler
from profiler.cli import main
from profiler.norms import NormTable, build_norms, load_norms
from profiler.simulation import simulate_responses

PROJECT = Path(__file__).resolve().parents[2]
MINI = PROJECT / "tests" / "fixtures" / "questionnaires" / "mini.yaml"


@pytest.fixture(scope="module")
def ipip():
    return profiler.load_questionnaire("ipip-bfm-50")


@pytest.fixture()
def sample_csv(tmp_path, ipip) -> Path:
    answers = simulate_responses(ipip, 450, seed=8).astype(int)
    rng = np.random.default_rng(2)
    answers["age_band"] = rng.choice(["18-29", "30-49"], size=len(answers), p=[0.55, 0.45])
    answers.loc[answers.index[3], "E3"] = 9  # not an option: the row is excluded and counted
    path = tmp_path / "sample.csv"
    answers.to_csv(path, index=False)
    return path


def _build(*args) -> int:
    return main(["norms", "build", *map(str, args)])


def test_build_reports_n_and_reliability_and_seals_the_table(sample_csv, tmp_path, capsys, ipip):
    out = tmp_path / "norms"
    assert _build("ipip-bfm-50", sample_csv, "--name", "pilot", "--population", "simulated applicants",
                  "--collected", "2026-05", "--out", out) == 0
    printed = capsys.readouterr().out
    assert "451 rows read" not in printed and "450 rows read, 449 used" in printed
    assert "1 with an answer that is not an option of its item, or a required item unanswered" in printed
    table = load_norms(ipip, out / "pilot.json")
    assert table.sample.n == 449 and table.sample.rows_read == 450
    assert table.population == "simulated applicants" and table.collected == "2026-05"
    assert f"wrote {out / 'pilot.json'} ({table.sha256})" in printed
    # The same numbers as build_norms on the same rows (the file is only a way in).
    answers = pd.read_csv(sample_csv).drop(columns="age_band").drop(index=3)
    direct = build_norms(ipip, answers, name="pilot", version="1.0.0", title="t", population="p",
                         collected="c", sampling="s", source="s")
    for scale in table.scales:
        assert scale.mean == pytest.approx(direct.scale(scale.scale).mean, abs=1e-12)
        assert scale.reliability.value == pytest.approx(direct.scale(scale.scale).reliability.value, abs=1e-12)
        assert f"  {scale.scale:<24}{scale.n:>8,}{scale.mean:>9.3f}{scale.sd:>8.3f}" \
               f"{scale.reliability.value:>8.3f}" in printed
    # Refuses to replace a table silently.
    assert _build("ipip-bfm-50", sample_csv, "--name", "pilot", "--population", "p", "--collected", "c",
                  "--out", out) == 2
    assert "exist(s); a norm table is never replaced silently" in capsys.readouterr().err


def test_minimum_n_refused_unless_forced_and_then_marked(sample_csv, tmp_path, capsys, ipip):
    args = ["ipip-bfm-50", sample_csv, "--name", "pilot", "--population", "p", "--collected", "c",
            "--by", "age_band", "--out", tmp_path]
    assert _build(*args) == 2
    err = capsys.readouterr().err
    assert "too few respondents for norms: pilot-30-49 (n = 199); the minimum is 200" in err
    assert not list(tmp_path.glob("*.json"))
    assert _build(*args, "--force") == 0
    printed = capsys.readouterr().out
    assert "norm group 'pilot-30-49': n = 199 (below the minimum of 200: forced)" in printed
    young, older = (NormTable.read(tmp_path / f"pilot-{b}.json") for b in ("18-29", "30-49"))
    assert young.sample.n + older.sample.n == 449
    assert older.sample.descriptives["stratum"] == "age_band = 30-49"
    assert any("below the minimum of 200" in note for note in older.notes)
    assert not any("below the minimum" in note for note in young.notes)
    assert older.sample.rules[-1].rule == "not in stratum age_band = 30-49"


def test_protected_strata_are_refused_before_reading(tmp_path, capsys):
    assert _build("ipip-bfm-50", tmp_path / "absent.csv", "--name", "x", "--population", "p", "--collected", "c",
                  "--by", "Gender") == 2
    assert "norms by 'Gender' would place candidates against their own protected group" in capsys.readouterr().err


def test_low_reliability_is_warned(tmp_path, capsys):
    mini = profiler.load_questionnaire(MINI)
    answers = simulate_responses(mini, 250, seed=1, loading=0.3)
    path = tmp_path / "weak.csv"
    answers.to_csv(path, index=False)
    assert main(["norms", "build", str(MINI), str(path), "--name", "weak", "--population", "p",
                 "--collected", "c", "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    table = NormTable.read(tmp_path / "weak.json")
    alpha = table.scale("Voice").reliability.value
    assert alpha < 0.70
    assert f"weak, scale 'Voice': alpha {alpha:.2f}" in err and "below 0.70" in err
    assert "weak: no norms for Tenure: a scale of one item has no alpha" in err


def test_weighting_to_margins(sample_csv, tmp_path, capsys, ipip):
    margins = tmp_path / "margins.csv"
    margins.write_text("variable,category,share\nage_band,18-29,40\nage_band,30-49,60\n", encoding="utf-8")
    assert _build("ipip-bfm-50", sample_csv, "--name", "weighted", "--population", "p", "--collected", "c",
                  "--margins", margins, "--out", tmp_path) == 0
    assert "weighted to margins of age_band: effective n" in capsys.readouterr().out
    table = NormTable.read(tmp_path / "weighted.json")
    assert table.sample.descriptives["weighting"] == "raked to population margins of age_band"
    assert table.scale("Extraversion").distribution.weighted_shares is not None
    # One variable: the weighted mean is the margins' mix of the two bands' means.
    data = pd.read_csv(sample_csv).drop(index=3)
    scores = ipip.score(data[ipip.item_ids]).assign(band=data["age_band"].to_numpy())
    by_band = scores.groupby("band")["Extraversion"].mean()
    assert table.scale("Extraversion").mean == pytest.approx(0.4 * by_band["18-29"] + 0.6 * by_band["30-49"])


def test_a_warning_of_omega_is_said_once(tmp_path, capsys):
    mini = profiler.load_questionnaire(MINI)
    path = tmp_path / "tiny.csv"
    simulate_responses(mini, 12, seed=28).to_csv(path, index=False)  # 12 people: a Heywood case in Voice
    assert main(["norms", "build", str(MINI), str(path), "--name", "tiny", "--population", "p", "--collected", "c",
                 "--out", str(tmp_path), "--force"]) == 0
    err = capsys.readouterr().err
    assert ("tiny, scale 'Voice': omega: Heywood case in the 1-factor minres solution: communality >= 0.995 for S1"
            in err) and "omega: omega" not in err


def test_a_stratum_that_cannot_be_normed_is_named(tmp_path, capsys):
    mini = profiler.load_questionnaire(MINI)
    answers = simulate_responses(mini, 500, seed=3)
    answers["lang"] = ["en"] * 250 + ["de"] * 250
    german = answers["lang"] == "de"
    answers.loc[german, ["S1", "S3"]] = 6 - answers.loc[german, ["S1", "S3"]]  # a translation saying the opposite
    path = tmp_path / "two.csv"
    answers.to_csv(path, index=False)
    assert main(["norms", "build", str(MINI), str(path), "--name", "g", "--population", "p", "--collected", "c",
                 "--by", "lang", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "norm table 'g-de' (lang = de): scale 'Voice': Cronbach's alpha is -" in err
    assert "profiler check-translation names the items" in err
