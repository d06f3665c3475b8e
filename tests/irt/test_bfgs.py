"""The M-step minimiser follows R's optim(method = "BFGS") step for step (Rosenbrock, ?optim's example)."""

from __future__ import annotations

import numpy as np
import pytest

from profiler.irt._bfgs import vmmin


def rosenbrock(x):
    return 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2


def rosenbrock_gradient(x):
    return np.array([-400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0]), 200 * (x[1] - x[0] ** 2)])


def test_same_path_as_r_optim(irt_ref):
    ref = irt_ref["optim_bfgs_rosenbrock"]
    calls = {"fn": 0, "gr": 0}

    def fn(x):
        calls["fn"] += 1
        return rosenbrock(x)

    def gr(x):
        calls["gr"] += 1
        return rosenbrock_gradient(x)

    result = vmmin(fn, gr, np.array(ref["start"]))
    assert result.x == pytest.approx(ref["par"], abs=1e-12)
    assert result.value == pytest.approx(ref["value"], abs=1e-15)
    assert [calls["fn"], calls["gr"]] == ref["counts"]
    assert result.converged == (ref["convergence"] == 0)


def test_iteration_limit_as_r(irt_ref):
    ref = irt_ref["optim_bfgs_rosenbrock"]
    result = vmmin(rosenbrock, rosenbrock_gradient, np.array(ref["start"]), maxit=15)
    assert result.x == pytest.approx(ref["maxit15_par"], abs=1e-12)
    assert result.value == pytest.approx(ref["maxit15_value"], abs=1e-12)
    assert not result.converged and ref["maxit15_convergence"] == 1


def test_non_finite_start_is_refused():
    with pytest.raises(FloatingPointError):
        vmmin(lambda x: np.inf, lambda x: x, np.zeros(2))
