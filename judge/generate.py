"""Generate outputs: every prompt of a golden set through every model, with the judge's machinery.

The calls go through the same `Caller` as the judge's (rate limits, budget, retries with backoff,
every attempt logged, a paid answer in the log before its worker goes on) and the same
`LogWriter`; what differs is the answer: free text, kept whatever it is. An empty answer, or one
cut at max_tokens, is a result (marked); a call that kept failing is marked failed. A log row's
`pair_id` is the prompt's id and its `presented` the model's name.

A run killed at any point resumes from its log: an answer already received is read from it with
the latency, tokens and cost of the call that paid for it, and never asked for again.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

from judge.budget import CostBudget
from judge.call_log import Call, LogWriter, OrderVerdict
from judge.calls import Caller, Settled, run_pool
from judge.estimate import CostEstimate
from judge.identity import canonical
from judge.plan import input_tokens
from judge.pricing import Price
from judge.providers import Provider, Response
from judge.providers.base import SdkProvider
from judge.spec import Settings
from judge.summary import RunProgress

Status = Literal["ok", "empty", "truncated", "failed"]


@dataclass(frozen=True)
class ModelSpec:
    """One model to generate with: the name the user gave it, where it runs, and the sampling
    parameters sent to it (exactly those: they are what the outputs are recorded with)."""

    name: str
    provider: str
    model: str
    base_url: str | None = None
    params: dict = field(default_factory=dict)  # temperature, max_tokens, seed, top_p as sent

    def cache_key(self, messages: list[dict]) -> str:
        """Same server, model, parameters and messages: the same call. The base URL counts (two
        local servers may both call their model "default"); the name the user gave does not."""
        return hashlib.sha256(
            canonical(
                {
                    "kind": "generate",
                    "provider": self.provider,
                    "model": self.model,
                    "base_url": self.base_url,
                    "params": self.params,
                    "messages": messages,
                }
            ).encode()
        ).hexdigest()


@dataclass(frozen=True)
class ModelRun:
    """A model with the provider that calls it and its price (None: unknown, cost not counted)."""

    spec: ModelSpec
    provider: Provider
    price: Price | None


@dataclass(frozen=True)
class Prompt:
    id: str
    messages: list[dict]


@dataclass(frozen=True)
class Generation:
    """One model's output for one prompt, and what producing it took."""

    prompt_id: str
    model: str  # the model's name in this run
    status: Status
    text: str
    error: str | None = None
    latency_ms: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None  # None when the model's price is unknown
    served_model: str | None = None
    cached: bool = False  # read from the log of an earlier (killed or finished) run


@dataclass
class GenerationSummary:
    needed: int = 0  # (prompt, model) outputs wanted
    generated: int = 0  # outputs received this run
    cached: int = 0  # outputs read from the log
    empty: int = 0
    truncated: int = 0
    failed: int = 0  # calls that kept failing: kept as failed outputs
    calls: int = 0
    retries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0  # paid by this run
    seconds: float = 0.0
    stopped: str | None = None  # why the run ended before every output was settled
    failures: list[str] = field(default_factory=list)  # first few reasons, for the user

    @property
    def missing(self) -> int:
        return self.needed - self.generated - self.cached - self.failed


class GenerationLog(Protocol):
    """Where a generation run's calls go and where a resumed run finds them."""

    def answers(self, keys: Sequence[str]) -> dict[str, Call]:
        """The first successful call logged for each key."""
        ...

    def write(self, calls: list[Call], verdicts: list[OrderVerdict]) -> None:
        """Append calls (verdicts are always empty here): durable against a kill of the process
        once this returns, and cheap enough for the event loop (a paid answer is written there),
        while the writer's thread may be appending other calls."""
        ...


@dataclass
class TextAnswers:
    """Generation calls: no answer schema, the text read as it is."""

    params: dict
    options: dict
    max_tokens: int
    schema: dict = field(default_factory=dict)

    def read(self, response: Response) -> Settled:
        if response.truncated:
            return Settled(output=response.text, failure=f"cut at max_tokens={self.max_tokens}")
        return Settled(output=response.text)


@dataclass
class Item:
    """One call to make, and every (prompt, model name) its answer serves."""

    key: str
    messages: list[dict]
    model: ModelRun
    targets: list[tuple[str, str]]

    @property
    def log_id(self) -> tuple[str, str]:
        return self.targets[0]


SAMPLING_OPTIONS = ("seed", "top_p")  # sent beside temperature and max_tokens when given


def text_answers(spec: ModelSpec, settings: Settings) -> TextAnswers:
    """How `spec`'s answers are asked for and read: its own parameters, as sent."""
    return TextAnswers(
        spec.params,
        {k: spec.params[k] for k in SAMPLING_OPTIONS if k in spec.params},
        spec.params.get("max_tokens", settings.max_tokens),
    )


def plan(prompts: Sequence[Prompt], models: Sequence[ModelRun]) -> list[Item]:
    """Every prompt for every model, models interleaved, identical calls merged."""
    items: dict[str, Item] = {}
    for prompt in prompts:
        for run in models:
            key = run.spec.cache_key(prompt.messages)
            if key in items:
                items[key].targets.append((prompt.id, run.spec.name))
            else:
                items[key] = Item(key, prompt.messages, run, [(prompt.id, run.spec.name)])
    return list(items.values())


class GenerationRunner:
    """Runs the calls of every model from one queue, `settings.concurrency` at a time, within one
    budget for the whole run."""

    def __init__(
        self,
        models: Sequence[ModelRun],
        log: GenerationLog,
        settings: Settings,
        on_progress: Callable[[RunProgress], None] | None = None,
    ):
        self.models, self.log, self.settings = list(models), log, settings
        self.on_progress = on_progress
        self.summary = GenerationSummary()
        self.writer = LogWriter(log, settings.flush_interval)  # type: ignore[arg-type]
        self.results: dict[tuple[str, str], Generation] = {}
        self._paid: dict[str, Call] = {}  # the last paid call of each key, until it settles
        first = self.models[0]
        budget = CostBudget(first.price, settings.max_cost, settings.max_tokens, first.spec.model)
        self.callers = {
            m.spec.name: Caller(
                text_answers(m.spec, settings),
                m.provider,
                sent_settings(settings, m.spec),
                budget.share(m.price, m.spec.model),
                self.summary,
                self.writer.add_call,
                self._record_paid,
            )
            for m in self.models
        }

    async def run(self, prompts: Sequence[Prompt]) -> dict[tuple[str, str], Generation]:
        """Every (prompt id, model name) settled, unless the run stopped (`summary.stopped`)."""
        started = time.perf_counter()
        items = plan(prompts, self.models)
        self.summary.needed = sum(len(i.targets) for i in items)
        hits = await asyncio.to_thread(self.log.answers, [i.key for i in items])
        to_call = []
        for item in items:
            if item.key in hits:
                self._from_log(item, hits[item.key])
            else:
                to_call.append(item)
        self._report()
        if to_call:
            # Latency is a measure here: the SDK's import (seconds) must not count in any call.
            for m in self.models:
                if isinstance(m.provider, SdkProvider):
                    m.provider.warm()
        await run_pool(
            to_call, self._call, self._settled, self.writer, self.settings.concurrency,
            self.summary,
        )  # fmt: skip
        self.summary.seconds = time.perf_counter() - started
        return self.results

    async def _record_paid(self, call: Call) -> None:
        """A paid answer goes into the log before its worker goes on, written here on the event
        loop: one append, where waiting for the writer's next batch in its thread cost each
        call a few ms at 32 calls in flight (bench/RESULTS.md, issue 13)."""
        self._paid[call.cache_key] = call
        self.log.write([call], [])

    async def _call(self, item: Item) -> Settled | None:
        return await self.callers[item.model.spec.name].judge(item)

    def _settled(self, item: Item, settled: Settled) -> None:
        paid = self._paid.pop(item.key, None)
        if paid is not None and settled.output is not None:
            generation = generation_of(paid, item.model.price, cached=False)
            self.summary.generated += len(item.targets)
        else:
            generation = Generation("", "", "failed", "", error=settled.failure)
            self.summary.failed += len(item.targets)
            if len(self.summary.failures) < 5:
                self.summary.failures.append(f"{item.log_id[0]}: {settled.failure}")
        self._keep(item, generation)

    def _from_log(self, item: Item, call: Call) -> None:
        for prompt_id, name in item.targets:
            self.writer.add_call(
                Call(item.key, prompt_id, name, "cached", 0, served_model=call.served_model)
            )
        self.summary.cached += len(item.targets)
        self._keep(item, generation_of(call, item.model.price, cached=True))

    def _keep(self, item: Item, generation: Generation) -> None:
        self.summary.empty += (generation.status == "empty") * len(item.targets)
        self.summary.truncated += (generation.status == "truncated") * len(item.targets)
        put_targets(self.results, item, generation)
        self._report()

    def _report(self) -> None:
        if self.on_progress:
            s = self.summary
            self.on_progress(RunProgress(s.needed, len(self.results), s.calls, s.cost_usd))


# A rough typical answer, for the dry run's expected cost (its "at most" is max_tokens per call).
TYPICAL_OUTPUT_TOKENS = 300


def estimate(
    prompts: Sequence[Prompt], models: Sequence[ModelRun], settings: Settings, log: GenerationLog
) -> dict[str, CostEstimate]:
    """What generating would cost, by model name, at the online price: the calls the log does
    not answer yet, tokens counted at ~4 characters each."""
    items = plan(prompts, models)
    hits = log.answers([i.key for i in items])
    out = {}
    for m in models:
        mine = [i for i in items if i.model.spec.name == m.spec.name]
        todo = [i for i in mine if i.key not in hits]
        max_tokens = m.spec.params.get("max_tokens", settings.max_tokens)
        tokens_in = sum(input_tokens(i.messages) for i in todo)
        expected, most = len(todo) * min(max_tokens, TYPICAL_OUTPUT_TOKENS), len(todo) * max_tokens
        out[m.spec.name] = CostEstimate(
            needed=sum(len(i.targets) for i in mine),
            cached=sum(len(i.targets) for i in mine if i.key in hits),
            calls=len(todo), input_tokens=tokens_in, output_tokens_expected=expected,
            output_tokens_max=most,
            cost_expected=m.price.cost(tokens_in, expected) if m.price else None,
            cost_max=m.price.cost(tokens_in, most) if m.price else None,
        )  # fmt: skip
    return out


def put_targets(
    results: dict[tuple[str, str], Generation], item: Item, generation: Generation
) -> None:
    """The output in `results` for every (prompt, model name) its call serves."""
    for target in item.targets:
        same = (generation.prompt_id, generation.model) == target
        results[target] = (
            generation if same else replace(generation, prompt_id=target[0], model=target[1])
        )


def sent_settings(settings: Settings, spec: ModelSpec) -> Settings:
    """The run's settings with the model's own temperature and max_tokens: the parameters its
    outputs are recorded with are the ones sent."""
    own = {k: spec.params[k] for k in ("temperature", "max_tokens") if k in spec.params}
    return replace(settings, **own)


def generation_of(call: Call, price: Price | None, *, cached: bool) -> Generation:
    """The output a successful call gave, for the (prompt, model) it was logged under: empty,
    truncated (logged with why) or ok."""
    text = call.response_text or ""
    status: Status = "empty" if not text.strip() else "truncated" if call.error else "ok"
    return Generation(
        call.pair_id, call.presented, status, text, error=call.error, latency_ms=call.latency_ms,
        input_tokens=call.input_tokens, output_tokens=call.output_tokens,
        cost_usd=call.cost_usd if price is not None else None,
        served_model=call.served_model, cached=cached,
    )  # fmt: skip


def run_generation(
    prompts: Sequence[Prompt],
    models: Sequence[ModelRun],
    log: GenerationLog,
    settings: Settings,
    on_progress: Callable[[RunProgress], None] | None = None,
) -> tuple[dict[tuple[str, str], Generation], GenerationSummary]:
    """Generate every prompt with every model; blocking. Outputs by (prompt id, model name)."""

    async def main() -> tuple[dict[tuple[str, str], Generation], GenerationSummary]:
        runner = GenerationRunner(models, log, settings, on_progress)
        try:
            return await runner.run(prompts), runner.summary
        finally:
            for m in models:
                await m.provider.close()

    return asyncio.run(main())
