"""Robust ML (MLR, MLM) against lavaan 0.6-14 on Holzinger-Swineford (robust_reference.json)."""

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
