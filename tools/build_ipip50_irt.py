"""Regenerate models/ipip-bfm-50/irt/<scale>.json (GRM per IPIP-50 scale) from the BIG5 data in ../shared/data/big5.

Usage: .venv/bin/python tools/build_ipip50_irt.py [--data PATH] [--out DIR]

Ships derived statistics only (item parameters, standard errors, fit), never raw rows. A 0 in the data
means the item was missed: it is a missing answer, left out of the likelihood (nothing is imputed).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

import profiler
from profiler.irt.calibration import calibrate_irt, write_calibrations

PROJECT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = PROJECT.parent / "shared" / "data" / "big5" / "big5_openpsychometrics.tsv"
DEFAULT_OUT = PROJECT / "models" / "ipip-bfm-50" / "irt"
SOURCE = (
    "BIG5 (Open Psychometrics online IPIP-50, collected c. 2012, 19,719 volunteers worldwide); "
    "missed items (coded 0) are missing answers, kept out of the likelihood"
)


def build(data: Path = DEFAULT_DATA) -> dict[str, profiler.irt.calibration.IRTCalibration]:
    questionnaire = profiler.load_questionnaire("ipip-bfm-50")
    raw = pd.read_csv(data, sep="\t", usecols=questionnaire.item_ids)
    return calibrate_irt(questionnaire, raw.replace(0, np.nan), name="big5-2012", source=SOURCE)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    calibrations = build(args.data)
    for path in write_calibrations(calibrations, args.out):
        print(f"wrote {path}")
    for scale, c in calibrations.items():
        m2 = c.fit["m2"]
        print(f"  {scale}: n = {c.sample['n']}, {c.estimation['n_iter']} EM cycles; {m2['statistic']} {m2['value']:.1f} "
              f"on {m2['df']} df, RMSEA {m2['RMSEA']:.3f}, CFI {m2.get('CFI', float('nan')):.3f}; marginal "
              f"reliability {c.fit['marginal_reliability']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
