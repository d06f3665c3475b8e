"""``profiler score``: a small CSV with bad rows, in both --on-error modes, with exact line numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import profiler
from profiler.cli import main
from profiler.norms import MEASURES, build_norms, load_norms, raw_profiles_of_answers, trait_profiles
from profiler.questionnaire import validate_responses
from profiler.simulation import simulate_responses

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def store_path(tmp_path, monkeypatch):
    """Every run is recorded in a store: this test's own (never a profiler.db in the working folder)."""
    path = tmp_path / "store.db"
    monkeypatch.setenv("PROFILER_DB", str(path))
    return path


@pytest.fixture(scope="module")
def ipip():
    return profiler.load_questionnaire("ipip-bfm-50")


@pytest.fixture(scope="module")
def answers(ipip) -> pd.DataFrame:
    return simulate_responses(ipip, 9, seed=21).astype(int)


@pytest.fixture()
def responses_csv(tmp_path, answers) -> Path:
    """Header on line 1, respondents c0..c8 on lines 2-10, with a blank line 7 (c0-c4 on 2-6, c5-c8 on 8-11).

    Bad: c1 (line 3) answers E3 = 7; c4 (line 6) answers O1 'often' and leaves N5 empty; line 7 is blank
    (ignored and counted: a blank line is no respondent).
    """
    lines = ["cid," + ",".join(answers.columns)]
    for i, row in enumerate(answers.itertuples(index=False)):
        cells = [str(v) for v in row]
        if i == 1:
            cells[answers.columns.get_loc("E3")] = "7"
        if i == 4:
            cells[answers.columns.get_loc("O1")] = "often"
            cells[answers.columns.get_loc("N5")] = ""
        lines.append(f"c{i}," + ",".join(cells))
        if i == 4:
            lines.append("")
    path = tmp_path / "responses.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _score(*args) -> int:
    return main(["score", "ipip-bfm-50", *map(str, args)])


def test_stop_at_first_bad_chunk(responses_csv, tmp_path, capsys):
    out = tmp_path / "profiles.csv"
    code = _score(responses_csv, "--norms", "general", "--out", out, "--id-column", "cid", "--chunk-size", "3")
    err = capsys.readouterr().err
    assert code == 1
    assert "line 3, item 'E3': not an answer of this item (one of 1, 2, 3, 4, 5): 7" in err
    assert "stopped at the chunk of lines 2-4, which has 1 bad row(s); nothing was written to" in err
    assert "line 6" not in err  # a later chunk
    assert not out.exists() and not (tmp_path / "profiles.csv.partial").exists()


def test_skip_bad_rows_with_rejects(responses_csv, tmp_path, capsys, ipip, answers):
    out, rejects = tmp_path / "profiles.csv", tmp_path / "rejects.csv"
    code = _score(
        responses_csv, "--norms", "general", "--out", out, "--id-column", "cid", "--on-error", "skip",
        "--rejects", rejects, "--chunk-size", "4",
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0
    err = captured.err.splitlines()
    assert err[0] == "line 3, item 'E3': not an answer of this item (one of 1, 2, 3, 4, 5): 7"
    assert err[1] == "line 6, item 'O1': not a number: 'often'"
    assert err[2] == "line 6, item 'N5': required item not answered"
    assert err[3] == "profiler score: 1 blank line(s) ignored"
    assert "skipped 2 bad row(s) with 3 problem(s); all are in" in captured.err
    assert "scored 7 of 9 respondents" in captured.out

    profiles = pd.read_csv(out, dtype={"cid": str})
    assert profiles["cid"].tolist() == ["c0", "c2", "c3", "c5", "c6", "c7", "c8"]
    assert profiles["line"].tolist() == [2, 4, 5, 8, 9, 10, 11]
    assert list(profiles.columns[:3]) == ["cid", "line", "Extraversion.raw"]
    assert list(profiles.columns[-3:]) == ["norm_group", "norms_sha256", "percentiles"]
    norms = load_norms(ipip, "general")
    assert set(profiles["norm_group"]) == {"general"} and set(profiles["norms_sha256"]) == {norms.sha256}
    assert len(profiles.columns) == 2 + 5 * len(MEASURES) + 3
    good = answers.iloc[[0, 2, 3, 5, 6, 7, 8]]
    expected = trait_profiles(ipip, good, norms)
    for measure, decimals in (("raw", 4), ("T", 2), ("percentile", 2), ("T_90_low", 2), ("raw_95_high", 4)):
        written, computed = profiles[f"Openness.{measure}"], expected[("Openness", measure)]
        np.testing.assert_allclose(written, computed, atol=0.5 * 10**-decimals)
    assert profiles["Openness.sten"].tolist() == expected[("Openness", "sten")].astype(int).tolist()
    # Complete respondents: the norm group's SEM and bands, as before prorated scores had their own SEM.
    for scale in norms.scales:
        assert (profiles[f"{scale.scale}.sem"] == round(scale.sem, 4)).all()
        half = profiles[f"{scale.scale}.raw_90_high"] - profiles[f"{scale.scale}.raw"]
        np.testing.assert_allclose(half, 1.6448536269514722 * scale.sem, atol=1e-4)

    rejected = pd.read_csv(rejects, dtype={"cid": str})
    assert rejected["line"].tolist() == [3, 6]
    assert rejected["cid"].tolist() == ["c1", "c4"]
    assert rejected["problems"].iloc[1] == "item 'O1': not a number: 'often'; item 'N5': required item not answered"
    assert list(rejected.columns[:3]) == ["cid", "line", "problems"]
    assert "E1" in rejected.columns


def test_skip_without_rejects_file(responses_csv, tmp_path, capsys):
    code = _score(responses_csv, "--norms", "us", "--out", tmp_path / "p.csv", "--id-column", "cid",
                  "--on-error", "skip", "--percentiles", "normal")  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0
    assert "pass --rejects FILE to get them all" in captured.err
    assert "skipped 2 bad row(s) with 3 problem(s)" in captured.err and "1 blank line(s) ignored" in captured.err
    profiles = pd.read_csv(tmp_path / "p.csv")
    assert set(profiles["percentiles"]) == {"normal"} and set(profiles["norm_group"]) == {"us"}


def test_all_good_rows_in_one_go(tmp_path, capsys, ipip, answers):
    path = tmp_path / "good.csv"
    answers.to_csv(path, index=False)
    rejects = tmp_path / "rejects.csv"
    code = _score(path, "--norms", "general", "--out", tmp_path / "p.csv", "--on-error", "skip", "--rejects", rejects)
    assert code == 0
    profiles = pd.read_csv(tmp_path / "p.csv")
    assert profiles["line"].tolist() == list(range(2, 11))
    assert "scored 9 of 9 respondents" in capsys.readouterr().out
    assert rejects.read_text(encoding="utf-8").startswith("line,problems,E1,A1,")  # header only
    assert len(rejects.read_text(encoding="utf-8").splitlines()) == 1


@pytest.mark.parametrize(
    "header_change, message",
    [
        (lambda h: h, "unknown column(s), not items of 'ipip-bfm-50': 'cid' (pass --id-column"),
        (lambda h: h.replace("E10", "E11"), "'E11' (did you mean"),
        (lambda h: h.replace(",O10", ""), "required item(s) missing from the header: O10"),
        (lambda h: h.replace("E10", "E1"), "column(s) appearing more than once: 'E1'"),
    ],
)
def test_header_problems_name_the_columns(responses_csv, tmp_path, capsys, header_change, message):
    lines = responses_csv.read_text(encoding="utf-8").splitlines()
    lines[0] = header_change(lines[0])
    if "O10" not in lines[0]:
        lines = [lines[0]] + [line.rsplit(",", 1)[0] if line else line for line in lines[1:]]
    responses_csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _score(responses_csv, "--norms", "general", "--out", tmp_path / "p.csv") == 2
    err = capsys.readouterr().err
    assert "the CSV header does not fit the questionnaire" in err
    assert message in err


def test_usage_errors(responses_csv, tmp_path, capsys):
    assert _score(responses_csv, "--norms", "genral", "--out", tmp_path / "p.csv") == 2
    assert "no norm group 'genral' for questionnaire 'ipip-bfm-50' (did you mean 'general'?)" in capsys.readouterr().err
    assert _score(tmp_path / "absent.csv", "--norms", "general", "--out", tmp_path / "p.csv") == 2
    assert "no such file" in capsys.readouterr().err
    code = _score(responses_csv, "--norms", "general", "--out", tmp_path / "p.csv", "--rejects", tmp_path / "r.csv")
    assert code == 2
    assert "--rejects only applies with --on-error skip" in capsys.readouterr().err
    assert _score(responses_csv, "--norms", "general", "--out", tmp_path / "p.csv", "--id-column", "id") == 2
    assert "--id-column 'id' is not a column" in capsys.readouterr().err
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    assert _score(tmp_path / "empty.csv", "--norms", "general", "--out", tmp_path / "p.csv") == 2
    assert "is empty" in capsys.readouterr().err


def test_progress_bar_on_stderr(tmp_path, capsys, answers):
    path = tmp_path / "good.csv"
    answers.to_csv(path, index=False)
    assert _score(path, "--norms", "general", "--out", tmp_path / "p.csv", "--progress", "--chunk-size", "5") == 0
    err = capsys.readouterr().err
    assert "\rscoring [" in err and "100%" in err and "9 rows" in err


def test_subprocess_entry_point(responses_csv, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "profiler", "score", "ipip-bfm-50", str(responses_csv), "--norms", "general",
         "--out", str(tmp_path / "p.csv"), "--id-column", "cid"],
        capture_output=True, text=True, cwd=PROJECT, check=False,
        env={**os.environ, "PROFILER_DB": str(tmp_path / "s.db")},
    )  # fmt: skip
    assert result.returncode == 1
    assert "line 3, item 'E3'" in result.stderr and "nothing was written" in result.stderr
    assert result.stderr.count("\rscoring") == 0  # no terminal: no progress bar


def test_own_norms_file_and_missing_scores(tmp_path, capsys):
    """A questionnaire file with norms given by path; a skipped optional item leaves Climate without a score."""
    mini = profiler.load_questionnaire(PROJECT / "tests" / "fixtures" / "questionnaires" / "mini.yaml")
    sample = simulate_responses(mini, 300, seed=9)
    with pytest.warns(profiler.NormSampleWarning, match="alpha below 0.70 for Voice 0.69"):
        norms = build_norms(mini, sample, name="pilot", version="0.1", title="pilot", population="p", collected="c",
                            sampling="s", source="simulation", scales=["Voice", "Trust", "Climate"])  # fmt: skip
    norms_path = norms.write(tmp_path / "pilot.json")
    answers = simulate_responses(mini, 3, seed=10)
    answers.insert(0, "who", ['Ann, "A."', "Bob", "Cy"])
    answers.loc[1, "T3"] = np.nan  # optional: Trust prorated from 2 of 3, Climate (needs all) missing
    answers.to_csv(tmp_path / "r.csv", index=False)
    code = main(["score", str(PROJECT / "tests" / "fixtures" / "questionnaires" / "mini.yaml"), str(tmp_path / "r.csv"),
                 "--norms", str(norms_path), "--out", str(tmp_path / "p.csv"), "--id-column", "who"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    profiles = pd.read_csv(tmp_path / "p.csv")
    assert profiles["who"].tolist() == ['Ann, "A."', "Bob", "Cy"]
    assert profiles.loc[1, ["Climate.raw", "Climate.T", "Climate.sten"]].isna().all()
    assert profiles.loc[1, "Climate.sem"] == pytest.approx(norms.scale("Climate").sem, abs=1e-4)
    assert not profiles.loc[[0, 2], "Climate.raw"].isna().any()
    trust = (answers.loc[1, "T1"] + 6 - answers.loc[1, "T2"]) / 2
    assert profiles.loc[1, "Trust.raw"] == pytest.approx(trust, abs=1e-4)
    assert set(profiles["norm_group"]) == {"pilot"}


def test_blank_lines_tabs_and_encodings(tmp_path, capsys, answers):
    good = tmp_path / "good.csv"
    answers.iloc[:4].to_csv(good, index=False)
    with good.open("a") as handle:
        handle.write("\n\n")  # trailing blank lines: ignored and counted, never a bad respondent
    assert _score(str(good), "--norms", "general", "--out", str(tmp_path / "o.csv")) == 0
    captured = capsys.readouterr()
    assert "scored 4 of 4 respondents" in captured.out and "2 blank line(s) ignored" in captured.err
    tabbed = tmp_path / "t.tsv"
    answers.iloc[:2].to_csv(tabbed, index=False, sep="\t")
    assert _score(str(tabbed), "--norms", "general", "--out", str(tmp_path / "t.csv"),
                  "--sep", "\\t") == 0
    assert "scored 2 of 2" in capsys.readouterr().out
    assert _score(str(tabbed), "--norms", "general", "--out", str(tmp_path / "x.csv"),
                  "--sep", ";;") == 2
    assert "--sep must be one character" in capsys.readouterr().err
    latin = tmp_path / "latin.csv"
    latin.write_bytes(("é," + ",".join(answers.columns)).encode("latin-1") + b"\n")
    assert _score(str(latin), "--norms", "general", "--out", str(tmp_path / "l.csv")) == 2
    assert "line 1 is not UTF-8 text" in capsys.readouterr().err


def test_many_problems_are_summarised(tmp_path, capsys, answers):
    many = pd.concat([answers] * 3, ignore_index=True)  # 27 respondents
    many["E1"] = 9  # 27 problems, 20 shown
    path = tmp_path / "many.csv"
    many.to_csv(path, index=False)
    assert _score(path, "--norms", "general", "--out", tmp_path / "m.csv", "--on-error", "skip") == 1
    err = capsys.readouterr().err
    assert "... and 7 more problem(s)" in err and "skipped 27 bad row(s) with 27 problem(s)" in err


def test_raw_scores_without_norms_are_labelled_with_the_calibrations_sem(tmp_path, capsys, ipip, answers):
    path, out = tmp_path / "a.csv", tmp_path / "raw.csv"
    answers.to_csv(path, index=False)
    assert _score(path, "--out", out) == 0
    said = capsys.readouterr().out
    assert "RAW scale scores, NOT normed (no norm group was given, so no z, T, percentiles or bands)" in said
    assert "SEM from calibration big5-2012 1.0.0" in said
    raw = pd.read_csv(out)
    model = profiler.load_factor_model("ipip-bfm-50")
    assert list(raw.columns) == ["line", *[f"{s}.{m}" for s in ipip.scale_ids for m in ("raw", "sem")],
                                 "normed", "calibration", "calibration_sha256"]
    assert set(raw["normed"]) == {"no"} and set(raw["calibration_sha256"]) == {model.sha256}
    expected = ipip.score(answers)
    for scale in ipip.scale_ids:
        np.testing.assert_allclose(raw[f"{scale}.raw"], expected[scale], atol=5e-5)
        assert raw[f"{scale}.sem"].eq(round(model.reliability[scale]["sem"], 4)).all()


def test_raw_profile_of_a_prorated_score_widens_its_sem():
    mini = profiler.load_questionnaire(PROJECT / "tests" / "fixtures" / "questionnaires" / "mini.yaml")
    answers = simulate_responses(mini, 3, seed=4).astype(float)
    answers.loc[answers.index[0], "T3"] = np.nan  # Trust: 2 of its 3 items, enough with min_answered 0.6
    valid = validate_responses(mini, answers)
    frame = raw_profiles_of_answers(mini, valid, {"Trust": 0.5})
    assert frame.attrs["normed"] is False
    assert frame[("Trust", "sem")].tolist() == pytest.approx([0.5 * np.sqrt(3 / 2), 0.5, 0.5])
    assert frame[("Voice", "sem")].isna().all()
    np.testing.assert_allclose(frame.xs("raw", axis=1, level=1), mini.score(answers))


def test_raw_scores_of_a_questionnaire_without_calibration(tmp_path, capsys):
    mini = profiler.load_questionnaire(PROJECT / "tests" / "fixtures" / "questionnaires" / "mini.yaml")
    answers = simulate_responses(mini, 4, seed=3)
    path, out = tmp_path / "a.csv", tmp_path / "raw.csv"
    answers.to_csv(path, index=False)
    assert main(["score", str(PROJECT / "tests/fixtures/questionnaires/mini.yaml"), str(path), "--out", str(out)]) == 0
    assert "no calibration exists for 'team-climate-mini', so no SEM" in capsys.readouterr().out
    raw = pd.read_csv(out)
    assert raw["Voice.sem"].isna().all() and set(raw["calibration"]) == {"none"}
    np.testing.assert_allclose(raw["Climate.raw"], mini.score(answers)["Climate"], atol=5e-5)


def test_raw_score_options_that_do_not_fit(tmp_path, capsys, answers):
    path = tmp_path / "a.csv"
    answers.to_csv(path, index=False)
    assert _score(path, "--out", tmp_path / "o.csv", "--percentiles", "normal") == 2
    assert "--percentiles needs --norms" in capsys.readouterr().err
    assert _score(path, "--out", tmp_path / "o.csv", "--norms", "general", "--calibration", "x.json") == 2
    assert "--calibration applies to raw scores only" in capsys.readouterr().err
    other = PROJECT / "models" / "ipip-bfm-50" / "factor-model.json"
    mini = PROJECT / "tests" / "fixtures" / "questionnaires" / "mini.yaml"
    assert main(["score", str(mini), str(path), "--out", str(tmp_path / "o.csv"), "--calibration", str(other)]) == 2
    assert "was calibrated on ipip-bfm-50" in capsys.readouterr().err


def test_out_a_folder_is_a_clear_error(responses_csv, tmp_path, capsys):
    assert _score(responses_csv, "--norms", "general", "--out", tmp_path, "--id-column", "cid") == 2
    err = capsys.readouterr().err
    assert "is a folder: give the name of a file to write" in err and "Traceback" not in err


def test_parquet_in_and_out(tmp_path, capsys, ipip, answers):
    path = tmp_path / "answers.parquet"
    frame = answers.astype("Int8")
    frame.iloc[2, 0] = pd.NA  # E1 unanswered: a required item, so row 3 is rejected
    frame.insert(0, "cid", [f"c{i}" for i in range(len(frame))])
    frame.to_parquet(path, index=False)
    out, rejects = tmp_path / "profiles.parquet", tmp_path / "rejects.csv"
    code = _score(path, "--norms", "general", "--out", out, "--id-column", "cid", "--on-error", "skip",
                  "--rejects", rejects)  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0
    assert "row 3, item 'E1': required item not answered" in captured.err
    profiles = pd.read_parquet(out)
    assert profiles["cid"].tolist() == [f"c{i}" for i in range(9) if i != 2]
    assert profiles["row"].tolist() == [1, 2, 4, 5, 6, 7, 8, 9]
    expected = trait_profiles(ipip, answers.drop(index=2), load_norms(ipip, "general"))
    np.testing.assert_allclose(profiles["Openness.T"], expected[("Openness", "T")].round(2), atol=1e-9)
    assert pd.read_csv(rejects)["row"].tolist() == [3]
    # the same profiles as CSV (--format), numbers with their decimals
    assert _score(path, "--norms", "general", "--out", tmp_path / "p.txt", "--id-column", "cid", "--on-error",
                  "skip", "--format", "csv") == 0
    text = (tmp_path / "p.txt").read_text(encoding="utf-8").splitlines()
    assert text[0].startswith("cid,row,Extraversion.raw,Extraversion.z,")
    assert text[1].startswith(f"c0,1,{expected[('Extraversion', 'raw')].iloc[0]:.4f},")


def test_manifest_next_to_the_output_and_in_the_audit_log(responses_csv, tmp_path, capsys, store_path):
    from profiler.canonical import sha256_bytes
    from profiler.store import Store
    from profiler.store.audit_log import AuditLog
    from profiler.store.records import read_log_record

    out, rejects = tmp_path / "profiles.csv", tmp_path / "rejects.csv"
    assert _score(responses_csv, "--norms", "general", "--out", out, "--id-column", "cid", "--on-error", "skip",
                  "--rejects", rejects, "--actor", "ops:ann") == 0  # fmt: skip
    manifest = json.loads((tmp_path / "profiles.csv.manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"] == [{"path": str(responses_csv.resolve()), "bytes": responses_csv.stat().st_size,
                                   "sha256": sha256_bytes(responses_csv.read_bytes())}]
    assert [f["sha256"] for f in manifest["outputs"]] == [sha256_bytes(out.read_bytes()),
                                                         sha256_bytes(rejects.read_bytes())]
    assert (manifest["rows"], manifest["scored"], manifest["skipped"], manifest["blank"]) == (9, 7, 2, 1)
    assert manifest["engine"] == "local" and manifest["norm_group"] == "general"
    assert manifest["questionnaire_id"] == "ipip-bfm-50" and manifest["job_model_id"] is None
    assert manifest["reference"] is None
    assert manifest["started"] <= manifest["finished"]
    with Store(store_path) as store:
        entries = [e for e in AuditLog(store) if e.event == "batch.scored"]
    assert len(entries) == 1 and entries[0].actor == "ops:ann"
    assert read_log_record(entries[0].event, entries[0].payload).payload() == manifest
    # a run that stops writes no manifest and records nothing
    assert _score(responses_csv, "--norms", "general", "--out", tmp_path / "x.csv", "--id-column", "cid") == 1
    assert not (tmp_path / "x.csv.manifest.json").exists()
    with Store(store_path) as store:
        assert sum(e.event == "batch.scored" for e in AuditLog(store)) == 1


def test_job_model_evaluation_in_the_batch(tmp_path, capsys, ipip, answers):
    jm = profiler.load_job_model("customer-support")
    path = tmp_path / "a.csv"
    frame = answers.copy()
    frame.insert(0, "cid", [f"c{i}" for i in range(len(frame))])
    frame["evidence.email_work_sample"] = [70, 55, "", 80, 90, 40, 60, 65, 75]
    frame["evidence.email_work_sample.date"] = "2026-01-10"
    frame.to_csv(path, index=False)
    out = tmp_path / "p.parquet"
    assert _score(path, "--norms", "general", "--out", out, "--id-column", "cid", "--job-model", "customer-support",
                  "--as-of", "2026-03-01") == 0  # fmt: skip
    written = pd.read_parquet(out)
    scores = ipip.score(answers)
    inputs = pd.DataFrame({i: scores[i.removeprefix("trait.")] for i in jm.inputs if i.startswith("trait.")})
    inputs["evidence.email_work_sample"] = pd.to_numeric(frame["evidence.email_work_sample"])
    inputs["evidence.email_work_sample.date"] = "2026-01-10"
    expected = jm.evaluate_many(inputs, as_of="2026-03-01")
    assert written["band"].tolist() == expected["band"].astype(str).tolist()
    np.testing.assert_allclose(written["score"], expected["score"].round(6), atol=1e-9)
    for criterion in (c.id for c in jm.criteria):
        np.testing.assert_allclose(written[f"contribution.{criterion}"],
                                   expected[f"contribution.{criterion}"].round(6), atol=1e-9)
    manifest = json.loads((tmp_path / "p.parquet.manifest.json").read_text(encoding="utf-8"))
    assert manifest["job_model_id"] == "customer-support" and manifest["job_model_hash"] == jm.content_hash
    # the reference point the contributions are measured against: the norm group's average candidate
    reference = jm.norm_reference
    assert manifest["reference"] == {"kind": "norm_group", "name": reference.description,
                                     "sha256": reference.sha256}
    assert _score(path, "--norms", "us", "--out", tmp_path / "q.csv", "--id-column", "cid", "--job-model",
                  "customer-support") == 2  # fmt: skip
    assert "uses norm group 'general'" in capsys.readouterr().err


def test_an_unknown_compiled_loops_setting_is_a_clear_error(tmp_path, ipip, monkeypatch, capsys):
    """PROFILER_COMPILED is read when a long chunk of float answers is scored: a typo is named, no traceback."""
    answers = simulate_responses(ipip, 9_000, seed=5).astype(float)
    answers.iloc[::97, 3] = np.nan  # blanks: the answers are read as floats
    path = tmp_path / "many.csv"
    answers.to_csv(path, index=False)
    monkeypatch.setenv("PROFILER_COMPILED", "fastest")
    code = main(["score", "ipip-bfm-50", str(path), "--out", str(tmp_path / "out.csv"), "--chunk-size", "9000"])
    err = capsys.readouterr().err
    assert code == 2 and "PROFILER_COMPILED='fastest': use one of auto, always, never" in err
    assert "Traceback" not in err and not (tmp_path / "out.csv").exists()  # nothing partial left
