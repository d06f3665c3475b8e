"""Small facts about numpy arrays that several layers ask."""

from __future__ import annotations

import numpy as np


def is_broadcast_row(a: np.ndarray) -> bool:
    """Whether ``a`` is one row (one value, for a column) broadcast over all its rows: stride 0 between rows, at
    least one row. Work done on ``a[0]`` is then done for every row."""
    return a.ndim > 0 and len(a) > 0 and a.strides[0] == 0


__all__ = ["is_broadcast_row"]
