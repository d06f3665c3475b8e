"""Confirmatory factor analysis by maximum likelihood, agreeing with R's lavaan 0.6-14.

A CFA says which items measure which factor and tests that claim against the data::

    from profiler.factors import CFA

    cfa = CFA("visual =~ x1 + x2 + x3\\n textual =~ x4 + x5 + x6\\n speed =~ x7 + x8 + x9")
    cfa.fit(data)                       # single group: covariance structure
    cfa.estimates_                      # lavaan's parameterEstimates(fit, standardized = TRUE)
    cfa.fit_indices_                    # chisq, df, pvalue, cfi, tli, rmsea (+ 90% CI), srmr, aic, bic ...
    cfa.modification_indices()          # lavaan's modindices(fit)
    cfa.transform(data)                 # factor scores, lavaan's lavPredict(fit)

    # measurement invariance across groups: configural -> metric -> scalar -> strict
    CFA(model).fit(data, group="school", equal=("loadings", "intercepts"))
    # partial invariance: x3's intercept free in every group, the others held equal
    CFA(model).fit(data, group="school", equal=("loadings", "intercepts"), partial=("x3~1",))

Estimation minimises the ML discrepancy F = log|Sigma| + tr(S Sigma^-1) - log|S| - p (plus the mean
part with a mean structure) with the analytic gradient: Fisher scoring (expected information) far from
the optimum, Newton steps (exact Hessian) near it, starting from a non-iterative estimate; standard errors come from the expected information (lavaan's default); chi-square is N F with the
biased covariance S (lavaan's ``likelihood = "normal"``). See ``_cfa_estimation`` and
``_cfa_fit_indices`` for the formulas.

Missing data are never imputed: with ``missing="raise"`` (the default) any missing value in the
model's variables (or the group column) is an error; with ``missing="listwise"`` incomplete rows are
dropped and counted in ``n_rows_dropped_`` (R: ``lavaan::cfa(..., missing = "listwise")``).

Inadmissible solutions are never reported as fine: a negative variance (Heywood case), a factor
covariance matrix that is not positive definite, or a non-converged fit raise a warning
(:class:`InadmissibleSolutionWarning`, :class:`CFAConvergenceWarning`) and set ``admissible_``;
a non-positive-definite sample covariance matrix or a model that is not identified is an error.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from profiler.factors import _cfa_fit_indices as fi
from profiler.factors._cfa_data import CFADataError, sample_moments, single_threaded_blas
from profiler.factors.missing import MissingData
from profiler.factors._cfa_estimation import MLProblem, start_values
from profiler.factors._cfa_generic import GenericMLProblem, defined_parameters, structural_start
from profiler.factors._cfa_results import estimates_frame, factor_scores, modification_indices
from profiler.factors._cfa_table import (
    EQUAL_CATEGORIES,
    THETA,
    ModelSpecificationError,
    ParameterTable,
    build_table,
    check_identification,
)
from profiler.factors.model_syntax import ParsedModel, model_from_scales, parse_model, suggest
from profiler.factors.scale_keys import cfa_keys

__all__ = [
    "CFA",
    "CFAConvergenceWarning",
    "CFADataError",
    "CFAWarning",
    "InadmissibleSolutionWarning",
    "ModelSpecificationError",
]

ESTIMATORS = ("ML", "MLR", "MLM", "WLSMV", "ULSMV")
ORDINAL_ESTIMATORS = ("WLSMV", "ULSMV")

FIT_INDICES = (
    "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "srmr",
    "aic", "bic", "loglik", "npar", "n", "baseline_chisq", "baseline_df",
)


class CFAWarning(UserWarning):
    """Base class of the warnings a CFA fit gives about its own result."""


class InadmissibleSolutionWarning(CFAWarning):
    """The estimates are not a proper solution: a negative variance (Heywood case) or a factor
    (or residual) covariance matrix that is not positive definite."""


class CFAConvergenceWarning(CFAWarning):
    """The optimiser stopped before converging: estimates and fit indices cannot be trusted."""


ModelInput = str | Mapping[str, Sequence[str]] | ParsedModel


class CFA:
    """Confirmatory factor analysis by maximum likelihood (lavaan's ``cfa()`` defaults).

    Parameters
    ----------
    model : str, mapping or ParsedModel
        lavaan model syntax (see :mod:`profiler.factors.model_syntax`), or ``{factor: [items]}``.
    std_lv : bool, default False
        Identify each factor by fixing its variance to 1 (all loadings free) instead of fixing its
        first loading to 1. Same fit, different scale of the estimates.
    missing : {"raise", "listwise", "pairwise", "fiml"}, default "raise"
        What to do with missing values (NaN) in the model's variables or the group column: raise an
        error, or drop incomplete rows (listwise deletion); for ordinal models also ``"pairwise"``
        (pairwise-present polychoric correlations); for ML, MLR ``"fiml"``. Never imputation;
        ``missing_`` records what was missing and what was done.
    ordered : True or list of str, optional
        The indicators are ordinal (all of them: True, or every model variable listed): thresholds
        and polychoric correlations, estimator WLSMV by default (lavaan's ``ordered=``).
    estimator : {"ML", "MLR", "MLM", "WLSMV", "ULSMV"}, optional
        Default "ML", or "WLSMV" with ``ordered``. WLSMV/ULSMV: DWLS/ULS estimates with robust
        standard errors and the scaled-and-shifted test; MLR: ML with Huber-White standard errors and
        the Yuan-Bentler scaled test; MLM: ML with robust standard errors and the Satorra-Bentler test.
    max_iter : int, default 500
        Maximum optimiser iterations (Fisher scoring, then Newton near the optimum).
    tol : float, default 1e-12
        Convergence when the Fisher-metric decrement grad' (2I)^-1 grad falls below ``tol``.

    Attributes
    ----------
    model_ : ParsedModel
    estimates_ : DataFrame
        One row per parameter in lavaan's ``parameterEstimates`` order: ``lhs, op, rhs``, ``group``
        (multi-group only), ``label`` (when labels or equality constraints exist), ``est, se, z,
        pvalue, std_all``. Fixed parameters have se 0 and no z/p-value.
    fit_indices_ : Series
        ``chisq, df, pvalue, cfi, tli, rmsea, rmsea_ci_lower, rmsea_ci_upper, srmr, aic, bic, loglik,
        npar, n, baseline_chisq, baseline_df``; robust estimators add lavaan's scaled and robust
        indices with ``_`` for ``.`` (``chisq_scaled``, ``chisq_scaling_factor``, ``cfi_scaled``,
        ``cfi_robust``, ``rmsea_robust`` ...).
    missing_ : MissingData
        Rows and cells missing, rows dropped, and the method that handled them.
    estimator_ : str
    converged_ : bool
    n_iter_ : int
    admissible_ : bool
        False when a variance is negative or a covariance matrix is not positive definite.
    problems_ : list of str
        Why the solution is inadmissible (empty when admissible).
    n_obs_ : int
        Rows used (all groups).
    n_rows_dropped_ : int
        Incomplete rows dropped (``missing="listwise"``).
    equal_ : tuple of str
        The ``equal`` categories, sorted.
    partial_ : tuple of str
        The ``partial`` parameters as lavaan spells them (``"x7~~x8"``, ``"x3~1"``), in the order
        given, without duplicates: pass them to lavaan's ``group.partial`` unchanged.
    groups_ : tuple
        Group labels in order of first appearance (lavaan's order); ``(None,)`` for one group.
    group_sizes_ : Series
        Rows used per group.
    feature_names_in_ : ndarray of str
        Observed variables, in model order.
    latent_names_ : tuple of str

    Notes
    -----
    In R: ``lavaan::cfa(model, data, std.lv = ..., group = ..., group.equal = ..., group.partial = ...)``
    with ``estimator = "ML"``, ``information = "expected"``, ``likelihood = "normal"`` (all lavaan
    defaults).

    Differences from lavaan, on purpose: a factor with a single indicator must have that indicator's
    residual variance fixed in the model (lavaan fixes it to 0 silently); duplicated statements are
    an error (lavaan warns and ignores them).
    """

    def __init__(
        self,
        model: ModelInput,
        *,
        std_lv: bool = False,
        missing: Literal["raise", "listwise", "pairwise", "fiml"] = "raise",
        ordered: bool | Sequence[str] | None = None,
        estimator: str | None = None,
        max_iter: int = 500,
        tol: float = 1e-12,
    ):
        self.model = model
        self.std_lv = std_lv
        self.missing = missing
        self.ordered = ordered
        self.estimator = estimator
        self.max_iter = max_iter
        self.tol = tol

    @classmethod
    def from_scales(cls, scales: Mapping[str, Sequence[str]], **kwargs) -> CFA:
        """One factor per scale, measured by its items (``{"Extraversion": ["E1", "-E2", ...]}``).

        A leading ``-`` (reverse keying) is dropped: a loading carries its own sign.
        """
        return cls(model_from_scales(scales), **kwargs)

    @classmethod
    def from_questionnaire(cls, questionnaire, scales: Sequence[str] | None = None, **kwargs) -> CFA:
        """One factor per scale of a questionnaire (default: its domains, the scales that are no facet).

        Each factor's first indicator is a positively keyed item, so that with lavaan's marker
        identification the factor points the way of its scale (a reverse-keyed marker would flip it).
        """
        if scales is None:
            scales = [s.id for s in questionnaire.scales if s.id not in questionnaire.parent_of]
        return cls.from_scales(cfa_keys(questionnaire, list(scales)), **kwargs)

    def __repr__(self) -> str:
        model = self.model if isinstance(self.model, (str, Mapping)) else "<ParsedModel>"
        extra = "" if self.ordered is None else f", ordered={self.ordered!r}"
        extra += "" if self.estimator is None else f", estimator={self.estimator!r}"
        return f"CFA(model={model!r}, std_lv={self.std_lv}, missing={self.missing!r}{extra})"

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        data: pd.DataFrame,
        group: str | None = None,
        equal: Collection[str] = (),
        partial: Collection[str] = (),
    ) -> CFA:
        """Estimate the model by maximum likelihood.

        Parameters
        ----------
        data : DataFrame
            One row per respondent; columns include every observed variable of the model.
        group : str, optional
            Column holding the group of each row: a multi-group model with a mean structure
            (intercepts free, factor means fixed to 0).
        equal : collection of str
            Parameters constrained equal across groups (lavaan's ``group.equal``): any of
            ``"loadings"`` (metric invariance), ``"intercepts"`` (scalar; factor means are then free
            in all groups but the first), ``"residuals"`` (strict), ``"means"``, ``"lv.variances"``,
            ``"lv.covariances"``, ``"residual.covariances"``.
        partial : collection of str
            Parameters freed from the equality that ``equal`` imposes (lavaan's ``group.partial``), in
            lavaan's notation: loadings ``"visual=~x2"``, intercepts ``"x3~1"``, residual variances
            ``"x5~~x5"``, covariances ``"x7~~x8"`` (either order), factor (co)variances and means.
            Each is estimated separately in every group; everything else is as ``equal`` alone makes it
            (with ``"intercepts"`` in ``equal`` the factor means stay free after the first group). An
            entry that names no parameter of the model, or one that ``equal`` does not constrain (fixed,
            labelled, or of a kind not in ``equal``), is a ``ModelSpecificationError``.

        Returns
        -------
        self

        Raises
        ------
        ModelSyntaxError, ModelSpecificationError, CFADataError
        """
        estimator = self._check_params()
        equal = self._check_equal(equal, group)
        partial = self._check_partial(partial, group)
        model = self._parsed_model()
        self.estimator_ = estimator
        if estimator in ORDINAL_ESTIMATORS:
            with single_threaded_blas():
                return self._fit_ordinal(data, model, group, equal, partial, estimator)
        st = next((st for st in model.statements if st.op == "|"), None)
        if st is not None:
            raise ModelSpecificationError(
                f"thresholds of {st.lhs!r} (line {st.line}, column {st.column}) need {st.lhs!r} to be ordinal: pass "
                "ordered=[...] or ordered=True (estimator WLSMV or ULSMV)")
        with single_threaded_blas():
            if self.missing == "fiml":
                return self._fit_fiml(data, model, group, equal, partial)
            return self._fit(data, model, group, equal, partial)

    def _fit(
        self, data: pd.DataFrame, model: ParsedModel, group: str | None, equal: frozenset[str], partial: tuple[str, ...]
    ) -> CFA:
        robust = self.estimator_ in ("MLR", "MLM")
        mom, missing = sample_moments(data, model, group, self.missing, keep_rows=robust)
        meanstructure = mom.n.size > 1 or any(st.op == "~1" for st in model.statements)
        table = build_table(
            model, n_groups=mom.n.size, std_lv=self.std_lv, equal=equal, partial=partial, meanstructure=meanstructure
        )
        check_identification(table, model)
        p = len(model.observed)
        n_moments = mom.n.size * (p * (p + 1) // 2 + (p if meanstructure else 0))
        df = n_moments - table.n_free
        if df < 0:
            raise ModelSpecificationError(
                f"the model is not identified: {table.n_free} free parameters but only {n_moments} sample "
                f"moments (df = {df}); fix parameters or add indicators"
            )
        problem = GenericMLProblem(table, mom) if table.has_beta else MLProblem(table, mom)
        x0 = start_values(MLProblem(table, mom))
        if table.has_beta:
            x0 = structural_start(table, x0)
        start = problem.evaluate(x0)
        if not np.isfinite(start.f):
            raise CFADataError("could not find starting values with a positive definite model covariance matrix")
        self._check_information(start.info, table, mom.labels, when="at the starting values", error=True)

        x, ev, n_iter, converged = problem.minimize(x0, max_iter=self.max_iter, tol=self.tol, start=start)
        self._record(model, table, problem, x, n_iter, converged, group, mom.labels, equal, mom.n, missing)
        self.info_ = ev.info
        cov_x = self._check_information(ev.info, table, mom.labels, when="at the solution", error=False)
        if cov_x is not None:
            cov_x = cov_x / mom.n_total
        self.fit_indices_ = self._fit_indices(problem, x, ev.f, df, table)
        if robust and cov_x is not None:
            cov_x, scaled = self._robust_ml(problem, x, df, table)
            self.fit_indices_ = pd.concat([self.fit_indices_, scaled])
        self.estimates_ = defined_parameters(table, x, cov_x, estimates_frame(table, problem, x, cov_x, mom.labels))
        self._check_admissible(problem, x)
        return self

    def _record(self, model: ParsedModel, table: ParameterTable, problem, x: np.ndarray, n_iter: int,
                converged: bool, group: str | None, labels: tuple, equal: frozenset[str], sizes,
                missing: MissingData) -> None:
        """Store what every fit learns; warn when the optimiser stopped early."""
        self.model_ = model
        self.table_ = table
        self.problem_ = problem
        self.x_ = x
        self.converged_ = bool(converged)
        self.n_iter_ = int(n_iter)
        self.groups_ = tuple(labels)
        self.group_column_ = group
        self.equal_ = tuple(sorted(equal))
        self.partial_ = table.partial
        self.n_obs_ = int(np.sum(sizes))
        self.n_rows_dropped_ = missing.n_rows_dropped
        self.missing_ = missing
        self.group_sizes_ = pd.Series(np.asarray(sizes), index=pd.Index(self.groups_, name=group), name="n")
        self.feature_names_in_ = np.asarray(model.observed, dtype=object)
        self.latent_names_ = model.latent
        if not converged:
            warnings.warn(
                f"{self.estimator_} did not converge in {n_iter} iterations (max_iter={self.max_iter}): the "
                "estimates, standard errors and fit indices cannot be trusted",
                CFAConvergenceWarning,
                stacklevel=4,
            )

    def _check_admissible(self, problem, x: np.ndarray) -> None:
        self.problems_ = self._admissibility(problem, x)
        self.admissible_ = not self.problems_
        if self.problems_:
            warnings.warn(
                "the CFA solution is inadmissible:\n" + "\n".join(f"- {m}" for m in self.problems_),
                InadmissibleSolutionWarning,
                stacklevel=4,
            )

    def _fit_fiml(self, data: pd.DataFrame, model: ParsedModel, group: str | None, equal: frozenset[str],
                  partial: tuple[str, ...]) -> CFA:
        """ML (or MLR) with missing values: the casewise likelihood, h1 by EM (lavaan's missing = "ml")."""
        from profiler.factors import _cfa_fiml as ff
        from profiler.factors import _cfa_fiml_robust as fr
        from profiler.factors._cfa_data import Moments, missing_summary, model_data, split_groups

        md = model_data(data, model, group)
        X, labels_col = md.X, md.labels
        keep = ~md.missing_group & ~np.isnan(X).all(axis=1)  # a row without any answer carries no information
        X = X[keep]
        labels_col = labels_col[keep] if labels_col is not None else None
        labels, subsets = split_groups(X, labels_col)
        groups, h1 = ff.saturated_moments(labels, subsets)
        n = np.array([mp.n for mp in groups])
        mom = Moments(n, tuple(h.mean for h in h1), tuple(h.cov for h in h1), labels)
        table = build_table(model, n_groups=n.size, std_lv=self.std_lv, equal=equal, partial=partial,
                            meanstructure=True)
        check_identification(table, model)
        p = len(model.observed)
        df = n.size * (p + p * (p + 1) // 2) - table.n_free
        if df < 0:
            raise ModelSpecificationError(f"the model is not identified: {table.n_free} free parameters but only "
                                          f"{n.size * (p + p * (p + 1) // 2)} sample moments (df = {df})")
        # start from the complete-data ML fit to the EM moments (close to the FIML estimates); its expected
        # information is the scoring metric
        ml = GenericMLProblem(table, mom) if table.has_beta else MLProblem(table, mom)
        x0 = start_values(MLProblem(table, mom))
        if table.has_beta:
            x0 = structural_start(table, x0)
        start = ml.evaluate(x0)
        self._check_information(start.info, table, labels, when="at the starting values", error=True)
        x0, ev0 = ml.minimize(x0, max_iter=self.max_iter, tol=1e-8, start=start)[:2]
        problem = ff.FIMLProblem(table, groups)
        x, n_iter, converged = problem.minimize(x0, ev0.info, max_iter=self.max_iter, tol=self.tol * 1e-3)
        missing = missing_summary(md, "fiml", int(keep.sum()), em_iterations=max(h.n_iter for h in h1),
                                  em_converged=all(h.converged for h in h1))
        self._record(model, table, ml, x, n_iter, converged, group, labels, equal, n, missing)
        self.problem_ = ml  # model matrices and implied moments for results, scores and checks
        self.info_ = None
        H, deltas, evs = problem.information(x)
        cov_x = self._check_information(H, table, labels, when="at the solution", error=False)
        implied = problem.ms.implied(x)
        loglik = float(sum(ev.loglik for ev in evs))
        fit = ff.fit_indices(loglik, h1, groups, df, table.n_free, implied)
        mlr = self.estimator_ == "MLR"
        robust = fr.RobustFIML(groups, h1, mlr=mlr)
        if cov_x is not None:
            cov_x = cov_x / n.sum()
            if mlr:
                cov_x, scaled = robust.mlr(implied, deltas, evs, H, fit)
                fit.update(scaled)
        fit.update(robust.corrected_indices(implied, deltas, fit, mlr))
        self.fit_indices_ = pd.Series(fit, name="value")
        self.estimates_ = defined_parameters(table, x, cov_x, estimates_frame(table, ml, x, cov_x, labels))
        self._check_admissible(ml, x)
        return self

    def _fit_ordinal(self, data: pd.DataFrame, model: ParsedModel, group: str | None, equal: frozenset[str],
                     partial: tuple[str, ...], estimator: str) -> CFA:
        """WLSMV / ULSMV: polychoric statistics per group, DWLS or ULS estimates, robust corrections."""
        from profiler.factors import _cfa_ordinal as co
        from profiler.factors._cfa_wls import WLSProblem

        co.ordinal_variables(self.ordered, model)
        od = co.prepare(data, model, group, self.missing)
        nth = od.groups[0].n_thresholds
        ordinal = {name: int(k) for name, k in zip(model.observed, nth)}
        table = build_table(model, n_groups=len(od.groups), std_lv=self.std_lv, equal=equal, partial=partial,
                            ordinal=ordinal)
        check_identification(table, model)
        n_stats = sum(g.s.size for g in od.groups)
        df = n_stats - table.n_free
        if df < 0:
            raise ModelSpecificationError(
                f"the model is not identified: {table.n_free} free parameters but only {n_stats} sample "
                f"statistics (thresholds and polychoric correlations; df = {df})")
        problem = WLSProblem(table, od.groups, "DWLS" if estimator == "WLSMV" else "ULS")
        x0 = co.start(problem, od)
        _, E0, _ = problem.normal_equations(x0)
        self._check_information(E0, table, od.labels, when="at the starting values", error=True)
        x, n_iter, converged = problem.minimize(x0, max_iter=self.max_iter, tol=self.tol)
        fit_indices, vcov = co.fit_indices(problem, x, df, table)
        self._record(model, table, problem, x, n_iter, converged, group, od.labels, equal, [g.n for g in od.groups],
                     od.missing)
        self.info_ = None
        self.estimates_ = defined_parameters(table, x, vcov, estimates_frame(table, problem, x, vcov, od.labels))
        self.fit_indices_ = fit_indices
        self._check_admissible(problem, x)
        return self

    def _check_params(self) -> str:
        """Validate the parameters; return the estimator in effect."""
        if not isinstance(self.std_lv, (bool, np.bool_)):
            raise TypeError(f"std_lv must be True or False, got {self.std_lv!r}")
        ordinal = self.ordered is not None and self.ordered is not False
        if self.ordered is not None and not isinstance(self.ordered, (bool, np.bool_)):
            if isinstance(self.ordered, str) or not all(isinstance(o, str) for o in self.ordered):
                raise TypeError(f"ordered must be True or a list of variable names, got {self.ordered!r}")
        estimator = self.estimator if self.estimator is not None else ("WLSMV" if ordinal else "ML")
        estimator = str(estimator).upper()
        if estimator not in ESTIMATORS:
            raise ValueError(f"estimator must be one of {list(ESTIMATORS)}, got {self.estimator!r}"
                             f"{suggest(str(self.estimator).upper(), ESTIMATORS)}")
        if ordinal and estimator not in ORDINAL_ESTIMATORS:
            raise ValueError(f"ordinal indicators (ordered=...) are fitted by WLSMV or ULSMV, not {estimator}")
        if estimator in ORDINAL_ESTIMATORS and not ordinal:
            raise ValueError(f"{estimator} is for ordinal indicators: pass ordered=True (or the list of ordinal items)")
        allowed = ("raise", "listwise", "pairwise") if ordinal else ("raise", "listwise", "fiml")
        if estimator == "MLM":  # Satorra-Bentler needs complete data (as in lavaan)
            allowed = ("raise", "listwise")
        if self.missing not in allowed:
            raise ValueError(f"missing must be one of {list(allowed)} with estimator {estimator!r} (profiler never "
                             f"imputes), got {self.missing!r}")
        if isinstance(self.max_iter, bool) or not isinstance(self.max_iter, (int, np.integer)) or self.max_iter < 1:
            raise ValueError(f"max_iter must be a positive integer, got {self.max_iter!r}")
        if not (isinstance(self.tol, (int, float)) and 0 < self.tol < 1):
            raise ValueError(f"tol must be a number in (0, 1), got {self.tol!r}")
        return estimator

    @staticmethod
    def _check_equal(equal: Collection[str], group: str | None) -> frozenset[str]:
        if isinstance(equal, str):
            equal = (equal,)
        unknown = [e for e in equal if e not in EQUAL_CATEGORIES]
        if unknown:
            hints = "".join(suggest(u, EQUAL_CATEGORIES) for u in unknown[:1])
            raise ValueError(f"unknown equality constraint(s) {unknown}{hints}; choose from {list(EQUAL_CATEGORIES)}")
        if equal and group is None:
            raise ValueError("equal=... constrains parameters across groups: give group= as well")
        return frozenset(equal)

    @staticmethod
    def _check_partial(partial: Collection[str], group: str | None) -> tuple[str, ...]:
        if isinstance(partial, str):
            partial = (partial,)
        partial = tuple(partial)
        bad = [p for p in partial if not isinstance(p, str)]
        if bad:
            raise TypeError(f"partial= takes parameters in lavaan notation ('visual=~x2', 'x3~1'), got {bad[0]!r}")
        if partial and group is None:
            raise ValueError("partial=... frees parameters from equal=...: give group= and equal= as well")
        return partial

    def _parsed_model(self) -> ParsedModel:
        if isinstance(self.model, ParsedModel):
            return self.model
        if isinstance(self.model, str):
            return parse_model(self.model)
        if isinstance(self.model, Mapping):
            return model_from_scales(self.model)
        kind = type(self.model).__name__
        raise TypeError(f"model must be lavaan syntax (str) or a mapping {{factor: [items]}}, not {kind}")

    def _param_name(self, table: ParameterTable, k: int, labels: tuple) -> str:
        rows = np.flatnonzero(table.free == k)
        r = rows[0]
        name = f"{table.lhs[r]} {table.op[r]} {table.rhs[r]}".strip()
        return name + (f" (group {labels[table.group[r]]!r})" if table.n_groups > 1 else "")

    def _check_information(
        self, info: np.ndarray, table: ParameterTable, labels: tuple, *, when: str, error: bool
    ) -> np.ndarray | None:
        """Invert the information; a singular one means the model is not (empirically) identified."""
        d = np.sqrt(np.clip(np.diag(info), 1e-300, None))
        scaled = info / np.outer(d, d)
        try:
            chol = np.linalg.cholesky(scaled)
            singular = np.min(np.diag(chol)) ** 2 < 1e-10
        except np.linalg.LinAlgError:
            singular = True
        if not singular:
            inv = np.linalg.inv(scaled) / np.outer(d, d)
            return (inv + inv.T) / 2.0
        vals, vecs = np.linalg.eigh(scaled)
        involved = np.flatnonzero(np.abs(vecs[:, 0]) > 0.1)
        names = ", ".join(self._param_name(table, k, labels) for k in involved[:8])
        message = (
            f"the information matrix is singular {when}: the model is not identified. Parameters involved: "
            f"{names}. Fix one of them, add constraints, or check for a factor whose indicators do not covary"
        )
        if error:
            raise ModelSpecificationError(message)
        warnings.warn(message + "; standard errors are not available", InadmissibleSolutionWarning, stacklevel=4)
        return None

    def _fit_indices(self, problem: MLProblem, x: np.ndarray, f: float, df: int, table) -> pd.Series:
        mom = problem.mom
        N, G = mom.n_total, mom.n.size
        chisq = N * f
        chisq_b, df_b = fi.baseline_chisq(mom.cov, mom.n)
        implied = problem.implied(x)
        loglik = fi.loglik(mom.cov, mom.mean, implied, mom.n)
        npar = table.n_free
        lower, upper = fi.rmsea_ci(chisq, df, N, G)
        values = {
            "chisq": chisq,
            "df": float(df),
            "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
            "cfi": fi.cfi(chisq, df, chisq_b, df_b),
            "tli": fi.tli(chisq, df, chisq_b, df_b),
            "rmsea": fi.rmsea(chisq, df, N, G),
            "rmsea_ci_lower": lower,
            "rmsea_ci_upper": upper,
            "srmr": fi.srmr(mom.cov, mom.mean, implied, mom.n, table.meanstructure),
            "aic": -2.0 * loglik + 2.0 * npar,
            "bic": -2.0 * loglik + npar * np.log(N),
            "loglik": loglik,
            "npar": float(npar),
            "n": float(N),
            "baseline_chisq": chisq_b,
            "baseline_df": float(df_b),
        }
        return pd.Series(values, name="value")[list(FIT_INDICES)]

    def _robust_ml(self, problem: MLProblem, x: np.ndarray, df: int, table: ParameterTable) -> tuple[np.ndarray, pd.Series]:
        """MLR / MLM: robust covariance of the estimates and lavaan's scaled and robust fit indices."""
        from profiler.factors import _cfa_robust as rb
        from profiler.factors._cfa_model import MomentStructure

        mom = problem.mom
        implied = problem.implied(x)
        groups = [rb.GroupData(X, sig, mu, table.meanstructure) for X, (sig, mu) in zip(mom.rows, implied)]
        deltas = MomentStructure(table, table.meanstructure).jacobian(x)
        if self.estimator_ == "MLR":
            A0 = 0.5 * problem.evaluate(x, hessian=True).hess  # observed information per observation
            rob = rb.mlr(groups, deltas, A0, df)
        else:
            rob = rb.mlm(groups, deltas, df)
        fit = self.fit_indices_
        c_b = rb.baseline_robust(groups, self.estimator_, int(fit["baseline_df"]))
        return rob.vcov, fi.scaled_indices(fit, rob.scaling_factor, rob.trace_ug, c_b, mom.n_total, mom.n.size)

    def _admissibility(self, problem: MLProblem, x: np.ndarray) -> list[str]:
        """lavaan's post-fit checks: negative variances and non-positive-definite covariance matrices."""
        table = self.table_
        out = []
        vals = problem.row_values(x)
        for g in range(table.n_groups):
            where = "" if table.n_groups == 1 else f" in group {self.groups_[g]!r}"
            mats = problem.matrices(x, g, vals)
            for i, name in enumerate(table.observed):
                if mats.theta[i, i] < 0:
                    value = mats.theta[i, i]
                    out.append(f"negative residual variance of {name!r}{where} ({value:.4g}): a Heywood case")
            for j, name in enumerate(table.latent):
                if mats.psi[j, j] < 0:
                    out.append(f"negative variance of factor {name!r}{where} ({mats.psi[j, j]:.4g})")
            if np.all(np.diag(mats.psi) > 0) and np.linalg.eigvalsh(mats.psi)[0] <= 0:
                d = np.sqrt(np.diag(mats.psi))
                corr = mats.psi / np.outer(d, d)
                np.fill_diagonal(corr, 0.0)
                j, k = np.unravel_index(np.argmax(np.abs(corr)), corr.shape)
                out.append(
                    f"the factor covariance matrix{where} is not positive definite (largest factor correlation: "
                    f"{table.latent[j]!r} with {table.latent[k]!r}, {corr[j, k]:.3f})"
                )
            has_resid_cov = np.any((table.mat == THETA) & (table.row != table.col) & (table.group == g))
            if has_resid_cov and np.all(np.diag(mats.theta) > 0) and np.linalg.eigvalsh(mats.theta)[0] <= 0:
                out.append(f"the residual covariance matrix (theta){where} is not positive definite")
        return out

    # ------------------------------------------------------------ results
    def _check_fitted(self) -> None:
        if not hasattr(self, "estimates_"):
            raise RuntimeError("this CFA is not fitted yet: call fit(data) first")

    def modification_indices(self, minimum: float = 0.0) -> pd.DataFrame:
        """Modification indices (score tests) for fixed and absent parameters, largest first.

        Parameters
        ----------
        minimum : float
            Only rows with ``mi >= minimum``.

        Returns
        -------
        DataFrame
            ``lhs, op, rhs`` (``group`` with several groups), ``mi`` (chi-square, 1 df), ``epc``
            (expected change of the parameter if freed) and ``sepc_all`` (standardized like std.all),
            sorted by ``mi`` descending.

        Notes
        -----
        In R: ``lavaan::modindices(fit, sort = TRUE)``. Equality constraints are not tested (use
        lavaan's ``lavTestScore`` for those).
        """
        self._check_fitted()
        if self.estimator_ != "ML" or self.missing == "fiml" or self.table_.has_beta:
            raise ValueError(f"modification indices are available for ML fits of complete data to measurement "
                             f"models, not for estimator={self.estimator_!r}, missing={self.missing!r}"
                             f"{' with regressions or higher-order factors' if self.table_.has_beta else ''}")
        with single_threaded_blas():
            out = modification_indices(self.table_, self.problem_, self.x_, self.info_, self.groups_)
        return out[out["mi"] >= minimum].reset_index(drop=True)

    def composite_reliability(self) -> pd.DataFrame:
        """Composite reliability (omega) and average variance extracted of each factor, from the fitted model.

        For factor j, its indicators I (the observed variables loading on it) and Var(eta_j) the model's
        factor variance::

            omega          = (sum_I |lambda_ij|)^2 Var(eta_j) / k' Sigma_II k   (model-implied variance of the sum)
            omega_observed = (sum_I |lambda_ij|)^2 Var(eta_j) / k' S_II k       (its sample variance)

        with k the signs of the loadings: items that load negatively enter the sum reversed, as the
        scale's scoring key reverses them (semTools sums the raw items, which only differs when a
        loading is negative).
            ave            = sum_I lambda_ij^2 Var(eta_j) / sum_I Sigma_ii     (Fornell & Larcker 1981)

        Residual covariances and cross-loadings among the indicators enter through Sigma. For ordinal
        (WLSMV/ULSMV) fits these are reliabilities of the sum of the latent responses: Sigma is the model's
        correlation matrix and S the polychoric one (not Green & Yang's 2009 categorical omega). With FIML,
        S is the EM estimate. Higher-order factors (no observed indicators) are left out.

        Returns
        -------
        DataFrame
            One row per factor (and group): ``factor``, ``group`` (several groups), ``n_indicators``,
            ``omega``, ``omega_observed``, ``ave``.

        Notes
        -----
        In R: ``semTools::compRelSEM(fit, obs.var = FALSE)`` (omega) and ``obs.var = TRUE``
        (omega_observed) for continuous indicators; ``semTools::AVE(fit)``.
        """
        self._check_fitted()
        rows = []
        problem = self.problem_
        for g, label in enumerate(self.groups_):
            mats = problem.matrices(self.x_, g)
            if self.estimator_ in ORDINAL_ESTIMATORS:
                delta = problem.scales(self.x_, g)
                sigma = np.diag(delta) @ mats.sigma() @ np.diag(delta)
                lam = mats.lam * delta[:, None]
                sample = problem.groups[g].corr
            else:
                sigma, lam, sample = mats.sigma(), mats.lam, problem.mom.cov[g]
            for j, factor in enumerate(self.latent_names_):
                items = np.flatnonzero(lam[:, j] != 0)
                if items.size == 0:
                    continue
                var = mats.psi[j, j]
                key = np.sign(lam[items, j])  # reverse the items that load negatively, as a scoring key does
                true = np.abs(lam[items, j]).sum() ** 2 * var
                row = {"factor": factor, "n_indicators": int(items.size),
                       "omega": true / (key @ sigma[np.ix_(items, items)] @ key),
                       "omega_observed": true / (key @ sample[np.ix_(items, items)] @ key),
                       "ave": float(np.sum(lam[items, j] ** 2) * var / np.trace(sigma[np.ix_(items, items)]))}
                if len(self.groups_) > 1:
                    row["group"] = label
                rows.append(row)
        out = pd.DataFrame(rows)
        if len(self.groups_) > 1:
            out = out[["factor", "group", "n_indicators", "omega", "omega_observed", "ave"]]
        return out

    def transform(self, X: pd.DataFrame, method: Literal["regression", "bartlett"] = "regression") -> pd.DataFrame:
        """Factor scores of the rows of ``X``.

        Parameters
        ----------
        X : DataFrame
            The model's observed variables (and, for a multi-group model, the group column).
        method : {"regression", "bartlett"}
            ``regression`` (Thurstone): eta = alpha + Psi Lambda' Sigma^-1 (y - mu);
            ``bartlett``: eta = alpha + (Lambda' Theta^-1 Lambda)^-1 Lambda' Theta^-1 (y - mu),
            with mu the model-implied means (the sample means without a mean structure).

        Returns
        -------
        DataFrame
            One column per factor, indexed like ``X``. With ``missing="listwise"``, rows with a missing
            value get NaN scores (they are not scored, never imputed); otherwise missing values raise.

        Notes
        -----
        In R: ``lavaan::lavPredict(fit, newdata = X, method = "regression" | "Bartlett")``.
        """
        self._check_fitted()
        if self.estimator_ in ORDINAL_ESTIMATORS:
            raise ValueError("factor scores of ordinal (WLSMV/ULSMV) models are not available: the linear "
                             "regression and Bartlett scores assume continuous indicators")
        method = str(method).lower()
        if method not in ("regression", "bartlett"):
            raise ValueError(f"method must be 'regression' or 'bartlett', got {method!r}")
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"X must be a pandas DataFrame, not {type(X).__name__}")
        names = list(self.feature_names_in_)
        absent = [n for n in names if n not in X.columns]
        if absent:
            raise CFADataError(f"X has no column for {absent}")
        Y = X[names].to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isnan(Y).any(axis=1)
        if bad.any() and self.missing == "raise":
            raise CFADataError(f"{int(bad.sum())} rows of X have missing values; profiler never imputes "
                               "(fit with missing='listwise' to score only complete rows)")
        out = np.full((len(Y), len(self.latent_names_)), np.nan)
        group = self.group_column_
        if group is None:
            assignment = np.zeros(len(Y), dtype=np.int64)
        else:
            if group not in X.columns:
                raise CFADataError(f"X needs the group column {group!r} of this multi-group model")
            lookup = {lab: g for g, lab in enumerate(self.groups_)}
            labels = X[group].to_numpy()
            unknown = sorted({str(v) for v in labels if v not in lookup})
            if unknown:
                raise CFADataError(f"unknown groups in X: {unknown[:5]}; the model knows {list(self.groups_)}")
            assignment = np.array([lookup[v] for v in labels], dtype=np.int64)
        implied = self.problem_.implied(self.x_)
        vals = self.problem_.row_values(self.x_)
        for g in range(len(self.groups_)):
            rows = (assignment == g) & ~bad
            if rows.any():
                mats = self.problem_.matrices(self.x_, g, vals)
                out[rows] = factor_scores(Y[rows], mats, implied[g][1], method)
        return pd.DataFrame(out, index=X.index, columns=list(self.latent_names_))
