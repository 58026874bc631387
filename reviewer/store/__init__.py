"""The database: the only place that runs SQL; one module per table family.

`Store(target)` opens a DuckDB file or, for a `postgresql://` URL, a PostgreSQL server
(reviewer/store/backend.py); nothing outside this package knows which.
"""

from reviewer.store.backend import Store, default_db, redact, resolve_target
from reviewer.store.connection import default_db_path

__all__ = ["Store", "default_db", "default_db_path", "redact", "resolve_target"]
