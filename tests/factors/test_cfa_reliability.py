"""Composite reliability from a CFA (by hand from the estimates) and improper solutions in every estimator."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from profiler.factors import CFA, CFADataError
from profiler.factors.cfa import InadmissibleSolutionWarning

HS_MODEL = "visual =~ x1 + x2 + x3\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9"


def test_composite_reliability_by_hand(holzinger_swineford):
    fit = CFA(HS_MODEL + "\nx7 ~~ x8").fit(holzinger_swineford)
    rel = fit.composite_reliability().set_index("factor")
    est = fit.estimates_.set_index(["lhs", "op", "rhs"])["est"]
    S = holzinger_swineford[[f"x{i}" for i in range(1, 10)]].cov(ddof=0).to_numpy()
    for factor, items in [("visual", ["x1", "x2", "x3"]), ("speed", ["x7", "x8", "x9"])]:
        lam = np.array([est[(factor, "=~", i)] for i in items])
        psi = est[(factor, "~~", factor)]
        theta = np.array([est[(i, "~~", i)] for i in items])
        resid_cov = 2 * est[("x7", "~~", "x8")] if factor == "speed" else 0.0
        true = lam.sum() ** 2 * psi
        idx = [int(i[1:]) - 1 for i in items]
        assert rel.loc[factor, "omega"] == pytest.approx(true / (true + theta.sum() + resid_cov), rel=1e-10)
        assert rel.loc[factor, "omega_observed"] == pytest.approx(true / S[np.ix_(idx, idx)].sum(), rel=1e-10)
        ave = np.sum(lam**2) * psi / (np.sum(lam**2) * psi + theta.sum())
        assert rel.loc[factor, "ave"] == pytest.approx(ave, rel=1e-10)
        assert rel.loc[factor, "n_indicators"] == 3
    # a tau-equivalent-looking check: omega lies between 0 and 1 and the three factors are all there
    assert list(rel.index) == ["visual", "textual", "speed"] and rel.omega.between(0, 1).all()


def test_composite_reliability_for_ordinal_and_groups(bfi25, holzinger_swineford):
    fit = CFA("A =~ A1 + A2 + A3 + A4 + A5", ordered=True).fit(bfi25)
    rel = fit.composite_reliability()
    lam = fit.estimates_.query("op == '=~'").est.to_numpy()
    psi = fit.estimates_.query("lhs == 'A' and op == '~~' and rhs == 'A'").est.iloc[0]
    # latent responses have unit variance: omega = (sum |lambda|)^2 psi / (sum of the keyed model correlations);
    # A1 is the marker: A2..A5 load negatively and count reversed
    key = np.sign(lam)
    R = np.outer(lam, lam) * psi
    np.fill_diagonal(R, 1.0)
    assert (key[1:] < 0).all() and rel.omega.iloc[0] == pytest.approx(np.abs(lam).sum() ** 2 * psi / (key @ R @ key), rel=1e-10)
    groups = CFA(HS_MODEL).fit(holzinger_swineford, group="school").composite_reliability()
    assert list(groups.columns[:2]) == ["factor", "group"] and len(groups) == 6


def _heywood_data(n=2000, seed=5):
    # r_ab = .3, r_ac = r_bc = .6: one factor needs lambda_c^2 = .6 * .6 / .3 = 1.2 > 1 (a Heywood case)
    R = np.array([[1.0, 0.3, 0.6], [0.3, 1.0, 0.6], [0.6, 0.6, 1.0]])
    X = np.random.default_rng(seed).multivariate_normal(np.zeros(3), R, size=n)
    return pd.DataFrame(X, columns=["a", "b", "c"])


@pytest.mark.parametrize("kind", ["ML", "MLR", "FIML", "WLSMV"])
def test_heywood_cases_are_reported_and_warned_in_every_estimator(kind):
    data = _heywood_data()
    kwargs = {}
    if kind == "MLR":
        kwargs = {"estimator": "MLR"}
    elif kind == "FIML":
        data.iloc[::10, 0] = np.nan
        kwargs = {"missing": "fiml"}
    elif kind == "WLSMV":
        data = data.apply(lambda col: np.digitize(col, [-1.0, -0.3, 0.3, 1.0]))
        kwargs = {"ordered": True}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no raw numpy warning may leak: only profiler's own warning
        with pytest.raises(InadmissibleSolutionWarning, match="negative residual variance of 'c'.*Heywood"):
            CFA("f =~ a + b + c", **kwargs).fit(data)
    with pytest.warns(InadmissibleSolutionWarning):
        fit = CFA("f =~ a + b + c", **kwargs).fit(data)
    assert not fit.admissible_ and any("'c'" in p for p in fit.problems_)


def test_singular_data_are_refused_with_a_clear_error(holzinger_swineford):
    data = holzinger_swineford.copy()
    data["x3"] = data["x1"] + data["x2"]
    with pytest.raises(CFADataError, match="not positive definite.*linear combination"):
        CFA(HS_MODEL).fit(data)
    data.loc[::7, "x5"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(CFADataError, match="FIML \\(EM\\) covariance matrix is not positive definite"):
            CFA(HS_MODEL, missing="fiml").fit(data)


def test_negatively_loading_items_count_reversed(bfi25):
    # A1 loads negatively on agreeableness: reversing it by hand (7 - A1) must give the same omega
    fit = CFA("A =~ A2 + A1 + A3 + A4 + A5").fit(bfi25)
    flipped = bfi25.assign(A1=7 - bfi25.A1)
    same = CFA("A =~ A2 + A1 + A3 + A4 + A5").fit(flipped)
    a, b = fit.composite_reliability().iloc[0], same.composite_reliability().iloc[0]
    assert fit.estimates_.query("rhs == 'A1' and op == '=~'").est.iloc[0] < 0
    for key in ("omega", "omega_observed", "ave"):
        assert a[key] == pytest.approx(b[key], rel=1e-8)
