"""The store: engine settings, schema versions and migrations, and clear errors for unusable files."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

import profiler.store.migrations as migrations
from profiler.errors import ProfilerError
from profiler.store import LATEST_VERSION, Migration, Store, StoreError, metadata
from profiler.store.tables import schema_version


def _versions(path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT version, description FROM schema_version ORDER BY version").fetchall()


def test_in_memory_store_is_at_the_latest_version():
    with Store() as store:
        assert store.schema_version == LATEST_VERSION
        assert store.name == "memory"
        assert set(inspect(store.engine).get_table_names()) == set(metadata.tables)


def test_open_twice_records_each_migration_once(tmp_path):
    path = tmp_path / "profiler.db"
    with Store(path) as store:
        assert store.schema_version == LATEST_VERSION
    with Store(str(path)) as store:
        assert store.schema_version == LATEST_VERSION
    versions = _versions(path)
    assert [v for v, _ in versions] == list(range(1, LATEST_VERSION + 1))
    assert "sessions" in versions[0][1]


def test_url_location_and_sqlite_settings(tmp_path):
    path = tmp_path / "s.db"
    with Store(f"sqlite:///{path}") as store, store.read() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    with Store(path, synchronous="FULL") as store, store.read() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    with pytest.raises(ValueError, match="synchronous"):
        Store(path, synchronous="OFF")


def test_migrations_build_exactly_the_declared_tables(store_location):
    # The frozen migration steps and the live table definitions must describe the same schema, on both backends.
    with Store(store_location) as store:
        inspector = inspect(store.engine)
        assert set(inspector.get_table_names()) == set(metadata.tables)
        for name, table in metadata.tables.items():
            reflected = {c["name"]: c for c in inspector.get_columns(name)}
            assert list(reflected) == [c.name for c in table.columns], name
            for column in table.columns:
                assert reflected[column.name]["nullable"] == column.nullable, (name, column.name)
                dialect = store.engine.dialect
                assert reflected[column.name]["type"].compile(dialect) == column.type.compile(dialect), column
            assert inspector.get_pk_constraint(name)["constrained_columns"] == [c.name for c in table.primary_key]
            declared_fks = {(fk.parent.name, fk.column.table.name) for fk in table.foreign_keys}
            reflected_fks = {(fk["constrained_columns"][0], fk["referred_table"])
                             for fk in inspector.get_foreign_keys(name)}
            assert reflected_fks == declared_fks, name


def test_a_newer_store_is_refused(tmp_path):
    path = tmp_path / "s.db"
    Store(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("INSERT INTO schema_version VALUES (?, 'from the future', '9.0', '2031-01-01')",
                           (LATEST_VERSION + 1,))
    with pytest.raises(StoreError, match=rf"schema version {LATEST_VERSION + 1}.*newer profiler.*upgrade"):
        Store(path)


def test_pending_migrations_are_applied_in_order_once(tmp_path, monkeypatch):
    path = tmp_path / "s.db"
    Store(path).close()  # a store at the current version, then profiler gains two steps
    calls = []

    def step(version):
        def upgrade(connection):
            calls.append(version)
            connection.execute(text(f"CREATE TABLE extra_{version} (id INTEGER PRIMARY KEY)"))
        return upgrade

    extra = [Migration(LATEST_VERSION + k, f"extra {k}", step(LATEST_VERSION + k)) for k in (1, 2)]
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS + extra)
    monkeypatch.setattr(migrations, "LATEST_VERSION", LATEST_VERSION + 2)
    with Store(path) as store:
        assert store.schema_version == LATEST_VERSION + 2
    Store(path).close()
    assert calls == [LATEST_VERSION + 1, LATEST_VERSION + 2]
    assert [v for v, _ in _versions(path)][-2:] == [LATEST_VERSION + 1, LATEST_VERSION + 2]


def test_a_failing_migration_leaves_the_previous_version(tmp_path, monkeypatch):
    path = tmp_path / "s.db"
    Store(path).close()

    def broken(connection):
        connection.execute(text("CREATE TABLE half_done (id INTEGER)"))
        raise RuntimeError("bug in a migration")

    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS + [Migration(LATEST_VERSION + 1, "x", broken)])
    monkeypatch.setattr(migrations, "LATEST_VERSION", LATEST_VERSION + 1)
    with pytest.raises(RuntimeError, match="bug in a migration"):
        Store(path)
    assert [v for v, _ in _versions(path)] == list(range(1, LATEST_VERSION + 1))
    with sqlite3.connect(path) as connection:  # DDL rolled back with the step
        assert connection.execute("SELECT name FROM sqlite_master WHERE name='half_done'").fetchall() == []


def test_two_stores_opening_a_new_file_at_once_migrate_it_once(store_location):
    path = store_location
    errors = []

    def open_store():
        try:
            Store(path).close()
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Store(path) as store, store.read() as connection:
        versions = connection.execute(select(schema_version.c.version).order_by(schema_version.c.version))
        assert list(versions.scalars()) == list(range(1, LATEST_VERSION + 1))


def _text_file(path):
    path.write_text("id,name\n1,not a database\n" * 50)


def _garbled_header(path):
    Store(path).close()
    data = bytearray(path.read_bytes())
    data[:16] = b"NOT SQLITE AT AL"
    path.write_bytes(bytes(data))


def _truncated(path):
    Store(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = path.read_bytes()
    path.write_bytes(data[:1500])  # the header survives, the schema pages do not


@pytest.mark.parametrize("damage", [_text_file, _garbled_header, _truncated])
def test_a_corrupt_or_foreign_file_gives_a_clear_error(tmp_path, damage):
    path = tmp_path / "s.db"
    damage(path)
    before = path.read_bytes()
    with pytest.raises(StoreError, match=r"s\.db.*(not a profiler store|corrupt)") as info:
        Store(path)
    assert isinstance(info.value, ProfilerError)
    assert path.read_bytes() == before  # never "repaired" or overwritten


def test_another_applications_database_is_refused(tmp_path):
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE customers (id INTEGER, name TEXT)")
    with pytest.raises(StoreError, match=r"not a profiler store: it has tables \(customers\)"):
        Store(path)
    with sqlite3.connect(path) as connection:
        assert [r[0] for r in connection.execute("SELECT name FROM sqlite_master")] == ["customers"]


def test_unusable_locations(tmp_path):
    with pytest.raises(StoreError, match="is a directory"):
        Store(tmp_path)
    with pytest.raises(StoreError, match="directory .* does not exist"):
        Store(tmp_path / "missing" / "s.db")
    with pytest.raises(StoreError, match="no store at"):
        Store(tmp_path / "s.db", create=False)
    assert not (tmp_path / "s.db").exists()
    with pytest.raises(StoreError, match="not a store location"):
        Store("not a url://x")


def test_a_write_block_that_fails_is_rolled_back(tmp_path):
    row = {"version": 99, "description": "x", "profiler_version": "0", "applied_at": datetime.now(UTC)}
    with Store(tmp_path / "s.db") as store:
        with pytest.raises(ZeroDivisionError), store.write() as connection:
            connection.execute(schema_version.insert().values(**row))
            1 / 0
        with store.read() as connection:
            versions = connection.execute(select(schema_version.c.version)).scalars().all()
        assert versions == list(range(1, LATEST_VERSION + 1))


def test_a_store_at_version_3_upgrades_on_postgresql(postgres_location, monkeypatch):
    # Migration 4 renames a table and its constraints (PostgreSQL keeps constraint names), 5 adds a column.
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:3])
    monkeypatch.setattr(migrations, "LATEST_VERSION", 3)
    with Store(postgres_location) as store:
        assert store.schema_version == 3
        with store.write() as connection:
            connection.execute(text("INSERT INTO candidates VALUES ('cand-1', 'open', now(), NULL, false, NULL, NULL)"))
            connection.execute(text("INSERT INTO artefacts (candidate_id, kind, payload, payload_hash, recorded_by, "
                                    "recorded_at) VALUES ('cand-1', 'notes', '{}', 'sha256:x', 'a', now())"))
    monkeypatch.undo()
    with Store(postgres_location) as store:
        assert store.schema_version == LATEST_VERSION
        inspector = inspect(store.engine)
        assert "artefacts" not in inspector.get_table_names()
        assert inspector.get_pk_constraint("case_records")["name"] == "pk_case_records"
        assert {fk["name"] for fk in inspector.get_foreign_keys("case_records")} == {
            "fk_case_records_candidate_id_candidates", "fk_case_records_session_id_sessions"}
        assert "time_multiplier" in {c["name"] for c in inspector.get_columns("sessions")}
        with store.read() as connection:
            assert connection.execute(text("SELECT kind FROM case_records")).scalar_one() == "notes"


def test_an_unreachable_postgresql_url_is_a_store_error():
    with pytest.raises(StoreError, match="127.0.0.1"):
        Store("postgresql+psycopg://nobody@127.0.0.1:1/none")


def test_a_wrong_password_is_refused_without_showing_it(postgres_location):
    # The test server asks for the password over TCP: the error names the store and the cause, never the password.
    wrong = make_url(postgres_location).set(password="not-the-password-42").render_as_string(hide_password=False)
    with pytest.raises(StoreError, match="password authentication failed") as raised:
        Store(wrong)
    assert "not-the-password-42" not in str(raised.value) and "profiler:***@127.0.0.1" in str(raised.value)


def test_writers_of_one_process_queue_on_one_lock_per_file(tmp_path):
    # Threads of one process wait for the file on a Python lock (woken at once when it is free) rather than in
    # SQLite's busy handler (which sleeps in steps of up to 100 ms): at most one is inside a write at a time.
    path = tmp_path / "queue.db"
    with Store(path) as first, Store(str(path)) as second, Store() as memory:
        assert first._writers is second._writers  # every Store on the file shares it
        assert memory._writers is not first._writers
        with first.write() as connection:
            connection.execute(text("CREATE TABLE hits (n INTEGER)"))
        inside, most = [0], [0]
        guard = threading.Lock()

        def write(store: Store, k: int) -> None:
            for _ in range(20):
                with store.write() as connection:
                    with guard:
                        inside[0] += 1
                        most[0] = max(most[0], inside[0])
                    connection.execute(text("INSERT INTO hits VALUES (:n)"), {"n": k})
                    with guard:
                        inside[0] -= 1

        threads = [threading.Thread(target=write, args=(first if k % 2 else second, k)) for k in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with first.read() as connection:
            assert connection.execute(text("SELECT count(*) FROM hits")).scalar_one() == 160
        assert most[0] == 1


def test_one_connection_serves_the_blocks_transactions_with_one_checkout(store_location):
    from sqlalchemy import event

    with Store(store_location) as store:
        checkouts: list[object] = []
        event.listen(store.engine, "checkout", lambda *args: checkouts.append(args[0]))
        with store.one_connection():
            with store.read(snapshot=False) as connection:
                assert connection.execute(select(schema_version.c.version).limit(1)).scalar() == 1
                with store.read() as nested:  # nested in a read: a connection of its own, as always
                    assert nested is not connection and nested.in_transaction()
            with store.write() as connection:
                connection.execute(schema_version.update().where(schema_version.c.version == 1)
                                   .values(description=schema_version.c.description))  # a harmless write
            with pytest.raises(RuntimeError), store.write() as connection:  # a failed write rolls back ...
                connection.execute(schema_version.delete())
                raise RuntimeError
            with store.read() as connection:  # ... and the connection goes on (in a transaction again)
                assert connection.in_transaction()
                versions = connection.execute(select(schema_version.c.version).order_by(schema_version.c.version))
                assert list(versions.scalars()) == list(range(1, LATEST_VERSION + 1))
        assert len(checkouts) == 2  # the block's connection and the nested read's
        with store.read() as connection:  # outside the block: its own connection, in a transaction
            assert connection.in_transaction()
        assert len(checkouts) == 3
