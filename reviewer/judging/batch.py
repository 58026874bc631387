"""Judge a study through a provider's batch API (`signoff judge run --batch`): the study's
database records every batch id the provider accepted, so a run killed while it waits resumes
by polling the same batches, and writes their results as calls and verdicts like an online run,
at the batch price.

`service.run` does the rest as for any run: the gate before all pairs, the judge registered,
the run recorded, the served models checked over every verdict once it ends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from judge.batch import (
    BatchCounts,
    BatchError,
    BatchRecord,
    BatchSettings,
    BatchState,
    BatchSummary,
    make_batch_client,
    run_batch,
)
from judge.pricing import BATCH_DISCOUNT
from judge.providers import ProviderSetupError
from judge.runner import Call, CostEstimate, OrderVerdict, PairInput, RunProgress
from reviewer.errors import SignoffError
from reviewer.judging.call_log import StoreCallLog
from reviewer.judging.options import JudgeOptions, PreparedJudge
from reviewer.store import Store
from reviewer.store import batches as batch_sql
from reviewer.store import judge_calls as judge_sql
from reviewer.store.connection import Cursor

__all__ = [
    "BatchSettings",
    "BatchSummary",
    "StoreBatchLedger",
    "batch_costs",
    "describe_batch_costs",
    "describe_batches",
    "judge_in_batches",
    "study_batches",
]


class StoreBatchLedger:
    """The batches of one judge on one study, in the study's database."""

    def __init__(self, store: Store, study_id: str, judge_id: str, provider: str, scope: str):
        self.store, self.study_id, self.judge_id = store, study_id, judge_id
        self.provider, self.scope = provider, scope

    def open_batches(self) -> list[BatchRecord]:
        rows = self.store.read(
            lambda cur: batch_sql.open_batches(cur, self.study_id, self.judge_id)
        )
        other = sorted({r["scope"] for r in rows} - {self.scope})
        if other:
            raise SignoffError(
                f"this judge has batches of the {', '.join(other)} pairs still open on study "
                f"{self.study_id!r}: run `signoff judge run --batch` on those pairs first to "
                "collect them (their answers are paid for)"
            )
        return [
            BatchRecord(r["tag"], r["requests"], r["batch_id"], since=r["submitted_at"])
            for r in rows
        ]

    def known_ids(self) -> set[str]:
        return self.store.read(batch_sql.known_ids)

    def submitting(self, record: BatchRecord) -> None:
        self.store.write(
            lambda cur: batch_sql.record(
                cur, record.tag, self.study_id, self.judge_id, self.provider, self.scope,
                record.requests,
            )
        )  # fmt: skip

    def submitted(self, record: BatchRecord) -> None:
        self.store.write(lambda cur: batch_sql.accepted(cur, record.tag, record.batch_id or ""))

    def collected(
        self,
        record: BatchRecord,
        state: BatchState,
        calls: list[Call],
        verdicts: list[OrderVerdict],
    ) -> None:
        answered = sum(c.outcome != "error" for c in calls)

        def work(cur: Cursor) -> None:
            judge_sql.append_calls(cur, self.study_id, self.judge_id, calls)
            judge_sql.add_verdicts(cur, self.study_id, self.judge_id, verdicts)
            batch_sql.close(cur, record.tag, state.status, answered, len(calls) - answered)

        self.store.write(work)


def judge_in_batches(
    store: Store,
    study_id: str,
    scope: str,
    judge: PreparedJudge,
    options: JudgeOptions,
    batch: BatchSettings,
    pairs: Sequence[PairInput],
    on_progress: Callable[[RunProgress], None] | None = None,
) -> BatchSummary:
    """Judge `pairs` through the batch API of the options' provider; blocks until every batch
    (this run's and those an earlier run left open) is collected."""
    try:
        client = make_batch_client(
            options.provider, options.model, options.base_url, options.mode, options.key_env
        )
    except ProviderSetupError as exc:
        raise SignoffError(str(exc)) from None
    log = StoreCallLog(store, study_id, judge.judge_id)
    ledger = StoreBatchLedger(store, study_id, judge.judge_id, options.provider, scope)
    try:
        return run_batch(
            pairs, judge.spec, client, log, ledger, options.settings, batch, judge.price,
            on_progress,
        )  # fmt: skip
    except BatchError as exc:
        raise SignoffError(
            f"the {options.provider} batch API failed: {exc}; batches already accepted are "
            "recorded, and running the same command again resumes them"
        ) from None


def batch_costs(est: CostEstimate) -> dict[str, float | None]:
    """The estimate's costs at the batch price (BATCH_DISCOUNT of the online price)."""
    scale = lambda c: None if c is None else c * BATCH_DISCOUNT  # noqa: E731
    return {
        "batch_cost_expected": scale(est.cost_expected),
        "batch_cost_max": scale(est.cost_max),
    }


def describe_batch_costs(est: CostEstimate) -> str:
    """The dry run's line on the batch price, beside the online one."""
    costs = batch_costs(est)
    if costs["batch_cost_expected"] is None or costs["batch_cost_max"] is None:
        return "  cost with --batch: unknown (no price)"
    return (
        f"  cost with --batch (half price, answers within 24 h): "
        f"~${costs['batch_cost_expected']:,.4f} expected, ${costs['batch_cost_max']:,.4f} at most"
    )


def describe_batches(s: BatchCounts) -> str:
    """What a batch run's batches did, below its summary."""
    lines = [
        f"  batches: {len(s.batches)} submitted ({s.submitted} requests, at the batch price), "
        f"{len(s.resumed)} resumed from an earlier run; {s.polls} status checks, "
        f"{s.poll_wait_seconds:.1f} s waiting"
    ]
    lines += [f"    {b}" for b in s.resumed + s.batches]
    if s.still_open:
        lines.append(f"  still running at the provider (collect them later): {len(s.still_open)}")
    return "\n".join(lines)


def study_batches(store: Store, study_id: str) -> list[dict]:
    """The study's judge batches, newest first, open or collected."""
    return store.read(lambda cur: batch_sql.study_batches(cur, study_id))
