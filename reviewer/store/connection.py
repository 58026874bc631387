"""The DuckDB file, held only while work is under way.

DuckDB lets one process at a time open a database file. Experts label in `signoff app` for days
while an engineer runs the CLI against the same file, so no process may sit on it: every unit of
work opens the file (or joins the process's already open connection), takes a cursor of its own,
runs one short transaction, and the file is released once the process has had no work for
`linger` seconds (0 for the CLI: at once; about a second for the app, because opening the file
costs ~30 ms, more than the queries of a whole labeling click). Another process that finds the
file held retries with backoff, and says who holds it if the wait runs out. Threads share one
connection and take a cursor each, as DuckDB recommends.
"""

from __future__ import annotations

import atexit
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from reviewer.errors import NotFound, SignoffError, StoreBusy
from reviewer.store.backend import DEFAULT_DB, Cursor, Store
from reviewer.store.migrations import apply_migrations

T = TypeVar("T")

_LOCK_MESSAGE = re.compile(r"Conflicting lock is held in (?P<who>.*?) \(PID (?P<pid>\d+)\)")


def default_db_path() -> Path:
    """`SIGNOFF_DB` if set, else ./signoff.duckdb."""
    return Path(os.environ.get("SIGNOFF_DB") or DEFAULT_DB)


class DuckDBStore(Store):
    """Owns one DuckDB database file for this process.

    Args:
        path: the database file; created (with its schema) on first use when `create` is true,
            else its absence is an error (commands that only read must not leave an empty
            database behind a typo).
        lock_timeout: seconds to keep retrying while another process holds the file.
        linger: seconds an idle connection stays open before the file is released.
    """

    def __init__(
        self,
        path: Path | str,
        lock_timeout: float | None = None,
        linger: float = 0.0,
        *,
        create: bool = True,
    ):
        self.path = Path(path)
        self.linger = linger
        self.create = create
        self._generation = 0  # bumped by every acquire: a pending close checks it
        if linger > 0:
            atexit.register(self._close_if_idle_now)
        env_timeout = os.environ.get("SIGNOFF_LOCK_TIMEOUT")
        self.lock_timeout = lock_timeout if lock_timeout is not None else float(env_timeout or 30.0)
        self._guard = threading.Lock()
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._users = 0
        self._migrated = False

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    @property
    def location(self) -> str:
        return str(self.path.resolve())

    @contextmanager
    def cursor(self) -> Iterator[Cursor]:
        """A cursor of this thread's own on the shared connection, outside any transaction."""
        conn = self._acquire()
        cur = conn.cursor()
        try:
            yield cur
        finally:
            cur.close()
            self._release()

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """One transaction: committed if the block ends normally, rolled back otherwise."""
        with self.cursor() as cur:
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def write(self, work: Callable[[Cursor], T], attempts: int = 8) -> T:
        """Run `work` in a transaction, retrying when a concurrent writer conflicts with it."""
        for attempt in range(attempts):
            try:
                with self.transaction() as cur:
                    return work(cur)
            except duckdb.TransactionException:
                if attempt == attempts - 1:
                    raise SignoffError(
                        "the database was too busy with other writes; please try again"
                    ) from None
                time.sleep(0.01 * 2**attempt * (1 + random.random()))
        raise AssertionError("unreachable")

    def read(self, work: Callable[[Cursor], T]) -> T:
        with self.cursor() as cur:
            return work(cur)

    def _acquire(self) -> duckdb.DuckDBPyConnection:
        with self._guard:
            if self._conn is None:
                self._conn = self._open()
                if not self._migrated:
                    try:
                        apply_migrations(self._conn)
                    except BaseException:
                        self._conn.close()
                        self._conn = None
                        raise
                    self._migrated = True
            self._users += 1
            self._generation += 1
            return self._conn

    def _release(self) -> None:
        with self._guard:
            self._users -= 1
            if self._users or self._conn is None:
                return
            if self.linger <= 0:
                self._close()
                return
            timer = threading.Timer(self.linger, self._close_if_idle, args=(self._generation,))
            timer.daemon = True
            timer.start()

    def _close_if_idle(self, generation: int) -> None:
        with self._guard:
            if self._users == 0 and self._generation == generation and self._conn is not None:
                self._close()

    def _close_if_idle_now(self) -> None:
        with self._guard:
            if self._users == 0 and self._conn is not None:
                self._close()

    def _close(self) -> None:
        assert self._conn is not None
        self._conn.close()
        self._conn = None

    def _open(self) -> duckdb.DuckDBPyConnection:
        if not self.create and not self.path.exists():
            folder = "" if self.path.parent.exists() else " (its folder does not exist)"
            raise NotFound(
                f"no database at {self.path}{folder}; create one with `signoff import` (or "
                "check --db and $SIGNOFF_DB)"
            )
        if not self.path.parent.exists():
            raise SignoffError(f"cannot create database {self.path}: folder does not exist")
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.02
        while True:
            try:
                conn = duckdb.connect(str(self.path))
                conn.execute("SET TimeZone = 'UTC'")
                # DICT_FSST saves ~30% on model outputs (unique prose) but made the checkpoint
                # of 100k pairs take 5.4 s instead of 1.9 s (bench/RESULTS.md); disk is cheaper
                # than an engineer's wait or a labeling click's.
                conn.execute("SET disabled_compression_methods = 'dict_fsst'")
                # DuckDB's default (80% of RAM) let a 100k-pair import peak at 1.57 GB RSS;
                # 512 MB kept it at 1.34 GB at the same speed, and DuckDB spills beyond it.
                conn.execute(
                    "SET memory_limit = ?", [os.environ.get("SIGNOFF_DUCKDB_MEMORY", "512MB")]
                )
                return conn
            except duckdb.IOException as exc:
                holder = _LOCK_MESSAGE.search(str(exc))
                if holder is None:
                    raise SignoffError(f"cannot open database {self.path}: {exc}") from None
                if time.monotonic() >= deadline:
                    raise StoreBusy(
                        f"database {self.path} is held by another process "
                        f"(PID {holder['pid']}: {holder['who']}) and was not released within "
                        f"{self.lock_timeout:.0f} s. If that is `signoff app`, it frees the file "
                        "between requests: retry; otherwise stop that process, or raise "
                        "SIGNOFF_LOCK_TIMEOUT."
                    ) from None
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 0.5)
            except duckdb.Error as exc:
                raise SignoffError(f"cannot open database {self.path}: {exc}") from None


def fetch_dicts(cur: Cursor, sql: str, params: Any = None) -> list[dict[str, Any]]:
    """Rows of a query as dicts keyed by column name."""
    cur.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
