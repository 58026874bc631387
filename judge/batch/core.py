"""What every batch run does, whatever its calls are (verdicts, generated outputs): record a batch
before it is sent, give the record the provider's id once accepted, find a batch a killed run
was sending, split the requests within the provider's limits, and poll with backoff until each
batch ends, handing it to the run to collect exactly once.

The run keeps its own ledger (the judge: the study's database; generation: a file beside its
call log) and its own reading of the results; both survive kill -9 at any point because a batch
is in the ledger before the provider hears of it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from judge.batch.clients import BatchClient, BatchState
from judge.batch.requests import BatchLimits, split
from judge.call_log import Call, OrderVerdict

BACKOFF = 1.5  # each wait between polls is this much longer than the last, up to poll_max


@dataclass(frozen=True)
class BatchSettings:
    """How a batch run polls, and how large its batches may be (at most the provider's limits;
    smaller here only to split sooner). Without `wait_until_done`, a run checks each batch once,
    collects those that ended and leaves the others open for a later run (the admin page must
    not block for a day)."""

    poll_interval: float = 30.0  # seconds before the second status check
    poll_max: float = 600.0  # the longest wait between two checks
    max_requests: int | None = None
    max_bytes: int | None = None
    wait_until_done: bool = True


@dataclass(frozen=True)
class BatchRecord:
    """A batch of this run or an earlier one. `tag` is signoff's own name for it, recorded
    before it is sent; `batch_id` the provider's, once it accepted the batch. `keys` (the cache
    keys it holds) is known to the run that submitted it only: a resumed run reads them from the
    results."""

    tag: str
    requests: int
    batch_id: str | None = None
    keys: tuple[str, ...] = ()
    since: datetime | None = None  # when it was recorded (to find it at the provider)


class BatchLedger(Protocol):
    """Where a run records its batches."""

    def open_batches(self) -> list[BatchRecord]:
        """Batches recorded for this run's calls that nobody has collected yet."""
        ...

    def known_ids(self) -> set[str]:
        """Every provider batch id recorded, collected or not."""
        ...

    def submitting(self, record: BatchRecord) -> None:
        """Record a batch about to be sent, before it is."""
        ...

    def submitted(self, record: BatchRecord) -> None:
        """Record the provider's id of a batch it accepted, before it is polled."""
        ...

    def collected(
        self,
        record: BatchRecord,
        state: BatchState,
        calls: list[Call],
        verdicts: list[OrderVerdict],
    ) -> None:
        """Write an ended batch's calls (and verdicts, if any) and close it, as one step."""
        ...


@dataclass
class BatchCounts:
    """What a run's batches did."""

    submitted: int = 0  # requests this run sent in new batches
    batches: list[str] = field(default_factory=list)  # batches this run submitted
    resumed: list[str] = field(default_factory=list)  # batches of an earlier run, collected now
    still_open: list[str] = field(default_factory=list)  # left running (not waited for)
    polls: int = 0
    poll_wait_seconds: float = 0.0  # time spent waiting between polls


@dataclass(frozen=True)
class OpenBatch:
    """A batch to poll, the client that asks about it, and what collects it once it ended."""

    record: BatchRecord
    client: BatchClient
    collect: Callable[[BatchRecord, BatchState], None]


class BatchDriver:
    """One provider's batches for one run: resume, submit, limits."""

    def __init__(self, client: BatchClient, ledger: BatchLedger, settings: BatchSettings):
        self.client, self.ledger, self.settings = client, ledger, settings

    def resume(self) -> list[BatchRecord]:
        """The batches an earlier run left open, each with its provider id: one killed while
        it submitted is looked up by its tag; one the provider never received is closed, and
        its requests are asked again with the rest."""
        records = []
        for record in self.ledger.open_batches():
            if record.batch_id is None:
                known = self.ledger.known_ids()
                found = self.client.find(record.tag, record.requests, record.since, known)
                if found is None:
                    state = BatchState("not_submitted", record.requests, 0, 0)
                    self.ledger.collected(record, state, [], [])
                    continue
                record = replace(record, batch_id=found)
                self.ledger.submitted(record)
            records.append(record)
        return records

    def limits(self) -> BatchLimits:
        own, b = self.client.limits, self.settings
        return BatchLimits(
            min(own.max_requests, b.max_requests or own.max_requests),
            min(own.max_bytes, b.max_bytes or own.max_bytes),
        )

    def submit(self, lines: list[str], keys: list[str], counts: BatchCounts) -> list[BatchRecord]:
        """Send `lines` (one per key) in batches within the limits, each recorded before it is
        sent and given its id as soon as the provider accepted it."""
        records: list[BatchRecord] = []
        done = 0
        for chunk in split(lines, self.limits()):
            record = BatchRecord(
                f"signoff-{uuid.uuid4().hex[:20]}", len(chunk),
                keys=tuple(keys[done : done + len(chunk)]),
            )  # fmt: skip
            done += len(chunk)
            self.ledger.submitting(record)
            record = replace(record, batch_id=self.client.submit(chunk, record.tag))
            self.ledger.submitted(record)
            records.append(record)
            counts.submitted += len(chunk)
            counts.batches.append(record.batch_id or "")
        return records


def wait(
    pending: list[OpenBatch],
    settings: BatchSettings,
    counts: BatchCounts,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Poll every batch until it ended and was collected, waiting longer each round; without
    `settings.wait_until_done`, one round only, the batches still running kept in
    `counts.still_open`."""
    delay = settings.poll_interval
    while pending:
        still = []
        for batch in pending:
            state = batch.client.state(batch.record.batch_id or "")
            counts.polls += 1
            if state.ended:
                batch.collect(batch.record, state)
            else:
                still.append(batch)
        pending = still
        if pending and not settings.wait_until_done:
            counts.still_open += [b.record.batch_id or "" for b in pending]
            return
        if pending:
            t0 = time.perf_counter()
            sleep(delay)
            counts.poll_wait_seconds += time.perf_counter() - t0
            delay = min(delay * BACKOFF, max(settings.poll_max, settings.poll_interval))
