"""Exploratory factor analysis that agrees with R's ``psych::fa`` (psych 2.2.9, GPArotation 2022.10).

:class:`EFA` is a scikit-learn transformer: ``fit`` takes item responses (or use
:meth:`EFA.fit_correlation` for a correlation matrix and a sample size), ``transform`` returns factor
scores. Extraction is in :mod:`profiler.factors.extraction`, rotation in
:mod:`profiler.factors.rotation`, score weights in :mod:`profiler.factors.scores`.
"""

from __future__ import annotations

import dataclasses
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy import special
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data

from profiler.factors._input import (
    FIML_MISSING_POLICIES,
    CorrelationInput,
    correlation_from_data,
    correlation_from_matrix,
)
from profiler.factors._efa_se import SE_ROTATIONS, rotated_ml_standard_errors
from profiler.factors.extraction import METHODS, extract, small_matrix_threads
from profiler.factors.missing import MissingDataWarning
from profiler.factors.rotation import ROTATIONS, TARGET_ROTATIONS, rotate
from profiler.factors.scores import SCORE_METHODS, score_weights

__all__ = ["EFA", "HeywoodWarning", "FitStatistics", "fit_statistics"]

_EPS = np.finfo(np.float64).eps


class HeywoodWarning(UserWarning):
    """A communality reached 1 (uniqueness at psych's 0.005 bound or below): the solution is improper.

    Usual causes: too many factors, too few items per factor, or a sample too small for the model.
    """


# --- fit statistics (psych's fa.stats) --------------------------------------------------------------


def _cor_smooth(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """psych's ``cor.smooth``, returning the matrix and its Cholesky factor.

    A positive definite matrix is returned unchanged (psych tests the smallest eigenvalue against
    machine epsilon; a successful Cholesky factorisation is the same test up to rounding). Otherwise
    eigenvalues below 1e-12 are lifted to 1e-10, rescaled to sum to p, and the result turned back into a
    correlation matrix, with a warning.
    """
    try:
        return x, np.linalg.cholesky(x)
    except np.linalg.LinAlgError:
        pass
    warnings.warn(
        "Matrix was not positive definite, smoothing was done (psych's cor.smooth); fit statistics are "
        "approximate.",
        UserWarning,
        stacklevel=3,
    )
    w, v = np.linalg.eigh(x)
    w = np.where(w < 1e-12, 100 * 1e-12, w)
    w = w * x.shape[0] / w.sum()
    y = (v * w) @ v.T
    d = 1.0 / np.sqrt(np.diag(y))
    y = y * d[:, None] * d[None, :]
    return y, np.linalg.cholesky(y)


class FitStatistics(dict):
    """psych's fit statistics of a factor model, as a dict with attribute access."""

    def __getattr__(self, name: str) -> object:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def fit_statistics(
    corr: np.ndarray,
    pattern: np.ndarray,
    phi: np.ndarray | None,
    n_obs: int | None,
    alpha: float = 0.1,
    *,
    pairwise_counts: np.ndarray | None = None,
) -> FitStatistics:
    """Fit statistics of a factor model exactly as ``psych::fa`` (``fa.stats``) computes them.

    With ``p`` items, ``k`` factors and the model ``M = L Phi L'`` with unit diagonal:

    - ``dof = p(p-1)/2 - p k + k(k-1)/2``;
    - ``objective F = tr(M^-1 R) - log|M^-1 R| - p`` (the ML discrepancy of the model, whatever the
      extraction method);
    - ``chi_square = F ((n - 1) - (2p + 5)/6 - 2k/3)`` (Bartlett's correction, psych's ``STATISTIC``),
      ``p_value`` from chi-square(dof);
    - ``rmsea = sqrt(max(chi_square/(dof n) - 1/(n - 1), 0))`` (psych 2.2.9; note the mixed n and
      n - 1) with a ``1 - alpha`` interval from the noncentral chi-square (``rmsea_lower``,
      ``rmsea_upper``: ``sqrt(ncp / ((n - 1) dof))``; the interval is not in the R reference);
    - ``tli = (M0 - Mm) / (M0 - 1/nm)`` with ``Mm = F/dof``, ``M0 = F0 / (p(p-1)/2)``,
      ``F0 = tr(R) - log|R| - p``, ``nm = (n - 1) - (2p + 5)/6 - 2k/3``;
    - ``bic = chi_square - dof log(n)``;
    - ``rmsr``: root mean square of the off-diagonal residuals (psych's ``rms``), ``empirical_chi_square``
      = n times the sum of squared off-diagonal residuals (psych's ``chi``). With ``pairwise_counts``
      (psych's ``np.obs``) each squared residual is weighted by its count instead:
      ``empirical_chi_square = sum(n_ij r_ij^2)``, ``rmsr = sqrt(that / (nh p (p-1)))`` with ``nh`` the
      harmonic mean of the counts (``harmonic_n``).

    In R: ``f <- psych::fa(...)``; ``f$STATISTIC``, ``f$dof``, ``f$PVAL``, ``f$RMSEA``, ``f$TLI``,
    ``f$BIC``, ``f$objective``, ``f$rms``, ``f$chi``.
    """
    R = np.asarray(corr, dtype=np.float64)
    L = np.asarray(pattern, dtype=np.float64)
    p, k = L.shape
    Phi = np.eye(k) if phi is None else phi
    model = L @ Phi @ L.T
    resid = R - model
    np.fill_diagonal(resid, 0.0)
    rstar_off = float(np.sum(resid * resid))
    if pairwise_counts is not None:
        counts = np.asarray(pairwise_counts, dtype=np.float64)
        weighted = float(np.sum(resid * resid * counts))
        harmonic = float(counts.size / np.sum(1.0 / counts))
    dof = p * (p - 1) / 2 - p * k + k * (k - 1) / 2
    np.fill_diagonal(model, np.diag(R))
    model_s, c_model = _cor_smooth(model)
    R_s, c_r = _cor_smooth(R)
    # F = tr(M^-1 R) - log|M^-1 R| - p, with log-determinants from the Cholesky factors
    logdet_model = 2.0 * float(np.sum(np.log(np.diag(c_model))))
    logdet_r = 2.0 * float(np.sum(np.log(np.diag(c_r))))
    half = np.linalg.solve(c_model, c_r)  # tr(M^-1 R) = ||C_M^-1 C_R||_F^2
    objective = float(np.sum(half * half) - (logdet_r - logdet_model) - p)
    f0 = float(np.trace(R_s) - logdet_r - p)
    out = FitStatistics(
        dof=float(dof),
        objective=objective,
        rmsr=float(np.sqrt(rstar_off / (p * (p - 1)))) if pairwise_counts is None
        else float(np.sqrt(weighted / (harmonic * p * (p - 1)))),
        harmonic_n=None if pairwise_counts is None else harmonic,
        null_objective=f0,
        null_dof=p * (p - 1) / 2,
        n_obs=n_obs,
    )
    nan = float("nan")
    out.update(chi_square=nan, p_value=nan, rmsea=nan, rmsea_lower=nan, rmsea_upper=nan, tli=nan, bic=nan,
               null_chi_square=nan, empirical_chi_square=nan)
    if n_obs is None:
        return out
    n = float(n_obs)
    nm = (n - 1) - (2 * p + 5) / 6 - 2 * k / 3
    chisq = max(objective * nm, 0.0)
    out["chi_square"] = chisq
    # both triangles, as psych's chi
    out["empirical_chi_square"] = rstar_off * n if pairwise_counts is None else weighted
    out["null_chi_square"] = f0 * ((n - 1) - (2 * p + 5) / 6)
    if dof > 0:
        out["p_value"] = float(special.chdtrc(dof, chisq))
        Mm = objective / dof
        M0 = f0 * 2 / (p * (p - 1))
        out["tli"] = float((M0 - Mm) / (M0 - 1 / nm))
        rmsea = float(np.sqrt(max(chisq / (dof * n) - 1 / (n - 1), 0.0)))  # psych 2.2.9's formula
        out["rmsea"] = rmsea
        out["bic"] = float(chisq - dof * np.log(n))
        lo, hi = _rmsea_interval(chisq, dof, n, alpha)
        out["rmsea_lower"] = lo if np.isnan(lo) or lo <= rmsea else nan
        out["rmsea_upper"] = hi if np.isnan(hi) or hi >= rmsea else nan
    return out


def _rmsea_interval(chisq: float, dof: float, n: float, alpha: float) -> tuple[float, float]:
    """Noncentrality interval as psych: the ``ncp`` with ``pchisq(chisq, dof, ncp) = alpha/2`` (upper)
    and ``= 1 - alpha/2`` (lower), ``RMSEA = sqrt(ncp / ((n - 1) dof))``; 0 when the central
    chi-square already lies beyond the tail."""
    tail = alpha / 2
    cdf0 = float(special.chdtr(dof, chisq))

    def solve(prob: float) -> float:
        lam = float(special.chndtrinc(chisq, dof, prob))
        return float(np.sqrt(lam / (n - 1) / dof)) if np.isfinite(lam) and lam >= 0 else float("nan")

    upper = solve(tail) if cdf0 > tail else 0.0
    lower = solve(1 - tail) if cdf0 > 1 - tail else 0.0
    return lower, upper


# --- the estimator ----------------------------------------------------------------------------------


class EFA(TransformerMixin, BaseEstimator):
    """Exploratory factor analysis (minres, uls, wls, gls, ML, principal axis, alpha) as ``psych::fa``.

    Parameters
    ----------
    n_factors : int, default=1
        Number of factors to extract.
    method : {"minres", "uls", "wls", "gls", "ml", "pa", "alpha"}, default="minres"
        Extraction: minimum residual, psych's unweighted / weighted / generalised least squares,
        maximum likelihood, iterated principal axis, or alpha factoring. See
        :func:`profiler.factors.extraction.extract`.
    rotation : str, default="oblimin"
        Rotation (psych's default is oblimin), one of
        :data:`profiler.factors.rotation.ROTATIONS`: orthogonal ``none``, ``varimax``, ``quartimax``,
        ``equamax``, ``bentlerT``, ``geominT``, ``targetT``, ``bifactor``; oblique ``oblimin``,
        ``quartimin``, ``geomin`` (``geominQ``), ``bentlerQ``, ``simplimax``, ``targetQ``,
        ``biquartimin``, ``promax``. See :func:`profiler.factors.rotation.rotate`.
    target : array-like of shape (n_features, n_factors) or None, default=None
        Target loadings for ``targetT`` / ``targetQ`` (NaN: free); a DataFrame indexed by item names is
        aligned to the items. Refused with other rotations.
    missing : {"listwise", "pairwise", "fiml", "raise"}, default="listwise"
        Missing responses: drop incomplete rows (with a :class:`MissingDataWarning` giving how many),
        use pairwise-complete correlations (n as psych: every row), factor the correlations of the
        FIML (EM, multivariate normal) estimate of the covariance matrix from every row, or refuse.
        Single responses are never imputed. :attr:`missing_` records what was missing.
    cor : {"pearson", "polychoric"}, default="pearson"
        Correlations factored: Pearson's, or polychoric ones for ordinal answers (two-step ML,
        :func:`profiler.factors.polychoric`; psych's ``fa(x, cor = "poly")``). With ``"polychoric"``,
        ``missing`` is ``"pairwise"``, ``"listwise"`` or ``"raise"`` (no FIML), and n for the fit
        statistics is every row (pairwise) or the complete rows (listwise), as psych.
    scores : {"regression", "bartlett", "tenberge"}, default="regression"
        Factor-score method used by :meth:`transform` (see :func:`profiler.factors.scores.score_weights`).
    n_starts : int, default=10
        Random orthogonal starts for the rotation in addition to the identity; the start with the
        lowest criterion is kept (the identity on ties).
    random_state : int, RandomState instance or None, default=None
        Seed for the rotation starts.
    normalize : bool or None, default=None
        Kaiser normalisation for the rotation; None uses psych::fa's default for each rotation
        (varimax and promax normalised; oblimin, quartimin and geomin not).
    max_iter : int or None, default=None
        Extraction iterations (None: 1000 for minres/ml, 50 for pa as psych).
    tol : float or None, default=None
        Extraction tolerance (None: projected gradient 1e-9 for minres/ml; change of summed
        communalities 0.001 for pa as psych).
    rotation_max_iter : int, default=1000
        Gradient-projection iterations per start.
    rotation_tol : float, default=1e-6
        Rotation convergence tolerance (norm of the projected gradient).
    standard_errors : bool, default=False
        Also compute standard errors of the (standardised) loadings and factor correlations, as
        lavaan's ``efa()`` does: expected ML information bordered by the rotation's stationarity
        conditions, delta method to the standardised solution. Needs ``method="ml"``, a sample size,
        and a smooth rotation (every rotation but promax and simplimax). See
        :func:`profiler.factors._efa_se.rotated_ml_standard_errors`.

    Attributes
    ----------
    loadings_ : DataFrame of shape (n_features, n_factors)
        Pattern loadings (items x ``factor1..k``), factors ordered by variance explained and signed so
        that each column sums to a positive value (as psych).
    phi_ : DataFrame of shape (n_factors, n_factors)
        Factor correlations (identity for orthogonal rotations).
    structure_ : DataFrame of shape (n_features, n_factors)
        Structure coefficients ``loadings_ @ phi_`` (item-factor correlations).
    unrotated_loadings_ : DataFrame
        Loadings before rotation.
    rotation_matrix_ : ndarray of shape (n_factors, n_factors)
        ``T`` with ``loadings_ = unrotated_loadings_ @ T`` (columns in the final order and signs);
        ``phi_ = inv(T) @ inv(T).T``.
    communalities_, uniquenesses_ : Series
        ``h2 = diag(L Phi L')`` and ``1 - h2``.
    eigenvalues_ : ndarray
        Eigenvalues of the correlation matrix (psych's ``e.values``).
    reduced_eigenvalues_ : ndarray
        Eigenvalues of the correlation matrix with communalities on the diagonal (psych's ``values``).
    variance_ : DataFrame
        psych's ``Vaccounted``: SS loadings, Proportion Var, Cumulative Var, Proportion Explained,
        Cumulative Proportion (one column per factor).
    chi_square_, dof_, p_value_, rmsea_, tli_, bic_ : float
        psych's ``STATISTIC``, ``dof``, ``PVAL``, ``RMSEA[1]``, ``TLI``, ``BIC`` (nan without a sample
        size); :attr:`fit_statistics_` has these and more (objective, RMSEA interval, RMSR, null model).
    heywood_ : Series of bool
        Items whose communality reached 1 (uniqueness at 0.005 or below). Any True triggers a
        :class:`HeywoodWarning`: the solution is improper, not a good fit.
    converged_ : bool
        Extraction and rotation both converged.
    n_iter_ : int
        Extraction iterations.
    rotation_n_iter_, rotation_start_ : int
        Iterations and index (0 = identity) of the rotation start returned.
    rotation_start_criteria_ : ndarray
        Final rotation criterion of every start (to see local optima).
    correlation_ : ndarray of shape (n_features, n_features)
        The correlation matrix analysed.
    n_obs_ : int or None
        The n of the fit statistics: listwise, the complete rows; pairwise, every row (psych's
        ``n.obs``; the pairwise counts weight the empirical chi-square and RMSR, as psych's
        ``np.obs``); fiml, every row with a response.
    missing_ : MissingData or None
        Rows and cells missing, rows used and dropped, and the method that handled them (None after
        :meth:`fit_correlation`).
    n_rows_dropped_ : int
        Rows dropped (listwise: incomplete rows; fiml: rows without any response).
    mean_, scale_ : ndarray or None
        Item means and SDs (n - 1) of the fit data, used to standardise data in :meth:`transform`.
    weights_ : DataFrame
        Score weights for :attr:`scores`.
    loadings_se_, phi_se_ : DataFrame
        Standard errors of ``loadings_`` and ``phi_`` (only with ``standard_errors=True``; 0 where fixed).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when the data had string column names.

    Notes
    -----
    The estimator reproduces ``psych::fa(x, nfactors, fm = method, rotate = rotation)`` to about
    1e-5 in loadings on the psych reference (bfi, 5 factors, every method and rotation).

    In R: ``psych::fa(x, nfactors = 5, fm = "minres", rotate = "oblimin", scores = "regression")``.

    Examples
    --------
    >>> efa = EFA(n_factors=5, rotation="oblimin", random_state=0).fit(items)  # doctest: +SKIP
    >>> efa.loadings_.round(2)  # doctest: +SKIP
    """

    _parameter_constraints: dict = {
        "n_factors": [Interval(Integral, 1, None, closed="left")],
        "method": [StrOptions(set(METHODS))],
        "rotation": [StrOptions(set(ROTATIONS))],
        "target": ["array-like", None],
        "missing": [StrOptions(set(FIML_MISSING_POLICIES))],
        "cor": [StrOptions({"pearson", "polychoric"})],
        "scores": [StrOptions(set(SCORE_METHODS))],
        "n_starts": [Interval(Integral, 0, None, closed="left")],
        "random_state": ["random_state"],
        "normalize": ["boolean", None],
        "max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "tol": [Interval(Real, 0, None, closed="neither"), None],
        "rotation_max_iter": [Interval(Integral, 1, None, closed="left")],
        "rotation_tol": [Interval(Real, 0, None, closed="neither")],
        "standard_errors": ["boolean"],
    }

    def __init__(
        self,
        n_factors: int = 1,
        *,
        method: str = "minres",
        rotation: str = "oblimin",
        target=None,
        missing: str = "listwise",
        cor: str = "pearson",
        scores: str = "regression",
        n_starts: int = 10,
        random_state: int | np.random.RandomState | None = None,
        normalize: bool | None = None,
        max_iter: int | None = None,
        tol: float | None = None,
        rotation_max_iter: int = 1000,
        rotation_tol: float = 1e-6,
        standard_errors: bool = False,
    ) -> None:
        self.n_factors = n_factors
        self.method = method
        self.rotation = rotation
        self.target = target
        self.missing = missing
        self.cor = cor
        self.scores = scores
        self.n_starts = n_starts
        self.random_state = random_state
        self.normalize = normalize
        self.max_iter = max_iter
        self.tol = tol
        self.rotation_max_iter = rotation_max_iter
        self.rotation_tol = rotation_tol
        self.standard_errors = standard_errors

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self.missing != "raise"
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags

    # -- fitting ----------------------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the factor model to item responses.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Item responses; NaN marks a missing response (handled by :attr:`missing`).
        y : None
            Ignored.

        Returns
        -------
        self
        """
        X = validate_data(
            self, X, dtype=np.float64, ensure_all_finite="allow-nan", ensure_min_samples=3, ensure_min_features=2
        )
        with small_matrix_threads():  # see extraction.small_matrix_threads: threads lose on shared cores
            if self.cor == "polychoric":
                data = self._polychoric_input(X)
            else:
                data = correlation_from_data(X, missing=self.missing)
        if data.pairwise_counts is not None:
            data = dataclasses.replace(data, n_obs=X.shape[0])  # psych: n.obs = nrow(x) with pairwise r
        report = data.missing
        if report.method == "listwise":
            warnings.warn(
                f"Listwise deletion dropped {report.n_rows_dropped} of {report.n_rows} rows "
                f"({report.n_rows_dropped / report.n_rows:.1%}) with a missing response "
                f"({report.n_cells_missing} missing cells, {report.proportion_missing:.1%}); the model uses "
                f"n = {report.n_rows_used}. Use missing='fiml' or 'pairwise' to keep every row.",
                MissingDataWarning,
                stacklevel=2,
            )
        return self._fit(data)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_correlation(self, corr, n_obs: int | None = None):
        """Fit the factor model to a correlation (or covariance) matrix.

        Parameters
        ----------
        corr : DataFrame or array-like of shape (n_features, n_features)
            Correlations; a covariance matrix is rescaled to correlations. DataFrame column names are
            kept as feature names.
        n_obs : int, optional
            Sample size; without it the chi-square, RMSEA, TLI and BIC are nan.

        Returns
        -------
        self

        Notes
        -----
        In R: ``psych::fa(r = R, n.obs = n_obs, ...)``. :meth:`transform` needs the data's means and
        SDs, which a correlation matrix does not give; use ``factor_scores(X, standardize="sample")``.
        """
        if isinstance(corr, pd.DataFrame):
            names = np.asarray([str(c) for c in corr.columns], dtype=object)
            if not all(isinstance(c, str) for c in corr.columns):
                names = None
        else:
            names = None
        data = correlation_from_matrix(corr, n_obs, feature_names=names)
        self.n_features_in_ = data.corr.shape[0]
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return self._fit(data)

    def _fit(self, data: CorrelationInput):
        R = data.corr
        p = R.shape[0]
        k = self.n_factors
        if k >= p:
            raise ValueError(f"n_factors={k} must be smaller than the number of items ({p}).")
        names = data.feature_names if not hasattr(self, "feature_names_in_") else self.feature_names_in_
        names = [str(n) for n in names]
        target = self._target_matrix(p, names)
        rotation = self.rotation if k > 1 else "none"
        if self.standard_errors:
            self._check_standard_errors(rotation, data.n_obs)
        with small_matrix_threads():
            ext = extract(R, k, self.method, n_obs=data.n_obs, max_iter=self.max_iter, tol=self.tol)
            A = ext.loadings.copy()
            A[A == 0] = 1e-15  # as psych, before rotating
            seed = self.random_state
            if isinstance(seed, np.random.RandomState):
                seed = seed.randint(np.iinfo(np.int32).max)
            rot = rotate(
                A,
                self.rotation if k > 1 else "none",
                normalize=self.normalize,
                n_starts=self.n_starts,
                random_state=seed,
                max_iter=self.rotation_max_iter,
                tol=self.rotation_tol,
                target=target if k > 1 else None,
            )
            L, Phi, T = rot.loadings, rot.phi, rot.rotation_matrix
            # psych: positive column sums, then order by variance explained diag(Phi L'L)
            signs = np.sign(L.sum(axis=0))
            signs[signs == 0] = 1.0
            L, T, Phi = L * signs, T * signs, Phi * np.outer(signs, signs)
            vx = np.diag(Phi @ (L.T @ L))
            order = np.argsort(-vx, kind="stable")
            L, T, Phi, vx = L[:, order], T[:, order], Phi[np.ix_(order, order)], vx[order]
            if self.standard_errors:  # in the rotation's own column order (bifactor's first factor), then ordered
                se_l, se_phi = rotated_ml_standard_errors(
                    rot.loadings, rot.phi, data.n_obs, rotation, normalize=rot.normalize, target=target
                )
                se_l, se_phi = se_l[:, order], se_phi[np.ix_(order, order)]
            h2 = np.einsum("ij,jk,ik->i", L, Phi, L)
            fit_stats = fit_statistics(
                R, L, None if rot.orthogonal else Phi, data.n_obs, pairwise_counts=data.pairwise_counts
            )
            W = score_weights(R, L, Phi, self.scores)

        factors = [f"factor{i + 1}" for i in range(k)]
        self.correlation_ = R
        self.n_obs_ = data.n_obs
        self.missing_ = data.missing
        self.n_rows_dropped_ = data.n_rows_dropped
        self.mean_ = data.means
        self.scale_ = data.scales
        self.loadings_ = pd.DataFrame(L, index=names, columns=factors)
        self.phi_ = pd.DataFrame(Phi, index=factors, columns=factors)
        self.structure_ = pd.DataFrame(L @ Phi, index=names, columns=factors)
        self.unrotated_loadings_ = pd.DataFrame(
            ext.loadings, index=names, columns=[f"unrotated{i + 1}" for i in range(k)]
        )
        self.rotation_matrix_ = T
        self.communalities_ = pd.Series(h2, index=names, name="communality")
        self.uniquenesses_ = pd.Series(1.0 - h2, index=names, name="uniqueness")
        self.eigenvalues_ = ext.eigenvalues
        self.reduced_eigenvalues_ = ext.values
        vtotal = float(p)  # sum(communality + uniqueness)
        self.variance_ = pd.DataFrame(
            [vx, vx / vtotal, np.cumsum(vx / vtotal), vx / vx.sum(), np.cumsum(vx / vx.sum())],
            index=["SS loadings", "Proportion Var", "Cumulative Var", "Proportion Explained", "Cumulative Proportion"],
            columns=factors,
        )
        self.fit_statistics_ = fit_stats
        self.chi_square_ = fit_stats["chi_square"]
        self.dof_ = fit_stats["dof"]
        self.p_value_ = fit_stats["p_value"]
        self.rmsea_ = fit_stats["rmsea"]
        self.tli_ = fit_stats["tli"]
        self.bic_ = fit_stats["bic"]
        self.heywood_ = pd.Series(ext.heywood | (h2 >= 1.0 - 0.005), index=names, name="heywood")
        self.n_iter_ = ext.n_iter
        self.rotation_n_iter_ = rot.n_iter
        self.rotation_start_ = rot.start
        self.rotation_criterion_ = rot.criterion
        self.rotation_start_criteria_ = rot.start_criteria
        self.converged_ = bool(ext.converged and rot.converged)
        self.weights_ = pd.DataFrame(W, index=names, columns=factors)
        if self.standard_errors:
            self.loadings_se_ = pd.DataFrame(se_l, index=names, columns=factors)
            self.phi_se_ = pd.DataFrame(se_phi, index=factors, columns=factors)
        if not ext.converged:
            warnings.warn(
                f"{self.method} extraction did not converge in {ext.n_iter} iterations; the solution "
                "may not be optimal (increase max_iter).",
                ConvergenceWarning,
                stacklevel=3,
            )
        if self.heywood_.any():
            items = ", ".join(self.heywood_.index[self.heywood_.to_numpy()][:10])
            warnings.warn(
                f"Heywood case: communality >= 1 - 0.005 for {items}. The solution is improper (a "
                "uniqueness at its lower bound); consider fewer factors, more items, or another method.",
                HeywoodWarning,
                stacklevel=3,
            )
        return self

    def _check_standard_errors(self, rotation: str, n_obs: int | None) -> None:
        if self.method != "ml":
            raise ValueError(
                f"standard_errors=True needs method='ml' (the information matrix is the likelihood's); got "
                f"method={self.method!r}."
            )
        if n_obs is None:
            raise ValueError("standard_errors=True needs the sample size: pass n_obs to fit_correlation.")
        if rotation not in SE_ROTATIONS:
            raise ValueError(
                f"standard_errors=True needs a rotation with a smooth criterion; {rotation!r} has none "
                "(promax is a two-step procedure, simplimax's criterion jumps)."
            )
        if self.cor == "polychoric":
            raise ValueError("standard_errors=True is for Pearson correlations (normal-theory ML); use "
                             "CFA(..., estimator='WLSMV') for ordinal items.")

    def _polychoric_input(self, X: np.ndarray) -> CorrelationInput:
        """Polychoric correlations of the answers, with the Pearson means and SDs for scoring."""
        from profiler.factors.polychoric import polychoric

        if self.missing == "fiml":
            raise ValueError(
                "missing='fiml' is for Pearson correlations; with cor='polychoric' use missing='pairwise' "
                "(psych's and lavaan's default for ordinal data) or 'listwise'."
            )
        names = [f"x{i}" for i in range(X.shape[1])]
        pc = polychoric(pd.DataFrame(X, columns=names), missing=self.missing)
        rows = X[~np.isnan(X).any(axis=1)] if self.missing == "listwise" else X
        counts = pc.pairwise_counts.to_numpy() if pc.missing.method == "pairwise" else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an item without answers is refused above
            means, scales = np.nanmean(rows, axis=0), np.nanstd(rows, axis=0, ddof=1)
        return CorrelationInput(
            pc.correlation.to_numpy(), pc.n_obs, np.asarray(names, dtype=object), means, scales,
            pairwise_counts=counts, n_rows_dropped=X.shape[0] - pc.n_obs, missing=pc.missing,
        )

    def _target_matrix(self, p: int, names: list[str]) -> np.ndarray | None:
        if self.rotation not in TARGET_ROTATIONS:
            if self.target is not None:
                raise ValueError(
                    f"target is only used by rotation='targetT' or 'targetQ'; rotation is {self.rotation!r}."
                )
            return None
        shape = (p, self.n_factors)
        if self.target is None:
            raise ValueError(
                f"rotation={self.rotation!r} needs target=, a matrix of shape {shape} (NaN = free loading)."
            )
        if isinstance(self.target, pd.DataFrame) and set(names) <= {str(i) for i in self.target.index}:
            frame = self.target.set_axis([str(i) for i in self.target.index], axis=0)
            return frame.loc[names].to_numpy(dtype=np.float64)
        tgt = np.asarray(self.target, dtype=np.float64)
        if tgt.shape != shape:
            raise ValueError(f"target has shape {tgt.shape}; expected (n_features, n_factors) = {shape}.")
        return tgt

    def bootstrap(self, X, n_iter: int = 100, *, random_state=None, confidence: float = 0.95):
        """Bootstrap the loadings as ``psych::fa(x, ..., n.iter = n_iter)``: resample rows, refit, rotate
        each replicate towards these loadings (psych's ``target.rot``), summarise.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The data the model was fitted to (rows are resampled with replacement).
        n_iter : int, default 100
            Replicates.
        random_state : int, Generator or None
            Seed for the resampling (and nothing else: each refit uses this estimator's own settings).
        confidence : float, default 0.95
            Level of the normal-theory intervals ``mean -/+ z sd`` (psych's ``p = 1 - confidence``).

        Returns
        -------
        BootstrapLoadings
            ``mean``, ``sd``, ``lower``, ``upper`` of every loading; ``phi_mean``, ``phi_sd``;
            ``replicates``.

        Notes
        -----
        psych summarises the replicates' own factor correlations, in their own factor order; here the
        correlations of the target-rotated replicates (``U^-1 Phi U^-T``, as correlations) are
        summarised, so they refer to the same factors as the loadings.
        """
        from profiler.factors._efa_bootstrap import bootstrap_loadings

        check_is_fitted(self)
        if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or n_iter < 2:
            raise ValueError(f"n_iter must be an integer >= 2, got {n_iter!r}")
        if not 0 < confidence < 1:
            raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False)
        return bootstrap_loadings(self, X, int(n_iter), random_state, confidence)

    # -- scores -----------------------------------------------------------------------------------

    def factor_scores(self, X, method: str | None = None, standardize: str = "fit") -> np.ndarray:
        """Factor scores of responses ``X``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        method : {"regression", "bartlett", "tenberge"}, optional
            Default: :attr:`scores`.
        standardize : {"fit", "sample"}, default="fit"
            Standardise ``X`` with the fit data's means and SDs (``"fit"``; for the fit data itself this
            is psych's ``scale(x)``) or with ``X``'s own (``"sample"``, psych's
            ``factor.scores(x, f)``, also the only option after :meth:`fit_correlation`).

        Returns
        -------
        ndarray of shape (n_samples, n_factors)
            Rows with a missing response are NaN (never imputed).

        Notes
        -----
        In R: ``psych::factor.scores(x, f, method = "Thurstone" | "Bartlett" | "tenBerge")$scores``.
        """
        check_is_fitted(self)
        method = self.scores if method is None else method
        if method not in SCORE_METHODS:
            raise ValueError(f"method must be one of {SCORE_METHODS}; got {method!r}.")
        if standardize not in ("fit", "sample"):
            raise ValueError(f"standardize must be 'fit' or 'sample'; got {standardize!r}.")
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False)
        if self.missing == "raise" and np.isnan(X).any():
            raise ValueError(
                "X contains NaN and missing='raise'; fit with missing='listwise' or 'pairwise' to get NaN "
                "scores for incomplete rows."
            )
        if standardize == "fit":
            if self.mean_ is None:
                raise ValueError(
                    "This EFA was fitted to a correlation matrix, so the items' means and SDs are unknown; "
                    "use factor_scores(X, standardize='sample') to standardise X with its own."
                )
            mean, scale = self.mean_, self.scale_
        else:
            mean = np.nanmean(X, axis=0)
            scale = np.nanstd(X, axis=0, ddof=1)
        if method == self.scores:
            W = self.weights_.to_numpy()
        else:
            with small_matrix_threads():
                W = score_weights(self.correlation_, self.loadings_.to_numpy(), self.phi_.to_numpy(), method)
        return ((X - mean) / scale) @ W

    def transform(self, X):
        """Factor scores by :attr:`scores`, standardising ``X`` with the fit data's means and SDs.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_factors)
        """
        return self.factor_scores(X)

    def get_feature_names_out(self, input_features=None):
        """Output names ``factor1..k``.

        Parameters
        ----------
        input_features : array-like of str or None
            Checked against the input feature names, otherwise unused.

        Returns
        -------
        ndarray of str objects
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features)
        return np.asarray([f"factor{i + 1}" for i in range(self.n_factors)], dtype=object)
