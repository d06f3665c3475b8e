"""Simulation studies of an adaptive test: what it costs in items and what it gives in precision.

:func:`simulate` draws true thetas (default from the prior), draws every respondent's answer to every item of the
bank from the model, runs the adaptive test of a :class:`~profiler.cat.engine.CATEngine` for all of them in
lockstep (the engine a session uses), and scores the full bank with :func:`profiler.irt.scoring.theta_eap`
(mirt's EAP) for comparison. :class:`SimulationResult` keeps everyone's figures; :meth:`SimulationResult.summary`
gives the study's: items used, SE reached, correlation with the full-bank theta and with the true theta, bias,
RMSE, exposure rate of every item, facet coverage and why the tests stopped.

:func:`calibrate_sympson_hetter` finds Sympson-Hetter exposure parameters by the usual iterative simulation
(Sympson & Hetter, 1985): ``K_j = min(1, r_max / P(selected_j))`` until no item is given to more than
``r_max`` of the simulated respondents.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from profiler.cat.engine import STOP_REASONS, CATEngine
from profiler.cat.rules import CATError
from profiler.irt.bank import ItemBank
from profiler.irt.scoring import theta_eap

SEED_BOUND = 2**63


def simulate_answers(bank: ItemBank, theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Category codes (n, J) drawn from the model at each true theta."""
    p = bank.probabilities(theta)  # (n, J, K)
    u = rng.random(p.shape[:2])
    return (np.cumsum(p, axis=2)[..., :-1] < u[..., None]).sum(axis=2)


@dataclass(frozen=True)
class SimulationResult:
    """Everyone's figures from :func:`simulate`.

    Attributes
    ----------
    engine : CATEngine
    true_theta, cat_theta, cat_se, full_theta, full_se : arrays (n,)
    items_used : int array (n,)
    stop : int array (n,)
        Index into :data:`profiler.cat.engine.STOP_REASONS`.
    administered : bool array (n, J)
    seed : int
    """

    engine: CATEngine
    true_theta: np.ndarray
    cat_theta: np.ndarray
    cat_se: np.ndarray
    full_theta: np.ndarray
    full_se: np.ndarray
    items_used: np.ndarray
    stop: np.ndarray
    administered: np.ndarray
    seed: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def exposure(self) -> np.ndarray:
        """Share of respondents given each item, (J,)."""
        return self.administered.mean(axis=0)

    def facet_counts(self) -> np.ndarray:
        """Items given per facet and respondent, (n, F)."""
        e = self.engine
        return self.administered.astype(np.intp) @ (e.facet_of[:, None] == np.arange(len(e.facet_names))[None, :])

    def summary(self) -> dict[str, Any]:
        """The study's figures as plain data (what the report shows)."""
        e, rules = self.engine, self.engine.rules
        n_items = e.bank.n_items
        used = self.items_used
        target = rules.se
        counts = self.facet_counts()
        exposure = self.exposure
        reasons = {STOP_REASONS[k] or "running": int((self.stop == k).sum()) for k in np.unique(self.stop)}
        summary: dict[str, Any] = {
            "scale": e.scale, "respondents": int(len(used)), "bank_items": n_items, "seed": self.seed,
            "items_used": {"mean": float(used.mean()), "median": float(np.median(used)), "min": int(used.min()),
                           "max": int(used.max()), "share_of_bank": float(used.mean() / n_items),
                           "distribution": {int(k): int(v) for k, v in zip(*np.unique(used, return_counts=True),
                                                                           strict=True)}},
            "se": {"mean": float(self.cat_se.mean()), "median": float(np.median(self.cat_se)),
                   "max": float(self.cat_se.max()),
                   "share_reached": None if target is None else float((self.cat_se <= target + 1e-12).mean()),
                   "target": target, "full_bank_mean": float(self.full_se.mean())},
            "correlation": {"cat_full": _r(self.cat_theta, self.full_theta),
                            "cat_true": _r(self.cat_theta, self.true_theta),
                            "full_true": _r(self.full_theta, self.true_theta)},
            "bias": {"cat_true": float((self.cat_theta - self.true_theta).mean()),
                     "cat_full": float((self.cat_theta - self.full_theta).mean()),
                     "full_true": float((self.full_theta - self.true_theta).mean())},
            "rmse": {"cat_true": _rmse(self.cat_theta, self.true_theta),
                     "cat_full": _rmse(self.cat_theta, self.full_theta),
                     "full_true": _rmse(self.full_theta, self.true_theta)},
            "exposure": {"max": float(exposure.max()), "mean": float(exposure.mean()),
                         "never_used": int((exposure == 0).sum()),
                         "over_0.30": int((exposure > 0.30).sum()),
                         "items": {item: float(x) for item, x in zip(e.bank.items, exposure, strict=True)}},
            "stop_reasons": reasons,
            "rules": rules_dict(e),
        }
        if e.facet_names:
            summary["facets"] = {
                "names": list(e.facet_names),
                "share_with_every_facet": float((counts >= max(rules.each_facet, 1)).all(axis=1).mean()),
                "mean_items": {f: float(counts[:, i].mean()) for i, f in enumerate(e.facet_names)},
                "share_covered": {f: float((counts[:, i] >= 1).mean()) for i, f in enumerate(e.facet_names)},
                "bank_items": {f: int((e.facet_of == i).sum()) for i, f in enumerate(e.facet_names)},
            }
        return summary


def rules_dict(engine: CATEngine) -> dict[str, Any]:
    """The engine's rules as plain data."""
    r = engine.rules
    return {"selection": r.selection, "exposure": r.exposure, "candidates": r.candidates,
            "sympson_hetter": dict(r.sympson_hetter), "each_facet": r.each_facet,
            "proportions": None if r.proportions is None else dict(r.proportions), "start_theta": r.start_theta,
            "start_items": list(r.start_items), "se": r.se, "min_items": r.min_items, "max_items": r.max_items,
            "prior": [r.prior_mean, r.prior_sd]}


def _r(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.corrcoef(x, y)[0, 1])


def _rmse(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sqrt(np.mean((x - y) ** 2)))


def simulate(engine: CATEngine, n: int = 5000, *, seed: int = 0, theta: np.ndarray | None = None) -> SimulationResult:
    """Run the adaptive test for ``n`` simulated respondents (see the module docstring).

    Parameters
    ----------
    engine : CATEngine
    n : int
        Respondents (ignored when ``theta`` is given).
    seed : int
        Seeds the true thetas, the answers and each respondent's session seed.
    theta : array, optional
        True thetas (default: drawn from the prior).
    """
    rng = np.random.default_rng(seed)
    rules, bank = engine.rules, engine.bank
    true = rng.normal(rules.prior_mean, rules.prior_sd, n) if theta is None else np.asarray(theta, dtype=float)
    n = len(true)
    codes = simulate_answers(bank, true, rng)
    seeds = rng.integers(0, SEED_BOUND, n)
    log_post = engine.prior(n)
    administered = np.zeros((n, bank.n_items), dtype=bool)
    considered = np.zeros((n, bank.n_items), dtype=bool)
    cat_theta, cat_se = np.full(n, np.nan), np.full(n, np.nan)
    stop = np.zeros(n, dtype=np.intp)
    active = np.arange(n)
    while len(active):
        choice = engine.choose(log_post[active], administered[active], seeds[active])
        done = choice.stop > 0
        stopped = active[done]
        cat_theta[stopped], cat_se[stopped], stop[stopped] = choice.theta[done], choice.se[done], choice.stop[done]
        if choice.considered is not None:
            considered[active] |= choice.considered
        go, items = active[~done], choice.item[~done]
        administered[go, items] = True
        engine.add_answers(log_post, go, items, codes[go, items])
        active = go
    full_theta, full_se = theta_eap(bank, codes, mean=rules.prior_mean, sd=rules.prior_sd)
    return SimulationResult(engine, true, cat_theta, cat_se, full_theta, full_se, administered.sum(axis=1), stop,
                            administered, seed, {"considered": considered})


def calibrate_sympson_hetter(engine: CATEngine, max_rate: float, *, n: int = 2000, iterations: int = 30,
                             seed: int = 0) -> tuple[dict[str, float], list[float]]:
    """Sympson-Hetter parameters that keep every item's exposure at most ``max_rate`` (see the module docstring).

    Each iteration simulates ``n`` new respondents with the current parameters; an item selected (tried, whether
    its draw let it through or not) for a share ``P(S) > max_rate`` of them gets ``K = max_rate / P(S)``, the
    others ``K = 1``. Stops when the largest exposure is at most ``max_rate``.

    Returns
    -------
    dict, list
        Item -> K (items with K = 1 left out), and the largest exposure of each iteration.
    """
    if not 0 < max_rate <= 1:
        raise CATError(f"the largest exposure rate must be in (0, 1], got {max_rate}")
    k = np.ones(engine.bank.n_items)
    history: list[float] = []
    items = engine.bank.items
    facets = [engine.facet_names[f] if f >= 0 else None for f in engine.facet_of]
    for it in range(iterations):
        rules = replace(engine.rules, exposure="sympson-hetter",
                        sympson_hetter={item: float(v) for item, v in zip(items, k, strict=True) if v < 1})
        result = simulate(CATEngine(engine.scale, engine.bank, rules, facets), n, seed=seed + it)
        history.append(float(result.exposure.max()))
        if result.exposure.max() <= max_rate:
            break
        selected = result.extra["considered"].mean(axis=0)
        k = np.where(selected > max_rate, max_rate / np.maximum(selected, 1e-12), 1.0)
    return {item: float(v) for item, v in zip(items, k, strict=True) if v < 1}, history
