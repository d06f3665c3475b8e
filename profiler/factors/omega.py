"""McDonald's omega: omega total and omega hierarchical by the Schmid-Leiman transformation (psych::omega).

The steps are those of ``psych::omega`` / ``psych::schmid`` (psych 2.2.9):

1. correlations of the (keyed) items;
2. ``n_factors`` factors by minres (``fm = "minres"``), varimax-rotated (psych's ``orth.load``), then
   rotated obliquely by oblimin without Kaiser normalisation (``GPArotation::oblimin``);
3. a general factor: one minres factor of the factor correlations (3 or more group factors); with
   2 group factors the model is not identified and ``option`` decides (psych's ``"equal"`` default sets
   both general loadings to ``sqrt(|phi_12|)``); with 1 factor the factor itself;
4. Schmid-Leiman: general loadings ``g = P gamma``, group loadings ``P_j sqrt(1 - gamma_j^2)``;
5. items with a negative general loading are flipped (``flip = TRUE``), and with ``V`` the sum of the
   (flipped) correlation matrix and ``u^2 = 1 - h^2`` the uniquenesses of the extraction:

   omega_h = (sum g)^2 / V,  omega_total = (V - sum u^2) / V,  alpha = (V - p) / V * p / (p - 1).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from profiler.factors._input import MissingPolicy, correlation_from_data
from profiler.factors.adequacy import _looks_like_correlation, _values
from profiler.factors.efa import HeywoodWarning
from profiler.factors.extraction import METHODS, extract, smc
from profiler.factors.ordinal_reliability import keyed_polychoric
from profiler.factors.reliability import (
    _apply_missing_policy,
    _as_frame,
    _check_item_range,
    _keyed_values,
    _parse_key_list,
)
from profiler.factors.rotation import rotate

__all__ = ["Omega", "omega"]

_OPTIONS = ("equal", "first", "second")
_ROTATIONS = ("oblimin", "quartimin", "geomin", "promax")  # oblique only: no general factor otherwise


@dataclass(frozen=True)
class Omega:
    """McDonald's omega coefficients of a scale, as ``psych::omega``.

    Attributes
    ----------
    omega_h : float
        Omega hierarchical: the share of total-score variance due to the general factor (psych
        ``omega_h``). With ``n_factors = 1`` it is the one-factor :math:`(\\sum\\lambda)^2/V`, which psych
        warns is not a meaningful hierarchical coefficient: use ``omega_total`` then.
    omega_total : float
        Omega total: the share of total-score variance due to all common factors (psych ``omega.tot``).
    alpha : float
        Standardized alpha of the flipped items (psych's ``alpha`` in ``omega``).
    omega_limit : float
        ``omega_h / omega_total`` = :math:`(\\sum g)^2 / (V - \\sum u^2)`, the limit of omega_h as the
        number of items grows (psych ``omega.lim``).
    g6 : float
        Guttman's lambda 6 from SMCs (psych ``G6``).
    ecv : float
        Explained common variance of the general factor (psych ``ECV``).
    loadings : pandas.DataFrame
        Schmid-Leiman solution, one row per item: ``g``, the group factors ``F1*..Fk*`` (ordered by
        explained variance), ``h2``, ``u2`` and ``p2`` (``g^2 / h2``). Rows of flipped items carry the
        flipped signs; see ``flipped``.
    groups : pandas.DataFrame
        psych's ``omega.group``: for the general factor (row ``g``) and each group factor, the omega
        total, general and group coefficients of the items whose largest group loading is on it.
    phi : pandas.DataFrame
        Correlations of the oblique group factors (before the transformation).
    flipped : tuple of str
        Items reversed because their general loading was negative (``flip=True``).
    n_factors, n_obs, method, rotation, option :
        Settings; ``n_obs`` is None for a correlation-matrix input without ``n_obs``.
    converged : bool
        Extraction and rotation both met their tolerances.
    heywood : tuple of str
        Items with a Heywood case in the extraction (uniqueness at its bound or communality >= .995).
    general_loadings : pandas.Series
        Loadings of the group factors on the general factor (psych's ``schmid$gloading``), in the
        order of :attr:`phi`.
    general_heywood : bool
        The second-order solution is improper: a general loading reached 1 in absolute value (its
        uniqueness at the 0.005 bound or communality >= .995; psych's "ultra-Heywood case"). The group
        factor concerned then gets no variance of its own (``sqrt(1 - g^2)`` is set to 0, as psych),
        and omega_h rests on an improper model.
    problems : tuple of str
        Every reason not to take the coefficients at face value (Heywood cases at either level,
        non-convergence); each one is also warned about.
    """

    omega_h: float
    omega_total: float
    alpha: float
    omega_limit: float
    g6: float
    ecv: float
    loadings: pd.DataFrame = field(repr=False)
    groups: pd.DataFrame = field(repr=False)
    phi: pd.DataFrame = field(repr=False)
    flipped: tuple[str, ...]
    n_factors: int
    n_obs: int | None
    method: str
    rotation: str
    option: str
    converged: bool
    heywood: tuple[str, ...]
    general_loadings: pd.Series = field(repr=False)
    general_heywood: bool = False
    problems: tuple[str, ...] = ()


def _prepare(
    data: pd.DataFrame | np.ndarray,
    keys: Sequence[str] | None,
    item_range: tuple[float, float] | None,
    missing: str,
    n_obs: int | None,
    poly: bool = False,
) -> tuple[np.ndarray, list[str], int | None]:
    """Correlation matrix of the keyed items, their names, and the number of respondents."""
    frame = _as_frame(data)
    arr = _values(frame)
    if _looks_like_correlation(arr):
        if item_range is not None:
            raise ValueError("item_range is for response data; with a correlation matrix keys reverse by sign")
        columns = [str(c) for c in frame.columns]
        frame = frame.set_axis(columns, axis=1)  # a new frame: never relabel the caller's
        items = _parse_key_list(keys if keys is not None else columns, frame.columns)
        idx = [columns.index(n) for n in items.names]
        sign = np.where(items.reversed, -1.0, 1.0)
        corr = arr[np.ix_(idx, idx)] * np.outer(sign, sign)
        if poly:
            raise ValueError("poly=True computes polychoric correlations from responses; got a correlation matrix")
        return corr, list(items.names), n_obs
    if n_obs is not None:
        raise ValueError("n_obs is only for a correlation matrix; with response data it is the number of rows")
    items = _parse_key_list(keys if keys is not None else [str(c) for c in frame.columns], frame.columns)
    if poly:
        corr, n, _ = keyed_polychoric(frame, items, item_range, missing)
        return corr, list(items.names), n
    values = _apply_missing_policy(_keyed_values(frame, items, _check_item_range(item_range)), missing)
    info = correlation_from_data(values, missing=missing, feature_names=list(items.names))
    return info.corr, list(items.names), info.n_obs


def _general_loadings(phi: np.ndarray, option: str, method: str) -> tuple[np.ndarray, bool, bool]:
    """General-factor loadings of the group factors, whether they are a Heywood case, and whether the
    second-order extraction converged (psych: ``fa(Phi, fm = fm)`` for 3 or more factors)."""
    k = phi.shape[0]
    if k == 1:
        return np.ones(1), False, True
    if k == 2:
        r = phi[0, 1]
        if option == "equal":
            return np.array([np.sqrt(abs(r)), np.sign(r) * np.sqrt(abs(r))]), abs(r) >= 1.0, True
        if option == "first":
            return np.array([1.0, r]), abs(r) > 1.0, True
        return np.array([r, 1.0]), abs(r) > 1.0, True
    second = extract(phi, 1, method)
    gamma = second.loadings[:, 0]
    heywood = bool(second.heywood.any() or np.any(gamma**2 >= 1.0 - 0.005))
    return gamma, heywood, second.converged


def omega(
    data: pd.DataFrame | np.ndarray,
    n_factors: int = 3,
    *,
    keys: Sequence[str] | None = None,
    item_range: tuple[float, float] | None = None,
    missing: MissingPolicy = "listwise",
    method: str = "minres",
    rotation: str = "oblimin",
    option: str = "equal",
    flip: bool = True,
    n_obs: int | None = None,
    n_starts: int = 10,
    random_state: int | None = 0,
    poly: bool = False,
) -> Omega:
    r"""Omega total and omega hierarchical by the Schmid-Leiman transformation, as ``psych::omega``.

    With the Schmid-Leiman general loadings :math:`g_i`, the extraction's uniquenesses
    :math:`u_i^2 = 1 - h_i^2` and :math:`V = \mathbf 1' R \mathbf 1` the variance of the
    standardized total score (after flipping items with negative :math:`g_i`):

    .. math::

        \omega_h = \frac{(\sum_i g_i)^2}{V}, \qquad
        \omega_t = \frac{V - \sum_i u_i^2}{V}.

    Parameters
    ----------
    data : pandas.DataFrame or numpy.ndarray
        Responses (respondents x items), or a correlation matrix.
    n_factors : int, default 3
        Number of group factors (psych's ``nfactors``, default 3). 1 gives omega total of a one-factor
        model; 2 is not identified without ``option``.
    keys : list of str, optional
        psych-style keys (``["-A1", "A2"]``) selecting and reversing items; default all columns.
    item_range : (float, float), optional
        Declared response range, required to reverse items in response data (``min + max - x``).
    missing : {"listwise", "pairwise", "raise"}, default "listwise"
        Missing-data policy for responses (psych's ``omega`` uses pairwise correlations; pass
        ``"pairwise"`` to reproduce it on incomplete data).
    method : {"minres", "ml", "pa"}, default "minres"
        Extraction method, also used for the general factor (psych's ``fm``).
    rotation : {"oblimin", "quartimin", "geomin", "promax"}, default "oblimin"
        Oblique rotation of the (varimax-rotated) factors before the transformation (psych's
        ``rotate``). Oblimin is unnormalised, as ``GPArotation::oblimin`` in ``psych::schmid``; the
        others use :func:`profiler.factors.rotation.rotate`'s defaults (checked against psych for
        oblimin only). Orthogonal rotations are refused: uncorrelated factors leave no general factor.
    option : {"equal", "first", "second"}, default "equal"
        Two group factors only: general loadings both ``sqrt(|phi_12|)`` (``"equal"``), or 1 on the
        first (second) factor and ``phi_12`` on the other; the first factor is the one with the larger
        sum of squared pattern loadings.
    flip : bool, default True
        Reverse items whose general loading is negative before computing the coefficients (psych's
        ``flip``).
    n_obs : int, optional
        Number of respondents behind a correlation matrix (reported only).
    poly : bool, default False
        Factor the polychoric correlations of the (keyed) items instead of Pearson's (psych's
        ``poly = TRUE``): omega of the continuous responses behind ordinal answers. Needs response data.
    n_starts, random_state : int
        Extra random starts of the oblique rotation (the varimax solution is always the first start, as
        psych's single start; another start is kept only when it reaches a lower criterion).

    Returns
    -------
    Omega

    Raises
    ------
    ValueError
        Invalid items, keys, ``n_factors`` outside ``1..p-1``, unknown ``method``/``rotation``/``option``.

    Warns
    -----
    sklearn.exceptions.ConvergenceWarning
        When the extraction (or the rotation, or the general-factor extraction) stops before its
        tolerance.
    profiler.factors.HeywoodWarning
        A Heywood case in the group-factor solution or in the general factor (a group factor loading
        1 or more on it); listed in ``problems``.

    Notes
    -----
    In R: ``psych::omega(x, nfactors = n_factors, fm = "minres", rotate = "oblimin", option = "equal")``.
    omega_h depends on the oblique rotation: GPArotation stops oblimin at a gradient norm of 1e-5,
    this rotation at 1e-6, so omega_h agrees with psych to about 1e-4 rather than 1e-6; omega total and
    alpha do not depend on the rotation.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, got {method!r}")
    if rotation not in _ROTATIONS:
        raise ValueError(f"rotation must be one of {', '.join(map(repr, _ROTATIONS))}, got {rotation!r}")
    if option not in _OPTIONS:
        raise ValueError(f"option must be one of {', '.join(map(repr, _OPTIONS))}, got {option!r}")
    corr, names, n = _prepare(data, keys, item_range, missing, n_obs, poly)
    p = corr.shape[0]
    if isinstance(n_factors, bool) or not isinstance(n_factors, (int, np.integer)) or not 1 <= n_factors < p:
        raise ValueError(f"n_factors must be an integer in [1, {p - 1}] for {p} items, got {n_factors!r}")
    k = int(n_factors)

    fit = extract(corr, k, method, n_obs=n)
    converged = fit.converged
    if not fit.converged:
        warnings.warn(
            f"omega: the {method} extraction of {k} factor(s) did not converge; the coefficients are unreliable",
            ConvergenceWarning,
            stacklevel=2,
        )
    if k == 1:
        pattern, phi = fit.loadings.copy(), np.ones((1, 1))
    else:
        orth = rotate(fit.loadings, "varimax").loadings  # psych's orth.load: fa(..., rotate = "varimax")
        rot = rotate(orth, rotation, n_starts=n_starts, random_state=random_state)
        pattern, phi = rot.loadings, rot.phi
        converged = converged and rot.converged
    # oblique factors by explained variance, each with a positive loading sum: this fixes which factor
    # is "first" for option="first" and changes nothing else (the coefficients are invariant to it)
    order = np.argsort(-np.sum(pattern**2, axis=0), kind="stable")
    colsign = np.sign(pattern[:, order].sum(axis=0))
    colsign[colsign == 0] = 1.0
    pattern = pattern[:, order] * colsign
    phi = phi[np.ix_(order, order)] * np.outer(colsign, colsign)
    gamma, general_heywood, second_converged = _general_loadings(phi, option, method)
    problems = _problems(names, fit, gamma, general_heywood, second_converged, method)
    for message in problems:
        warnings.warn(f"omega: {message}", ConvergenceWarning if "converge" in message else HeywoodWarning,
                      stacklevel=2)
    converged = converged and second_converged

    if (pattern @ gamma).sum() < 0:  # the general factor's direction is arbitrary: point it at most items
        gamma = -gamma
    g = pattern @ gamma
    group = pattern * np.sqrt(np.clip(1.0 - gamma**2, 0.0, None))[None, :]
    h2 = fit.communalities
    u2 = 1.0 - h2

    key = np.sign(g) if flip else np.ones(p)
    key[key == 0] = 1.0
    flipped_corr = corr * np.outer(key, key)
    g = g * key
    group = group * key[:, None]

    total_var = float(flipped_corr.sum())
    gsq = float(g.sum()) ** 2
    omega_h = gsq / total_var
    omega_total = (total_var - float(u2.sum())) / total_var
    alpha = (total_var - p) / total_var * p / (p - 1)
    g6 = (total_var + float(smc(flipped_corr).sum()) - p) / total_var
    ev = np.concatenate([[np.sum(g**2)], np.sum(group**2, axis=0)])
    ecv = float(ev[0] / ev.sum())

    # present the group factors by explained variance, each with a positive loading sum
    order = np.argsort(-np.sum(group**2, axis=0), kind="stable")
    colsign = np.sign(group[:, order].sum(axis=0))
    colsign[colsign == 0] = 1.0
    group_sorted = group[:, order] * colsign
    phi_sorted = phi[np.ix_(order, order)] * np.outer(colsign, colsign)
    factor_names = [f"F{j + 1}*" for j in range(k)]
    index = pd.Index(names, name="item")
    loadings = pd.DataFrame(group_sorted, index=index, columns=factor_names)
    loadings.insert(0, "g", g)
    loadings["h2"] = h2
    loadings["u2"] = u2
    with np.errstate(divide="ignore", invalid="ignore"):
        loadings["p2"] = g**2 / h2

    groups = _group_omegas(flipped_corr, g, group_sorted, omega_total, factor_names)
    phi_frame = pd.DataFrame(phi_sorted, index=[f"F{j + 1}" for j in range(k)], columns=[f"F{j + 1}" for j in range(k)])
    return Omega(
        omega_h=omega_h,
        omega_total=float(omega_total),
        alpha=float(alpha),
        omega_limit=gsq / (total_var - float(u2.sum())),
        g6=float(g6),
        ecv=ecv,
        loadings=loadings,
        groups=groups,
        phi=phi_frame,
        flipped=tuple(n for n, s in zip(names, key) if s < 0),
        n_factors=k,
        n_obs=n,
        method=method,
        rotation=rotation if k > 1 else "none",
        option=option,
        converged=bool(converged),
        heywood=tuple(n for n, h in zip(names, fit.heywood) if h),
        general_loadings=pd.Series(gamma[order] * colsign, index=phi_frame.index, name="g"),
        general_heywood=general_heywood,
        problems=problems,
    )


def _problems(
    names: list[str], fit, gamma: np.ndarray, general_heywood: bool, second_converged: bool, method: str
) -> tuple[str, ...]:
    """Why the coefficients may not be what they seem; psych warns about the same cases."""
    out = []
    if fit.heywood.any():
        items = ", ".join(n for n, h in zip(names, fit.heywood) if h)
        out.append(
            f"Heywood case in the {fit.n_factors}-factor {method} solution: communality >= 0.995 for {items} "
            "(fewer factors may be needed)"
        )
    if general_heywood:
        out.append(
            f"second-order Heywood case: a group factor loads {np.max(np.abs(gamma)):.3f} on the general factor "
            "(psych: 'ultra-Heywood case'); it keeps no variance of its own and omega_h rests on an improper "
            "general factor (try another number of factors or option)"
        )
    if not second_converged:
        out.append("the general-factor extraction did not converge; the coefficients are unreliable")
    return tuple(out)


def _group_omegas(
    corr: np.ndarray, g: np.ndarray, group: np.ndarray, omega_total: float, factor_names: list[str]
) -> pd.DataFrame:
    """psych's ``omega.group``: each item goes to the group factor with its largest |loading|."""
    k = group.shape[1]
    rows = {"g": (omega_total, g.sum() ** 2 / corr.sum(), np.nan)}
    assign = np.argmax(np.abs(group), axis=1)
    grs = 0.0
    for j in range(k):
        members = np.flatnonzero(assign == j)
        if members.size == 0:
            rows[factor_names[j]] = (np.nan, np.nan, np.nan)
            continue
        v = corr[np.ix_(members, members)].sum()
        gr = group[members, j].sum() ** 2
        gen = g[members].sum() ** 2
        grs += gr
        rows[factor_names[j]] = ((gr + gen) / v, gen / v, gr / v)
    rows["g"] = (omega_total, rows["g"][1], grs / corr.sum())
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=["total", "general", "group"])
    frame.index.name = "factor"
    return frame
