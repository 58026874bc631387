"""Requests- and tokens-per-minute limits, and how long to wait before a retry."""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque


class MinuteBudget:
    """At most `per_minute` units (requests or tokens) in any sliding 60-second window.

    A single amount larger than the budget passes alone in an empty window rather than
    blocking for ever.
    """

    WINDOW = 60.0

    def __init__(self, per_minute: float):
        self.per_minute = per_minute
        self._spent: deque[tuple[float, float]] = deque()
        self._used = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self, amount: float = 1.0) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                while self._spent and self._spent[0][0] <= now - self.WINDOW:
                    self._used -= self._spent.popleft()[1]
                if not self._spent or self._used + amount <= self.per_minute:
                    self._spent.append((now, amount))
                    self._used += amount
                    return
                await asyncio.sleep(self._spent[0][0] + self.WINDOW - now)


def backoff_delay(
    attempt: int, retry_after: float | None, rng: random.Random, base: float = 0.5, cap: float = 30
) -> float:
    """Seconds to wait before retry number `attempt` (1-based).

    The server's Retry-After wins when it gave one (plus up to 10% jitter so that a crowd of
    waiting calls does not return at the same instant); otherwise exponential backoff with
    "equal jitter": half the exponential step fixed, half random.

    >>> backoff_delay(3, 2.0, random.Random(0)) >= 2.0
    True
    """
    if retry_after is not None:
        return retry_after * (1 + 0.1 * rng.random())
    step = min(cap, base * 2 ** (attempt - 1))
    return step / 2 + rng.random() * step / 2
