"""One pass over float answers instead of five: the scoring kernel's float loops, compiled by numba.

Validating float answers with numpy takes five passes over each column of a chunk (a cast to bytes, a comparison
back, a count, zeroing the invalid cells, a NaN test): at 1M x 50 that is most of what scoring costs. Here one
loop reads each answer once and writes its code (or its keyed cell, for row-major tables), its flag and the
counts. The definitions are those of :mod:`profiler.questionnaire.blocks` (an answer is valid when it is an
integer from the item's lowest to its highest answer, exactly: 3.0000000000000004, NaN, +-inf, 256 are not), so
the scores are bit for bit the same (a property test compares both ways with the general float path).

**When.** numba is a dependency of shap, so it is installed with profiler. Loading the compiled loops costs a
process about 0.35 s once (importing numba and loading each loop from numba's on-disk cache; compiling them the
first time after installation, about 1.5 s), and they save about 0.5 ns per float answer. So, by default
(``PROFILER_COMPILED=auto``), a process validates its first :data:`REPAY_CELLS` float answers with numpy's passes
and loads the compiled loops only then: a one-off scoring of a million respondents never waits for numba, while
a service or a notebook that keeps scoring runs at the compiled pace from then on (the load repaid by the time
it was worth it). ``PROFILER_COMPILED=always`` loads them for the first long chunk; ``never`` keeps numpy's
passes. Where numba cannot be imported, or cannot compile the float64 column loop when the loops are first
loaded, numpy's passes are used (the other loops and types compile on first use; the tests compile all of them).
"""

from __future__ import annotations

import os
import threading
import warnings
from types import SimpleNamespace

import numpy as np

from profiler.errors import SettingError

MODE_VARIABLE = "PROFILER_COMPILED"  # auto (the default), always or never
MODES = ("auto", "always", "never")
REPAY_CELLS = 800_000_000  # auto: float answers validated by numpy first (~0.35 s of loading / 0.5 ns per answer)

_LOCK = threading.Lock()
_KERNELS: list = []  # [namespace of compiled loops, or None when numba is unusable], once tried
_VALIDATED = [0]  # float answers validated by numpy's passes in this process (auto; unlocked: a lost count delays)


def float_codes(values, low, high, shift, codes, ok):  # pragma: no cover - runs compiled
    """Codes ``answer - shift`` (0 without a valid answer) and flags of one column of float answers.

    Returns (cells without a valid answer, NaN cells).
    """
    n_bad = 0
    n_nan = 0
    for i in range(values.shape[0]):
        v = values[i]
        valid = (v >= low) & (v <= high)
        k = np.int64(v if valid else low)  # a safe value to convert: NaN and inf are not
        valid = valid & (np.float64(k) == v)
        codes[i] = np.uint8(k - shift) if valid else np.uint8(0)
        ok[i] = valid
        n_bad += np.int64(not valid)
        n_nan += np.int64(v != v)
    return n_bad, n_nan


def float_cells(x, low, high, shift, sign, offset, cells):  # pragma: no cover - runs compiled
    """Keyed cells of a row-major block of float answers: ``offset + sign * code`` where the answer is valid,
    else 0 (see ``blocks._float_rows``), as float32 into ``cells``.

    Returns (cells without a valid answer, NaN cells).
    """
    n_bad = 0
    n_nan = 0
    for r in range(x.shape[0]):
        for j in range(x.shape[1]):
            v = x[r, j]
            valid = (v >= low[j]) & (v <= high[j])
            k = np.int64(v if valid else low[j])
            valid = valid & (np.float64(k) == v)
            cells[r, j] = np.float32(offset[j] + sign[j] * (k - shift[j])) if valid else np.float32(0)
            n_bad += np.int64(not valid)
            n_nan += np.int64(v != v)
    return n_bad, n_nan


def unpack_sums(sums, bits, totals, counts):  # pragma: no cover - runs compiled
    """Answered counts and keyed totals from the float32 product's sums (``2**bits`` times the count plus the
    total, an exact integer below ``2**24``), into float64 ``counts`` and ``totals``."""
    mask = (np.int32(1) << bits) - np.int32(1)
    for s in range(sums.shape[1]):  # column by column: the outputs are column-major (4x faster than by rows)
        for r in range(sums.shape[0]):
            packed = np.int32(sums[r, s])
            counts[r, s] = packed >> bits
            totals[r, s] = packed & mask


def mode() -> str:
    """The setting in force: ``PROFILER_COMPILED`` (auto when unset), checked."""
    raw = os.environ.get(MODE_VARIABLE, "auto")
    value = raw.strip().lower() or "auto"
    if value not in MODES:
        raise SettingError(f"{MODE_VARIABLE}={raw!r}: use one of {', '.join(MODES)}")
    return value


def loops_for(cells: int, setting: str | None = None) -> SimpleNamespace | None:
    """The compiled loops to validate ``cells`` float answers with, or None for numpy's passes (which are then
    counted towards :data:`REPAY_CELLS`); ``setting``: :func:`mode`, if already read. See the module notes."""
    setting = setting or mode()
    if setting == "never":
        return None
    if setting == "always" or _KERNELS or _VALIDATED[0] >= REPAY_CELLS:
        return kernels()
    _VALIDATED[0] += cells
    return None


def kernels() -> SimpleNamespace | None:
    """The compiled loops (``float_codes``, ``float_cells``, ``unpack_sums``), or None when numba cannot be used."""
    if not _KERNELS:
        with _LOCK:
            if not _KERNELS:
                _KERNELS.append(_compile())
    return _KERNELS[0]


def _compile() -> SimpleNamespace | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numba's own notices are not the user's business
            import numba

            try:
                return _jit(numba, cache=True)
            except RuntimeError:  # no writable place for numba's cache: compile in memory each process
                return _jit(numba, cache=False)
    except Exception:  # noqa: BLE001 - any failure to import or compile leaves numpy's passes, which are exact
        return None


def _jit(numba, cache: bool) -> SimpleNamespace:
    jit = numba.njit(nogil=True, cache=cache)  # nogil: Dask's threads score chunks side by side
    loops = SimpleNamespace(float_codes=jit(float_codes), float_cells=jit(float_cells), unpack_sums=jit(unpack_sums))
    # compile (or load from numba's cache) the float64 column loop now, so that a failure surfaces here; the
    # others compile on first use (each type of answers once: loading every one would add a second per process)
    loops.float_codes(np.zeros(1), 1.0, 5.0, 0, np.zeros(1, np.uint8), np.zeros(1, bool))
    return loops


# float_codes, float_cells and unpack_sums above are the loops' definitions: call them through kernels()
__all__ = ["MODES", "MODE_VARIABLE", "REPAY_CELLS", "kernels", "loops_for", "mode"]
