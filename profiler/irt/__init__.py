"""Item response theory: GRM, GPCM and 2PL calibration that agrees with R's mirt, scoring, fit and DIF.

The domain package knows questionnaires and artifacts, nothing above them.
"""

from profiler.irt._data import IRTDataError
from profiler.irt.bank import ItemBank
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
    "eap_sum_table",
    "empirical_reliability",
    "marginal_reliability",
    "score_codes",
    "score_responses",
    "theta_eap",
    "theta_map",
    "theta_ml",
]
