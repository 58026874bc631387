"""Generate outputs through the providers' batch APIs (`signoff generate --batch`): the same
calls as an online run, at half the price, answered within the provider's window.

What an output is stays as judge/generate.py has it: an empty answer, or one cut at max_tokens,
is a result (marked); a request the provider failed (errored, expired) is a failed output, logged
as a failed call and asked again by the next run. Answers already in the call log are served
from it and never sent. Each model's batches go to its own provider and are recorded in its
`BatchLedger` before they are sent (judge/batch/core.py): a run killed at any point resumes by
collecting the batches it left, and an answer it had already logged is not counted again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

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
from judge.call_log import Call
from judge.generate import (
    Generation,
    GenerationLog,
    GenerationSummary,
    Item,
    ModelRun,
    Prompt,
    generation_of,
    plan,
    put_targets,
    text_answers,
)
from judge.plan import input_tokens
from judge.pricing import Price
from judge.providers import Request, Response
from judge.spec import Settings
from judge.summary import RunProgress


@dataclass
class GenerationBatchSummary(GenerationSummary, BatchCounts):
    """A generation run's summary, with what its batches did."""


@dataclass(frozen=True)
class BatchModel:
    """A model of the run, the batch API that serves it and where its batches are recorded."""

    run: ModelRun
    client: BatchClient
    ledger: BatchLedger


class GenerationBatchRunner:
    """Every (prompt, model) through the models' batch APIs, within one budget for the run."""

    def __init__(
        self,
        models: Sequence[BatchModel],
        log: GenerationLog,
        settings: Settings,
        batch: BatchSettings,
        on_progress: Callable[[RunProgress], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.models, self.log, self.settings, self.batch = list(models), log, settings, batch
        self.on_progress, self.sleep = on_progress, sleep
        self.summary = GenerationBatchSummary()
        self.results: dict[tuple[str, str], Generation] = {}
        self.drivers = {m.run.spec.name: BatchDriver(m.client, m.ledger, batch) for m in models}
        self.answers = {m.run.spec.name: text_answers(m.run.spec, settings) for m in models}
        self._by_key: dict[str, Item] = {}
        self._settled: set[str] = set()  # keys served from the log or collected by this run

    def run(self, prompts: Sequence[Prompt]) -> dict[tuple[str, str], Generation]:
        """Every (prompt id, model name) settled, unless the run stopped or (not waiting) a
        batch is still running."""
        started = time.perf_counter()
        items = plan(prompts, [m.run for m in self.models])
        self._by_key = {i.key: i for i in items}
        self.summary.needed = sum(len(i.targets) for i in items)
        self._from_log(items)
        resumed = []
        for m in self.models:
            records = self.drivers[m.run.spec.name].resume()
            self.summary.resumed += [r.batch_id or "" for r in records]
            resumed += [OpenBatch(r, m.client, partial(self._collect, m)) for r in records]
        wait(resumed, self.batch, self.summary, self.sleep)
        if not self.summary.still_open:  # an open batch's requests are unknown until it ends
            todo = [i for i in items if i.key not in self._settled]
            wait(self._submit(todo), self.batch, self.summary, self.sleep)
        self.summary.seconds = time.perf_counter() - started
        return self.results

    def _from_log(self, items: list[Item]) -> None:
        """Serve the answers the log holds: never sent again."""
        hits = self.log.answers([i.key for i in items])
        calls = []
        for item in items:
            call = hits.get(item.key)
            if call is None:
                continue
            calls += [
                Call(item.key, prompt_id, name, "cached", 0, served_model=call.served_model)
                for prompt_id, name in item.targets
            ]
            self._settled.add(item.key)
            self.summary.cached += len(item.targets)
            self._keep(item, generation_of(call, item.model.price, cached=True))
        if calls:
            self.log.write(calls, [])
        self._report()

    def _submit(self, items: list[Item]) -> list[OpenBatch]:
        """Each model's requests in batches within its limits and the run's budget."""
        first = self.models[0].run
        budget = CostBudget(
            _batch(first), self.settings.max_cost, self.settings.max_tokens, first.spec.model
        )
        per_model: dict[str, tuple[list[str], list[str]]] = {
            m.run.spec.name: ([], []) for m in self.models
        }
        shares = {
            m.run.spec.name: budget.share(_batch(m.run), m.run.spec.model) for m in self.models
        }
        clients = {m.run.spec.name: m.client for m in self.models}
        for item in items:
            name = item.model.spec.name
            if shares[name].reserve(input_tokens(item.messages), self.summary.cost_usd) is None:
                self.summary.stopped = f"budget of ${self.settings.max_cost:.2f} reached"
                break
            lines, keys = per_model[name]
            lines.append(clients[name].line(item.key, self._request(item)))
            keys.append(item.key)
        opened = []
        for m in self.models:
            lines, keys = per_model[m.run.spec.name]
            records = self.drivers[m.run.spec.name].submit(lines, keys, self.summary)
            opened += [OpenBatch(r, m.client, partial(self._collect, m)) for r in records]
        return opened

    def _request(self, item: Item) -> Request:
        spec, s = item.model.spec, self.settings
        a = self.answers[spec.name]
        temperature = spec.params.get("temperature", s.temperature)
        return Request(item.messages, a.schema, a.max_tokens, temperature, s.timeout, a.options)

    def _collect(self, model: BatchModel, record: BatchRecord, state: BatchState) -> None:
        """Read an ended batch's results into the log and the outputs, once."""
        batch_id = record.batch_id or ""
        calls: list[Call] = []
        results = [] if state.status == "failed" else model.client.results(batch_id)
        for key, outcome in results:
            item = self._by_key.get(key)
            if item is None or key in self._settled:
                continue  # not a call of this run, one given twice, or already in the log
            self._settled.add(key)
            calls.append(self._read(batch_id, item, outcome))
        why = state.reason or f"the batch {state.status} without answering it"
        for key in record.keys:  # requests the results did not mention
            if key not in self._settled and key in self._by_key:
                self._settled.add(key)
                calls.append(self._read(batch_id, self._by_key[key], why))
        model.ledger.collected(record, state, calls, [])
        self._report()

    def _read(self, batch_id: str, item: Item, outcome: Response | str) -> Call:
        """The call row of one result; its output kept."""
        s, spec, (prompt_id, name) = self.summary, item.model.spec, item.log_id
        logged = {"messages": item.messages, "params": spec.params, "batch": batch_id}
        if isinstance(outcome, str):
            s.failed += len(item.targets)
            if len(s.failures) < 5:
                s.failures.append(f"{prompt_id}: {outcome}")
            self._keep(item, Generation(prompt_id, name, "failed", "", error=outcome))
            return Call(item.key, prompt_id, name, "error", 1, request=logged, error=outcome)
        price = _batch(item.model)
        cost = price.cost(outcome.input_tokens, outcome.output_tokens) if price else 0.0
        s.calls += 1
        s.cost_usd += cost
        s.input_tokens += outcome.input_tokens
        s.output_tokens += outcome.output_tokens
        settled = self.answers[name].read(outcome)
        call = Call(
            item.key, prompt_id, name, "ok", 1, request=logged, response_text=outcome.text,
            input_tokens=outcome.input_tokens, output_tokens=outcome.output_tokens,
            cost_usd=cost, error=settled.failure, served_model=outcome.served_model,
        )  # fmt: skip
        s.generated += len(item.targets)
        self._keep(item, generation_of(call, item.model.price, cached=False))
        return call

    def _keep(self, item: Item, generation: Generation) -> None:
        self.summary.empty += (generation.status == "empty") * len(item.targets)
        self.summary.truncated += (generation.status == "truncated") * len(item.targets)
        put_targets(self.results, item, generation)

    def _report(self) -> None:
        if self.on_progress:
            s = self.summary
            self.on_progress(RunProgress(s.needed, len(self.results), s.calls, s.cost_usd))


def _batch(run: ModelRun) -> Price | None:
    """The model's price through the batch API (None: unknown)."""
    return run.price.batch() if run.price else None


def run_generation_batch(
    prompts: Sequence[Prompt],
    models: Sequence[BatchModel],
    log: GenerationLog,
    settings: Settings,
    batch: BatchSettings,
    on_progress: Callable[[RunProgress], None] | None = None,
) -> tuple[dict[tuple[str, str], Generation], GenerationBatchSummary]:
    """Generate every prompt with every model through their batch APIs; blocking until every
    batch ended (or, without `batch.wait_until_done`, one round of status checks)."""
    runner = GenerationBatchRunner(models, log, settings, batch, on_progress)
    try:
        return runner.run(prompts), runner.summary
    finally:
        for m in models:
            m.client.close()
