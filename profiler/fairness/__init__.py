"""The statistics of a fairness audit: adverse impact, pooling, score differences, differential
prediction, item bias (DIF) and measurement invariance.

Demographic data enter profiler only through these functions, as explicit arguments (a Series or
DataFrame of group labels aligned with the outcomes); nothing here reads them from a store. Every result
is a DataFrame or a dataclass with ``to_dict()`` (JSON-ready) so that a report can render it.

- :func:`adverse_impact`, :func:`scoring_impact` -- rates and impact ratios per category (UGESP, NYC LL 144)
  with z, Fisher, CI, shortfall and flip checks (:mod:`.impact`);
- :func:`pooled_impact`, :func:`cochran_mantel_haenszel`, :func:`breslow_day` -- across sites or periods
  (:mod:`.pooled`);
- :func:`standardized_mean_differences` -- Cohen's d with CI per score (:mod:`.distributions`);
- :func:`differential_prediction` -- Cleary model (:mod:`.prediction`);
- :func:`dif` -- Mantel-Haenszel/ETS, Mantel/SMD and ordinal logistic regression DIF (:mod:`.dif`);
  :func:`score_without` scores without flagged items (:mod:`.rescoring`);
- :func:`invariance` -- configural/metric/scalar/strict with partial invariance (:mod:`.invariance`);
- :func:`translation_check` -- language versions compared item by item, the polarity check (:mod:`.translation`);
- :func:`fairness_audit` -- every figure of a job model's audit with the NYC summary (:mod:`.audit`).
"""

from profiler.fairness._input import FairnessInputError
from profiler.fairness.audit import AuditSummary, FairnessAudit, FairnessAuditError, fairness_audit
from profiler.fairness.dif import DIFResult, benjamini_hochberg, dif
from profiler.fairness.distributions import cohens_d, standardized_mean_differences
from profiler.fairness.impact import ImpactResult, adverse_impact, scoring_impact
from profiler.fairness.invariance import InvarianceResult, LoadingSignWarning, invariance
from profiler.fairness.ordinal import OrdinalConvergenceWarning, OrdinalFit, fit_ordinal_logit
from profiler.fairness.pooled import PooledResult, StratifiedTest, breslow_day, cochran_mantel_haenszel, pooled_impact
from profiler.fairness.prediction import DifferentialPrediction, differential_prediction
from profiler.fairness.rescoring import score_without, without_items
from profiler.fairness.translation import TranslationCheck, translation_check

__all__ = [
    "AuditSummary",
    "DIFResult",
    "DifferentialPrediction",
    "FairnessAudit",
    "FairnessAuditError",
    "FairnessInputError",
    "ImpactResult",
    "InvarianceResult",
    "LoadingSignWarning",
    "OrdinalConvergenceWarning",
    "OrdinalFit",
    "PooledResult",
    "StratifiedTest",
    "TranslationCheck",
    "adverse_impact",
    "benjamini_hochberg",
    "breslow_day",
    "cochran_mantel_haenszel",
    "cohens_d",
    "dif",
    "differential_prediction",
    "fairness_audit",
    "fit_ordinal_logit",
    "invariance",
    "pooled_impact",
    "score_without",
    "scoring_impact",
    "standardized_mean_differences",
    "translation_check",
    "without_items",
]
