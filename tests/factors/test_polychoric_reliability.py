"""EFA, omega and alpha from polychoric correlations against psych (``polychoric_reliability_reference.json`` from
``make_polychoric_reliability_reference.R``: psych::fa(cor = "poly"), psych::omega(poly = TRUE), alpha of
psych::polychoric). psych's polychoric adds 0.5 to empty cells and stops at ~1e-4, so 1e-4 is the
natural tolerance here."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from profiler.factors.efa import EFA
from profiler.factors.omega import omega
from profiler.factors.ordinal_reliability import ordinal_alpha
from profiler.factors.reliability import cronbach_alpha
from profiler.factors.rotation import align_factors

REFERENCE = Path(__file__).parents[1] / "fixtures" / "reference" / "polychoric_reliability_reference.json"


@pytest.fixture(scope="module")
def ref() -> dict:
    return json.loads(REFERENCE.read_text())


def test_efa_on_polychoric_correlations_agrees_with_psych(bfi25, ref) -> None:
    r = ref["fa_poly"]
    efa = EFA(5, cor="polychoric", random_state=0).fit(bfi25)
    assert np.max(np.abs(efa.correlation_ - np.array(r["rho"]))) <= 1e-4
    L = efa.loadings_.to_numpy()
    perm, signs, congruence = align_factors(L, np.array(r["loadings"]))
    assert np.all(congruence > 0.99)
    assert np.max(np.abs(L[:, perm] * signs - np.array(r["loadings"]))) <= 2e-4
    phi = efa.phi_.to_numpy()[np.ix_(perm, perm)] * np.outer(signs, signs)
    assert np.max(np.abs(phi - np.array(r["phi"]))) <= 2e-4
    assert efa.n_obs_ == r["n_obs"] and efa.dof_ == r["dof"]
    for ours, theirs in [(efa.chi_square_, r["chi_square"]), (efa.rmsea_, r["rmsea"]), (efa.tli_, r["tli"])]:
        assert ours == pytest.approx(theirs, rel=2e-4)
    # polychoric loadings are larger than Pearson ones on 6-point items (less attenuation)
    pearson = EFA(5, random_state=0).fit(bfi25)
    assert efa.communalities_.mean() > pearson.communalities_.mean() + 0.03


def test_polychoric_efa_with_missing_answers(bfi) -> None:
    items = bfi.iloc[:400, :25]
    efa = EFA(5, cor="polychoric", missing="pairwise", random_state=0).fit(items)
    assert efa.n_obs_ == 400 and efa.missing_.method == "pairwise" and efa.missing_.n_rows_incomplete > 0
    with pytest.raises(ValueError, match="missing='fiml' is for Pearson"):
        EFA(5, cor="polychoric", missing="fiml").fit(items)


def test_omega_from_polychoric_correlations_agrees_with_psych(bfi25, ref) -> None:
    r = ref["omega_poly"]
    o = omega(bfi25, 5, poly=True)
    assert o.omega_h == pytest.approx(r["omega_h"], abs=1e-4)
    assert o.omega_total == pytest.approx(r["omega_total"], abs=1e-4)
    assert o.alpha == pytest.approx(r["alpha"], abs=1e-4)
    with pytest.raises(ValueError, match="poly=True"):
        omega(bfi25.corr(), 5, poly=True)


@pytest.mark.parametrize("scale", ["agreeableness", "conscientiousness", "extraversion", "neuroticism", "openness"])
def test_ordinal_alpha_and_one_factor_omega_agree_with_psych(bfi25, ref, scale) -> None:
    r = ref["scales"][scale]
    a = ordinal_alpha(bfi25, r["keys"], item_range=(1, 6))
    assert a.alpha == pytest.approx(r["ordinal_alpha"], abs=1e-4)
    assert a.average_r == pytest.approx(r["average_r"], abs=1e-4)
    assert a.items == tuple(r["keys"]) and a.n_obs == len(bfi25)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one factor: omega_h is not meaningful (psych says so too)
        o = omega(bfi25, 1, keys=r["keys"], item_range=(1, 6), poly=True)
    assert o.omega_total == pytest.approx(r["omega_total"], abs=1e-4)
    # ordinal alpha exceeds alpha of the same answers treated as numbers
    assert a.alpha > cronbach_alpha(bfi25, r["keys"], item_range=(1, 6)).std_alpha


def test_ordinal_alpha_by_hand_and_for_several_scales(bfi25) -> None:
    keys = {"n": ["N1", "N2", "N3"], "o": ["O1", "-O2"]}
    out = ordinal_alpha(bfi25, keys, item_range=(1, 6))
    R = out["n"].correlation.to_numpy()
    assert out["n"].alpha == pytest.approx(3 / 2 * (1 - 3 / R.sum()), abs=1e-12)
    assert out["o"].correlation.iloc[0, 1] > 0  # O2 reversed
    with pytest.raises(ValueError, match="item_range"):
        ordinal_alpha(bfi25, ["O1", "-O2"])
