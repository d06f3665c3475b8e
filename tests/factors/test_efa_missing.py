"""EFA with missing responses: listwise never silent, pairwise as psych, FIML moments by EM as lavaan.

References: ``tests/fixtures/reference/efa_missing_reference.json`` from ``make_efa_missing_reference.R``
(psych 2.2.9, lavaan 0.6-14) on all 2,800 bfi rows.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

from profiler.factors.efa import EFA
from profiler.factors.missing import MissingDataWarning, em_moments
from profiler.factors.rotation import align_factors

REFERENCE = Path(__file__).parents[1] / "fixtures" / "reference" / "efa_missing_reference.json"


@pytest.fixture(scope="module")
def ref() -> dict:
    return json.loads(REFERENCE.read_text())


@pytest.fixture(scope="module")
def items(bfi: pd.DataFrame) -> pd.DataFrame:
    return bfi.iloc[:, :25]


def _compare(efa: EFA, r: dict, atol: float) -> None:
    L = efa.loadings_.to_numpy()
    perm, signs, congruence = align_factors(L, np.array(r["loadings"]))
    assert np.all(congruence > 0.95)
    assert np.max(np.abs(L[:, perm] * signs - np.array(r["loadings"]))) <= atol
    np.testing.assert_allclose(efa.communalities_.to_numpy(), r["communality"], atol=1e-5)
    assert efa.n_obs_ == r["n_obs"]
    stats = efa.fit_statistics_
    for ours, theirs in [("chi_square", "chi_square"), ("rmsea", "rmsea"), ("tli", "tli"), ("bic", "bic"),
                         ("rmsr", "rms"), ("empirical_chi_square", "empirical_chi_square"), ("objective", "objective")]:
        assert stats[ours] == pytest.approx(r[theirs], rel=1e-5), ours


@pytest.mark.parametrize(("key", "kwargs"), [("minres_oblimin", {}), ("ml_varimax", {"method": "ml", "rotation": "varimax"})])
def test_pairwise_agrees_with_psych_including_n(items, ref, key, kwargs) -> None:
    """psych::fa(x, use = "pairwise"): n.obs = every row for chi-square, RMSEA, TLI, BIC; the pairwise
    counts weight the empirical chi-square and RMSR."""
    r = ref["pairwise"][key]
    efa = EFA(5, missing="pairwise", random_state=0, **kwargs).fit(items)
    _compare(efa, r, atol=1e-4)
    assert efa.fit_statistics_["harmonic_n"] == pytest.approx(r["harmonic_n"], rel=1e-10)
    m = efa.missing_
    assert (m.method, m.n_rows, m.n_rows_used, m.n_rows_dropped, m.n_rows_incomplete) == ("pairwise", 2800, 2800, 0, 364)
    assert m.n_cells_missing == ref["n_cells_missing"] == 508
    assert m.min_pairwise_n == 2739


def test_em_moments_agree_with_lavaan_fiml(items, ref) -> None:
    em = em_moments(items.to_numpy(dtype=float))
    assert em.converged and em.n_obs == 2800
    assert np.max(np.abs(em.mean - ref["fiml"]["mean"])) <= 1e-6
    assert np.max(np.abs(em.cov - np.array(ref["fiml"]["cov"]))) <= 1e-6
    assert em.loglik == pytest.approx(ref["fiml"]["loglik"], rel=1e-10)


def test_fiml_efa_agrees_with_psych_on_the_fiml_correlations(items, ref) -> None:
    efa = EFA(5, missing="fiml", random_state=0).fit(items)
    _compare(efa, ref["fiml"]["minres_oblimin"], atol=1e-4)
    m = efa.missing_
    assert (m.method, m.n_rows_used, m.n_rows_dropped, m.em_converged) == ("fiml", 2800, 0, True)
    # means and SDs for scoring are the FIML ones; incomplete rows still get NaN scores (never imputed)
    np.testing.assert_allclose(efa.mean_, ref["fiml"]["mean"], atol=1e-6)
    scores = efa.transform(items.iloc[:40])
    incomplete = items.iloc[:40].isna().any(axis=1).to_numpy()
    assert np.isnan(scores[incomplete]).all() and np.isfinite(scores[~incomplete]).all()


def test_em_on_complete_data_is_the_sample_moments_and_one_iteration_away() -> None:
    x = np.random.default_rng(1).standard_normal((200, 4)) @ np.array(
        [[1, 0.5, 0.2, 0], [0, 1, 0.3, 0.1], [0, 0, 1, 0.4], [0, 0, 0, 1]])
    em = em_moments(x)
    np.testing.assert_allclose(em.mean, x.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(em.cov, np.cov(x.T, bias=True), atol=1e-12)
    assert em.n_iter <= 2
    sign, logdet = np.linalg.slogdet(em.cov)
    expected = -0.5 * 200 * (4 * np.log(2 * np.pi) + logdet + 4)  # the normal log-likelihood at the MLE
    assert em.loglik == pytest.approx(expected, rel=1e-12)


def test_em_recovers_moments_under_mcar_and_ignores_empty_rows() -> None:
    rng = np.random.default_rng(7)
    cov = np.array([[1.0, 0.6, 0.3], [0.6, 1.0, 0.5], [0.3, 0.5, 1.0]])
    x = rng.multivariate_normal([1.0, 2.0, 3.0], cov, size=20000)
    x[rng.random(x.shape) < 0.2] = np.nan
    x[:5] = np.nan  # rows without any response carry no information
    em = em_moments(x)
    assert em.n_obs == np.count_nonzero(~np.isnan(x).all(axis=1)) < 20000 - 5
    np.testing.assert_allclose(em.mean, [1, 2, 3], atol=0.03)
    np.testing.assert_allclose(em.cov, cov, atol=0.04)


def test_em_errors_and_convergence_warning() -> None:
    x = np.random.default_rng(0).standard_normal((50, 3))
    x[np.random.default_rng(1).random(x.shape) < 0.3] = np.nan
    with pytest.warns(ConvergenceWarning, match="EM"):
        em_moments(x, max_iter=1)
    y = x.copy()
    y[:, 1] = np.nan
    with pytest.raises(ValueError, match="without any response"):
        em_moments(y)
    with pytest.raises(ValueError, match="at least 2 rows"):
        em_moments(np.full((3, 2), np.nan))


def test_complete_data_reports_nothing_missing(bfi25) -> None:
    efa = EFA(5, random_state=0).fit(bfi25)
    assert efa.missing_.method == "complete" and efa.missing_.n_cells_missing == 0 and efa.n_rows_dropped_ == 0
    assert efa.missing_.to_dict()["n_rows"] == 2436


def test_big5_with_5_percent_missing_cells_is_never_silent(big5_raw) -> None:
    """5% of BIG5's cells missing at random: listwise keeps ~7.7% of the rows (0.95^50) and says so;
    FIML keeps every row and records the EM run."""
    items = big5_raw.loc[:, [f"{d}{i}" for d in "ENACO" for i in range(1, 11)]].astype(float)
    items = items.where(items > 0)  # 0 = not answered in this file
    items = items.dropna().reset_index(drop=True)
    holes = items.mask(np.random.default_rng(13).random(items.shape) < 0.05)
    with pytest.warns(MissingDataWarning, match=r"dropped \d+ of \d+ rows \(9[23]\.\d%\)") as record:
        listwise = EFA(5, random_state=0).fit(holes)
    assert len(record) == 1
    m = listwise.missing_
    assert m.n_rows_used / m.n_rows == pytest.approx(0.95**50, abs=0.01)
    assert m.proportion_missing == pytest.approx(0.05, abs=0.002)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing is dropped, so nothing to warn about
        fiml = EFA(5, missing="fiml", random_state=0).fit(holes)
    assert fiml.missing_.n_rows_used == fiml.n_obs_ == len(holes) and fiml.missing_.em_converged
    complete = EFA(5, random_state=0).fit(items)
    perm, signs, congruence = align_factors(fiml.loadings_.to_numpy(), complete.loadings_.to_numpy())
    assert np.all(congruence > 0.999)  # FIML on 5% MCAR holes recovers the complete-data factors
    np.testing.assert_allclose(fiml.loadings_.to_numpy()[:, perm] * signs, complete.loadings_.to_numpy(), atol=0.02)
