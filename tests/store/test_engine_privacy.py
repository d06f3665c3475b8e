"""Stored values never reach SQLAlchemy's statement log or the text of a database error."""

import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from profiler.store.engine import create_store_engine

PLANTED = "planted-secret-4f1c"


def test_statement_log_and_errors_hide_bound_values(tmp_path, caplog):
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    engine.echo = True  # what an operator turning on SQLAlchemy's log would see
    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (v TEXT PRIMARY KEY)"))
            connection.execute(text("INSERT INTO t VALUES (:v)"), {"v": PLANTED})
        with pytest.raises(IntegrityError) as raised, engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (:v)"), {"v": PLANTED})
    assert "INSERT INTO t" in caplog.text  # the log ran
    assert PLANTED not in caplog.text
    assert PLANTED not in str(raised.value)
    engine.dispose()
