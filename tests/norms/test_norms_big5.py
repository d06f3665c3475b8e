"""The shipped ipip-bfm-50 norms against BIG5, recomputed here from the raw file with the same row rules.

The recomputation uses only pandas/numpy and the keying of ../shared/data/big5/ipip50_items_en.csv,
never the questionnaire, scoring or norms code.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import profiler
from profiler.norms import bundled_norms, load_norms

PROJECT = Path(__file__).resolve().parents[2]
KEYING = PROJECT.parent / "shared" / "data" / "big5" / "ipip50_items_en.csv"
ITEMS = [f"{d}{i}" for d in "ENACO" for i in range(1, 11)]


def _rows(raw: pd.DataFrame, group: str) -> pd.DataFrame:
    """Row rules: no item answered 0, age at most 100; the US group also needs country US."""
    keep = (raw[ITEMS] != 0).all(axis=1) & (raw["age"] <= 100)
    if group == "us":
        keep &= raw["country"] == "US"
    return raw[keep]


def _scores(rows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Keyed items per scale (reverse keyed: 6 - x), straight from the item CSV."""
    keying = pd.read_csv(KEYING)
    return {
        scale: pd.DataFrame({r.id: rows[r.id] if r.keyed == "+" else 6 - rows[r.id] for r in group.itertuples()})
        for scale, group in keying.groupby("scale", sort=False)
    }


def _alpha(keyed: pd.DataFrame) -> float:
    k = keyed.shape[1]
    return k / (k - 1) * (1 - keyed.var(ddof=1).sum() / keyed.sum(axis=1).var(ddof=1))


def test_shipped_groups():
    assert list(bundled_norms("ipip-bfm-50")) == ["general", "us"]


@pytest.mark.parametrize("group, n", [("general", 19635), ("us", 8732)])
def test_shipped_norms_reproduce_big5(big5_raw, group, n):
    questionnaire = profiler.load_questionnaire("ipip-bfm-50")
    norms = load_norms(questionnaire, group)
    rows = _rows(big5_raw, group)
    assert len(rows) == n == norms.sample.n
    assert norms.sample.rows_read == len(big5_raw) == 19719
    assert norms.questionnaire.content_hash == questionnaire.content_hash
    keyed = _scores(rows)
    assert norms.scale_ids == ["Extraversion", "Neuroticism", "Agreeableness", "Conscientiousness", "Openness"]
    for scale in norms.scales:
        items = keyed[scale.scale]
        raw = items.mean(axis=1)
        assert scale.n == len(raw) == n
        assert scale.mean == pytest.approx(raw.mean(), abs=1e-12)
        assert scale.sd == pytest.approx(raw.std(ddof=1), abs=1e-12)
        assert scale.reliability.value == pytest.approx(_alpha(items), abs=1e-12)
        assert scale.reliability.n == n
        # Counts at each attainable mean 1.0, 1.1, ..., 5.0 (sums 10..50 of ten 1-5 answers).
        sums = items.sum(axis=1).astype(int)
        assert scale.distribution.scores == pytest.approx([s / 10 for s in range(10, 51)], abs=1e-12)
        assert scale.distribution.counts == [int((sums == s).sum()) for s in range(10, 51)]
        assert scale.sem == pytest.approx(raw.std(ddof=1) * np.sqrt(1 - _alpha(items)), abs=1e-12)


def test_row_rules_are_counted(big5_raw):
    items_missed = (big5_raw[ITEMS] == 0).any(axis=1)
    bad_age = ~items_missed & (big5_raw["age"] > 100)
    valid = ~items_missed & ~bad_age
    assert (int(items_missed.sum()), int(bad_age.sum())) == (1, 83)
    general = load_norms("ipip-bfm-50", "general").sample
    assert [(r.rows, r.action) for r in general.rules] == [
        (1, "excluded"), (83, "excluded"), (int((valid & (big5_raw["gender"] == 0)).sum()), "kept"),
    ]  # fmt: skip
    assert general.rules[2].rows == 24 and general.rows_excluded == 84
    us = load_norms("ipip-bfm-50", "us").sample
    not_us = valid & (big5_raw["country"] != "US")
    us_rows = valid & (big5_raw["country"] == "US")
    assert [r.rows for r in us.rules] == [1, 83, int(not_us.sum()), int((us_rows & (big5_raw["gender"] == 0)).sum())]
    assert us.rows_excluded == 84 + int(not_us.sum()) == 10987


def test_no_norm_group_by_protected_attribute():
    for name in bundled_norms("ipip-bfm-50"):
        norms = load_norms("ipip-bfm-50", name)
        text = " ".join(r.rule for r in norms.sample.rules if r.action == "excluded").lower()
        assert not any(word in text for word in ("gender", "sex", "race", "engnat", "english"))
        assert any("within-group norming" in note for note in norms.notes)


def test_tool_regenerates_the_shipped_files(big5_raw):
    spec = importlib.util.spec_from_file_location("build_ipip50_norms", PROJECT / "tools" / "build_ipip50_norms.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    for name, table in tool.build().items():
        shipped = json.loads((PROJECT / "models" / "ipip-bfm-50" / "norms" / f"{name}.json").read_text("utf-8"))
        rebuilt = json.loads(table.to_json())
        # Means and SDs are sums over 19,635 rows: another numpy's summation order moves the last digit (and so
        # the seal), so numbers are compared to float precision and everything else exactly.
        assert _same(shipped, rebuilt, "sha256"), name


def _same(a, b, skip: str) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k], skip) for k in a if k != skip)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(_same(x, y, skip) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return bool(np.isclose(a, b, rtol=1e-12, atol=1e-15))
    return a == b and type(a) is type(b)


def test_big5_respondent_profile_matches_hand_computation(big5_raw):
    questionnaire = profiler.load_questionnaire("ipip-bfm-50")
    norms = load_norms(questionnaire, "general")
    rows = _rows(big5_raw, "general").iloc[:3]
    profiles = profiler.norms.trait_profiles(questionnaire, rows[ITEMS], norms)
    e = _scores(rows)["Extraversion"].mean(axis=1)
    scale = norms.scale("Extraversion")
    z = (e - scale.mean) / scale.sd
    np.testing.assert_allclose(profiles[("Extraversion", "T")], 50 + 10 * z, atol=1e-12)
