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
from reviewer.checks.quantiles import ResampledPercentiles
from reviewer.checks.resample import index_rows, mean_sums, rng_for
from reviewer.checks.results import Operations, SideOperations
from reviewer.checks.table import CheckPair, PairTable, as_table

OPERATIONS_SEED_OFFSET = 1  # latency and cost draw their own resamples, apart from the checks'


def _numbers(values: list[Any]) -> np.ndarray:
    """The values as floats: NaN where one is not a finite number >= 0 (true and false are
    not numbers here)."""
    if values.count(None) == len(values):  # no pair gives it (most studies record none)
        return np.full(len(values), math.nan)
    kept = [
        v if isinstance(v, int | float) and not isinstance(v, bool) else math.nan for v in values
    ]
    out = np.array(kept, dtype=float)
    with np.errstate(invalid="ignore"):
        out[~(np.isfinite(out) & (out >= 0))] = math.nan
    return out


def _columns(table: PairTable, *keys: str) -> np.ndarray:
    """Rows of the pairs that carry every key, as a (pairs, keys) array."""
    cols = np.stack([_numbers(table.metadata_column(k)) for k in keys], axis=1)
    return cols[~np.isnan(cols).any(axis=1)].reshape(-1, len(keys))


def _ratios(
    lat: np.ndarray, *, confidence: float, seed: int, resamples: int
) -> tuple[Interval, Interval]:
    """Candidate / baseline at p50 and at p99, both from the same resamples."""
    n = len(lat)
    base = np.percentile(lat[:, 1], [50, 99]) if n else np.zeros(2)
    if n == 0 or not base.all():
        empty = Interval(value=None, low=None, high=None, n=n)
        return empty, empty
    reps = []
    cand_p, base_p = (ResampledPercentiles(lat[:, k], [50, 99]) for k in (0, 1))
    for rows in index_rows(n, resamples, rng_for(seed)):
        cand_q, base_q = cand_p(rows), base_p(rows)  # (2, rows) each
        with np.errstate(divide="ignore", invalid="ignore"):
            reps.append(np.where(base_q > 0, cand_q / base_q, np.nan))
    both = np.concatenate(reps, axis=1)
    value = np.percentile(lat[:, 0], [50, 99]) / base
    out = []
    for k in range(2):
        low, high = percentile_interval(both[k], confidence)
        out.append(Interval(value=float(value[k]), low=finite(low), high=finite(high), n=n))
    return out[0], out[1]


def _cost(cost: np.ndarray, *, confidence: float, seed: int, resamples: int) -> Interval:
    n = len(cost)
    if n == 0:
        return Interval(value=None, low=None, high=None, n=0)
    reps = mean_sums(cost, resamples, rng_for(seed)) / n * 1000
    low, high = percentile_interval(reps, confidence)
    return Interval(value=float(cost.mean() * 1000), low=finite(low), high=finite(high), n=n)


def _side(lat: np.ndarray, cost: np.ndarray) -> SideOperations:
    return SideOperations(
        latency_p50_ms=float(np.percentile(lat, 50)) if len(lat) else None,
        latency_p99_ms=float(np.percentile(lat, 99)) if len(lat) else None,
        cost_per_1k_usd=float(cost.mean() * 1000) if len(cost) else None,
    )


def operations(
    pairs: PairTable | list[CheckPair], *, confidence: float, seed: int, resamples: int
) -> Operations:
    """Both models' latency percentiles and cost per 1,000 requests, with the candidate's
    ratios to the baseline; each figure over the pairs that carry what it needs."""
    pairs = as_table(pairs)
    lat = _columns(pairs, "candidate_latency_ms", "baseline_latency_ms")
    cand_cost = _columns(pairs, "candidate_cost_usd")[:, 0]
    base_cost = _columns(pairs, "baseline_cost_usd")[:, 0]
    opts = {"confidence": confidence, "seed": seed + OPERATIONS_SEED_OFFSET, "resamples": resamples}
    p50, p99 = _ratios(lat, **opts)
    return Operations(
        latency_items=len(lat),
        cost_items=len(cand_cost),
        candidate=_side(lat[:, 0], cand_cost),
        baseline=_side(lat[:, 1], base_cost),
        p50_ratio=p50,
        p99_ratio=p99,
        cost_per_1k=_cost(cand_cost, **opts),
    )
