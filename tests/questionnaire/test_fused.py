"""The compiled loops validate float answers exactly as defined (an integer from the lowest to the highest answer,
bit for bit), count blanks and invalid cells, and step aside when numba cannot be used."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import profiler
from hypothesis import given, settings
from hypothesis import strategies as st

from profiler.errors import SettingError
from profiler.questionnaire import fused

NEAR = 3.0000000000000004
VALUES = st.sampled_from([1.0, 2.0, 3.0, 5.0, np.nan, 0.0, -0.0, 6.0, 2.5, -1.0, 256.0, 257.0, 300.0, NEAR, np.inf,
                          -np.inf, 1e300, -1e300, np.nextafter(5.0, 0), np.nextafter(1.0, 2), 50.0, 51.0, 1e-300])


def _array(values, kind) -> np.ndarray:
    with np.errstate(over="ignore"):  # 1e300 as float32 is inf
        return np.array(values, dtype=kind)


def _expected(v: np.ndarray, low: np.ndarray, high: np.ndarray, shift: np.ndarray):
    """Codes, flags and counts by the definition, with numpy (independent of both kernels)."""
    wide = v.astype(float)
    with np.errstate(invalid="ignore"):
        ok = (wide >= low) & (wide <= high) & (wide == np.floor(wide))
    codes = np.where(ok, np.where(ok, wide, 0) - shift, 0)
    return codes, ok, int((~ok).sum()), int(np.isnan(wide).sum())


@pytest.fixture(scope="module")
def mini_questionnaire():
    return profiler.load_questionnaire(Path(__file__).parents[1] / "fixtures" / "questionnaires" / "mini.yaml")


@pytest.fixture(scope="module")
def loops():
    compiled = fused.kernels()
    assert compiled is not None, "numba (a dependency of shap) should be usable here"
    return compiled


@settings(max_examples=100, deadline=None)
@given(values=st.lists(VALUES, min_size=0, max_size=40), low=st.sampled_from([(1, 5), (0, 50), (-2, 2), (0, 1)]),
       kind=st.sampled_from([np.float64, np.float32]))
def test_column_codes_follow_the_definition(loops, values, low, kind):
    v = _array(values, kind)
    lo, hi = low
    codes, ok = np.full(len(v), 99, np.uint8), np.zeros(len(v), bool)
    n_bad, n_nan = loops.float_codes(v, float(lo), float(hi), lo - 1, codes, ok)
    want_codes, want_ok, want_bad, want_nan = _expected(v, lo, hi, lo - 1)
    np.testing.assert_array_equal(codes, want_codes.astype(np.uint8))
    np.testing.assert_array_equal(ok, want_ok)
    assert (n_bad, n_nan) == (want_bad, want_nan)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), kind=st.sampled_from([np.float64, np.float32]))
def test_row_cells_follow_the_definition(loops, data, kind):
    p = data.draw(st.integers(1, 6))
    x = _array(data.draw(st.lists(st.lists(VALUES, min_size=p, max_size=p), min_size=1, max_size=12)), kind)
    low = np.array(data.draw(st.lists(st.sampled_from([1.0, 0.0, -2.0]), min_size=p, max_size=p)))
    high = low + np.array(data.draw(st.lists(st.sampled_from([1.0, 4.0, 50.0]), min_size=p, max_size=p)))
    shift = (low - 1).astype(np.int64)
    sign = np.array(data.draw(st.lists(st.sampled_from([1.0, -1.0]), min_size=p, max_size=p)))
    offset = np.where(sign < 0, high - low + 2, 0) + 64.0
    cells = np.full(x.shape, -7, np.float32)
    n_bad, n_nan = loops.float_cells(x, low, high, shift, sign, offset, cells)
    codes, ok, want_bad, want_nan = _expected(x, low, high, shift)
    np.testing.assert_array_equal(cells, np.where(ok, offset + sign * codes, 0).astype(np.float32))
    assert (n_bad, n_nan) == (want_bad, want_nan)


def test_without_numba_the_kernel_is_none(monkeypatch):
    monkeypatch.setattr(fused, "_KERNELS", [])
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba now fails
    assert fused.kernels() is None
    assert fused.kernels() is None  # and is not tried again


@pytest.fixture
def fresh(monkeypatch):
    """A process that has validated nothing yet and not loaded the loops."""
    monkeypatch.setattr(fused, "_KERNELS", [])
    monkeypatch.setattr(fused, "_VALIDATED", [0])
    monkeypatch.setattr(fused, "REPAY_CELLS", 1_000)
    return monkeypatch


def test_auto_loads_the_loops_once_numpy_has_validated_enough(fresh):
    fresh.delenv(fused.MODE_VARIABLE, raising=False)
    assert fused.loops_for(600) is None and fused.loops_for(399) is None  # 999 answers by numpy
    assert fused.loops_for(1) is None  # 1,000: enough, from the next chunk on
    assert fused.loops_for(10) is not None
    assert fused._VALIDATED == [1_000]


def test_always_and_never(fresh):
    fresh.setenv(fused.MODE_VARIABLE, "never")
    assert fused.loops_for(10**12) is None
    assert fused._KERNELS == []  # numba not even loaded
    fresh.setenv(fused.MODE_VARIABLE, "Always")
    assert fused.loops_for(1) is not None


def test_an_unknown_mode_names_the_variable(fresh):
    fresh.setenv(fused.MODE_VARIABLE, " Fast")
    with pytest.raises(SettingError, match="PROFILER_COMPILED=' Fast': use one of auto, always, never"):
        fused.loops_for(1)


def test_the_setting_is_checked_for_any_float_table(fresh, mini_questionnaire):
    """A wrong value is named for a table of a few rows too, not first at the first long chunk of a large job."""
    fresh.setenv(fused.MODE_VARIABLE, "fastest")
    with pytest.raises(SettingError, match="PROFILER_COMPILED='fastest'"):
        mini_questionnaire.score(np.full((3, len(mini_questionnaire.item_ids)), 1.0))
