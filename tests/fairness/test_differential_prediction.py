"""Cleary model against statsmodels' OLS."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from profiler.fairness import differential_prediction


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    n = 600
    g = rng.choice(["f", "m", "x"], size=n, p=[0.45, 0.45, 0.1])
    s = rng.normal(50, 10, n)
    y = 2 + 0.05 * s + np.where(g == "f", 0.3 + 0.02 * (s - 50), 0) + rng.normal(0, 1, n)
    y[:5] = np.nan
    return pd.DataFrame({"y": y, "s": s, "g": g})


def test_against_statsmodels(data):
    result = differential_prediction(data.y, data.s, data.g, focal="f", reference="m")
    use = data[data.g.isin(["f", "m"])].dropna().copy()
    use["x"] = use.s - use.s.mean()
    use["gf"] = (use.g == "f").astype(float)
    full = smf.ols("y ~ x * gf", use).fit()
    equal = smf.ols("y ~ x + gf", use).fit()
    common = smf.ols("y ~ x", use).fit()
    coef = result.coefficients.set_index("term")
    for ours, theirs in (("intercept", "Intercept"), ("score", "x"), ("group", "gf"), ("score:group", "x:gf")):
        assert coef.loc[ours, "estimate"] == pytest.approx(full.params[theirs], rel=1e-9)
        assert coef.loc[ours, "se"] == pytest.approx(full.bse[theirs], rel=1e-9)
        assert coef.loc[ours, "p"] == pytest.approx(full.pvalues[theirs], rel=1e-7)
    assert result.intercept_difference["estimate"] == pytest.approx(equal.params["gf"], rel=1e-9)
    assert result.intercept_difference["p"] == pytest.approx(equal.pvalues["gf"], rel=1e-7)
    F, p, df = full.compare_f_test(common)
    assert result.omnibus["F"] == pytest.approx(F, rel=1e-9) and result.omnibus["p"] == pytest.approx(p, rel=1e-7)
    assert result.r2["full"] == pytest.approx(full.rsquared, rel=1e-9)
    assert result.n == len(use)
    json.dumps(result.to_dict())


def test_prediction_error_sign(data):
    # the focal group's criterion is higher: the common line under-predicts it (positive mean residual)
    result = differential_prediction(data.y, data.s, data.g, focal="f", reference="m")
    err = result.prediction_error.set_index("group")["mean_residual"]
    assert err["f"] > 0 > err["m"]


def test_too_few_people():
    with pytest.raises(ValueError, match="at least 3"):
        differential_prediction(pd.Series([1.0, 2, 3, 4]), pd.Series([1.0, 2, 3, 4]),
                                pd.Series(["a", "a", "b", "b"]), focal="a", reference="b")
