"""Item response theory: GRM, GPCM and 2PL calibration that agrees with R's mirt, scoring, fit and DIF.

The domain package knows questionnaires and artifacts, nothing above them.
"""

from profiler.irt._data import IRTDataError
from profiler.irt.bank import ItemBank
from profiler.irt.calibration import (
    IRTCalibration,
    IRTCalibrationError,
    calibrate_irt,
    load_irt_calibration,
    load_irt_calibrations,
)
from profiler.irt.models import GPCM, GRM, TwoPL
from profiler.irt.multigroup import DIFResult, MultiGroupGRM
from profiler.irt.scoring import (
    eap_sum_table,
    empirical_reliability,
    marginal_reliability,
    score_codes,
    score_responses,
    theta_eap,
    theta_map,
    theta_ml,
)

__all__ = [
    "GRM",
    "GPCM",
    "TwoPL",
    "MultiGroupGRM",
    "DIFResult",
    "ItemBank",
    "IRTDataError",
    "IRTCalibration",
    "IRTCalibrationError",
    "calibrate_irt",
    "load_irt_calibration",
    "load_irt_calibrations",
    "eap_sum_table",
    "empirical_reliability",
    "marginal_reliability",
    "score_codes",
    "score_responses",
    "theta_eap",
    "theta_map",
    "theta_ml",
]
