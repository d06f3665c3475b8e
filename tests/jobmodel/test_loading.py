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
    reason = ("a protected attribute or its proxy; it can never be part of a job model, unless a psychologist has "
              "reviewed it and declares it under protected_exceptions with a written justification")
    assert _errors(text) == [
        f"cs.yaml:39:9: evidence 'age_years' concerns age or date of birth ('age'), {reason}",
        f"cs.yaml:96:12: input 'evidence.age_years' concerns age or date of birth ('age'), {reason}",
    ]


PROTECTED = {
    "en": ["gender", "sex", "age_years", "birthDate", "dateofbirth", "race", "ethnicity", "nationality",
           "citizenship", "religion", "disability_status", "marital_status", "pregnancy", "sexual_orientation",
           "mother_tongue", "skin_colour"],
    "nl": ["geslacht", "leeftijd", "geboortedatum", "afkomst", "nationaliteit", "moedertaal", "religie",
           "burgerlijke_staat", "zwangerschap", "voornaam"],
    "de": ["Geschlecht", "Alter", "Geburtsdatum", "Herkunft", "Staatsangehoerigkeit", "Staatsangehörigkeit",
           "Muttersprache", "Familienstand", "Behinderung", "Schwangerschaft", "PLZ", "Postleitzahl", "Nachname"],
    "fr": ["sexe", "âge", "date_de_naissance", "nationalité", "langue_maternelle", "état_civil", "grossesse",
           "prénom", "code_postal"],
    "es": ["sexo", "edad", "fecha_de_nacimiento", "nacionalidad", "lengua_materna", "estado_civil", "embarazo",
           "apellidos", "código_postal", "raza"],
    "proxies": ["postcode", "zipcode_area", "graduation_year", "year_of_graduation", "native_speaker",
                "nativeLanguage", "candidate_photo", "photo_score", "headshot", "candidate_name", "full_name",
                "first_name", "name", "marital", "home_address", "immigration_status", "passport"],
}


@pytest.mark.parametrize("name", [name for names in PROTECTED.values() for name in names])
def test_every_protected_attribute_and_proxy_is_caught(name):
    assert protected_match(name) is not None
    text = SUPPORT.replace("  - id: support_experience\n", f"  - id: {name}\n").replace(
        "input: evidence.support_experience", f"input: evidence.{name}")
    if not name.isascii() or "-" in name:
        return  # not an id; checked as a name below
    assert any("protected attribute" in line for line in _errors(text))


@pytest.mark.parametrize("name", ["Geburtsdatum des Bewerbers", "Candidate photo", "Date de naissance",
                                  "Fecha de nacimiento", "Burgerlijke staat", "Native speaker of Dutch"])
def test_names_in_words_are_caught_too(name):
    text = SUPPORT.replace("name: Years of customer-facing experience", f"name: {name}")
    assert any("evidence 'support_experience' concerns" in line for line in _errors(text))


@pytest.mark.parametrize("name", ["language_cert", "customerOrientation", "work_sample", "page_views",
                                  "health_safety_cert", "usage_stats", "experience_years", "Voice",
                                  "interview_system_design", "Email-handling work sample", "engineering_experience",
                                  "Photo editing work sample", "Immigration law exam", "Race condition debugging",
                                  "Company name knowledge test", "Image recognition skill", "German language level",
                                  "Foreign language skills", "stage_presence", "management", "average_handle_time",
                                  "Name matching test", "Voice coaching", "Family law exam", "Sales agenda"])
def test_ordinary_inputs_are_not_mistaken_for_protected_ones(name):
    assert protected_match(name) is None


def test_a_spec_built_in_code_is_checked_too():
    from profiler.jobmodel import JobModel, JobModelSpec

    spec = load_job_model("customer-support").spec.model_dump()
    spec["evidence"][2]["id"] = "gender"
    spec["criteria"][-1]["input"] = "evidence.gender"
    with pytest.raises(ValueError, match="evidence 'gender' concerns sex or gender"):
        JobModelSpec(**spec)
    with pytest.raises(ValueError, match="input 'evidence.gender' concerns sex or gender"):
        JobModelSpec.model_validate(spec)
    bypass = JobModelSpec.model_construct(**{**load_job_model("customer-support").spec.__dict__,
                                            "criteria": [c.model_copy(update={"input": "evidence.gender"})
                                                         if c.id == "experience" else c
                                                         for c in load_job_model("customer-support").criteria]})
    with pytest.raises(profiler.JobModelError, match="input 'evidence.gender' concerns sex or gender"):
        JobModel(bypass, load_job_model("customer-support").questionnaire)


EXCEPTION = """
protected_exceptions:
  - applies_to: native_dutch
    justification: >-
      The role interprets for Dutch courts; the court requires native-level Dutch, tested with the
      state examination, which is job-related and proportionate (reviewed with counsel).
    reviewed_by: [Dr. A. Example, counsel B. Example]
    date: "2026-05"
"""


def test_a_reviewed_exception_is_declared_justified_and_hashed():
    text = SUPPORT.replace("  - id: support_experience\n", "  - id: native_dutch\n").replace(
        "input: evidence.support_experience", "input: evidence.native_dutch")
    assert any("native language" in line for line in _errors(text))
    model = parse_job_model(text + EXCEPTION, "cs.yaml")
    assert model.spec.protected_exceptions[0].applies_to == "native_dutch"
    assert model.content_hash != parse_job_model(text.replace("native_dutch", "experience_nl") + "\n").content_hash
    assert "protected_exceptions" in model.spec.model_dump(mode="json")
    assert "protected_exceptions" not in load_job_model("customer-support").spec.model_dump(mode="json")
    # an exception needs a written justification and a reviewer, and must cover something
    short = EXCEPTION.replace(">-\n      The role interprets for Dutch courts; the court requires native-level Dutch, tested "
                              "with the\n      state examination, which is job-related and proportionate (reviewed "
                              "with counsel).", "because")
    assert _errors(text + short) == ["cs.yaml:110:20: needs at least 40 characters, found 7"]
    assert any("names no input, criterion or evidence that the protected-attribute check refuses" in line
               for line in _errors(SUPPORT + EXCEPTION))


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


# Numbers bounded ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("old", "new", "where", "message"), [
    ("weight: 0.30\n", "weight: 1e308\n", "48:13", "must be <= 1000.0, found 1e308"),
    ("weight: 0.30\n", "weight: .inf\n", "48:13", ".inf is not a finite number"),
    ("weight: 0.30\n", "weight: .nan\n", "48:13", ".nan is not a finite number"),
    ("    min: 0\n    max: 100\n", "    min: 100\n    max: 0\n", "19:5", "min (100) must be below max (0)"),
    ("    max: 100\n", "    max: 1e9\n", "24:10", "must be <= 1000000.0, found 1e9"),
    ("norm: {mean: 60, sd: 15,", "norm: {mean: 160, sd: 15,", "19:5", "norm mean 160 lies outside the possible "
                                                                     "range 0..100"),
    ("norm: {mean: 60, sd: 15,", "norm: {mean: 60, sd: 0,", "26:26", "must be > 0.0, found 0"),
    ("    max_age_days: 365\n", "    max_age_days: 1000000\n", "27:19", "must be <= 36500, found 1000000"),
    ("    min_raters: 2\n", "    min_raters: 1000000000000000000000000000000\n", "36:17", "must be <= 20"),
    ("at_zero: 30, at_one: 90}", "at_zero: 30, at_one: 9e12}", "47:52", "must be <= 1000000.0, found 9e12"),
    ("    minimum: 40\n", "    minimum: 140\n", "49:14", "minimum 140 is above the highest possible value 100 of "
                                                         "evidence.email_work_sample: it would route everyone"),
    ("    minimum: 40\n", "    minimum: 0\n", "49:14", "minimum 0 is at or below the lowest possible value 0"),
])  # fmt: skip
def test_numbers_out_of_bounds_are_located_errors(old, new, where, message):
    assert old in SUPPORT
    errors = _errors(SUPPORT.replace(old, new, 1))
    assert any(line.startswith(f"cs.yaml:{where}:") and message in line for line in errors), errors


def test_a_trait_minimum_outside_the_scale_is_an_error():
    old = "at_zero: 2.5, at_one: 4.5}\n    weight: 0.10\n    missing: review\n"
    assert old in SUPPORT
    text = SUPPORT.replace(old, old + "    minimum: 5.5\n", 1)
    assert any("minimum 5.5 is above the highest possible value 5 of trait.Conscientiousness" in line
               for line in _errors(text))


def test_profiler_check_reports_an_unbounded_weight(tmp_path, capsys):
    from profiler.cli import main

    path = tmp_path / "huge.yaml"
    path.write_text(SUPPORT.replace("weight: 0.30\n", "weight: 1e308\n", 1), encoding="utf-8")
    assert main(["check", str(path)]) == 1
    captured = capsys.readouterr()
    assert "huge.yaml:48:13: must be <= 1000.0, found 1e308" in captured.out + captured.err
