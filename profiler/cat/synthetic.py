"""A simulated item bank calibrated like a personality domain: the yardstick of the adaptive-testing targets.

:func:`synthetic_bank` makes a graded-response bank of ``n_facets`` facets with ``n_items / n_facets`` items
each, 5 answer categories, slopes log-normal around 1.4 (as in the IPIP and NEO domains: the shipped IPIP-50
calibration's slopes run 0.8-2.6, median 1.6) and thresholds spread as Likert items of a personality scale are
(item locations N(0, 0.5), category boundaries about -2, -0.75, 0.35 and 1.6 around them). A fixed seed makes it
the same bank everywhere.
"""

from __future__ import annotations

import numpy as np

from profiler.irt.bank import ItemBank

BOUNDARIES = np.array([-2.0, -0.75, 0.35, 1.6])


def synthetic_bank(n_items: int = 60, n_facets: int = 6, *, slope: float = 1.4, seed: int = 20260601
                   ) -> tuple[ItemBank, list[str]]:
    """A GRM bank and each item's facet (items ``F1_01``.. of facets ``F1``..).

    Parameters
    ----------
    n_items, n_facets : int
        ``n_items`` must be a multiple of ``n_facets``.
    slope : float
        Median slope ``a``.
    seed : int

    Returns
    -------
    ItemBank, list of str
    """
    if n_facets < 1 or n_items % n_facets:
        raise ValueError(f"{n_items} items do not split into {n_facets} facets of equal size")
    rng = np.random.default_rng(seed)
    per = n_items // n_facets
    a = slope * np.exp(rng.normal(0.0, 0.2, n_items))
    location = rng.normal(0.0, 0.5, n_items)
    b = np.sort(location[:, None] + BOUNDARIES[None, :] + rng.normal(0.0, 0.15, (n_items, len(BOUNDARIES))), axis=1)
    d = -a[:, None] * b
    facets = [f"F{f + 1}" for f in range(n_facets) for _ in range(per)]
    items = [f"F{f + 1}_{i + 1:02d}" for f in range(n_facets) for i in range(per)]
    categories = [np.arange(1, len(BOUNDARIES) + 2)] * n_items
    return ItemBank(items, ["graded"] * n_items, a, list(d), categories), facets
