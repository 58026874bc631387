"""Judge pairs through a provider's batch API: half the price, no per-minute limit, answers
within the provider's window (24 h) instead of at once.

A run first collects the batches an earlier run of the same judge left open (a run killed
while it polled: it resumes by polling the same batch ids, never submitting their requests
again), then serves what it can from the cache, submits the rest in batches within the
provider's limits, and polls them with backoff. Each batch is recorded in a `BatchLedger`
before it is sent, under a tag of its own (which OpenAI keeps in the batch's metadata), and
given the provider's id as soon as the provider accepts it: a run killed while it submitted
finds its batch by that tag (Anthropic keeps no metadata: there, by its size and time). An ended
batch's results are read through the same verdict parser as online answers and written, with
its calls at the batch price, in one transaction that also closes the batch: a batch is
collected once, whenever the process dies.

Requests the provider failed (errored, expired with the batch) are logged as failed calls and
reported; they are not answered, so the next run asks for them again, and for them only.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from judge.batch.clients import BatchClient, BatchState
from judge.batch.requests import BatchLimits, split
from judge.budget import CostBudget
from judge.call_log import Call, CallLog, OrderVerdict
from judge.calls import VerdictAnswers
from judge.consistency import CANDIDATE_FIRST
from judge.plan import Item, input_tokens, plan
from judge.pricing import Price
from judge.providers import Request, Response
from judge.spec import JudgeSpec, PairInput, Settings
from judge.summary import RunProgress, Summary
from judge.verdict import JudgeOutput, ParseFailure, parse_answer, to_preference

BACKOFF = 1.5  # each wait between polls is this much longer than the last, up to poll_max


@dataclass(frozen=True)
class BatchSettings:
    """How a batch run polls, and how large its batches may be (at most the provider's limits;
    smaller here only to split sooner)."""

    poll_interval: float = 30.0  # seconds before the second status check
    poll_max: float = 600.0  # the longest wait between two checks
    max_requests: int | None = None
    max_bytes: int | None = None


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
    """Where a run records its batches (reviewer implements it on the study's database)."""

    def open_batches(self) -> list[BatchRecord]:
        """Batches this judge recorded (for this study) and nobody has collected yet."""
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
        """Write an ended batch's calls and verdicts and close it, in one transaction."""
        ...


@dataclass
class BatchSummary(Summary):
    """A run's `Summary`, with what its batches did."""

    submitted: int = 0  # requests this run sent in new batches
    batches: list[str] = field(default_factory=list)  # batches this run submitted
    resumed: list[str] = field(default_factory=list)  # batches of an earlier run, collected now
    polls: int = 0
    poll_wait_seconds: float = 0.0  # time spent waiting between polls


class BatchRunner:
    def __init__(
        self,
        spec: JudgeSpec,
        client: BatchClient,
        log: CallLog,
        ledger: BatchLedger,
        settings: Settings,
        batch: BatchSettings,
        price: Price | None,
        on_progress: Callable[[RunProgress], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.spec, self.client, self.log, self.ledger = spec, client, log, ledger
        self.settings, self.batch, self.on_progress, self.sleep = (
            settings,
            batch,
            on_progress,
            sleep,
        )
        self.price = price.batch() if price else None
        self.answers = VerdictAnswers(spec, settings.max_tokens)
        self.summary = BatchSummary()
        self._by_key: dict[str, Item] = {}
        self._settled: set[str] = set()  # keys collected by this run, answered or failed
        self._done = 0
        self._verdicts: list[OrderVerdict] = []

    def run(self, pairs: Sequence[PairInput]) -> BatchSummary:
        started = time.perf_counter()
        items = plan(pairs, self.spec)
        self._by_key = {i.key: i for i in items}
        self.summary.needed = sum(len(i.targets) for i in items)
        self._report()
        resumed = self._resume()
        self.summary.resumed = [r.batch_id for r in resumed if r.batch_id]
        self._wait(resumed)
        todo = self._from_cache([i for i in items if i.key not in self._settled])
        self._wait(self._submit(todo))
        self.summary.seconds = time.perf_counter() - started
        self.summary.measure_orders(self._verdicts)
        return self.summary

    def _resume(self) -> list[BatchRecord]:
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

    def _from_cache(self, items: list[Item]) -> list[Item]:
        """Serve what the cache holds; return the items left to ask."""
        hits = self.log.cached([i.key for i in items])
        calls: list[Call] = []
        verdicts: list[OrderVerdict] = []
        todo = []
        for item in items:
            hit = hits.get(item.key)
            try:
                out = parse_answer(hit.text, self.spec.rubric) if hit else None
            except ParseFailure:
                out = None  # not a usable answer after all: ask again
            if hit is None or out is None:
                todo.append(item)
                continue
            calls += [
                Call(item.key, p.pair_id, presented, "cached", 0, served_model=hit.served_model)
                for p, presented in item.targets
            ]
            verdicts += self._accept(item, out)
            self.summary.cached += len(item.targets)
        if calls:
            self.log.write(calls, verdicts)
        self._report()
        return todo

    def _request(self, item: Item) -> Request:
        s, a = self.settings, self.answers
        return Request(item.messages, a.schema, s.max_tokens, s.temperature, s.timeout, a.options)

    def _limits(self) -> BatchLimits:
        own, b = self.client.limits, self.batch
        return BatchLimits(
            min(own.max_requests, b.max_requests or own.max_requests),
            min(own.max_bytes, b.max_bytes or own.max_bytes),
        )

    def _submit(self, items: list[Item]) -> list[BatchRecord]:
        """Send `items` in batches within the limits and the budget; record each batch."""
        s = self.summary
        budget = CostBudget(
            self.price, self.settings.max_cost, self.settings.max_tokens, self.spec.model
        )
        lines, keys = [], []
        for item in items:
            if budget.reserve(input_tokens(item.messages), s.cost_usd) is None:
                s.stopped = f"budget of ${self.settings.max_cost:.2f} reached"
                break
            lines.append(self.client.line(item.key, self._request(item)))
            keys.append(item.key)
        records: list[BatchRecord] = []
        for chunk in split(lines, self._limits()):
            done = sum(r.requests for r in records)
            record = BatchRecord(
                f"signoff-{uuid.uuid4().hex[:20]}", len(chunk),
                keys=tuple(keys[done : done + len(chunk)]),
            )  # fmt: skip
            self.ledger.submitting(record)
            record = replace(record, batch_id=self.client.submit(chunk, record.tag))
            self.ledger.submitted(record)
            records.append(record)
            s.submitted += len(chunk)
            s.batches.append(record.batch_id)
        return records

    def _wait(self, records: list[BatchRecord]) -> None:
        """Poll `records` until every one has ended and is collected, waiting longer each
        round."""
        pending, delay = list(records), self.batch.poll_interval
        while pending:
            still = []
            for record in pending:
                state = self.client.state(record.batch_id or "")
                self.summary.polls += 1
                if state.ended:
                    self._collect(record, state)
                else:
                    still.append(record)
            pending = still
            if pending:
                t0 = time.perf_counter()
                self.sleep(delay)
                self.summary.poll_wait_seconds += time.perf_counter() - t0
                delay = min(delay * BACKOFF, max(self.batch.poll_max, self.batch.poll_interval))

    def _collect(self, record: BatchRecord, state: BatchState) -> None:
        """Read an ended batch's results into calls and verdicts, and write them."""
        calls: list[Call] = []
        verdicts: list[OrderVerdict] = []
        failed = state.status == "failed"
        results = [] if failed else self.client.results(record.batch_id or "")
        for key, outcome in results:
            item = self._by_key.get(key)
            if item is None or key in self._settled:
                continue  # not a call of this run's pairs, or a result given twice
            self._settled.add(key)
            calls += self._read(record.batch_id or "", item, outcome, verdicts)
        why = state.reason or f"the batch {state.status} without answering it"
        for key in record.keys:  # requests the results did not mention
            if key not in self._settled and key in self._by_key:
                self._settled.add(key)
                calls += self._read(record.batch_id or "", self._by_key[key], why, verdicts)
        self.ledger.collected(record, state, calls, verdicts)
        self._report()

    def _read(
        self, batch_id: str, item: Item, outcome: Response | str, verdicts: list[OrderVerdict]
    ) -> list[Call]:
        """The call rows of one result; its verdicts appended to `verdicts`."""
        s, (pair_id, presented) = self.summary, item.log_id
        logged = {"messages": item.messages, "params": self.answers.params, "batch": batch_id}
        self._done += len(item.targets)
        if isinstance(outcome, str):
            self._give_up(item, outcome, parse=False)
            return [Call(item.key, pair_id, presented, "error", 1, request=logged, error=outcome)]
        cost = self.price.cost(outcome.input_tokens, outcome.output_tokens) if self.price else 0
        s.calls += 1
        s.cost_usd += cost
        s.input_tokens += outcome.input_tokens
        s.output_tokens += outcome.output_tokens
        settled = self.answers.read(outcome)
        if settled.output is not None:
            verdicts += self._accept(item, settled.output)
        else:
            self._give_up(item, f"unparseable answer ({settled.failure})", parse=True)
        return [
            Call(
                item.key, pair_id, presented,
                "ok" if settled.output is not None else "parse_failure", 1, request=logged,
                response_text=outcome.text, input_tokens=outcome.input_tokens,
                output_tokens=outcome.output_tokens, cost_usd=cost, error=settled.failure,
                served_model=outcome.served_model,
            )
        ]  # fmt: skip

    def _accept(self, item: Item, out: JudgeOutput) -> list[OrderVerdict]:
        verdicts = []
        for pair, presented in item.targets:
            preference, criteria = to_preference(out, candidate_first=presented == CANDIDATE_FIRST)
            verdicts.append(
                OrderVerdict(pair.pair_id, presented, preference, criteria, out.rationale, item.key)
            )
        self._verdicts += verdicts
        self.summary.verdicts += len(item.targets)
        return verdicts

    def _give_up(self, item: Item, reason: str, *, parse: bool) -> None:
        s = self.summary
        if parse:
            s.parse_failures += len(item.targets)
        else:
            s.errors += len(item.targets)
        if len(s.failures) < 5:
            s.failures.append(f"{item.targets[0][0].pair_id}: {reason}")

    def _report(self) -> None:
        if self.on_progress:
            s = self.summary
            done = self._done + s.cached
            self.on_progress(RunProgress(s.needed, done, s.calls, s.cost_usd))


def run_batch(
    pairs: Sequence[PairInput],
    spec: JudgeSpec,
    client: BatchClient,
    log: CallLog,
    ledger: BatchLedger,
    settings: Settings,
    batch: BatchSettings,
    price: Price | None,
    on_progress: Callable[[RunProgress], None] | None = None,
) -> BatchSummary:
    """Judge `pairs` in both orders through `client`'s batch API; blocking until every batch
    ended. `price` is the online price: the calls are recorded at its batch price."""
    try:
        return BatchRunner(spec, client, log, ledger, settings, batch, price, on_progress).run(
            pairs
        )
    finally:
        client.close()
