"""Regenerate models/ipip-bfm-50/factor-model.json from the BIG5 data in ../shared/data/big5.

Usage: .venv/bin/python tools/build_ipip50_factor_model.py [--data PATH] [--out PATH]

Ships derived statistics only (loadings, fit indices, reliabilities, scoring weights), never raw rows.
Rows where any item is 0 (= missed) are excluded listwise and counted in the artifact.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

import profiler
from profiler.factors.calibration import calibrate_questionnaire

PROJECT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = PROJECT.parent / "shared" / "data" / "big5" / "big5_openpsychometrics.tsv"
DEFAULT_OUT = PROJECT / "models" / "ipip-bfm-50" / "factor-model.json"
SOURCE = (
    "BIG5 (Open Psychometrics online IPIP-50, collected c. 2012, 19,719 volunteers worldwide); "
    "rows with any missed item (coded 0) excluded listwise"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    questionnaire = profiler.load_questionnaire("ipip-bfm-50")
    raw = pd.read_csv(args.data, sep="\t", usecols=questionnaire.item_ids)
    answers = raw.replace(0, np.nan)
    model = calibrate_questionnaire(questionnaire, answers, name="big5-2012", source=SOURCE)
    model.write(args.out)
    fit = model.cfa["fit_indices"]
    print(f"wrote {args.out}: n = {model.sample['n']}, excluded {model.sample['rows_excluded']}; "
          f"CFA CFI {fit['cfi']:.3f}, RMSEA {fit['rmsea']:.3f}, SRMR {fit['srmr']:.3f}")
    for scale, values in model.reliability.items():
        print(f"  {scale}: alpha {values['alpha']:.3f}, omega total {values['omega_total']:.3f}, SEM {values['sem']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
