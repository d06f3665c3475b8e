"""is_broadcast_row tells a row (or a value) broadcast over rows from rows of their own."""

import numpy as np

from profiler._arrays import is_broadcast_row


def test_broadcast_rows_and_columns():
    assert is_broadcast_row(np.broadcast_to(np.arange(3.0), (5, 3)))
    assert is_broadcast_row(np.broadcast_to(2.0, (4,)))


def test_arrays_of_their_own_rows_and_empty_broadcasts_are_not():
    assert not is_broadcast_row(np.ones((5, 3)))
    assert not is_broadcast_row(np.ones((5, 3))[:, :1])
    assert not is_broadcast_row(np.broadcast_to(np.arange(3.0), (0, 3)))  # no row to stand for the others
    assert not is_broadcast_row(np.array(1.0))  # 0-d: no rows at all
