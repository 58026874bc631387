"""One store interface, two backends: an embedded DuckDB file or a PostgreSQL server.

`Store(target)` picks the backend from the target: a `postgresql://` (or `postgres://`) URL opens
PostgreSQL, anything else is a DuckDB file. Both hand out cursors with the same calls
(`execute` with `?` placeholders or `$name` parameters, `executemany`, `fetchone`, `fetchall`,
`description`, `register` of an Arrow table for bulk inserts) and run the same migrations, so the
rest of signoff never knows which one it talks to.
"""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

T = TypeVar("T")

DEFAULT_DB = "signoff.duckdb"
_URL = re.compile(r"^postgres(ql)?://", re.IGNORECASE)


class Cursor(Protocol):
    """What store modules call on a cursor, whichever the backend."""

    description: Any

    def execute(self, sql: str, params: Any = None) -> Any: ...
    def executemany(self, sql: str, rows: Any) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def register(self, name: str, table: Any) -> Any: ...
    def unregister(self, name: str) -> Any: ...


@contextmanager
def staged(cur: Cursor, name: str, table: Any) -> Iterator[None]:
    """`table` (an Arrow table or record-batch reader) readable as `name` in the block's SQL,
    and no longer after it, however the block ends: the bulk inserts' way in."""
    cur.register(name, table)
    try:
        yield
    finally:
        cur.unregister(name)


def is_server_url(target: str | Path) -> bool:
    """Whether `target` names a PostgreSQL server rather than a DuckDB file."""
    return isinstance(target, str) and _URL.match(target) is not None


def redact(url: str) -> str:
    """The URL without its password (`postgresql://ann:***@host/db`): what messages may show."""
    if not is_server_url(url):
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def default_db() -> str:
    """`SIGNOFF_DB` if set (a file or a PostgreSQL URL), else ./signoff.duckdb."""
    return os.environ.get("SIGNOFF_DB") or DEFAULT_DB


def resolve_target(target: str | Path) -> str:
    """The target as another process must be given it: a URL as is, a file as an absolute path."""
    return str(target) if is_server_url(str(target)) else str(Path(target).resolve())


class Store(ABC):
    """The database of one process: `Store(target)` opens the backend the target names.

    Args (both backends):
        target: a DuckDB file, or a `postgresql://user[:password]@host[:port]/dbname` URL.
        lock_timeout: seconds to wait for the database (a DuckDB file another process holds;
            a free pooled PostgreSQL connection).
        linger: seconds an idle DuckDB file stays open (PostgreSQL keeps its pool).
        create: whether a missing DuckDB file may be created (a PostgreSQL database must exist).
    """

    #: whether several processes may serve the same database at once (app replicas)
    shared: bool = False

    def __new__(cls, target: str | Path, *args: Any, **kwargs: Any) -> Store:
        if cls is Store:
            if is_server_url(str(target)):
                from reviewer.store.postgres import PostgresStore

                cls = PostgresStore
            else:
                from reviewer.store.connection import DuckDBStore

                cls = DuckDBStore
        return super().__new__(cls)

    @property
    @abstractmethod
    def location(self) -> str:
        """The target to hand to another process (a PostgreSQL URL keeps its password)."""

    @abstractmethod
    def cursor(self) -> AbstractContextManager[Cursor]:
        """A cursor of this thread's own, outside any transaction."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Cursor]:
        """One transaction: committed if the block ends normally, rolled back otherwise."""

    @abstractmethod
    def write(self, work: Callable[[Cursor], T], attempts: int = 8) -> T:
        """Run `work` in a transaction, retrying when a concurrent writer conflicts with it."""

    def read(self, work: Callable[[Cursor], T]) -> T:
        with self.cursor() as cur:
            return work(cur)
