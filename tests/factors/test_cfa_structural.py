"""Higher-order factors, regressions between factors, labels, fixed values and defined parameters,
against lavaan 0.6-14 (robust_reference.json, syntax.*)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from profiler.factors import CFA, ModelSpecificationError

from tests.conftest import REFERENCE

TOL = 1e-3
RELATIVE = {"chisq", "baseline_chisq", "aic", "bic", "loglik"}


@pytest.fixture(scope="module")
def syntax_reference() -> dict:
    return json.loads((REFERENCE / "robust_reference.json").read_text())["syntax"]


@pytest.mark.parametrize("name", ["higher_order", "regression", "labels_defined"])
def test_structural_models_match_lavaan(holzinger_swineford, syntax_reference, name):
    ref = syntax_reference[name]
    fit = CFA(ref["model"]).fit(holzinger_swineford)
    assert fit.converged_ and fit.admissible_
    theirs = pd.DataFrame(ref["estimates"])
    ours = fit.estimates_
    # lavaan's rows in lavaan's order: =~ (higher-order included), ~, ~~ (exogenous factors covary), :=
    assert list(zip(ours.lhs, ours.op, ours.rhs)) == list(zip(theirs.lhs, theirs.op, theirs.rhs))
    for col, ref_col in [("est", "est"), ("se", "se"), ("std_all", "std.all")]:
        np.testing.assert_allclose(ours[col], theirs[ref_col].astype(float), atol=TOL, err_msg=col)
    for key in ("chisq", "df", "cfi", "tli", "rmsea", "srmr", "aic", "bic", "npar"):
        expected = ref["fit"][key]
        tolerance = {"rel": TOL} if key in RELATIVE else {"abs": TOL}
        assert fit.fit_indices_[key] == pytest.approx(expected, **tolerance), key


def test_labels_fixed_values_and_defined_parameters(holzinger_swineford, syntax_reference):
    fit = CFA(syntax_reference["labels_defined"]["model"]).fit(holzinger_swineford)
    est = fit.estimates_.set_index(["lhs", "op", "rhs"])
    # c*x5 + c*x6: one parameter; 1*x8: fixed
    assert est.loc[("textual", "=~", "x5"), "est"] == est.loc[("textual", "=~", "x6"), "est"]
    assert est.loc[("speed", "=~", "x8"), ["est", "se"]].tolist() == [1.0, 0.0]
    a, b = est.loc[("visual", "=~", "x2"), "est"], est.loc[("visual", "=~", "x3"), "est"]
    assert est.loc[("ab", ":=", "a*b"), "est"] == pytest.approx(a * b, rel=1e-12)
    d, e = est.loc[("speed", "~", "visual"), "est"], est.loc[("speed", "~", "textual"), "est"]
    assert est.loc[("de", ":=", "d-e"), "est"] == pytest.approx(d - e, rel=1e-12)
    assert est.loc[("total", ":=", "d+e*2"), "est"] == pytest.approx(d + 2 * e, rel=1e-12)
    assert fit.estimates_.label.iloc[-3:].tolist() == ["ab", "de", "total"]


def test_delta_method_by_hand(holzinger_swineford):
    # se(a*b)^2 = b^2 var(a) + a^2 var(b) + 2ab cov(a, b) with the model's covariance of the estimates
    model = "visual =~ x1 + a*x2 + b*x3\ntextual =~ x4 + x5 + x6\nab := a*b\nratio := a/b"
    fit = CFA(model).fit(holzinger_swineford)
    rows = fit.estimates_.set_index("label")
    a, b = rows.loc["a", "est"], rows.loc["b", "est"]
    ia, ib = fit.table_.free[fit.table_.label.index("a")], fit.table_.free[fit.table_.label.index("b")]
    vcov = np.linalg.inv(fit.info_) / fit.n_obs_
    grad = np.zeros(len(vcov))
    grad[ia], grad[ib] = b, a
    assert rows.loc["ab", "se"] == pytest.approx(np.sqrt(grad @ vcov @ grad), rel=1e-6)
    grad[ia], grad[ib] = 1 / b, -a / b**2
    assert rows.loc["ratio", "se"] == pytest.approx(np.sqrt(grad @ vcov @ grad), rel=1e-6)


def test_higher_order_needs_a_scale_and_two_factors(holzinger_swineford):
    with pytest.raises(ModelSpecificationError, match="higher-order factor 'g'.*at least two indicators"):
        CFA("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\ng =~ visual").fit(holzinger_swineford)
    with pytest.raises(ModelSpecificationError, match="factor 'g'.*has no scale"):
        CFA("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
            "g =~ NA*visual + textual + speed").fit(holzinger_swineford)


def test_structural_models_with_robust_missing_and_ordinal_estimators(holzinger_swineford, syntax_reference, bfi):
    model = syntax_reference["higher_order"]["model"]
    ml = CFA(model).fit(holzinger_swineford)
    mlr = CFA(model, estimator="MLR").fit(holzinger_swineford)
    fiml = CFA(model, missing="fiml").fit(holzinger_swineford)
    np.testing.assert_allclose(mlr.estimates_.est, ml.estimates_.est, atol=1e-6)
    assert fiml.fit_indices_["chisq"] == pytest.approx(ml.fit_indices_["chisq"], rel=1e-6)
    # the same higher-order model is equivalent to three correlated factors: same fit (3 factors, just identified)
    three = CFA(syntax_reference["regression"]["model"].split("\nspeed ~")[0]).fit(holzinger_swineford)
    assert ml.fit_indices_["chisq"] == pytest.approx(three.fit_indices_["chisq"], rel=1e-6)
    ordinal = CFA("A =~ A1 + A2 + A3\nE =~ E1 + E2 + E3\nN =~ N1 + N2 + N3\nE ~ N\nA ~ E", ordered=True,
                  missing="listwise").fit(bfi)
    assert ordinal.converged_ and (ordinal.estimates_.op == "~").sum() == 2
    with pytest.raises(ValueError, match="with regressions or higher-order factors"):
        ml.modification_indices()
