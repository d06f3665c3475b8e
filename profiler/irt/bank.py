"""An item bank: calibrated item parameters and the vectorised functions an adaptive test is built on.

:class:`ItemBank` holds, per item, its model (``graded`` — the 2PL is a binary graded item — or
``gpcm``), slope ``a`` and intercepts ``d1..d(K-1)`` in mirt's slope/intercept form, and the answer
values its categories stand for. Everything is computed for many thetas and items at once:

>>> bank.probabilities(theta)          # (n_theta, n_items, max K)  # doctest: +SKIP
>>> bank.information(theta)            # (n_theta, n_items) Fisher information  # doctest: +SKIP
>>> bank.log_likelihood(codes, nodes)  # (n_people, n_nodes), missing answers skipped  # doctest: +SKIP

Scoring a (partial) response pattern is in :mod:`profiler.irt.scoring`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from profiler.irt import _kernels
from profiler.irt._data import IRTDataError, Responses, as_frame, encode


@dataclass(frozen=True, eq=False)
class ItemBank:
    """Item parameters of a unidimensional IRT bank (slope/intercept form, as mirt's ``coef(simplify=TRUE)``).

    Parameters
    ----------
    items : sequence of str
        Item names.
    models : sequence of {"graded", "gpcm"}
        Each item's model; a binary graded item is the 2PL.
    slopes : array of shape (n_items,)
        ``a`` (mirt's ``a1``).
    intercepts : sequence of arrays
        Each item's ``d1..d(K-1)`` (mirt's ``d1..``; a binary item has one). Graded intercepts decrease.
    categories : sequence of arrays
        The answer values of each item's categories, in order (K values).
    """

    items: tuple[str, ...]
    models: tuple[str, ...]
    slopes: np.ndarray
    intercepts: tuple[np.ndarray, ...]
    categories: tuple[np.ndarray, ...]
    _padded: np.ndarray = field(init=False, repr=False)
    _tables: dict = field(init=False, repr=False, compare=False)

    def __init__(self, items: Sequence[str], models: Sequence[str], slopes, intercepts, categories) -> None:
        items = tuple(str(i) for i in items)
        models = tuple(models)
        slopes = np.asarray(slopes, dtype=float).reshape(-1)
        intercepts = tuple(np.asarray(d, dtype=float).reshape(-1) for d in intercepts)
        categories = tuple(np.asarray(c, dtype=float).reshape(-1) for c in categories)
        n = len(items)
        if not (len(models) == len(slopes) == len(intercepts) == len(categories) == n):
            raise IRTDataError("an item bank needs one model, slope, intercept vector and category list per item")
        for item, model, d, cats in zip(items, models, intercepts, categories, strict=True):
            if model not in _kernels.MODELS:
                raise IRTDataError(f"item {item!r}: unknown model {model!r} (one of {list(_kernels.MODELS)})")
            if len(d) != len(cats) - 1 or len(cats) < 2:
                raise IRTDataError(f"item {item!r}: {len(cats)} categories need {len(cats) - 1} intercepts, got {len(d)}")
            if model == "graded" and np.any(np.diff(d) >= 0):
                raise IRTDataError(f"item {item!r}: graded intercepts must decrease, got {list(d)}")
        width = max(len(c) for c in categories) - 1
        padded = np.full((n, width), -np.inf)
        for j, d in enumerate(intercepts):
            padded[j, : len(d)] = d
        for name, value in (("items", items), ("models", models), ("slopes", slopes), ("intercepts", intercepts),
                            ("categories", categories), ("_padded", padded), ("_tables", {})):
            object.__setattr__(self, name, value)

    # Shape ---------------------------------------------------------------------------------------
    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_categories(self) -> np.ndarray:
        return np.array([len(c) for c in self.categories])

    @property
    def max_categories(self) -> int:
        """The largest number of categories of any item (the width of the padded arrays)."""
        return self._padded.shape[1] + 1

    def blocks(self) -> Iterator[tuple[str, np.ndarray]]:
        """(model, item positions) for each model in the bank: the kernels run once per block."""
        models = np.array(self.models)
        for model in _kernels.MODELS:
            where = np.flatnonzero(models == model)
            if len(where):
                yield model, where

    def subset(self, items: Sequence[str]) -> ItemBank:
        """The bank restricted to ``items`` (in that order)."""
        position = {name: j for j, name in enumerate(self.items)}
        unknown = [i for i in items if i not in position]
        if unknown:
            raise IRTDataError(f"unknown item(s) {unknown}; the bank has {list(self.items)}")
        idx = [position[i] for i in items]
        return ItemBank([self.items[j] for j in idx], [self.models[j] for j in idx], self.slopes[idx],
                        [self.intercepts[j] for j in idx], [self.categories[j] for j in idx])

    # Item functions ------------------------------------------------------------------------------
    def probabilities(self, theta) -> np.ndarray:
        """Category probabilities of every item at every theta, (n_theta, n_items, max K); 0 beyond an item's K."""
        theta = np.atleast_1d(np.asarray(theta, dtype=float))
        out = np.zeros((len(theta), self.n_items, self.max_categories))
        for model, where in self.blocks():
            p = _kernels.probabilities(model, self.slopes[where], self._padded[where], theta)
            out[:, where] = p.transpose(1, 0, 2)
        return out

    def information(self, theta) -> np.ndarray:
        """Fisher item information, (n_theta, n_items); sum over items for the test information."""
        theta = np.atleast_1d(np.asarray(theta, dtype=float))
        out = np.empty((len(theta), self.n_items))
        for model, where in self.blocks():
            out[:, where] = _kernels.information(model, self.slopes[where], self._padded[where], theta).T
        return out

    def expected_scores(self, theta) -> np.ndarray:
        """Expected category code (0..K-1) of every item at every theta, (n_theta, n_items)."""
        p = self.probabilities(theta)
        return p @ np.arange(p.shape[2], dtype=float)

    def expected_value(self, theta, values: Sequence) -> tuple[np.ndarray, np.ndarray]:
        """Expected total of given category values at each theta, and its derivative in theta.

        ``values`` holds each item's value of each of its categories (e.g. the keyed answer); the total is
        ``sum_j sum_k P_jk(theta) v_jk`` (with the keyed answers: the test characteristic curve) and the
        derivative ``sum_j sum_k P_jk(theta) (d log P_jk / d theta) v_jk``. Returns two (n_theta,) arrays.
        """
        theta = np.atleast_1d(np.asarray(theta, dtype=float))
        v = np.zeros((self.n_items, self.max_categories))
        for j, item_values in enumerate(values):
            item_values = np.asarray(item_values, dtype=float).reshape(-1)
            if len(item_values) != len(self.categories[j]):
                raise IRTDataError(f"item {self.items[j]!r}: {len(item_values)} values for "
                                   f"{len(self.categories[j])} categories")
            v[j, : len(item_values)] = item_values
        total = np.zeros(len(theta))
        slope = np.zeros(len(theta))
        for model, where in self.blocks():
            p, dlog, _ = _kernels.theta_derivatives(model, self.slopes[where], self._padded[where], theta)
            weighted = p * v[where][:, None, :]  # (J, n_theta, K); zero beyond an item's categories
            total += weighted.sum(axis=(0, 2))
            slope += (weighted * dlog).sum(axis=(0, 2))
        return total, slope

    def log_likelihood(self, codes: np.ndarray, theta) -> np.ndarray:
        """log P(pattern | theta) of coded responses (n_people, n_items; -1 = not answered), (n_people, n_theta)."""
        theta = np.atleast_1d(np.asarray(theta, dtype=float))
        codes = np.asarray(codes)
        table = self.log_probability_table(theta)  # (n_items, max K, n_theta)
        out = np.zeros((codes.shape[0], len(theta)))
        for j in range(self.n_items):
            answered = codes[:, j] >= 0
            out[answered] += table[j, codes[answered, j]]
        return out

    def log_probability_table(self, theta: np.ndarray) -> np.ndarray:
        """log P(X_j = k | theta) as (n_items, max K, n_theta), floored at the smallest normal float's log.

        The bank is immutable, so the table of a grid (EAP's nodes, asked for again at every step of an
        adaptive test) is kept for the next call; treat the returned array as read-only.
        """
        theta = np.asarray(theta, dtype=float)
        key = theta.tobytes()
        cached = self._tables.get(key)
        if cached is not None:
            return cached
        out = np.full((self.n_items, self.max_categories, len(theta)), np.log(_kernels.TINY))
        for model, where in self.blocks():
            lp = _kernels.log_probabilities(model, self.slopes[where], self._padded[where], theta)
            out[where] = np.maximum(lp, np.log(_kernels.TINY)).transpose(0, 2, 1)
        if len(self._tables) >= 8:  # a few grids at most: EAP's, the EM's, a plot's
            self._tables.pop(next(iter(self._tables)))
        out.flags.writeable = False
        self._tables[key] = out
        return out

    def pattern_derivatives(self, codes: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """log P(pattern | theta) and its first and second derivatives in theta, one theta per person.

        ``codes`` (n_people, n_items; -1 = not answered) and ``theta`` (n_people,) give three (n_people,)
        arrays: what Newton's method needs for MAP and ML scores.
        """
        theta = np.asarray(theta, dtype=float)
        codes = np.asarray(codes)
        value = np.zeros(len(theta))
        first = np.zeros(len(theta))
        second = np.zeros(len(theta))
        rows = np.arange(len(theta))
        asked = (codes >= 0).any(axis=0)  # an adaptive test's pattern leaves most items out
        for model, where in self.blocks():
            where = where[asked[where]]
            if not len(where):
                continue
            p, dlog, d2log = _kernels.theta_derivatives(model, self.slopes[where], self._padded[where], theta)
            for i, j in enumerate(where):
                answered = codes[:, j] >= 0
                r, c = rows[answered], codes[answered, j]
                value[answered] += np.log(np.maximum(p[i, r, c], _kernels.TINY))
                first[answered] += dlog[i, r, c]
                second[answered] += d2log[i, r, c]
        return value, first, second

    def encode(self, responses) -> Responses:
        """Category codes of answers given as a DataFrame (item columns; NaN = not administered/answered).

        Columns may be any subset of the bank's items (an adaptive test asks only some); an answer that is
        not one of the item's calibrated values is an error naming its row and item.
        """
        frame = as_frame(responses, list(self.items))
        unknown = [str(c) for c in frame.columns if str(c) not in self.items]
        if unknown:
            raise IRTDataError(f"unknown item column(s) {unknown}; the bank has {list(self.items)}")
        frame = frame.set_axis([str(c) for c in frame.columns], axis=1).reindex(columns=list(self.items))
        return encode(frame, list(self.items), list(self.categories))

    # Tables --------------------------------------------------------------------------------------
    def params(self) -> pd.DataFrame:
        """items x ``a1, d1..dk`` (NaN where an item has fewer categories), as mirt's ``coef(simplify=TRUE)``."""
        width = self._padded.shape[1]
        table = np.where(np.isfinite(self._padded), self._padded, np.nan)
        return pd.DataFrame(np.column_stack([self.slopes, table]), index=pd.Index(self.items, name="item"),
                            columns=["a1"] + [f"d{k}" for k in range(1, width + 1)])

    def irt_params(self) -> pd.DataFrame:
        """items x ``a, b1..bk``: graded b_k = -d_k / a; gpcm b_k = -(d_k - d_(k-1)) / a (mirt's IRTpars)."""
        width = self._padded.shape[1]
        table = np.full((self.n_items, width), np.nan)
        for j, (model, d) in enumerate(zip(self.models, self.intercepts, strict=True)):
            steps = d if model == "graded" else np.diff(np.concatenate([[0.0], d]))
            table[j, : len(d)] = -steps / self.slopes[j]
        return pd.DataFrame(np.column_stack([self.slopes, table]), index=pd.Index(self.items, name="item"),
                            columns=["a"] + [f"b{k}" for k in range(1, width + 1)])

    def with_parameters(self, slopes, intercepts) -> ItemBank:
        """The same items with new parameters."""
        return ItemBank(self.items, self.models, slopes, intercepts, self.categories)
