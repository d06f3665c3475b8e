"""The public API is exactly what ``profiler.__all__`` lists, every listed name exists, the type checkers' view
of it agrees, every user error of the package is exported, and errors form one tree."""

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import profiler

INIT = Path(profiler.__file__)

EXPECTED = {
    "__version__",
    "ProfilerError", "DocumentError", "ErrorDetail", "QuestionnaireError", "JobModelError", "ResponseError",
    "ResponseProblem",
    "Questionnaire", "load_questionnaire", "parse_questionnaire", "bundled_questionnaires", "simulate_responses",
    "Store", "StoreError", "AnchorError", "Session", "AnswerError", "SessionError", "SessionExpiredError", "replay_session",
    "assess_validity", "ValidityCalibration", "load_validity_calibration", "derive_validity_calibration",
    "EFA", "CFA", "parse_model", "cronbach_alpha", "item_statistics", "omega", "standard_error_of_measurement",
    "kmo", "bartlett_sphericity", "eigenvalues", "parallel_analysis", "velicer_map", "em_moments", "icc", "ordinal_alpha",
    "retest_reliability", "polychoric",
    "FactorModel", "calibrate_questionnaire", "load_factor_model",
    "GRM", "GPCM", "TwoPL", "MultiGroupGRM", "ItemBank", "IRTDataError", "IRTCalibration", "IRTCalibrationError",
    "calibrate_irt", "load_irt_calibration", "load_irt_calibrations", "CATEngine", "CATRules", "CATError",
    "JobModel", "load_job_model", "parse_job_model", "bundled_job_models",
    "NormTable", "NormSampleWarning", "NormsError", "NormsMismatchError", "TraitProfile", "build_norms", "bundled_norms",
    "load_norms", "trait_profile", "trait_profiles", "irt_trait_profiles", "irt_norm_profiles",
    "AuditLog", "AuditEvent", "AuditLogError", "LogEntry", "Verification", "Candidates", "Candidate", "CandidateError",
    "ErasureBlockedError",
    "export_candidate", "erase_candidate", "purge_expired",
    "adverse_impact", "scoring_impact", "pooled_impact", "standardized_mean_differences", "differential_prediction",
    "dif", "invariance", "score_without", "translation_check", "FairnessInputError",
    "LoadingSignWarning",
    "Recommendation", "JobModelInputError", "EvidenceError", "UndeclaredInputError", "ReferencePoint",
    "batch_explanation",
    "assess_candidate", "assess_candidates", "Assessment", "AssessmentError",
    "Review", "ReviewError", "ModelControl", "ModelStoppedError", "ControlError", "oversight_figures", "oversight_over_time",
    "recruiter_report", "candidate_report", "cohort_report", "fairness_report", "case_from_store", "cohort_from_store",
    "FactorModelError", "ValidityError", "SettingError",
    "JsonValueError", "StoredRecordError", "ModelSyntaxError", "ModelSpecificationError", "CFADataError",
    "PolychoricError", "BatchError", "ReportError", "FairnessAuditError", "SampleFileError", "NormBuildError",
    "CalibrationError", "IntegrationError", "InvitationError", "Staff", "StaffError", "ResourceError",
    "Oidc", "OidcConfig", "OidcError", "IdTokenError", "SignInRefused",
    "HeywoodWarning", "MissingDataWarning", "CFAWarning", "InadmissibleSolutionWarning", "CFAConvergenceWarning",
    "DominantCriterionWarning", "OrdinalConvergenceWarning",
}


def test_exported_names_are_intended():
    assert set(profiler.__all__) == EXPECTED
    for name in profiler.__all__:
        assert getattr(profiler, name) is not None, name
    with pytest.raises(AttributeError):
        profiler.not_a_name  # noqa: B018


def test_import_is_light():
    code = "import sys, profiler; print(sorted(m for m in ('sklearn', 'sqlalchemy', 'shap') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("name", ["QuestionnaireError", "JobModelError", "ResponseError", "StoreError", "AnswerError",
                                  "SessionError", "SessionExpiredError", "NormsError", "AuditLogError",
                                  "CandidateError", "ReviewError", "ModelStoppedError", "ControlError",
                                  "AssessmentError", "JobModelInputError", "EvidenceError", "FactorModelError",
                                  "ValidityError", "IRTDataError", "IRTCalibrationError", "AnchorError", "CATError",
                                  "ErasureBlockedError", "SettingError"])
def test_every_user_error_is_a_profiler_error(name):
    assert issubclass(getattr(profiler, name), profiler.ProfilerError)


def test_demographics_are_not_a_top_level_name():
    # The demographics vault is reachable only through profiler.oversight, for audits.
    assert not any("demographic" in name.lower() for name in profiler.__all__)


def test_document_errors_are_value_errors():
    assert issubclass(profiler.QuestionnaireError, profiler.DocumentError)
    assert issubclass(profiler.DocumentError, ValueError)
    assert issubclass(profiler.ResponseError, ValueError)


def test_the_type_checking_block_lists_exactly_the_exports():
    # profiler/__init__.py imports names lazily; its TYPE_CHECKING block is what IDEs and mypy see.
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    block = next(node for node in tree.body if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING")
    seen = {alias.name: node.module for node in block.body if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert seen == profiler._EXPORTS


def _all_modules():
    deprecated = {"profiler.assessment", "profiler.reports.stored", "profiler.oversight.audit_log",
                  "profiler.oversight.fairness_audit", "profiler.questionnaire.model", "profiler.jobmodel.model"}
    for info in pkgutil.walk_packages(profiler.__path__, "profiler."):
        if info.name not in deprecated and not info.name.endswith("__main__"):
            yield importlib.import_module(info.name)


def test_every_user_error_and_warning_of_the_package_is_exported():
    defined = set()
    for module in _all_modules():
        for name, value in vars(module).items():
            if isinstance(value, type) and value.__module__ == module.__name__ and (
                    issubclass(value, profiler.ProfilerError) or issubclass(value, UserWarning)):
                defined.add(name)
    assert defined - set(profiler.__all__) == set()
    text = Path(profiler.errors.__file__).read_text(encoding="utf-8")
    documented = {name for name in defined if issubclass(getattr(profiler, name), Exception)
                  and not issubclass(getattr(profiler, name), Warning)}
    assert {name for name in documented if name not in text} == set()  # errors.py documents the whole hierarchy


def test_the_package_says_it_is_typed():
    assert (INIT.parent / "py.typed").is_file()
