"""What a run did: progress while it runs, and in the end its counts, tokens, cost and how
consistent the judge was when the order of the responses was swapped."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from judge.call_log import OrderVerdict
from judge.consistency import combine_orders, first_position_rate


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

    def measure_orders(self, verdicts: Iterable[OrderVerdict]) -> None:
        """Flips and first-position picks among this run's verdicts, on the pairs it judged in
        both orders (as the report measures them)."""
        by_pair: dict[str, dict[str, str]] = {}
        for v in verdicts:
            by_pair.setdefault(v.pair_id, {})[v.presented] = v.preference
        both = {p: c for p, seen in by_pair.items() if (c := combine_orders(seen)) is not None}
        self.pairs_both_orders = len(both)
        self.flips = sum(bool(flip) for _, flip in both.values())
        self.first_position_rate = first_position_rate(
            (presented, preference)
            for pair_id in both
            for presented, preference in by_pair[pair_id].items()
        )
