"""BLAS thread limits shared by the numeric packages (factors, irt).

Their products are small (p x p matrices, patterns x nodes tables with tens of columns): OpenBLAS
threads cost more than they save there, and on a machine whose cores are shared, idle worker threads
spin against other work (a 50 x 50 ``eigh`` is several times slower multi-threaded on a busy machine;
an E-step product 4-7 times slower).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

_THREADPOOLS = None


@contextmanager
def small_matrix_threads() -> Iterator[None]:
    """Run BLAS/LAPACK single-threaded inside the block (threadpoolctl, which scikit-learn requires)."""
    global _THREADPOOLS
    try:
        import threadpoolctl
    except ImportError:  # pragma: no cover - scikit-learn depends on it
        yield
        return
    if _THREADPOOLS is None:
        _THREADPOOLS = threadpoolctl.ThreadpoolController()
    with _THREADPOOLS.limit(limits=1, user_api="blas"):
        yield
