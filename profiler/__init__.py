"""profiler: open psychometric profiling and explainable, human-overseen scoring for hiring.

The public API is what ``__all__`` lists; everything else is private and may change. Names are grouped
in the order data flows: questionnaire -> session -> responses -> validity -> profile -> job model ->
recommendation -> human decision -> log and reports. They are imported on first use, so that
``import profiler`` stays fast for the command line (scikit-learn, SQLAlchemy and shap load only when needed).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from profiler._version import __version__

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # errors (one hierarchy: every user mistake is a ProfilerError)
    "ProfilerError": "profiler.errors",
    "DocumentError": "profiler.errors",
    "ErrorDetail": "profiler.errors",
    "QuestionnaireError": "profiler.errors",
    "JobModelError": "profiler.errors",
    "ResponseError": "profiler.errors",
    "ResponseProblem": "profiler.errors",
    "ValidityError": "profiler.errors",
    "SettingError": "profiler.errors",
    "JsonValueError": "profiler.canonical",
    "ResourceError": "profiler.resources",
    # questionnaires
    "Questionnaire": "profiler.questionnaire",
    "load_questionnaire": "profiler.questionnaire",
    "parse_questionnaire": "profiler.questionnaire",
    "bundled_questionnaires": "profiler.questionnaire",
    "simulate_responses": "profiler.simulation",
    # administration and the store
    "Store": "profiler.store",
    "StoreError": "profiler.store",
    "AnchorError": "profiler.store.anchoring",
    "StoredRecordError": "profiler.store.records",
    "Session": "profiler.administration",
    "AnswerError": "profiler.administration",
    "SessionError": "profiler.administration",
    "SessionExpiredError": "profiler.administration",
    "replay_session": "profiler.administration",
    # response validity
    "assess_validity": "profiler.administration.validity",
    "ValidityCalibration": "profiler.administration.validity",
    "load_validity_calibration": "profiler.administration.validity",
    "derive_validity_calibration": "profiler.administration.validity",
    # norms and trait profiles
    "NormTable": "profiler.norms",
    "NormsError": "profiler.norms",
    "NormsMismatchError": "profiler.norms",
    "NormSampleWarning": "profiler.norms",
    "TraitProfile": "profiler.norms",
    "build_norms": "profiler.norms",
    "bundled_norms": "profiler.norms",
    "load_norms": "profiler.norms",
    "trait_profile": "profiler.norms",
    "trait_profiles": "profiler.norms",
    "irt_trait_profiles": "profiler.norms",
    "irt_norm_profiles": "profiler.norms",
    # factor models and reliability
    "EFA": "profiler.factors",
    "em_moments": "profiler.factors",
    "icc": "profiler.factors",
    "ordinal_alpha": "profiler.factors",
    "retest_reliability": "profiler.factors",
    "CFA": "profiler.factors",
    "parse_model": "profiler.factors",
    "cronbach_alpha": "profiler.factors",
    "item_statistics": "profiler.factors",
    "omega": "profiler.factors",
    "standard_error_of_measurement": "profiler.factors",
    "kmo": "profiler.factors",
    "bartlett_sphericity": "profiler.factors",
    "eigenvalues": "profiler.factors",
    "parallel_analysis": "profiler.factors",
    "velicer_map": "profiler.factors",
    "polychoric": "profiler.factors",
    "FactorModel": "profiler.factors.calibration",
    "FactorModelError": "profiler.factors.calibration",
    "ModelSyntaxError": "profiler.factors",
    "ModelSpecificationError": "profiler.factors",
    "CFADataError": "profiler.factors",
    "PolychoricError": "profiler.factors",
    "HeywoodWarning": "profiler.factors",
    "MissingDataWarning": "profiler.factors",
    "CFAWarning": "profiler.factors",
    "InadmissibleSolutionWarning": "profiler.factors",
    "CFAConvergenceWarning": "profiler.factors",
    "calibrate_questionnaire": "profiler.factors.calibration",
    "load_factor_model": "profiler.factors.calibration",
    # item response theory (agrees with R's mirt)
    "GRM": "profiler.irt",
    "GPCM": "profiler.irt",
    "TwoPL": "profiler.irt",
    "MultiGroupGRM": "profiler.irt",
    "ItemBank": "profiler.irt",
    "IRTDataError": "profiler.irt",
    "IRTCalibration": "profiler.irt",
    "IRTCalibrationError": "profiler.irt",
    "calibrate_irt": "profiler.irt",
    "load_irt_calibration": "profiler.irt",
    "load_irt_calibrations": "profiler.irt",
    # computerized adaptive testing
    "CATEngine": "profiler.cat",
    "CATRules": "profiler.cat",
    "CATError": "profiler.cat",
    # job models
    "JobModel": "profiler.jobmodel",
    "load_job_model": "profiler.jobmodel",
    "parse_job_model": "profiler.jobmodel",
    "bundled_job_models": "profiler.jobmodel",
    "Recommendation": "profiler.jobmodel",
    "JobModelInputError": "profiler.jobmodel",
    "EvidenceError": "profiler.jobmodel",
    "UndeclaredInputError": "profiler.jobmodel",
    "DominantCriterionWarning": "profiler.jobmodel",
    "ReferencePoint": "profiler.jobmodel",
    "batch_explanation": "profiler.jobmodel",
    # the recorded pipeline: every step stored and logged
    "assess_candidate": "profiler.pipeline",
    "assess_candidates": "profiler.pipeline",
    "Assessment": "profiler.pipeline",
    "AssessmentError": "profiler.pipeline",
    "BatchError": "profiler.batch",
    "SampleFileError": "profiler.pipeline.sample_file",
    "NormBuildError": "profiler.pipeline.norm_building",
    "CalibrationError": "profiler.pipeline.calibration",
    "ReportError": "profiler.pipeline",
    "FairnessAuditError": "profiler.pipeline",
    # invitations, consent and vendors' integration (profiler serve)
    "IntegrationError": "profiler.integration",
    "InvitationError": "profiler.integration",
    "Staff": "profiler.integration.staff",
    "StaffError": "profiler.integration.staff",
    "Oidc": "profiler.integration.oidc",
    "OidcConfig": "profiler.integration.oidc",
    "SignInRefused": "profiler.integration.oidc",
    "OidcError": "profiler.integration.oidc_provider",
    "IdTokenError": "profiler.integration.idtoken",
    # oversight: the audit log, candidates, privacy
    "AuditLog": "profiler.oversight",
    "AuditEvent": "profiler.oversight",
    "AuditLogError": "profiler.oversight",
    "LogEntry": "profiler.oversight",
    "Verification": "profiler.oversight",
    "Candidates": "profiler.oversight",
    "Candidate": "profiler.oversight",
    "CandidateError": "profiler.oversight",
    "ErasureBlockedError": "profiler.oversight.privacy",
    "export_candidate": "profiler.oversight",
    "erase_candidate": "profiler.oversight",
    "purge_expired": "profiler.oversight",
    # human oversight: decisions, contests, the global stop
    "Review": "profiler.oversight",
    "ReviewError": "profiler.oversight",
    "ModelControl": "profiler.oversight",
    "ModelStoppedError": "profiler.oversight",
    "ControlError": "profiler.oversight",
    "oversight_figures": "profiler.oversight",
    "oversight_over_time": "profiler.oversight",
    # reports
    "recruiter_report": "profiler.reports",
    "candidate_report": "profiler.reports",
    "cohort_report": "profiler.reports",
    "fairness_report": "profiler.reports",
    "case_from_store": "profiler.pipeline",
    "cohort_from_store": "profiler.pipeline",
    # fairness audits (demographics enter only as explicit arguments here)
    "adverse_impact": "profiler.fairness",
    "scoring_impact": "profiler.fairness",
    "pooled_impact": "profiler.fairness",
    "standardized_mean_differences": "profiler.fairness",
    "differential_prediction": "profiler.fairness",
    "dif": "profiler.fairness",
    "invariance": "profiler.fairness",
    "translation_check": "profiler.fairness",
    "FairnessInputError": "profiler.fairness",
    "LoadingSignWarning": "profiler.fairness",
    "score_without": "profiler.fairness",
    "OrdinalConvergenceWarning": "profiler.fairness",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'profiler' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # cache: later lookups do not come back here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for type checkers and IDEs; at run time names load lazily (tests/test_public_api.py keeps
    # this block equal to _EXPORTS)
    from profiler.administration import AnswerError, Session, SessionError, SessionExpiredError, replay_session
    from profiler.administration.validity import (
        ValidityCalibration,
        assess_validity,
        derive_validity_calibration,
        load_validity_calibration,
    )
    from profiler.canonical import JsonValueError
    from profiler.errors import (
        DocumentError,
        ErrorDetail,
        JobModelError,
        ProfilerError,
        QuestionnaireError,
        ResponseError,
        ResponseProblem,
        SettingError,
        ValidityError,
    )
    from profiler.resources import ResourceError
    from profiler.factors import (
        CFA,
        EFA,
        CFAConvergenceWarning,
        CFADataError,
        CFAWarning,
        HeywoodWarning,
        InadmissibleSolutionWarning,
        MissingDataWarning,
        ModelSpecificationError,
        ModelSyntaxError,
        PolychoricError,
        bartlett_sphericity,
        cronbach_alpha,
        eigenvalues,
        em_moments,
        icc,
        item_statistics,
        kmo,
        omega,
        ordinal_alpha,
        parallel_analysis,
        parse_model,
        polychoric,
        retest_reliability,
        standard_error_of_measurement,
        velicer_map,
    )
    from profiler.factors.calibration import FactorModel, FactorModelError, calibrate_questionnaire, load_factor_model
    from profiler.irt import (
        GPCM,
        GRM,
        IRTCalibration,
        IRTCalibrationError,
        IRTDataError,
        ItemBank,
        MultiGroupGRM,
        TwoPL,
        calibrate_irt,
        load_irt_calibration,
        load_irt_calibrations,
    )
    from profiler.cat import CATEngine, CATError, CATRules
    from profiler.fairness import (
        FairnessInputError,
        LoadingSignWarning,
        OrdinalConvergenceWarning,
        adverse_impact,
        dif,
        differential_prediction,
        invariance,
        pooled_impact,
        score_without,
        scoring_impact,
        standardized_mean_differences,
        translation_check,
    )
    from profiler.jobmodel import (
        DominantCriterionWarning,
        EvidenceError,
        JobModel,
        JobModelInputError,
        Recommendation,
        ReferencePoint,
        UndeclaredInputError,
        batch_explanation,
        bundled_job_models,
        load_job_model,
        parse_job_model,
    )
    from profiler.norms import (
        NormSampleWarning,
        NormsError,
        NormsMismatchError,
        NormTable,
        TraitProfile,
        build_norms,
        bundled_norms,
        load_norms,
        trait_profile,
        trait_profiles,
        irt_norm_profiles,
        irt_trait_profiles,
    )
    from profiler.integration import IntegrationError, InvitationError
    from profiler.integration.idtoken import IdTokenError
    from profiler.integration.oidc import Oidc, OidcConfig, SignInRefused
    from profiler.integration.oidc_provider import OidcError
    from profiler.integration.staff import Staff, StaffError
    from profiler.oversight import (
        AuditEvent,
        AuditLog,
        AuditLogError,
        Candidate,
        CandidateError,
        Candidates,
        ControlError,
        LogEntry,
        ModelControl,
        ModelStoppedError,
        Review,
        ReviewError,
        Verification,
        erase_candidate,
        export_candidate,
        oversight_figures,
        oversight_over_time,
        purge_expired,
    )
    from profiler.pipeline import (
        Assessment,
        AssessmentError,
        FairnessAuditError,
        ReportError,
        assess_candidate,
        assess_candidates,
        case_from_store,
        cohort_from_store,
    )
    from profiler.batch import BatchError
    from profiler.pipeline.calibration import CalibrationError
    from profiler.pipeline.norm_building import NormBuildError
    from profiler.pipeline.sample_file import SampleFileError
    from profiler.questionnaire import Questionnaire, bundled_questionnaires, load_questionnaire, parse_questionnaire
    from profiler.reports import candidate_report, cohort_report, fairness_report, recruiter_report
    from profiler.simulation import simulate_responses
    from profiler.store import Store, StoreError
    from profiler.store.anchoring import AnchorError
    from profiler.oversight.privacy import ErasureBlockedError
    from profiler.store.records import StoredRecordError
