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
        joint = self.onehot @ self.log_probability_matrix(est, nodes)  # log joint, then joint, in place
        joint += log_prior
        top = joint.max(axis=1, keepdims=True)
        joint -= top
        np.exp(joint, out=joint)
        total = joint.sum(axis=1, keepdims=True)
        loglik = float(self.counts @ (np.log(total[:, 0]) + top[:, 0]))
        joint /= total
        return joint, loglik

    def expected_counts(self, posterior: np.ndarray) -> np.ndarray:
        """r[category row, node]: expected number of people at each node giving each answer (sum K, n_nodes)."""
        return self.onehot.T @ (posterior * self.counts[:, None])


class MStepObjective:
    """The M-step's objective, sum over groups and items of sum r log P (plus each free latent's term), and
    its gradient, as functions of the free vector; what does not depend on it is prepared once per cycle.

    For each group and block of items: the free-vector positions of every item's (a, d), and the expected
    counts with zero cells masked (log P may be -inf there).
    """

    def __init__(self, groups: list[Group], expected: list[np.ndarray], node_counts: list[np.ndarray],
                 nodes: np.ndarray) -> None:
        self.nodes = nodes
        self.parts = []
        for g, r in zip(groups, expected, strict=True):
            design = g.design
            first = np.concatenate([[0], np.cumsum(design.n_categories)])
            for block in design.blocks:
                k = np.arange(block.n_categories)
                rb = r[design.starts[block.items][:, None] + k[None, :]].transpose(0, 2, 1)  # (J, Q, K)
                positive = rb > 0
                positions = g.item_index[first[block.items][:, None] + k[None, :]]  # (J, K): a, d1..
                self.parts.append((block, positions, np.where(positive, rb, 0.0), positive, rb))
        self.latent = [(g, rr) for g, rr in zip(groups, node_counts, strict=True) if g.latent_index is not None]

    def value(self, x: np.ndarray) -> float:
        total = 0.0
        for block, positions, masked, positive, _ in self.parts:
            psi = x[positions]
            a, d = psi[:, 0], psi[:, 1:]
            if block.model == "graded" and d.shape[1] > 1 and np.any(d[:, 1:] >= d[:, :-1]):
                return -np.inf  # graded intercepts out of order: no model
            with np.errstate(divide="ignore", invalid="ignore"):
                lp = _kernels.log_probabilities(block.model, a, d, self.nodes)
                total += float(np.einsum("jqk,jqk->j", masked, np.where(positive, lp, 0.0)).sum())
        for g, rr in self.latent:
            total += _latent_objective(self.nodes, rr, *g.latent(x))[0]
        return total

    def gradient(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros(len(x))
        for block, positions, _, _, rb in self.parts:
            psi = x[positions]
            _, dlog, _ = _kernels.parameter_derivatives(block.model, psi[:, 0], psi[:, 1:], self.nodes, hessian=False)
            np.add.at(out, positions, np.einsum("jqk,jqkp->jp", rb, dlog))
        for g, rr in self.latent:
            np.add.at(out, list(g.latent_index), _latent_objective(self.nodes, rr, *g.latent(x))[1])
        return out


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
class Group:
    """One group of respondents: its design, where its item parameters sit in the free vector, its latent N(mean, var).

    ``item_index`` maps the group's item-parameter vector (layout of :meth:`Estimates.vector`) into the
    free vector, so items constrained equal across groups share positions. ``latent_index`` gives the
    free positions of (mean, variance), or None when they are fixed at ``mean``, ``var``.
    """

    design: Design
    template: Estimates
    item_index: np.ndarray
    latent_index: tuple[int, int] | None = None
    mean: float = 0.0
    var: float = 1.0

    def estimates(self, free: np.ndarray) -> Estimates:
        return self.template.replaced(free[self.item_index])

    def latent(self, free: np.ndarray) -> tuple[float, float]:
        if self.latent_index is None:
            return self.mean, self.var
        return float(free[self.latent_index[0]]), float(free[self.latent_index[1]])


def single_group(design: Design, start: Estimates) -> tuple[list[Group], np.ndarray]:
    """The one-group problem: every item parameter free, theta ~ N(0, 1)."""
    vector = start.vector()
    return [Group(design, start, np.arange(len(vector)))], vector


def log_prior_weights(nodes: np.ndarray, mean: float, var: float) -> np.ndarray:
    """log of the N(mean, var) density at the nodes, normalised to sum 1 (mirt's prior in the E-step)."""
    return np.log(normal_weights(nodes, mean, np.sqrt(var)))


@dataclass
class EMResult:
    free: np.ndarray
    estimates: list[Estimates]
    latent: list[tuple[float, float]]
    loglik: float
    group_logliks: list[float]
    n_iter: int
    converged: bool
    history: list[float]


def _latent_objective(nodes: np.ndarray, rr: np.ndarray, mean: float, var: float) -> tuple[float, np.ndarray]:
    """sum_q rr_q log N(theta_q; mean, var) (unnormalised, as mirt's M-step) and its gradient in (mean, var)."""
    if var <= 0:
        return -np.inf, np.zeros(2)
    dev = nodes - mean
    value = float(rr @ (-0.5 * np.log(2 * np.pi * var) - 0.5 * dev**2 / var))
    grad = np.array([float(rr @ dev) / var, float(rr @ (-0.5 / var + 0.5 * dev**2 / var**2))])
    return value, grad


def newton_items(model: str, a: np.ndarray, d: np.ndarray, r: np.ndarray, nodes: np.ndarray, tol: float = 1e-10,
                 max_iter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Maximise each item's sum r log P over (a, d) by Newton's method; r is (J, Q, K).

    The objective is concave in (a, d) for both models; a step is halved per item until the objective
    does not fall (and graded intercepts stay ordered).
    """
    block = Block(model, np.arange(len(a)), d.shape[1] + 1)
    psi = np.column_stack([a, d]).astype(float)
    current = item_objective(block, psi[:, 0], psi[:, 1:], r, nodes)
    active = np.arange(len(a))
    for _ in range(max_iter):
        if not len(active):
            break
        _, dlog, d2log = _kernels.parameter_derivatives(model, psi[active, 0], psi[active, 1:], nodes)
        ra = r[active]
        grad = np.einsum("jqk,jqkp->jp", ra, dlog)
        hess = np.einsum("jqk,jqkpr->jpr", ra, d2log)
        values, vectors = np.linalg.eigh(hess)  # concave: eigenvalues < 0; guard far from the optimum
        values = np.minimum(values, -1e-8 * np.maximum(np.abs(values).max(axis=1, keepdims=True), 1.0))
        step = -np.einsum("jpr,jr->jp", vectors, np.einsum("jpr,jp->jr", vectors, grad) / values)
        base, scale = psi[active], np.ones(len(active))
        trial = item_objective(block, base[:, 0] + step[:, 0], base[:, 1:] + step[:, 1:], ra, nodes)
        for _ in range(50):
            worse = ~(trial >= current[active] - 1e-12 * np.abs(current[active]))
            if not worse.any():
                break
            scale[worse] *= 0.5
            moved = base[worse] + scale[worse, None] * step[worse]
            trial[worse] = item_objective(block, moved[:, 0], moved[:, 1:], ra[worse], nodes)
        change = scale[:, None] * step
        psi[active] = base + change
        current[active] = trial
        active = active[np.abs(change).max(axis=1) > tol]
    return psi[:, 0], psi[:, 1:]


def exact_mstep(groups: list[Group], params: np.ndarray, expected: list[np.ndarray], node_counts: list[np.ndarray],
                nodes: np.ndarray) -> np.ndarray:
    """The M-step solved to convergence: each item by Newton on the expected counts of every group sharing
    its parameters, each free latent distribution in closed form (mean and variance of the node counts)."""
    out = params.copy()
    design = groups[0].design
    sizes = design.n_categories
    firsts = np.concatenate([[0], np.cumsum(sizes)])
    owners: dict[tuple[int, ...], list[tuple[int, int]]] = {}
    for gi, g in enumerate(groups):
        for j in range(len(sizes)):
            owners.setdefault(tuple(g.item_index[firsts[j] : firsts[j + 1]]), []).append((gi, j))
    for positions, users in owners.items():
        gi, j = users[0]
        model, k = design.models[j], sizes[j]
        r = sum(expected[g][groups[g].design.starts[jj] : groups[g].design.starts[jj] + k].T for g, jj in users)
        a, d = newton_items(model, out[[positions[0]]], out[list(positions[1:])][None, :], r[None], nodes)
        out[list(positions)] = np.concatenate([a, d[0]])
    for g, rr in zip(groups, node_counts, strict=True):
        if g.latent_index is not None:
            mean = float(rr @ nodes / rr.sum())
            out[list(g.latent_index)] = [mean, float(rr @ (nodes - mean) ** 2 / rr.sum())]
    return out


def run_em_mirt(groups: list[Group], start: np.ndarray, nodes: np.ndarray, *, tol: float, max_iter: int) -> EMResult:
    """EM as mirt 1.47 runs it (``EM.group`` with ``Moptim = "BFGS"``, ``accelerate = "Ramsay"``).

    Each cycle: an E-step in every group (its prior the N(mean, var) density at the nodes, normalised);
    one BFGS minimisation over all free parameters at once of minus the expected complete-data
    log-likelihood (items, plus sum_q r_q log N(theta_q; mean, var) for groups whose latent mean and
    variance are free), limited to ``max(ceiling(50 * Mrate), 15)`` iterations where ``Mrate`` is
    ``exp(-(increase of the log-likelihood in the last cycle))`` (0.4 before the second cycle); stop
    when no parameter changed by ``tol`` or more; every third cycle, if ``Mrate > 0.01``, Ramsay's
    (1975) acceleration of the last step of the item parameters.
    """
    from profiler.irt._bfgs import vmmin

    params = start.astype(float).copy()
    item_positions = np.zeros(len(params), dtype=bool)
    for g in groups:
        item_positions[g.item_index] = True
    entering = entering_before = params.copy()
    bounded = any(g.latent_index is not None for g in groups)  # a variance is bounded below by 0
    history: list[float] = []
    mrate = 0.4
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        expected, node_counts, total = [], [], 0.0
        for g in groups:
            post, loglik = g.design.posterior(g.estimates(params), nodes, log_prior_weights(nodes, *g.latent(params))[None, :])
            total += loglik
            expected.append(g.design.expected_counts(post))
            node_counts.append(g.design.counts @ post)
        history.append(total)
        if n_iter > 1:
            rise = history[-2] - history[-1]
            if rise < 0:
                mrate = float(np.exp(rise))
            if not np.isfinite(mrate):
                mrate = 1e-6
        entering_before, entering = entering, params.copy()

        objective = MStepObjective(groups, expected, node_counts, nodes)

        def fn(x, objective=objective):
            value = objective.value(x)
            return -value if np.isfinite(value) else 1e100

        def gr(x, objective=objective):
            return -objective.gradient(x)

        if bounded:  # mirt switches to nlminb, which solves each M-step: here solved exactly
            params = exact_mstep(groups, params, expected, node_counts, nodes)
        else:
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
            params = np.where(item_positions, (1.0 - accel) * params + accel * entering, params)
    logliks = [g.design.posterior(g.estimates(params), nodes, log_prior_weights(nodes, *g.latent(params))[None, :])[1]
               for g in groups]
    return EMResult(params, [g.estimates(params) for g in groups], [g.latent(params) for g in groups],
                    float(sum(logliks)), logliks, n_iter, converged, history)
