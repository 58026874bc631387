"""The calibration set: a stratified random sample of the study's pairs.

Allocation is proportional to stratum size by the largest-remainder (Hamilton) method, after one
pair per stratum, so a 5-pair `refusal` stratum is not left out of a 50-pair sample of 400 pairs.
The sample depends on the pair ids, strata and seed only, never on the file's row order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

# Independent random streams per purpose, so adding a draw to one never shifts another.
SAMPLE_STREAM = 1
HOLDOUT_STREAM = 2


def allocate(size: int, counts: dict[str, int]) -> dict[str, int]:
    """How many pairs each stratum contributes to a sample of `size`.

    >>> allocate(10, {"a": 50, "b": 30, "c": 2})
    {'a': 5, 'b': 4, 'c': 1}
    """
    strata = sorted(counts, key=lambda s: (-counts[s], s))
    size = min(size, sum(counts.values()))
    if size < len(strata):
        return {s: int(i < size) for i, s in enumerate(strata)}
    quota = {s: 1 for s in strata}
    spare = {s: counts[s] - 1 for s in strata}
    remaining = size - len(strata)
    total_spare = sum(spare.values())
    if remaining and total_spare:
        exact = {s: remaining * spare[s] / total_spare for s in strata}
        floors = {s: int(exact[s]) for s in strata}
        for s in strata:
            quota[s] += floors[s]
        left = remaining - sum(floors.values())
        by_remainder = sorted(strata, key=lambda s: (-(exact[s] - floors[s]), -counts[s], s))
        for s in by_remainder[:left]:
            quota[s] += 1
    return {s: quota[s] for s in sorted(counts)}


def calibration_sample(
    pairs: Sequence[tuple[str, str]],
    size: int,
    seed: int,
    *,
    stratified: bool = True,
    stream: int = SAMPLE_STREAM,
) -> set[str]:
    """Pick the calibration pair ids from (pair_id, stratum) tuples (or, with HOLDOUT_STREAM,
    the held-out part of the calibration set)."""
    rng = np.random.default_rng([seed, stream])
    if not stratified:
        ids = sorted(pid for pid, _ in pairs)
        take = min(size, len(ids))
        return {ids[i] for i in rng.choice(len(ids), size=take, replace=False)}
    by_stratum: dict[str, list[str]] = defaultdict(list)
    for pid, stratum in pairs:
        by_stratum[stratum].append(pid)
    chosen: set[str] = set()
    quotas = allocate(size, {s: len(ids) for s, ids in by_stratum.items()})
    for stratum in sorted(by_stratum):
        ids = sorted(by_stratum[stratum])
        picks = rng.choice(len(ids), size=quotas[stratum], replace=False)
        chosen.update(ids[i] for i in picks)
    return chosen


def holdout_sample(pairs: Sequence[tuple[str, str]], fraction: float, seed: int) -> set[str]:
    """The calibration pairs held out from rubric tuning: a stratified share of them.

    >>> len(holdout_sample([(f"p{i}", "s") for i in range(50)], 0.3, seed=1))
    15
    """
    size = round(fraction * len(pairs))
    return calibration_sample(pairs, size, seed, stream=HOLDOUT_STREAM) if size else set()
