"""Unidimensional IRT models fitted by marginal maximum likelihood, as R's mirt fits them.

:class:`GRM` (Samejima's graded response model), :class:`GPCM` (generalized partial credit model)
and :class:`TwoPL` (binary items) share one estimator: EM over fixed quadrature (Bock & Aitkin) with
mirt 1.47's defaults — 61 equally spaced nodes on [-6, 6] with normalised N(0, 1) weights, mirt's
starting values (slope 0.851; intercepts from the answer proportions), its M-step (one BFGS over all
item parameters, see :mod:`profiler.irt._bfgs`), Ramsay acceleration every third cycle, and a stop
when no parameter changes by 1e-4 in a cycle. Because mirt stops while parameters still move by up
to 1e-4 per cycle (about 0.01 in slopes away from the exact maximum on bfi), matching its
estimates means following its path; this estimator does, and agrees with mirt to about 1e-6.

Standard errors come from the information matrix of the marginal likelihood, in closed form: Oakes'
identity (the default, as mirt's ``SE.type = "Oakes"``) or the cross-product of scores
(``"crossprod"``). Missing answers drop out of their row's likelihood; nothing is imputed.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from profiler._threads import small_matrix_threads
from profiler.irt import _em, _information, fit as _fit
from profiler.irt._data import IRTDataError, as_frame, encode, learn_categories, patterns
from profiler.irt.bank import ItemBank
from profiler.irt import scoring

SE_TYPES = ("oakes", "crossprod")


def mirt_start(codes: np.ndarray, n_categories: list[int], model: str) -> _em.Estimates:
    """mirt's starting values: a = 0.851 (loading .5 on the 1.702 logistic scale), intercepts from proportions.

    Proportions are answer counts over all rows (answered or not), as mirt computes them.
    """
    div = np.sqrt(0.75) / 1.702
    n_rows = codes.shape[0]
    intercepts = []
    for j, k in enumerate(n_categories):
        column = codes[:, j]
        p = np.bincount(column[column >= 0], minlength=k) / n_rows
        if model == "graded":
            d = norm.ppf(1 - np.cumsum(p)[:-1]) / div
        else:
            z = norm.ppf(p)
            d = ((z - z[0]) / div)[1:]
        if not np.all(np.isfinite(d)):
            d = np.linspace(2, -2, k - 1)
        intercepts.append(d)
    return _em.Estimates(np.full(len(n_categories), 0.851), intercepts)


class _UnidimensionalIRT(BaseEstimator):
    """Shared estimator of :class:`GRM`, :class:`GPCM` and :class:`TwoPL` (see the module docstring)."""

    _model: str = "graded"
    _parameter_constraints: dict = {
        "quadrature": [Interval(Integral, 5, None, closed="left")],
        "theta_range": [tuple],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "se": [StrOptions(set(SE_TYPES)), None],
    }

    def __init__(self, *, quadrature: int = 61, theta_range: tuple[float, float] = (-6.0, 6.0), tol: float = 1e-4,
                 max_iter: int = 500, se: str | None = "oakes") -> None:
        self.quadrature = quadrature
        self.theta_range = theta_range
        self.tol = tol
        self.max_iter = max_iter
        self.se = se

    # Fitting -------------------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Estimate the item parameters from responses (rows = people, columns = items; NaN = missing).

        Categories are each item's distinct answers in increasing order (mirt recodes them 0..K-1);
        rows without any answer are left out (they carry no information).
        """
        frame = as_frame(X)
        if isinstance(X, pd.DataFrame) and all(isinstance(c, str) for c in X.columns):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        items, categories = learn_categories(frame)
        self._check_categories(items, categories)
        coded = encode(frame, items, categories)
        answered = (coded.codes >= 0).any(axis=1)
        codes = coded.codes[answered]
        n_categories = [len(c) for c in categories]
        collapsed = patterns(codes)
        design = _em.Design(collapsed.codes, collapsed.counts, [self._model] * len(items), n_categories)
        quad = _em.Quadrature.normal(self.quadrature, tuple(self.theta_range))
        groups, start = _em.single_group(design, mirt_start(codes, n_categories, self._model))
        with small_matrix_threads():  # see profiler._threads: threads lose on these products
            result = _em.run_em_mirt(groups, start, quad.nodes, tol=self.tol, max_iter=self.max_iter)
        if not result.converged:
            warnings.warn(f"EM did not converge in {self.max_iter} cycles (largest parameter change still "
                          f">= {self.tol}); raise max_iter", ConvergenceWarning, stacklevel=2)
        est = result.estimates[0]
        self.n_features_in_ = len(items)
        self.items_ = items
        self.categories_ = {item: cats for item, cats in zip(items, categories, strict=True)}
        self.bank_ = ItemBank(items, [self._model] * len(items), est.slopes, est.intercepts, categories)
        self.params_ = self.bank_.params()
        self.irt_params_ = self.bank_.irt_params()
        self.loglik_ = result.loglik
        self.n_params_ = int(sum(n_categories))
        self.n_obs_ = int(codes.shape[0])
        self.n_empty_rows_ = int((~answered).sum())
        self.aic_ = -2 * self.loglik_ + 2 * self.n_params_
        self.bic_ = -2 * self.loglik_ + self.n_params_ * np.log(self.n_obs_)
        self.sabic_ = -2 * self.loglik_ + self.n_params_ * np.log((self.n_obs_ + 2) / 24)
        self.n_iter_ = result.n_iter
        self.converged_ = result.converged
        self._codes = codes
        self._design = design
        self._quadrature = quad
        self._estimates = est
        if self.se is not None:
            self._set_standard_errors(self.se)
        self._rename_columns()
        return self

    def _rename_columns(self) -> None:
        """Subclasses name their parameter columns as mirt does."""

    def _check_categories(self, items: list[str], categories: list[np.ndarray]) -> None:
        """Subclasses refuse items their model cannot take."""

    def _set_standard_errors(self, kind: str) -> None:
        log_prior = np.log(self._quadrature.weights)[None, :]
        information = _information.observed_information if kind == "oakes" else _information.crossprod_information
        with small_matrix_threads():
            info = information(self._design, self._estimates, self._quadrature.nodes, log_prior)
        names = [f"{item}.{p}" for item in self.items_ for p in ["a1", *[f"d{k}" for k in range(1, len(self.categories_[item]))]]]
        try:
            vcov = np.linalg.inv(info)
        except np.linalg.LinAlgError:
            vcov = np.full(info.shape, np.nan)
            warnings.warn("the information matrix is singular: no standard errors", ConvergenceWarning, stacklevel=3)
        self.vcov_ = pd.DataFrame(vcov, index=names, columns=names)
        self.information_matrix_ = pd.DataFrame(info, index=names, columns=names)
        se = np.sqrt(np.where(np.diag(vcov) > 0, np.diag(vcov), np.nan))
        self.se_ = self._as_param_table(se, self.params_)
        self.irt_se_ = self._irt_standard_errors(vcov)

    def _as_param_table(self, vector: np.ndarray, like: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame(np.nan, index=like.index, columns=like.columns)
        at = 0
        for item in self.items_:
            k = len(self.categories_[item])
            out.loc[item, like.columns[:k]] = vector[at : at + k]
            at += k
        return out

    def _irt_standard_errors(self, vcov: np.ndarray) -> pd.DataFrame:
        """Delta-method SEs of a and b_k from the slope/intercept covariance (mirt's ``IRTpars = TRUE``)."""
        out = pd.DataFrame(np.nan, index=self.irt_params_.index, columns=self.irt_params_.columns)
        at = 0
        for j, item in enumerate(self.items_):
            k = len(self.categories_[item])
            a = self.bank_.slopes[j]
            d = self.bank_.intercepts[j]
            block = vcov[at : at + k, at : at + k]
            jac = np.zeros((k, k))  # rows: a, b1..b(k-1); columns: a, d1..d(k-1)
            jac[0, 0] = 1.0
            if self._model == "graded":
                jac[1:, 0] = d / a**2
                jac[1:, 1:] = -np.eye(k - 1) / a
            else:  # b_m = -(d_m - d_(m-1)) / a
                steps = np.diff(np.concatenate([[0.0], d]))
                jac[1:, 0] = steps / a**2
                jac[1:, 1:] = (-np.eye(k - 1) + np.eye(k - 1, k=-1)) / a
            se = np.sqrt(np.diag(jac @ block @ jac.T))
            out.loc[item, out.columns[:k]] = se
            at += k
        return out

    # Scores and information ----------------------------------------------------------------------
    def score(self, X, method: str = "EAP", *, quadrature: int = scoring.EAP_NODES,
              theta_range: tuple[float, float] = scoring.THETA_RANGE) -> pd.DataFrame:
        """theta and SE of each row of ``X`` (columns: any of the fitted items; NaN = not answered).

        Unlike scikit-learn's ``score`` (a goodness of fit), this returns person scores:
        a DataFrame with ``theta``, ``se`` and ``n_answered``, indexed like ``X``. ``method``:
        "EAP" (mirt's default: posterior mean over ``quadrature`` nodes on ``theta_range``),
        "MAP" or "ML" (see :mod:`profiler.irt.scoring`).
        """
        check_is_fitted(self)
        return scoring.score_responses(self.bank_, as_frame(X, self.items_), method, **(
            {"n_nodes": quadrature, "theta_range": tuple(theta_range)} if method == "EAP" else {}))

    def information(self, theta) -> pd.DataFrame:
        """Test information and its SE (1 / sqrt(information)) at each theta (mirt's ``testinfo``)."""
        check_is_fitted(self)
        theta = np.atleast_1d(np.asarray(theta, dtype=float))
        total = self.bank_.information(theta).sum(axis=1)
        return pd.DataFrame({"information": total, "se": 1 / np.sqrt(total)}, index=pd.Index(theta, name="theta"))

    def item_information(self, theta) -> pd.DataFrame:
        """Item information at each theta: theta x items (mirt's ``iteminfo``)."""
        check_is_fitted(self)
        theta = np.atleast_1d(np.asarray(theta, dtype=float))
        return pd.DataFrame(self.bank_.information(theta), index=pd.Index(theta, name="theta"), columns=self.items_)

    def marginal_reliability(self) -> float:
        """mirt's ``marginal_rxx``: the test information's reliability averaged over N(0, 1)."""
        check_is_fitted(self)
        return scoring.marginal_reliability(self.bank_)

    def empirical_reliability(self, X=None) -> float:
        """mirt's ``empirical_rxx`` of EAP scores: var(theta) / (var(theta) + mean SE^2), on ``X`` or the fit data."""
        check_is_fitted(self)
        codes = self._codes if X is None else self.bank_.encode(as_frame(X, self.items_)).codes
        theta, se = scoring.theta_eap(self.bank_, codes)
        return scoring.empirical_reliability(theta, se)

    def eap_sum_table(self, *, min_expected: float = 1.0) -> pd.DataFrame:
        """EAP theta and SE per sum score, with observed and expected counts of the fit data when complete."""
        check_is_fitted(self)
        complete = None if (self._codes < 0).any() else self._codes
        return scoring.eap_sum_table(self.bank_, complete, min_expected=min_expected)

    # Fit ------------------------------------------------------------------------------------------
    def m2(self, kind: str = "auto") -> dict[str, float | str]:
        """Limited-information fit of the calibration data: M2* (M2 for binary items), else C2.

        Keys: ``statistic`` ("M2*", "M2" or "C2"), ``value``, ``df``, ``p``, ``RMSEA``, ``RMSEA_5``,
        ``RMSEA_95``, ``SRMSR``, and ``TLI``/``CFI`` against the independence model when it fits worse
        (mirt's ``M2()``). ``kind="auto"`` falls back to C2 where M2* has no degrees of freedom (mirt
        refuses M2* there; a 5-item scale with 6 categories has 15 moments for 30 parameters).
        """
        check_is_fitted(self)
        return _fit.limited_information_fit(self.bank_, self._codes, kind)

    def itemfit(self, *, mincell: float = 1.0) -> pd.DataFrame:
        """S-X2 item fit (Orlando & Thissen) of the calibration data: S_X2, df, RMSEA, p per item.

        With complete data this is mirt's ``itemfit(fit_stats = "S_X2")``; with missing answers (which mirt
        refuses) each respondent's sum score is over the items answered (see :func:`profiler.irt.fit.s_x2`).
        """
        check_is_fitted(self)
        return _fit.s_x2(self.bank_, self._codes, mincell=mincell)

    def ld_x2(self) -> pd.DataFrame:
        """Local dependence X2 and signed Cramér's V for every item pair (mirt's ``residuals(type = "LD")``)."""
        check_is_fitted(self)
        return _fit.ld_x2(self.bank_, self._codes)

    def q3(self) -> pd.DataFrame:
        """Yen's Q3 residual correlations, items x items (mirt's ``residuals(type = "Q3")``)."""
        check_is_fitted(self)
        return _fit.q3(self.bank_, self._codes)

    def summary(self) -> dict[str, float]:
        """logLik, AIC, BIC, SABIC, parameters, observations, cycles and convergence (mirt's ``@Fit``)."""
        check_is_fitted(self)
        return {"loglik": self.loglik_, "aic": self.aic_, "bic": self.bic_, "sabic": self.sabic_,
                "n_params": self.n_params_, "n_obs": self.n_obs_, "n_iter": self.n_iter_, "converged": self.converged_}


class GRM(_UnidimensionalIRT):
    """Samejima's graded response model (mirt's ``itemtype = "graded"``).

    P(X >= k | theta) = 1 / (1 + exp(-(a theta + d_k))), so ``params_`` holds ``a1, d1..dk`` and
    ``irt_params_`` holds ``a`` and the thresholds ``b_k = -d_k / a``.

    Parameters
    ----------
    quadrature : int, default=61
        EM quadrature nodes, equally spaced on ``theta_range`` (mirt's ``quadpts``).
    theta_range : tuple of float, default=(-6.0, 6.0)
        Range of the nodes (mirt's ``theta_lim``).
    tol : float, default=1e-4
        EM stops when no parameter changed by ``tol`` or more in a cycle (mirt's ``TOL``).
    max_iter : int, default=500
        EM cycles before giving up with a ConvergenceWarning (mirt's ``NCYCLES``).
    se : {"oakes", "crossprod"} or None, default="oakes"
        Standard errors from the observed information (Oakes' identity) or the cross-product of
        scores; None skips them.

    Attributes
    ----------
    params_ : DataFrame
        items x ``a1, d1..dk`` (mirt's ``coef(fit, simplify = TRUE)$items``); NaN where an item has fewer
        categories.
    irt_params_ : DataFrame
        items x ``a, b1..bk`` (``coef(fit, IRTpars = TRUE, simplify = TRUE)``).
    se_, irt_se_ : DataFrame
        Standard errors of both (IRT ones by the delta method).
    vcov_, information_matrix_ : DataFrame
        Covariance and information matrix of the slope/intercept parameters.
    loglik_, aic_, bic_, sabic_ : float
    n_params_, n_obs_, n_iter_ : int
        Estimated parameters, rows with at least one answer, EM cycles.
    n_empty_rows_ : int
        Rows without any answer, left out.
    converged_ : bool
    items_ : list of str
    categories_ : dict
        Each item's answer values, in category order.
    bank_ : ItemBank
        The calibrated items, for scoring and adaptive testing.

    Examples
    --------
    >>> model = GRM().fit(responses)                      # doctest: +SKIP
    >>> model.params_.round(3)                            # doctest: +SKIP
    >>> model.score(responses, method="EAP").head()       # doctest: +SKIP
    """

    _model = "graded"


class GPCM(GRM):
    """Generalized partial credit model (mirt's ``itemtype = "gpcm"``).

    P(X = k | theta) is proportional to exp(k a theta + d_k) with d_0 = 0; ``irt_params_`` gives the step
    difficulties ``b_k = -(d_k - d_(k-1)) / a``. Parameters and attributes as :class:`GRM`.
    """

    _model = "gpcm"


class TwoPL(GRM):
    """Two-parameter logistic model for binary items (mirt's ``itemtype = "2PL"``).

    P(X = 1 | theta) = 1 / (1 + exp(-(a theta + d))); ``params_`` has ``a1, d`` and ``irt_params_``
    ``a, b`` with ``b = -d / a`` (mirt's names). Every item must have exactly two observed answers.
    """

    _model = "graded"

    def _rename_columns(self) -> None:
        for name in ("params_", "se_", "irt_params_", "irt_se_"):
            if hasattr(self, name):
                setattr(self, name, getattr(self, name).rename(columns={"d1": "d", "b1": "b"}))

    def _check_categories(self, items: list[str], categories: list[np.ndarray]) -> None:
        wrong = [i for i, c in zip(items, categories, strict=True) if len(c) != 2]
        if wrong:
            raise IRTDataError(f"the 2PL needs binary items; {wrong} have more than two answers (use GRM or GPCM)")
