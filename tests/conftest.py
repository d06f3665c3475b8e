"""Shared fixtures: the R reference results copied from ../shared/reference, and the BIG5 data in place."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
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


# Store backends ----------------------------------------------------------------------------------------------
# The store, session, review and web tests run on SQLite and on PostgreSQL. .ci/run starts a PostgreSQL server
# and exports its URL; elsewhere the PostgreSQL half skips, saying so.
POSTGRES_URL = os.environ.get("PROFILER_TEST_POSTGRES_URL")
NO_POSTGRES = "no PostgreSQL server for the tests: set PROFILER_TEST_POSTGRES_URL (.ci/run starts one)"


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh, empty schema of the test server; yields a store URL whose connections use it; dropped after."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    schema = "t_" + secrets.token_hex(8)
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request, tmp_path) -> Iterator[str]:
    """Where a test's store lives: a SQLite file, or a fresh schema of the PostgreSQL test server."""
    if request.param == "sqlite":
        yield str(tmp_path / "store.sqlite")
        return
    with postgres_schema() as url:
        yield url


@pytest.fixture
def store(store_location):
    """An open store on each backend (a module that needs another store defines its own ``store``)."""
    from profiler.store import Store

    with Store(store_location) as opened:
        yield opened


@pytest.fixture
def postgres_location() -> Iterator[str]:
    """A fresh schema of the PostgreSQL test server (skips, saying so, without one)."""
    with postgres_schema() as url:
        yield url


def sql(store, statement: str, **params) -> list[tuple]:
    """Run SQL on a store behind profiler's back (tampering, old dates), on either backend; the rows it returns."""
    from sqlalchemy import text

    with store.write() as connection:
        result = connection.execute(text(statement), params)
        return [tuple(row) for row in result] if result.returns_rows else []
