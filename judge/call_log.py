"""The call log a run writes to (which is also its cache): its rows, the interface a store
implements, and the background writer that hands rows over in batches."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

# Event-loop turns the writer lets pass before it takes what is pending: answers come in bursts
# (the calls of a run were sent together), and each write is a transaction of a few ms of CPU
# whatever its size, so the answers that arrive in the next few turns go in with the first
# (bench/RESULTS.md, issue 16). The answers' callers wait for it. Stopping at the first turn
# that brought no new call halved the batches (337 writes per 2,000 calls instead of ~180).
BATCH_TURNS = 4
# Verdicts go in at most this often (or at the end): a resumed run derives them again from the
# logged answers, and their insert, which skips verdicts already stored, cost DuckDB ~10 ms of
# CPU per statement, a third of the call log's writes at a 0.25 s interval (issue 16).
VERDICT_INTERVAL = 2.0
# With a journal, paid answers are durable once journaled, and every call and verdict goes into
# the log at most this often (or at the end): a few large transactions instead of one per few
# answers, each ~5.5 ms of CPU in DuckDB whatever its size (issue 16).
JOURNALED_INTERVAL = 2.0


@dataclass(frozen=True)
class Call:
    """One row of the call log. `outcome` is ok, cached, parse_failure or error."""

    cache_key: str
    pair_id: str
    presented: str
    outcome: str
    attempt: int
    request: dict | None = None
    response_text: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float | None = None
    error: str | None = None
    # The model the provider said answered: what "gpt-4o" meant that day. A cached row carries
    # the one of the call whose answer it reuses.
    served_model: str | None = None


@dataclass(frozen=True)
class CachedAnswer:
    """An earlier successful answer to the same call, and the model that gave it (None when
    the call was logged before served models were)."""

    text: str
    served_model: str | None


@dataclass(frozen=True)
class OrderVerdict:
    """The judge's verdict on one pair shown in one order, in candidate/baseline terms."""

    pair_id: str
    presented: str
    preference: str
    criteria: dict[str, str]
    rationale: str
    call_key: str


class CallLog(Protocol):
    def cached(self, keys: Sequence[str]) -> dict[str, CachedAnswer]:
        """Earlier successful answers, by cache key."""
        ...

    def write(self, calls: list[Call], verdicts: list[OrderVerdict]) -> None:
        """Persist calls and verdicts (one transaction)."""
        ...


class Journal(Protocol):
    """Where paid answers are durable before the log has them: a cheap append that survives a
    kill of the process, cleared once the rows are in the log (reviewer.judging.journal)."""

    def append(self, calls: Sequence[Call]) -> None: ...

    def seal(self) -> int:
        """Mark the rows appended so far; `moved(mark)` once they are in the log."""
        ...

    def moved(self, mark: int) -> None: ...

    def close(self) -> None:
        """Let go, keeping what is not in the log for the next run to move in."""
        ...


class LogWriter:
    """Collects calls and verdicts as they happen and writes them from a background task, in
    batches at most every `interval` seconds, so answers never wait on the database, with one
    exception: an answer that was paid for is durable before its caller goes on (`add_paid`).
    A run killed at any moment has then lost at most the answers of the calls in flight, one per
    worker, and its resume pays for those only. Without a journal, a paid answer is written at
    once (with the other calls pending) and its caller waits for that; with one, it is
    journaled and the log gets everything every JOURNALED_INTERVAL. Verdicts wait for
    VERDICT_INTERVAL (a resumed run derives them again from the logged answers)."""

    def __init__(self, log: CallLog, interval: float, journal: Journal | None = None):
        self.log, self.journal = log, journal
        self.interval = interval if journal is None else max(interval, JOURNALED_INTERVAL)
        self._calls: list[Call] = []
        self._verdicts: list[OrderVerdict] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._wake = asyncio.Event()
        self._urgent = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task | None = None

    def add_call(self, call: Call) -> None:
        self._calls.append(call)
        self._wake.set()

    async def add_paid(self, call: Call) -> None:
        """Add a call whose answer was paid for, and return once it is in the log or the
        journal."""
        if self.journal is not None:
            self.journal.append([call])
        if self.journal is not None or self._task is None or self._task.done():
            self.add_call(call)
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._calls.append(call)
        self._waiters.append(done)
        self._wake.set()
        self._urgent.set()
        await done

    def add_verdicts(self, verdicts: list[OrderVerdict]) -> None:
        self._verdicts += verdicts
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def close(self) -> None:
        """Write what is pending and stop."""
        self._closing = True
        self._wake.set()
        self._urgent.set()
        if self._task is not None:
            await self._task

    def abort(self) -> None:
        """Stop at once, writing what is pending here: whatever arrived is kept, even on
        Ctrl-C. Called last in any case. What is still in the journal stays there (a write cut
        short may or may not have committed): the next run moves it in, skipping rows the log
        has."""
        try:
            if self._task is not None and not self._task.done():
                self._task.cancel()
                calls, verdicts, _ = self._take()
                if calls or verdicts:
                    self.log.write(calls, verdicts)
        finally:
            if self.journal is not None:
                self.journal.close()

    async def _loop(self) -> None:
        clock = asyncio.get_running_loop().time
        flushed = verdicts_flushed = clock()
        while True:
            await self._wake.wait()
            for _ in range(0 if self._closing else BATCH_TURNS):
                await asyncio.sleep(0)
            self._wake.clear()
            self._urgent.clear()
            if self._closing or clock() - flushed >= self.interval:
                flushed = clock()
            due_verdicts = clock() - verdicts_flushed >= max(self.interval, VERDICT_INTERVAL)
            if self._closing or due_verdicts:
                verdicts_flushed = clock()
            calls, verdicts, waiters = self._take(verdicts=self._closing or due_verdicts)
            journaled = self.journal.seal() if self.journal is not None else 0
            try:
                if calls or verdicts:
                    await asyncio.to_thread(self.log.write, calls, verdicts)
            except BaseException as exc:
                for w in waiters:
                    if not w.done():
                        w.set_exception(exc)
                raise
            for w in waiters:
                if not w.done():
                    w.set_result(None)
            if self.journal is not None:
                self.journal.moved(journaled)
            if self._verdicts:
                self._wake.set()  # held back until the batch is due
            if self._closing and not (self._calls or self._verdicts):
                return
            if not self._closing and not self._waiters:
                # Batch what is not urgent; a paid answer cuts the wait short.
                with contextlib.suppress(TimeoutError):
                    due = max(0.0, flushed + self.interval - clock())
                    await asyncio.wait_for(self._urgent.wait(), due)

    def _take(
        self, *, verdicts: bool = True
    ) -> tuple[list[Call], list[OrderVerdict], list[asyncio.Future[None]]]:
        calls, waiters = self._calls, self._waiters
        self._calls, self._waiters = [], []
        taken: list[OrderVerdict] = []
        if verdicts:
            taken, self._verdicts = self._verdicts, []
        return calls, taken, waiters
