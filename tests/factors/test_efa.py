"""EFA against R's psych::fa (reference JSON), hand calculations, and the scikit-learn contract."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from profiler.factors._input import correlation_from_data, correlation_from_matrix
from profiler.factors.efa import EFA, HeywoodWarning, fit_statistics
from profiler.factors.extraction import smc
from profiler.factors.missing import MissingDataWarning
from profiler.factors.rotation import align_factors
from profiler.factors.scores import score_weights

METHODS = ("minres", "ml", "pa")
ROTATIONS = ("none", "varimax", "oblimin", "promax", "geominQ", "quartimin")
R_TO_PROFILER = {"geominQ": "geomin"}
COMBOS = [(fm, rot) for fm in METHODS for rot in ROTATIONS]

_FITS: dict[tuple[str, str], EFA] = {}


def _fit(bfi25: pd.DataFrame, fm: str, rot: str) -> EFA:
    """Fitted once per module: the 18 reference fits are shared by several tests."""
    if (fm, rot) not in _FITS:
        _FITS[fm, rot] = EFA(5, method=fm, rotation=R_TO_PROFILER.get(rot, rot), random_state=0).fit(bfi25)
    return _FITS[fm, rot]


def match_factors(ours: np.ndarray, theirs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column permutation and signs mapping our factors onto R's, by absolute Tucker congruence."""
    perm, signs, congruence = align_factors(ours, theirs)
    assert np.all(congruence > 0.9), "factors do not correspond"
    return perm, signs


def _aligned(efa: EFA, ref: dict) -> dict[str, np.ndarray]:
    L = efa.loadings_.to_numpy()
    perm, s = match_factors(L, np.array(ref["loadings"]))
    return {
        "loadings": L[:, perm] * s,
        "phi": efa.phi_.to_numpy()[np.ix_(perm, perm)] * np.outer(s, s),
        "perm": perm,
        "signs": s,
    }


def _ref_phi(ref: dict) -> np.ndarray:
    # R's NULL Phi (orthogonal) is serialised as {}: compare with the identity
    return np.array(ref["phi"]) if isinstance(ref["phi"], list) else np.eye(5)


# --- agreement with psych::fa ----------------------------------------------------------------------


@pytest.mark.parametrize(("fm", "rot"), COMBOS, ids=[f"{fm}_{rot}" for fm, rot in COMBOS])
def test_agrees_with_psych(bfi25: pd.DataFrame, reference: dict, fm: str, rot: str) -> None:
    ref = reference["efa"][f"{fm}_{rot}"]
    efa = _fit(bfi25, fm, rot)
    al = _aligned(efa, ref)
    assert np.max(np.abs(al["loadings"] - np.array(ref["loadings"]))) <= 1e-3
    assert np.max(np.abs(efa.communalities_.to_numpy() - ref["communalities"])) <= 1e-3
    assert np.max(np.abs(efa.uniquenesses_.to_numpy() - ref["uniquenesses"])) <= 1e-3
    assert np.max(np.abs(al["phi"] - _ref_phi(ref))) <= 1e-3
    assert efa.dof_ == ref["dof"]
    for ours, theirs in [
        (efa.chi_square_, ref["chi_square"]),
        (efa.rmsea_, ref["rmsea"]),
        (efa.tli_, ref["tli"]),
        (efa.bic_, ref["bic"]),
    ]:
        assert ours == pytest.approx(theirs, rel=1e-3)
    scores = efa.transform(bfi25.iloc[:10])[:, al["perm"]] * al["signs"]
    assert np.max(np.abs(scores - np.array(ref["regression_scores_first10"]))) <= 1e-3
    assert not efa.heywood_.any()
    assert efa.converged_


@pytest.mark.parametrize(
    ("method", "key"), [("bartlett", "bartlett_scores_first10"), ("tenberge", "tenberge_scores_first10")]
)
def test_bartlett_and_tenberge_scores_agree_with_psych(bfi25, reference, method, key) -> None:
    ref = reference["efa"]["minres_oblimin"]
    efa = _fit(bfi25, "minres", "oblimin")
    al = _aligned(efa, ref)
    scores = efa.factor_scores(bfi25.iloc[:10], method=method)[:, al["perm"]] * al["signs"]
    assert np.max(np.abs(scores - np.array(ref[key]))) <= 1e-3
    # the same through the init parameter and transform
    other = EFA(5, scores=method, random_state=0).fit(bfi25)
    expected = efa.factor_scores(bfi25.iloc[:10], method=method)
    np.testing.assert_allclose(other.transform(bfi25.iloc[:10]), expected, atol=1e-9)


def test_reduced_eigenvalues_agree_with_psych_values(bfi25, reference) -> None:
    """psych's f$values for one minres factor (what fa.parallel reports as observed fa eigenvalues)."""
    efa = EFA(1).fit(bfi25)
    expected = reference["parallel_analysis"]["observed_fa_eigenvalues"]
    np.testing.assert_allclose(efa.reduced_eigenvalues_, expected, atol=1e-5)


def test_order_and_signs_follow_psych(bfi25) -> None:
    efa = _fit(bfi25, "minres", "oblimin")
    ss = efa.variance_.loc["SS loadings"].to_numpy()
    assert np.all(np.diff(ss) <= 0), "factors sorted by variance explained"
    assert np.all(efa.loadings_.sum(axis=0) > 0), "column sums positive"
    L, Phi = efa.loadings_.to_numpy(), efa.phi_.to_numpy()
    np.testing.assert_allclose(ss, np.diag(Phi @ L.T @ L))
    np.testing.assert_allclose(efa.structure_.to_numpy(), L @ Phi)
    # the rotation matrix maps the unrotated loadings onto the pattern and gives Phi
    T = efa.rotation_matrix_
    np.testing.assert_allclose(efa.unrotated_loadings_.to_numpy() @ T, L, atol=1e-12)
    Ti = np.linalg.inv(T)
    np.testing.assert_allclose(Ti @ Ti.T, Phi, atol=1e-10)


def test_variance_accounted_orthogonal(bfi25) -> None:
    efa = _fit(bfi25, "minres", "varimax")
    v = efa.variance_
    assert v.loc["SS loadings"].sum() == pytest.approx(efa.communalities_.sum())
    np.testing.assert_allclose(v.loc["Proportion Var"], v.loc["SS loadings"] / 25)
    assert v.loc["Cumulative Proportion"].iloc[-1] == pytest.approx(1.0)
    np.testing.assert_array_equal(efa.phi_.to_numpy(), np.eye(5))


# --- hand calculations ------------------------------------------------------------------------------


def _one_factor_corr(lam: np.ndarray) -> np.ndarray:
    R = np.outer(lam, lam)
    np.fill_diagonal(R, 1.0)
    return R


@pytest.mark.parametrize("method", METHODS)
def test_exact_one_factor_model_is_recovered(method: str) -> None:
    """R = lam lam' + diag(1 - lam^2) exactly: every method recovers lam, and the fit is perfect."""
    lam = np.array([0.8, 0.7, 0.6, 0.5, 0.4, 0.3])
    efa = EFA(1, method=method, tol=1e-12 if method == "pa" else None, max_iter=2000 if method == "pa" else None)
    efa.fit_correlation(_one_factor_corr(lam), n_obs=500)
    np.testing.assert_allclose(efa.loadings_.to_numpy().ravel(), lam, atol=1e-5)
    np.testing.assert_allclose(efa.uniquenesses_.to_numpy(), 1 - lam**2, atol=1e-5)
    assert efa.dof_ == 6 * 5 / 2 - 6  # p(p-1)/2 - pk + k(k-1)/2
    assert efa.chi_square_ == pytest.approx(0.0, abs=1e-4)
    assert efa.rmsea_ == 0.0
    # regression weights by hand: R^-1 lam
    np.testing.assert_allclose(efa.weights_.to_numpy().ravel(), np.linalg.solve(_one_factor_corr(lam), lam), atol=1e-5)


def test_fit_statistics_by_hand() -> None:
    """A 1-factor model that does not fit exactly, every psych formula written out."""
    R = np.array([[1.0, 0.5, 0.4, 0.3], [0.5, 1.0, 0.35, 0.2], [0.4, 0.35, 1.0, 0.45], [0.3, 0.2, 0.45, 1.0]])
    L = np.array([[0.7], [0.55], [0.65], [0.5]])
    n, p, k = 200, 4, 1
    st = fit_statistics(R, L, None, n)
    M = L @ L.T
    np.fill_diagonal(M, 1.0)
    F = np.trace(np.linalg.solve(M, R)) - np.log(np.linalg.det(np.linalg.solve(M, R))) - p
    nm = (n - 1) - (2 * p + 5) / 6 - 2 * k / 3
    dof = p * (p - 1) / 2 - p * k + k * (k - 1) / 2
    F0 = p - np.log(np.linalg.det(R)) - p
    assert st["objective"] == pytest.approx(F)
    assert st["chi_square"] == pytest.approx(F * nm)
    assert st["dof"] == dof == 2
    assert st["rmsea"] == pytest.approx(np.sqrt(max(F * nm / (dof * n) - 1 / (n - 1), 0)))
    assert st["tli"] == pytest.approx((F0 * 2 / (p * (p - 1)) - F / dof) / (F0 * 2 / (p * (p - 1)) - 1 / nm))
    assert st["bic"] == pytest.approx(F * nm - dof * np.log(n))
    resid = R - L @ L.T
    np.fill_diagonal(resid, 0)
    assert st["rmsr"] == pytest.approx(np.sqrt(np.sum(resid**2) / (p * (p - 1))))
    assert st["rmsea_lower"] <= st["rmsea"] <= st["rmsea_upper"]
    assert st.chi_square == st["chi_square"] and not hasattr(st, "cfi")


def test_score_weights_by_hand() -> None:
    lam = np.array([[0.8], [0.6], [0.5]])
    R = _one_factor_corr(lam.ravel())
    u2 = 1 - lam.ravel() ** 2
    bartlett = (lam.ravel() / u2) / np.sum(lam.ravel() ** 2 / u2)
    np.testing.assert_allclose(score_weights(R, lam, None, "bartlett").ravel(), bartlett)
    # ten Berge with one factor: the regression weights rescaled to unit score variance
    reg = np.linalg.solve(R, lam).ravel()
    np.testing.assert_allclose(score_weights(R, lam, None, "tenberge").ravel(), reg / np.sqrt(reg @ R @ reg))


def test_smc_by_hand() -> None:
    R = np.array([[1.0, 0.5, 0.3], [0.5, 1.0, 0.2], [0.3, 0.2, 1.0]])
    # SMC of item 0 = r' R_rest^-1 r
    r = R[0, 1:]
    assert smc(R)[0] == pytest.approx(r @ np.linalg.solve(R[1:, 1:], r))


# --- missing data -----------------------------------------------------------------------------------


def test_missing_raise_policy(bfi: pd.DataFrame) -> None:
    items = bfi.iloc[:, :25]
    with pytest.raises(ValueError, match=r"Missing values \(NaN\) in 364 of 2800 rows.*never imputes"):
        EFA(5, missing="raise").fit(items)
    with pytest.raises(ValueError, match="NaN"):
        correlation_from_data(items.to_numpy(), missing="raise")


def test_listwise_equals_complete_rows(bfi: pd.DataFrame, bfi25: pd.DataFrame) -> None:
    items = bfi.iloc[:, :25]
    with pytest.warns(MissingDataWarning, match="dropped 364 of 2800 rows"):
        a = EFA(5, missing="listwise", random_state=0).fit(items)
    b = _fit(bfi25, "minres", "oblimin")
    assert a.n_obs_ == 2436
    assert (a.missing_.method, a.missing_.n_rows_dropped, a.n_rows_dropped_) == ("listwise", 364, 364)
    np.testing.assert_allclose(a.loadings_.to_numpy(), b.loadings_.to_numpy(), atol=1e-10)
    assert a.chi_square_ == pytest.approx(b.chi_square_)
    # incomplete rows get NaN scores, complete rows their scores
    scores = a.transform(items.iloc[:30])
    incomplete = items.iloc[:30].isna().any(axis=1).to_numpy()
    assert incomplete.any() and np.isnan(scores[incomplete]).all()
    assert np.isfinite(scores[~incomplete]).all()


def test_pairwise_uses_pairwise_complete_correlations(bfi: pd.DataFrame) -> None:
    items = bfi.iloc[:, :25]
    efa = EFA(5, missing="pairwise", random_state=0).fit(items)
    np.testing.assert_allclose(efa.correlation_, items.corr().to_numpy(), atol=1e-12)  # pandas: pairwise
    counts = items.notna().astype(int).T @ items.notna().astype(int)
    off = counts.to_numpy()[~np.eye(25, dtype=bool)]
    assert efa.n_obs_ == 2800  # psych's n.obs: every row
    assert efa.missing_.min_pairwise_n == off.min()
    with pytest.warns(MissingDataWarning):
        listwise = EFA(5, missing="listwise", random_state=0).fit(items)
    assert not np.allclose(efa.correlation_, listwise.correlation_, atol=1e-3)


def test_input_errors() -> None:
    with pytest.raises(ValueError, match="Infinite"):
        correlation_from_data(np.array([[1.0, 2.0], [np.inf, 1.0], [2.0, 3.0]]))
    with pytest.raises(ValueError, match="without variance cannot be correlated: b"):
        correlation_from_data(pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [2.0, 2.0, 2.0, 2.0]}))
    with pytest.raises(ValueError, match="not symmetric"):
        correlation_from_matrix(np.array([[1.0, 0.5], [0.2, 1.0]]))
    with pytest.raises(ValueError, match="n_obs"):
        correlation_from_matrix(np.eye(3), n_obs=1.5)
    with pytest.raises(ValueError, match="missing must be one of"):
        correlation_from_data(np.ones((4, 2)), missing="impute")


# --- correlation-matrix input -----------------------------------------------------------------------


def test_correlation_input_equals_raw_input(bfi25: pd.DataFrame) -> None:
    raw = _fit(bfi25, "ml", "oblimin")
    from_r = EFA(5, method="ml", random_state=0).fit_correlation(bfi25.corr(), n_obs=len(bfi25))
    np.testing.assert_allclose(from_r.loadings_.to_numpy(), raw.loadings_.to_numpy(), atol=1e-8)
    np.testing.assert_allclose(from_r.phi_.to_numpy(), raw.phi_.to_numpy(), atol=1e-8)
    for name in ("chi_square_", "rmsea_", "tli_", "bic_"):
        assert getattr(from_r, name) == pytest.approx(getattr(raw, name), rel=1e-9)
    assert list(from_r.feature_names_in_) == list(bfi25.columns)
    # a covariance matrix gives the same solution
    from_cov = EFA(5, method="ml", random_state=0).fit_correlation(bfi25.cov(), n_obs=len(bfi25))
    np.testing.assert_allclose(from_cov.loadings_.to_numpy(), raw.loadings_.to_numpy(), atol=1e-8)
    # no means/SDs: transform refuses, sample standardisation works (and equals psych's scale(x))
    with pytest.raises(ValueError, match="standardize='sample'"):
        from_r.transform(bfi25)
    np.testing.assert_allclose(from_r.factor_scores(bfi25, standardize="sample"), raw.transform(bfi25), atol=1e-6)


def test_correlation_input_without_n_has_no_chi_square(bfi25: pd.DataFrame) -> None:
    efa = EFA(5, rotation="none").fit_correlation(bfi25.corr().to_numpy())
    assert np.isnan(efa.chi_square_) and np.isnan(efa.rmsea_) and np.isnan(efa.bic_)
    assert efa.dof_ == 185
    assert not hasattr(efa, "feature_names_in_")


# --- Heywood cases and convergence ------------------------------------------------------------------


def test_heywood_case_warns_and_is_flagged() -> None:
    """One factor for r12 = r13 = .8, r23 = .5 needs lam1^2 = r12 r13 / r23 = 1.28 > 1 (R is positive
    definite: det = .11)."""
    R = pd.DataFrame([[1.0, 0.8, 0.8], [0.8, 1.0, 0.5], [0.8, 0.5, 1.0]], index=list("abc"), columns=list("abc"))
    for method in ("minres", "ml"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            efa = EFA(1, method=method).fit_correlation(R, n_obs=300)
        heywood = [w for w in caught if issubclass(w.category, HeywoodWarning)]
        assert len(heywood) == 1 and "Heywood case: communality >= 1 - 0.005 for a." in str(heywood[0].message)
        # anything else may only be the smoothing notice for the improper model (psych warns too)
        assert all("not positive definite" in str(w.message) for w in caught if w not in heywood)
        assert efa.heywood_.to_dict() == {"a": True, "b": False, "c": False}
        assert efa.uniquenesses_["a"] <= 0.005 + 1e-6


def test_ml_refuses_an_indefinite_matrix() -> None:
    R = np.array([[1.0, 0.9, 0.9], [0.9, 1.0, 0.6], [0.9, 0.6, 1.0]])  # det < 0
    with pytest.raises(ValueError, match="positive definite"):
        EFA(1, method="ml").fit_correlation(R, n_obs=100)


def test_convergence_warnings(bfi25: pd.DataFrame) -> None:
    with pytest.warns(ConvergenceWarning, match="oblimin rotation did not converge"):
        efa = EFA(5, rotation="oblimin", rotation_max_iter=3, random_state=0).fit(bfi25)
    assert not efa.converged_
    with pytest.warns(ConvergenceWarning, match="minres extraction did not converge"):
        EFA(5, rotation="none", max_iter=2).fit(bfi25)


# --- scikit-learn contract ----------------------------------------------------------------------------


def test_dataframe_names_kept(bfi25: pd.DataFrame) -> None:
    efa = _fit(bfi25, "minres", "oblimin")
    assert list(efa.feature_names_in_) == list(bfi25.columns)
    assert list(efa.loadings_.index) == list(bfi25.columns)
    assert list(efa.get_feature_names_out()) == [f"factor{i}" for i in range(1, 6)]
    out = EFA(5, random_state=0).set_output(transform="pandas").fit(bfi25).transform(bfi25.iloc[:3])
    assert list(out.columns) == [f"factor{i}" for i in range(1, 6)]
    with pytest.raises(ValueError, match="feature names"):
        efa.transform(bfi25.iloc[:3, ::-1])


def test_parameter_validation(bfi25: pd.DataFrame) -> None:
    with pytest.raises(InvalidParameterError, match="method"):
        EFA(method="ols").fit(bfi25)
    with pytest.raises(InvalidParameterError, match="rotation"):
        EFA(rotation="oblique").fit(bfi25)
    with pytest.raises(ValueError, match="n_factors=25 must be smaller"):
        EFA(25).fit(bfi25)


def test_seeded_starts_are_reproducible(bfi25: pd.DataFrame) -> None:
    a = EFA(5, rotation="geomin", random_state=3, n_starts=3).fit(bfi25)
    b = EFA(5, rotation="geomin", random_state=3, n_starts=3).fit(bfi25)
    np.testing.assert_array_equal(a.loadings_.to_numpy(), b.loadings_.to_numpy())
    np.testing.assert_array_equal(a.rotation_start_criteria_, b.rotation_start_criteria_)


# Heywood warnings are correct behaviour on scikit-learn's synthetic check data (a few nearly collinear
# columns): they are ignored here, and every check must pass.
@pytest.mark.filterwarnings("ignore::profiler.factors.efa.HeywoodWarning")
@parametrize_with_checks(
    [
        EFA(),
        EFA(method="ml", missing="raise", scores="bartlett"),
        EFA(missing="pairwise", scores="tenberge", rotation="promax"),
    ]
)
def test_sklearn_contract(estimator, check) -> None:
    check(estimator)
