"""Shared fixtures: the R reference results copied from ../shared/reference, and the BIG5 data in place."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = FIXTURES / "reference"
PROJECT = Path(__file__).resolve().parents[1]
BIG5_DIR = PROJECT.parent / "shared" / "data" / "big5"
BIG5_FILE = BIG5_DIR / "big5_openpsychometrics.tsv"


@pytest.fixture(scope="session")
def reference() -> dict:
    """R psych/lavaan results (psych 2.2.9, GPArotation 2022.10, lavaan 0.6-14)."""
    return json.loads((REFERENCE / "psych_lavaan_reference.json").read_text())


@pytest.fixture(scope="session")
def bfi() -> pd.DataFrame:
    """psychTools' bfi, all 2,800 rows (empty cells are NaN)."""
    return pd.read_csv(REFERENCE / "bfi.csv")


@pytest.fixture(scope="session")
def bfi25(bfi: pd.DataFrame) -> pd.DataFrame:
    """The 25 bfi items, complete rows only (2,436), in file order: the reference EFA sample."""
    return bfi.iloc[:, :25].dropna().reset_index(drop=True)


@pytest.fixture(scope="session")
def holzinger_swineford() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "holzinger_swineford_1939.csv")


@pytest.fixture(scope="session")
def big5_raw() -> pd.DataFrame:
    """The BIG5 data read in place from ../shared (never copied into the project)."""
    if not BIG5_FILE.exists():
        pytest.skip(f"BIG5 data not found at {BIG5_FILE} (it lives in ../shared, beside the project)")
    return pd.read_csv(BIG5_FILE, sep="\t")
