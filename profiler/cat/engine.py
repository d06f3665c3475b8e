"""One scale's adaptive test: the next item (or the stop) for many respondents at once.

:class:`CATEngine` holds an item bank, each item's facet and the scale's :class:`~profiler.cat.rules.CATRules`.
:meth:`CATEngine.choose` takes, for each respondent, the log posterior over the quadrature nodes (prior plus the
answers so far) and which items were given, and returns the EAP theta and posterior SD, whether the test stops
(and why) and otherwise the next item. The same code serves a session (one respondent,
:meth:`CATEngine.step`) and a simulation study (thousands in lockstep), so the study measures exactly what a
candidate meets.

Randomness (randomesque, Sympson-Hetter) comes from draws that are a function of ``(session seed, scale,
step)`` (:func:`step_draws`): nothing random is kept in memory, so a resumed or replayed session draws the same
numbers at the same step.

EAP is the posterior mean over 121 equally spaced nodes on [-6, 6] with the N(mean, sd^2) prior (mirt's
``fscores`` grid, as :func:`profiler.irt.scoring.theta_eap`); the SE is the posterior SD.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from profiler.cat.rules import CATError, CATRules
from profiler.irt.bank import ItemBank
from profiler.irt.scoring import EAP_NODES, THETA_RANGE, grid

# Why a test stops (index into STOP_REASONS; 0 = it goes on).
STOP_REASONS = ("", "se", "max_items", "bank_exhausted")
SE_REACHED, MAX_ITEMS, EXHAUSTED = 1, 2, 3
RECORDED_CANDIDATES = 5  # without randomness, the best few are recorded beside the one chosen


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser (Steele, Lea & Flood, 2014): a bijection of 64-bit words that scatters every bit."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def step_draws(seeds: np.ndarray, scale: str, steps: np.ndarray, count: int, purpose: int = 0) -> np.ndarray:
    """Uniform draws in [0, 1) of one step, (n, count): a function of (session seed, scale, step, index) alone.

    Draw ``i`` of step ``s`` is SplitMix64 of a key mixed from the seed, the scale (its CRC-32), the purpose
    (0: the step's randomesque draw; 1: Sympson-Hetter's one draw per item, the same at every step) and the
    step, advanced ``i + 1`` times by the golden-ratio increment, its top 53 bits scaled to [0, 1). Nothing is
    kept between steps, so a resumed or replayed session draws the same numbers, and anyone can recompute a
    recorded draw.
    """
    seeds = np.asarray(seeds).astype(np.uint64).reshape(-1)
    steps = np.asarray(steps).astype(np.uint64).reshape(-1)
    scale_word = np.uint64(zlib.crc32(scale.encode("utf-8")))
    key = _mix(_mix(_mix(_mix(seeds) ^ scale_word) + np.uint64(purpose)) + steps * _GOLDEN)
    counters = key[:, None] + (np.arange(1, count + 1, dtype=np.uint64)[None, :] * _GOLDEN)
    return (_mix(counters) >> np.uint64(11)).astype(np.float64) * (1.0 / 2.0**53)


@dataclass(frozen=True)
class Choice:
    """What :meth:`CATEngine.choose` decided for each respondent (arrays of length n).

    ``stop`` indexes :data:`STOP_REASONS` (0: not stopped); ``item`` is the bank position of the next item
    (-1 when stopped); ``records`` (when asked for) holds each respondent's step as plain data; ``considered``
    (Sympson-Hetter only) marks the items tried at this step, (n, J).
    """

    theta: np.ndarray
    se: np.ndarray
    stop: np.ndarray
    item: np.ndarray
    records: list[dict[str, Any]] | None = None
    considered: np.ndarray | None = None


class CATEngine:
    """The adaptive test of one scale on a calibrated item bank.

    Parameters
    ----------
    scale : str
        The scale's id (also seeds its random draws).
    bank : ItemBank
        The scale's items, keyed (category codes 0..K-1 in the keyed direction).
    rules : CATRules
    facets : mapping of item -> facet, or sequence aligned with the bank's items, optional
        Each item's facet (None: no facet); needed by content balancing.

    Raises
    ------
    CATError
        Rules that name items or facets the bank does not have, or that cannot be met by it.
    """

    def __init__(self, scale: str, bank: ItemBank, rules: CATRules,
                 facets: Mapping[str, str | None] | Sequence[str | None] | None = None) -> None:
        self.scale = scale
        self.bank = bank
        self.rules = rules
        if facets is None:
            facet_list: list[str | None] = [None] * bank.n_items
        elif isinstance(facets, Mapping):
            facet_list = [facets.get(item) for item in bank.items]
        else:
            facet_list = list(facets)
            if len(facet_list) != bank.n_items:
                raise CATError(f"scale {scale!r}: {len(facet_list)} facets for {bank.n_items} items")
        self.facet_names: tuple[str, ...] = tuple(dict.fromkeys(f for f in facet_list if f is not None))
        index = {f: i for i, f in enumerate(self.facet_names)}
        self.facet_of = np.array([index[f] if f is not None else -1 for f in facet_list], dtype=np.intp)
        self._check(rules)
        position = {item: j for j, item in enumerate(bank.items)}
        self._sh = np.array([rules.sympson_hetter.get(item, 1.0) for item in bank.items])
        self._start = np.array([position[i] for i in rules.start_items], dtype=np.intp)
        self._targets = None if rules.proportions is None else \
            np.array([rules.proportions.get(f, 0.0) for f in self.facet_names])
        self._facet_matrix = (self.facet_of[:, None] == np.arange(len(self.facet_names))[None, :]).astype(float)
        self.nodes, weights = grid(EAP_NODES, THETA_RANGE, rules.prior_mean, rules.prior_sd)
        self.log_prior = np.log(np.maximum(weights, np.finfo(float).tiny))
        self.log_table = bank.log_probability_table(self.nodes)  # (J, K, Q)
        self._max_items = bank.n_items if rules.max_items is None else min(rules.max_items, bank.n_items)

    @property
    def max_items(self) -> int:
        """The most items the test can give (its rule's maximum, at most the bank)."""
        return self._max_items

    def _check(self, rules: CATRules) -> None:
        items = set(self.bank.items)
        named = [i for i in (*rules.sympson_hetter, *rules.start_items) if i not in items]
        if named:
            raise CATError(f"scale {self.scale!r}: item(s) {', '.join(map(repr, named))} are not in its item bank")
        if len(set(rules.start_items)) != len(rules.start_items):
            raise CATError(f"scale {self.scale!r}: an item is named twice among the start items")
        if (rules.each_facet or rules.proportions) and not self.facet_names:
            raise CATError(f"scale {self.scale!r} has no facets, so content balancing has nothing to balance")
        if rules.proportions is not None:
            unknown = [f for f in rules.proportions if f not in self.facet_names]
            if unknown:
                raise CATError(f"scale {self.scale!r}: proportions name {', '.join(map(repr, unknown))}, which are "
                               f"not its facets ({', '.join(self.facet_names)})")
        sizes = np.bincount(self.facet_of[self.facet_of >= 0], minlength=len(self.facet_names))
        if rules.each_facet and (sizes < rules.each_facet).any():
            short = [f for f, n in zip(self.facet_names, sizes, strict=True) if n < rules.each_facet]
            raise CATError(f"scale {self.scale!r}: facet(s) {', '.join(short)} have fewer than each_facet = "
                           f"{rules.each_facet} items in the bank")
        needed = rules.each_facet * len(self.facet_names)
        if rules.max_items is not None and needed > rules.max_items:
            raise CATError(f"scale {self.scale!r}: {rules.each_facet} item(s) from each of {len(self.facet_names)} "
                           f"facets need {needed} items, more than max_items = {rules.max_items}")

    # Posterior ---------------------------------------------------------------------------------------------
    def prior(self, n: int = 1) -> np.ndarray:
        """The log prior over the nodes for ``n`` respondents, (n, Q)."""
        return np.tile(self.log_prior, (n, 1))

    def log_posterior(self, codes: np.ndarray) -> np.ndarray:
        """Log posterior (unnormalised) of coded answers (n, J; -1 = not answered) over the nodes, (n, Q)."""
        codes = np.asarray(codes)
        out = self.prior(codes.shape[0])
        rows, cols = np.nonzero(codes >= 0)
        np.add.at(out, rows, self.log_table[cols, codes[rows, cols]])
        return out

    def add_answers(self, log_post: np.ndarray, rows: np.ndarray, items: np.ndarray, codes: np.ndarray) -> None:
        """Add one answer per row (``codes`` -1: skipped, adds nothing) to ``log_post`` in place."""
        answered = codes >= 0
        log_post[rows[answered]] += self.log_table[items[answered], codes[answered]]

    def estimate(self, log_post: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Normalised posterior (n, Q), EAP theta and posterior SD (n,)."""
        post = np.exp(log_post - log_post.max(axis=1, keepdims=True))
        post /= post.sum(axis=1, keepdims=True)
        theta = post @ self.nodes
        se = np.sqrt(np.maximum(post @ self.nodes**2 - theta**2, 0.0))
        return post, theta, se

    # Criteria ----------------------------------------------------------------------------------------------
    def criterion(self, theta: np.ndarray, post: np.ndarray) -> np.ndarray:
        """The selection criterion of every item for each respondent, (n, J)."""
        if self.rules.selection == "fisher":
            return self.bank.information(theta)
        return self.kl(theta, post)

    def kl(self, theta: np.ndarray, post: np.ndarray) -> np.ndarray:
        """Posterior-weighted Kullback-Leibler information (n, J): sum_q post_q KL(P_j(theta) || P_j(node_q))."""
        p = self.bank.probabilities(theta)  # (n, J, K)
        expected_log = np.einsum("jkq,nq->njk", self.log_table, post)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(p > 0, p * (np.log(np.where(p > 0, p, 1.0)) - expected_log), 0.0)
        return terms.sum(axis=2)

    # The step ----------------------------------------------------------------------------------------------
    def choose(self, log_post: np.ndarray, administered: np.ndarray, seeds: np.ndarray,
               record: bool = False) -> Choice:
        """Stop, or choose the next item, for each respondent.

        Parameters
        ----------
        log_post : array (n, Q)
            Log posterior of each respondent's answers so far (:meth:`log_posterior`, :meth:`add_answers`).
        administered : bool array (n, J)
            Items already given (answered or skipped): never given again.
        seeds : int array (n,)
            Each respondent's seed; the step is the number of items given.
        record : bool
            Also return each respondent's step as plain data (:attr:`Choice.records`).
        """
        rules = self.rules
        administered = np.asarray(administered, dtype=bool)
        n = administered.shape[0]
        post, theta, se = self.estimate(log_post)
        given = administered.sum(axis=1)
        eligible = ~administered
        counts = administered @ self._facet_matrix  # (n, F) items given per facet
        left = eligible @ self._facet_matrix > 0  # facets with items still available
        deficit = np.where(left, np.maximum(rules.each_facet - counts, 0.0), 0.0)
        short = deficit.sum(axis=1)
        se_met = np.zeros(n, dtype=bool) if rules.se is None else se <= rules.se
        stop = np.zeros(n, dtype=np.intp)
        stop[given >= self._max_items] = MAX_ITEMS
        stop[~eligible.any(axis=1)] = EXHAUSTED
        stop[(stop == 0) & (given >= rules.min_items) & se_met & (short == 0)] = SE_REACHED
        active = stop == 0
        # Content: cover the facets still short when the test would stop, or when only enough items are left
        # for them; otherwise follow the target proportions. Items of no facet never cover one.
        coverage = active & (short > 0) & (((given >= rules.min_items) & se_met) | (self._max_items - given <= short))
        allowed = eligible.copy()
        if coverage.any():
            allowed[coverage] &= (deficit[coverage][:, np.maximum(self.facet_of, 0)] > 0) & (self.facet_of >= 0)
        chosen_facet = np.full(n, -1, dtype=np.intp)
        if self._targets is not None:
            share = counts / np.maximum(given, 1)[:, None]
            gap = np.where(left, self._targets[None, :] - share, -np.inf)
            chosen_facet = np.argmax(gap, axis=1)
            rows = active & ~coverage
            allowed[rows] &= self.facet_of[None, :] == chosen_facet[rows][:, None]
        empty = active & ~allowed.any(axis=1)  # only items of no facet left: any of them
        allowed[empty] = eligible[empty]
        theta_at = np.where(given == 0, rules.start_theta, theta)
        values = np.where(allowed, self.criterion(theta_at, post), -np.inf)
        item, rank, tried, order, n_allowed, draws, started = self._pick(values, given, seeds, active)
        records = self._records(theta, se, given, stop, item, rank, tried, order, n_allowed, draws, started, values,
                                theta_at, coverage, deficit, chosen_facet) if record else None
        considered = None
        if rules.exposure == "sympson-hetter":
            considered = np.zeros_like(administered)
            ranks = np.arange(administered.shape[1])[None, :] < np.where(active & ~started, tried, 0)[:, None]
            np.put_along_axis(considered, order, ranks, axis=1)
        return Choice(theta, se, stop, item, records, considered)

    def _pick(self, values: np.ndarray, given: np.ndarray, seeds: np.ndarray, active: np.ndarray) -> tuple:
        """The next item of every active row among its allowed items (``values`` -inf elsewhere), vectorised.

        Returns the item, its rank among the allowed items, how many items were tried (Sympson-Hetter), the
        order of the allowed items, how many there are, the draws (n, J; NaN without randomness, in the order
        of the items for Sympson-Hetter) and which rows took a start item.
        """
        rules = self.rules
        n, n_items = values.shape
        rows = np.arange(n)
        order = np.argsort(-values, axis=1, kind="stable")
        n_allowed = np.isfinite(values).sum(axis=1)
        draws = np.full((n, n_items), np.nan)
        rank = np.zeros(n, dtype=np.intp)
        tried = np.ones(n, dtype=np.intp)
        randomised = active & (n_allowed > 0)
        if rules.exposure == "randomesque" and randomised.any():
            draws[randomised] = step_draws(seeds[randomised], self.scale, given[randomised], n_items)
        elif rules.exposure == "sympson-hetter" and randomised.any():
            # One draw per item for the whole test: an item that lost its draw once stays out (Sympson &
            # Hetter's removal, without remembering anything); the draws are in the order of the items tried.
            fixed = step_draws(seeds[randomised], self.scale, np.zeros(int(randomised.sum())), n_items, purpose=1)
            draws[randomised] = np.take_along_axis(fixed, order[randomised], axis=1)
        if rules.exposure == "randomesque":
            shown = np.minimum(rules.candidates, n_allowed)
            rank = np.where(randomised, np.minimum((np.nan_to_num(draws[:, 0]) * shown).astype(np.intp),
                                                   np.maximum(shown - 1, 0)), 0)
        elif rules.exposure == "sympson-hetter":
            within = np.arange(n_items)[None, :] < n_allowed[:, None]
            accept = within & (draws <= self._sh[order])
            passed = accept.any(axis=1)
            # Every allowed item out (content balancing may leave few): the one its draw kept out least
            # (smallest u / K), so that the fallback spreads exposure instead of always giving the best.
            ratio = np.where(within, draws / self._sh[order], np.inf)
            rank = np.where(passed, np.argmax(accept, axis=1), np.argmin(ratio, axis=1))
            tried = np.where(passed, rank + 1, n_allowed)
        item = np.where(active, order[rows, rank], -1)
        started = np.zeros(n, dtype=bool)
        if len(self._start):
            early = active & (given < len(self._start))
            start_item = self._start[np.minimum(given, len(self._start) - 1)]
            started = early & np.isfinite(values[rows, start_item])
            item = np.where(started, start_item, item)
        return item, rank, tried, order, n_allowed, draws, started

    def _records(self, theta, se, given, stop, item, rank, tried, order, n_allowed, draws, started, values, theta_at,
                 coverage, deficit, chosen_facet) -> list[dict[str, Any]]:
        """Each row's step as plain data: what was estimated, why it stopped or what was chosen among what."""
        rules = self.rules
        out = []
        for r in range(len(theta)):
            step: dict[str, Any] = {"theta": float(theta[r]), "se": float(se[r]), "items_given": int(given[r]),
                                    "stop": STOP_REASONS[stop[r]] or None, "item": None}
            if stop[r] == 0:
                content = None
                if coverage[r]:
                    content = {"rule": "each_facet",
                               "facets": [f for f, d in zip(self.facet_names, deficit[r], strict=True) if d > 0]}
                elif self._targets is not None:
                    content = {"rule": "proportions", "facets": [self.facet_names[chosen_facet[r]]]}
                if started[r]:
                    rule, shown, used = "start", [int(item[r])], []
                elif rules.exposure == "none":
                    rule, shown, used = "none", list(order[r, : min(RECORDED_CANDIDATES, n_allowed[r])]), []
                elif rules.exposure == "randomesque":
                    rule, shown, used = "randomesque", list(order[r, : min(rules.candidates, n_allowed[r])]), \
                        [float(draws[r, 0])]
                else:
                    rule, shown = "sympson-hetter", list(order[r, : tried[r]])
                    used = [float(x) for x in draws[r, : tried[r]]]
                step.update({"item": self.bank.items[item[r]], "rule": rule, "criterion": rules.selection,
                             "theta_used": float(theta_at[r]), "eligible": int(n_allowed[r]),
                             "candidates": [[self.bank.items[k], float(values[r, k])] for k in shown],
                             "draws": used, "content": content})
                if rule == "sympson-hetter":
                    step["k"] = [float(self._sh[k]) for k in shown]
            out.append(step)
        return out

    def step(self, answers: Sequence[tuple[str, int]], seed: int) -> dict[str, Any]:
        """One respondent's step as plain data: the answers so far (item, category code; -1 = skipped).

        Returns the record of :meth:`choose` (``theta``, ``se``, ``items_given``, ``stop``, ``item`` and, when
        an item is chosen, ``rule``, ``criterion``, ``theta_used``, ``candidates`` [item, value], ``draws``,
        ``content``).
        """
        position = {item: j for j, item in enumerate(self.bank.items)}
        codes = np.full((1, self.bank.n_items), -1, dtype=np.intp)
        administered = np.zeros((1, self.bank.n_items), dtype=bool)
        for item, code in answers:
            if item not in position:
                raise CATError(f"item {item!r} is not in the item bank of scale {self.scale!r}")
            codes[0, position[item]] = code
            administered[0, position[item]] = True
        choice = self.choose(self.log_posterior(codes), administered, np.array([seed]), record=True)
        assert choice.records is not None
        return choice.records[0]
