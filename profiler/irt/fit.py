"""How well a calibrated IRT model fits: limited-information M2*/C2/M2, S-X2 item fit, local dependence.

All follow R mirt 1.47 (``M2()``, ``itemfit(fit_stats = "S_X2")``, ``residuals(type = "LD" | "Q3")``) and
integrate over mirt's grid: 61 equally spaced nodes on [-6, 6] with normalised N(0, 1) weights.

- :func:`limited_information_fit` — M2* (Maydeu-Olivares & Joe: item means and cross-products; M2 for
  binary items) where it has positive degrees of freedom, C2 (Cai & Monroe, 2014: category
  proportions and cross-products) otherwise, as mirt does when M2* has too few moments; with RMSEA
  and its 90% interval, SRMSR, and TLI/CFI against the independence (slopes 0) model.
- :func:`s_x2` — Orlando & Thissen's S-X2 with mirt's cell collapsing (``mincell = 1``). mirt refuses
  missing answers; here each respondent's sum score is over the items they answered and the expected
  counts condition on that score for that set of items (Lord-Wingersky on the answered subset), summed
  over respondents; with complete data this is exactly mirt's statistic.
- :func:`ld_x2` — Chen & Thissen's LD X2 per item pair with the signed Cramér's V; :func:`q3` — Yen's Q3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from profiler.irt import _kernels
from profiler.irt.bank import ItemBank
from profiler.irt.scoring import grid, sum_score_distribution, theta_eap

FIT_NODES = 61


# Moments ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _ItemMoments:
    """Per node: category probabilities, expected score and squared score, and their parameter derivatives."""

    probs: list[np.ndarray]  # per item (Q, K)
    dprobs: list[np.ndarray]  # per item (Q, K, p)
    expected: np.ndarray  # (Q, J)
    expected_sq: np.ndarray  # (Q, J)
    dexpected: list[np.ndarray]  # per item (Q, p)


def _moments(bank: ItemBank, nodes: np.ndarray) -> _ItemMoments:
    probs, dprobs, dexp = [None] * bank.n_items, [None] * bank.n_items, [None] * bank.n_items
    for j in range(bank.n_items):
        a, d = bank.slopes[j : j + 1], bank.intercepts[j][None, :]
        p, dlog, _ = _kernels.parameter_derivatives(bank.models[j], a, d, nodes, hessian=False)
        dp = p[0][..., None] * dlog[0]
        positions = np.arange(p.shape[2], dtype=float)
        probs[j], dprobs[j] = p[0], dp
        dexp[j] = np.einsum("k,qkp->qp", positions, dp)
    expected = np.column_stack([pr @ np.arange(pr.shape[1]) for pr in probs])
    expected_sq = np.column_stack([pr @ np.arange(pr.shape[1]) ** 2 for pr in probs])
    return _ItemMoments(probs, dprobs, expected, expected_sq, dexp)


def _pairs(n_items: int) -> tuple[np.ndarray, np.ndarray]:
    """Item pairs i < j in mirt's order (1,2), (1,3), ..., (1,J), (2,3), ..."""
    return np.triu_indices(n_items, 1)


def _observed(codes: np.ndarray) -> dict[str, np.ndarray]:
    answered = codes >= 0
    x = np.where(answered, codes, 0).astype(float)
    a = answered.astype(float)
    return {"x": x, "answered": a, "n": a.sum(axis=0), "cross": x.T @ x, "cross_n": a.T @ a,
            "means": x.sum(axis=0) / a.sum(axis=0)}


def _xi22(m: _ItemMoments, w: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Model covariance of the cross-product moments x_i x_j (pairs i < j), under local independence."""
    e, e2 = m.expected, m.expected_sq
    var = e2 - e**2
    products = e[:, rows] * e[:, cols]  # (Q, pairs)
    pab = w @ products
    out = (products.T * w) @ products  # sum_q w e_i e_j e_k e_l, with e_m^2 where a pair shares item m
    for item in range(e.shape[1]):  # a shared item contributes E[x^2] = var + e^2, not e^2
        shared = np.flatnonzero((rows == item) | (cols == item))
        other = np.where(rows[shared] == item, cols[shared], rows[shared])
        out[np.ix_(shared, shared)] += (e[:, other] * (w * var[:, item])[:, None]).T @ e[:, other]
    diag = np.arange(len(rows))
    out[diag, diag] += w @ (var[:, rows] * var[:, cols])  # both items shared: the var_i var_j term
    return out - np.outer(pab, pab)

def _xi12_means(m: _ItemMoments, w: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Model covariance of the item scores x_k with the cross-products x_i x_j."""
    e, e2 = m.expected, m.expected_sq
    var = e2 - e**2
    products = e[:, rows] * e[:, cols]
    out = (e.T * w) @ products
    pairs = np.arange(len(rows))
    np.add.at(out, (rows, pairs), w @ (var[:, rows] * e[:, cols]))
    np.add.at(out, (cols, pairs), w @ (e[:, rows] * var[:, cols]))
    return out - np.outer(w @ e, w @ products)


def _moment_structure(bank: ItemBank, codes: np.ndarray, kind: str, nodes: np.ndarray, w: np.ndarray,
                      slopes_free: bool = True) -> dict[str, np.ndarray]:
    """Observed and model moments, their Jacobian (delta) and covariance (Xi) for M2* or C2."""
    m = _moments(bank, nodes)
    obs = _observed(codes)
    rows, cols = _pairs(bank.n_items)
    e, e2 = m.expected, m.expected_sq
    sizes = [len(d) + 1 for d in bank.intercepts]
    starts = np.concatenate([[0], np.cumsum(sizes)])
    n_params = int(starts[-1])
    n_pairs = len(rows)
    delta2 = np.zeros((n_pairs, n_params))
    for u, (i, j) in enumerate(zip(rows, cols, strict=True)):
        delta2[u, starts[i] : starts[i + 1]] = w @ (m.dexpected[i] * e[:, [j]])
        delta2[u, starts[j] : starts[j + 1]] = w @ (m.dexpected[j] * e[:, [i]])
    model2 = w @ (e[:, rows] * e[:, cols])
    observed2 = obs["cross"][rows, cols] / obs["cross_n"][rows, cols]
    n2 = obs["cross_n"][rows, cols]
    xi22 = _xi22(m, w, rows, cols)
    if kind == "M2*":
        model1 = w @ e
        observed1 = obs["means"]
        n1 = obs["n"]
        delta1 = np.zeros((bank.n_items, n_params))
        for i in range(bank.n_items):
            delta1[i, starts[i] : starts[i + 1]] = w @ m.dexpected[i]
        mean_e = w @ e
        xi11 = (e.T * w) @ e - np.outer(mean_e, mean_e)
        np.fill_diagonal(xi11, w @ e2 - mean_e**2)
        xi12 = _xi12_means(m, w, rows, cols)
    else:  # C2: category proportions k >= 1
        owner = np.concatenate([np.full(k - 1, j) for j, k in enumerate(sizes)])
        position = np.concatenate([np.arange(1, k) for k in sizes])
        pis = np.column_stack([m.probs[j][:, c] for j, c in zip(owner, position, strict=True)])  # (Q, nK)
        model1 = w @ pis
        x_cat = np.column_stack([(codes[:, j] == c) for j, c in zip(owner, position, strict=True)]).astype(float)
        n1 = obs["n"][owner]
        observed1 = x_cat.sum(axis=0) / n1
        delta1 = np.zeros((len(owner), n_params))
        for r, (j, c) in enumerate(zip(owner, position, strict=True)):
            delta1[r, starts[j] : starts[j + 1]] = w @ m.dprobs[j][:, c, :]
        xi11 = (pis.T * w) @ pis - np.outer(model1, model1)
        same = owner[:, None] == owner[None, :]
        xi11 = np.where(same, np.diag(model1) - np.outer(model1, model1), xi11)
        products = e[:, rows] * e[:, cols]
        xi12 = (pis.T * w) @ products  # E[1{x_k = c} x_i x_j] for k outside the pair
        for item in range(bank.n_items):  # inside the pair x_k = c: c instead of e_k
            own = np.flatnonzero(owner == item)
            weighted = pis[:, own] * (position[own][None, :] - e[:, [item]]) * w[:, None]
            first, second = np.flatnonzero(rows == item), np.flatnonzero(cols == item)
            xi12[np.ix_(own, first)] += weighted.T @ e[:, cols[first]]
            xi12[np.ix_(own, second)] += weighted.T @ e[:, rows[second]]
        xi12 -= np.outer(model1, w @ products)
    delta = np.vstack([delta1, delta2])
    if not slopes_free:
        delta = np.delete(delta, starts[:-1], axis=1)
    xi = np.block([[xi11, xi12], [xi12.T, xi22]])
    # Correlation residuals (SRMSR), observed pairwise as mirt computes them.
    observed_cov = obs["cross"] / obs["cross_n"] - np.outer(obs["means"], obs["means"])
    model_cov = (e.T * w) @ e
    np.fill_diagonal(model_cov, w @ e2)
    model_cov -= np.outer(w @ e, w @ e)
    return {"observed": np.concatenate([observed1, observed2]), "model": np.concatenate([model1, model2]),
            "n": np.concatenate([n1, n2]), "delta": delta, "xi": xi, "observed_cov": observed_cov,
            "model_cov": model_cov}


def _cov2cor(c: np.ndarray) -> np.ndarray:
    s = np.sqrt(np.diag(c))
    return c / np.outer(s, s)


def _complement_as_r(delta: np.ndarray) -> np.ndarray:
    """Columns ``ncol(delta)+1..`` of R's ``qr.Q(qr(delta), complete = TRUE)``, as mirt takes them.

    For a full-rank delta these span its orthogonal complement (any basis gives the same statistic).
    When delta is rank-deficient — the independence model's intercepts under M2* with polytomous items,
    where only the item means inform them — R's QR (LINPACK dqrdc2) moves each column whose remaining
    norm is below 1e-7 of its own to the end and reflects only the others; the columns mirt keeps are
    then one particular part of the complement. Reproducing that choice keeps mirt's TLI/CFI.
    """
    n_moments, n_params = delta.shape
    kept: list[int] = []
    basis = np.zeros((n_moments, 0))
    for k in range(n_params):
        column = delta[:, k]
        residual = column - basis @ (basis.T @ column)
        if np.linalg.norm(residual) > 1e-7 * np.linalg.norm(column):
            kept.append(k)
            basis = np.column_stack([basis, residual / np.linalg.norm(residual)])
    q, _ = np.linalg.qr(delta[:, kept], mode="complete")  # the same Householder reflections as R's
    return q[:, n_params:]


def _quadratic_form(structure: dict[str, np.ndarray], n_rows: int) -> tuple[float, int]:
    """N (p - e)' C2 (p - e) with C2 = Dc (Dc' Xi Dc)^-1 Dc', Dc the orthogonal complement of delta."""
    delta = structure["delta"]
    n_moments, n_params = delta.shape
    if n_params + 1 > n_moments:
        raise ValueError(f"too few degrees of freedom: {n_moments} moments for {n_params} parameters")
    complement = _complement_as_r(delta)
    middle = complement.T @ structure["xi"] @ complement
    c2 = complement @ np.linalg.solve(middle, complement.T)
    ratio = np.sqrt(structure["n"] / n_rows)
    c2 = np.outer(ratio, ratio) * c2
    resid = np.sqrt(structure["n"]) * (structure["observed"] - structure["model"])
    return float(abs(resid @ c2 @ resid)), n_moments - n_params


def rmsea(x2: float, df: float, n: float) -> float:
    """sqrt(max(X2/df - 1, 0) / (N - 1)) (NaN without degrees of freedom), as mirt."""
    if df <= 0:
        return float("nan")
    return float(np.sqrt((x2 / df - 1) / (n - 1))) if x2 / df - 1 > 0 else 0.0


def rmsea_interval(x2: float, df: float, n: float, level: float = 0.90) -> tuple[float, float]:
    """RMSEA's interval from the noncentral chi-square (mirt's ``RMSEA.CI``; 0 where no root exists)."""
    alpha = (1 - level) / 2

    def bound(target: float, upper: float) -> float:
        f = lambda lam: stats.ncx2.cdf(x2, df, lam) - target if lam > 0 else stats.chi2.cdf(x2, df) - target  # noqa: E731
        try:
            if f(0.0) * f(upper) > 0:
                return 0.0
            lam = optimize.brentq(f, 0.0, upper, xtol=1e-10)
        except ValueError:
            return 0.0
        return float(np.sqrt(lam / (n * df)))

    return bound(1 - alpha, x2), bound(alpha, max(n, 5 * x2))


def _null_bank(bank: ItemBank, codes: np.ndarray) -> ItemBank:
    """The independence model: slopes 0, intercepts at their maximum likelihood (the answer proportions)."""
    intercepts = []
    for j, model in enumerate(bank.models):
        column = codes[:, j]
        counts = np.bincount(column[column >= 0], minlength=len(bank.categories[j])).astype(float)
        p = counts / counts.sum()
        if model == "graded":
            upper = 1 - np.cumsum(p)[:-1]
            intercepts.append(np.log(upper / (1 - upper)))
        else:
            intercepts.append(np.log(p[1:] / p[0]))
    return bank.with_parameters(np.zeros(bank.n_items), intercepts)


def limited_information_fit(bank: ItemBank, codes: np.ndarray, kind: str = "auto", *, n_nodes: int = FIT_NODES,
                            theta_range: tuple[float, float] = (-6.0, 6.0)) -> dict[str, float | str]:
    """M2* (M2 for binary items) or C2 with df, p, RMSEA [90% CI], SRMSR, TLI and CFI (mirt's ``M2()``).

    ``kind="auto"`` computes M2* when it has more moments than parameters and C2 otherwise (a 5-item
    scale with 6 categories has 15 moments for 30 parameters); for binary items M2* is M2.
    """
    if kind not in ("auto", "M2*", "C2"):
        raise ValueError(f"unknown statistic {kind!r}; one of 'auto', 'M2*', 'C2'")
    binary = all(len(c) == 2 for c in bank.categories)
    n_items = bank.n_items
    n_params = int(sum(len(d) + 1 for d in bank.intercepts))
    if binary:
        kind = "M2*"
    elif kind == "auto":
        kind = "M2*" if n_items + n_items * (n_items - 1) // 2 > n_params else "C2"
    nodes, w = grid(n_nodes, theta_range)
    n_rows = codes.shape[0]
    structure = _moment_structure(bank, codes, kind, nodes, w)
    statistic, df = _quadratic_form(structure, n_rows)
    low, high = rmsea_interval(statistic, df, n_rows)
    resid = _cov2cor(structure["observed_cov"]) - _cov2cor(structure["model_cov"])
    rows, cols = _pairs(n_items)
    out: dict[str, float | str] = {
        "statistic": "M2" if binary else kind, "value": statistic, "df": df,
        "p": float(stats.chi2.sf(statistic, df)), "RMSEA": rmsea(statistic, df, n_rows),
        "RMSEA_5": low, "RMSEA_95": high, "SRMSR": float(np.sqrt(np.mean(resid[rows, cols] ** 2))),
    }
    null = _null_bank(bank, codes)
    null_structure = _moment_structure(null, codes, kind, nodes[[0, -1]], np.array([0.5, 0.5]), slopes_free=False)
    null_value, null_df = _quadratic_form(null_structure, n_rows)
    if null_value > statistic:
        out["TLI"] = (null_value / null_df - statistic / df) / (null_value / null_df - 1)
        out["CFI"] = float(min(max(1 - (statistic - df) / (null_value - null_df), 0.0), 1.0))
    out["null_value"], out["null_df"] = null_value, null_df
    return out


# S-X2 ---------------------------------------------------------------------------------------------------
def _conditional_tables(bank: ItemBank, item: int, others: list[int], nodes: np.ndarray, w: np.ndarray) -> np.ndarray:
    """P(X_item = c | sum over ``others`` + item = s), as (S, K) with NaN where c cannot occur at s."""
    rest = sum_score_distribution(bank.subset([bank.items[j] for j in others]), nodes) if others else np.ones((len(nodes), 1))
    probs = bank.probabilities(nodes)[:, item, : len(bank.categories[item])]  # (Q, K)
    k = probs.shape[1]
    n_sums = rest.shape[1] + k - 1
    joint = np.full((n_sums, k), np.nan)
    for c in range(k):
        joint[c : c + rest.shape[1], c] = (rest * probs[:, [c]]).T @ w
    total = np.nansum(joint, axis=1, keepdims=True)
    return joint / total


def _observed_and_expected(bank: ItemBank, codes: np.ndarray, item: int, nodes: np.ndarray,
                           w: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Observed and expected counts (sum score x category) for one item; rows = sum scores 1..max-1.

    Respondents are grouped by the set of items they answered (all of them when nothing is missing);
    each group's expected counts condition on its own sum score distribution.
    """
    sizes = bank.n_categories
    top = int((sizes - 1).sum())
    k = int(sizes[item])
    observed = np.zeros((top + 1, k))
    expected = np.zeros((top + 1, k))
    possible = np.zeros((top + 1, k), dtype=bool)
    rows = codes[codes[:, item] >= 0]
    answered = rows >= 0
    keys, inverse = np.unique(answered, axis=0, return_inverse=True)
    n_used = 0
    for g, key in enumerate(keys):
        members = rows[inverse.reshape(-1) == g]
        subset = list(np.flatnonzero(key))
        others = [j for j in subset if j != item]
        table = _conditional_tables(bank, item, others, nodes, w)  # (S_g, K)
        max_g = table.shape[0] - 1
        sums = members[:, subset].sum(axis=1)
        informative = (sums > 0) & (sums < max_g)  # the lowest and highest scores determine every answer
        sums, answers = sums[informative], members[informative, item]
        n_used += len(sums)
        np.add.at(observed, (sums, answers), 1.0)
        count = np.bincount(sums, minlength=max_g + 1).astype(float)
        inner = slice(1, max_g)
        expected[inner] += np.nan_to_num(table[inner]) * count[inner, None]
        possible[inner] |= ~np.isnan(table[inner])
    expected = np.where(possible, expected, np.nan)
    return observed[1:top], expected[1:top], n_used


def _collapse(observed: np.ndarray, expected: np.ndarray, mincell: float) -> tuple[np.ndarray, np.ndarray]:
    """mirt's ``collapseCells`` for one item's table, step for step (its quirks included)."""
    O, E = observed.copy(), expected.copy()
    na_rows = np.flatnonzero(np.isnan(E).any(axis=1))
    E = np.nan_to_num(E)
    if len(na_rows):  # merge the impossible corner cells into the first and last full rows
        half = len(na_rows) // 2
        up = np.arange(na_rows[0], na_rows[max(half - 1, 0)] + 1) if half else np.array([], dtype=int)
        low = np.arange(na_rows[half], na_rows[-1] + 1)
        if len(up):
            E[up.max() + 1] += E[up].sum(axis=0)
            O[up.max() + 1] += O[up].sum(axis=0)
        E[low.min() - 1] += E[low].sum(axis=0)
        O[low.min() - 1] += O[low].sum(axis=0)
        keep = np.setdiff1d(np.arange(len(E)), np.concatenate([up, low]))
        E, O = E[keep], O[keep]
    if len(O) == 0:
        return O, E
    keep = O.sum(axis=1) != 0
    O, E = O[keep], E[keep]
    small = E < mincell  # computed here and indexed by row later, as mirt does
    dropped = []
    for j in range(len(O) - 1):
        if O[j].sum() == 1:
            dropped.append(j)
            O[j + 1] += O[j]
            E[j + 1] += E[j]
    if dropped:
        O, E = np.delete(O, dropped, axis=0), np.delete(E, dropped, axis=0)
    if O[-1].sum() == 1 and len(O) > 1:
        O[-2] += O[-1]
        E[-2] += E[-1]
        O, E = O[:-1], E[:-1]
    n_cols = E.shape[1]
    if n_cols > 2:  # merge small categories within a row, smallest first
        E = E.astype(float)
        for j in range(len(E)):
            if j >= len(small) or not small[j].any():
                continue
            e, o = list(E[j]), list(O[j])
            while len(e) > 2:
                m = min(e)
                which = max(i for i, v in enumerate(e) if v == m)
                if which == 0:
                    target = 1
                elif which == len(e) - 1:
                    target = len(e) - 2
                else:
                    target = which - 1 if e[which - 1] <= e[which + 1] else which + 1
                e[target] += e[which]
                o[target] += o[which]
                del e[which], o[which]
                if all(v >= mincell for v in e):
                    break
            E[j] = e + [np.nan] * (n_cols - len(e))
            O[j] = o + [0.0] * (n_cols - len(o))
    E = np.nan_to_num(E)
    if E.shape[1] > 2:  # fold the last category into its neighbour while it is rare
        while True:
            rare = E.sum(axis=0) < mincell * np.ceil(len(E) * 0.1)
            if not rare[-1] or E.shape[1] == 2:
                break
            O[:, -2] += O[:, -1]
            E[:, -2] += E[:, -1]
            O, E = O[:, :-1], E[:, :-1]
    drop_col = np.zeros(E.shape[1], dtype=bool)
    for j in range(E.shape[1] - 1, 0, -1):
        if (E[:, j] > 0).sum() / len(E) < 0.05:
            drop_col[j] = True
            E[:, j - 1] += E[:, j]
            O[:, j - 1] += O[:, j]
    E, O = E[:, ~drop_col], O[:, ~drop_col]
    while True:  # merge rows that still hold a small nonzero cell into a neighbour
        small = (E < mincell) & (E != 0)
        if not small.any() or E.ndim != 2 or len(E) < 2:
            break
        which = int(np.flatnonzero(small.any(axis=1))[0])
        if which == 0:
            target = 1
        elif which == len(E) - 1:
            target = len(E) - 2
        else:
            target = which - 1 if O[which - 1].sum() <= O[which + 1].sum() else which + 1
        E[target] += E[which]
        O[target] += O[which]
        E, O = np.delete(E, which, axis=0), np.delete(O, which, axis=0)
    E = np.where(E == 0, np.nan, E)
    return O, E


def s_x2(bank: ItemBank, codes: np.ndarray, *, mincell: float = 1.0, n_nodes: int = FIT_NODES,
         theta_range: tuple[float, float] = (-6.0, 6.0), n_group_params: int = 0) -> pd.DataFrame:
    """Orlando & Thissen's S-X2 per item with df, RMSEA and p (mirt's ``itemfit(fit_stats = "S_X2")``).

    df = cells left after collapsing - rows - the item's parameters; RMSEA = sqrt(max(X2/df - 1, 0) / (N - 1))
    with N the respondents in the item's table (everyone, with complete data, as mirt).
    """
    nodes, w = grid(n_nodes, theta_range)
    out = []
    for item in range(bank.n_items):
        observed, expected, n_used = _observed_and_expected(bank, codes, item, nodes, w)
        O, E = _collapse(observed, expected, mincell)
        n_params = len(bank.intercepts[item]) + 1
        x2 = float(np.nansum((O - E) ** 2 / E))
        df = int(np.count_nonzero(~np.isnan(E)) - len(E) - n_params - n_group_params)
        n = int((codes[:, item] >= 0).sum())
        if df <= 0:
            df, x2 = 0, float("nan")
        out.append({"item": bank.items[item], "S_X2": x2, "df": df, "RMSEA": rmsea(x2, df, n) if df > 0 else float("nan"),
                    "p": float(stats.chi2.sf(x2, df)) if df > 0 else float("nan"), "n": n, "n_informative": n_used})
    return pd.DataFrame(out).set_index("item")


# Local dependence ---------------------------------------------------------------------------------------
def _gamma(table: np.ndarray) -> float:
    """Goodman-Kruskal gamma of a contingency table (mirt's ``gamma_cor``)."""
    below_right = np.flip(np.cumsum(np.cumsum(np.flip(table), axis=0), axis=1))  # sum over r' >= r, c' >= c
    concordant = float((table[:-1, :-1] * below_right[1:, 1:]).sum())
    below_left = np.flip(np.cumsum(np.cumsum(np.flip(table, axis=0), axis=0), axis=1), axis=0)  # r' >= r, c' <= c
    discordant = float((table[:-1, 1:] * below_left[1:, :-1]).sum())
    return (concordant - discordant) / (concordant + discordant)


def ld_x2(bank: ItemBank, codes: np.ndarray, *, n_nodes: int = FIT_NODES,
          theta_range: tuple[float, float] = (-6.0, 6.0)) -> pd.DataFrame:
    """Chen & Thissen's local-dependence X2 for every item pair (mirt's ``residuals(type = "LD")``).

    One row per pair: ``X2`` (observed vs model-expected answer-pair table over the rows answering
    both), ``df`` = (K_i - 1)(K_j - 1), ``p``, and ``cramers_v`` = sqrt(X2 / (N (min K - 1))) signed by
    the difference between the observed and expected tables' gamma (positive: more dependence than the
    model implies). mirt prints X2 below the diagonal and the signed V above it.
    """
    nodes, w = grid(n_nodes, theta_range)
    probs = bank.probabilities(nodes)
    sizes = bank.n_categories
    out = []
    rows, cols = _pairs(bank.n_items)
    for i, j in zip(rows, cols, strict=True):
        both = (codes[:, i] >= 0) & (codes[:, j] >= 0)
        ki, kj = int(sizes[i]), int(sizes[j])
        table = np.zeros((ki, kj))
        np.add.at(table, (codes[both, i], codes[both, j]), 1.0)
        n = table.sum()
        expected = n * (probs[:, i, :ki] * w[:, None]).T @ probs[:, j, :kj]
        sign = np.sign(_gamma(table) - _gamma(expected)) or 1.0
        x2 = float(((table - expected) ** 2 / expected).sum())
        df = (ki - 1) * (kj - 1)
        out.append({"item_1": bank.items[i], "item_2": bank.items[j], "X2": x2, "df": df,
                    "p": float(stats.chi2.sf(x2, df)), "cramers_v": float(sign * np.sqrt(x2 / (n * (min(ki, kj) - 1))))})
    return pd.DataFrame(out).set_index(["item_1", "item_2"])


def q3(bank: ItemBank, codes: np.ndarray) -> pd.DataFrame:
    """Yen's Q3: correlations of the residuals x - E[x | EAP theta] between items (mirt's ``type = "Q3"``).

    Residuals use each row's EAP score (121 nodes on [-6, 6]); correlations use the rows answering both.
    """
    theta, _ = theta_eap(bank, codes)
    expected = bank.expected_scores(theta)
    resid = np.where(codes >= 0, codes - expected, np.nan)
    n = bank.n_items
    out = np.eye(n)
    for i, j in zip(*_pairs(n), strict=True):
        both = ~np.isnan(resid[:, i]) & ~np.isnan(resid[:, j])
        out[i, j] = out[j, i] = np.corrcoef(resid[both, i], resid[both, j])[0, 1]
    return pd.DataFrame(out, index=list(bank.items), columns=list(bank.items))
