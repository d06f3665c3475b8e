"""CFA against lavaan 0.6-14 (tests/fixtures/reference), plus identification, admissibility and data checks."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from profiler.factors._cfa_data import Moments, moments
from profiler.factors._cfa_estimation import MLProblem, start_values
from profiler.factors._cfa_table import build_table
from profiler.factors.cfa import (
    CFA,
    CFAConvergenceWarning,
    CFADataError,
    InadmissibleSolutionWarning,
    ModelSpecificationError,
)
from profiler.factors.model_syntax import ModelSyntaxError, parse_model

TOL = 1e-3
HS_MODEL = "visual =~ x1 + x2 + x3\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9"
# lavaan's fitMeasures names -> ours
FIT_NAMES = {"rmsea.ci.lower": "rmsea_ci_lower", "rmsea.ci.upper": "rmsea_ci_upper", "logl": "loglik"}
RELATIVE = {"chisq", "aic", "bic", "loglik"}  # large numbers: compared relative to their size


def assert_fit_matches(ours: pd.Series, theirs: dict) -> None:
    for name, expected in theirs.items():
        key = FIT_NAMES.get(name, name)
        got = ours[key]
        if key in RELATIVE:
            assert got == pytest.approx(expected, rel=TOL), key
        else:
            assert got == pytest.approx(expected, abs=TOL), key


@pytest.fixture(scope="module")
def hs_fit(holzinger_swineford):
    return CFA(HS_MODEL).fit(holzinger_swineford)


# ------------------------------------------------------------------ lavaan: HolzingerSwineford1939
def test_hs_every_estimate_se_z_and_std_all(hs_fit, reference):
    theirs = pd.DataFrame(reference["cfa_hs"]["estimates"])
    ours = hs_fit.estimates_
    assert list(zip(ours.lhs, ours.op, ours.rhs)) == list(zip(theirs.lhs, theirs.op, theirs.rhs))
    for col, ref_col in [("est", "est"), ("se", "se"), ("z", "z"), ("pvalue", "pvalue"), ("std_all", "std.all")]:
        np.testing.assert_allclose(ours[col], theirs[ref_col].astype(float), atol=TOL, equal_nan=True, err_msg=col)
    fixed = theirs.z.isna().to_numpy()
    assert np.all(ours.se[fixed] == 0) and ours.z[fixed].isna().all()


def test_hs_every_fit_index(hs_fit, reference):
    assert_fit_matches(hs_fit.fit_indices_, reference["cfa_hs"]["fit"])
    assert hs_fit.fit_indices_["npar"] == 21 and hs_fit.fit_indices_["n"] == 301
    # lavaan prints the baseline model: 918.852 on 36 df
    assert hs_fit.fit_indices_["baseline_chisq"] == pytest.approx(918.852, abs=TOL)
    assert hs_fit.fit_indices_["baseline_df"] == 36
    assert hs_fit.converged_ and hs_fit.admissible_ and hs_fit.problems_ == []


@pytest.mark.parametrize(
    ("method", "key"), [("regression", "regression"), ("bartlett", "bartlett"), ("Bartlett", "bartlett")]
)
def test_hs_factor_scores_first_10_rows(hs_fit, holzinger_swineford, reference, method, key):
    scores = hs_fit.transform(holzinger_swineford.iloc[:10], method=method)
    assert list(scores.columns) == ["visual", "textual", "speed"]
    expected = np.array(reference["cfa_hs"][f"factor_scores_{key}_first10"])
    np.testing.assert_allclose(scores.to_numpy(), expected, atol=TOL)


INVARIANCE = {
    "configural": (),
    "loadings": ("loadings",),
    "loadings+intercepts": ("loadings", "intercepts"),
    "loadings+intercepts+residuals": ("loadings", "intercepts", "residuals"),
}


@pytest.mark.parametrize("name", list(INVARIANCE))
def test_hs_invariance_by_school(holzinger_swineford, reference, name):
    fit = CFA(HS_MODEL).fit(holzinger_swineford, group="school", equal=INVARIANCE[name])
    assert_fit_matches(fit.fit_indices_, reference["cfa_hs"]["invariance_by_school"][name])
    assert fit.groups_ == ("Pasteur", "Grant-White")  # lavaan's order: first appearance


def test_hs_modification_indices_match_lavaan_tutorial(hs_fit):
    # lavaan's tutorial prints modindices(fit, sort = TRUE, maximum.number = 5) for this model
    # (lavaan.ugent.be/tutorial/cfa.html); three decimals there, so compare to 1e-3.
    expected = [
        ("visual", "=~", "x9", 36.411, 0.577, 0.515),
        ("x7", "~~", "x8", 34.145, 0.536, 0.859),
        ("visual", "=~", "x7", 18.631, -0.422, -0.349),
        ("x8", "~~", "x9", 14.946, -0.423, -0.805),
        ("textual", "=~", "x3", 9.151, -0.272, -0.238),
    ]
    mi = hs_fit.modification_indices()
    top = mi.head(5)
    assert list(zip(top.lhs, top.op, top.rhs)) == [e[:3] for e in expected]
    np.testing.assert_allclose(top.mi, [e[3] for e in expected], atol=TOL)
    np.testing.assert_allclose(top.epc, [e[4] for e in expected], atol=TOL)
    np.testing.assert_allclose(top.sepc_all, [e[5] for e in expected], atol=TOL)
    # 18 cross-loadings and 36 residual covariances; fixed markers are not identified if freed
    assert len(mi) == 18 + 36
    pairs = set(zip(mi.lhs, mi.rhs))
    assert not pairs & {("visual", "x1"), ("textual", "x4"), ("speed", "x7")}
    assert mi.mi.is_monotonic_decreasing
    assert len(hs_fit.modification_indices(minimum=10)) == 4


# ------------------------------------------------------------------ lavaan: bfi, 5 factors
def test_bfi_fit_indices_and_standardized_loadings(bfi25, reference):
    fit = CFA(reference["cfa_bfi"]["model"]).fit(bfi25)
    assert_fit_matches(fit.fit_indices_, reference["cfa_bfi"]["fit"])
    theirs = pd.DataFrame(reference["cfa_bfi"]["std_loadings"])
    ours = fit.estimates_[fit.estimates_.op == "=~"].reset_index(drop=True)
    assert list(zip(ours.lhs, ours.rhs)) == list(zip(theirs.lhs, theirs.rhs))
    for col, ref_col in [("est", "est"), ("se", "se"), ("std_all", "std.all")]:
        np.testing.assert_allclose(ours[col], theirs[ref_col], atol=TOL, err_msg=col)


def test_bfi_missing_values_raise_unless_listwise(bfi, bfi25, reference):
    model = reference["cfa_bfi"]["model"]
    with pytest.raises(CFADataError, match="364 of 2800 rows have missing values.*never imputes"):
        CFA(model).fit(bfi)
    listwise = CFA(model, missing="listwise").fit(bfi)
    assert (listwise.n_rows_dropped_, listwise.n_obs_) == (364, 2436)
    m = listwise.missing_  # never silent: what was missing and what was done
    assert (m.method, m.n_rows, m.n_rows_incomplete, m.n_rows_dropped) == ("listwise", 2800, 364, 364)
    assert m.n_cells_missing == int(bfi.iloc[:, :25].isna().sum().sum())
    assert CFA(model).fit(bfi25).missing_.method == "complete"
    complete = CFA(model).fit(bfi25)
    assert listwise.fit_indices_["chisq"] == pytest.approx(complete.fit_indices_["chisq"], rel=1e-10)
    assert complete.n_rows_dropped_ == 0


def test_from_scales_is_the_same_model(bfi25, reference):
    keys = reference["reliability"]
    scales = {name: keys[name]["items"] for name in keys}  # psych keys, '-' marks reverse keying
    by_scales = CFA.from_scales(scales).fit(bfi25)
    by_dict = CFA(scales).fit(bfi25)
    assert by_scales.fit_indices_["chisq"] == pytest.approx(reference["cfa_bfi"]["fit"]["chisq"], rel=TOL)
    assert by_dict.fit_indices_["chisq"] == pytest.approx(by_scales.fit_indices_["chisq"], rel=1e-12)


# ------------------------------------------------------------------ identification
def test_std_lv_gives_the_same_fit_as_marker_identification(holzinger_swineford, hs_fit):
    std = CFA(HS_MODEL, std_lv=True).fit(holzinger_swineford)
    for key in ["chisq", "df", "cfi", "tli", "rmsea", "srmr", "aic", "bic", "loglik"]:
        assert std.fit_indices_[key] == pytest.approx(hs_fit.fit_indices_[key], rel=1e-7, abs=1e-9), key
    # the same standardized solution; loadings rescaled by the factor SDs
    np.testing.assert_allclose(std.estimates_.std_all, hs_fit.estimates_.std_all, atol=1e-6)
    marker = hs_fit.estimates_.set_index(["lhs", "op", "rhs"]).est
    scaled = std.estimates_.set_index(["lhs", "op", "rhs"]).est
    expected = marker["visual", "=~", "x2"] * np.sqrt(marker["visual", "~~", "visual"])
    assert scaled["visual", "=~", "x2"] == pytest.approx(expected, rel=1e-5)
    assert scaled["visual", "~~", "visual"] == 1.0


def test_single_indicator_factor_needs_a_fixed_residual_variance(holzinger_swineford):
    model = "visual =~ x1 + x2 + x3\n speed =~ x7"
    with pytest.raises(ModelSpecificationError, match=r"'speed' \(line 2, column 2\) has a single indicator 'x7'"):
        CFA(model).fit(holzinger_swineford)
    fit = CFA(model + "\n x7 ~~ 0*x7").fit(holzinger_swineford)  # what lavaan does silently
    assert fit.converged_


def test_factor_without_scale_is_not_identified(holzinger_swineford):
    with pytest.raises(ModelSpecificationError, match="'visual' .* has no scale"):
        CFA("visual =~ NA*x1 + x2 + x3\n textual =~ x4 + x5 + x6").fit(holzinger_swineford)
    # freeing the marker is fine once the variance is fixed
    fit = CFA("visual =~ NA*x1 + x2 + x3\n visual ~~ 1*visual\n textual =~ x4 + x5 + x6").fit(holzinger_swineford)
    assert fit.estimates_.est.iloc[0] != 1.0


def test_more_parameters_than_moments(holzinger_swineford):
    with pytest.raises(ModelSpecificationError, match="4 free parameters but only 3 sample moments"):
        CFA("f =~ x1 + x2").fit(holzinger_swineford)


def test_empirically_unidentified_model_names_the_parameters(holzinger_swineford):
    # two indicators and a factor uncorrelated with everything: df > 0, yet not identified
    model = "f =~ x1 + x2\n g =~ x4 + x5 + x6\n f ~~ 0*g"
    with pytest.raises(ModelSpecificationError, match="singular.*not identified.*f =~ x2"):
        CFA(model).fit(holzinger_swineford)


# ------------------------------------------------------------------ inadmissible solutions
def _data_with_covariance(cov: np.ndarray, n: int, seed: int = 0) -> pd.DataFrame:
    """Rows whose biased sample covariance is exactly ``cov`` (whitened noise, then coloured)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, cov.shape[0]))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(z.T @ z / n)).T
    x = z @ np.linalg.cholesky(cov).T
    return pd.DataFrame(x, columns=[f"y{i + 1}" for i in range(cov.shape[0])])


def test_heywood_case_warns_and_is_flagged():
    # one factor, three indicators: lambda_1^2 = r12 r13 / r23 = 0.64 / 0.55 > 1, so theta_1 < 0
    cov = np.array([[1.0, 0.8, 0.8], [0.8, 1.0, 0.55], [0.8, 0.55, 1.0]])
    data = _data_with_covariance(cov, 200)
    with pytest.warns(InadmissibleSolutionWarning, match="negative residual variance of 'y1'.*Heywood"):
        fit = CFA("f =~ y1 + y2 + y3").fit(data)
    assert not fit.admissible_ and len(fit.problems_) == 1
    theta = fit.estimates_.set_index(["lhs", "op", "rhs"]).est["y1", "~~", "y1"]
    assert theta == pytest.approx(1 - 0.8 * 0.8 / 0.55, abs=1e-6)  # the exact (just-identified) solution
    assert fit.fit_indices_["chisq"] == pytest.approx(0.0, abs=1e-8)


def test_factor_correlation_above_one_warns():
    # two factors whose indicators correlate more across than within factors
    within, across = 0.4, 0.5
    cov = np.full((4, 4), across)
    cov[:2, :2] = cov[2:, 2:] = within
    np.fill_diagonal(cov, 1.0)
    data = _data_with_covariance(cov, 300)
    with pytest.warns(InadmissibleSolutionWarning, match="factor covariance matrix is not positive definite"):
        fit = CFA("f =~ y1 + y2\n g =~ y3 + y4").fit(data)
    assert fit.estimates_.query("lhs == 'f' and rhs == 'g'").std_all.iloc[0] > 1


def test_non_convergence_warns(holzinger_swineford):
    with pytest.warns(CFAConvergenceWarning, match="did not converge in 2 iterations"):
        fit = CFA(HS_MODEL, max_iter=2).fit(holzinger_swineford)
    assert not fit.converged_


def test_singular_sample_covariance_is_an_error(holzinger_swineford):
    data = holzinger_swineford.assign(x10=holzinger_swineford.x1 + holzinger_swineford.x2)
    with pytest.raises(CFADataError, match="not positive definite.*linear combination"):
        CFA(HS_MODEL + "\n visual =~ x10").fit(data)


# ------------------------------------------------------------------ data and options
def test_unknown_variable_points_to_the_model_and_suggests(holzinger_swineford):
    with pytest.raises(CFADataError, match=r"'x10' \(model line 1, column 26\) \(did you mean 'x1'\?\)"):
        CFA("visual =~ x1 + x2 + x3 + x10").fit(holzinger_swineford)


def test_bad_options(holzinger_swineford):
    with pytest.raises(ValueError, match="never imputes"):
        CFA(HS_MODEL, missing="mean").fit(holzinger_swineford)
    with pytest.raises(ValueError, match="unknown equality.*did you mean 'loadings'"):
        CFA(HS_MODEL).fit(holzinger_swineford, group="school", equal=("loading",))
    with pytest.raises(ValueError, match="give group="):
        CFA(HS_MODEL).fit(holzinger_swineford, equal="loadings")
    with pytest.raises(CFADataError, match="group column 'shool'.*did you mean 'school'"):
        CFA(HS_MODEL).fit(holzinger_swineford, group="shool")
    with pytest.raises(TypeError, match="DataFrame"):
        CFA(HS_MODEL).fit(holzinger_swineford.to_numpy())
    with pytest.raises(ModelSyntaxError):
        CFA("visual =~ x1 +").fit(holzinger_swineford)
    with pytest.raises(RuntimeError, match="not fitted"):
        CFA(HS_MODEL).transform(holzinger_swineford)


def test_missing_group_label_is_missing_data(holzinger_swineford):
    data = holzinger_swineford.copy()
    data.loc[[0, 5], "school"] = np.nan
    with pytest.raises(CFADataError, match=r"2 of 301 rows .*school \(group\)"):
        CFA(HS_MODEL).fit(data, group="school")
    fit = CFA(HS_MODEL, missing="listwise").fit(data, group="school")
    assert fit.n_rows_dropped_ == 2 and fit.group_sizes_.sum() == 299


def test_transform_with_missing_values(holzinger_swineford):
    data = holzinger_swineford.copy()
    data.loc[3, "x2"] = np.nan
    complete = data.dropna(subset=["x2"])
    fit = CFA(HS_MODEL, missing="listwise").fit(data)
    scores = fit.transform(data)
    assert scores.index.equals(data.index) and scores.loc[3].isna().all() and scores.drop(3).notna().all().all()
    with pytest.raises(CFADataError, match="never imputes"):
        CFA(HS_MODEL).fit(complete).transform(data)


# ------------------------------------------------------------------ multi-group details
def test_multigroup_table_follows_lavaan(holzinger_swineford):
    fit = CFA(HS_MODEL).fit(holzinger_swineford, group="school", equal=("loadings", "intercepts"))
    est = fit.estimates_
    assert list(est.columns) == ["lhs", "op", "rhs", "group", "label", "est", "se", "z", "pvalue", "std_all"]
    assert len(est) == 2 * (9 + 9 + 3 + 3 + 9 + 3)
    g1, g2 = est[est.group == "Pasteur"], est[est.group == "Grant-White"]
    load1, load2 = g1[g1.op == "=~"], g2[g2.op == "=~"]
    np.testing.assert_allclose(load1.est.to_numpy(), load2.est.to_numpy())
    assert load1.label.iloc[1] == ".p2." and load2.label.iloc[1] == ".p2."
    means = est[(est.op == "~1") & est.lhs.isin(["visual", "textual", "speed"])]
    assert (means[means.group == "Pasteur"].est == 0).all() and (means[means.group == "Pasteur"].se == 0).all()
    assert (means[means.group == "Grant-White"].se > 0).all()  # freed after the first group
    scores = fit.transform(holzinger_swineford)
    assert scores.notna().all().all()
    with pytest.raises(CFADataError, match="needs the group column"):
        fit.transform(holzinger_swineford.drop(columns="school"))


def test_multigroup_std_lv_frees_later_variances_under_equal_loadings(holzinger_swineford):
    # lavaan >= 0.6-4: with std.lv and equal loadings the variances of later groups are free
    fit = CFA(HS_MODEL, std_lv=True).fit(holzinger_swineford, group="school", equal="loadings")
    var = fit.estimates_[(fit.estimates_.op == "~~") & (fit.estimates_.lhs == fit.estimates_.rhs)
                         & fit.estimates_.lhs.isin(["visual", "textual", "speed"])]
    assert (var[var.group == "Pasteur"].se == 0).all() and (var[var.group == "Grant-White"].se > 0).all()
    marker = CFA(HS_MODEL).fit(holzinger_swineford, group="school", equal="loadings")
    assert fit.fit_indices_["chisq"] == pytest.approx(marker.fit_indices_["chisq"], rel=1e-7)


def test_labels_constrain_parameters_equal(holzinger_swineford):
    fit = CFA("visual =~ x1 + a*x2 + a*x3\n textual =~ x4 + x5 + x6").fit(holzinger_swineford)
    est = fit.estimates_.set_index(["lhs", "op", "rhs"])
    assert est.est["visual", "=~", "x2"] == est.est["visual", "=~", "x3"]
    assert est.label["visual", "=~", "x2"] == "a"
    # 21 moments; 3 free loadings (x2 and x3 share one), 6 residual and 2 factor variances, 1 covariance
    assert fit.fit_indices_["df"] == 21 - 12


# ------------------------------------------------------------------ partial invariance (group.partial)
PARTIAL_REFERENCE = Path(__file__).parents[1] / "fixtures" / "reference" / "lavaan_partial_reference.json"


@pytest.fixture(scope="module")
def partial_reference() -> dict:
    """lavaan 0.6-14 with group.partial (make_partial_reference.R)."""
    return json.loads(PARTIAL_REFERENCE.read_text())


@pytest.mark.parametrize("name", ["scalar_partial_x3_x7", "metric_partial_visual_x2", "strict_partial_x3_x7_x5"])
def test_partial_matches_lavaan(holzinger_swineford, partial_reference, name):
    ref = partial_reference["models"][name]
    fit = CFA(partial_reference["model"]).fit(
        holzinger_swineford, group="school", equal=ref["group_equal"], partial=ref["group_partial"]
    )
    assert_fit_matches(fit.fit_indices_, ref["fit"])
    assert fit.fit_indices_["df"] == ref["fit"]["df"] and fit.fit_indices_["npar"] == ref["fit"]["npar"]
    assert fit.partial_ == tuple(ref["group_partial"])
    est = fit.estimates_.set_index(["lhs", "op", "rhs", "group"])
    for row in ref["freed"] + ref["factor_means"]:
        ours = est.loc[(row["lhs"], row["op"], row["rhs"], row["group"])]
        assert ours.est == pytest.approx(row["est"], abs=TOL) and ours.se == pytest.approx(row["se"], abs=TOL), row
    for row in ref["freed"]:  # estimated per group: no equality label
        assert est.loc[(row["lhs"], row["op"], row["rhs"], row["group"]), "label"] == ""
    freed_per_group = [[r["est"] for r in ref["freed"] if r["group"] == g] for g in fit.groups_]
    assert freed_per_group[0] != pytest.approx(freed_per_group[1], abs=1e-3)


def test_partial_frees_only_the_named_parameter(holzinger_swineford):
    scalar = CFA(HS_MODEL).fit(holzinger_swineford, group="school", equal=("loadings", "intercepts"))
    fit = CFA(HS_MODEL).fit(holzinger_swineford, group="school", equal=("loadings", "intercepts"),
                            partial=(" x3 ~ 1 ",))
    assert fit.partial_ == ("x3~1",)
    assert fit.fit_indices_["df"] == scalar.fit_indices_["df"] - 1  # one intercept more, in the second group
    est = fit.estimates_
    intercepts = est[(est.op == "~1") & est.lhs.str.startswith("x")].set_index(["lhs", "group"])
    others = intercepts.drop(index="x3", level="lhs")
    assert (others.label != "").all()
    np.testing.assert_array_equal(others.xs("Pasteur", level="group").est, others.xs("Grant-White", level="group").est)
    means = est[(est.op == "~1") & (est.lhs == "visual")]
    assert (means.se.to_numpy() > 0).tolist() == [False, True]  # factor means still free after the first group


def test_partial_covariance_either_order_equals_the_unconstrained_model(holzinger_swineford):
    # freeing the only constrained residual covariance is the model without that constraint
    model = HS_MODEL + "\n x7 ~~ x8"
    free = CFA(model).fit(holzinger_swineford, group="school")
    for spelling in ("x8~~x7", "x7 ~~ x8"):
        fit = CFA(model).fit(holzinger_swineford, group="school", equal="residual.covariances", partial=spelling)
        assert fit.partial_ == ("x7~~x8",)  # lavaan's spelling (lavaan itself ignores 'x8~~x7')
        assert fit.fit_indices_["df"] == free.fit_indices_["df"]
        assert fit.fit_indices_["chisq"] == pytest.approx(free.fit_indices_["chisq"], rel=1e-7)


def test_partial_errors_name_the_entry(holzinger_swineford):
    hs = holzinger_swineford
    with pytest.raises(ModelSpecificationError) as err:
        CFA(HS_MODEL).fit(hs, group="school", equal="loadings",
                          partial=("visual=~x9", "visual=~x1", "x3~1", "visual =~", "speed~1"))
    message = str(err.value)
    assert "'visual=~x9' is not a parameter of the model" in message
    assert "'visual=~x1' is fixed (to 1) in every group" in message
    assert "'x3~1' is not constrained by equal=('loadings',)" in message and "'intercepts'" in message
    assert "'visual =~' is not a parameter" in message
    assert "'speed~1' is fixed (to 0)" in message
    with pytest.raises(ModelSpecificationError, match="'visual~1' is not constrained by equal=.*'means'"):
        CFA(HS_MODEL).fit(hs, group="school", equal=("loadings", "intercepts"), partial="visual~1")
    with pytest.raises(ModelSpecificationError, match="'textual=~x55' is not a parameter.*did you mean 'textual=~x5'"):
        CFA(HS_MODEL).fit(hs, group="school", equal=("loadings",), partial="textual=~x55")
    with pytest.raises(ModelSpecificationError, match="'visual=~x2' is held equal across groups by its label 'a'"):
        CFA("visual =~ x1 + a*x2 + x3").fit(hs, group="school", equal="loadings", partial="visual=~x2")
    with pytest.raises(ValueError, match="give group= and equal="):
        CFA(HS_MODEL).fit(hs, partial="x3~1")
    with pytest.raises(TypeError, match="lavaan notation"):
        CFA(HS_MODEL).fit(hs, group="school", equal="loadings", partial=[("visual", "=~", "x2")])


# ------------------------------------------------------------------ the engine's derivatives
def _problem(data: pd.DataFrame, text: str, group: str | None = None, equal=()) -> MLProblem:
    model = parse_model(text)
    labels = [None] if group is None else list(pd.unique(data[group]))
    parts = [data] if group is None else [data[data[group] == g] for g in labels]
    stats = [moments(part[list(model.observed)].to_numpy(float)) for part in parts]
    sizes = np.array([len(p) for p in parts])
    mom = Moments(sizes, tuple(s[0] for s in stats), tuple(s[1] for s in stats), tuple(labels))
    table = build_table(model, n_groups=len(parts), equal=equal, meanstructure=group is not None)
    return MLProblem(table, mom)


def test_analytic_gradient_matches_finite_differences(holzinger_swineford):
    text = "visual =~ x1 + a*x2 + a*x3\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9\n x7 ~~ x8"
    problem = _problem(holzinger_swineford, text, group="school", equal=("loadings",))
    x = start_values(problem)  # away from the optimum
    grad = problem.evaluate(x).grad
    h = 1e-6
    numeric = np.array([
        (problem.evaluate(x + h * e, False).f - problem.evaluate(x - h * e, False).f) / (2 * h)
        for e in np.eye(x.size)
    ])
    np.testing.assert_allclose(grad, numeric, atol=1e-6)


def test_expected_information_is_half_the_hessian_at_population_moments(holzinger_swineford):
    problem = _problem(holzinger_swineford, HS_MODEL + "\n x7 ~~ x8", group="school", equal=("intercepts",))
    x = CFA(HS_MODEL + "\n x7 ~~ x8").fit(holzinger_swineford, group="school", equal=("intercepts",)).x_
    implied = problem.implied(x)
    # make the model fit exactly: then E[Hessian of f] = Hessian of f = 2 I
    problem.mom = Moments(problem.mom.n, tuple(m for _, m in implied), tuple(s for s, _ in implied), problem.mom.labels)
    problem.logdet_s = [np.linalg.slogdet(s)[1] for s, _ in implied]
    info = problem.evaluate(x).info
    h = 1e-5
    hess = np.array([
        (problem.evaluate(x + h * e).grad - problem.evaluate(x - h * e).grad) / (2 * h) for e in np.eye(x.size)
    ])
    np.testing.assert_allclose(hess, 2 * info, atol=1e-6)


@pytest.mark.parametrize("group", [None, "school"])
def test_analytic_hessian_matches_finite_differences(holzinger_swineford, group):
    # used for the Newton steps near the optimum: exact, including mean structure and labels
    text = "visual =~ x1 + a*x2 + a*x3\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9\n x7 ~~ x8"
    equal = () if group is None else ("loadings", "intercepts")
    problem = _problem(holzinger_swineford, text, group=group, equal=equal)
    x = start_values(problem)
    hess = problem.evaluate(x, hessian=True).hess
    h = 1e-6
    numeric = np.array([
        (problem.evaluate(x + h * e).grad - problem.evaluate(x - h * e).grad) / (2 * h) for e in np.eye(x.size)
    ])
    np.testing.assert_allclose(hess, numeric, atol=1e-6)


def test_iterations_are_few(hs_fit, bfi25, reference):
    # Fisher scoring far from the optimum, Newton near it: quadratic convergence
    assert hs_fit.n_iter_ <= 8
    assert CFA(reference["cfa_bfi"]["model"]).fit(bfi25).n_iter_ <= 8


def test_big5_five_factor_model(big5_raw):
    # the benchmark's model on real data (19,718 complete rows): converges, admissible, lavaan's df
    items = [f"{f}{i}" for f in "ENACO" for i in range(1, 11)]
    data = big5_raw[items]
    data = data[(data != 0).all(axis=1)]  # 0 = missed
    fit = CFA.from_scales({f: [f"{f}{i}" for i in range(1, 11)] for f in "ENACO"}).fit(data)
    assert fit.n_obs_ == 19718 and fit.converged_ and fit.admissible_
    assert fit.fit_indices_["df"] == 50 * 51 / 2 - (45 + 50 + 15)
    assert 0.05 < fit.fit_indices_["rmsea"] < 0.08
