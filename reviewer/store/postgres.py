"""The PostgreSQL backend: several app replicas, the CLI and CI on one shared database.

A process keeps a small pool of connections (psycopg 3 with psycopg-pool); every unit of work
borrows one for one short transaction, so app replicas, `signoff report` and a judge run work
side by side and nobody waits on a file lock. The store modules' SQL is written once, in the
subset DuckDB and PostgreSQL share; `PgCursor` only translates the parameter markers (`?` and
`$name` become psycopg's `%s` and `%(name)s`) and stages Arrow tables for bulk inserts in a
temporary table filled by COPY. JSON columns come back as the text that was stored, as DuckDB
returns them, so content hashes agree across backends.

No ORM: the schema is a few tables owned by hand-written migrations, most queries are
analytical (windows, CTEs, FILTER) that an ORM would only wrap in strings again, and DuckDB's
Arrow bulk paths have no ORM equivalent. Two thin cursors over one SQL text are less code and
keep each query where it can be read and timed.
"""

from __future__ import annotations

import atexit
import os
import random
import re
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pyarrow as pa
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.string import TextLoader
from psycopg_pool import ConnectionPool, PoolTimeout

from reviewer.errors import SignoffError, StoreBusy
from reviewer.store.backend import Store, redact
from reviewer.store.migrations import apply_migrations

T = TypeVar("T")

_MARKERS = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|--[^\n]*|\?|\$[A-Za-z_]\w*|%")
_MIGRATION_LOCK = 0x5167_6E6F  # pg_advisory_lock key: replicas starting at once migrate in turn
_RETRIED = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)
_ARROW_TYPES = {
    pa.string(): "TEXT",
    pa.large_string(): "TEXT",
    pa.null(): "TEXT",
    pa.bool_(): "BOOLEAN",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.float64(): "DOUBLE PRECISION",
}


@lru_cache(maxsize=512)
def translate(sql: str) -> str:
    """DuckDB-style markers to psycopg's: `?` -> `%s`, `$name` -> `%(name)s`, `%` -> `%%`
    (psycopg reads `%` everywhere once parameters are given, even in literals)."""

    def swap(m: re.Match[str]) -> str:
        token = m.group()
        if token == "?":
            return "%s"
        if token.startswith("$"):
            return f"%({token[1:]})s"
        return token.replace("%", "%%")

    return _MARKERS.sub(swap, sql)


def _column_type(name: str, kind: pa.DataType) -> str:
    """The column type of a staged Arrow column; `*_json` columns are JSON, as in the schema."""
    if name.endswith("_json"):
        return "JSON"
    if pa.types.is_timestamp(kind):
        return "TIMESTAMPTZ"
    if kind not in _ARROW_TYPES:
        raise TypeError(f"no PostgreSQL type for Arrow {kind} (column {name})")
    return _ARROW_TYPES[kind]


class PgCursor:
    """A psycopg cursor that speaks the store's SQL dialect (see the module docstring)."""

    def __init__(self, cur: psycopg.Cursor):
        self._cur = cur

    @property
    def description(self) -> list[tuple[str]] | None:
        desc = self._cur.description
        return None if desc is None else [(c.name,) for c in desc]

    def execute(self, sql: str, params: Any = None) -> PgCursor:
        if params is None or len(params) == 0:
            self._cur.execute(sql)  # without parameters psycopg reads no markers, nor `%`
        else:
            self._cur.execute(translate(sql), params)
        return self

    def executemany(self, sql: str, rows: Any) -> PgCursor:
        self._cur.executemany(translate(sql), rows)
        return self

    def fetchone(self) -> tuple | None:
        return self._cur.fetchone()

    def fetchall(self) -> list[tuple]:
        return self._cur.fetchall()

    def fetchmany(self, size: int) -> list[tuple]:
        return self._cur.fetchmany(size)

    def register(self, name: str, table: pa.Table | pa.RecordBatchReader) -> None:
        """Stage an Arrow table (or a stream of batches, copied one batch at a time) as
        temporary table `name` (COPY), for an INSERT ... SELECT."""
        cols = ", ".join(f'"{c}"' for c in table.schema.names)
        types = ", ".join(f'"{f.name}" {_column_type(f.name, f.type)}' for f in table.schema)
        self._cur.execute(f'DROP TABLE IF EXISTS "{name}"')
        self._cur.execute(f'CREATE TEMP TABLE "{name}" ({types})')
        batches = table if isinstance(table, pa.RecordBatchReader) else table.to_batches()
        with self._cur.copy(f'COPY "{name}" ({cols}) FROM STDIN') as copy:
            for batch in batches:
                columns = [col.to_pylist() for col in batch.columns]
                for row in zip(*columns, strict=True):
                    copy.write_row(row)

    def unregister(self, name: str) -> None:
        self._cur.execute(f'DROP TABLE IF EXISTS "{name}"')

    def close(self) -> None:
        self._cur.close()


def _configure(conn: psycopg.Connection) -> None:
    """Every pooled connection: UTC timestamps, JSON as stored text, named in pg_stat_activity."""
    conn.adapters.register_loader("json", TextLoader)
    conn.adapters.register_loader("jsonb", TextLoader)
    conn.execute("SET TIME ZONE 'UTC'")


class PostgresStore(Store):
    """A PostgreSQL database shared by every process that names its URL.

    The pool opens on first use; the schema is migrated once per process, under an advisory
    lock so that replicas starting together migrate one after the other.
    """

    shared = True

    def __init__(
        self,
        target: str | Path,
        lock_timeout: float | None = None,
        linger: float = 0.0,
        *,
        create: bool = True,
    ):
        self.url = str(target)
        self.path = redact(self.url)
        env_timeout = os.environ.get("SIGNOFF_LOCK_TIMEOUT")
        self.lock_timeout = lock_timeout if lock_timeout is not None else float(env_timeout or 30.0)
        self.max_connections = int(os.environ.get("SIGNOFF_PG_POOL", "10"))
        self._pool: ConnectionPool | None = None
        self._opening = threading.Lock()

    def __repr__(self) -> str:
        return f"Store({self.path!r})"

    @property
    def location(self) -> str:
        return self.url

    @contextmanager
    def cursor(self) -> Iterator[PgCursor]:
        pool = self._pool or self._open()
        try:
            with pool.connection() as conn, conn.cursor() as cur:
                yield PgCursor(cur)
        except PoolTimeout:
            raise StoreBusy(
                f"no free connection to {self.path} within {self.lock_timeout:.0f} s "
                "(raise SIGNOFF_PG_POOL or SIGNOFF_LOCK_TIMEOUT)"
            ) from None
        except psycopg.OperationalError as exc:
            raise SignoffError(f"lost PostgreSQL at {self.path}: {self._safe(exc)}") from None

    @contextmanager
    def transaction(self) -> Iterator[PgCursor]:
        with self.cursor() as cur:
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def write(self, work: Callable[[PgCursor], T], attempts: int = 8) -> T:
        for attempt in range(attempts):
            try:
                with self.transaction() as cur:
                    return work(cur)
            except _RETRIED:
                if attempt == attempts - 1:
                    raise SignoffError(
                        "the database was too busy with other writes; please try again"
                    ) from None
                time.sleep(0.01 * 2**attempt * (1 + random.random()))
        raise AssertionError("unreachable")

    def _open(self) -> ConnectionPool:
        with self._opening:
            return self._pool or self._connect()

    def _connect(self) -> ConnectionPool:
        """Connect once (a clear error if the server is unreachable), migrate, open the pool."""
        try:
            with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as conn:
                _configure(conn)
                conn.execute("SELECT pg_advisory_lock(%s)", [_MIGRATION_LOCK])
                with conn.cursor() as cur:
                    apply_migrations(PgCursor(cur))
        except psycopg.OperationalError as exc:
            raise SignoffError(
                f"cannot open PostgreSQL at {self.path}: {self._safe(exc)}"
            ) from None
        pool = ConnectionPool(
            self.url,
            min_size=1,
            max_size=self.max_connections,
            kwargs={"autocommit": True, "application_name": _application_name()},
            configure=_configure,
            check=ConnectionPool.check_connection,
            timeout=self.lock_timeout,
            open=True,
        )
        self._pool = pool
        weakref.finalize(self, pool.close)
        atexit.register(pool.close)
        return pool

    def _safe(self, exc: Exception) -> str:
        """An error message with the URL's password (if any) taken out."""
        text = str(exc).strip()
        password = conninfo_to_dict(self.url).get("password")
        return text.replace(str(password), "***") if password else text


def _application_name() -> str:
    return f"signoff {socket.gethostname()}:{os.getpid()}"[:63]
