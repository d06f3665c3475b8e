"""A deployment's own questionnaires, job models and norm groups in PROFILER_PATH folders, found by id beside the
bundled ones; an id defined twice and a folder that does not exist are errors naming the files."""

from __future__ import annotations

import shutil

import pytest

from profiler.jobmodel import load_job_model
from profiler.jobmodel.loader import bundled_job_models
from profiler.norms import load_norms
from profiler.norms.loading import bundled_norms
from profiler.questionnaire.loader import bundled_questionnaires
from profiler.resources import PATH_VARIABLE, ResourceError, bundled_dir

BUNDLED_JOB = bundled_dir("models") / "jobs" / "customer-support.yaml"


def library(root, job_id: str = "acme-support"):
    """A deployment folder with one job model (the bundled customer-support under another id) and one norm group
    of the bundled questionnaire (the general norms under another name)."""
    (root / "models" / "jobs").mkdir(parents=True)
    text = BUNDLED_JOB.read_text(encoding="utf-8").replace("id: customer-support\n", f"id: {job_id}\n", 1)
    (root / "models" / "jobs" / f"{job_id}.yaml").write_text(text, encoding="utf-8")
    (root / "models" / "ipip-bfm-50" / "norms").mkdir(parents=True)
    shutil.copy(bundled_dir("models") / "ipip-bfm-50" / "norms" / "general.json",
                root / "models" / "ipip-bfm-50" / "norms" / "acme-graduates.json")
    return root


def test_a_deployment_folder_adds_job_models_and_norm_groups(tmp_path, monkeypatch):
    monkeypatch.setenv(PATH_VARIABLE, str(library(tmp_path / "acme")))
    assert set(bundled_job_models()) == {"customer-support", "software-engineer", "acme-support"}
    model = load_job_model("acme-support")
    assert model.id == "acme-support" and model.questionnaire.id == "ipip-bfm-50"
    assert model.evaluate({"Conscientiousness": 4.0, "Agreeableness": 4.0, "Extraversion": 3.5,
                           "Neuroticism": 2.0}).score == \
        load_job_model("customer-support").evaluate({"Conscientiousness": 4.0, "Agreeableness": 4.0,
                                                     "Extraversion": 3.5, "Neuroticism": 2.0}).score
    assert list(bundled_norms("ipip-bfm-50")) == ["acme-graduates", "general", "us"]
    assert load_norms("ipip-bfm-50", "acme-graduates").sha256 == load_norms("ipip-bfm-50", "general").sha256
    assert "ipip-bfm-50" in bundled_questionnaires()


def test_without_the_variable_only_the_bundled_ones(monkeypatch):
    monkeypatch.delenv(PATH_VARIABLE, raising=False)
    assert set(bundled_job_models()) == {"customer-support", "software-engineer"}


def test_an_id_defined_twice_names_both_files(tmp_path, monkeypatch):
    folder = library(tmp_path / "acme", job_id="customer-support")
    monkeypatch.setenv(PATH_VARIABLE, str(folder))
    with pytest.raises(ResourceError, match="job model 'customer-support' is defined twice") as caught:
        bundled_job_models()
    assert str(BUNDLED_JOB) in str(caught.value) and str(folder / "models" / "jobs") in str(caught.value)


def test_a_folder_that_does_not_exist_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv(PATH_VARIABLE, f"{library(tmp_path / 'acme')}:{tmp_path / 'missing'}")
    with pytest.raises(ResourceError, match="names .*missing.*, which is not a folder"):
        bundled_job_models()


def test_the_cli_reports_a_conflict_without_a_traceback(tmp_path, monkeypatch, capsys):
    from profiler.cli import main

    monkeypatch.setenv(PATH_VARIABLE, str(library(tmp_path / "acme", job_id="customer-support")))
    code = main(["check", "customer-support"])
    err = capsys.readouterr().err
    assert code != 0 and "defined twice" in err and "Traceback" not in err
