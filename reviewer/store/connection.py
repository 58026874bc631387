"""The DuckDB file, held only while work is under way, and handed over to whoever waits.

DuckDB lets one process at a time open a database file. Experts label in `signoff app` for days
while an engineer runs the CLI against the same file, so no process may sit on it: every unit of
work opens the file (or joins the process's already open connection), takes a cursor of its own,
runs one short transaction, and the file is released once the process has had no work for
`linger` seconds (0 for the CLI: at once; about a second for the app, because opening the file
costs ~30 ms, more than the queries of a whole labeling click). With annotators clicking, the
app is never idle for that second, so the processes also take turns (reviewer.store.handoff): a
process that finds the file held joins a queue beside it; the holder, seeing the queue, ends
its turn (at most half a second of work, so that a command's consecutive reads share one
opening): it admits no new work, closes the file once its work in flight is done, and lets
the waiter in before it opens the file again. A holder that does not take part (another
program, an older signoff) is waited for with backoff, and named if the wait runs out. Threads
share one connection and take a cursor each, as DuckDB recommends.
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
from itertools import repeat
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from reviewer.columns import Columns
from reviewer.errors import NotFound, SignoffError, StoreBusy
from reviewer.store.backend import DEFAULT_DB, Cursor, Store
from reviewer.store.handoff import Handoff
from reviewer.store.migrations import apply_migrations

T = TypeVar("T")

_LOCK_MESSAGE = re.compile(r"Conflicting lock is held in (?P<who>.*?) \(PID (?P<pid>\d+)\)")
# How often a waiter looks at the turn, and a lingering holder at the queue: a system call
# each, cheap enough to answer a waiter within a few milliseconds.
_TURN_POLL = 0.002
_QUEUE_POLL = 0.02
# A turn: once a process has the file, it keeps it while others wait for this long, as long as
# its work comes with gaps shorter than `_TURN_GAP`, so that a command's consecutive reads (or a
# burst of clicks) share one opening (~30 ms each, far more on a loaded machine) instead of
# handing the file back and forth for each transaction.
_TURN = 0.5
_TURN_GAP = 0.1
# How long a process about to open the file lets a queued process go first at most (the
# queued one normally gets in within milliseconds; this bounds a waiter stuck behind a holder
# that does not take turns).
_DEFER_AT_MOST = 2.0


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
        env_timeout = os.environ.get("SIGNOFF_LOCK_TIMEOUT")
        self.lock_timeout = lock_timeout if lock_timeout is not None else float(env_timeout or 30.0)
        self._guard = threading.Condition()
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._users = 0
        self._depth = threading.local()  # this thread's open cursors: nested ones are admitted
        self._yielding = False  # a waiter was seen: no new work until the file is closed
        self._idle_since = 0.0
        self._opened_at = 0.0
        self._migrated = False
        self._handoff = Handoff(self.path)
        self._lingering = False  # a thread counts the idle time down
        atexit.register(self._close_if_idle_now)

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
        depth = getattr(self._depth, "n", 0)
        with self._guard:
            if depth == 0:
                self._wait_for_turn()
            self._users += 1
            self._depth.n = depth + 1
            return self._conn

    def _wait_for_turn(self) -> None:
        """Open the file, or join its open connection unless another process waits for it (then
        close it once the work in flight is done, and queue up behind that process)."""
        while self._conn is not None and (
            self._yielding or (not self._in_turn() and self._handoff.others_waiting())
        ):
            self._yielding = True
            if self._users == 0:
                self._close()
            else:
                self._guard.wait()
        if self._conn is None:
            self._conn = self._open()
            self._opened_at = time.monotonic()
            if not self._migrated:
                try:
                    apply_migrations(self._conn)
                except BaseException:
                    self._close()
                    raise
                self._migrated = True

    def _release(self) -> None:
        self._depth.n -= 1
        with self._guard:
            self._users -= 1
            if self._users or self._conn is None:
                return
            self._idle_since = time.monotonic()
            if self._close_due():
                self._close()
            elif self._lingering:
                self._guard.notify_all()
            else:
                self._lingering = True
                threading.Thread(target=self._linger, daemon=True).start()

    def _in_turn(self) -> bool:
        return time.monotonic() - self._opened_at < _TURN

    def _close_due(self) -> bool:
        """Whether the idle connection should be closed now: after `linger` idle seconds, or,
        when another process waits, at the end of this process's turn or of a gap in its work."""
        if self._yielding:
            return True
        idle = time.monotonic() - self._idle_since
        if self._handoff.others_waiting():
            return idle >= _TURN_GAP or not self._in_turn()
        return idle >= self.linger

    def _linger(self) -> None:
        """Close the idle connection when due; the thread ends with the connection."""
        with self._guard:
            while self._conn is not None:
                if self._users:
                    self._guard.wait()
                elif self._close_due():
                    self._close()
                else:
                    self._guard.wait(_QUEUE_POLL)
            self._lingering = False

    def _close_if_idle_now(self) -> None:
        with self._guard:
            if self._users == 0 and self._conn is not None:
                self._close()

    def _close(self) -> None:
        assert self._conn is not None
        try:
            self._conn.close()
        finally:
            self._conn = None
            self._yielding = False
            self._handoff.give_turn()
            self._guard.notify_all()

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
        self._defer_to_waiters(deadline)
        queued = False
        delay = 0.02
        try:
            while True:
                holder, wait = None, _TURN_POLL
                if self._handoff.take_turn():
                    try:
                        return self._connect()
                    except _HeldElsewhere as held:  # by a process that does not take turns
                        self._handoff.give_turn()
                        holder, wait = held.who, delay * (1 + random.random())
                        delay = min(delay * 2, 0.5)
                    except BaseException:
                        self._handoff.give_turn()
                        raise
                queued = queued or self._handoff.join_queue()
                if time.monotonic() >= deadline:
                    raise self._busy(holder or self._handoff.holder())
                time.sleep(wait)
        finally:
            if queued:
                self._handoff.leave_queue()

    def _defer_to_waiters(self, deadline: float) -> None:
        """Let a process already queued for the file in first: it gets in within milliseconds,
        where taking the turn back at once would keep it waiting for as long as clicks come."""
        until = min(deadline, time.monotonic() + _DEFER_AT_MOST)
        while time.monotonic() < until and self._handoff.others_waiting():
            time.sleep(_TURN_POLL)

    def _connect(self) -> duckdb.DuckDBPyConnection:
        try:
            conn = duckdb.connect(str(self.path))
            conn.execute("SET TimeZone = 'UTC'")
            # DICT_FSST saves ~30% on model outputs (unique prose) but made the checkpoint of
            # 100k pairs take 5.4 s instead of 1.9 s (bench/RESULTS.md); disk is cheaper than an
            # engineer's wait or a labeling click's.
            conn.execute("SET disabled_compression_methods = 'dict_fsst'")
            # DuckDB's default (80% of RAM) let a 100k-pair import peak at 1.57 GB RSS; 512 MB
            # kept it at 1.34 GB at the same speed, and DuckDB spills beyond it.
            conn.execute("SET memory_limit = ?", [os.environ.get("SIGNOFF_DUCKDB_MEMORY", "512MB")])
            return conn
        except duckdb.IOException as exc:
            holder = _LOCK_MESSAGE.search(str(exc))
            if holder is None:
                raise SignoffError(f"cannot open database {self.path}: {exc}") from None
            raise _HeldElsewhere(f"{holder['pid']} {holder['who']}") from None
        except duckdb.Error as exc:
            raise SignoffError(f"cannot open database {self.path}: {exc}") from None

    def _busy(self, holder: str) -> StoreBusy:
        pid, _, who = holder.partition(" ")
        return StoreBusy(
            f"database {self.path} is held by another process (PID {pid or '?'}: {who or '?'}) "
            f"and was not released within {self.lock_timeout:.0f} s. `signoff app` hands the "
            "file over to a waiting command within its current requests; a process that keeps "
            "it this long is doing long work (an import?) or is not signoff: let it finish or "
            "stop it, or raise SIGNOFF_LOCK_TIMEOUT."
        )


class _HeldElsewhere(Exception):
    """DuckDB refused the file: `who` is `PID program` of the process holding it."""

    def __init__(self, who: str):
        super().__init__(who)
        self.who = who


def fetch_dicts(cur: Cursor, sql: str, params: Any = None) -> list[dict[str, Any]]:
    """Rows of a query as dicts keyed by column name (built by `map`, without a bytecode step
    per row: a third less time on the report's 100,000s of label and verdict rows)."""
    cur.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return list(map(dict, map(zip, repeat(names), cur.fetchall())))


# DuckDB types whose arrays give the values its rows give (a DECIMAL as a float): a time's
# array drops its zone, a HUGEINT's its last digits, so those are read as rows.
_AS_ARRAYS = {"VARCHAR", "JSON", "BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "DOUBLE"}


def fetch_columns(cur: Cursor, sql: str, params: Any = None) -> Columns:
    """Rows of a query as columns (`reviewer.columns`): from DuckDB its arrays, each turned
    into a list at once (NULL as None, numbers as Python ints and floats: DECIMAL too), when
    every column is of a type in `_AS_ARRAYS` or a DECIMAL; otherwise, and from another
    backend, its rows transposed."""
    cur.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    types = (str(d[1]).split("(", 1)[0] for d in cur.description)
    if isinstance(cur, duckdb.DuckDBPyConnection) and all(
        t in _AS_ARRAYS or t == "DECIMAL" for t in types
    ):
        arrays = cur.fetchnumpy()
        return {name: arrays[name].tolist() for name in names}
    rows = cur.fetchall()
    if not rows:
        return {name: [] for name in names}
    return dict(zip(names, map(list, zip(*rows, strict=True)), strict=True))
