"""``profiler calibrate`` and ``profiler manual``: every step's numbers from the verified functions, files hashed and
logged, a failed step recorded without stopping the others, and the technical manual under the EFPA headings."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import profiler
from profiler.cli import main
from profiler.factors import cronbach_alpha, item_statistics, omega, parallel_analysis
from profiler.norms import NormTable
from profiler.pipeline.calibration import CalibrationError, CalibrationOptions, CalibrationReport, calibrate_file
from profiler.reports.manual import calibrate_and_document, technical_manual
from profiler.simulation import simulate_responses

PROJECT = Path(__file__).resolve().parents[2]
MINI = PROJECT / "tests" / "fixtures" / "questionnaires" / "mini.yaml"
DATE = dt.date(2026, 5, 1)


@pytest.fixture(scope="module")
def ipip():
    return profiler.load_questionnaire("ipip-bfm-50")


@pytest.fixture(scope="module")
def calibrated(ipip, tmp_path_factory):
    folder = tmp_path_factory.mktemp("calibration")
    answers = simulate_responses(ipip, 400, seed=11).astype(int)
    data = folder / "sample.csv"
    answers.to_csv(data, index=False)
    options = CalibrationOptions(name="pilot", source="simulated respondents", created=DATE,
                                 population="simulated applicants", collected="2026-04")
    run, manual_sha = calibrate_and_document(ipip, data, folder / "out", options)
    return run, manual_sha, answers


def test_every_step_ran_and_its_numbers_are_those_of_the_verified_functions(calibrated, ipip):
    run, _, answers = calibrated
    report = run.report
    assert [(s["step"], s["status"]) for s in report.steps] == [
        ("items", "done"), ("reliability", "done"), ("dimensionality", "done"), ("structure", "done"),
        ("validity", "done"), ("norms", "done"), ("translation", "skipped")]
    keys = [str(k) for k in ipip.keys("Agreeableness")]
    items = [k.item for k in ipip.keys("Agreeableness")]
    alpha = cronbach_alpha(answers[items], keys, item_range=(1, 5))
    reliability = report.reliability["scales"]["Agreeableness"]
    assert reliability["alpha"] == pytest.approx(alpha.raw_alpha, abs=1e-12)
    assert reliability["alpha_ci"] == pytest.approx([alpha.ci_lower, alpha.ci_upper], abs=1e-12)
    assert reliability["omega_total"] == pytest.approx(
        omega(answers[items], 1, keys=keys, item_range=(1, 5)).omega_total, abs=1e-12)
    sd = ipip.score(answers)["Agreeableness"].std(ddof=1)
    assert reliability["sem"] == pytest.approx(sd * np.sqrt(1 - alpha.raw_alpha), abs=1e-12)
    stats = item_statistics(answers[items], keys, item_range=(1, 5))
    rows = {r["item"]: r for r in report.items["scales"]["Agreeableness"]}
    assert rows["A1"]["r_drop"] == pytest.approx(stats.loc["A1", "r_drop"], abs=1e-12) and rows["A1"]["reversed"]
    pa = parallel_analysis(answers[ipip.scored_items], n_iter=20, random_state=0)
    assert report.dimensionality["parallel_analysis"]["n_factors"] == pa.n_factors
    assert report.dimensionality["parallel_analysis"]["observed"] == pytest.approx(pa.table["observed"].head(12))
    model = profiler.FactorModel.read(run.folder / "factor-model.json")
    assert report.structure["fit_indices"] == model.cfa["fit_indices"]
    assert model.created == DATE.isoformat() and report.structure["factor_model_sha256"] == model.sha256
    norms = NormTable.read(run.folder / "norms" / "general.json")
    assert norms.sample.n == 400 and norms.population == "simulated applicants"
    assert report.norms["tables"][0]["sha256"] == norms.sha256


def test_files_are_hashed_and_logged(calibrated):
    run, manual_sha, _ = calibrated
    report = CalibrationReport.read(run.folder / "calibration.json")
    assert report == run.report
    for name, digest in report.files.items():
        assert digest == "sha256:" + hashlib.sha256((run.folder / name).read_bytes()).hexdigest()
    assert manual_sha == "sha256:" + hashlib.sha256((run.folder / "manual.html").read_bytes()).hexdigest()
    log = [json.loads(line) for line in run.log.read_text(encoding="utf-8").splitlines()]
    assert [e["step"] for e in log] == ["items", "reliability", "dimensionality", "structure", "validity", "norms",
                                        "translation", "manual"]
    assert log[3]["files"] == {"factor-model.json": report.files["factor-model.json"]}
    assert log[-1]["files"] == {"manual.html": manual_sha}
    # The data file is named by its hash, and an edited report is refused.
    assert report.data["sha256"] == "sha256:" + hashlib.sha256(
        (run.folder.parent / "sample.csv").read_bytes()).hexdigest()
    edited = (run.folder / "calibration.json").read_text(encoding="utf-8").replace('"pilot"', '"other"', 1)
    with pytest.raises(CalibrationError, match="edited after it was calibrated"):
        CalibrationReport.from_json(edited)


def test_manual_has_the_efpa_headings_and_says_what_is_not_known(calibrated, ipip):
    run, _, _ = calibrated
    html = (run.folder / "manual.html").read_text(encoding="utf-8")
    headings = ["1. Description of the questionnaire", "2. Norms", "3. Reliability", "4. Validity evidence",
                "5. Bias and fairness analyses", "6. Administration", "7. Computer-generated reports"]
    positions = [html.index(f"<h2>{h}</h2>") for h in headings]
    assert positions == sorted(positions)
    for unknown in ("Test-retest reliability", "Criterion-related validity", "Equivalence of the language versions",
                    "Differential item functioning and measurement invariance by sex"):
        assert f"<b>Not yet known.</b> {unknown}" in html
    alpha = run.report.reliability["scales"]["Extraversion"]["alpha"]
    assert f"{alpha:.3f}" in html and "<svg" in html and "<script" not in html
    # The same inputs give the same bytes.
    again = technical_manual(ipip, run.report, norms=[NormTable.read(run.folder / "norms" / "general.json"),
                                                     *[NormTable.read(p) for p in profiler.bundled_norms(ipip.id).values()]],
                             prepared=DATE)
    assert again == html


def test_manual_without_calibration_and_for_other_content(ipip, tmp_path, calibrated, capsys):
    out = tmp_path / "manual.html"
    assert main(["manual", str(MINI), "--out", str(out), "--date", "2026-05-01"]) == 0
    assert "no calibration given" in capsys.readouterr().out
    html = out.read_text(encoding="utf-8")
    assert "<b>Not yet known.</b> No norm table exists for this content" in html
    assert "<b>Not yet known.</b> Internal consistency has not been computed" in html
    run, _, _ = calibrated
    assert main(["manual", str(MINI), "--calibration", str(run.folder / "calibration.json"), "--out", str(out)]) == 2
    assert "was made for ipip-bfm-50 content" in capsys.readouterr().err


def test_a_failing_step_is_recorded_and_the_others_run(tmp_path):
    mini = profiler.load_questionnaire(MINI)
    answers = simulate_responses(mini, 5, seed=2)  # too few rows for any factor analysis of 6 items
    data = tmp_path / "tiny.csv"
    answers.to_csv(data, index=False)
    run = calibrate_file(mini, data, tmp_path / "out", CalibrationOptions(name="tiny", source="s", created=DATE,
                                                                           population="p", collected="c"))
    status = {s["step"]: (s["status"], s["detail"]) for s in run.report.steps}
    assert status["items"][0] == "done" and status["reliability"][0] == "done"
    assert status["structure"] == ("failed", "CFADataError: the sample covariance matrix is not positive definite "
                                             "(5 rows for 6 variables); ML needs it to be")
    assert status["dimensionality"][0] == "failed" and status["validity"][0] == "done"
    assert status["norms"][0] == "skipped" and "below the minimum of 200" in status["norms"][1]
    assert "factor-model.json" not in run.report.files


def test_cli_calibrate(tmp_path, capsys):
    mini = profiler.load_questionnaire(MINI)
    simulate_responses(mini, 260, seed=4).to_csv(tmp_path / "s.csv", index=False)
    code = main(["calibrate", str(MINI), str(tmp_path / "s.csv"), "--out", str(tmp_path / "cal"), "--date",
                 "2026-05-01", "--population", "pilot", "--collected", "2026"])
    out = capsys.readouterr().out
    assert code == 0
    assert "calibration 's' of team-climate-mini 0.3: 260 of 260 rows used" in out
    assert "norms          done     norm table 'general', n = 260" in out
    assert (tmp_path / "cal" / "manual.html").is_file() and (tmp_path / "cal" / "norms" / "general.json").is_file()
    report = CalibrationReport.read(tmp_path / "cal" / "calibration.json")
    assert report.created == "2026-05-01" and set(report.reliability["scales"]) == {"Voice", "Trust", "Climate"}
    raw = tmp_path / "raw.csv"
    assert "one-item scale(s) Tenure left out (so no factor-model.json" in out
    # The report's SEMs (every scale of 2 or more items, facets too) go with raw scores.
    assert main(["score", str(MINI), str(tmp_path / "s.csv"), "--out", str(raw), "--calibration",
                 str(tmp_path / "cal" / "calibration.json")]) == 0
    assert "SEM from calibration s (calibration report)" in capsys.readouterr().out
    written = pd.read_csv(raw)
    for scale in ("Voice", "Trust", "Climate"):
        assert (written[f"{scale}.sem"] == round(report.reliability["scales"][scale]["sem"], 4)).all()
    assert written["Tenure.sem"].isna().all() and set(written["calibration_sha256"]) == {report.sha256}


def test_the_declared_facets_are_fitted_as_lavaan_does(tmp_path, capsys):
    """A questionnaire with facets: besides one factor per domain, each facet a factor of its items and each
    domain a factor of its facets (make_faceted_reference.R: lavaan::cfa of the same model and data)."""
    reference = json.loads((PROJECT / "tests" / "fixtures" / "reference" / "faceted_reference.json")
                           .read_text(encoding="utf-8"))
    faceted = PROJECT / "tests" / "fixtures" / "questionnaires" / "faceted.yaml"
    data = PROJECT / "tests" / "fixtures" / "reference" / "faceted_sample.csv"
    assert main(["calibrate", str(faceted), str(data), "--out", str(tmp_path / "cal"), "--date", "2026-05-01"]) == 0
    out = capsys.readouterr().out
    report = CalibrationReport.read(tmp_path / "cal" / "calibration.json")
    declared = report.structure["declared"]
    assert (declared["facets"], declared["domains"], declared["n"], declared["warnings"]) == (6, 2, 1000, [])
    for name in ("chisq", "df", "cfi", "tli", "rmsea", "srmr"):
        assert declared["fit_indices"][name] == pytest.approx(reference["cfa_declared"][name], abs=1e-6), name
    cfa = reference["cfa_declared"]
    assert (f"the declared 6 facet(s) under 2 domain(s): CFI {cfa['cfi']:.3f}, RMSEA {cfa['rmsea']:.3f}, "
            f"SRMR {cfa['srmr']:.3f}") in out
    assert "the questionnaire declares 2 domains of 6 facets" in out
    html = (tmp_path / "cal" / "manual.html").read_text(encoding="utf-8")
    assert "each of the 6 facets a factor of its items and each of the 2 domains a" in html


def test_a_domain_of_two_facets_has_equal_loadings(tmp_path):
    """Not identified otherwise; lavaan's fit of the same model (D1 =~ 1*D1F1 + 1*D1F2) on the same data."""
    from profiler.pipeline.calibration import _declared_structure

    reference = json.loads((PROJECT / "tests" / "fixtures" / "reference" / "faceted_reference.json")
                           .read_text(encoding="utf-8"))
    text = (PROJECT / "tests" / "fixtures" / "questionnaires" / "faceted.yaml").read_text(encoding="utf-8")
    assert text.count("{id: D1, facets: [D1F1, D1F2, D1F3]}") == 1
    path = tmp_path / "two.yaml"
    path.write_text(text.replace("{id: D1, facets: [D1F1, D1F2, D1F3]}", "{id: D1, facets: [D1F1, D1F2]}"),
                    encoding="utf-8")
    data = pd.read_csv(PROJECT / "tests" / "fixtures" / "reference" / "faceted_sample.csv")
    declared = _declared_structure(profiler.load_questionnaire(path), data)
    assert declared["equal_loadings"] == ["D1"] and "D1 =~ 1*D1F1 + 1*D1F2" in declared["model"]
    for name, value in reference["cfa_two_facets"].items():
        assert declared["fit_indices"][name] == pytest.approx(value, abs=1e-6), name
    # mini: one domain (Climate) of two facets, Voice and Trust, which could not be estimated before.
    mini = profiler.load_questionnaire(MINI)
    declared = _declared_structure(mini, simulate_responses(mini, 260, seed=4))
    assert "failed" not in declared and declared["fit_indices"]["df"] == 8
