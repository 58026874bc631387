"""Win rate of the candidate: shares, decisive-only rate, Wilson interval, exact tests.

Outcomes are per item (prompt): several human labels on one item are first reduced to one
outcome by majority (`item_outcome`), so an item with five labels does not count five times.
This is the decisive-only view (ties left out) with fixed-n intervals; the rate that decides a
sign-off, under the configured tie rule and with anytime-valid intervals, is
`reviewer.analysis.tie_rules`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

OUTCOMES = ("candidate", "baseline", "tie")


def item_outcome(values: Sequence[str]) -> str:
    """Majority of an item's labels; no strict majority (e.g. 1 candidate, 1 baseline) is a tie.

    >>> item_outcome(["candidate", "candidate", "baseline"])
    'candidate'
    >>> item_outcome(["candidate", "baseline"])
    'tie'
    """
    return _majority(tuple(values))


@lru_cache(maxsize=4096)
def _majority(values: tuple[str, ...]) -> str:
    """`item_outcome` of one tuple of labels: items share a handful of them, each counted once."""
    counts = Counter(values).most_common()
    if not counts or (len(counts) > 1 and counts[0][1] == counts[1][1]):
        return "tie"
    return counts[0][0]


@dataclass(frozen=True)
class WinRate:
    items: int
    candidate: int
    baseline: int
    tie: int
    rate: float  # candidate wins / decisive items; NaN without decisive items
    low: float  # Wilson interval of `rate`
    high: float
    threshold: float
    p_value: float  # exact one-sided P(wins >= observed | true rate = threshold)
    p_value_half: float  # the same against 0.5
    more_pairs_needed: int | None  # when the interval straddles the threshold; None otherwise

    @property
    def decisive(self) -> int:
        return self.candidate + self.baseline


def win_rate(outcomes: Sequence[str], threshold: float, confidence: float = 0.95) -> WinRate:
    """Summarise per-item outcomes (candidate / baseline / tie) against a threshold."""
    from scipy.stats import binomtest
    from statsmodels.stats.proportion import proportion_confint

    counts = Counter(outcomes)
    wins, losses, ties = counts["candidate"], counts["baseline"], counts["tie"]
    decisive = wins + losses
    if decisive == 0:
        nan = math.nan
        return WinRate(len(outcomes), wins, losses, ties, nan, nan, nan, threshold, nan, nan, None)
    low, high = proportion_confint(wins, decisive, alpha=1 - confidence, method="wilson")
    rate = wins / decisive
    needed = None
    if low < threshold <= high:
        needed = more_pairs_needed(
            rate, decisive / len(outcomes), len(outcomes), threshold, confidence
        )
    return WinRate(
        items=len(outcomes),
        candidate=wins,
        baseline=losses,
        tie=ties,
        rate=rate,
        low=float(low),
        high=float(high),
        threshold=threshold,
        p_value=binomtest(wins, decisive, threshold, alternative="greater").pvalue,
        p_value_half=binomtest(wins, decisive, 0.5, alternative="greater").pvalue,
        more_pairs_needed=needed,
    )


def more_pairs_needed(
    rate: float,
    decisive_share: float,
    items: int,
    threshold: float,
    confidence: float = 0.95,
    limit: int = 10_000_000,
) -> int | None:
    """How many more items (at the observed decisive share) until a Wilson interval around the
    observed rate no longer contains the threshold; None if the rate equals the threshold or the
    answer exceeds `limit`. Smallest n found by doubling, then bisection (the interval narrows
    monotonically with n at a fixed rate)."""
    from statsmodels.stats.proportion import proportion_confint

    if rate == threshold or decisive_share <= 0:
        return None

    def clear(n_decisive: int) -> bool:
        low, high = proportion_confint(
            rate * n_decisive, n_decisive, alpha=1 - confidence, method="wilson"
        )
        return low > threshold or high < threshold

    hi = max(1, round(items * decisive_share))
    while not clear(hi):
        hi *= 2
        if hi > limit:
            return None
    lo = hi // 2
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        if clear(mid):
            hi = mid
        else:
            lo = mid
    return max(0, math.ceil(hi / decisive_share) - items)
