"""The store as the judge's cache and call log: what the `judge` runner reads and writes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from judge.runner import CachedAnswer, Call, OrderVerdict
from reviewer.judging.journal import Journal, replay
from reviewer.store import Store
from reviewer.store import judge_calls as judge_sql
from reviewer.store.connection import Cursor, DuckDBStore

# A run writes often (every 2 s on DuckDB, its paid answers journaled in between). A command's
# store releases the file after each transaction, and reopening and checkpointing a DuckDB file
# for each write was a third of a 2,000-call run's CPU (bench/RESULTS.md, issue 16); so, as the
# app does between clicks, the file stays open while the run's writes keep coming. A process
# waiting for the file still gets it within a turn (reviewer.store.connection).
RUN_LINGER_SECONDS = 1.0
# While a run is under way (`held_open`), the file stays open through any pause of the run's own
# (the SDK's import at the first call, a backoff): a reopen costs tens of ms and a checkpoint.
# Waiting processes still get their turn; the linger falls back when the run ends.
HELD_LINGER_SECONDS = 3600.0


@contextmanager
def held_open(store: Store) -> Iterator[None]:
    """Keep a DuckDB store's file open between the transactions of the block (PostgreSQL keeps
    a pool: nothing to do), unless another process waits for it."""
    if not hasattr(store, "linger"):
        yield
        return
    before = store.linger
    store.linger = max(before, HELD_LINGER_SECONDS)
    try:
        yield
    finally:
        store.linger = before


class StoreCallLog:
    """The judge's cache and call log, in the study's database. On a DuckDB file, paid answers
    go to a journal beside it first (reviewer.judging.journal), and opening the log moves in
    what killed runs left there, so that the cache finds it."""

    def __init__(self, store: Store, study_id: str, judge_id: str):
        self.store, self.study_id, self.judge_id = store, study_id, judge_id
        self.journal: Journal | None = None
        if isinstance(store, DuckDBStore):  # PostgreSQL keeps a pool, and needs no journal
            store.linger = max(store.linger, RUN_LINGER_SECONDS)
            db = store.path.resolve()  # one place, by whatever path or link it is named
            replay(store, db)
            self.journal = Journal(db, study_id, judge_id)

    def cached(self, keys: Sequence[str]) -> dict[str, CachedAnswer]:
        return self.store.read(lambda cur: judge_sql.cached_answers(cur, keys))

    def write(self, calls: list[Call], verdicts: list[OrderVerdict]) -> None:
        def work(cur: Cursor) -> None:
            judge_sql.append_calls(cur, self.study_id, self.judge_id, calls)
            judge_sql.add_verdicts(cur, self.study_id, self.judge_id, verdicts)

        self.store.write(work)
