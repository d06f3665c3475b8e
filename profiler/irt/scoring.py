"""Scoring people on a calibrated item bank: EAP, MAP and ML theta with a standard error each.

The functions take an :class:`~profiler.irt.bank.ItemBank` and category codes (n_people, n_items;
-1 where an item was not answered or not administered), so a partial pattern — an adaptive test's
answers so far — is scored exactly like a complete one: unanswered items drop out of the likelihood.

- :func:`theta_eap`: posterior mean and SD over a fixed grid (mirt's ``fscores(method = "EAP")``:
  121 equally spaced nodes on [-6, 6], N(0, 1) prior).
- :func:`theta_map`: posterior mode by Newton's method; SE = 1 / sqrt(observed information + 1/prior
  variance) (mirt's ``method = "MAP"``).
- :func:`theta_ml`: likelihood maximum; a pattern with every answer in its item's lowest (highest)
  category has no finite maximum and gets -inf (+inf) with SE NaN (mirt gives -Inf/Inf and NA).
- :func:`eap_sum_table`: EAP for each sum score by the Lord-Wingersky recursion (mirt's
  ``fscores(method = "EAPsum", full.scores = FALSE)``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import integrate, stats

from profiler._threads import small_matrix_threads
from profiler.irt._data import patterns
from profiler.irt.bank import ItemBank

METHODS = ("EAP", "MAP", "ML")
EAP_NODES = 121
THETA_RANGE = (-6.0, 6.0)


def grid(n_nodes: int = EAP_NODES, theta_range: tuple[float, float] = THETA_RANGE, mean: float = 0.0,
         sd: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Equally spaced nodes and normalised N(mean, sd^2) weights (mirt's quadrature)."""
    nodes = np.linspace(theta_range[0], theta_range[1], n_nodes)
    log_w = -0.5 * ((nodes - mean) / sd) ** 2
    w = np.exp(log_w - log_w.max())
    return nodes, w / w.sum()


def posterior(bank: ItemBank, codes: np.ndarray, nodes: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Posterior weights of each person over the nodes, (n_people, n_nodes)."""
    collapsed = patterns(np.asarray(codes))
    return _pattern_posterior(bank, collapsed.codes, nodes, weights)[collapsed.inverse]


def _pattern_posterior(bank: ItemBank, codes: np.ndarray, nodes: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Posterior weights of distinct patterns: the answered cells' log probabilities summed, times the prior."""
    table = bank.log_probability_table(nodes)  # (items, max K, nodes)
    log_post = np.tile(np.log(np.maximum(weights, np.finfo(float).tiny)), (codes.shape[0], 1))
    if codes.shape[0] * bank.n_items > 4 * len(nodes):  # many patterns: one matrix product
        width = bank.max_categories
        onehot = np.zeros((codes.shape[0], bank.n_items * width))
        rows, cols = np.nonzero(codes >= 0)
        onehot[rows, cols * width + codes[rows, cols]] = 1.0
        log_post += onehot @ table.reshape(bank.n_items * width, len(nodes))
    else:  # a few patterns (an adaptive test's step): add the answered cells' rows
        rows, cols = np.nonzero(codes >= 0)
        np.add.at(log_post, rows, table[cols, codes[rows, cols]])
    post = np.exp(log_post - log_post.max(axis=1, keepdims=True))
    post /= post.sum(axis=1, keepdims=True)
    return post


def theta_eap(bank: ItemBank, codes: np.ndarray, *, n_nodes: int = EAP_NODES,
              theta_range: tuple[float, float] = THETA_RANGE, mean: float = 0.0,
              sd: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """EAP theta and posterior SD for each row of ``codes``."""
    nodes, weights = grid(n_nodes, theta_range, mean, sd)
    codes = np.asarray(codes)
    collapsed = patterns(codes)
    post = _pattern_posterior(bank, collapsed.codes, nodes, weights)
    theta = post @ nodes
    var = post @ nodes**2 - theta**2
    return theta[collapsed.inverse], np.sqrt(np.maximum(var, 0.0))[collapsed.inverse]


def _newton(bank: ItemBank, codes: np.ndarray, start: np.ndarray, prior_precision: float, mean: float,
            max_iter: int = 100, tol: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """Maximise log P(pattern | theta) - prior_precision (theta - mean)^2 / 2 per row (concave in theta)."""
    theta = start.astype(float).copy()

    def objective(t, rows):
        value, first, second = bank.pattern_derivatives(codes[rows], t)
        d = t - mean
        return (value - 0.5 * prior_precision * d**2, first - prior_precision * d, second - prior_precision)

    active = np.arange(len(theta))
    value, grad, hess = objective(theta, active)
    for _ in range(max_iter):
        if not len(active):
            break
        step = np.clip(-grad / np.minimum(hess, -1e-12), -1.0, 1.0)
        scale = np.ones(len(active))
        trial = theta[active] + step
        new_value, new_grad, new_hess = objective(trial, active)
        for _ in range(30):  # halve where the objective went down (never needed near the mode)
            worse = new_value < value - 1e-12 * np.abs(value)
            if not worse.any():
                break
            scale[worse] *= 0.5
            trial[worse] = theta[active][worse] + scale[worse] * step[worse]
            v, g, h = objective(trial[worse], active[worse])
            new_value[worse], new_grad[worse], new_hess[worse] = v, g, h
        theta[active] = trial
        done = np.abs(scale * step) < tol
        keep = ~done
        active, value, grad, hess = active[keep], new_value[keep], new_grad[keep], new_hess[keep]
    _, _, second = bank.pattern_derivatives(codes, theta)
    info = -(second - prior_precision)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = 1.0 / np.sqrt(info)
    return theta, se


def theta_map(bank: ItemBank, codes: np.ndarray, *, mean: float = 0.0, sd: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """MAP theta and SE = 1 / sqrt(-d2 log posterior) at the mode, for each row of ``codes``."""
    codes = np.asarray(codes)
    collapsed = patterns(codes)
    theta, se = _newton(bank, collapsed.codes, np.full(collapsed.codes.shape[0], mean), 1.0 / sd**2, mean)
    return theta[collapsed.inverse], se[collapsed.inverse]


def theta_ml(bank: ItemBank, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ML theta and SE = 1 / sqrt(observed information); +-inf (SE NaN) for all-extreme patterns, NaN if none answered."""
    codes = np.asarray(codes)
    collapsed = patterns(codes)
    c = collapsed.codes
    answered = c >= 0
    top = bank.n_categories[None, :] - 1
    none = ~answered.any(axis=1)
    lowest = answered.any(axis=1) & np.all(~answered | (c == 0), axis=1)
    highest = answered.any(axis=1) & np.all(~answered | (c == top), axis=1)
    finite = ~(none | lowest | highest)
    theta = np.full(c.shape[0], np.nan)
    se = np.full(c.shape[0], np.nan)
    if finite.any():
        theta[finite], se[finite] = _newton(bank, c[finite], np.zeros(int(finite.sum())), 0.0, 0.0)
    theta[lowest], theta[highest] = -np.inf, np.inf
    return theta[collapsed.inverse], se[collapsed.inverse]


def score_codes(bank: ItemBank, codes: np.ndarray, method: str = "EAP", *, n_nodes: int = EAP_NODES,
                theta_range: tuple[float, float] = THETA_RANGE, mean: float = 0.0,
                sd: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """theta and SE of coded responses by ``method`` ("EAP", "MAP" or "ML")."""
    if method == "EAP":
        return theta_eap(bank, codes, n_nodes=n_nodes, theta_range=theta_range, mean=mean, sd=sd)
    if method == "MAP":
        return theta_map(bank, codes, mean=mean, sd=sd)
    if method == "ML":
        return theta_ml(bank, codes)
    raise ValueError(f"unknown scoring method {method!r}; one of {list(METHODS)}")


def score_responses(bank: ItemBank, responses, method: str = "EAP", **options) -> pd.DataFrame:
    """theta and SE for each row of ``responses`` (item columns, any subset of the bank; NaN = not answered).

    Returns a DataFrame indexed like ``responses`` with ``theta``, ``se`` and ``n_answered``.
    """
    coded = bank.encode(responses)
    with small_matrix_threads():  # see profiler._threads
        theta, se = score_codes(bank, coded.codes, method, **options)
    return pd.DataFrame({"theta": theta, "se": se, "n_answered": (coded.codes >= 0).sum(axis=1)}, index=coded.index)


def sum_score_distribution(bank: ItemBank, nodes: np.ndarray) -> np.ndarray:
    """P(sum of category codes = s | node) by the Lord-Wingersky recursion, (n_nodes, max sum + 1)."""
    probs = bank.probabilities(nodes)  # (Q, J, maxK)
    dist = np.ones((len(nodes), 1))
    for j, k in enumerate(bank.n_categories):
        new = np.zeros((len(nodes), dist.shape[1] + k - 1))
        for c in range(k):
            new[:, c : c + dist.shape[1]] += dist * probs[:, j, c : c + 1]
        dist = new
    return dist


def eap_sum_table(bank: ItemBank, codes: np.ndarray | None = None, *, n_nodes: int = EAP_NODES,
                  theta_range: tuple[float, float] = THETA_RANGE, min_expected: float = 1.0) -> pd.DataFrame:
    """EAP theta and SE for every sum score (mirt's ``fscores(method = "EAPsum", full.scores = FALSE)``).

    The sum score is the sum of category positions (0..K-1) plus the sum of the items' lowest answer
    values, as mirt reports it (for consecutive answers, the keyed sum of the answers). With ``codes`` of complete responses, ``observed`` and ``expected``
    counts, ``std_res`` and, in ``.attrs["fit"]``, the X2 test of the sum-score distribution (cells with
    expected < ``min_expected`` pooled with their neighbour, as mirt) and the reliabilities mirt prints.
    """
    nodes, weights = grid(n_nodes, theta_range)
    dist = sum_score_distribution(bank, nodes)  # (Q, S)
    joint = dist * weights[:, None]
    marginal = joint.sum(axis=0)
    theta = (joint * nodes[:, None]).sum(axis=0) / marginal
    var = (joint * nodes[:, None] ** 2).sum(axis=0) / marginal - theta**2
    offset = float(sum(c.min() for c in bank.categories))
    sums = np.arange(dist.shape[1])
    table = pd.DataFrame({"sum_score": sums + offset, "theta": theta, "se": np.sqrt(np.maximum(var, 0))})
    if codes is None:
        return table
    codes = np.asarray(codes)
    if (codes < 0).any():
        raise ValueError("observed sum scores need complete responses (EAP sum scores are not defined with "
                         "missing answers)")
    n = codes.shape[0]
    observed = np.bincount(codes.sum(axis=1), minlength=len(sums)).astype(float)
    expected = marginal * n
    table["observed"], table["expected"] = observed, expected
    table["std_res"] = np.sqrt((observed - expected) ** 2 / expected)
    table.attrs["fit"] = _sum_score_fit(table, bank, nodes, weights, dist, min_expected)
    return table


def _sum_score_fit(table, bank, nodes, weights, dist, min_expected) -> dict[str, float]:
    obs, exp = _pool_small(table["observed"].to_numpy(), table["expected"].to_numpy(), min_expected)
    x2 = float(((obs - exp) ** 2 / exp).sum())
    df = len(obs) - 1
    sums = np.arange(dist.shape[1]) + float(sum(c.min() for c in bank.categories))
    p_sum = (dist * weights[:, None]).sum(axis=0)
    mean_x = float(sums @ p_sum)
    var_x = float(((sums - mean_x) ** 2) @ p_sum)
    probs = bank.probabilities(nodes)
    item_var = 0.0
    for j, k in enumerate(bank.n_categories):
        px = weights @ probs[:, j, :k]
        positions = np.arange(k)
        ex = positions @ px
        item_var += float(((positions - ex) ** 2) @ px)
    n_items = bank.n_items
    alpha = n_items / (n_items - 1) * (1 - item_var / var_x)
    counts = table["observed"].to_numpy()
    theta = np.repeat(table["theta"].to_numpy(), counts.astype(int))
    se = np.repeat(table["se"].to_numpy(), counts.astype(int))
    v = float(np.var(theta, ddof=1))
    return {"df": df, "X2": x2, "p": float(stats.chi2.sf(x2, df)), "SEM_alpha": float(np.sqrt(var_x) * np.sqrt(1 - alpha)),
            "rxx_alpha": float(alpha), "rxx": v / (v + float(np.mean(se**2)))}


def _pool_small(observed: np.ndarray, expected: np.ndarray, min_expected: float) -> tuple[np.ndarray, np.ndarray]:
    """mirt's collapseTotals: merge each cell with expected < min_expected into the next (the last into the one before)."""
    o, e = observed.astype(float).copy(), expected.astype(float).copy()
    while True:
        small = e < min_expected
        if not small.any() or len(e) < 2:
            break
        keep = np.ones(len(e), dtype=bool)
        for i in range(len(e) - 1):
            if small[i]:
                e[i + 1] += e[i]
                o[i + 1] += o[i]
                keep[i] = False
        last = len(e) - 1
        if small[last]:
            e[last - 1] += e[last]
            o[last - 1] += o[last]
            keep[last] = False
        o, e = o[keep], e[keep]
    return o, e


def marginal_reliability(bank: ItemBank, mean: float = 0.0, sd: float = 1.0) -> float:
    """integral of I(theta) / (I(theta) + var) * density(theta) (mirt's ``marginal_rxx``)."""
    var = sd**2

    def f(t: float) -> float:
        info = float(bank.information(np.array([t])).sum())
        return info / (info + var) * stats.norm.pdf(t, mean, sd)

    value, _ = integrate.quad(f, -np.inf, np.inf, epsabs=1e-10, epsrel=1e-10, limit=200)
    return float(value)


def empirical_reliability(theta: np.ndarray, se: np.ndarray) -> float:
    """var(theta) / (var(theta) + mean(se^2)) over finite scores (mirt's ``empirical_rxx``)."""
    theta, se = np.asarray(theta, dtype=float), np.asarray(se, dtype=float)
    keep = np.isfinite(theta)
    v = float(np.var(theta[keep], ddof=1))
    return v / (v + float(np.mean(se[keep] ** 2)))
