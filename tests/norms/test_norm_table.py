"""The norm table artifact (round trip, sha256, format), loading by name, and build_norms by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import profiler
from profiler.norms import (
    NORMS_FORMAT,
    NormsError,
    NormsMismatchError,
    NormTable,
    RowRule,
    attainable_scores,
    build_norms,
    bundled_norms,
    load_norms,
)

MINI = Path(__file__).parents[1] / "fixtures" / "questionnaires" / "mini.yaml"
PROVENANCE = dict(
    version="0.1", title="t", population="p", collected="c", sampling="s", source="this test"
)  # fmt: skip


@pytest.fixture(scope="module")
def general() -> NormTable:
    return load_norms("ipip-bfm-50", "general")


def test_round_trip_is_identical(general, tmp_path):
    text = general.to_json()
    again = NormTable.from_json(text)
    assert again == general
    assert again.to_json() == text
    path = general.write(tmp_path / "sub" / "general.json")
    assert NormTable.read(path) == general
    assert path.read_text(encoding="utf-8") == text
    assert path.read_bytes() == bundled_norms("ipip-bfm-50")["general"].read_bytes()
    # Derived lookups (cached) do not change equality.
    general.scale("Openness").empirical_percentile(3.0)
    assert NormTable.from_json(text) == general


def test_sha256_is_of_the_content(general):
    data = json.loads(general.to_json())
    del data["sha256"]
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    import hashlib

    assert general.sha256 == "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    assert general.identity() == {"norm_group": "general", "norm_version": "1.0.0", "norms_sha256": general.sha256}


def test_edited_file_is_refused(general):
    data = json.loads(general.to_json())
    data["scales"][0]["mean"] = 3.5
    with pytest.raises(NormsError, match="sha256 does not match the content"):
        NormTable.from_json(json.dumps(data), source="edited.json")


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.update(format="profiler.norms/2"), "format 'profiler.norms/2' is not a norm table format"),
        (lambda d: d["scales"][0].pop("mean"), r"scales\.0\.mean: Field required"),
        (lambda d: d["scales"][0].update(sd=-1), r"scales\.0\.sd: Input should be greater than 0"),
        (lambda d: d["scales"][0]["distribution"]["counts"].pop(), "41 scores but 40 counts"),
        (lambda d: d["sample"].update(n=5), "row counts do not add up"),
        (lambda d: d.update(extra=1), "extra: Extra inputs are not permitted"),
    ],
)
def test_malformed_tables_are_refused(general, mutate, message):
    data = json.loads(general.to_json())
    mutate(data)
    with pytest.raises(NormsError, match=message):
        NormTable.from_json(json.dumps(data), source="bad.json")


def test_not_json_is_refused(tmp_path):
    with pytest.raises(NormsError, match="bad.json: not a JSON norm table"):
        NormTable.from_json("{oops", source="bad.json")
    with pytest.raises(NormsError, match="a norm table is a JSON object"):
        NormTable.from_json("[]")
    with pytest.raises(NormsError, match="cannot read norm table"):
        NormTable.read(tmp_path / "absent.json")


def test_load_by_name_and_by_path(general, tmp_path):
    q = profiler.load_questionnaire("ipip-bfm-50")
    assert load_norms(q, "general") == general
    assert load_norms(q, "us").name == "us"
    path = general.write(tmp_path / "mine.json")
    assert load_norms(q, path) == general
    assert load_norms("ipip-bfm-50", str(path)) == general
    with pytest.raises(NormsError, match=r"no norm group 'genral' .*\(did you mean 'general'\?\); shipped: general"):
        load_norms(q, "genral")
    with pytest.raises(NormsError, match="shipped: none"):
        load_norms("team-climate-mini", "general")
    with pytest.raises(NormsMismatchError, match="is for questionnaire 'ipip-bfm-50', not 'team-climate-mini'"):
        load_norms("team-climate-mini", path)
    with pytest.raises(NormsMismatchError, match="is for questionnaire 'ipip-bfm-50', not 'team-climate-mini'"):
        load_norms(profiler.load_questionnaire(MINI), path)


def test_wrong_content_hash_is_refused():
    text = profiler.bundled_questionnaires()["ipip-bfm-50"].read_text(encoding="utf-8")
    changed = profiler.parse_questionnaire(text.replace("keys: [E1, -E2, E3", "keys: [E1, E2, E3"))
    with pytest.raises(NormsMismatchError) as info:
        load_norms(changed, "general")
    message = str(info.value)
    assert "built for ipip-bfm-50 1.0.0 with content hash sha256:" in message
    assert changed.content_hash in message and "do not apply" in message


# build_norms on the mini questionnaire, by hand ------------------------------------------------------
@pytest.fixture(scope="module")
def mini():
    return profiler.load_questionnaire(MINI)


@pytest.fixture(scope="module")
def mini_answers() -> pd.DataFrame:
    rows = [
        dict(S1=5, S2=1, S3=4, T1=4, T2=2, T3=3, ATT1=4, TEN=3),
        dict(S1=3, S2=3, S3=3, T1=3, T2=3, T3=np.nan, ATT1=4, TEN=10),
        dict(S1=2, S2=4, S3=1, T1=2, T2=5, T3=1, ATT1=4, TEN=1),
        dict(S1=4, S2=2, S3=5, T1=5, T2=1, T3=5, ATT1=4, TEN=20),
    ]
    return pd.DataFrame(rows)


def _alpha(x: np.ndarray) -> float:
    k = x.shape[1]
    return k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))


def test_build_norms_by_hand(mini, mini_answers):
    rules = [RowRule(rule="made up", rows=2, action="excluded")]
    # Four people: the table is built, and said to be far too small (the scales' alphas are high enough).
    with pytest.warns(profiler.NormSampleWarning) as caught:
        table = build_norms(
            mini, mini_answers, name="mini", scales=["Voice", "Trust", "Climate"], rows_read=6, rules=rules,
            descriptives={"age_median": 30}, notes=["a note"], **PROVENANCE,
        )  # fmt: skip
    assert [str(w.message) for w in caught] == [
        "norm table 'mini': n = 4, below the minimum of 200 (EFPA Test Review Model: inadequate for norm-referenced "
        "interpretation). profiler norms build refuses a sample under the minimum unless forced, and marks the table"]
    assert table.format == NORMS_FORMAT
    assert table.questionnaire.model_dump() == mini.identity()
    assert (table.sample.rows_read, table.sample.rows_excluded, table.sample.n) == (6, 2, 4)
    assert table.scale_ids == ["Voice", "Trust", "Climate"]
    # Voice: S1, 6 - S2, S3 -> 14/3, 3, 5/3, 13/3.
    voice_items = np.array([[5, 5, 4], [3, 3, 3], [2, 2, 1], [4, 4, 5]], dtype=float)
    voice = voice_items.mean(axis=1)
    v = table.scale("Voice")
    assert v.n == 4
    assert (v.mean, v.sd) == (pytest.approx(voice.mean(), abs=1e-12), pytest.approx(voice.std(ddof=1), abs=1e-12))
    assert v.reliability.value == pytest.approx(_alpha(voice_items), abs=1e-12)
    assert v.reliability.n == 4
    assert v.distribution.scores == pytest.approx([s / 3 for s in range(3, 16)], abs=1e-9)
    expected = [0] * 13
    for total in (14, 9, 5, 13):
        expected[total - 3] += 1
    assert v.distribution.counts == expected
    # Trust: respondent 2 skipped T3 -> prorated 3.0, in n/mean/SD but not in alpha or the distribution.
    trust_items = np.array([[4, 4, 3], [2, 1, 1], [5, 5, 5]], dtype=float)
    trust = np.array([11 / 3, 3.0, 4 / 3, 5.0])
    t = table.scale("Trust")
    assert (t.n, t.reliability.n, t.distribution.n) == (4, 3, 3)
    assert t.mean == pytest.approx(trust.mean(), abs=1e-12)
    assert t.reliability.value == pytest.approx(_alpha(trust_items), abs=1e-12)
    # Climate is a sum of 6 items (attainable sums 6..30) and needs all 6: respondent 2 has no score.
    c = table.scale("Climate")
    assert c.distribution.scores == list(map(float, range(6, 31)))
    assert (c.n, c.distribution.n) == (3, 3)
    assert c.mean == pytest.approx(np.mean([14 + 11, 5 + 4, 13 + 15]), abs=1e-12)
    assert table.notes == ["a note"] and table.sample.descriptives == {"age_median": 30}


def test_build_norms_refuses_what_it_cannot_do(mini, mini_answers):
    with pytest.raises(ValueError, match="scale 'Tenure' has one item"):
        build_norms(mini, mini_answers, name="mini", **PROVENANCE)
    with pytest.raises(KeyError, match="no scale 'Vocie'"):
        build_norms(mini, mini_answers, name="mini", scales=["Vocie"], **PROVENANCE)
    with pytest.raises(ValueError, match="row counts do not add up"):
        build_norms(mini, mini_answers, name="mini", scales=["Voice"], rows_read=10, **PROVENANCE)
    with pytest.raises(ValueError, match="String should match pattern"):
        build_norms(mini, mini_answers, name="Mini Norms", scales=["Voice"], **PROVENANCE)
    with pytest.raises(profiler.ResponseError):
        build_norms(mini, mini_answers.assign(S1=9), name="mini", scales=["Voice"], **PROVENANCE)


def test_attainable_scores(mini):
    assert attainable_scores(mini, "Voice").tolist() == pytest.approx([s / 3 for s in range(3, 16)])
    assert attainable_scores(mini, "Climate").tolist() == list(map(float, range(6, 31)))
    assert attainable_scores(mini, "Tenure") is None  # a number from a range: no finite set


def test_build_norms_says_when_alpha_is_low(mini):
    """The complaint of issue 12: n = 12 and alpha .40 were accepted without a word."""
    answers = profiler.simulate_responses(mini, 12, seed=0, loading=0.4)  # alphas .59 and .27
    with pytest.warns(profiler.NormSampleWarning) as caught:
        table = build_norms(mini, answers, name="tiny", scales=["Voice", "Trust"], **PROVENANCE)
    alphas = {s: table.scale(s).reliability.value for s in ("Voice", "Trust")}
    low = ", ".join(f"{s} {a:.2f}" for s, a in alphas.items() if a < 0.70)
    assert low and str(caught[0].message).startswith(
        f"norm table 'tiny': n = 12, below the minimum of 200 (EFPA Test Review Model: inadequate for "
        f"norm-referenced interpretation); alpha below 0.70 for {low} (large measurement error).")
