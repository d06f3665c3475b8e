"""Documents loaded once per process (profiler.pipeline.loaded): the same object while the file is unchanged,
a new one when it changes, the loaders' errors unchanged, stored questionnaires by content hash."""

from __future__ import annotations

import os

import pytest

import profiler
from profiler.administration import records as session_records
from profiler.administration.validity import load_validity_calibration
from profiler.errors import JobModelError
from profiler.jobmodel.loader import bundled_job_models
from profiler.pipeline import loaded
from profiler.questionnaire.loader import parse_questionnaire
from profiler.store import Store


def test_a_bundled_job_model_is_loaded_once_and_is_the_loaders_model():
    first = loaded.job_model("customer-support")
    assert loaded.job_model("customer-support") is first
    fresh = profiler.load_job_model("customer-support")
    assert first.content_hash == fresh.content_hash
    assert first.source == fresh.source == "bundled:customer-support"


def test_an_edited_job_model_file_is_loaded_again(tmp_path):
    path = tmp_path / "model.yaml"
    text = bundled_job_models()["customer-support"].read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    first = loaded.job_model(str(path))
    assert loaded.job_model(str(path)) is first
    edited = text.replace(f'version: "{first.version}"', 'version: "9.9.9"', 1)
    assert edited != text
    path.write_text(edited, encoding="utf-8")
    os.utime(path, ns=(1, 1))  # a different modification time, whatever the clock's resolution
    second = loaded.job_model(str(path))
    assert second is not first and second.version == "9.9.9"


def test_unknown_job_models_raise_the_loaders_error():
    with pytest.raises(JobModelError, match="customer-support"):
        loaded.job_model("customer-suport")


def test_the_bundled_validity_calibration_is_loaded_once():
    questionnaire = loaded.job_model("customer-support").questionnaire
    first = loaded.validity_calibration(questionnaire)
    assert loaded.validity_calibration(questionnaire) is first
    assert first.sha256 == load_validity_calibration("ipip-bfm-50").sha256
    other = parse_questionnaire(questionnaire.spec.model_dump_json().replace('"ipip-bfm-50"', '"no-calibration"', 1))
    assert other.id == "no-calibration" and loaded.validity_calibration(other) is None


def test_stored_questionnaires_by_content_hash():
    questionnaire = profiler.load_questionnaire("ipip-bfm-50")
    with Store() as store:
        assert loaded.stored_questionnaire(store, questionnaire.content_hash) is None  # absent: not kept
        with store.write() as connection:
            session_records.save_questionnaire(connection, questionnaire)
        found = loaded.stored_questionnaire(store, questionnaire.content_hash)
        assert found is not None and found.content_hash == questionnaire.content_hash
        assert loaded.stored_questionnaire(store, questionnaire.content_hash) is found
