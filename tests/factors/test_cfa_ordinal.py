"""Ordinal CFA (WLSMV, ULSMV) against lavaan 0.6-14 (ordinal_reference.json, make_ordinal_reference.R)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from profiler.factors import CFA, CFADataError, ModelSpecificationError
from profiler.factors.cfa import CFAConvergenceWarning

from tests.conftest import REFERENCE

TOL = 1e-3
# lavaan's fitMeasures names whose value is large: compared relative to their size
RELATIVE = {"chisq", "chisq_scaled", "baseline_chisq", "baseline_chisq_scaled"}


@pytest.fixture(scope="module")
def ordinal_reference() -> dict:
    return json.loads((REFERENCE / "ordinal_reference.json").read_text())


@pytest.fixture(scope="module", params=["WLSMV", "ULSMV"])
def bfi_ordinal(request, bfi, ordinal_reference):
    fit = CFA(ordinal_reference["model"], ordered=True, estimator=request.param, missing="listwise")
    return request.param, fit.fit(bfi.iloc[:, :25])


def assert_fit_indices(ours: pd.Series, theirs: dict) -> int:
    compared = 0
    for key, got in ours.items():
        expected = theirs.get(key.replace("_", "."))
        if expected is None:
            continue
        if key in RELATIVE:
            assert got == pytest.approx(expected, rel=TOL), key
        else:
            assert got == pytest.approx(expected, abs=TOL), key
        compared += 1
    return compared


def test_every_fit_index_lavaan_reports(bfi_ordinal, ordinal_reference):
    estimator, fit = bfi_ordinal
    ref = ordinal_reference[estimator.lower()]
    compared = assert_fit_indices(fit.fit_indices_, ref["fit"])
    assert compared >= 28  # standard, scaled, robust; baseline; srmr; npar
    assert fit.n_obs_ == ref["nobs"] == 2436 and fit.n_rows_dropped_ == 364
    assert fit.converged_ and fit.admissible_


def test_every_estimate_se_and_std_all(bfi_ordinal, ordinal_reference):
    estimator, fit = bfi_ordinal
    theirs = pd.DataFrame(ordinal_reference[estimator.lower()]["estimates"])
    ours = fit.estimates_
    # lavaan's order: loadings, thresholds, (residual) variances, covariances, scales, intercepts, means
    assert list(zip(ours.lhs, ours.op, ours.rhs)) == list(zip(theirs.lhs, theirs.op, theirs.rhs))
    for col, ref_col in [("est", "est"), ("se", "se"), ("z", "z"), ("std_all", "std.all")]:
        got, expected = ours[col].to_numpy(float), theirs[ref_col].to_numpy(float)
        if col == "z":  # z is large: relative
            np.testing.assert_allclose(got, expected, rtol=TOL, equal_nan=True, err_msg=col)
        else:
            np.testing.assert_allclose(got, expected, atol=TOL, equal_nan=True, err_msg=col)
    thresholds = ours[ours.op == "|"]
    assert len(thresholds) == 125 and thresholds.rhs.iloc[:5].tolist() == ["t1", "t2", "t3", "t4", "t5"]
    # residual variances are derived in the delta parameterisation: 1 - communality, not free
    resid = ours[(ours.op == "~~") & (ours.lhs == ours.rhs) & ours.lhs.str.len().eq(2)]
    assert np.all(resid.se == 0)


def test_wlsmv_records_missing_and_refuses_silence(bfi, ordinal_reference):
    model = ordinal_reference["model"]
    with pytest.raises(CFADataError, match="364 of 2800 rows have missing values"):
        CFA(model, ordered=True).fit(bfi.iloc[:, :25])
    fit = CFA(model, ordered=True, missing="listwise").fit(bfi.iloc[:, :25])
    m = fit.missing_
    assert (m.method, m.n_rows, m.n_rows_incomplete, m.n_rows_dropped) == ("listwise", 2800, 364, 364)
    pairwise = CFA(model, ordered=True, missing="pairwise").fit(bfi.iloc[:, :25])
    assert pairwise.n_obs_ == 2800 and pairwise.missing_.method == "pairwise"
    assert pairwise.missing_.n_cells_missing == int(bfi.iloc[:, :25].isna().sum().sum())
    answered = bfi.iloc[:, :25].notna().to_numpy(float)
    both = answered.T @ answered
    assert pairwise.missing_.min_pairwise_n == both[~np.eye(25, dtype=bool)].min()


def test_thresholds_in_the_syntax_fix_or_label(bfi25):
    base = "A =~ A1 + A2 + A3 + A4 + A5"
    fit = CFA(base, ordered=True).fit(bfi25)
    # naming a threshold changes nothing; fixing one to its estimate changes nothing either
    named = CFA(base + "\nA1 | t1 + t2", ordered=True).fit(bfi25)
    assert named.fit_indices_["chisq"] == pytest.approx(fit.fit_indices_["chisq"], rel=1e-9)
    t1 = fit.estimates_.query("lhs == 'A1' and op == '|' and rhs == 't1'").est.iloc[0]
    fixed = CFA(base + f"\nA1 | {float(t1)!r}*t1", ordered=True).fit(bfi25)
    assert fixed.fit_indices_["df"] == fit.fit_indices_["df"] + 1
    assert fixed.fit_indices_["chisq"] == pytest.approx(fit.fit_indices_["chisq"], rel=1e-6)
    row = fixed.estimates_.query("lhs == 'A1' and op == '|' and rhs == 't1'")
    assert row.se.iloc[0] == 0 and row.est.iloc[0] == pytest.approx(t1)


def test_ordinal_specification_errors(bfi25):
    with pytest.raises(ModelSpecificationError, match="thresholds of 'A1'.*need 'A1' to be ordinal"):
        CFA("A =~ A1 + A2 + A3\nA1 | t1").fit(bfi25)
    with pytest.raises(ModelSpecificationError, match="'A1' has 5 thresholds.*names 't6'"):
        CFA("A =~ A1 + A2 + A3\nA1 | t6", ordered=True).fit(bfi25)
    with pytest.raises(CFADataError, match="leaves model variables continuous: \\['A3'\\]"):
        CFA("A =~ A1 + A2 + A3", ordered=["A1", "A2"]).fit(bfi25)
    with pytest.raises(ValueError, match="WLSMV or ULSMV, not ML"):
        CFA("A =~ A1 + A2 + A3", ordered=True, estimator="ML").fit(bfi25)
    with pytest.raises(ValueError, match="for ordinal indicators"):
        CFA("A =~ A1 + A2 + A3", estimator="WLSMV").fit(bfi25)
    with pytest.raises(ValueError, match="estimator must be one of.*did you mean 'WLSMV'"):
        CFA("A =~ A1 + A2 + A3", ordered=True, estimator="WLMSV").fit(bfi25)


def test_non_convergence_is_warned(bfi25):
    with pytest.warns(CFAConvergenceWarning, match="did not converge in 1 iterations"):
        fit = CFA("A =~ A1 + A2 + A3 + A4 + A5", ordered=True, max_iter=1).fit(bfi25)
    assert not fit.converged_


def test_scores_and_modification_indices_are_refused_for_ordinal_fits(bfi25):
    fit = CFA("A =~ A1 + A2 + A3 + A4 + A5", ordered=True).fit(bfi25)
    with pytest.raises(ValueError, match="factor scores of ordinal"):
        fit.transform(bfi25)
    with pytest.raises(ValueError, match="modification indices are available for ML"):
        fit.modification_indices()


# ------------------------------------------------------------------ two groups (gender), lavaan's steps
INVARIANCE = {
    "configural": (),
    "thresholds": ("thresholds",),
    "thresholds_loadings": ("thresholds", "loadings"),
    "thresholds_loadings_intercepts": ("thresholds", "loadings", "intercepts"),
}


@pytest.mark.parametrize("name", list(INVARIANCE))
def test_ordinal_invariance_steps_match_lavaan(bfi, ordinal_reference, name):
    ref = ordinal_reference["invariance"][name]
    data = bfi[list(bfi.columns[:25]) + ["gender"]]
    fit = CFA(ordinal_reference["model"], ordered=True, missing="listwise").fit(data, group="gender",
                                                                                   equal=INVARIANCE[name])
    assert list(fit.group_sizes_) == ref["nobs"] == [805, 1631]
    assert assert_fit_indices(fit.fit_indices_, ref["fit"]) >= (28 if name == "configural" else 22)
    if name != "configural":  # free scale factors: no robust indices (lavaan reports NA too)
        assert np.isnan(fit.fit_indices_[["cfi_robust", "tli_robust", "rmsea_robust"]]).all()
    theirs = pd.DataFrame(ref["estimates"])
    ours = fit.estimates_
    assert list(zip(ours.lhs, ours.op, ours.rhs)) == list(zip(theirs.lhs, theirs.op, theirs.rhs))
    assert [str(g) for g in ours.group] == [str(g) for g in theirs.group]
    for col, ref_col in [("est", "est"), ("se", "se"), ("std_all", "std.all")]:
        np.testing.assert_allclose(ours[col].to_numpy(float), theirs[ref_col].to_numpy(float), atol=TOL,
                                   equal_nan=True, err_msg=col)
    if "thresholds" in INVARIANCE[name]:  # Wu & Estabrook: scales and factor means free in the second group
        second = ours[ours.group == fit.groups_[1]]
        assert (second[second.op == "~*~"].se > 0).all()
        assert (second[(second.op == "~1") & second.lhs.isin(list("ACENO"))].se > 0).all()
