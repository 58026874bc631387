"""Latency and cost of both models, from each pair's metadata: `candidate_latency_ms`,
`baseline_latency_ms`, `candidate_cost_usd`, `baseline_cost_usd` (what `signoff generate`
records per call). Percentiles are numpy's default (linear interpolation); intervals are
percentile bootstraps over pairs, paired, seeded by the study seed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from reviewer.analysis.intervals import Interval, finite
from reviewer.analysis.stats import percentile_interval
from reviewer.checks.resample import index_rows, rng_for
from reviewer.checks.results import Operations, SideOperations
from reviewer.checks.summary import CheckPair

OPERATIONS_SEED_OFFSET = 1  # latency and cost draw their own resamples, apart from the checks'


def _number(meta: dict[str, Any], key: str) -> float | None:
    value = meta.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


def _columns(pairs: list[CheckPair], *keys: str) -> np.ndarray:
    """Rows of the pairs that carry every key, as a (pairs, keys) array."""
    rows = [[_number(p.metadata, k) for k in keys] for p in pairs]
    return np.array([r for r in rows if None not in r], dtype=float).reshape(-1, len(keys))


def _ratio(lat: np.ndarray, q: float, *, confidence: float, seed: int, resamples: int) -> Interval:
    n = len(lat)
    base = np.percentile(lat[:, 1], q) if n else 0.0
    if n == 0 or base == 0:
        return Interval(value=None, low=None, high=None, n=n)
    reps = []
    for rows in index_rows(n, resamples, rng_for(seed)):
        cand_q = np.percentile(lat[rows, 0], q, axis=1)
        base_q = np.percentile(lat[rows, 1], q, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            reps.append(np.where(base_q > 0, cand_q / base_q, np.nan))
    low, high = percentile_interval(np.concatenate(reps) if reps else np.array([]), confidence)
    value = float(np.percentile(lat[:, 0], q) / base)
    return Interval(value=value, low=finite(low), high=finite(high), n=n)


def _cost(cost: np.ndarray, *, confidence: float, seed: int, resamples: int) -> Interval:
    n = len(cost)
    if n == 0:
        return Interval(value=None, low=None, high=None, n=0)
    reps = [cost[rows].mean(axis=1) * 1000 for rows in index_rows(n, resamples, rng_for(seed))]
    low, high = percentile_interval(np.concatenate(reps) if reps else np.array([]), confidence)
    return Interval(value=float(cost.mean() * 1000), low=finite(low), high=finite(high), n=n)


def _side(lat: np.ndarray, cost: np.ndarray) -> SideOperations:
    return SideOperations(
        latency_p50_ms=float(np.percentile(lat, 50)) if len(lat) else None,
        latency_p99_ms=float(np.percentile(lat, 99)) if len(lat) else None,
        cost_per_1k_usd=float(cost.mean() * 1000) if len(cost) else None,
    )


def operations(
    pairs: list[CheckPair], *, confidence: float, seed: int, resamples: int
) -> Operations:
    """Both models' latency percentiles and cost per 1,000 requests, with the candidate's
    ratios to the baseline; each figure over the pairs that carry what it needs."""
    lat = _columns(pairs, "candidate_latency_ms", "baseline_latency_ms")
    cand_cost = _columns(pairs, "candidate_cost_usd")[:, 0]
    base_cost = _columns(pairs, "baseline_cost_usd")[:, 0]
    opts = {"confidence": confidence, "seed": seed + OPERATIONS_SEED_OFFSET, "resamples": resamples}
    return Operations(
        latency_items=len(lat),
        cost_items=len(cand_cost),
        candidate=_side(lat[:, 0], cand_cost),
        baseline=_side(lat[:, 1], base_cost),
        p50_ratio=_ratio(lat, 50, **opts),
        p99_ratio=_ratio(lat, 99, **opts),
        cost_per_1k=_cost(cand_cost, **opts),
    )
