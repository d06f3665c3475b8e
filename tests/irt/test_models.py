"""The estimators' contract: input errors, convergence warnings, rows without answers, the information matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from profiler.errors import ProfilerError
from profiler.irt import GPCM, GRM, IRTDataError, TwoPL
from profiler.irt._information import _item_derivatives, _pattern_scores


@pytest.fixture(scope="module")
def n_items(bfi_all, tools):
    return tools.case_data(bfi_all, "grm_N")


def test_errors_are_profiler_errors_naming_the_cell(n_items):
    bad = n_items.head(50).astype(object)
    bad.iloc[7, 2] = "often"
    with pytest.raises(IRTDataError, match=r"row 7 .*item 'N3'") as caught:
        GRM().fit(bad)
    assert isinstance(caught.value, ProfilerError)
    with pytest.raises(IRTDataError, match="'N2' has only the answer 3"):
        GRM().fit(n_items.head(50).assign(N2=3))
    with pytest.raises(IRTDataError, match="needs binary items"):
        TwoPL().fit(n_items.head(50))
    with pytest.raises(IRTDataError, match="at least 2 items"):
        GRM().fit(n_items[["N1"]])


def test_convergence_warning(n_items):
    with pytest.warns(ConvergenceWarning, match="did not converge in 3 cycles"):
        model = GRM(max_iter=3, se=None).fit(n_items)
    assert not model.converged_ and model.n_iter_ == 3


def test_rows_without_answers_are_left_out(n_items):
    empty = pd.DataFrame(np.nan, index=[9001, 9002], columns=n_items.columns)
    with_empty = GRM(se=None).fit(pd.concat([n_items, empty]))
    without = GRM(se=None).fit(n_items)
    assert with_empty.n_empty_rows_ == 2 and with_empty.n_obs_ == len(n_items)
    assert with_empty.loglik_ == without.loglik_
    assert with_empty.params_.equals(without.params_)


def test_arrays_get_mirt_item_names_and_scikit_learn_clones(n_items):
    model = GPCM(se=None, tol=1e-3).fit(n_items.to_numpy())
    assert model.items_ == [f"Item.{j}" for j in range(1, 6)]
    assert not hasattr(model, "feature_names_in_")
    copy = clone(model)
    assert copy.get_params() == model.get_params() and not hasattr(copy, "params_")


def test_oakes_information_is_minus_the_hessian_of_the_log_likelihood(n_items):
    """Central differences of the analytic score (sum of pattern scores) give the same matrix."""
    model = GRM(se=None).fit(n_items.head(400))
    model._set_standard_errors("oakes")
    design, est, quad = model._design, model._estimates, model._quadrature
    log_prior = np.log(quad.weights)[None, :]

    def gradient(vector):
        e = est.replaced(vector)
        post, _ = design.posterior(e, quad.nodes, log_prior)
        return design.counts @ _pattern_scores(design, _item_derivatives(design, e, quad.nodes), post)

    base = est.vector()
    h = 1e-5
    numeric = np.empty((len(base), len(base)))
    for k in range(len(base)):
        up, down = base.copy(), base.copy()
        up[k] += h
        down[k] -= h
        numeric[:, k] = -(gradient(up) - gradient(down)) / (2 * h)
    assert model.information_matrix_.to_numpy() == pytest.approx((numeric + numeric.T) / 2, rel=1e-5, abs=1e-4)
    # The score itself is the derivative of the log-likelihood (away from the maximum, where it is not 0).
    k, base = 3, base + 0.05
    up, down = base.copy(), base.copy()
    up[k] += h
    down[k] -= h
    ll = lambda v: design.posterior(est.replaced(v), quad.nodes, log_prior)[1]  # noqa: E731
    assert gradient(base)[k] == pytest.approx((ll(up) - ll(down)) / (2 * h), rel=1e-5)


def test_summary_and_information_tables(n_items):
    model = GRM(se=None).fit(n_items)
    info = model.information([-1.0, 0.0, 1.0])
    assert info.index.name == "theta" and list(info.columns) == ["information", "se"]
    items = model.item_information([0.0])
    assert items.sum(axis=1).iloc[0] == pytest.approx(info.loc[0.0, "information"])
    assert model.summary()["n_obs"] == len(n_items)
