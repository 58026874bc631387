"""Judge pairs in both orders: from the cache when the same call was answered before, else from
the provider, many calls at once, within rate limits and a budget.

The runner knows nothing of where results go: it reads and writes through a `CallLog` (reviewer
implements it on DuckDB). Every call is logged, hit or miss, success or failure, and each answer
is in the log before its verdict counts and before its worker makes another call, so a run killed
at any point resumes by finding its answers in the cache: what it pays for twice is at most the
answers that arrived while they were being written, one per worker (`--concurrency`). A log may
offer a `journal` (a cheap durable append) where paid answers go first, so that the log itself is
written in a few large batches.

This module is the judge's public entry point: the names a caller needs are importable from it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

from judge.budget import BudgetError, CostBudget
from judge.call_log import CachedAnswer, Call, CallLog, LogWriter, OrderVerdict
from judge.calls import Caller, Settled, VerdictAnswers, run_pool
from judge.consistency import CANDIDATE_FIRST
from judge.estimate import CostEstimate, estimate, expected_output_tokens
from judge.plan import Item, plan
from judge.pricing import Price
from judge.providers import Provider
from judge.spec import JudgeSpec, PairInput, Settings
from judge.summary import RunProgress, Summary
from judge.verdict import JudgeOutput, ParseFailure, parse_answer, to_preference

__all__ = [
    "BudgetError",
    "CachedAnswer",
    "Call",
    "CallLog",
    "CostEstimate",
    "JudgeSpec",
    "OrderVerdict",
    "PairInput",
    "RunProgress",
    "Runner",
    "Settings",
    "Summary",
    "estimate",
    "expected_output_tokens",
    "run_judge",
]


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
        budget = CostBudget(price, settings.max_cost, settings.max_tokens, spec.identity.model)
        self.spec, self.log, self.settings = spec, log, settings
        self.on_progress = on_progress
        self.summary = Summary()
        # A log with a journal (the DuckDB store's) takes paid answers there, and the rest in
        # a few large writes (judge.call_log.LogWriter).
        self.writer = LogWriter(log, settings.flush_interval, getattr(log, "journal", None))
        self.caller = Caller(
            VerdictAnswers(spec, settings.max_tokens), provider, settings, budget, self.summary,
            self.writer.add_call, self.writer.add_paid,
        )  # fmt: skip
        self._done = 0
        self._verdicts: list[OrderVerdict] = []

    async def run(self, pairs: Sequence[PairInput]) -> Summary:
        started = time.perf_counter()
        items = plan(pairs, self.spec)
        self.summary.needed = sum(len(i.targets) for i in items)
        hits = await asyncio.to_thread(self.log.cached, [i.key for i in items])
        to_call = [i for i in items if not (i.key in hits and self._from_cache(i, hits[i.key]))]
        self._report()
        await run_pool(
            to_call, self.caller.judge, self._settled, self.writer, self.settings.concurrency,
            self.summary,
        )  # fmt: skip
        self.summary.seconds = time.perf_counter() - started
        self.summary.measure_orders(self._verdicts)
        return self.summary

    def _settled(self, item: Item, settled: Settled) -> None:
        if settled.output is not None:
            self._accept(item, settled.output)
        else:
            self._give_up(item, settled.failure or "", settled.parse)

    def _from_cache(self, item: Item, hit: CachedAnswer) -> bool:
        try:
            out = parse_answer(hit.text, self.spec.rubric)
        except ParseFailure:
            return False  # not a usable answer after all: ask again
        for pair, presented in item.targets:
            self.writer.add_call(
                Call(
                    item.key, pair.pair_id, presented, "cached", 0,
                    served_model=hit.served_model,
                )
            )  # fmt: skip
        self._accept(item, out)
        self.summary.cached += len(item.targets)
        return True

    def _accept(self, item: Item, out: JudgeOutput) -> None:
        verdicts = []
        for pair, presented in item.targets:
            preference, criteria = to_preference(out, candidate_first=presented == CANDIDATE_FIRST)
            verdicts.append(
                OrderVerdict(pair.pair_id, presented, preference, criteria, out.rationale, item.key)
            )
        self.writer.add_verdicts(verdicts)
        self._verdicts += verdicts
        self.summary.verdicts += len(item.targets)
        self._settle(item)

    def _give_up(self, item: Item, reason: str, parse: bool) -> None:
        if parse:
            self.summary.parse_failures += len(item.targets)
        else:
            self.summary.errors += len(item.targets)
        if len(self.summary.failures) < 5:
            self.summary.failures.append(f"{item.targets[0][0].pair_id}: {reason}")
        self._settle(item)

    def _settle(self, item: Item) -> None:
        self._done += len(item.targets)
        self._report()

    def _report(self) -> None:
        if self.on_progress:
            s = self.summary
            self.on_progress(RunProgress(s.needed, self._done, s.calls, s.cost_usd))


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
