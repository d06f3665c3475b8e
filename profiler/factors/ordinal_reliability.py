"""Reliability of ordinal items from their polychoric correlations: ordinal alpha, and the keyed
polychoric matrix that :func:`profiler.factors.omega` uses with ``poly=True``.

Coefficient alpha computed from Pearson correlations of 4- to 7-point answers underestimates the
reliability of the latent responses, more so for skewed items and few categories. Ordinal alpha
(Zumbo, Gadermann & Zeisser 2007) is the standardized alpha of the polychoric correlations; omega from
the polychoric matrix (``psych::omega(poly = TRUE)``) is the same idea for omega. Both describe the
continuous responses behind the answers, not the observed sum score: report which one you use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from profiler.factors.missing import MissingData
from profiler.factors.reliability import _KeyedItems, _as_frame, _check_item_range, _keyed_values, _parse_key_list

__all__ = ["OrdinalAlpha", "ordinal_alpha"]


def keyed_polychoric(
    frame: pd.DataFrame, items: _KeyedItems, item_range: tuple[float, float] | None, missing: str
) -> tuple[np.ndarray, int, MissingData]:
    """Polychoric correlations of the keyed items (reversed items turned around as ``min + max - x``)."""
    from profiler.factors.polychoric import polychoric  # its bivariate-normal machinery loads on demand

    values = _keyed_values(frame, items, _check_item_range(item_range))
    pc = polychoric(pd.DataFrame(values, columns=list(items.names)), missing=missing)
    return pc.correlation.to_numpy(), pc.n_obs, pc.missing


@dataclass(frozen=True)
class OrdinalAlpha:
    """Ordinal alpha of one scale.

    Attributes
    ----------
    alpha : float
        ``k/(k-1) (1 - k / 1'R1)`` with ``R`` the polychoric correlations of the keyed items.
    average_r : float
        Mean polychoric inter-item correlation.
    items : tuple of str
        Keys as given (a leading ``-`` marks a reversed item).
    n_obs : int
        Respondents behind the correlations (every row with ``"pairwise"``).
    missing : MissingData
    correlation : DataFrame
        The keyed polychoric correlations.
    """

    alpha: float
    average_r: float
    items: tuple[str, ...]
    n_obs: int
    missing: MissingData = field(repr=False)
    correlation: pd.DataFrame = field(repr=False)


def ordinal_alpha(
    data: pd.DataFrame,
    keys: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
    *,
    item_range: tuple[float, float] | None = None,
    missing: str = "pairwise",
) -> OrdinalAlpha | dict[str, OrdinalAlpha]:
    """Ordinal alpha: coefficient alpha of the polychoric correlations (Zumbo et al. 2007).

    Parameters
    ----------
    data : DataFrame
        Answers, one row per respondent (NaN = missing).
    keys : list of str, or dict of scale name -> list of str, optional
        psych-style keys (``["-A1", "A2"]``); a dict gives one result per scale. Default: every column,
        one scale.
    item_range : (float, float), optional
        Declared response range, required to reverse items.
    missing : {"pairwise", "listwise", "raise"}, default "pairwise"
        As :func:`profiler.factors.polychoric` (psych's and lavaan's default is pairwise).

    Returns
    -------
    OrdinalAlpha, or dict of them for a dict of keys

    Notes
    -----
    In R: ``psych::alpha(psych::polychoric(x)$rho)$total$raw_alpha`` (psych's polychoric adds 0.5 to
    empty cells and stops its search at about 1e-4, so it differs from the maximum by up to that much).
    """
    frame = _as_frame(data)
    if isinstance(keys, Mapping):
        return {str(name): _one(frame, scale_keys, item_range, missing, str(name)) for name, scale_keys in keys.items()}
    return _one(frame, keys if keys is not None else [str(c) for c in frame.columns], item_range, missing, None)


def _one(frame: pd.DataFrame, keys: Sequence[str], item_range, missing: str, scale: str | None) -> OrdinalAlpha:
    items = _parse_key_list(keys, frame.columns, scale)
    R, n, report = keyed_polychoric(frame, items, item_range, missing)
    k = R.shape[0]
    total = float(R.sum())
    labels = [("-" if r else "") + name for name, r in zip(items.names, items.reversed)]
    return OrdinalAlpha(
        alpha=k / (k - 1) * (1.0 - k / total),
        average_r=(total - k) / (k * (k - 1)),
        items=tuple(labels),
        n_obs=n,
        missing=report,
        correlation=pd.DataFrame(R, index=list(items.names), columns=list(items.names)),
    )
