"""One call, from request to a settled answer: the rate limits and budget before each attempt,
backoff after a transient failure, a fresh attempt after a malformed or cut-short answer, and
every attempt logged (an answer, which was paid for, in the log before the call goes on).

What is particular to a kind of call (a verdict, a generated output) is an `Answers`: the schema
and parameters it sends and how it reads an answer. The judge's is `VerdictAnswers`."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from judge.budget import CostBudget
from judge.call_log import Call, LogWriter
from judge.limits import MinuteBudget, backoff_delay
from judge.plan import input_tokens
from judge.providers import Provider, ProviderError, Request, Response
from judge.spec import JudgeSpec, Settings
from judge.verdict import ParseFailure, answer_schema, parse_answer


@dataclass(frozen=True)
class Settled:
    """How a call ended: with an answer read (`output`), or given up for `failure`. An answer
    kept despite a flaw (a generation cut at max_tokens) carries both."""

    output: Any = None  # a JudgeOutput for a verdict, the text for a generation
    failure: str | None = None
    parse: bool = False  # the answers were malformed (rather than the provider failing)


class Answers(Protocol):
    """What a kind of call sends beside its messages, and how it reads an answer."""

    schema: dict  # JSON Schema of the answer ({} for free text)
    params: dict  # output-affecting parameters, logged with the call's first attempt
    options: dict  # further sampling parameters sent as they are (seed, top_p)

    def read(self, response: Response) -> Settled: ...


class CallItem(Protocol):
    """One call to make: its cache key, its messages and the row it is logged under."""

    key: str
    messages: list[dict]

    @property
    def log_id(self) -> tuple[str, str]: ...  # (pair_id, presented) of its log rows


class Spending(Protocol):
    """The counts a caller keeps of its run (the judge's `Summary` is one)."""

    stopped: str | None
    calls: int
    retries: int
    input_tokens: int
    output_tokens: int
    cost_usd: float


@dataclass
class VerdictAnswers:
    """A judge's calls: the rubric's answer schema, read into a `JudgeOutput`."""

    spec: JudgeSpec
    max_tokens: int
    schema: dict = field(init=False)
    params: dict = field(init=False)
    options: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.schema = answer_schema(self.spec.rubric)
        self.params = self.spec.identity.output_params()

    def read(self, response: Response) -> Settled:
        try:
            if response.truncated:
                raise ParseFailure(f"answer cut at max_tokens={self.max_tokens}")
            return Settled(output=parse_answer(response.text, self.spec.rubric))
        except ParseFailure as exc:
            return Settled(failure=str(exc), parse=True)


class Caller:
    """Makes the calls of one run; counts them, their tokens and cost in the run's summary."""

    def __init__(
        self,
        answers: Answers,
        provider: Provider,
        settings: Settings,
        budget: CostBudget,
        summary: Spending,
        record: Callable[[Call], None],
        record_paid: Callable[[Call], Awaitable[None]],
    ):
        self.answers, self.provider, self.budget = answers, provider, budget
        self.settings = settings
        self.summary, self._record, self._record_paid = summary, record, record_paid
        self._rng = random.Random(settings.seed)
        rpm, tpm = settings.requests_per_minute, settings.tokens_per_minute
        self._rpm = MinuteBudget(rpm) if rpm else None
        self._tpm = MinuteBudget(tpm) if tpm else None

    async def judge(self, item: CallItem) -> Settled | None:
        """The call's end; None when the run stopped (budget, a fatal error) before it."""
        s, cfg, a = self.summary, self.settings, self.answers
        request = Request(
            item.messages, a.schema, cfg.max_tokens, cfg.temperature, cfg.timeout, a.options
        )
        tokens_in = input_tokens(item.messages)
        transport_failures = parse_failures = attempt = 0
        while s.stopped is None:
            reserved = self.budget.reserve(tokens_in, s.cost_usd)
            if reserved is None:
                s.stopped = f"budget of ${cfg.max_cost:.2f} reached"
                return None
            if self._rpm:
                await self._rpm.acquire(1)
            if self._tpm:
                await self._tpm.acquire(tokens_in + cfg.max_tokens)
            attempt += 1
            s.calls += 1
            s.retries += attempt > 1
            result = await self._attempt(item, request, attempt, reserved)
            if isinstance(result, ProviderError):
                if result.fatal:
                    s.stopped = f"the provider refused the run: {result}"
                elif result.retry and transport_failures < cfg.max_retries:
                    transport_failures += 1
                    await asyncio.sleep(
                        backoff_delay(transport_failures, result.retry_after, self._rng)
                    )
                    continue
                return Settled(failure=str(result))
            if result.output is not None:
                return result
            if parse_failures < cfg.parse_retries:
                parse_failures += 1
                continue
            return Settled(failure=f"unparseable answer ({result.failure})", parse=True)
        return None

    async def _attempt(
        self, item: CallItem, request: Request, attempt: int, reserved: float
    ) -> Settled | ProviderError:
        """Send once and log it: the parsed answer, why it did not parse, or the error."""
        pair_id, presented = item.log_id
        logged = None
        if attempt == 1:
            logged = {"messages": item.messages, "params": self.answers.params}
        t0 = time.perf_counter()
        try:
            response = await asyncio.wait_for(
                self.provider.complete(request), self.settings.timeout + 5
            )
        except (ProviderError, TimeoutError) as exc:
            self.budget.release(reserved)
            error = exc if isinstance(exc, ProviderError) else ProviderError("timeout", retry=True)
            self._record(
                Call(
                    item.key, pair_id, presented, "error", attempt, request=logged,
                    latency_ms=(time.perf_counter() - t0) * 1000, error=str(error),
                )
            )  # fmt: skip
            return error
        latency = (time.perf_counter() - t0) * 1000
        self.budget.release(reserved)
        cost = self.budget.cost(response.input_tokens, response.output_tokens)
        self.summary.cost_usd += cost
        self.summary.input_tokens += response.input_tokens
        self.summary.output_tokens += response.output_tokens
        settled = self.answers.read(response)
        # A paid answer is in the log (the cache) before its verdict counts: a run killed now
        # finds it there when it resumes.
        await self._record_paid(
            Call(
                item.key, pair_id, presented,
                "ok" if settled.output is not None else "parse_failure",
                attempt, request=logged, response_text=response.text,
                input_tokens=response.input_tokens, output_tokens=response.output_tokens,
                cost_usd=cost, latency_ms=latency, error=settled.failure,
                served_model=response.served_model,
            )
        )  # fmt: skip
        return settled


ItemT = TypeVar("ItemT", bound=CallItem)


async def run_pool(
    items: Iterable[ItemT],
    call: Callable[[ItemT], Awaitable[Settled | None]],
    settle: Callable[[ItemT, Settled], None],
    writer: LogWriter,
    concurrency: int,
    summary: Spending,
) -> None:
    """Make the calls of `items`, `concurrency` at a time, handing each settled call to
    `settle`, until all are made or the run stops (`summary.stopped`). The log writer runs
    meanwhile and has written everything once this returns, or, on an error or Ctrl-C, whatever
    had arrived."""
    queue: asyncio.Queue[ItemT] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)

    async def worker() -> None:
        while not queue.empty() and summary.stopped is None:
            item = queue.get_nowait()
            settled = await call(item)
            if settled is not None:  # None: the run stopped, and the loop ends
                settle(item, settled)

    writer.start()
    workers = [
        asyncio.create_task(worker()) for _ in range(min(concurrency, max(1, queue.qsize())))
    ]
    try:
        await asyncio.gather(*workers)
        await writer.close()
    finally:
        for w in workers:
            w.cancel()
        writer.abort()
