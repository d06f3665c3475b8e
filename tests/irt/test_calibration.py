"""IRT calibration artifacts: keying, sealing, loading by id, scoring, the shipped IPIP-50 calibration, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import profiler
from profiler.cli import main
from profiler.irt import GRM
from profiler.irt.calibration import (
    IRTCalibration,
    IRTCalibrationError,
    calibrate_irt,
    load_irt_calibration,
    load_irt_calibrations,
)

SCALES = ["Extraversion", "Neuroticism", "Agreeableness", "Conscientiousness", "Openness"]


@pytest.fixture(scope="module")
def ipip():
    return profiler.load_questionnaire("ipip-bfm-50")


@pytest.fixture(scope="module")
def sample(ipip):
    answers = profiler.simulate_responses(ipip, 1500, seed=21)
    answers = answers.astype(float)
    answers.iloc[::17, 3] = 0  # "missed", not an answer the questionnaire allows: treated as missing
    return answers


@pytest.fixture(scope="module")
def calibrations(ipip, sample):
    return calibrate_irt(ipip, sample, name="simulated", source="simulate_responses(seed=21)",
                         scales=["Extraversion", "Agreeableness"])


def test_keying_and_sample_accounting(calibrations, sample, ipip):
    extraversion = calibrations["Extraversion"]
    items = {i["id"]: i for i in extraversion.items}
    assert [k.item for k in ipip.keys("Extraversion")] == list(items)
    assert items["E1"]["answers"] == [1, 2, 3, 4, 5] and items["E2"]["answers"] == [5, 4, 3, 2, 1]
    assert all(i["a"] > 0 for i in extraversion.items)  # keyed direction: every slope positive
    column = ipip.keys("Extraversion")[0].item
    assert extraversion.sample["rows_read"] == len(sample)
    assert extraversion.sample["answers_invalid"] == int((sample.iloc[:, 3] == 0).sum()) * (sample.columns[3] in items)
    assert extraversion.fit["m2"]["statistic"] == "M2*" and extraversion.fit["c2"]["statistic"] == "C2"
    assert set(extraversion.fit["itemfit"]) == set(items) and column in items


def test_parameters_are_the_grm_of_the_keyed_answers(calibrations, sample, ipip):
    extraversion = calibrations["Extraversion"]
    keyed = sample[[k.item for k in ipip.keys("Extraversion")]].replace(0, np.nan).copy()
    for k in ipip.keys("Extraversion"):
        if k.sign < 0:
            keyed[k.item] = 6 - keyed[k.item]
    grm = GRM().fit(keyed)
    params = extraversion.params()
    assert params["key"].tolist() == [k.sign for k in ipip.keys("Extraversion")]
    assert params.drop(columns="key").to_numpy() == pytest.approx(grm.params_.to_numpy(), abs=1e-12)
    scored = extraversion.score(ipip, sample.replace(0, np.nan))
    direct = grm.score(keyed)
    assert scored[["theta", "se"]].to_numpy() == pytest.approx(direct[["theta", "se"]].to_numpy(), abs=1e-12)


def test_round_trip_tampering_and_other_content(calibrations, tmp_path, ipip):
    calibration = calibrations["Agreeableness"]
    path = calibration.write(tmp_path / "Agreeableness.json")
    again = IRTCalibration.read(path)
    assert again == calibration and again.to_json() == path.read_text(encoding="utf-8")
    assert load_irt_calibration(path).sha256 == calibration.sha256
    data = json.loads(path.read_text())
    data["items"][0]["a"] += 0.1
    path.write_text(json.dumps(data))
    with pytest.raises(IRTCalibrationError, match="sha256 does not match"):
        IRTCalibration.read(path)
    other = profiler.parse_questionnaire(
        profiler.bundled_questionnaires()["ipip-bfm-50"].read_text(encoding="utf-8").replace(
            "I am the life of the party.", "I am often the life of the party."))
    with pytest.raises(IRTCalibrationError, match="was made for ipip-bfm-50 with content"):
        calibration.score(other, pd.DataFrame({"A1": [3]}))


def test_resealed_nonsense_is_refused(calibrations):
    from profiler.artifacts import seal

    data = calibrations["Extraversion"].to_dict()
    data["items"][0]["d"] = sorted(data["items"][0]["d"])  # graded intercepts must decrease
    with pytest.raises(IRTCalibrationError, match="malformed item parameters .*must decrease"):
        IRTCalibration.from_json(json.dumps(seal(data)), "edited.json")
    with pytest.raises(IRTCalibrationError, match="format 'other' is not a IRT calibration format"):
        IRTCalibration.from_json(json.dumps({**data, "format": "other"}), "other.json")


def test_unknown_scale_and_model(ipip, sample):
    with pytest.raises(IRTCalibrationError, match="did you mean 'Extraversion'"):
        calibrate_irt(ipip, sample, name="x", source="y", scales=["Extroversion"])
    with pytest.raises(IRTCalibrationError, match="unknown IRT model"):
        calibrate_irt(ipip, sample, name="x", source="y", model="nominal")


def test_shipped_calibration_loads_by_id_and_applies(ipip):
    calibrations = load_irt_calibrations("ipip-bfm-50")
    assert list(calibrations) == sorted(SCALES)
    for scale, calibration in calibrations.items():
        assert calibration.scale == scale and calibration.questionnaire == ipip.identity()
        assert calibration.estimation["converged"] and calibration.sample["n"] == 19718
        assert all(i["a"] > 0 for i in calibration.items)
    one = load_irt_calibration("ipip-bfm-50", "Neuroticism")
    assert one == calibrations["Neuroticism"]
    answers = profiler.simulate_responses(ipip, 5, seed=2)
    scores = one.score(ipip, answers)
    assert scores["n_answered"].tolist() == [10] * 5 and scores["se"].between(0.2, 0.6).all()
    with pytest.raises(IRTCalibrationError, match="name a scale"):
        load_irt_calibration("ipip-bfm-50")
    with pytest.raises(IRTCalibrationError, match="no bundled IRT calibration 'ipip-x'"):
        load_irt_calibrations("ipip-x")


def test_shipped_extraversion_is_mirts(irt_ref, tools):
    """BIG5 Extraversion: the shipped parameters agree with mirt 1.47 (fitted on the same 19,718 rows)."""
    ref = irt_ref["big5_E"]
    shipped = load_irt_calibration("ipip-bfm-50", "Extraversion")
    items = list(ref["params"])
    ours = shipped.params().drop(columns="key").loc[items].to_numpy()
    assert ours == pytest.approx(tools.table(ref["params"], items, ["a1", "d1", "d2", "d3", "d4"]), abs=1e-3)
    assert shipped.fit["loglik"] == pytest.approx(ref["logLik"], abs=1e-3)
    assert shipped.fit["m2"]["value"] == pytest.approx(ref["M2star"]["M2"], abs=1e-3)


def test_tool_regenerates_the_shipped_extraversion(big5_raw, ipip):
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("build_ipip50_irt", root / "tools" / "build_ipip50_irt.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    raw = big5_raw[ipip.item_ids].replace(0, np.nan)
    fresh = calibrate_irt(ipip, raw, name="big5-2012", source=tool.SOURCE, scales=["Extraversion"])["Extraversion"]
    shipped = load_irt_calibration("ipip-bfm-50", "Extraversion")
    strip = lambda c: {k: v for k, v in c.to_dict().items() if k not in ("created", "sha256")}  # noqa: E731
    _assert_same(strip(fresh), strip(shipped))


def _assert_same(ours, theirs, path="") -> None:
    """Equal structure and text; numbers equal to 1e-9 relative (summation order may change the last bits)."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and set(ours) == set(theirs), path
        for key in theirs:
            _assert_same(ours[key], theirs[key], f"{path}.{key}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), path
        for k, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            _assert_same(a, b, f"{path}[{k}]")
    elif isinstance(theirs, float):
        assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-300), path
    else:
        assert ours == theirs, path


def test_cli_writes_one_artifact_per_scale(tmp_path, sample, capsys):
    data = tmp_path / "answers.csv"
    sample.to_csv(data, index=False)
    code = main(["irt", "fit", "ipip-bfm-50", str(data), "--out", str(tmp_path / "out"), "--scale", "Extraversion",
                 "--scale", "Openness", "--name", "pilot"])
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["Extraversion.json", "Openness.json"]
    loaded = load_irt_calibrations(tmp_path / "out")
    assert loaded["Openness"].name == "pilot" and loaded["Openness"].sample["source"] == str(data)
    assert "Extraversion: 1,500 respondents" in capsys.readouterr().out


def test_cli_user_errors(tmp_path, capsys):
    assert main(["irt", "fit", "ipip-bfm-50", str(tmp_path / "none.csv"), "--out", str(tmp_path)]) == 2
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("E1,E2\n1,2\n")
    assert main(["irt", "fit", "ipip-bfm-50", str(bad), "--out", str(tmp_path), "--scale", "Extraversion"]) == 2
    assert "an IRT model needs responses from at least 2 people" in capsys.readouterr().err
