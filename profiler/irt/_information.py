"""The information matrix of the item parameters, analytically: Oakes/Louis and cross-product forms.

For the marginal log-likelihood ``l = sum_i n_i log sum_q w_q P(x_i | theta_q)``, with the
complete-data score ``g_iq`` (d log P(x_i | theta_q) / d psi) and Hessian ``H_iq``, and the posterior
weights ``w_iq`` of pattern ``i`` at node ``q``:

    d2 l / d psi2 = sum_i n_i ( E_i[H] + E_i[g g'] - E_i[g] E_i[g]' )

(Louis, 1982). This is exactly what Oakes' (1999) identity gives — ``d2 Q(psi'|psi)/d psi'2 +
d2 Q(psi'|psi)/d psi' d psi`` at ``psi' = psi`` — which mirt's ``SE.type = "Oakes"`` evaluates by
finite differences of EM gradients; here it is computed in closed form. ``E_i[g g']`` couples items
through the answers a person gave to both, so it needs, per pair of items, the posterior-weighted
count of each pair of categories at each node: one sparse product over the patterns.

The cross-product form (mirt's ``SE.type = "crossprod"``) is ``sum_i n_i E_i[g] E_i[g]'``, the
outer products of each pattern's score of the marginal likelihood.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from profiler.irt import _kernels
from profiler.irt._em import Design, Estimates


def _item_derivatives(design: Design, est: Estimates, nodes: np.ndarray):
    """Per item: (D (Q, K, p), H (Q, K, p, p)) complete-data score and Hessian of log P at the nodes."""
    out: list = [None] * len(design.models)
    for block in design.blocks:
        a = est.slopes[block.items]
        d = np.vstack([est.intercepts[j] for j in block.items])
        _, dlog, d2log = _kernels.parameter_derivatives(block.model, a, d, nodes)
        for i, j in enumerate(block.items):
            out[j] = (dlog[i], d2log[i])
    return out


def _pattern_scores(design: Design, derivs, posterior: np.ndarray) -> np.ndarray:
    """E_i[g]: each pattern's score of the marginal log-likelihood, (n_patterns, n_params)."""
    sizes = design.n_categories
    firsts = np.concatenate([[0], np.cumsum(sizes)])
    scores = np.zeros((design.codes.shape[0], int(firsts[-1])))
    for j, (dlog, _) in enumerate(derivs):
        codes = design.codes[:, j]
        for c in range(sizes[j]):
            rows = np.flatnonzero(codes == c)
            if len(rows):
                scores[rows, firsts[j] : firsts[j + 1]] = posterior[rows] @ dlog[:, c, :]
    return scores


def crossprod_information(design: Design, est: Estimates, nodes: np.ndarray, log_prior: np.ndarray) -> np.ndarray:
    """sum_i n_i s_i s_i' with s_i the score of pattern i's marginal log-likelihood."""
    posterior, _ = design.posterior(est, nodes, log_prior)
    scores = _pattern_scores(design, _item_derivatives(design, est, nodes), posterior)
    return scores.T @ (scores * design.counts[:, None])


def observed_information(design: Design, est: Estimates, nodes: np.ndarray, log_prior: np.ndarray) -> np.ndarray:
    """Minus the Hessian of the marginal log-likelihood in the item parameters (Louis / Oakes)."""
    posterior, _ = design.posterior(est, nodes, log_prior)
    derivs = _item_derivatives(design, est, nodes)
    counts = design.expected_counts(posterior)  # (sum K, Q)
    sizes = design.n_categories
    firsts = np.concatenate([[0], np.cumsum(sizes)])
    n_params = int(firsts[-1])
    hessian = np.zeros((n_params, n_params))
    # Within an item: E[H] + E[g g'] need only the expected counts of its own categories.
    for j, (dlog, d2log) in enumerate(derivs):
        r = counts[design.starts[j] : design.starts[j + 1]].T  # (Q, K)
        block = np.einsum("qk,qkab->ab", r, d2log) + np.einsum("qk,qka,qkb->ab", r, dlog, dlog)
        hessian[firsts[j] : firsts[j + 1], firsts[j] : firsts[j + 1]] = block
    # Between items: E[g_j g_l'] from the posterior-weighted counts of category pairs at each node.
    pairs = _pair_counts(design, posterior)
    for (j, l), table in pairs.items():
        block = np.einsum("qab,qap,qbr->pr", table, derivs[j][0], derivs[l][0])
        hessian[firsts[j] : firsts[j + 1], firsts[l] : firsts[l + 1]] = block
        hessian[firsts[l] : firsts[l + 1], firsts[j] : firsts[j + 1]] = block.T
    scores = _pattern_scores(design, derivs, posterior)
    hessian -= scores.T @ (scores * design.counts[:, None])
    return -hessian


def _pair_counts(design: Design, posterior: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
    """For each item pair j < l: sum_i n_i w_iq [x_ij = a][x_il = b] as (Q, K_j, K_l)."""
    codes = design.codes
    n_items = codes.shape[1]
    sizes = design.n_categories
    rows, cols, keys, offset = [], [], [], 0
    layout = {}
    for j in range(n_items):
        for l in range(j + 1, n_items):
            both = np.flatnonzero((codes[:, j] >= 0) & (codes[:, l] >= 0))
            cells = sizes[j] * sizes[l]
            rows.append(offset + codes[both, j] * sizes[l] + codes[both, l])
            cols.append(both)
            layout[(j, l)] = (offset, cells)
            offset += cells
            keys.append((j, l))
    if not layout:
        return {}
    indicator = sparse.csr_matrix((np.ones(sum(len(r) for r in rows)), (np.concatenate(rows), np.concatenate(cols))),
                                  shape=(offset, codes.shape[0]))
    weighted = np.asarray(indicator @ (posterior * design.counts[:, None]))  # (cells, Q)
    out = {}
    for (j, l), (start, cells) in layout.items():
        out[(j, l)] = weighted[start : start + cells].T.reshape(-1, sizes[j], sizes[l])
    return out
