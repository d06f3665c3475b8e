"""``profiler cat simulate``: the report is the study the engine runs, for a synthetic bank, a calibration and a
questionnaire's adaptive section; the adaptive-testing targets on the synthetic bank."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from profiler.cat import CATEngine, CATRules, simulate, synthetic_bank
from profiler.cli import main
from profiler.irt import load_irt_calibration


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["cat", "simulate", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_report_is_the_engines_study(tmp_path, capsys):
    out_file = tmp_path / "report.json"
    code, out, _ = run(capsys, "synthetic", "--n", "300", "--seed", "4", "--each-facet", "1", "--exposure",
                       "randomesque", "--candidates", "3", "--out", str(out_file))
    assert code == 0 and "synthetic: 300 simulated respondents, bank of 60 items" in out
    report = json.loads(out_file.read_text())
    bank, facets = synthetic_bank()
    rules = CATRules(exposure="randomesque", candidates=3, each_facet=1, se=0.3)
    expected = simulate(CATEngine("synthetic", bank, rules, facets), 300, seed=4).summary()
    assert report["scales"]["synthetic"] == json.loads(json.dumps(expected))
    assert report["respondents"] == 300 and report["seed"] == 4
    assert f"mean {expected['items_used']['mean']:.2f}" in out and "every facet covered for 100.0%" in out


def test_a_calibration_at_its_full_length_reliability(capsys, tmp_path):
    out_file = tmp_path / "ipip.json"
    code, out, _ = run(capsys, "ipip-bfm-50", "--scale", "Extraversion", "--se", "full", "--n", "200",
                       "--out", str(out_file))
    assert code == 0 and out.startswith("Extraversion: 200 simulated respondents, bank of 10 items")
    summary = json.loads(out_file.read_text())["scales"]["Extraversion"]
    rxx = load_irt_calibration("ipip-bfm-50", "Extraversion").fit["marginal_reliability"]
    assert summary["se"]["target"] == pytest.approx(math.sqrt(1 - rxx), abs=1e-6)
    assert 1 <= summary["items_used"]["mean"] <= 10


def test_a_questionnaires_adaptive_section_gives_the_rules(facet_questionnaire, capsys, tmp_path):
    out_file = tmp_path / "q.json"
    code, out, _ = run(capsys, facet_questionnaire.source, "--n", "200", "--out", str(out_file))
    assert code == 0
    summary = json.loads(out_file.read_text())["scales"]["Sociability"]
    assert summary["rules"]["se"] == 0.45 and summary["rules"]["max_items"] == 8
    assert summary["rules"]["exposure"] == "randomesque" and summary["items_used"]["max"] <= 8
    assert summary["facets"]["share_with_every_facet"] == 1.0


def test_sympson_hetter_parameters_are_found_and_used(capsys, tmp_path):
    out_file = tmp_path / "sh.json"
    code, out, _ = run(capsys, "synthetic", "--n", "400", "--max-exposure", "0.4", "--out", str(out_file))
    assert code == 0
    summary = json.loads(out_file.read_text())["scales"]["synthetic"]
    found = summary["sympson_hetter"]
    assert found["parameters"] and all(0 < k < 1 for k in found["parameters"].values())
    assert summary["rules"]["exposure"] == "sympson-hetter" and summary["rules"]["sympson_hetter"] == found["parameters"]
    assert found["largest_exposure"][0] > 0.9 and found["largest_exposure"][-1] < found["largest_exposure"][0]


@pytest.mark.parametrize(("args", "message"), [
    (["nowhere"], "item bank 'nowhere': no bundled IRT calibration of that id"),
    (["synthetic", "--scale", "X"], "--scale X: not in the bank (scales: synthetic)"),
    (["synthetic", "--se", "tight"], "--se must be a number or 'full', got 'tight'"),
    (["synthetic", "--n", "3"], "--n must be at least 10"),
])
def test_mistakes_are_named(capsys, args, message):
    code, _, err = run(capsys, *args)
    assert code == 2 and message in err


def test_a_questionnaire_without_an_adaptive_section_is_named(capsys, tmp_path):
    from .conftest import ipip_cat_yaml

    path = tmp_path / "plain.yaml"
    path.write_text(ipip_cat_yaml().split("  adaptive:\n")[0])
    code, _, err = run(capsys, str(path))
    assert code == 2 and "has no administration.adaptive section" in err


def test_the_synthetic_bank_meets_the_adaptive_testing_targets():
    # SE <= .30 with at most 40% of the items on average, r >= .95 with the full-bank theta, every facet
    bank, facets = synthetic_bank()
    rules = CATRules(se=0.3, each_facet=1, exposure="randomesque", candidates=5)
    s = simulate(CATEngine("S", bank, rules, facets), 2000, seed=11).summary()
    assert s["se"]["share_reached"] > 0.99 and s["items_used"]["share_of_bank"] <= 0.40
    assert s["correlation"]["cat_full"] >= 0.95 and s["facets"]["share_with_every_facet"] == 1.0
    assert abs(s["bias"]["cat_true"]) < 0.03
    assert np.isclose(sum(s["exposure"]["items"].values()) / 60, s["items_used"]["share_of_bank"])
