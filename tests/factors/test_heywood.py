"""Heywood cases and singular matrices are reported and warned about, never passed silently.

The omega reference is ``omega_big5_reference.json`` from ``make_omega_big5_reference.R`` (psych 2.2.9 on
the ten BIG5 Neuroticism items, where psych warns of an "ultra-Heywood case" in the general factor).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from profiler.factors.efa import EFA, HeywoodWarning
from profiler.factors.extraction import _weighted_ls_objective, extract
from profiler.factors.omega import omega

REFERENCE = Path(__file__).parents[1] / "fixtures" / "reference" / "omega_big5_reference.json"


@pytest.fixture(scope="module")
def ref() -> dict:
    return json.loads(REFERENCE.read_text())


@pytest.fixture(scope="module")
def neuroticism(big5_raw: pd.DataFrame) -> pd.DataFrame:
    items = big5_raw[[f"N{i}" for i in range(1, 11)]].astype(float)
    return items.where(items > 0).dropna()


def test_big5_neuroticism_omega_warns_of_the_second_order_heywood_case_and_agrees_with_psych(neuroticism, ref):
    assert len(neuroticism) == ref["n"]
    assert any("ultra-Heywood" in w for w in ref["warnings"])  # psych warns too
    with pytest.warns(HeywoodWarning, match="second-order Heywood case: a group factor loads 1.005"):
        o = omega(neuroticism, n_factors=3)
    assert o.general_heywood and len(o.problems) == 1 and o.heywood == ()
    # omega_h was 2.4e-3 off psych when minres minimised its own criterion at the bound (see extract)
    assert o.omega_h == pytest.approx(ref["omega_h"], abs=2e-4)
    assert o.omega_total == pytest.approx(ref["omega_total"], abs=1e-6)
    assert o.alpha == pytest.approx(ref["alpha"], abs=1e-9)
    assert o.omega_limit == pytest.approx(ref["omega_limit"], abs=2e-4)
    # the general loadings, matched by size: psych's 1.005 and .660 to 1e-3; its third (.182) stopped
    # short of the stationary point of the gradient psych gives optim (next test), hence 3e-3
    ours, theirs = np.sort(np.abs(o.general_loadings.to_numpy())), np.sort(np.abs(ref["gloading"]))
    assert np.max(np.abs(ours[1:] - theirs[1:])) <= 1e-3
    assert abs(ours[0] - theirs[0]) <= 3e-3
    # the group factor with the Heywood loading has no variance of its own (psych sets it to 0)
    heywood_factor = o.general_loadings.abs().idxmax()
    assert np.allclose(o.loadings[f"{heywood_factor}*"], 0.0)
    sl = np.array(ref["sl"])
    assert np.max(np.abs(np.sort(o.loadings["g"].to_numpy()) - np.sort(sl[:, 0]))) <= 1e-3
    np.testing.assert_allclose(np.sort(o.loadings["h2"].to_numpy()), np.sort(sl[:, 4]), atol=5e-5)  # R's optim


def test_psychs_second_order_fit_stops_short_of_its_stationary_point(ref) -> None:
    """On psych's own Phi, the gradient psych hands optim (uls's) is far from 0 at psych's psi_3 and 0 at
    ours; on Phi rounded to 8 decimals, R's optim reaches that point, and minres agrees to 1e-6."""
    phi = np.array(ref["phi"])
    ours = extract(phi, 1, "minres")
    _, g_ours = _weighted_ls_objective(ours.psi, phi, 1, "uls", None)
    _, g_psych = _weighted_ls_objective(np.array(ref["second_order_psi"]), phi, 1, "uls", None)
    assert abs(g_ours[2]) < 1e-7 < 1e-3 < abs(g_psych[2])
    phi8 = extract(np.array(ref["phi8"]), 1, "minres")
    assert phi8.heywood[0] and phi8.psi[0] == pytest.approx(0.005)
    np.testing.assert_allclose(phi8.loadings[:, 0], ref["phi8_loadings"], atol=1e-6)
    np.testing.assert_allclose(phi8.psi, ref["phi8_psi"], atol=1e-6)


HEYWOOD_BLOCK = [[1.0, 0.8, 0.6], [0.8, 1.0, 0.4], [0.6, 0.4, 1.0]]  # one factor: l1^2 = .8 * .6 / .4 = 1.2


def test_first_order_heywood_in_omega_is_warned_and_listed() -> None:
    R = np.full((9, 9), 0.15)
    R[:3, :3] = HEYWOOD_BLOCK
    R[3:6, 3:6] = R[6:, 6:] = 0.49
    np.fill_diagonal(R, 1.0)
    names = [f"i{j}" for j in range(9)]
    with pytest.warns(HeywoodWarning, match="Heywood case in the 3-factor minres solution: communality >= 0.995 for i0"):
        o = omega(pd.DataFrame(R, index=names, columns=names), n_factors=3)
    assert o.heywood == ("i0",) and any("Heywood case in the 3-factor" in p for p in o.problems)


def test_efa_heywood_is_reported_and_warned() -> None:
    R = pd.DataFrame(HEYWOOD_BLOCK, index=["a", "b", "c"], columns=["a", "b", "c"])
    with pytest.warns(HeywoodWarning, match="communality >= 1 - 0.005 for a"):
        efa = EFA(1).fit_correlation(R, n_obs=500)
    assert efa.heywood_.tolist() == [True, False, False]


@pytest.mark.parametrize("method", ["ml", "wls", "gls", "alpha"])
def test_an_exactly_singular_matrix_is_refused_without_numpy_warnings(method) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 6))
    x = np.column_stack([x, x[:, 0] + x[:, 1]])  # a total score beside its parts
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning from numpy would fail here
        with pytest.raises(ValueError, match="singular|not positive definite"):
            EFA(2, method=method).fit(x)
