"""Internal-consistency reliability: Cronbach's alpha, item statistics, standard error of measurement.

Every number here agrees with R's ``psych::alpha`` (psych 2.2.9) when the same items, keys and
missing-data policy are used; see ``tests/factors/test_reliability.py`` for the comparison.

Keys follow psych's convention: a list of item names where a leading ``-`` marks a reverse-keyed
item (``["-A1", "A2", "A3"]``), or a mapping ``scale name -> key list`` to analyse several scales
at once. Reverse keying is ``min + max - x`` on the *declared* response range (``item_range``),
never on the range observed in the data (psych's ``alpha`` and ``scoreItems`` default to the observed
minimum and maximum, which shift when nobody chose an extreme answer; the R reference reverses the
1..6 bfi items as ``7 - x``).

Missing answers are never imputed. The policy is explicit (``missing=``): ``"listwise"`` (default,
as everywhere in :mod:`profiler.factors`), ``"pairwise"`` (psych's default ``use = "pairwise"``) or
``"raise"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
import numpy as np
import pandas as pd
from scipy import stats

from profiler.documents import did_you_mean
from profiler.factors._input import MISSING_POLICIES, MissingPolicy

__all__ = [
    "Alpha",
    "ScaleAlphas",
    "cronbach_alpha",
    "item_statistics",
    "standard_error_of_measurement",
]

_MISSING_POLICIES = MISSING_POLICIES

Keys = Sequence[str] | Mapping[str, Sequence[str]]


# ----------------------------------------------------------------------------------------------
# Input handling shared with omega.py
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _KeyedItems:
    """Items of one scale: names in data order of the key, and which are reverse keyed."""

    names: tuple[str, ...]
    reversed: tuple[bool, ...]

    @property
    def any_reversed(self) -> bool:
        return any(self.reversed)


def _as_frame(data: pd.DataFrame | np.ndarray, what: str = "data") -> pd.DataFrame:
    """Accept a DataFrame or a 2-D array (columns named V1..Vp, as R does) and check it is numeric."""
    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise ValueError(f"{what} must be 2-dimensional (respondents x items), got {data.ndim} dimension(s)")
        frame = pd.DataFrame(data, columns=[f"V{j + 1}" for j in range(data.shape[1])])
    else:
        raise ValueError(f"{what} must be a pandas DataFrame or a 2-D numpy array, got {type(data).__name__}")
    if frame.columns.has_duplicates:
        dup = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise ValueError(f"{what} has duplicate column names: {', '.join(dup)}")
    return frame


def _parse_key_list(keys: Sequence[str], columns: pd.Index, scale: str | None = None) -> _KeyedItems:
    where = f" in scale {scale!r}" if scale is not None else ""
    if isinstance(keys, str) or not isinstance(keys, Sequence):
        raise ValueError(
            f"keys{where} must be a list of item names such as ['-A1', 'A2'] (a leading '-' reverses "
            f"an item), got {type(keys).__name__}"
        )
    names: list[str] = []
    rev: list[bool] = []
    known = [str(c) for c in columns]
    for key in keys:
        if not isinstance(key, str) or not key.strip("-+ "):
            raise ValueError(f"every key{where} must be an item name such as 'A1' or '-A1', got {key!r}")
        key = key.strip()
        reverse = key.startswith("-")
        name = key.lstrip("-+").strip()
        if name not in columns:
            raise ValueError(f"item {name!r}{where} is not a column of the data{did_you_mean(name, known)}")
        if name in names:
            raise ValueError(f"item {name!r} appears more than once in the keys{where}")
        names.append(name)
        rev.append(reverse)
    if len(names) < 2:
        raise ValueError(f"a scale needs at least 2 items{where}, got {len(names)}")
    return _KeyedItems(tuple(names), tuple(rev))


def _check_item_range(item_range: tuple[float, float] | None) -> tuple[float, float] | None:
    if item_range is None:
        return None
    try:
        lo, hi = (float(v) for v in item_range)
    except (TypeError, ValueError):
        raise ValueError(f"item_range must be a pair (min, max) such as (1, 6), got {item_range!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo >= hi:
        raise ValueError(f"item_range must be a pair (min, max) with min < max, got {item_range!r}")
    return lo, hi


def _keyed_values(
    frame: pd.DataFrame, items: _KeyedItems, item_range: tuple[float, float] | None, scale: str | None = None
) -> np.ndarray:
    """Numeric item values with reverse-keyed items turned around as ``min + max - x``."""
    where = f" in scale {scale!r}" if scale is not None else ""
    sub = frame.loc[:, list(items.names)]
    non_numeric = [str(c) for c in sub.columns if not pd.api.types.is_numeric_dtype(sub[c])]
    if non_numeric:
        raise ValueError(f"items must be numeric; not numeric{where}: {', '.join(non_numeric)}")
    values = sub.to_numpy(dtype=float, na_value=np.nan)
    if np.isinf(values).any():
        bad = [items.names[j] for j in np.flatnonzero(np.isinf(values).any(axis=0))]
        raise ValueError(f"items contain infinite values{where}: {', '.join(bad)}")
    if item_range is not None:
        lo, hi = item_range
        outside = np.flatnonzero(((values < lo) | (values > hi)).any(axis=0))
        if outside.size:
            bad = ", ".join(items.names[j] for j in outside)
            raise ValueError(f"values outside the declared item_range {lo:g}..{hi:g}{where}: {bad}")
    if items.any_reversed:
        if item_range is None:
            rev = ", ".join(n for n, r in zip(items.names, items.reversed) if r)
            raise ValueError(
                f"reverse-keyed items{where} ({rev}) need the response range: pass item_range=(min, max), "
                "e.g. item_range=(1, 6) reverses as 7 - x"
            )
        lo, hi = item_range
        flip = np.asarray(items.reversed)
        values = values.copy()  # pandas may hand out a read-only view of the caller's frame
        values[:, flip] = lo + hi - values[:, flip]
    return values


def _apply_missing_policy(values: np.ndarray, missing: str, scale: str | None = None) -> np.ndarray:
    if missing not in _MISSING_POLICIES:
        raise ValueError(f"missing must be one of {', '.join(map(repr, _MISSING_POLICIES))}, got {missing!r}")
    where = f" in scale {scale!r}" if scale is not None else ""
    na = np.isnan(values)
    has_na = na.any(axis=1)
    if missing == "raise" and has_na.any():
        raise ValueError(
            f"{int(has_na.sum())} row(s) have missing item values{where}; choose missing='pairwise' (as psych) "
            "or missing='listwise' (complete rows only)"
        )
    if missing == "listwise":
        return values[~has_na]
    # pairwise: rows without any answer carry no information at all
    return values[~na.all(axis=1)]


def _pairwise_cov(x: np.ndarray) -> np.ndarray:
    """Covariances over the rows where both items are present, with pair-specific means.

    This is R's ``cov(x, use = "pairwise")``; with complete data it is the ordinary covariance.
    """
    na = np.isnan(x)
    if not na.any():
        return np.cov(x, rowvar=False)
    k = x.shape[1]
    cov = np.full((k, k), np.nan)
    for i in range(k):
        for j in range(i, k):
            ok = ~(na[:, i] | na[:, j])
            if ok.sum() >= 2:
                cov[i, j] = cov[j, i] = np.cov(x[ok, i], x[ok, j])[0, 1]
    return cov


# ----------------------------------------------------------------------------------------------
# Formulas (numpy in, numpy out)
# ----------------------------------------------------------------------------------------------
def _alpha_from_cov(cov: np.ndarray) -> tuple[float, float, float]:
    """Raw alpha, standardized alpha and average inter-item r of a covariance matrix."""
    k = cov.shape[0]
    total = cov.sum()
    raw = (1.0 - np.trace(cov) / total) * k / (k - 1)
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sd, sd)
    sum_r = corr.sum()
    std = (1.0 - k / sum_r) * k / (k - 1)
    average_r = (sum_r - k) / (k * (k - 1))
    return float(raw), float(std), float(average_r)


def _alpha_ase(cov: np.ndarray, n: int) -> float:
    """psych's asymptotic standard error of raw alpha (Duhachek & Iacobucci 2004, psych's ``ase``)."""
    k = cov.shape[0]
    total = cov.sum()
    tr = np.trace(cov)
    cc = cov @ cov
    q = (2 * k**2 / ((k - 1) ** 2 * total**3)) * (total * (np.trace(cc) + tr**2) - 2 * tr * cc.sum())
    return float(np.sqrt(q / n))


def _pairwise_corr(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation over the rows where both are present (R's cor(use = "pairwise"))."""
    ok = ~(np.isnan(a) | np.isnan(b))
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def _feldt_interval(alpha: float, n: int, k: int, confidence: float) -> tuple[float, float]:
    """Feldt (1965): (1 - alpha_pop) / (1 - alpha_hat) ~ F(n - 1, (n - 1)(k - 1))."""
    if n < 2:
        return float("nan"), float("nan")
    df1, df2 = n - 1, (n - 1) * (k - 1)
    tail = (1.0 - confidence) / 2.0
    lower = 1.0 - (1.0 - alpha) * stats.f.ppf(1.0 - tail, df1, df2)
    upper = 1.0 - (1.0 - alpha) * stats.f.ppf(tail, df1, df2)
    return float(lower), float(upper)


def standard_error_of_measurement(sd: float | np.ndarray, reliability: float | np.ndarray) -> float | np.ndarray:
    r"""Standard error of measurement of a score.

    .. math:: \mathrm{SEM} = \mathrm{SD} \sqrt{1 - r_{xx}}

    Parameters
    ----------
    sd : float or array_like
        Standard deviation of the observed scores (same unit as the score: item mean or sum).
    reliability : float or array_like
        Reliability of the score in [0, 1] (e.g. alpha or omega total).

    Returns
    -------
    float or numpy.ndarray
        The SEM, in the unit of ``sd``. A band around an observed score is ``score +/- z * SEM``.

    Raises
    ------
    ValueError
        If ``sd`` is negative or not finite, or ``reliability`` lies outside [0, 1].

    Notes
    -----
    In R there is no psych function; the formula is the classical test theory one (Lord & Novick 1968).
    """
    sd_arr = np.asarray(sd, dtype=float)
    rel_arr = np.asarray(reliability, dtype=float)
    if not np.all(np.isfinite(sd_arr)) or np.any(sd_arr < 0):
        raise ValueError(f"sd must be finite and >= 0, got {sd!r}")
    if not np.all(np.isfinite(rel_arr)) or np.any((rel_arr < 0) | (rel_arr > 1)):
        raise ValueError(
            f"reliability must lie in [0, 1], got {reliability!r} (a negative alpha means the items do not "
            "measure one thing: check the keys)"
        )
    sem = sd_arr * np.sqrt(1.0 - rel_arr)
    return float(sem) if sem.ndim == 0 else sem


# ----------------------------------------------------------------------------------------------
# Public results
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Alpha:
    """Cronbach's alpha of one scale, as ``psych::alpha``.

    Attributes
    ----------
    raw_alpha : float
        Alpha from the item covariances (psych ``raw_alpha``).
    std_alpha : float
        Alpha from the item correlations (psych ``std.alpha``).
    average_r : float
        Mean inter-item correlation (psych ``average_r``).
    ci_lower, ci_upper : float
        Feldt (1965) confidence interval for ``raw_alpha`` at level ``confidence``.
    confidence : float
        Level of the interval.
    ase : float
        psych's asymptotic standard error of ``raw_alpha`` (``alpha$total$ase``).
    n_obs : int
        Respondents used (rows with at least one answered item; complete rows under ``listwise``).
    n_obs_interval : int
        Respondents used for the Feldt interval: ``n_obs`` for complete data and ``listwise``, the
        smallest number of respondents answering any pair of items under ``pairwise``.
    n_items : int
        Number of items.
    scale_mean, scale_sd : float
        Mean and SD of the respondents' item means (psych ``mean``, ``sd`` with ``cumulative=FALSE``).
    sem : float
        Standard error of measurement of the item-mean score, ``scale_sd * sqrt(1 - raw_alpha)``
        (NaN if alpha is negative).
    items : pandas.DataFrame
        Item statistics, one row per item (see :func:`item_statistics`).
    missing : str
        The missing-data policy used.
    """

    raw_alpha: float
    std_alpha: float
    average_r: float
    ci_lower: float
    ci_upper: float
    confidence: float
    ase: float
    n_obs: int
    n_obs_interval: int
    n_items: int
    scale_mean: float
    scale_sd: float
    sem: float
    items: pd.DataFrame = field(repr=False)
    missing: str = "listwise"

    def flagged(self, threshold: float = 0.70) -> bool:
        """True when raw alpha is below ``threshold`` (.70 by convention; use .90 for high stakes)."""
        return bool(self.raw_alpha < threshold)


@dataclass(frozen=True)
class ScaleAlphas:
    """Alpha of several scales (keys given as a mapping ``scale -> key list``).

    Attributes
    ----------
    scales : Mapping[str, Alpha]
        Read-only mapping from scale name to its :class:`Alpha`, in the order of the keys.
    """

    scales: Mapping[str, Alpha]

    def __getitem__(self, scale: str) -> Alpha:
        return self.scales[scale]

    def __iter__(self):
        return iter(self.scales)

    def __len__(self) -> int:
        return len(self.scales)

    def to_frame(self) -> pd.DataFrame:
        """One row per scale with the scalar results (no item statistics)."""
        cols = [
            "raw_alpha", "std_alpha", "average_r", "ci_lower", "ci_upper", "ase",
            "n_obs", "n_items", "scale_mean", "scale_sd", "sem",
        ]  # fmt: skip
        rows = {name: {c: getattr(a, c) for c in cols} for name, a in self.scales.items()}
        frame = pd.DataFrame.from_dict(rows, orient="index", columns=cols)
        frame.index.name = "scale"
        return frame


# ----------------------------------------------------------------------------------------------
# Computation
# ----------------------------------------------------------------------------------------------
_ITEM_COLUMNS = [
    "reversed", "n", "mean", "sd", "raw_r", "std_r", "r_drop", "alpha_if_deleted", "std_alpha_if_deleted",
]  # fmt: skip


def _alpha_one_scale(
    x: np.ndarray, items: _KeyedItems, missing: str, confidence: float
) -> Alpha:
    k = x.shape[1]
    if x.shape[0] < 2:
        raise ValueError(f"alpha needs at least 2 respondents, got {x.shape[0]}")
    cov = _pairwise_cov(x)
    if np.isnan(cov).any():
        raise ValueError("some pairs of items were never answered together: their covariance is undefined")
    item_var = np.diag(cov)
    if np.any(item_var <= 0):
        bad = ", ".join(str(c) for c, v in zip(items.names, item_var) if v <= 0)
        raise ValueError(f"items without variance cannot enter alpha: {bad}")

    raw, std, average_r = _alpha_from_cov(cov)
    answered = ~np.isnan(x)
    n_obs = int(x.shape[0])
    pair_n = answered.T.astype(int) @ answered.astype(int)
    n_interval = int(pair_n.min())
    lower, upper = _feldt_interval(raw, n_interval, k, confidence)

    total = np.nanmean(x, axis=1)  # psych: rowMeans(x, na.rm = TRUE)
    scale_mean = float(np.mean(total))
    scale_sd = float(np.std(total, ddof=1))
    sem = scale_sd * np.sqrt(1.0 - raw) if 0.0 <= raw <= 1.0 else float("nan")

    corr = cov / np.sqrt(np.outer(item_var, item_var))
    if k > 2:
        drops = [_alpha_from_cov(np.delete(np.delete(cov, i, 0), i, 1)) for i in range(k)]
        alpha_drop = np.array([d[0] for d in drops])
        std_drop = np.array([d[1] for d in drops])
    else:  # alpha of a single remaining item is undefined
        alpha_drop = std_drop = np.full(k, np.nan)
    col_sum = cov.sum(axis=0)
    total_sum = cov.sum()
    rest_var = total_sum - 2 * col_sum + item_var  # variance of the sum of the other items
    r_drop = (col_sum - item_var) / np.sqrt(item_var * rest_var)
    std_r = corr.sum(axis=0) / np.sqrt(corr.sum())
    if np.isnan(x).any():
        raw_r = np.array([_pairwise_corr(total, x[:, j]) for j in range(k)])
    else:  # cov(item mean, x_j) = sum_i c_ij / k
        raw_r = (col_sum / k) / np.sqrt(item_var * total_sum / k**2)

    items = pd.DataFrame(
        {
            "reversed": list(items.reversed),
            "n": answered.sum(axis=0),
            "mean": np.nanmean(x, axis=0),
            "sd": np.sqrt(item_var),
            "raw_r": raw_r,
            "std_r": std_r,
            "r_drop": r_drop,
            "alpha_if_deleted": alpha_drop,
            "std_alpha_if_deleted": std_drop,
        },
        index=pd.Index(list(items.names), name="item"),
    )[_ITEM_COLUMNS]
    return Alpha(
        raw_alpha=raw,
        std_alpha=std,
        average_r=average_r,
        ci_lower=lower,
        ci_upper=upper,
        confidence=confidence,
        ase=_alpha_ase(cov, n_obs),
        n_obs=n_obs,
        n_obs_interval=n_interval,
        n_items=k,
        scale_mean=scale_mean,
        scale_sd=scale_sd,
        sem=float(sem),
        items=items,
        missing=missing,
    )


def _scales(frame: pd.DataFrame, keys: Keys | None) -> dict[str | None, _KeyedItems]:
    if keys is None:
        return {None: _parse_key_list([str(c) for c in frame.columns], frame.columns)}
    if isinstance(keys, Mapping):
        if not keys:
            raise ValueError("keys is an empty mapping: give at least one scale")
        return {str(name): _parse_key_list(k, frame.columns, scale=str(name)) for name, k in keys.items()}
    return {None: _parse_key_list(keys, frame.columns)}


def cronbach_alpha(
    data: pd.DataFrame | np.ndarray,
    keys: Keys | None = None,
    *,
    item_range: tuple[float, float] | None = None,
    missing: MissingPolicy = "listwise",
    confidence: float = 0.95,
) -> Alpha | ScaleAlphas:
    r"""Cronbach's alpha with item statistics, as ``psych::alpha``.

    With :math:`k` items, item covariance matrix :math:`C` and correlation matrix :math:`R`:

    .. math::

        \alpha_{raw} = \frac{k}{k-1}\Big(1 - \frac{\operatorname{tr} C}{\mathbf 1' C \mathbf 1}\Big),\qquad
        \alpha_{std} = \frac{k}{k-1}\Big(1 - \frac{k}{\mathbf 1' R \mathbf 1}\Big),\qquad
        \bar r = \frac{\mathbf 1' R \mathbf 1 - k}{k(k-1)}.

    The confidence interval is Feldt's (1965), exact under the parallel-items model with normal
    errors: :math:`(1-\alpha)/(1-\hat\alpha) \sim F(n-1, (n-1)(k-1))`, so the interval is
    :math:`[1 - (1-\hat\alpha) F_{1-\gamma/2},\ 1 - (1-\hat\alpha) F_{\gamma/2}]`.

    Parameters
    ----------
    data : pandas.DataFrame or numpy.ndarray
        Respondents x items, numeric; NaN marks a missing answer.
    keys : list of str or mapping of str to list of str, optional
        psych-style keys: ``["-A1", "A2", "A3"]`` (leading ``-`` = reverse keyed), or a mapping
        ``{"agreeableness": [...], "conscientiousness": [...]}`` for several scales. Default: all
        columns, none reversed.
    item_range : (float, float), optional
        Declared response range ``(min, max)`` of the items, e.g. ``(1, 6)``. Required when any item is
        reverse keyed (reversal is ``min + max - x``); when given, values outside it are an error.
    missing : {"listwise", "pairwise", "raise"}, default "listwise"
        Never imputation. ``"listwise"`` (the default throughout :mod:`profiler.factors`): only
        respondents who answered every item of the scale. ``"pairwise"`` (psych's default
        ``use = "pairwise"``; choose it to reproduce psych on incomplete data): covariances from all
        respondents who answered both items, scale scores as the mean of the answered items.
        ``"raise"``: missing answers are an error. With several scales the policy applies to each
        scale's own items (a respondent missing an extraversion item still counts for openness).
    confidence : float, default 0.95
        Level of the Feldt interval.

    Returns
    -------
    Alpha or ScaleAlphas
        :class:`Alpha` for a key list (or no keys), :class:`ScaleAlphas` for a mapping of scales.

    Raises
    ------
    ValueError
        Unknown or duplicate items, fewer than 2 items or respondents, non-numeric or constant items,
        reverse keys without ``item_range``, values outside ``item_range``, an unknown ``missing``.

    Notes
    -----
    In R: ``psych::alpha(x, check.keys = FALSE)`` after reversing the keyed items as ``min + max - x``
    (psych's own reversal uses the observed min and max; pass the declared range here instead).
    ``scale_mean`` / ``scale_sd`` are of the item means (psych's ``cumulative = FALSE``). psych does not
    report a Feldt interval (``psych::alpha.ci`` does); ``ase`` is psych's ``alpha$total$ase``.

    Examples
    --------
    >>> a = cronbach_alpha(bfi, ["-A1", "A2", "A3", "A4", "A5"], item_range=(1, 6))  # doctest: +SKIP
    >>> round(a.raw_alpha, 2)  # doctest: +SKIP
    0.7
    """
    frame = _as_frame(data)
    rng = _check_item_range(item_range)
    if not (isinstance(confidence, (int, float)) and 0.0 < confidence < 1.0):
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")
    if missing not in _MISSING_POLICIES:
        raise ValueError(f"missing must be one of {', '.join(map(repr, _MISSING_POLICIES))}, got {missing!r}")
    results: dict[str | None, Alpha] = {}
    for name, items in _scales(frame, keys).items():
        values = _apply_missing_policy(_keyed_values(frame, items, rng, name), missing, name)
        results[name] = _alpha_one_scale(values, items, missing, float(confidence))
    if isinstance(keys, Mapping):
        return ScaleAlphas(MappingProxyType({str(k): v for k, v in results.items()}))
    return results[None]


def item_statistics(
    data: pd.DataFrame | np.ndarray,
    keys: Keys | None = None,
    *,
    item_range: tuple[float, float] | None = None,
    missing: MissingPolicy = "listwise",
) -> pd.DataFrame:
    r"""Item statistics of a scale, as ``psych::alpha``'s ``item.stats`` and ``alpha.drop``.

    Columns (one row per item, index ``item``; with a mapping of scales a ``(scale, item)`` index):

    - ``reversed``: whether the item was reverse keyed;
    - ``n``, ``mean``, ``sd``: answered count, mean and SD of the keyed item;
    - ``raw_r``: correlation of the item with the scale score (item mean), psych ``raw.r``;
    - ``std_r``: the same from the correlation matrix, :math:`\sum_j r_{ij} / \sqrt{\mathbf 1'R\mathbf 1}`
      (psych ``std.r``);
    - ``r_drop``: corrected item-total correlation, the item against the sum of the *other* items,
      :math:`(\sum_j c_{ij} - c_{ii}) / \sqrt{c_{ii}\, \mathbf 1' C_{-i} \mathbf 1}` (psych ``r.drop``);
    - ``alpha_if_deleted`` / ``std_alpha_if_deleted``: raw and standardized alpha without the item
      (psych ``alpha.drop``; NaN for 2-item scales).

    Parameters
    ----------
    data, keys, item_range, missing
        As for :func:`cronbach_alpha`.

    Returns
    -------
    pandas.DataFrame

    Notes
    -----
    In R: ``a <- psych::alpha(x); cbind(a$item.stats, a$alpha.drop)``.
    """
    result = cronbach_alpha(data, keys, item_range=item_range, missing=missing)
    if isinstance(result, ScaleAlphas):
        return pd.concat({name: a.items for name, a in result.scales.items()}, names=["scale", "item"])
    return result.items
