"""Run the fairness statistics of profiler.fairness on all of the BIG5 data and print the figures of docs/fairness.md.

    .venv/bin/python tools/big5_fairness_analysis.py [--data PATH] [--json OUT.json] [--no-invariance]

The data (Open Psychometrics BIG5, 19,719 respondents, IPIP-50 on 1-5, 0 = missed) are read in place from
../shared/data/big5 and never copied into the project. Groups: sex (gender 1 male, 2 female, 3 other,
0 missing) and native English speaker (engnat 1 yes, 2 no, 0 missing); race (codebook codes) for the
intersections of the scoring-rate table.

The job-model score is *illustrative*: the trait part of the bundled ``customer-support`` job model
(its trait criteria with their utility transforms, weights renormalized to the trait criteria). The real
model also needs a work sample and an interview, which BIG5 does not have; no criterion data exist either,
so differential prediction is not run here.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import profiler
from profiler.fairness import (
    dif,
    invariance,
    pooled_impact,
    scoring_impact,
    standardized_mean_differences,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "big5" / "big5_openpsychometrics.tsv"
SEX = {1: "male", 2: "female", 3: "other"}
NATIVE = {1: "native", 2: "non-native"}
RACE = {1: "Mixed", 2: "Arctic", 3: "Caucasian (European)", 4: "Caucasian (Indian)", 5: "Caucasian (Middle East)",
        6: "Caucasian (N. African, other)", 7: "Indigenous Australian", 8: "Native American",
        9: "North East Asian", 10: "Pacific", 11: "South East Asian", 12: "West African", 13: "Other"}


def load(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = pd.read_csv(path, sep="\t")
    q = profiler.load_questionnaire("ipip-bfm-50")
    responses = raw[q.item_ids].replace(0, np.nan).astype(float)
    groups = pd.DataFrame({
        "sex": raw["gender"].map(SEX),
        "race": raw["race"].map(RACE),
        "native": raw["engnat"].map(NATIVE),
        "country": raw["country"].where(raw["country"].notna() & (raw["country"] != "(nu"), None),
    }, index=raw.index)
    return responses, groups


def job_score(scores: pd.DataFrame) -> pd.Series:
    """Trait part of the customer-support job model on a 0-100 scale (illustrative, see the module doc)."""
    model = profiler.load_job_model("customer-support")
    parts, weights = [], []
    for c in model.criteria:
        if not c.input.startswith("trait."):
            continue
        x = scores[c.input.split(".", 1)[1]].to_numpy()
        t = c.transform
        if t.kind == "linear":
            u = np.clip((x - t.at_zero) / (t.at_one - t.at_zero), 0, 1)
        elif t.kind == "target_range":
            distance = np.maximum(t.low - x, 0) + np.maximum(x - t.high, 0)
            u = np.clip(1 - distance / t.tolerance, 0, 1)
        else:
            raise ValueError(f"transform {t.kind!r} not handled by this illustration")
        parts.append(u * c.weight)
        weights.append(c.weight)
    return pd.Series(100 * np.sum(parts, axis=0) / np.sum(weights), index=scores.index, name="job_score")


def md_table(frame: pd.DataFrame, floatfmt: str = ".3f") -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in frame.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            if isinstance(v, (float, np.floating)):
                cells.append("" if np.isnan(v) else format(v, floatfmt))
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def section(title: str) -> None:
    print(f"\n## {title}\n")


def impact_section(scores: pd.DataFrame, groups: pd.DataFrame, out: dict) -> None:
    section("Scoring rates and impact ratios (share strictly above the whole sample's median)")
    result = scoring_impact(scores, groups[["sex", "race"]])
    out["scoring_impact_sex_race"] = result.to_dict()
    print(md_table(result.outcomes.assign(n_missing=result.outcomes.n_missing.astype(int))))
    t = result.table
    sex = t[t.attribute == "sex"][["outcome", "category", "n", "rate", "in_ratio", "impact_ratio", "ratio_ci_lower",
                                   "ratio_ci_upper", "four_fifths_flag", "z", "fisher_p", "shortfall"]]
    print("\nBy sex:\n")
    print(md_table(sex, ".3g"))
    print("\nUnknown category:", result.unknown.drop_duplicates("attribute").to_dict(orient="records"))
    flagged = t[t.four_fifths_flag][["outcome", "attribute", "category", "n", "rate", "impact_ratio", "z", "fisher_p",
                                     "flip_four_fifths", "notes"]]
    print(f"\nFour-fifths flags (categories with >= 2% of the known data; {len(flagged)} rows):\n")
    print(md_table(flagged, ".3g"))
    print("\nSmallest impact ratio per score and attribute:\n")
    print(md_table(result.minimum_ratio().reset_index(), ".3f"))

    native = scoring_impact(scores, groups["native"], intersections=False)
    out["scoring_impact_native"] = native.to_dict()
    nt = native.table[["outcome", "category", "n", "rate", "impact_ratio", "ratio_ci_lower", "ratio_ci_upper",
                       "four_fifths_flag", "z", "fisher_p"]]
    print("\nBy native English speaker:\n")
    print(md_table(nt, ".3g"))
    print("\nUnknown:", native.unknown.iloc[0].n_unknown)
    counts = {"sex": groups.sex.value_counts(dropna=False).to_dict(),
              "native": groups.native.value_counts(dropna=False).to_dict()}
    print("\nGroup sizes:", counts)


def pooled_section(scores: pd.DataFrame, groups: pd.DataFrame, out: dict) -> None:
    section("Pooled across the five largest countries (job score above median, female vs male)")
    above = (scores["job_score"] > scores["job_score"].median()).astype(int)
    top = groups.country.value_counts().index[:5]
    country = groups.country.where(groups.country.isin(top))
    keep = country.notna() & groups.sex.isin(["male", "female"])
    result = pooled_impact(above[keep], groups.sex[keep], country[keep], focal="female", reference="male")
    out["pooled_countries"] = result.to_dict()
    print(md_table(result.strata, ".3g"))
    p = result.pooled
    print(f"\nBreslow-Day (Tarone) chi2 = {result.homogeneity['chi2']:.2f}, df = {result.homogeneity['df']}, "
          f"p = {result.homogeneity['p']:.3g}")
    print(f"CMH chi2 = {p.cmh_chi2:.2f}, p = {p.cmh_p:.3g}; MH odds ratio {p.odds_ratio:.3f} "
          f"[{p.odds_ratio_ci[0]:.3f}, {p.odds_ratio_ci[1]:.3f}]; MH rate ratio {p.rate_ratio:.3f} "
          f"[{p.rate_ratio_ci[0]:.3f}, {p.rate_ratio_ci[1]:.3f}]")
    for note in result.notes:
        print("Note:", note)


def smd_section(scores: pd.DataFrame, groups: pd.DataFrame, out: dict) -> None:
    section("Standardized mean differences (Cohen's d, focal - reference, 95% CI)")
    sex = standardized_mean_differences(scores, groups.sex, reference="male", focal=["female", "other"])
    native = standardized_mean_differences(scores, groups.native, reference="native", focal="non-native")
    both = pd.concat([sex, native], ignore_index=True)
    out["smd"] = both.to_dict(orient="records")
    print(md_table(both[["score", "focal", "reference", "n_focal", "n_reference", "mean_focal", "mean_reference",
                         "d", "ci_lower", "ci_upper"]]))


def dif_section(responses: pd.DataFrame, groups: pd.DataFrame, out: dict, name: str, focal, reference) -> None:
    q = profiler.load_questionnaire("ipip-bfm-50")
    start = time.perf_counter()
    result = dif(responses, q, groups[name], focal=focal, reference=reference)
    took = time.perf_counter() - start
    out[f"dif_{name}"] = result.to_dict()
    section(f"DIF by {name}: {focal} (focal) vs {reference} (reference), {len(result.items)} items, {took:.1f} s")
    items = result.items
    print(f"- matching: {result.matching}; purification rounds (flagged each round): {result.purification['rounds']}")
    for scale, anchors in result.anchors.items():
        print(f"- anchors of {scale}: {', '.join(anchors)}")
    for column in ("ets_class", "ets_poly_class", "zumbo_thomas_class", "jodoin_gierl_class", "nonuniform_class"):
        print(f"- {column}: {items[column].value_counts().sort_index().to_dict()}")
    flagged = items[(items.ets_class != "A") | (items.ets_poly_class != "AA") | (items.jodoin_gierl_class != "A")
                    | (items.nonuniform_class != "A")]
    print()
    print(md_table(flagged[["item", "text", "keyed", "mh_d", "ets_class", "smd", "smd_effect", "ets_poly_class",
                            "lr_chi2_uniform", "lr_chi2_nonuniform", "r2_change", "r2_change_nonuniform",
                            "jodoin_gierl_class", "nonuniform_class", "dif_type"]], ".3f"))
    print(f"\nItems to exclude by the default rule (C by ETS MH, CC by Mantel/SMD or C non-uniform): "
          f"{result.flagged('C')}")
    print(f"Items at B or worse by the default methods: {result.flagged('B')}; by any method: "
          f"{result.flagged('B', methods=('mh', 'mantel', 'nonuniform', 'zumbo_thomas', 'jodoin_gierl'))}")
    print("\nEffect of the flagged items on the focal group's scale scores (raw units):\n")
    print(md_table(result.effect_summary, ".3f"))
    significant = int((items.lr_p_adj < 0.05).sum())
    print(f"Items with a significant 2-df LR test after Benjamini-Hochberg: {significant} of {len(items)}")
    print(f"Non-converged ordinal fits: {int((~items.converged).sum())}")


def invariance_section(responses: pd.DataFrame, groups: pd.DataFrame, out: dict, name: str, keep) -> None:
    q = profiler.load_questionnaire("ipip-bfm-50")
    rows = groups[name].isin(keep)
    start = time.perf_counter()
    result = invariance(responses[rows], q, groups.loc[rows, name])
    took = time.perf_counter() - start
    out[f"invariance_{name}"] = result.to_dict()
    section(f"Measurement invariance by {name} ({', '.join(f'{k} {v}' for k, v in result.group_sizes.items())}; "
            f"{result.n_rows_dropped} incomplete rows dropped; {took:.0f} s)")
    steps = result.steps.copy()
    steps["freed"] = steps["freed"].apply(lambda f: ", ".join(f))
    print(md_table(steps[["step", "chisq", "df", "cfi", "rmsea", "srmr", "delta_chisq", "delta_df", "delta_cfi",
                          "delta_rmsea", "delta_srmr", "verdict", "freed"]], ".4f"))
    print("\nEach step with all of its constraints (before releases):\n")
    print(md_table(steps[["step", "full_chisq", "full_df", "full_cfi", "full_rmsea", "full_srmr", "full_delta_cfi"]]
                   .iloc[1:], ".4f"))
    if not result.freed.empty:
        print("\nReleased constraints:\n")
        print(md_table(result.freed, ".4f"))
    for note in result.notes:
        print("Note:", note)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--json", type=Path, help="also write every result as JSON here (outside the project)")
    parser.add_argument("--no-invariance", action="store_true", help="skip the (slower) invariance models")
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"BIG5 data not found at {args.data}", file=sys.stderr)
        return 1
    responses, groups = load(args.data)
    q = profiler.load_questionnaire("ipip-bfm-50")
    scores = q.score(responses, invalid="missing")
    scores["job_score"] = job_score(scores)
    print(f"# BIG5 fairness analysis: {len(responses)} respondents, profiler {profiler.__version__}")
    out: dict = {"n": len(responses)}
    impact_section(scores, groups, out)
    pooled_section(scores, groups, out)
    smd_section(scores, groups, out)
    dif_section(responses, groups, out, "sex", "female", "male")
    dif_section(responses, groups, out, "native", "non-native", "native")
    if not args.no_invariance:
        invariance_section(responses, groups, out, "sex", ["male", "female"])
        invariance_section(responses, groups, out, "native", ["native", "non-native"])
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
