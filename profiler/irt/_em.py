"""Marginal maximum likelihood by EM over fixed quadrature (Bock & Aitkin, 1981), as mirt's ``method = "EM"``.

E-step: the posterior weight of every response pattern at every node, from one matrix product of the
patterns' one-hot answers with the table of log category probabilities; the expected counts
``r[item, category, node]`` come from a second product. M-step: the expected complete-data
log-likelihood ``sum r log P`` with its analytic gradient, evaluated for all items of one model and
number of categories at once, minimised as mirt does (:func:`run_em_mirt`). EM stops when no
parameter moved by ``tol`` or more in a cycle (mirt's ``TOL``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from profiler.irt import _kernels
from profiler.irt._data import offsets


@dataclass(frozen=True)
class Quadrature:
    """Nodes and normalised prior weights (the N(mean, sd^2) density at each node, summing to 1)."""

    nodes: np.ndarray
    weights: np.ndarray

    @classmethod
    def normal(cls, n: int = 61, limits: tuple[float, float] = (-6.0, 6.0), mean: float = 0.0,
               sd: float = 1.0) -> Quadrature:
        nodes = np.linspace(limits[0], limits[1], n)
        return cls(nodes, normal_weights(nodes, mean, sd))


def normal_weights(nodes: np.ndarray, mean: float = 0.0, sd: float = 1.0) -> np.ndarray:
    dens = np.exp(-0.5 * ((nodes - mean) / sd) ** 2)
    return dens / dens.sum()


@dataclass(frozen=True)
class Block:
    """Items estimated together: one model, one number of categories."""

    model: str
    items: np.ndarray  # positions in the bank
    n_categories: int


def blocks_of(models: list[str], n_categories: list[int]) -> list[Block]:
    keys = sorted({(m, k) for m, k in zip(models, n_categories, strict=True)})
    out = []
    for model, k in keys:
        where = np.array([j for j, (m, kk) in enumerate(zip(models, n_categories, strict=True)) if (m, kk) == (model, k)])
        out.append(Block(model, where, k))
    return out


@dataclass
class Estimates:
    """Slopes (J,) and intercepts (list of (K_j - 1,)) being estimated."""

    slopes: np.ndarray
    intercepts: list[np.ndarray]

    def vector(self) -> np.ndarray:
        return np.concatenate([np.concatenate([[a], d]) for a, d in zip(self.slopes, self.intercepts, strict=True)])

    def copy(self) -> Estimates:
        return Estimates(self.slopes.copy(), [d.copy() for d in self.intercepts])

    def replaced(self, vector: np.ndarray) -> Estimates:
        """Estimates of the same shape read from a vector laid out as :meth:`vector` writes it."""
        slopes, intercepts, at = np.empty_like(self.slopes), [], 0
        for j, d in enumerate(self.intercepts):
            slopes[j] = vector[at]
            intercepts.append(np.array(vector[at + 1 : at + 1 + len(d)]))
            at += 1 + len(d)
        return Estimates(slopes, intercepts)


class Design:
    """What every E-step needs: patterns' one-hot answers, their counts, and the category layout."""

    def __init__(self, pattern_codes: np.ndarray, counts: np.ndarray, models: list[str], n_categories: list[int]):
        from profiler.irt._data import one_hot

        self.codes = pattern_codes
        self.counts = counts
        self.models = list(models)
        self.n_categories = list(n_categories)
        self.starts = offsets(self.n_categories)
        self.onehot = one_hot(pattern_codes, self.n_categories)
        self.blocks = blocks_of(self.models, self.n_categories)

    def log_probability_matrix(self, est: Estimates, nodes: np.ndarray) -> np.ndarray:
        """log P(X_j = k | node) stacked as (sum K, n_nodes), in the one-hot column order."""
        out = np.empty((int(self.starts[-1]), len(nodes)))
        floor = np.log(_kernels.TINY)
        for block in self.blocks:
            a = est.slopes[block.items]
            d = np.vstack([est.intercepts[j] for j in block.items])
            lp = np.maximum(_kernels.log_probabilities(block.model, a, d, nodes), floor)  # (J, Q, K)
            rows = self.starts[block.items][:, None] + np.arange(block.n_categories)[None, :]
            out[rows.reshape(-1)] = lp.transpose(0, 2, 1).reshape(-1, len(nodes))
        return out

    def posterior(self, est: Estimates, nodes: np.ndarray, log_prior: np.ndarray) -> tuple[np.ndarray, float]:
        """Posterior weights of each pattern over the nodes (n_patterns, n_nodes) and the marginal log-likelihood."""
        log_joint = self.onehot @ self.log_probability_matrix(est, nodes) + log_prior
        top = log_joint.max(axis=1, keepdims=True)
        joint = np.exp(log_joint - top)
        total = joint.sum(axis=1, keepdims=True)
        loglik = float(self.counts @ (np.log(total[:, 0]) + top[:, 0]))
        return joint / total, loglik

    def expected_counts(self, posterior: np.ndarray) -> np.ndarray:
        """r[category row, node]: expected number of people at each node giving each answer (sum K, n_nodes)."""
        return self.onehot.T @ (posterior * self.counts[:, None])


def total_objective(design: Design, est: Estimates, r: np.ndarray, nodes: np.ndarray) -> float:
    """sum over items of sum r log P (the M-step objective); -inf outside the models' domain."""
    total = 0.0
    for block in design.blocks:
        rb, a, d = _block_arrays(design, block, est, r)
        total += float(item_objective(block, a, d, rb, nodes).sum())
    return total


def total_gradient(design: Design, est: Estimates, r: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Gradient of :func:`total_objective` in the layout of :meth:`Estimates.vector`."""
    out = np.empty(int(sum(design.n_categories)))
    first = np.concatenate([[0], np.cumsum(design.n_categories)])
    for block in design.blocks:
        rb, a, d = _block_arrays(design, block, est, r)
        _, dlog, _ = _kernels.parameter_derivatives(block.model, a, d, nodes, hessian=False)
        grad = np.einsum("jqk,jqkp->jp", rb, dlog)
        rows = first[block.items][:, None] + np.arange(block.n_categories)[None, :]
        out[rows] = grad
    return out


def _block_arrays(design: Design, block: Block, est: Estimates, r: np.ndarray):
    rows = design.starts[block.items][:, None] + np.arange(block.n_categories)[None, :]
    rb = r[rows].transpose(0, 2, 1)  # (J, Q, K)
    return rb, est.slopes[block.items], np.vstack([est.intercepts[j] for j in block.items])


def item_objective(block: Block, a, d, r: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """sum_q sum_k r log P for each item of the block (J,); -inf for parameters outside the model's domain."""
    if block.model == "graded" and d.shape[1] > 1 and np.any(np.diff(d, axis=1) >= 0):
        bad = np.any(np.diff(d, axis=1) >= 0, axis=1)
    else:
        bad = np.zeros(len(a), dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        lp = _kernels.log_probabilities(block.model, a, d, nodes)  # (J, Q, K)
        value = np.einsum("jqk,jqk->j", np.where(r > 0, r, 0.0), np.where(r > 0, lp, 0.0))
    value[bad | ~np.isfinite(value)] = -np.inf
    return value


@dataclass
class EMResult:
    estimates: Estimates
    loglik: float
    n_iter: int
    converged: bool
    history: list[float]


def run_em_mirt(design: Design, start: Estimates, quadrature: Quadrature, *, tol: float, max_iter: int) -> EMResult:
    """EM as mirt 1.47 runs it (``EM.group`` with ``Moptim = "BFGS"``, ``accelerate = "Ramsay"``).

    Each cycle: an E-step; one BFGS minimisation of minus the expected log-likelihood over all item
    parameters at once, limited to ``max(ceiling(50 * Mrate), 15)`` iterations where ``Mrate`` is
    ``exp(-(increase of the log-likelihood in the last cycle))`` (0.4 before the second cycle); stop
    when no parameter changed by ``tol`` or more; every third cycle, if ``Mrate > 0.01``, Ramsay's
    (1975) acceleration of the last step.
    """
    from profiler.irt._bfgs import vmmin

    nodes = quadrature.nodes
    log_prior = np.log(quadrature.weights)[None, :]
    est = start.copy()
    params = est.vector()
    entering = entering_before = params.copy()
    history: list[float] = []
    mrate = 0.4
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        est = est.replaced(params)
        post, loglik = design.posterior(est, nodes, log_prior)
        history.append(loglik)
        if n_iter > 1:
            rise = history[-2] - history[-1]
            if rise < 0:
                mrate = float(np.exp(rise))
            if not np.isfinite(mrate):
                mrate = 1e-6
        r = design.expected_counts(post)
        entering_before, entering = entering, params.copy()
        template = est

        def fn(x, template=template, r=r):
            value = total_objective(design, template.replaced(x), r, nodes)
            return -value if np.isfinite(value) else 1e100

        def gr(x, template=template, r=r):
            return -total_gradient(design, template.replaced(x), r, nodes)

        params = vmmin(fn, gr, params, maxit=max(int(np.ceil(mrate * 50)), 15)).x
        if np.all(np.abs(entering - params) < tol):
            converged = True
            break
        if n_iter % 3 == 0 and mrate > 0.01:
            dx_before = entering - entering_before
            dx = params - entering
            d2x = dx - dx_before
            ratio = float(np.sqrt((dx @ dx) / (d2x @ d2x)))
            accel = max(1.0 - ratio, -5.0)
            params = (1.0 - accel) * params + accel * entering
    est = est.replaced(params)
    _, loglik = design.posterior(est, nodes, log_prior)
    return EMResult(est, loglik, n_iter, converged, history)
