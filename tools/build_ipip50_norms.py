"""Regenerate the shipped norms of ipip-bfm-50 from the BIG5 data (read in place, never copied).

    .venv/bin/python tools/build_ipip50_norms.py            # writes models/ipip-bfm-50/norms/*.json
    .venv/bin/python tools/build_ipip50_norms.py --check    # exit 1 if the shipped files differ

Two norm groups, both of all respondents who pass the row rules (no group is defined by a protected
attribute such as sex or race: within-group norming is unlawful in US hiring, Civil Rights Act 1991 §106):

- ``general``: every valid row (online volunteers worldwide);
- ``us``: the valid rows whose technical location (country from the IP address) is the US.

Row rules, applied in order (a row is counted under the first rule it fails):

1. any item answered 0 (= missed): excluded — a norm sample of complete answers gives every scale the
   same respondents and an exact empirical distribution;
2. age above 100 (the data's impossible ages: birth years typed as ages, and 999999999): excluded —
   the row cannot be placed in the population the norms describe;
3. (``us`` only) country other than ``US``, or unknown: excluded;
4. gender 0 (not given): kept and counted — gender is never used to build or choose norms.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np
import pandas as pd

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from profiler.norms import NormTable, RowRule, build_norms  # noqa: E402
from profiler.questionnaire import load_questionnaire  # noqa: E402

QUESTIONNAIRE = "ipip-bfm-50"
BIG5_DIR = PROJECT.parent / "shared" / "data" / "big5"
BIG5_FILE = "big5_openpsychometrics.tsv"
OUT_DIR = PROJECT / "models" / QUESTIONNAIRE / "norms"
VERSION = "1.0.0"
ITEMS = [f"{domain}{i}" for domain in "ENACO" for i in range(1, 11)]
MAX_AGE = 100
UNKNOWN_LOCATIONS = ("", "(nu", "A1", "A2", "AP", "EU")  # no country: null, proxies, satellite, regions

COLLECTED = "c. 2012 (the source gives the year only)"
SAMPLING = (
    "Self-selected online volunteers: visitors of openpsychometrics.org who took the IPIP Big-Five Factor "
    "Markers, confirmed that their answers were accurate and could be used for research (others were not "
    "recorded); people reporting an age under 13 were not recorded. Country is the technical location (from "
    "the IP address), not self-reported. Not a probability sample, and not a sample of job applicants."
)
NOTES = [
    "Raw scores are means of the 10 keyed items of each scale (1-5; reverse-keyed items scored 6 - x).",
    "Norm groups are never formed by sex, race, colour, religion or national origin: adjusting scores or "
    "using different cutoffs by such groups (within-group norming) is unlawful in US employment decisions "
    "(Civil Rights Act of 1991, section 106; 42 U.S.C. 2000e-2(l)). Choose one norm group for an assessment "
    "and apply it to every candidate.",
    "Volunteers taking an online test for their own interest are not applicants: applicants tend to describe "
    "themselves more favourably, so applicant scores may run above these norms.",
]


def read_big5(big5_dir: Path = BIG5_DIR) -> tuple[pd.DataFrame, str]:
    """The raw rows (country codes kept as text: 'NA' is Namibia) and the file's sha256."""
    path = Path(big5_dir) / BIG5_FILE
    data = path.read_bytes()
    raw = pd.read_csv(path, sep="\t", keep_default_na=False, na_values=[], dtype={"country": str})
    return raw, hashlib.sha256(data).hexdigest()


def _apply(raw: pd.DataFrame, rules: list[tuple[str, pd.Series, str, str | None]]):
    """Apply rules in order; return the kept rows and the RowRules with sequential counts."""
    remaining = pd.Series(True, index=raw.index)
    counted = []
    for text, fails, action, note in rules:
        hit = remaining & fails
        counted.append(RowRule(rule=text, rows=int(hit.sum()), action=action, note=note))
        if action == "excluded":
            remaining &= ~fails
    return raw[remaining], counted


def norm_samples(raw: pd.DataFrame) -> dict[str, tuple[pd.DataFrame, list[RowRule]]]:
    """The rows of each norm group and the rules that cut them from the raw data."""
    missed = (raw[ITEMS] == 0).any(axis=1)
    bad_age = raw["age"] > MAX_AGE
    not_us = raw["country"] != "US"
    no_gender = raw["gender"] == 0
    common = [
        ("any item answered 0 (missed)", missed, "excluded", "a norm sample of complete answers"),
        (f"age above {MAX_AGE} (impossible: birth years typed as ages, and 999999999)", bad_age, "excluded", None),
    ]
    gender = ("gender 0 (not given)", no_gender, "kept", "gender is never used to build or choose norms")
    unknown = int((raw["country"].isin(UNKNOWN_LOCATIONS)).sum())
    codes = ", ".join(map(repr, UNKNOWN_LOCATIONS))
    return {
        "general": _apply(raw, [*common, gender]),
        "us": _apply(
            raw,
            [
                *common,
                ("country other than US, or unknown", not_us, "excluded",
                 f"{unknown} rows of the whole file have no usable country ({codes})"),
                gender,
            ],
        ),  # fmt: skip
    }


def _descriptives(rows: pd.DataFrame) -> dict[str, float | int | str]:
    age = rows["age"]
    gender = rows["gender"]
    countries = rows["country"].value_counts(normalize=True).head(5)
    facts: dict[str, float | int | str] = {
        "age_min": int(age.min()),
        "age_q1": float(age.quantile(0.25)),
        "age_median": float(age.median()),
        "age_q3": float(age.quantile(0.75)),
        "age_max": int(age.max()),
        "share_women": round(float((gender == 2).mean()), 4),
        "share_men": round(float((gender == 1).mean()), 4),
        "share_gender_other": round(float((gender == 3).mean()), 4),
        "share_english_native": round(float((rows["engnat"] == 1).mean()), 4),
    }
    for code, share in countries.items():
        facts[f"share_country_{code or 'unknown'}"] = round(float(share), 4)
    return facts


def _population(kind: str, rows: pd.DataFrame) -> str:
    f = _descriptives(rows)
    top = ", ".join(
        f"{k.removeprefix('share_country_')} {v:.0%}" for k, v in f.items() if k.startswith("share_country_")
    )
    where = "worldwide, mostly from English-speaking countries" if kind == "general" else "located in the US"
    return (
        f"People aged {f['age_min']}-{f['age_max']} (median {f['age_median']:g}, middle half "
        f"{f['age_q1']:g}-{f['age_q3']:g}) who took the IPIP-50 online for their own interest, {where}"
        + (f" ({top})" if kind == "general" else "")
        + f"; {f['share_women']:.0%} women, {f['share_men']:.0%} men, {f['share_gender_other']:.1%} other; "
        f"{f['share_english_native']:.0%} native English speakers."
    )


TITLES = {
    "general": "BIG5 general sample: online volunteers worldwide, c. 2012",
    "us": "BIG5 US sample: online volunteers located in the US, c. 2012",
}


def build(big5_dir: Path = BIG5_DIR) -> dict[str, NormTable]:
    questionnaire = load_questionnaire(QUESTIONNAIRE)
    raw, sha = read_big5(big5_dir)
    source = (
        f"Open Psychometrics BIG5 data (openpsychometrics.org/_rawdata), file {BIG5_FILE} with {len(raw):,} rows "
        f"(sha256 {sha}); the raw data are not redistributed, only these statistics"
    )
    tables = {}
    for name, (rows, rules) in norm_samples(raw).items():
        tables[name] = build_norms(
            questionnaire,
            rows[ITEMS].astype(float),
            name=name,
            version=VERSION,
            title=TITLES[name],
            population=_population(name, rows),
            collected=COLLECTED,
            sampling=SAMPLING,
            source=source,
            rows_read=len(raw),
            rules=rules,
            descriptives=_descriptives(rows),
            notes=NOTES,
        )
    return tables


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=BIG5_DIR, help=f"folder of {BIG5_FILE} (default: {BIG5_DIR})")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help=f"where to write (default: {OUT_DIR})")
    parser.add_argument("--check", action="store_true", help="compare with the files in --out; write nothing")
    args = parser.parse_args(argv)
    tables = build(args.data)
    status = 0
    for name, table in tables.items():
        path = args.out / f"{name}.json"
        if args.check:
            same = path.exists() and path.read_text(encoding="utf-8") == table.to_json()
            print(f"{path}: {'up to date' if same else 'DIFFERS'}")
            status |= not same
        else:
            table.write(path)
            print(f"wrote {path} ({table.sha256})")
        print(table)
        for rule in table.sample.rules:
            print(f"  {rule.action:>8} {rule.rows:>6,}  {rule.rule}")
    return int(status)


if __name__ == "__main__":
    np.seterr(all="raise")
    raise SystemExit(main())
