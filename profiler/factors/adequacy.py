"""Do the data suit factoring, and how many factors to keep.

- :func:`kmo`: Kaiser-Meyer-Olkin measure of sampling adequacy, overall and per item;
- :func:`bartlett_sphericity`: Bartlett's test that the correlation matrix is an identity;
- :func:`eigenvalues`: eigenvalues of the correlation matrix (scree) and of the SMC-reduced matrix;
- :func:`parallel_analysis`: Horn's parallel analysis as ``psych::fa.parallel(fa = "fa")``;
- :func:`velicer_map`: Velicer's minimum average partial test as ``psych::vss``'s ``map``.

Each function takes item responses (a DataFrame, respondents x items) or a correlation matrix. A
square, symmetric matrix with a unit diagonal and entries in [-1, 1] is taken as a correlation matrix;
anything else as responses, whose correlations follow the explicit missing-data policy ``missing``
(``"listwise"`` by default, as the rest of :mod:`profiler.factors`; psych uses pairwise correlations:
pass ``missing="pairwise"`` to reproduce it on incomplete data).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from profiler.factors._input import (
    MISSING_POLICIES,
    CorrelationInput,
    MissingPolicy,
    correlation_from_data,
    correlation_from_matrix,
)
from profiler.factors.extraction import METHODS, extract, smc

__all__ = [
    "KMO",
    "BartlettSphericity",
    "ParallelAnalysis",
    "VelicerMAP",
    "bartlett_sphericity",
    "eigenvalues",
    "kmo",
    "parallel_analysis",
    "velicer_map",
]


# ----------------------------------------------------------------------------------------------
# Input
# ----------------------------------------------------------------------------------------------
def _looks_like_correlation(arr: np.ndarray) -> bool:
    """psych's ``isCorrelation``: square, symmetric, unit diagonal (and entries within [-1, 1])."""
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or not np.all(np.isfinite(arr)):
        return False
    return bool(
        np.allclose(arr, arr.T, atol=1e-8)
        and np.allclose(np.diag(arr), 1.0, atol=1e-8)
        and np.max(np.abs(arr)) <= 1.0 + 1e-8
    )


def _values(data: object) -> np.ndarray:
    if isinstance(data, pd.DataFrame):
        if not all(pd.api.types.is_numeric_dtype(data[c]) for c in data.columns):
            return np.empty((0, 0))  # not a correlation matrix; _input gives the precise error
        return data.to_numpy(dtype=float, na_value=np.nan)
    if isinstance(data, np.ndarray):
        return data.astype(float, copy=False) if data.dtype.kind in "biuf" else np.empty((0, 0))
    raise ValueError(f"data must be a pandas DataFrame or a 2-D numpy array, got {type(data).__name__}")


def _correlation(
    data: pd.DataFrame | np.ndarray, n_obs: int | None, missing: str
) -> tuple[CorrelationInput, np.ndarray | None]:
    """The correlation input and, for response data, the rows the correlations were computed from."""
    if missing not in MISSING_POLICIES:
        raise ValueError(f"missing must be one of {', '.join(map(repr, MISSING_POLICIES))}, got {missing!r}")
    arr = _values(data)
    if _looks_like_correlation(arr):
        return correlation_from_matrix(data, n_obs), None
    if n_obs is not None:
        raise ValueError("n_obs is only for a correlation matrix; with response data it is the number of rows")
    info = correlation_from_data(data, missing=missing)
    rows = np.asarray(arr, dtype=float)
    if missing == "listwise":
        rows = rows[~np.isnan(rows).any(axis=1)]
    elif missing == "pairwise":
        rows = rows[~np.isnan(rows).all(axis=1)]
    return info, rows


def _names(info: CorrelationInput) -> pd.Index:
    return pd.Index([str(n) for n in info.feature_names], name="item")


# ----------------------------------------------------------------------------------------------
# KMO
# ----------------------------------------------------------------------------------------------
def _kaiser_label(msa: float) -> str:
    # Kaiser (1974); Kaiser & Rice (1974)
    bounds = ((0.9, "marvelous"), (0.8, "meritorious"), (0.7, "middling"), (0.6, "mediocre"), (0.5, "miserable"))
    for bound, label in bounds:
        if msa >= bound:
            return label
    return "unacceptable"


@dataclass(frozen=True)
class KMO:
    """Kaiser-Meyer-Olkin measure of sampling adequacy.

    Attributes
    ----------
    overall : float
        Overall MSA (psych ``KMO()$MSA``).
    per_item : pandas.Series
        MSA of each item (psych ``$MSAi``), indexed by item.
    label : str
        Kaiser's (1974) wording for ``overall``: marvelous (>= .9), meritorious (>= .8), middling (>= .7),
        mediocre (>= .6), miserable (>= .5), unacceptable (< .5).
    """

    overall: float
    per_item: pd.Series = field(repr=False)
    label: str = ""

    def low_items(self, threshold: float = 0.5) -> list[str]:
        """Items whose MSA is below ``threshold`` (.5 by convention): candidates for removal."""
        return [str(i) for i in self.per_item.index[self.per_item < threshold]]


def kmo(
    data_or_corr: pd.DataFrame | np.ndarray, *, missing: MissingPolicy = "listwise"
) -> KMO:
    r"""Kaiser-Meyer-Olkin measure of sampling adequacy, overall and per item.

    With correlations :math:`r_{ij}` and partial correlations :math:`q_{ij}` (of i and j given all other
    items, :math:`q_{ij} = -S_{ij}/\sqrt{S_{ii}S_{jj}}` with :math:`S = R^{-1}`):

    .. math::

        \mathrm{MSA} = \frac{\sum_{i\ne j} r_{ij}^2}{\sum_{i\ne j} r_{ij}^2 + \sum_{i\ne j} q_{ij}^2},
        \qquad
        \mathrm{MSA}_i = \frac{\sum_{j\ne i} r_{ij}^2}{\sum_{j\ne i} r_{ij}^2 + \sum_{j\ne i} q_{ij}^2}.

    Parameters
    ----------
    data_or_corr : pandas.DataFrame or numpy.ndarray
        Responses (respondents x items) or a correlation matrix.
    missing : {"listwise", "pairwise", "raise"}, default "listwise"
        Missing-data policy for response data (see the module docstring).

    Returns
    -------
    KMO

    Raises
    ------
    ValueError
        A singular correlation matrix (partial correlations undefined), or invalid input.

    Notes
    -----
    In R: ``psych::KMO(x)`` (psych falls back to the correlations themselves when R is singular; here
    that is an error).
    """
    info, _ = _correlation(data_or_corr, None, missing)
    r = info.corr
    try:
        inv = np.linalg.inv(r)
    except np.linalg.LinAlgError:
        inv = None
    if inv is None or not np.all(np.isfinite(inv)) or np.linalg.cond(r) > 1e12:
        raise ValueError("the correlation matrix is singular: partial correlations, and so KMO, are undefined")
    d = 1.0 / np.sqrt(np.diag(inv))
    q2 = (inv * np.outer(d, d)) ** 2
    r2 = r**2
    np.fill_diagonal(q2, 0.0)
    np.fill_diagonal(r2, 0.0)
    overall = float(r2.sum() / (r2.sum() + q2.sum()))
    per_item = pd.Series(r2.sum(axis=0) / (r2.sum(axis=0) + q2.sum(axis=0)), index=_names(info), name="msa")
    return KMO(overall=overall, per_item=per_item, label=_kaiser_label(overall))


# ----------------------------------------------------------------------------------------------
# Bartlett
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BartlettSphericity:
    """Bartlett's test of sphericity (H0: the correlation matrix is the identity).

    Attributes
    ----------
    chi_square : float
    dof : int
    p_value : float
    n_obs : int
    n_items : int
    """

    chi_square: float
    dof: int
    p_value: float
    n_obs: int
    n_items: int


def bartlett_sphericity(
    data_or_corr: pd.DataFrame | np.ndarray,
    n_obs: int | None = None,
    *,
    missing: MissingPolicy = "listwise",
) -> BartlettSphericity:
    r"""Bartlett's (1951) test that the items are uncorrelated.

    .. math::

        \chi^2 = -\Big(n - 1 - \frac{2p + 5}{6}\Big) \ln |R|, \qquad df = \frac{p(p-1)}{2}.

    Parameters
    ----------
    data_or_corr : pandas.DataFrame or numpy.ndarray
        Responses (respondents x items) or a correlation matrix.
    n_obs : int, optional
        Number of respondents; required with a correlation matrix, not allowed with responses (the
        rows used are counted: complete rows under ``listwise``, the smallest pairwise count under
        ``pairwise``).
    missing : {"listwise", "pairwise", "raise"}, default "listwise"
        Missing-data policy for response data.

    Returns
    -------
    BartlettSphericity

    Raises
    ------
    ValueError
        A correlation matrix without ``n_obs``, ``n_obs`` <= p, a singular matrix, invalid input.

    Notes
    -----
    In R: ``psych::cortest.bartlett(R, n = n_obs)``. With thousands of respondents the test rejects
    for any real data; it only rules out a matrix with nothing to factor.
    """
    info, _ = _correlation(data_or_corr, n_obs, missing)
    if info.n_obs is None:
        raise ValueError("bartlett_sphericity needs n_obs (the number of respondents) with a correlation matrix")
    p = info.corr.shape[0]
    n = int(info.n_obs)
    if n <= p:
        raise ValueError(f"Bartlett's test needs more respondents than items: n_obs = {n}, items = {p}")
    sign, logdet = np.linalg.slogdet(info.corr)
    if sign <= 0:
        raise ValueError("the correlation matrix is singular or not positive definite: Bartlett's test is undefined")
    chi2 = -(n - 1 - (2 * p + 5) / 6) * logdet
    dof = p * (p - 1) // 2
    return BartlettSphericity(
        chi_square=float(chi2), dof=dof, p_value=float(stats.chi2.sf(chi2, dof)), n_obs=n, n_items=p
    )


# ----------------------------------------------------------------------------------------------
# Eigenvalues
# ----------------------------------------------------------------------------------------------
def eigenvalues(
    data_or_corr: pd.DataFrame | np.ndarray, *, missing: MissingPolicy = "listwise"
) -> pd.DataFrame:
    r"""Eigenvalues of the correlation matrix for a scree plot, with explained proportions.

    Columns (one row per component, index ``1..p``):

    - ``eigenvalue``: eigenvalues of :math:`R` (principal components; psych ``fa.parallel``'s
      ``pc.values``);
    - ``proportion``, ``cumulative``: share of the total variance :math:`p`;
    - ``smc_reduced``: eigenvalues of :math:`R` with the squared multiple correlations on the diagonal
      (psych ``fa.parallel(SMC = TRUE)``'s ``fa.values``).

    Parameters
    ----------
    data_or_corr : pandas.DataFrame or numpy.ndarray
        Responses or a correlation matrix.
    missing : {"listwise", "pairwise", "raise"}, default "listwise"

    Returns
    -------
    pandas.DataFrame

    Notes
    -----
    In R: ``eigen(R)$values``; the Kaiser rule (eigenvalue > 1) overestimates the number of factors:
    prefer :func:`parallel_analysis` or :func:`velicer_map`.
    """
    info, _ = _correlation(data_or_corr, None, missing)
    r = info.corr
    ev = np.linalg.eigvalsh(r)[::-1]
    reduced = r.copy()
    np.fill_diagonal(reduced, smc(r))
    p = r.shape[0]
    frame = pd.DataFrame(
        {
            "eigenvalue": ev,
            "proportion": ev / p,
            "cumulative": np.cumsum(ev) / p,
            "smc_reduced": np.linalg.eigvalsh(reduced)[::-1],
        },
        index=pd.RangeIndex(1, p + 1, name="component"),
    )
    return frame


# ----------------------------------------------------------------------------------------------
# Parallel analysis
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParallelAnalysis:
    """Horn's parallel analysis (psych ``fa.parallel(fa = "fa")``).

    Attributes
    ----------
    n_factors : int
        Suggested number of factors: the factors before the first one whose observed eigenvalue does
        not exceed the simulated one (mean, or ``quantile`` if given).
    n_components : int
        The same rule for principal components (eigenvalues of R against random-data eigenvalues).
    table : pandas.DataFrame
        One row per factor (index ``1..p``): ``observed`` (eigenvalues of the reduced correlation matrix
        of a 1-factor fit, psych's ``fa.values``), ``simulated`` (mean over normal random data of the
        same shape, psych's ``fa.sim``), ``simulated_quantile`` (if ``quantile`` was given),
        ``resampled`` (mean over column-wise bootstrap resamples of the data, psych's ``fa.simr``;
        NaN for a correlation-matrix input), and the component counterparts ``observed_pc``,
        ``simulated_pc``, ``resampled_pc``.
    simulated_values : numpy.ndarray of shape (n_iter, p)
        Factor eigenvalues of each simulated data set (for other summaries).
    method, n_iter, n_obs, quantile, random_state :
        Settings used; ``random_state`` as given (an int seed reproduces the result exactly).
    """

    n_factors: int
    n_components: int
    table: pd.DataFrame = field(repr=False)
    simulated_values: np.ndarray = field(repr=False)
    method: str
    n_iter: int
    n_obs: int
    quantile: float | None
    random_state: int | None


def _fa_values(corr: np.ndarray, method: str) -> np.ndarray:
    return extract(corr, 1, method).values


def _count_above(observed: np.ndarray, reference: np.ndarray) -> int:
    """psych: ``which(!(observed > reference))[1] - 1`` (all p when every value is above)."""
    below = np.flatnonzero(~(observed > reference))
    return int(below[0]) if below.size else int(observed.size)


def parallel_analysis(
    data: pd.DataFrame | np.ndarray,
    n_iter: int = 20,
    random_state: int | np.random.Generator | None = None,
    method: str = "minres",
    *,
    n_obs: int | None = None,
    quantile: float | None = None,
    resample: bool = True,
    missing: MissingPolicy = "listwise",
) -> ParallelAnalysis:
    r"""Parallel analysis: keep the factors whose eigenvalues beat those of random data.

    Following ``psych::fa.parallel(x, fa = "fa")``:

    1. observed: the eigenvalues of :math:`R - \mathrm{diag}(\hat\psi)` (communalities on the
       diagonal) of a one-factor fit by ``method`` started from SMCs (psych's ``fa(R, 1)$values``);
    2. simulated: the same for the correlations of ``n_iter`` data sets of independent standard normal
       variables with the data's shape (n x p);
    3. resampled (response data only): the same for ``n_iter`` data sets in which every column is
       bootstrapped independently (psych's resampling, which keeps each item's distribution);
    4. the suggested number of factors is the count of leading observed eigenvalues that exceed the
       mean simulated eigenvalue (or its ``quantile``).

    Parameters
    ----------
    data : pandas.DataFrame or numpy.ndarray
        Responses, or a correlation matrix together with ``n_obs`` (then only simulation is possible).
    n_iter : int, default 20
        Number of simulated (and resampled) data sets (psych's default).
    random_state : int, numpy.random.Generator or None
        Seed of numpy's generator. R's ``set.seed`` streams cannot be reproduced in numpy: simulated
        eigenvalues agree with psych in distribution, not digit for digit. The observed eigenvalues
        do not depend on it.
    method : {"minres", "ml", "pa"}, default "minres"
        Extraction method for every fit (psych's ``fm``).
    n_obs : int, optional
        Number of respondents, only (and then required) with a correlation matrix.
    quantile : float, optional
        Compare with this quantile of the simulated eigenvalues instead of their mean (psych ``quant``,
        which psych only uses when given explicitly).
    resample : bool, default True
        Also compute the resampled eigenvalues (reported, not used for the count, as psych with
        ``sim = TRUE``).
    missing : {"listwise", "pairwise", "raise"}, default "listwise"
        Missing-data policy (see the module docstring). Simulated data have as many rows as the
        data used: the complete rows (listwise) or all rows with an answer (pairwise).

    Returns
    -------
    ParallelAnalysis

    Raises
    ------
    ValueError
        A correlation matrix without ``n_obs``, ``n_iter`` < 1, an unknown ``method``, ``quantile``
        outside (0, 1), invalid data.

    Notes
    -----
    In R: ``psych::fa.parallel(x, fm = "minres", fa = "fa", n.iter = 20)``. psych starts the fits to
    random data from unit communalities (``SMC = FALSE``) and the observed fit from SMCs; here every
    fit starts from SMCs, which changes nothing but the path to the same minimum.
    """
    if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or n_iter < 1:
        raise ValueError(f"n_iter must be a positive integer, got {n_iter!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, got {method!r}")
    if quantile is not None and not (isinstance(quantile, (int, float)) and 0.0 < quantile < 1.0):
        raise ValueError(f"quantile must lie strictly between 0 and 1, got {quantile!r}")
    seed = random_state if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool) else None
    rng = np.random.default_rng(random_state)

    info, rows = _correlation(data, n_obs, missing)
    r = info.corr
    p = r.shape[0]
    if rows is None:
        if info.n_obs is None:
            raise ValueError("parallel_analysis needs n_obs (the number of respondents) with a correlation matrix")
        n = int(info.n_obs)
    else:
        n = rows.shape[0]
    if n <= 2:
        raise ValueError(f"parallel analysis needs at least 3 respondents, got {n}")

    observed = _fa_values(r, method)
    observed_pc = np.linalg.eigvalsh(r)[::-1]

    sim_fa = np.empty((n_iter, p))
    sim_pc = np.empty((n_iter, p))
    for it in range(n_iter):
        c = np.corrcoef(rng.standard_normal((n, p)), rowvar=False)
        sim_pc[it] = np.linalg.eigvalsh(c)[::-1]
        sim_fa[it] = _fa_values(c, method)

    res_fa = np.full((n_iter, p), np.nan)
    res_pc = np.full((n_iter, p), np.nan)
    if resample and rows is not None:
        for it in range(n_iter):
            for _attempt in range(100):  # psych redraws until every correlation is defined
                idx = rng.integers(0, n, size=(n, p))
                sample = np.take_along_axis(rows, idx, axis=0)
                try:
                    c = correlation_from_data(sample, missing="pairwise" if missing == "pairwise" else "raise").corr
                except ValueError:
                    continue
                break
            else:
                raise ValueError("could not draw a resample with defined correlations in 100 attempts")
            res_pc[it] = np.linalg.eigvalsh(c)[::-1]
            res_fa[it] = _fa_values(c, method)

    simulated = sim_fa.mean(axis=0)
    simulated_pc = sim_pc.mean(axis=0)
    table = pd.DataFrame(
        {
            "observed": observed,
            "simulated": simulated,
            "resampled": res_fa.mean(axis=0),
            "observed_pc": observed_pc,
            "simulated_pc": simulated_pc,
            "resampled_pc": res_pc.mean(axis=0),
        },
        index=pd.RangeIndex(1, p + 1, name="factor"),
    )
    ref_fa, ref_pc = simulated, simulated_pc
    if quantile is not None:
        ref_fa = np.quantile(sim_fa, quantile, axis=0)
        ref_pc = np.quantile(sim_pc, quantile, axis=0)
        table.insert(2, "simulated_quantile", ref_fa)
        table["simulated_pc_quantile"] = ref_pc
    return ParallelAnalysis(
        n_factors=_count_above(observed, ref_fa),
        n_components=_count_above(observed_pc, ref_pc),
        table=table,
        simulated_values=sim_fa,
        method=method,
        n_iter=int(n_iter),
        n_obs=n,
        quantile=quantile,
        random_state=int(seed) if seed is not None else None,
    )


# ----------------------------------------------------------------------------------------------
# Velicer's MAP
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VelicerMAP:
    """Velicer's minimum average partial test.

    Attributes
    ----------
    n_factors : int
        Number of components minimising the average squared partial correlation (psych's rule,
        searched over 1..``max_components``).
    n_factors_fourth_power : int
        The same for the average fourth power (Velicer, Eaton & Fava 2000).
    curve : pandas.DataFrame
        Index ``0..max_components`` (components partialled out; row 0 is the raw correlations, as
        O'Connor 2000 reports); columns ``squared`` (psych's ``vss()$map`` for rows >= 1) and
        ``fourth_power``.
    """

    n_factors: int
    n_factors_fourth_power: int
    curve: pd.DataFrame = field(repr=False)


def velicer_map(
    data_or_corr: pd.DataFrame | np.ndarray,
    max_components: int | None = 8,
    *,
    missing: MissingPolicy = "listwise",
) -> VelicerMAP:
    r"""Velicer's (1976) MAP: partial out principal components until the partial correlations are smallest.

    With :math:`A_m` the loadings of the first :math:`m` principal components of :math:`R`, the partial
    covariance is :math:`C_m = R - A_m A_m'`, the partial correlations
    :math:`R^*_m = D^{-1/2} C_m D^{-1/2}` (:math:`D = \mathrm{diag}\, C_m`), and

    .. math:: \mathrm{MAP}_m = \frac{\sum_{i \ne j} (r^*_{m,ij})^2}{p(p-1)},
        \qquad \mathrm{MAP4}_m = \frac{\sum_{i \ne j} (r^*_{m,ij})^4}{p(p-1)}.

    The suggested number of factors is the :math:`m \ge 1` with the smallest value.

    Parameters
    ----------
    data_or_corr : pandas.DataFrame or numpy.ndarray
        Responses or a correlation matrix.
    max_components : int or None, default 8
        Largest number of components partialled out (psych ``vss``'s ``n = 8``); capped at p - 1;
        None means p - 1.
    missing : {"listwise", "pairwise", "raise"}, default "listwise"

    Returns
    -------
    VelicerMAP

    Notes
    -----
    In R: ``psych::vss(x, n = 8)$map`` (the squared version, for 1..n components) and
    ``psych::VSS``'s printed "Velicer MAP achieves a minimum ... with n factors".
    """
    info, _ = _correlation(data_or_corr, None, missing)
    r = info.corr
    p = r.shape[0]
    if max_components is None:
        max_components = p - 1
    if isinstance(max_components, bool) or not isinstance(max_components, (int, np.integer)) or max_components < 1:
        raise ValueError(f"max_components must be a positive integer or None, got {max_components!r}")
    m_max = min(int(max_components), p - 1)

    w, v = np.linalg.eigh(r)
    w, v = w[::-1], v[:, ::-1]
    comp = v * np.sqrt(np.maximum(w, 0.0))
    off = ~np.eye(p, dtype=bool)
    squared = np.empty(m_max + 1)
    fourth = np.empty(m_max + 1)
    for m in range(m_max + 1):
        c = r - comp[:, :m] @ comp[:, :m].T
        d = 1.0 / np.sqrt(np.diag(c))
        partial = (c * np.outer(d, d))[off]
        squared[m] = np.sum(partial**2) / (p * (p - 1))
        fourth[m] = np.sum(partial**4) / (p * (p - 1))
    curve = pd.DataFrame(
        {"squared": squared, "fourth_power": fourth}, index=pd.RangeIndex(0, m_max + 1, name="components")
    )
    return VelicerMAP(
        n_factors=int(np.argmin(squared[1:]) + 1),
        n_factors_fourth_power=int(np.argmin(fourth[1:]) + 1),
        curve=curve,
    )
