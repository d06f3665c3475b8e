"""psych::fa's bootstrap (n.iter): the same procedure, compared as distributions with psych's
(``efa_bootstrap_reference.json`` from ``make_efa_bootstrap_reference.R``, 200 replicates)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from profiler.factors._efa_bootstrap import target_rotate
from profiler.factors.efa import EFA
from profiler.factors.rotation import align_factors

REFERENCE = Path(__file__).parents[1] / "fixtures" / "reference" / "efa_bootstrap_reference.json"


@pytest.fixture(scope="module")
def ref() -> dict:
    return json.loads(REFERENCE.read_text())


def test_bootstrap_distribution_agrees_with_psych(bfi25, ref) -> None:
    efa = EFA(5, n_starts=2, random_state=0).fit(bfi25)
    boot = efa.bootstrap(bfi25, 60, random_state=1)
    assert boot.n_iter == 60 and boot.n_failed == 0 and boot.replicates.shape == (60, 25, 5)
    perm, signs, _ = align_factors(efa.loadings_.to_numpy(), np.array(ref["loadings"]))
    sd = boot.sd.to_numpy()[:, perm]
    psych_sd = np.array(ref["sds"])
    ratio = sd / psych_sd
    # an SD from 60 replicates has ~9% Monte Carlo error, psych's from 200 ~5%: compare the bulk
    assert 0.9 <= np.median(ratio) <= 1.1
    assert np.mean((ratio > 0.75) & (ratio < 1.3)) >= 0.95
    mean = boot.mean.to_numpy()[:, perm] * signs
    assert np.max(np.abs(mean - np.array(ref["means"])) / psych_sd) <= 1.0  # means: within a bootstrap SD
    assert np.all(boot.lower.to_numpy() < boot.mean.to_numpy()) and np.all(boot.upper.to_numpy() > boot.mean.to_numpy())
    np.testing.assert_allclose(np.diag(boot.phi_mean.to_numpy()), 1.0)
    # seeded: the same replicates again
    again = efa.bootstrap(bfi25, 3, random_state=7)
    np.testing.assert_array_equal(again.replicates, efa.bootstrap(bfi25, 3, random_state=7).replicates)


def test_target_rotation_recovers_a_rotated_copy() -> None:
    """target.rot undoes an oblique transformation of the target exactly (unit factor variances)."""
    rng = np.random.default_rng(0)
    L0 = rng.uniform(-0.2, 0.8, (12, 3))
    T = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    z, U = target_rotate(L0 @ T, L0)
    np.testing.assert_allclose(z, L0, atol=1e-10)
    with pytest.raises(ValueError, match="n_iter"):
        EFA(2).fit(rng.standard_normal((50, 6))).bootstrap(rng.standard_normal((50, 6)), 1)
