"""Robust ML (MLR, MLM) and full-information ML against lavaan 0.6-14 (robust_reference.json, fiml_reference.json)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from profiler.factors import CFA

from tests.conftest import REFERENCE

TOL = 1e-3
RELATIVE = {"chisq", "chisq_scaled", "baseline_chisq", "baseline_chisq_scaled", "aic", "bic", "loglik"}
NAMES = {"loglik": "logl"}


@pytest.fixture(scope="module")
def robust_reference() -> dict:
    return json.loads((REFERENCE / "robust_reference.json").read_text())


def assert_fit_indices(ours: pd.Series, theirs: dict) -> list[str]:
    compared = []
    for key, got in ours.items():
        expected = theirs.get(NAMES.get(key, key.replace("_", ".")))
        if expected is None:
            continue
        if key in RELATIVE:
            assert got == pytest.approx(expected, rel=TOL), key
        else:
            assert got == pytest.approx(expected, abs=TOL), key
        compared.append(key)
    return compared


def assert_estimates(ours: pd.DataFrame, theirs: dict, keys=("lhs", "op", "rhs")) -> None:
    theirs = pd.DataFrame(theirs)
    assert list(zip(*(ours[k] for k in keys))) == list(zip(*(theirs[k] for k in keys)))
    for col, ref_col in [("est", "est"), ("se", "se"), ("std_all", "std.all")]:
        np.testing.assert_allclose(ours[col], theirs[ref_col].astype(float), atol=TOL, err_msg=col)
    np.testing.assert_allclose(ours["z"], theirs["z"].astype(float), rtol=TOL, equal_nan=True)


@pytest.mark.parametrize("estimator", ["MLR", "MLM"])
def test_robust_ml_matches_lavaan(holzinger_swineford, robust_reference, estimator):
    ref = robust_reference[estimator.lower()]
    fit = CFA(robust_reference["model"], estimator=estimator).fit(holzinger_swineford)
    compared = assert_fit_indices(fit.fit_indices_, ref["fit"])
    for key in ("chisq_scaled", "chisq_scaling_factor", "baseline_chisq_scaling_factor", "cfi_scaled", "tli_scaled",
                "cfi_robust", "tli_robust", "rmsea_scaled", "rmsea_robust", "rmsea_ci_lower_robust",
                "rmsea_ci_upper_robust", "rmsea_ci_lower_scaled", "rmsea_ci_upper_scaled"):
        assert key in compared
    assert_estimates(fit.estimates_, ref["estimates"])
    # the estimates are ML's; only the standard errors and tests change
    ml = CFA(robust_reference["model"]).fit(holzinger_swineford)
    np.testing.assert_allclose(fit.estimates_.est, ml.estimates_.est, atol=1e-12)
    assert fit.fit_indices_["chisq"] == pytest.approx(ml.fit_indices_["chisq"], rel=1e-12)
    assert fit.estimator_ == estimator


def test_mlr_two_groups(holzinger_swineford, robust_reference):
    ref = robust_reference["mlr_by_school"]
    fit = CFA(robust_reference["model"], estimator="MLR").fit(holzinger_swineford, group="school")
    assert "chisq_scaling_factor" in assert_fit_indices(fit.fit_indices_, ref["fit"])
    assert_estimates(fit.estimates_, ref["estimates"], keys=("lhs", "op", "rhs", "group"))


def test_scaling_factor_is_one_for_normal_data():
    # multivariate normal data: the robust corrections are close to 1 (they estimate kurtosis)
    rng = np.random.default_rng(11)
    lam = np.array([0.8, 0.7, 0.6, 0.75])
    f = rng.normal(size=20000)
    X = f[:, None] * lam + rng.normal(size=(20000, 4)) * np.sqrt(1 - lam**2)
    data = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    for estimator in ("MLR", "MLM"):
        fit = CFA("f =~ a + b + c + d", estimator=estimator).fit(data)
        assert fit.fit_indices_["chisq_scaling_factor"] == pytest.approx(1.0, abs=0.1)
        ml = CFA("f =~ a + b + c + d").fit(data)
        np.testing.assert_allclose(fit.estimates_.se, ml.estimates_.se, rtol=0.05)


# ------------------------------------------------------------------ full-information ML
@pytest.fixture(scope="module")
def hs_holes(holzinger_swineford, robust_reference):
    """Holzinger-Swineford with the 10% of x1..x9 cells that make_robust_reference.R removed (seeded MCAR)."""
    mask = np.array(robust_reference["fiml_mask"], dtype=bool)
    cols = [f"x{i}" for i in range(1, 10)]
    values = holzinger_swineford[cols].to_numpy(copy=True)
    values[mask] = np.nan
    holes = holzinger_swineford.copy()
    holes[cols] = values
    return holes


@pytest.mark.parametrize(("key", "estimator"), [("fiml", "ML"), ("fiml_mlr", "MLR")])
def test_fiml_matches_lavaan_missing_ml(hs_holes, robust_reference, key, estimator):
    ref = robust_reference[key]
    fit = CFA(robust_reference["model"], missing="fiml", estimator=estimator).fit(hs_holes)
    compared = assert_fit_indices(fit.fit_indices_, {**ref["fit"], "unrestricted.loglik": ref["fit"]["unrestricted.logl"]})
    assert {"chisq", "cfi", "rmsea", "srmr", "loglik", "unrestricted_loglik", "baseline_chisq"} <= set(compared)
    # Zhang & Savalei's FIML-corrected robust indices: lavaan reports them for ML and MLR with missing = "ml"
    assert ROBUST <= set(compared)
    if estimator == "MLR":
        assert {"chisq_scaled", "chisq_scaling_factor", "baseline_chisq_scaling_factor", "cfi_scaled"} <= set(compared)
    assert_estimates(fit.estimates_, ref["estimates"])  # intercepts included (a mean structure)
    m = fit.missing_
    assert (m.method, m.n_rows, m.n_rows_used, m.n_rows_dropped) == ("fiml", 301, 301, 0)
    assert m.n_cells_missing == int(np.sum(robust_reference["fiml_mask"])) and m.em_converged


def test_fiml_h1_moments_are_lavaans(hs_holes, robust_reference):
    from profiler.factors.missing import em_moments

    h1 = em_moments(hs_holes[[f"x{i}" for i in range(1, 10)]].to_numpy())
    # lavaan stops its EM earlier (about 1e-6 here)
    np.testing.assert_allclose(h1.mean, robust_reference["fiml_h1"]["mean"], atol=1e-5)
    np.testing.assert_allclose(h1.cov, robust_reference["fiml_h1"]["cov"], atol=1e-5)


def test_fiml_on_complete_data_is_ml(holzinger_swineford, robust_reference):
    ml = CFA(robust_reference["model"]).fit(holzinger_swineford)
    fiml = CFA(robust_reference["model"], missing="fiml").fit(holzinger_swineford)
    assert fiml.fit_indices_["chisq"] == pytest.approx(ml.fit_indices_["chisq"], rel=1e-7)
    assert fiml.fit_indices_["loglik"] == pytest.approx(ml.fit_indices_["loglik"], rel=1e-9)
    loadings = fiml.estimates_.op == "=~"
    np.testing.assert_allclose(fiml.estimates_.est[loadings], ml.estimates_.est[loadings], atol=1e-6)
    assert fiml.missing_.method == "complete"


def test_fiml_drops_and_counts_rows_without_answers(hs_holes, robust_reference):
    blank = hs_holes.copy()
    blank.loc[:4, [f"x{i}" for i in range(1, 10)]] = np.nan
    fit = CFA(robust_reference["model"], missing="fiml").fit(blank)
    assert fit.n_obs_ == 296 and fit.missing_.n_rows_dropped == 5 and fit.n_rows_dropped_ == 5
    with pytest.raises(ValueError, match="modification indices are available for ML fits of complete data"):
        fit.modification_indices()
    with pytest.raises(ValueError, match="missing must be one of"):
        CFA(robust_reference["model"], missing="fiml", estimator="MLM").fit(hs_holes)


# ------------------------------------------------------------------ FIML beyond one group (fiml_reference.json,
# make_fiml_reference.R): the 25 bfi items with their real missing answers and Holzinger-Swineford by school with
# 10% of the cells removed, by ML and MLR, with the FIML-corrected robust CFI/TLI/RMSEA.
ROBUST = {"cfi_robust", "tli_robust", "rmsea_robust", "rmsea_ci_lower_robust", "rmsea_ci_upper_robust"}
SCALED = {"chisq_scaled", "chisq_scaling_factor", "baseline_chisq_scaling_factor", "cfi_scaled", "tli_scaled",
          "rmsea_scaled"}


@pytest.fixture(scope="module")
def fiml_reference() -> dict:
    return json.loads((REFERENCE / "fiml_reference.json").read_text())


def _fit_ref(ref: dict) -> dict:
    return {**ref["fit"], "unrestricted.loglik": ref["fit"]["unrestricted.logl"]}


@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_bfi_with_its_missing_answers(bfi, fiml_reference, estimator):
    ref = fiml_reference[f"bfi_{estimator.lower()}"]
    fit = CFA(fiml_reference["bfi_model"], missing="fiml", estimator=estimator).fit(bfi.iloc[:, :25])
    compared = set(assert_fit_indices(fit.fit_indices_, _fit_ref(ref)))
    assert {"chisq", "cfi", "rmsea", "srmr", "loglik", "unrestricted_loglik", "baseline_chisq"} | ROBUST <= compared
    if estimator == "MLR":
        assert SCALED <= compared
    assert_estimates(fit.estimates_, ref["estimates"])
    m = fit.missing_
    assert fit.n_obs_ == ref["nobs"] == 2800 and m.n_rows_dropped == 0
    assert m.n_cells_missing == int(bfi.iloc[:, :25].isna().to_numpy().sum())


@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_two_groups_with_missing_cells(hs_holes, robust_reference, fiml_reference, estimator):
    ref = fiml_reference[f"hs_by_school_{estimator.lower()}"]
    assert fiml_reference["hs_mask"] == robust_reference["fiml_mask"]  # the same cells removed
    fit = CFA(fiml_reference["hs_model"], missing="fiml", estimator=estimator).fit(hs_holes, group="school")
    compared = set(assert_fit_indices(fit.fit_indices_, _fit_ref(ref)))
    assert {"chisq", "cfi", "rmsea", "srmr", "loglik", "baseline_chisq"} | ROBUST <= compared
    if estimator == "MLR":
        assert SCALED <= compared
    assert_estimates(fit.estimates_, ref["estimates"], keys=("lhs", "op", "rhs", "group"))
    assert fit.n_obs_ == sum(ref["nobs"]) == 301


@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_structural_model_with_missing_cells(hs_holes, robust_reference, fiml_reference, estimator):
    ref = fiml_reference[f"hs_regression_{estimator.lower()}"]
    assert fiml_reference["hs_mask"] == robust_reference["fiml_mask"]  # the same cells removed
    fit = CFA(fiml_reference["hs_regression_model"], missing="fiml", estimator=estimator).fit(hs_holes)
    compared = set(assert_fit_indices(fit.fit_indices_, _fit_ref(ref)))
    assert {"chisq", "cfi", "rmsea", "srmr", "loglik", "baseline_chisq"} | ROBUST <= compared
    if estimator == "MLR":
        assert SCALED <= compared
    assert_estimates(fit.estimates_, ref["estimates"])  # the regressions included
    assert (fit.estimates_.op == "~").sum() == 2
