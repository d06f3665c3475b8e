"""Factor models and reliability that agree with R's psych and lavaan.

Exploratory factor analysis (:class:`EFA`), confirmatory factor analysis (:class:`CFA`), the tools that
say how many factors to keep, and reliability coefficients.
"""

from profiler.factors.adequacy import (
    KMO,
    BartlettSphericity,
    ParallelAnalysis,
    VelicerMAP,
    bartlett_sphericity,
    eigenvalues,
    kmo,
    parallel_analysis,
    velicer_map,
)
from profiler.factors.cfa import (
    CFA,
    CFAConvergenceWarning,
    CFADataError,
    CFAWarning,
    InadmissibleSolutionWarning,
    ModelSpecificationError,
)
from profiler.factors._efa_bootstrap import BootstrapLoadings
from profiler.factors.efa import EFA, FitStatistics, HeywoodWarning, fit_statistics
from profiler.factors.extraction import Extraction, extract
from profiler.factors.icc import ICC, RetestReliability, icc, retest_reliability
from profiler.factors.missing import EMMoments, MissingData, MissingDataWarning, em_moments
from profiler.factors.model_syntax import ModelSyntaxError, parse_model
from profiler.factors.omega import Omega, omega
from profiler.factors.ordinal_reliability import OrdinalAlpha, ordinal_alpha
from profiler.factors.polychoric import Polychoric, PolychoricError, polychoric
from profiler.factors.rotation import Rotation, align_factors, rotate, tucker_congruence
from profiler.factors.scores import score_weights
from profiler.factors.reliability import (
    Alpha,
    ScaleAlphas,
    cronbach_alpha,
    item_statistics,
    standard_error_of_measurement,
)

__all__: list[str] = [
    # exploratory factor analysis
    "BootstrapLoadings",
    "EFA",
    "Extraction",
    "FitStatistics",
    "HeywoodWarning",
    "Rotation",
    "align_factors",
    "extract",
    "fit_statistics",
    "rotate",
    "score_weights",
    "tucker_congruence",
    # missing responses
    "EMMoments",
    "MissingData",
    "MissingDataWarning",
    "em_moments",
    # confirmatory factor analysis
    "CFA",
    "CFAConvergenceWarning",
    "CFADataError",
    "CFAWarning",
    "InadmissibleSolutionWarning",
    "ModelSpecificationError",
    "ModelSyntaxError",
    "parse_model",
    # ordinal data
    "Polychoric",
    "PolychoricError",
    "polychoric",
    # how many factors, and whether to factor at all
    "KMO",
    "BartlettSphericity",
    "ParallelAnalysis",
    "VelicerMAP",
    "bartlett_sphericity",
    "eigenvalues",
    "kmo",
    "parallel_analysis",
    "velicer_map",
    # reliability
    "Alpha",
    "ICC",
    "Omega",
    "OrdinalAlpha",
    "RetestReliability",
    "ScaleAlphas",
    "cronbach_alpha",
    "icc",
    "item_statistics",
    "omega",
    "ordinal_alpha",
    "retest_reliability",
    "standard_error_of_measurement",
]
