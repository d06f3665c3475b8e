"""Loading job models: bundled examples, every problem located, protected attributes refused."""

from __future__ import annotations

from pathlib import Path

import pytest

import profiler
from profiler.jobmodel import bundled_job_models, load_job_model, parse_job_model
from profiler.jobmodel.protected import protected_match

PROJECT = Path(__file__).parents[2]
SUPPORT = (PROJECT / "models" / "jobs" / "customer-support.yaml").read_text(encoding="utf-8")


def _errors(text: str) -> list[str]:
    with pytest.raises(profiler.JobModelError) as info:
        parse_job_model(text, "cs.yaml")
    return str(info.value).splitlines()


def test_bundled_examples_load():
    assert {"customer-support", "software-engineer"} <= set(bundled_job_models())
    for model_id in ("customer-support", "software-engineer"):
        model = load_job_model(model_id)
        assert model.questionnaire.id == "ipip-bfm-50"
        assert model.content_hash.startswith("sha256:")
        assert all(c.rationale.strip() for c in model.criteria)
        assert model.identity()["job_model_id"] == model_id


def test_inputs_are_declared_once_in_criterion_order():
    model = load_job_model("customer-support")
    assert model.inputs[:3] == ["evidence.email_work_sample", "evidence.interview_customer_focus",
                                "trait.Conscientiousness"]
    assert set(model.evidence_specs) == {"email_work_sample", "interview_customer_focus", "support_experience"}


def test_protected_attribute_as_evidence_is_refused():
    text = SUPPORT.replace("  - id: support_experience\n", "  - id: age_years\n").replace(
        "input: evidence.support_experience", "input: evidence.age_years")
    assert _errors(text) == [
        "cs.yaml:39:9: evidence 'age_years' concerns age or date of birth, a protected attribute or its proxy; "
        "it can never be an input of a job model",
        "cs.yaml:96:12: input 'evidence.age_years' concerns age or date of birth, a protected attribute or its "
        "proxy; it can never be an input of a job model",
    ]


@pytest.mark.parametrize("name", ["gender", "postcode", "candidate_name", "birthDate", "photo_score", "nationality",
                                  "religion", "disability_status", "marital_status", "pregnancy", "ethnicity",
                                  "mother_tongue", "dateofbirth", "gendercode", "Geschlecht", "sexe",
                                  "Staatsangehoerigkeit", "zipcode_area"])
def test_every_protected_attribute_and_proxy_is_caught(name):
    assert protected_match(name) is not None
    text = SUPPORT.replace("  - id: support_experience\n", f"  - id: {name}\n").replace(
        "input: evidence.support_experience", f"input: evidence.{name}")
    assert any("protected attribute" in line for line in _errors(text))


@pytest.mark.parametrize("name", ["language_cert", "customerOrientation", "work_sample", "page_views",
                                  "health_safety_cert", "usage_stats", "experience_years", "Voice",
                                  "interview_system_design", "Email-handling work sample", "engineering_experience"])
def test_ordinary_inputs_are_not_mistaken_for_protected_ones(name):
    assert protected_match(name) is None


def test_misspelt_trait_and_undeclared_evidence_suggest_names():
    text = SUPPORT.replace("trait.Agreeableness", "trait.Agreeablenes").replace(
        "input: evidence.support_experience", "input: evidence.experience")
    assert _errors(text) == [
        "cs.yaml:39:9: evidence 'support_experience' is declared but no criterion uses it; collect only what the "
        "model uses (data minimisation)",
        "cs.yaml:72:12: questionnaire 'ipip-bfm-50' has no scale 'Agreeablenes' (did you mean 'Agreeableness'?)",
        "cs.yaml:96:12: evidence 'experience' is not declared under 'evidence' (did you mean 'support_experience'?)",
    ]


def test_personality_scales_alone_may_not_decide():
    traits_only = (SUPPORT[: SUPPORT.index("evidence:\n")] + "criteria:\n"
                   + SUPPORT[SUPPORT.index("  - id: conscientiousness"): SUPPORT.index("  - id: experience\n")]
                   + SUPPORT[SUPPORT.index("bands:"):])
    (line,) = _errors(traits_only)
    assert line.startswith("cs.yaml:19:3: only self-report personality scales decide in this model")


def test_format_errors_are_located_with_suggestions():
    text = SUPPORT.replace("    weight: 0.05\n", "    wieght: 0.05\n").replace("kind: saturating", "kind: saturate")
    text = text.replace("not_advance_below: 45", "not_advance_below: 70")
    assert _errors(text) == [
        "cs.yaml:87:5: missing required key 'weight'",
        "cs.yaml:90:5: unknown key 'wieght' (did you mean 'weight'?)",
        "cs.yaml:97:16: kind 'saturate' is not one of linear, target_range, saturating, binary "
        "(did you mean 'saturating'?)",
        "cs.yaml:104:3: not_advance_below (70.0) must not exceed advance_from (60.0)",
    ]


def test_binary_transform_only_for_held_or_not_evidence():
    text = SUPPORT.replace("transform: {kind: saturating, half_at: 1.5}", "transform: {kind: binary}")
    assert _errors(text) == [
        "cs.yaml:97:23: evidence 'support_experience' is not 0/1: use linear, target_range or saturating"]


def test_pinned_questionnaire_hash_must_match():
    text = SUPPORT.replace("questionnaire: ipip-bfm-50\n", "questionnaire: ipip-bfm-50\nquestionnaire_hash: sha256:"
                           + "0" * 64 + "\n")
    (line,) = _errors(text)
    assert "the questionnaire changed since this model was written" in line
    pinned = load_job_model("customer-support").questionnaire.content_hash
    ok = SUPPORT.replace("questionnaire: ipip-bfm-50\n", f"questionnaire: ipip-bfm-50\nquestionnaire_hash: {pinned}\n")
    assert parse_job_model(ok).spec.questionnaire_hash == pinned


def test_unknown_bundled_id():
    with pytest.raises(profiler.JobModelError, match="did you mean 'customer-support'"):
        load_job_model("customer-suport")


def test_profiler_check_warns_about_a_dominant_criterion(tmp_path, capsys):
    from profiler.cli import main

    path = tmp_path / "dominant.yaml"
    path.write_text(SUPPORT.replace("weight: 0.30\n    minimum: 40", "weight: 3.0\n    minimum: 40"), encoding="utf-8")
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "dominant.yaml:45:5: warning: job model 'customer-support': criterion 'work_sample' carries" in out
    assert "1 warning(s)" in out
    assert main(["check", "--strict", str(path)]) == 1
    assert main(["check", "--strict", "customer-support", "software-engineer"]) == 0
