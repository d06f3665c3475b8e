"""Model fit against mirt 1.47: C2/M2*/M2 with RMSEA, SRMSR, TLI, CFI; S-X2; LD X2 and Q3; S-X2 with missing answers."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from profiler.irt import GRM, ItemBank, TwoPL
from profiler.irt.fit import _observed_and_expected, ld_x2, s_x2
from profiler.irt.scoring import grid

TOL = 1e-3
M2_KEYS = {"M2": "value", "df": "df", "RMSEA": "RMSEA", "RMSEA_5": "RMSEA_5", "RMSEA_95": "RMSEA_95",
           "SRMSR": "SRMSR", "TLI": "TLI", "CFI": "CFI"}


@pytest.fixture(scope="module")
def fitted(bfi_all, tools):
    return {case: GRM(se=None).fit(tools.case_data(bfi_all, case)) for case in ("grm_N", "grm_A")}


@pytest.fixture(scope="module")
def twopl(bfi_all, tools):
    return TwoPL(se=None).fit((tools.case_data(bfi_all, "grm_N") >= 4).astype(int))


@pytest.fixture(scope="module")
def big5_extraversion(big5_raw):
    items = [f"E{i}" for i in range(1, 11)]
    data = big5_raw[items]
    data = data[(data != 0).all(axis=1)].copy()
    for k in (2, 4, 6, 8, 10):
        data[f"E{k}"] = 6 - data[f"E{k}"]
    return GRM(se=None).fit(data)


def assert_m2(ours: dict, theirs: dict) -> None:
    for ref_key, key in M2_KEYS.items():
        assert ours[key] == pytest.approx(theirs[ref_key], abs=TOL), key
    assert ours["p"] == pytest.approx(theirs["p"], abs=TOL)


@pytest.mark.parametrize("case", ["grm_N", "grm_A"])
def test_c2_where_m2_star_has_no_degrees_of_freedom(fitted, mirt_ref, case):
    model = fitted[case]
    result = model.m2()
    assert result["statistic"] == "C2"
    assert_m2(result, mirt_ref[case]["M2"]["C2"])
    assert "error" in mirt_ref[case]["M2"]["M2*"]
    with pytest.raises(ValueError, match="too few degrees of freedom: 15 moments for 30 parameters"):
        model.m2("M2*")


def test_m2_for_binary_items(twopl, irt_ref):
    result = twopl.m2()
    assert result["statistic"] == "M2"
    assert_m2(result, irt_ref["twopl_N"]["M2"])


def test_m2_star_and_c2_on_a_ten_item_scale(big5_extraversion, irt_ref):
    ref = irt_ref["big5_E"]
    assert big5_extraversion.n_iter_ == ref["iterations"]
    star = big5_extraversion.m2()
    assert star["statistic"] == "M2*" and star["df"] == 5
    assert_m2(star, ref["M2star"])
    assert_m2(big5_extraversion.m2("C2"), ref["C2"])


def _assert_itemfit(table: pd.DataFrame, ref: dict) -> None:
    for item, values in ref.items():
        assert table.loc[item, "S_X2"] == pytest.approx(values["S_X2"], abs=TOL, rel=2e-5), item
        assert table.loc[item, "df"] == values["df"], item
        assert table.loc[item, "RMSEA"] == pytest.approx(values["RMSEA"], abs=TOL), item
        assert table.loc[item, "p"] == pytest.approx(values["p"], abs=TOL), item


@pytest.mark.parametrize("case", ["grm_N", "grm_A"])
def test_s_x2(fitted, mirt_ref, case, tools):
    ref = mirt_ref[case]["itemfit"]
    # On mirt's own estimates the statistic agrees to rounding ...
    own = s_x2(tools.reference_bank(mirt_ref[case]), fitted[case]._codes)
    for item, values in ref.items():
        assert own.loc[item, "S_X2"] == pytest.approx(values["S_X2"], abs=1e-6)
    # ... and from profiler's estimates (within 1e-5 of mirt's: EM paths part at the rounding level
    # after a dozen cycles) an S-X2 near 100 moves by up to 1e-3, i.e. 1e-5 of its size.
    _assert_itemfit(fitted[case].itemfit(), ref)


def test_s_x2_binary_and_ten_items(twopl, irt_ref, big5_extraversion):
    _assert_itemfit(twopl.itemfit(), irt_ref["twopl_N"]["itemfit"])
    _assert_itemfit(big5_extraversion.itemfit(), irt_ref["big5_E"]["itemfit"])


def test_local_dependence_x2(fitted, irt_ref):
    ref = irt_ref["grm_N"]["ld"]
    matrix = np.array(ref["matrix"]["values"], dtype=float)  # X2 below the diagonal, signed V above
    df_p = np.array(ref["df_p"]["values"], dtype=float)  # df below, p above
    table = fitted["grm_N"].ld_x2()
    assert len(table) == 10
    for (a, b), row in table.iterrows():
        i, j = ref["matrix"]["rows"].index(a), ref["matrix"]["rows"].index(b)
        assert row["X2"] == pytest.approx(matrix[j, i], abs=TOL)
        assert row["cramers_v"] == pytest.approx(matrix[i, j], abs=TOL)
        assert row["df"] == df_p[j, i]
        assert row["p"] == pytest.approx(df_p[i, j], abs=TOL)


def test_q3(fitted, irt_ref):
    ref = irt_ref["grm_N"]["q3"]
    q3 = fitted["grm_N"].q3()
    assert list(q3.index) == ref["rows"]
    assert q3.to_numpy() == pytest.approx(np.array(ref["values"]), abs=TOL)


# S-X2 with missing answers: mirt refuses; profiler conditions on each respondent's answered items.
@pytest.fixture(scope="module")
def small_bank():
    return ItemBank(["x", "y", "z"], ["graded", "gpcm", "graded"], [1.4, 0.8, 2.0],
                    [[1.0, -0.5], [0.3, -0.6], [-0.2]], [[1, 2, 3], [1, 2, 3], [0, 1]])


def test_expected_counts_with_missing_answers_by_enumeration(small_bank):
    rng = np.random.default_rng(3)
    codes = np.column_stack([rng.integers(0, 3, 400), rng.integers(0, 3, 400), rng.integers(0, 2, 400)])
    codes[rng.random(400) < 0.3, 2] = -1  # z unanswered by about 30%
    nodes, w = grid(61)
    probs = small_bank.probabilities(nodes)
    for item in range(3):
        observed, expected, _ = _observed_and_expected(small_bank, codes, item, nodes, w)
        brute_o = np.zeros((6, 3))
        brute_e = np.zeros((6, 3))
        for row in codes[codes[:, item] >= 0]:
            answered = [j for j in range(3) if row[j] >= 0]
            top = sum(small_bank.n_categories[j] - 1 for j in answered)
            s = row[answered].sum()
            if s in (0, top):
                continue
            joint = np.zeros(small_bank.n_categories[item])
            for pattern in itertools.product(*[range(small_bank.n_categories[j]) for j in answered]):
                if sum(pattern) != s:
                    continue
                p = np.prod([probs[:, j, c] for j, c in zip(answered, pattern, strict=True)], axis=0) @ w
                joint[pattern[answered.index(item)]] += p
            brute_e[s, : len(joint)] += joint / joint.sum()
            brute_o[s, row[item]] += 1
        k = small_bank.n_categories[item]
        assert observed == pytest.approx(brute_o[1:5, :k])
        assert np.nan_to_num(expected) == pytest.approx(brute_e[1:5, :k], abs=1e-12)


def test_s_x2_with_missing_answers_reduces_to_mirts_without_them(bfi_all, tools, mirt_ref):
    data = tools.case_data(bfi_all, "grm_N_missing")
    model = GRM(se=None).fit(data)
    table = model.itemfit()
    assert table["n"].tolist() == data.notna().sum().tolist()
    assert (table["df"] > 0).all() and table["S_X2"].notna().all()
    # On the complete rows alone (the model refitted there), the same code gives mirt's numbers.
    complete = GRM(se=None).fit(data.dropna())
    _assert_itemfit(complete.itemfit(), mirt_ref["grm_N"]["itemfit"])
    direct = s_x2(complete.bank_, complete._codes)
    assert direct.equals(complete.itemfit())


def test_ld_x2_uses_rows_answering_both(small_bank):
    codes = np.array([[0, 1, 1], [1, 1, -1], [2, 0, 0], [1, 2, 1], [-1, 1, 0]])
    table = ld_x2(small_bank, codes)
    assert table.loc[("x", "z"), "df"] == 2
    assert table.loc[("x", "y"), "df"] == 4
