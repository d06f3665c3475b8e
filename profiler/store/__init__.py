"""The store: one database for profiler's records (sessions now; candidates, decisions and the audit log later).

SQLAlchemy Core with portable types, so that a SQLite file (the default) and PostgreSQL (through a URL)
hold the same tables; a ``schema_version`` table and ordered migrations bring any older store up to date
when it is opened.
"""

from profiler.store.errors import StoreError
from profiler.store.migrations import LATEST_VERSION, MIGRATIONS, Migration
from profiler.store.store import Store
from profiler.store.tables import metadata

__all__ = ["LATEST_VERSION", "MIGRATIONS", "Migration", "Store", "StoreError", "metadata"]
