"""Percentile bootstrap over items (prompts), never over labels: labels on one item are not
independent, so resampling them would make intervals too narrow."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")
BOOTSTRAP_STREAM = 3


def bootstrap_ci(
    items: Sequence[T],
    statistic: Callable[[list[T]], float],
    resamples: int,
    seed: int,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Percentile interval of `statistic` over `resamples` resamples of `items` with replacement.

    Resamples where the statistic is undefined (NaN) are dropped; (nan, nan) if all are.
    """
    if not items or resamples <= 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng([seed, BOOTSTRAP_STREAM])
    n = len(items)
    values = []
    for _ in range(resamples):
        picks = rng.integers(0, n, size=n)
        value = statistic([items[i] for i in picks])
        if not np.isnan(value):
            values.append(value)
    if not values:
        return (float("nan"), float("nan"))
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return (float(low), float(high))
