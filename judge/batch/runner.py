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

The ledger, resume, split and polling are judge/batch/core.py's, shared with batch generation;
this module reads the results as verdicts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from judge.batch.clients import BatchClient, BatchState
from judge.batch.core import (
    BatchCounts,
    BatchDriver,
    BatchLedger,
    BatchRecord,
    BatchSettings,
    OpenBatch,
    wait,
)
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


@dataclass
class BatchSummary(Summary, BatchCounts):
    """A run's `Summary`, with what its batches did."""


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
        self.driver = BatchDriver(client, ledger, batch)
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
        resumed = self.driver.resume()
        self.summary.resumed = [r.batch_id for r in resumed if r.batch_id]
        self._wait(resumed)
        # Not waiting, an earlier batch still runs: which requests it holds is known only from
        # its results, so nothing more is sent before it is collected.
        if not self.summary.still_open:
            todo = self._from_cache([i for i in items if i.key not in self._settled])
            self._wait(self._submit(todo))
        self.summary.seconds = time.perf_counter() - started
        self.summary.measure_orders(self._verdicts)
        return self.summary

    def _wait(self, records: list[BatchRecord]) -> None:
        batches = [OpenBatch(r, self.client, self._collect) for r in records]
        wait(batches, self.batch, self.summary, self.sleep)

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
        return self.driver.submit(lines, keys, s)

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
