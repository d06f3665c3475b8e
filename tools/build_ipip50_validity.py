"""Regenerate the response-validity calibration of ipip-bfm-50 from the BIG5 data (read in place, never copied).

    .venv/bin/python tools/build_ipip50_validity.py           # writes models/ipip-bfm-50/validity-calibration.json
    .venv/bin/python tools/build_ipip50_validity.py --check   # exit 1 if the shipped file differs

Calibration sample: every BIG5 row that answered all 50 items (19,718 of 19,719; one row missed every
item). No row is removed for careless responding: the stored distributions describe real online
respondents, careless ones included, so that a threshold can be read as "flags x % of such a sample".

What is derived (statistics only, never a respondent's answers):

- psychometric synonym and antonym pairs (Meade & Craig, 2012: item pairs with r >= .60 / r <= -.60).
  On these 50 items only 6 pairs reach r >= .60 and none reaches r <= -.60, too few for a
  within-person correlation, so the cutoff is lowered in steps of .05 until at least 10 pairs qualify,
  separately for synonyms and antonyms (see ``derive_validity_calibration``);
- the item means and covariance matrix (Mahalanobis distance);
- each index's distribution in the sample (1001 quantiles), to read values and thresholds as percentiles.
  Longstring is counted in the order the BIG5 respondents saw the items: the codebook says all items were
  on one page in the order "E1, N2, A1, C1, O1, E2, ..." (N2 there is evidently N1: the data have the
  cycle E, N, A, C, O), not the questionnaire's IPIP order E, A, C, N, O.

The file is sealed with its ``sha256`` (of everything else in it), checked whenever it is loaded: edit the
derivation and run this tool again, never the file.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import pandas as pd

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from profiler.administration.validity import derive_validity_calibration  # noqa: E402
from profiler.questionnaire import load_questionnaire  # noqa: E402

QUESTIONNAIRE = "ipip-bfm-50"
BIG5_DIR = PROJECT.parent / "shared" / "data" / "big5"
BIG5_FILE = "big5_openpsychometrics.tsv"
OUT_FILE = PROJECT / "models" / QUESTIONNAIRE / "validity-calibration.json"
VERSION = "1.0.0"
ITEMS = [f"{domain}{i}" for domain in "ENACO" for i in range(1, 11)]
BIG5_ORDER = [f"{domain}{i}" for i in range(1, 11) for domain in "ENACO"]


def read_big5(big5_dir: Path = BIG5_DIR) -> tuple[pd.DataFrame, str]:
    """The 50 item columns of the raw file (0 = missed) and the file's sha256."""
    path = Path(big5_dir) / BIG5_FILE
    data = path.read_bytes()
    raw = pd.read_csv(path, sep="\t", usecols=ITEMS, keep_default_na=False, na_values=[])
    return raw[ITEMS], hashlib.sha256(data).hexdigest()


def build(big5_dir: Path = BIG5_DIR):
    questionnaire = load_questionnaire(QUESTIONNAIRE)
    raw, sha = read_big5(big5_dir)
    complete = raw[(raw != 0).all(axis=1)].astype(float)
    source = (
        f"Open Psychometrics BIG5 data (openpsychometrics.org/_rawdata), file {BIG5_FILE} with {len(raw):,} rows "
        f"(sha256 {sha}): the {len(complete):,} rows that answered all 50 items ({len(raw) - len(complete)} row "
        "with missed items left out; no row removed for careless responding). Self-selected online volunteers, "
        "c. 2012, all items on one page in the order E1, N1, A1, C1, O1, E2, ... The raw data are not "
        "redistributed, only these statistics."
    )
    return derive_validity_calibration(questionnaire, complete, source=source, version=VERSION, order=BIG5_ORDER)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=BIG5_DIR, help=f"folder of {BIG5_FILE} (default: {BIG5_DIR})")
    parser.add_argument("--out", type=Path, default=OUT_FILE, help=f"file to write (default: {OUT_FILE})")
    parser.add_argument("--check", action="store_true", help="compare with --out; write nothing")
    args = parser.parse_args(argv)
    calibration = build(args.data)
    text = calibration.to_json()
    status = 0
    if args.check:
        same = args.out.exists() and args.out.read_text(encoding="utf-8") == text
        print(f"{args.out}: {'up to date' if same else 'DIFFERS'}")
        status = int(not same)
    else:
        calibration.write(args.out)
        print(f"wrote {args.out}, sealed with {calibration.sha256}")
    print(calibration)
    for note in calibration.notes:
        print(f"  note: {note}")
    for kind, counts in calibration.pair_counts.items():
        print(f"  {kind} pairs by cutoff: " + ", ".join(f"{c}: {k}" for c, k in counts.items()))
    return status


if __name__ == "__main__":
    sys.exit(main())
