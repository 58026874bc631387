"""The database: the only place that runs SQL; one module per table family."""

from reviewer.store.connection import Store, default_db_path

__all__ = ["Store", "default_db_path"]
