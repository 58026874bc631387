"""Judge pairs in both orders: from the cache when the same call was answered before, else from
the provider, many calls at once, within rate limits and a budget.

The runner knows nothing of where results go: it reads and writes through a `CallLog` (reviewer
implements it on DuckDB). Every call is logged, hit or miss, success or failure, and each answer
is handed to the log as soon as it arrives, so a run killed at any point resumes by finding its
answers in the cache: nothing already received is paid for twice.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from judge.consistency import CANDIDATE_FIRST, ORDERS, combine_orders, first_position_rate
from judge.identity import JudgeIdentity
from judge.limits import MinuteBudget, backoff_delay
from judge.pricing import CHARS_PER_TOKEN, Price
from judge.prompts import DEFAULT_TEMPLATE, PairText, render
from judge.providers import Provider, ProviderError, Request
from judge.rubric import Rubric
from judge.verdict import ParseFailure, answer_schema, parse_answer, to_preference


@dataclass(frozen=True)
class PairInput:
    """One pair as the judge sees it: the prompt as text and both outputs."""

    pair_id: str
    prompt: str
    candidate: str
    baseline: str
    reference: str | None = None

    def shown(self, presented: str) -> PairText:
        first, second = (
            (self.candidate, self.baseline)
            if presented == CANDIDATE_FIRST
            else (self.baseline, self.candidate)
        )
        return PairText(self.prompt, first, second, self.reference)


@dataclass(frozen=True)
class JudgeSpec:
    """A judge: its rubric, its template, and the identity they and the provider make."""

    rubric: Rubric
    identity: JudgeIdentity
    template: str = DEFAULT_TEMPLATE

    def messages(self, pair: PairInput, presented: str) -> list[dict]:
        return render(self.rubric, pair.shown(presented), self.template)


@dataclass(frozen=True)
class Settings:
    concurrency: int = 16
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    timeout: float = 60.0  # seconds per call
    max_retries: int = 6  # per call, for rate limits, server errors and timeouts
    parse_retries: int = 2  # extra calls when an answer is malformed or cut short
    max_tokens: int = 1024
    temperature: float = 0.0
    max_cost: float | None = None  # USD; the run stops cleanly before it would pass this
    seed: int = 0  # for backoff jitter
    # Seconds between writes to the call log: what a kill -9 can lose (answers received in
    # that window are paid again on resume). Writing after every answer instead took 24.5 s of
    # CPU for 2,000 calls rather than 14.5 s, for the same wall time (bench/RESULTS.md).
    flush_interval: float = 0.25


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
    def cached(self, keys: Sequence[str]) -> dict[str, str]:
        """Answer text of earlier successful calls, by cache key."""
        ...

    def write(self, calls: list[Call], verdicts: list[OrderVerdict]) -> None:
        """Persist calls and verdicts (one transaction)."""
        ...


@dataclass(frozen=True)
class RunProgress:
    total: int  # (pair, order) verdicts wanted
    done: int  # settled: judged, cached or given up
    calls: int  # requests sent so far
    cost_usd: float


@dataclass
class Summary:
    needed: int = 0
    cached: int = 0
    verdicts: int = 0
    calls: int = 0
    retries: int = 0
    parse_failures: int = 0  # (pair, order) given up: answers malformed every time
    errors: int = 0  # (pair, order) given up: the provider kept failing
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    seconds: float = 0.0
    stopped: str | None = None  # why the run ended before judging everything
    pairs_both_orders: int = 0
    flips: int = 0
    first_position_rate: float | None = None
    failures: list[str] = field(default_factory=list)  # first few reasons, for the user

    @property
    def missing(self) -> int:
        return self.needed - self.verdicts

    @property
    def flip_rate(self) -> float | None:
        return self.flips / self.pairs_both_orders if self.pairs_both_orders else None


@dataclass(frozen=True)
class CostEstimate:
    """What a run would cost before it starts; tokens counted at ~4 characters each."""

    needed: int
    cached: int
    calls: int
    input_tokens: int
    output_tokens_expected: int
    output_tokens_max: int
    cost_expected: float | None  # None when the model has no known price
    cost_max: float | None


class BudgetError(ValueError):
    """A budget was asked for a model whose price is unknown."""


@dataclass
class _Item:
    key: str
    messages: list[dict]
    targets: list[tuple[PairInput, str]]  # identical prompts share one call


def _plan(pairs: Sequence[PairInput], spec: JudgeSpec) -> list[_Item]:
    items: dict[str, _Item] = {}
    for pair in pairs:
        for presented in ORDERS:
            messages = spec.messages(pair, presented)
            key = spec.identity.cache_key(messages)
            if key in items:
                items[key].targets.append((pair, presented))
            else:
                items[key] = _Item(key, messages, [(pair, presented)])
    return list(items.values())


def _input_tokens(messages: list[dict]) -> int:
    return sum(len(m["content"]) for m in messages) // CHARS_PER_TOKEN + 8


def expected_output_tokens(rubric: Rubric) -> int:
    """A typical answer: ~80 tokens of reasoning per criterion and for the overall call."""
    return 80 * (len(rubric.criteria) + 1)


def estimate(
    pairs: Sequence[PairInput],
    spec: JudgeSpec,
    settings: Settings,
    price: Price | None,
    log: CallLog,
) -> CostEstimate:
    items = _plan(pairs, spec)
    hits = log.cached([i.key for i in items])
    todo = [i for i in items if i.key not in hits]
    tokens_in = sum(_input_tokens(i.messages) for i in todo)
    out_expected = len(todo) * min(settings.max_tokens, expected_output_tokens(spec.rubric))
    out_max = len(todo) * settings.max_tokens
    return CostEstimate(
        needed=2 * len(pairs),
        cached=sum(len(i.targets) for i in items if i.key in hits),
        calls=len(todo),
        input_tokens=tokens_in,
        output_tokens_expected=out_expected,
        output_tokens_max=out_max,
        cost_expected=price.cost(tokens_in, out_expected) if price else None,
        cost_max=price.cost(tokens_in, out_max) if price else None,
    )


class Runner:
    def __init__(
        self,
        spec: JudgeSpec,
        provider: Provider,
        log: CallLog,
        settings: Settings,
        price: Price | None,
        on_progress: Callable[[RunProgress], None] | None = None,
    ):
        if settings.max_cost is not None and price is None:
            raise BudgetError(
                f"no price is known for model {spec.identity.model!r}, so --max-cost cannot be "
                "enforced; give its price with --prices FILE"
            )
        self.spec, self.provider, self.log, self.settings = spec, provider, log, settings
        self.price = price
        self.on_progress = on_progress
        self.schema = answer_schema(spec.rubric)
        self.summary = Summary()
        self._rng = random.Random(settings.seed)
        rpm, tpm = settings.requests_per_minute, settings.tokens_per_minute
        self._rpm = MinuteBudget(rpm) if rpm else None
        self._tpm = MinuteBudget(tpm) if tpm else None
        self._reserved = 0.0  # worst-case cost of calls in flight
        self._done = 0
        self._pending_calls: list[Call] = []
        self._pending_verdicts: list[OrderVerdict] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._verdicts: list[OrderVerdict] = []

    async def run(self, pairs: Sequence[PairInput]) -> Summary:
        started = time.perf_counter()
        items = _plan(pairs, self.spec)
        self.summary.needed = sum(len(i.targets) for i in items)
        hits = await asyncio.to_thread(self.log.cached, [i.key for i in items])
        queue: asyncio.Queue[_Item] = asyncio.Queue()
        for item in items:
            if not (item.key in hits and self._from_cache(item, hits[item.key])):
                queue.put_nowait(item)
        self._report()
        writer = asyncio.create_task(self._writer())
        workers = [
            asyncio.create_task(self._worker(queue))
            for _ in range(min(self.settings.concurrency, max(1, queue.qsize())))
        ]
        try:
            await asyncio.gather(*workers)
            self._closing = True
            self._wake.set()
            await writer
        finally:
            for w in workers:
                w.cancel()
            if not writer.done():
                writer.cancel()
                self._flush_now()  # whatever arrived is kept, even on Ctrl-C
        self._finish(started)
        return self.summary

    # -- results ------------------------------------------------------------------------

    def _from_cache(self, item: _Item, text: str) -> bool:
        try:
            out = parse_answer(text, self.spec.rubric)
        except ParseFailure:
            return False  # not a usable answer after all: ask again
        for pair, presented in item.targets:
            self._record(Call(item.key, pair.pair_id, presented, "cached", 0))
        self._accept(item, out)
        self.summary.cached += len(item.targets)
        return True

    def _accept(self, item: _Item, out) -> None:
        for pair, presented in item.targets:
            preference, criteria = to_preference(out, presented == CANDIDATE_FIRST)
            verdict = OrderVerdict(
                pair.pair_id, presented, preference, criteria, out.rationale, item.key
            )
            self._pending_verdicts.append(verdict)
            self._verdicts.append(verdict)
        self.summary.verdicts += len(item.targets)
        self._settle(item)

    def _give_up(self, item: _Item, reason: str, parse: bool) -> None:
        if parse:
            self.summary.parse_failures += len(item.targets)
        else:
            self.summary.errors += len(item.targets)
        if len(self.summary.failures) < 5:
            self.summary.failures.append(f"{item.targets[0][0].pair_id}: {reason}")
        self._settle(item)

    def _settle(self, item: _Item) -> None:
        self._done += len(item.targets)
        self._wake.set()
        self._report()

    def _record(self, call: Call) -> None:
        self._pending_calls.append(call)
        self._wake.set()

    def _report(self) -> None:
        if self.on_progress:
            s = self.summary
            self.on_progress(RunProgress(s.needed, self._done, s.calls, s.cost_usd))

    async def _writer(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            calls, verdicts = self._take()
            if calls or verdicts:
                await asyncio.to_thread(self.log.write, calls, verdicts)
            if self._closing and not (self._pending_calls or self._pending_verdicts):
                return
            if not self._closing:
                await asyncio.sleep(self.settings.flush_interval)

    def _take(self) -> tuple[list[Call], list[OrderVerdict]]:
        calls, verdicts = self._pending_calls, self._pending_verdicts
        self._pending_calls, self._pending_verdicts = [], []
        return calls, verdicts

    def _flush_now(self) -> None:
        calls, verdicts = self._take()
        if calls or verdicts:
            self.log.write(calls, verdicts)

    def _finish(self, started: float) -> None:
        s = self.summary
        s.seconds = time.perf_counter() - started
        by_pair: dict[str, dict[str, str]] = {}
        for v in self._verdicts:
            by_pair.setdefault(v.pair_id, {})[v.presented] = v.preference
        flips = [combine_orders(seen)[1] for seen in by_pair.values()]
        s.pairs_both_orders = sum(f is not None for f in flips)
        s.flips = sum(bool(f) for f in flips)
        s.first_position_rate = first_position_rate(
            (v.presented, v.preference) for v in self._verdicts
        )

    # -- calls --------------------------------------------------------------------------

    async def _worker(self, queue: asyncio.Queue[_Item]) -> None:
        while not queue.empty() and self.summary.stopped is None:
            await self._judge(queue.get_nowait())

    def _reserve(self, tokens_in: int) -> float | None:
        """Worst-case cost of the next call, reserved against the budget; None if it would not
        fit (the run then stops launching calls and lets those in flight finish)."""
        if self.price is None:
            return 0.0
        worst = self.price.cost(tokens_in, self.settings.max_tokens)
        limit = self.settings.max_cost
        if limit is not None and self.summary.cost_usd + self._reserved + worst > limit:
            return None
        self._reserved += worst
        return worst

    async def _judge(self, item: _Item) -> None:
        s, cfg = self.summary, self.settings
        request = Request(item.messages, self.schema, cfg.max_tokens, cfg.temperature, cfg.timeout)
        logged_request = {"messages": item.messages, "params": self.spec.identity.output_params()}
        tokens_in = _input_tokens(item.messages)
        pair_id, presented = item.targets[0][0].pair_id, item.targets[0][1]
        transport_failures = parse_failures = attempt = 0
        while True:
            if s.stopped is not None:
                return
            reserved = self._reserve(tokens_in)
            if reserved is None:
                s.stopped = f"budget of ${cfg.max_cost:.2f} reached"
                return
            if self._rpm:
                await self._rpm.acquire(1)
            if self._tpm:
                await self._tpm.acquire(tokens_in + cfg.max_tokens)
            attempt += 1
            s.calls += 1
            s.retries += attempt > 1
            t0 = time.perf_counter()
            try:
                response = await asyncio.wait_for(self.provider.complete(request), cfg.timeout + 5)
            except (ProviderError, TimeoutError) as exc:
                self._reserved -= reserved
                error = (
                    exc if isinstance(exc, ProviderError) else ProviderError("timeout", retry=True)
                )
                self._record(
                    Call(
                        item.key, pair_id, presented, "error", attempt,
                        request=logged_request if attempt == 1 else None,
                        latency_ms=(time.perf_counter() - t0) * 1000, error=str(error),
                    )
                )  # fmt: skip
                if error.fatal:
                    s.stopped = f"the provider refused the run: {error}"
                    self._give_up(item, str(error), parse=False)
                    return
                if error.retry and transport_failures < cfg.max_retries:
                    transport_failures += 1
                    await asyncio.sleep(
                        backoff_delay(transport_failures, error.retry_after, self._rng)
                    )
                    continue
                self._give_up(item, str(error), parse=False)
                return
            latency = (time.perf_counter() - t0) * 1000
            self._reserved -= reserved
            cost = (
                self.price.cost(response.input_tokens, response.output_tokens) if self.price else 0
            )
            s.cost_usd += cost
            s.input_tokens += response.input_tokens
            s.output_tokens += response.output_tokens
            try:
                if response.truncated:
                    raise ParseFailure(f"answer cut at max_tokens={cfg.max_tokens}")
                out = parse_answer(response.text, self.spec.rubric)
            except ParseFailure as exc:
                outcome, error_text = "parse_failure", str(exc)
            else:
                outcome, error_text = "ok", None
            self._record(
                Call(
                    item.key, pair_id, presented, outcome, attempt,
                    request=logged_request if attempt == 1 else None,
                    response_text=response.text, input_tokens=response.input_tokens,
                    output_tokens=response.output_tokens, cost_usd=cost, latency_ms=latency,
                    error=error_text,
                )
            )  # fmt: skip
            if outcome == "ok":
                self._accept(item, out)
                return
            if parse_failures < cfg.parse_retries:
                parse_failures += 1
                continue
            self._give_up(item, f"unparseable answer ({error_text})", parse=True)
            return


def run_judge(
    pairs: Sequence[PairInput],
    spec: JudgeSpec,
    provider: Provider,
    log: CallLog,
    settings: Settings,
    price: Price | None,
    on_progress: Callable[[RunProgress], None] | None = None,
) -> Summary:
    """Judge `pairs` in both orders and return what happened; blocking."""

    async def main() -> Summary:
        runner = Runner(spec, provider, log, settings, price, on_progress)
        try:
            return await runner.run(pairs)
        finally:
            await provider.close()

    return asyncio.run(main())
