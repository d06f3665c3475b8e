"""The variable-metric (BFGS) minimiser of R's ``optim(method = "BFGS")``, so that mirt's M-step can be followed.

mirt's EM stops while still moving (its tolerance is on the change per cycle), so its estimates depend
on the path taken; reproducing them to 1e-3 means taking the same path: the same M-step minimiser with
the same rules. This is Nash's variable-metric algorithm (Compact Numerical Methods for Computers,
Algorithm 21) with the constants and stopping rules R uses: backtracking by a factor 0.2 until the
Armijo condition with 1e-4 holds, the inverse-Hessian approximation reset to the identity when a step
makes no progress or the curvature condition fails, every ``2 n`` gradient evaluations, and a stop when
the objective's relative change falls below ``reltol`` right after a reset, or after ``maxit``
iterations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

STEP_REDUCTION = 0.2
ACCEPT_TOL = 1e-4
REL_TEST = 10.0
DEFAULT_RELTOL = float(np.sqrt(np.finfo(float).eps))  # R's optim default, 1.490116e-08


@dataclass(frozen=True)
class Minimum:
    x: np.ndarray
    value: float
    iterations: int
    converged: bool


def vmmin(fn: Callable[[np.ndarray], float], grad: Callable[[np.ndarray], np.ndarray], x0: np.ndarray, *,
          maxit: int = 100, reltol: float = DEFAULT_RELTOL, abstol: float = -np.inf) -> Minimum:
    """Minimise ``fn`` from ``x0`` as R's ``optim(x0, fn, grad, method = "BFGS")`` does."""
    b = np.array(x0, dtype=float)
    n = b.size
    f = fn(b)
    if not np.isfinite(f):
        raise FloatingPointError("the objective is not finite at the starting values")
    fmin = f
    g = grad(b)
    iterations, gradcount = 1, 1
    last_reset = gradcount
    inv_hessian = np.eye(n)
    while True:
        if last_reset == gradcount:
            inv_hessian = np.eye(n)
        x, c = b.copy(), g.copy()
        t = -inv_hessian @ g
        gradproj = float(t @ g)
        if gradproj < 0.0:  # downhill
            steplength = 1.0
            accepted = False
            while True:
                b = x + steplength * t
                unchanged = int(np.count_nonzero(REL_TEST + x == REL_TEST + b))
                if unchanged < n:
                    f = fn(b)
                    accepted = bool(np.isfinite(f) and f <= fmin + gradproj * steplength * ACCEPT_TOL)
                    if not accepted:
                        steplength *= STEP_REDUCTION
                if unchanged == n or accepted:
                    break
            enough = f > abstol and abs(f - fmin) > reltol * (abs(fmin) + reltol)
            if not enough:
                unchanged = n
                fmin = f
            if unchanged < n:  # progress: BFGS update of the inverse Hessian
                fmin = f
                g = grad(b)
                gradcount += 1
                iterations += 1
                step = steplength * t
                change = g - c
                d1 = float(step @ change)
                if d1 > 0:
                    hc = inv_hessian @ change
                    d2 = 1.0 + float(hc @ change) / d1
                    inv_hessian = inv_hessian + (d2 * np.outer(step, step) - np.outer(hc, step)
                                                 - np.outer(step, hc)) / d1
                else:
                    last_reset = gradcount
            elif last_reset < gradcount:  # no progress: restart from steepest descent
                unchanged = 0
                last_reset = gradcount
        else:  # uphill: restart unless just restarted
            unchanged = 0
            if last_reset == gradcount:
                unchanged = n
            else:
                last_reset = gradcount
        if iterations >= maxit:
            break
        if gradcount - last_reset > 2 * n:
            last_reset = gradcount  # periodic restart
        if unchanged == n and last_reset == gradcount:
            break
    return Minimum(b, float(fmin), iterations, iterations < maxit)
