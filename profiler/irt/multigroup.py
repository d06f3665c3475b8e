"""Multi-group graded response models and differential item functioning, as R mirt's ``multipleGroup`` and ``DIF``.

:class:`MultiGroupGRM` fits one GRM per group in one EM (mirt's path: one BFGS over every free
parameter per cycle):

- ``invariance="configural"``: every item's parameters free in every group, each group's theta N(0, 1)
  (``multipleGroup(data, 1, group)``);
- ``invariance="items"``: item parameters equal across groups (except ``free_items``), the reference
  group N(0, 1), the other groups' means and variances estimated
  (``invariance = c("slopes", "intercepts", "free_means", "free_var")``).

:meth:`MultiGroupGRM.dif` tests each item by freeing its parameters in the invariant model
(``DIF(fit, which.par = c("a1", "d1", ...), scheme = "drop")``: likelihood-ratio X2 and the changes in
AIC, SABIC, HQ and BIC), then refits with the flagged items free and reports what that does to each
person's theta: EAP under the invariant model (the DIF items scored as if they worked alike in every
group) beside EAP under the partially invariant one.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from profiler._threads import small_matrix_threads
from profiler.irt import _em
from profiler.irt._data import IRTDataError, as_frame, encode, learn_categories, numeric_columns, patterns
from profiler.irt.bank import ItemBank
from profiler.irt.models import mirt_start
from profiler.irt.scoring import EAP_NODES, THETA_RANGE, score_codes

INVARIANCE = ("configural", "items")


class MultiGroupGRM(BaseEstimator):
    """Graded response model in several groups at once (mirt's ``multipleGroup(..., itemtype = "graded")``).

    Parameters
    ----------
    invariance : {"configural", "items"}, default="items"
        "configural": every item free in every group, theta ~ N(0, 1) in each. "items": item
        parameters equal across groups (except ``free_items``), the reference group N(0, 1), the
        others' means and variances estimated.
    free_items : list of str or None, default=None
        With "items": items whose parameters are free in every group (partial invariance; DIF items).
    reference : label or None, default=None
        The reference group; None takes the first category of a pandas Categorical ``groups``, else the
        smallest label.
    quadrature, theta_range, tol, max_iter
        As :class:`profiler.irt.GRM`.

    Attributes
    ----------
    groups_ : list
        Group labels, the reference first.
    params_, irt_params_ : DataFrame
        (group, item) x ``a1, d1..`` and ``a, b1..``.
    latent_ : DataFrame
        group x ``mean, var`` of theta.
    banks_ : dict
        Each group's :class:`ItemBank`.
    loglik_, aic_, bic_, sabic_ : float
    n_params_, n_obs_, n_iter_ : int
    converged_ : bool
    """

    _parameter_constraints: dict = {
        "invariance": [StrOptions(set(INVARIANCE))],
        "free_items": [list, None],
        "reference": "no_validation",
        "quadrature": [Interval(Integral, 5, None, closed="left")],
        "theta_range": [tuple],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, *, invariance: str = "items", free_items: list[str] | None = None, reference=None,
                 quadrature: int = 61, theta_range: tuple[float, float] = (-6.0, 6.0), tol: float = 1e-4,
                 max_iter: int = 500) -> None:
        self.invariance = invariance
        self.free_items = free_items
        self.reference = reference
        self.quadrature = quadrature
        self.theta_range = theta_range
        self.tol = tol
        self.max_iter = max_iter

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, groups, *, start: np.ndarray | None = None):
        """Fit to responses ``X`` (rows = people) in ``groups`` (one label per row).

        ``start`` (a free-parameter vector of this model's layout) replaces mirt's starting values;
        :meth:`dif` starts each test from the invariant solution, as mirt's ``DIF`` does.
        """
        frame = as_frame(X)
        labels = _group_labels(groups, len(frame))
        self.groups_ = _group_order(groups, labels, self.reference)
        items, categories = learn_categories(frame)
        free_items = list(self.free_items or [])
        unknown = [i for i in free_items if i not in items]
        if unknown:
            raise IRTDataError(f"free_items {unknown} are not items of the data ({items})")
        coded = encode(frame, items, categories)
        answered = (coded.codes >= 0).any(axis=1)
        codes, labels = coded.codes[answered], labels[answered]
        n_categories = [len(c) for c in categories]
        start_items = mirt_start(codes, n_categories, "graded")
        group_rows = [np.flatnonzero(labels == g) for g in self.groups_]
        for g, rows in zip(self.groups_, group_rows, strict=True):
            if len(rows) < 2:
                raise IRTDataError(f"group {g!r} has {len(rows)} respondent(s) with answers; each group needs 2 or more")
        layout, vector = self._layout(items, n_categories, start_items, codes, labels, frame, answered, free_items)
        designs = []
        for rows in group_rows:
            collapsed = patterns(codes[rows])
            designs.append(_em.Design(collapsed.codes, collapsed.counts, ["graded"] * len(items), n_categories))
        em_groups = [_em.Group(d, start_items, idx, lat) for d, (idx, lat) in zip(designs, layout, strict=True)]
        if start is not None:
            vector = np.asarray(start, dtype=float)
        quad = _em.Quadrature.normal(self.quadrature, tuple(self.theta_range))
        with small_matrix_threads():
            result = _em.run_em_mirt(em_groups, vector, quad.nodes, tol=self.tol, max_iter=self.max_iter)
        if not result.converged:
            warnings.warn(f"EM did not converge in {self.max_iter} cycles; raise max_iter", ConvergenceWarning,
                          stacklevel=2)
        self.items_ = items
        self.categories_ = {i: c for i, c in zip(items, categories, strict=True)}
        self.free_ = result.free
        self.banks_ = {g: ItemBank(items, ["graded"] * len(items), est.slopes, est.intercepts, categories)
                       for g, est in zip(self.groups_, result.estimates, strict=True)}
        self.params_ = pd.concat({g: b.params() for g, b in self.banks_.items()}, names=["group", "item"])
        self.irt_params_ = pd.concat({g: b.irt_params() for g, b in self.banks_.items()}, names=["group", "item"])
        self.latent_ = pd.DataFrame(result.latent, index=pd.Index(self.groups_, name="group"), columns=["mean", "var"])
        self.loglik_ = result.loglik
        self.group_loglik_ = dict(zip(self.groups_, result.group_logliks, strict=True))
        self.n_params_ = len(result.free)
        self.n_obs_ = int(len(codes))
        self.aic_ = -2 * self.loglik_ + 2 * self.n_params_
        self.bic_ = -2 * self.loglik_ + self.n_params_ * np.log(self.n_obs_)
        self.sabic_ = -2 * self.loglik_ + self.n_params_ * np.log((self.n_obs_ + 2) / 24)
        self.n_iter_ = result.n_iter
        self.converged_ = result.converged
        self._data = (frame, _group_labels(groups, len(frame)))
        return self

    def _layout(self, items, n_categories, start_items, codes, labels, frame, answered, free_items):
        """Where each group's parameters sit in the free vector (mirt's order: group by group, items then latent)."""
        sizes = [k for k in n_categories]  # a + (K - 1) intercepts per item
        starts = np.concatenate([[0], np.cumsum(sizes)])
        item_vector = start_items.vector()
        layout, vector = [], []
        shared = {}
        for gi, _ in enumerate(self.groups_):
            index = np.empty(int(starts[-1]), dtype=int)
            for j, item in enumerate(items):
                block = slice(starts[j], starts[j + 1])
                if self.invariance == "items" and item not in free_items and j in shared:
                    index[block] = shared[j]
                    continue
                positions = np.arange(len(vector), len(vector) + sizes[j])
                vector.extend(item_vector[block])
                index[block] = positions
                if gi == 0:
                    shared[j] = positions
            latent = None
            if self.invariance == "items" and gi > 0:
                latent = (len(vector), len(vector) + 1)
                vector.extend([self._start_mean(frame, answered, labels, gi), 1.0])
            layout.append((index, latent))
        return layout, np.array(vector, dtype=float)

    def _start_mean(self, frame, answered, labels, gi) -> float:
        """mirt's start for a free group mean: the difference of mean item answers, in reference-group SDs."""
        values = numeric_columns(frame)[answered]
        row_means = np.nanmean(values, axis=1)
        reference = row_means[labels == self.groups_[0]]
        value = (row_means[labels == self.groups_[gi]].mean() - reference.mean()) / reference.std(ddof=1)
        return float(value) if np.isfinite(value) else 0.0

    # Scores --------------------------------------------------------------------------------------
    def score(self, X, groups, method: str = "EAP", *, quadrature: int = EAP_NODES,
              theta_range: tuple[float, float] = THETA_RANGE) -> pd.DataFrame:
        """theta and SE of each row by its group's items and N(mean, var) prior (mirt's ``fscores``)."""
        check_is_fitted(self)
        frame = as_frame(X, self.items_)
        labels = _group_labels(groups, len(frame))
        unknown = sorted({str(g) for g in labels} - {str(g) for g in self.groups_})
        if unknown:
            raise IRTDataError(f"unknown group(s) {unknown}; the model has {self.groups_}")
        theta = np.full(len(frame), np.nan)
        se = np.full(len(frame), np.nan)
        n_answered = np.zeros(len(frame), dtype=int)
        for g in self.groups_:
            rows = np.flatnonzero(labels == g)
            if not len(rows):
                continue
            bank = self.banks_[g]
            codes = bank.encode(frame.iloc[rows]).codes
            mean, var = self.latent_.loc[g]
            options = {"n_nodes": quadrature, "theta_range": tuple(theta_range)} if method == "EAP" else {}
            if method != "ML":
                options.update(mean=float(mean), sd=float(np.sqrt(var)))
            with small_matrix_threads():
                theta[rows], se[rows] = score_codes(bank, codes, method, **options)
            n_answered[rows] = (codes >= 0).sum(axis=1)
        return pd.DataFrame({"group": labels, "theta": theta, "se": se, "n_answered": n_answered}, index=frame.index)

    # DIF -----------------------------------------------------------------------------------------
    def dif(self, items: list[str] | None = None, *, alpha: float = 0.05,
            anchors: list[str] | None = None) -> DIFResult:
        """Likelihood-ratio DIF tests item by item, and the effect of the DIF found on each person's theta.

        Needs ``invariance="items"`` (the fully invariant model, as mirt's ``DIF`` starts from). Each
        listed item (default: all) is freed in every group in turn, starting from this model's estimates;
        ``X2 = 2 (logLik_free - logLik_invariant)`` on as many df as parameters freed; ``AIC`` etc. are the
        free model's minus this one's (negative favours DIF), ``p_holm`` Holm-adjusted over the items
        tested. Items with ``p_holm < alpha`` are flagged; the flagged items that are not ``anchors`` are
        freed together in a partially invariant model whose EAP scores are set beside this model's. The
        anchors (default: the items not flagged) carry the groups' latent means and variances; with no
        anchor left the partial model is not identified, so there is none and the effect is NaN.
        """
        check_is_fitted(self)
        if self.invariance != "items" or self.free_items:
            raise ValueError("dif() starts from the fully invariant model: fit MultiGroupGRM(invariance='items') "
                             "without free_items")
        frame, labels = self._data
        tested = list(items or self.items_)
        rows = []
        for item in tested:
            free = self._refit(frame, labels, [item])
            df = free.n_params_ - self.n_params_
            x2 = 2 * (free.loglik_ - self.loglik_)
            n = self.n_obs_
            rows.append({"item": item, "AIC": -x2 + 2 * df, "SABIC": -x2 + df * np.log((n + 2) / 24),
                         "HQ": -x2 + 2 * df * np.log(np.log(n)), "BIC": -x2 + df * np.log(n), "X2": x2, "df": df,
                         "p": float(stats.chi2.sf(x2, df)), "converged": free.converged_})
        tests = pd.DataFrame(rows).set_index("item")
        tests.insert(tests.columns.get_loc("p") + 1, "p_holm", _holm(tests["p"].to_numpy()))
        flagged = [i for i in tests.index if tests.loc[i, "p_holm"] < alpha]
        unknown = [i for i in anchors or [] if i not in self.items_]
        if unknown:
            raise IRTDataError(f"anchors {unknown} are not items of the model ({self.items_})")
        anchors = list(anchors) if anchors is not None else [i for i in self.items_ if i not in flagged]
        freed = [i for i in flagged if i not in anchors]
        partial = self._refit(frame, labels, freed) if freed and anchors else None
        theta = self._theta_effect(frame, labels, partial, identified=bool(anchors))
        return DIFResult(tests=tests, flagged=flagged, anchors=anchors, partial=partial, theta=theta, alpha=alpha)

    def _refit(self, frame, labels, free_items: list[str]) -> MultiGroupGRM:
        """This model with ``free_items`` free in every group, started from this model's estimates."""
        model = MultiGroupGRM(invariance="items", free_items=free_items, reference=self.groups_[0],
                              quadrature=self.quadrature, theta_range=self.theta_range, tol=self.tol,
                              max_iter=self.max_iter)
        start = self._start_for(free_items)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return model.fit(frame, labels, start=start)

    def _start_for(self, free_items: list[str]) -> np.ndarray:
        """This model's estimates laid out for a model with ``free_items`` free: freed copies start equal."""
        sizes = [len(self.categories_[i]) for i in self.items_]
        base = self.free_[: sum(sizes)]
        starts = np.concatenate([[0], np.cumsum(sizes)])
        vector = list(base)
        for g in range(1, len(self.groups_)):
            for j, item in enumerate(self.items_):
                if item in free_items:
                    vector.extend(base[starts[j] : starts[j + 1]])
            mean, var = self.latent_.iloc[g]
            vector.extend([mean, var])
        return np.array(vector, dtype=float)

    def _theta_effect(self, frame, labels, partial: MultiGroupGRM | None, identified: bool) -> pd.DataFrame:
        invariant = self.score(frame, labels)
        out = invariant.rename(columns={"theta": "theta_invariant", "se": "se_invariant"})
        if not identified:
            out["theta_partial"], out["se_partial"] = np.nan, np.nan
        elif partial is None:
            out["theta_partial"], out["se_partial"] = out["theta_invariant"], out["se_invariant"]
        else:
            scored = partial.score(frame, labels)
            out["theta_partial"], out["se_partial"] = scored["theta"], scored["se"]
        out["effect"] = out["theta_partial"] - out["theta_invariant"]
        return out[["group", "theta_invariant", "se_invariant", "theta_partial", "se_partial", "effect", "n_answered"]]


@dataclass(frozen=True)
class DIFResult:
    """What :meth:`MultiGroupGRM.dif` found.

    Attributes
    ----------
    tests : DataFrame
        Per item tested: AIC, SABIC, HQ, BIC (free minus invariant), X2, df, p, p_holm, converged.
    flagged : list of str
        Items with ``p_holm < alpha``.
    anchors : list of str
        Items held equal across groups in the partial model (they identify the groups' latent scales).
    partial : MultiGroupGRM or None
        The model with the flagged non-anchor items free (None when nothing was freed, or no anchor is left).
    theta : DataFrame
        Per person: group, EAP theta and SE under the invariant and the partial model, and
        ``effect = theta_partial - theta_invariant`` (what scoring the DIF items as if they worked
        alike does to that person's theta).
    alpha : float
    """

    tests: pd.DataFrame
    flagged: list[str]
    anchors: list[str]
    partial: MultiGroupGRM | None
    theta: pd.DataFrame
    alpha: float

    def effect_by_group(self) -> pd.DataFrame:
        """Per group: people, mean and SD of the effect, largest absolute effect, share moved by more than 0.1."""
        grouped = self.theta.groupby("group", sort=False)["effect"]
        return pd.DataFrame({"n": grouped.size(), "mean_effect": grouped.mean(), "sd_effect": grouped.std(ddof=1),
                             "max_abs_effect": grouped.apply(lambda e: float(np.abs(e).max())),
                             "share_over_0.1": grouped.apply(lambda e: float((np.abs(e) > 0.1).mean()))})


def _group_labels(groups, n_rows: int) -> np.ndarray:
    labels = np.asarray(groups, dtype=object)
    if labels.ndim != 1 or len(labels) != n_rows:
        raise IRTDataError(f"groups must give one label per row ({n_rows}), got {labels.shape}")
    missing = pd.isna(labels)
    if missing.any():
        raise IRTDataError(f"row {int(np.flatnonzero(missing)[0])} has no group label ({int(missing.sum())} such rows)")
    return labels


def _group_order(groups, labels: np.ndarray, reference) -> list:
    seen = list(dict.fromkeys(labels.tolist()))
    if len(seen) < 2:
        raise IRTDataError(f"a multi-group model needs at least two groups, got {seen}")
    if reference is None:
        dtype = getattr(groups, "dtype", None)
        if isinstance(dtype, pd.CategoricalDtype):
            reference = next(c for c in dtype.categories if c in seen)
        else:
            reference = sorted(seen, key=str)[0]
    if reference not in seen:
        raise IRTDataError(f"reference group {reference!r} is not among the groups {sorted(seen, key=str)}")
    return [reference] + sorted((g for g in seen if g != reference), key=str)


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment (R's ``p.adjust(p, "holm")``)."""
    order = np.argsort(p)
    m = len(p)
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out
