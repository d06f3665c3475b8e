"""Fixtures for the IRT tests: mirt 1.47 references and bfi item sets as the reference scripts select them."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "reference"
TOL = 1e-3  # agreement required with R mirt 1.47 (measured agreement is far closer; see docs/irt.md)
N_ITEMS = [f"N{i}" for i in range(1, 6)]
A_ITEMS = [f"A{i}" for i in range(1, 6)]


@pytest.fixture(scope="session")
def mirt_ref() -> dict:
    """make_mirt_reference.R's output (GRM/GPCM on bfi)."""
    return json.loads((REFERENCE / "mirt_reference.json").read_text())


@pytest.fixture(scope="session")
def irt_ref() -> dict:
    """make_irt_reference.R's output (ML/EAPsum/LD/Q3, 2PL, multi-group, BIG5 M2*)."""
    return json.loads((REFERENCE / "irt_reference.json").read_text())


@pytest.fixture(scope="session")
def bfi_all() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "bfi.csv")


def case_data(bfi: pd.DataFrame, case: str) -> pd.DataFrame:
    """The responses each reference case was fitted to (row labels = 0-based rows of bfi.csv)."""
    if case == "grm_A":
        x = bfi[A_ITEMS].dropna().copy()
        x["A1"] = 7 - x["A1"]
        return x
    if case == "grm_N_missing":
        return bfi[N_ITEMS]
    return bfi[N_ITEMS].dropna()


def rows_of(block: dict) -> np.ndarray:
    """0-based row labels from a reference's 1-based ``rows_in_bfi_csv``."""
    return np.asarray(block["rows_in_bfi_csv"]) - 1


def finite(values) -> np.ndarray:
    """Reference numbers with R's +-Inf (written as +-1e308) turned back into infinities."""
    out = np.asarray(values, dtype=float)
    return np.where(np.abs(out) >= 1e300, np.sign(out) * np.inf, out)


def table(ref: dict, items: list[str], columns: list[str]) -> np.ndarray:
    """items x columns array from a reference {item: {column: value}} block."""
    return np.array([[ref[item][c] for c in columns] for item in items], dtype=float)


def reference_bank(ref: dict, model: str = "graded"):
    """An ItemBank holding mirt's own estimates of a reference case (answers 1..K as in bfi)."""
    from profiler.irt import ItemBank

    items = ref["items"]
    slopes = [ref["params"][i]["a1"] for i in items]
    intercepts = [[v for k, v in ref["params"][i].items() if k.startswith("d") and k != "d0"] for i in items]
    categories = [list(range(1, len(d) + 2)) for d in intercepts]
    return ItemBank(items, [model] * len(items), slopes, intercepts, categories)


@pytest.fixture(scope="session")
def tools() -> SimpleNamespace:
    """The helpers above, for test modules (conftest cannot be imported under --import-mode=importlib)."""
    return SimpleNamespace(TOL=TOL, case_data=case_data, rows_of=rows_of, finite=finite, table=table, reference_bank=reference_bank,
                           N_ITEMS=N_ITEMS, A_ITEMS=A_ITEMS)
