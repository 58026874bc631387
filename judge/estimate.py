"""What a run would cost before it starts (the dry run): calls left after the cache, tokens
and the price of both."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from judge.call_log import CallLog
from judge.plan import input_tokens, plan
from judge.pricing import Price
from judge.rubric import Rubric
from judge.spec import JudgeSpec, PairInput, Settings


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
    items = plan(pairs, spec)
    hits = log.cached([i.key for i in items])
    todo = [i for i in items if i.key not in hits]
    tokens_in = sum(input_tokens(i.messages) for i in todo)
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
