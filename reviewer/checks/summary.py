"""Score every pair on every check, then summarise per stratum: both models' statistic, the
worst item, the paired difference with its bootstrap interval, the items that dropped most.

The interval resamples pairs (both outputs of a pair stay together, so it is the paired
difference's interval), percentile method, seeded by the study seed; overall, each stratum is
resampled on its own (stratified bootstrap). How the resamples are drawn fast:
`reviewer.checks.resample`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from reviewer.analysis.intervals import Interval, finite
from reviewer.analysis.stats import percentile_interval
from reviewer.checks.declared import CheckConfig
from reviewer.checks.resample import F1Counts, f1_counts, mean_sums, point_f1, rng_for
from reviewer.checks.results import CheckResult, CheckSummary, ItemScore
from reviewer.checks.scorers import score_pairs
from reviewer.checks.table import MISSING, CheckPair, PairTable, as_table

MAX_DROPPED = 5
__all__ = ["CheckPair", "PairTable", "check_result", "score"]


@dataclass
class Scored:
    """One check's scores on the pairs of its strata, in pair order (`rows`: their positions in
    the table); labels for classification."""

    check: CheckConfig
    table: PairTable
    rows: np.ndarray
    candidate: np.ndarray
    baseline: np.ndarray
    unscored: dict[str, int]
    labels: tuple[list[str], list[str], list[str]] | None = None  # truth, candidate, baseline
    codes: tuple[np.ndarray, np.ndarray, np.ndarray, int] | None = None  # the labels as integers


def _expected(check: CheckConfig, value: Any) -> Any:
    """What the pair's output should be, for this check; MISSING when the pair does not say."""
    if check.kind == "declines" and (value is MISSING or not isinstance(value, bool)):
        return check.should_decline
    if check.kind == "json_fields" and not (isinstance(value, dict) and value):
        return MISSING
    return MISSING if value is None else value


def _targets(check: CheckConfig, table: PairTable) -> tuple[np.ndarray, list[Any], dict[str, int]]:
    """The positions of the pairs the check scores, what each should be, and the pairs left
    out per stratum; the same for every check with the same strata, target and rule."""
    rule = {"declines": ("declines", check.should_decline), "json_fields": ("json",)}
    key = (check.source, check.strata, rule.get(check.kind, ()))
    if key not in table.targets:
        names, codes = table.strata
        rows = np.arange(len(table))
        if check.strata:
            wanted = [i for i, name in enumerate(names) if name in set(check.strata)]
            rows = rows[np.isin(codes, wanted)]
        if check.source is None:
            values = [None] * len(rows)
        else:
            column = table.source(check.source)
            values = [_expected(check, column[i]) for i in rows.tolist()]
        missing = np.array([v is MISSING for v in values], dtype=bool)
        lost = np.bincount(codes[rows[missing]], minlength=len(names))
        unscored = {names[i]: int(k) for i, k in enumerate(lost) if k}
        truth = [v for v in values if v is not MISSING] if missing.any() else values
        table.targets[key] = (rows[~missing], truth, unscored)
    return table.targets[key]


def score(check: CheckConfig, pairs: PairTable | list[CheckPair]) -> Scored:
    """Both outputs of every pair in the check's strata, scored; pairs without an expected
    value are counted per stratum and left out."""
    table = as_table(pairs)
    rows, truth, unscored = _targets(check, table)
    cands, bases = (_take(table.column(side), rows) for side in ("candidate", "baseline"))
    cand, base, given = score_pairs(check, cands, bases, truth, table.memo)
    n = len(rows)
    labels = None if given is None else (given[0], given[1][:n], given[1][n:])
    codes = None if labels is None else _codes(labels)
    return Scored(check, table, rows, cand, base, dict(unscored), labels, codes)


def _take(column: list[str], rows: np.ndarray) -> list[str]:
    if len(rows) == len(column):
        return column  # every pair (rows are ascending and distinct)
    return [column[i] for i in rows.tolist()]


Replicates = np.ndarray | tuple[F1Counts, F1Counts]  # mean: sums of d; F1: both sides' counts


def _codes(labels: tuple[list[str], ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Classification labels (truth, candidate, baseline) as integer codes over every label."""
    names = sorted(set().union(*labels))
    code = {name: i for i, name in enumerate(names)}
    t, c, b = (np.array(list(map(code.__getitem__, v)), dtype=np.int64) for v in labels)
    return t, c, b, len(names)


def _replicates(s: Scored, idx: np.ndarray, resamples: int, rng: np.random.Generator) -> Replicates:
    if s.codes is None:
        return mean_sums(s.candidate[idx] - s.baseline[idx], resamples, rng)
    t, c, b, k = s.codes
    return f1_counts(t[idx], c[idx], b[idx], k, resamples, rng)


def _difference(reps: Replicates, n: int) -> np.ndarray:
    if isinstance(reps, tuple):
        return reps[0].macro() - reps[1].macro()
    return reps / n


def _point(s: Scored, idx: np.ndarray) -> tuple[float, float]:
    """Both models' statistic on the items at `idx`: mean score, or macro F1."""
    if s.codes is None:
        return float(s.candidate[idx].mean()), float(s.baseline[idx].mean())
    t, c, b, k = s.codes
    return float(point_f1(t[idx], c[idx], k).macro()[0]), float(
        point_f1(t[idx], b[idx], k).macro()[0]
    )


def summarise(
    s: Scored, idx: np.ndarray, unscored: int, reps: Replicates | None, confidence: float
) -> CheckSummary:
    """One stratum's (or all strata's) summary over the items at positions `idx`."""
    n = len(idx)
    statistic = "mean" if s.labels is None else "macro_f1"
    if n == 0 or reps is None:
        empty = Interval(value=None, low=None, high=None, n=0)
        return CheckSummary(
            items=0, unscored=unscored, statistic=statistic, candidate=None, baseline=None,
            difference=empty, worst_item=None, dropped=[],
        )  # fmt: skip
    cand, base = _point(s, idx)
    low, high = percentile_interval(_difference(reps, n), confidence)
    worst, drops = _extremes(s, idx)
    return CheckSummary(
        items=n,
        unscored=unscored,
        statistic=statistic,
        candidate=cand,
        baseline=base,
        difference=Interval(value=cand - base, low=finite(low), high=finite(high), n=n),
        worst_item=worst,
        dropped=drops,
        per_class=_per_class(s, idx),
    )


def _extremes(s: Scored, idx: np.ndarray) -> tuple[ItemScore, list[ItemScore]]:
    """The candidate's lowest-scoring item, and the items that dropped most below the baseline
    (ties broken by pair id), found with numpy: only the few shown become objects."""
    cand, drop = s.candidate[idx], s.candidate[idx] - s.baseline[idx]
    id_rank = s.table.id_rank[s.rows]
    lowest = idx[cand == cand.min()]
    worst = lowest[np.argmin(id_rank[lowest])]
    dropped = idx[drop < 0]
    if len(dropped) > MAX_DROPPED:
        cut = np.partition(drop[drop < 0], MAX_DROPPED - 1)[MAX_DROPPED - 1]
        dropped = idx[drop <= cut]
    gap = s.candidate[dropped] - s.baseline[dropped]
    order = dropped[np.lexsort((id_rank[dropped], gap))]
    return _item(s, worst), [_item(s, i) for i in order[:MAX_DROPPED]]


def _item(s: Scored, i: int) -> ItemScore:
    p = s.table.pairs[s.rows[i]]
    return ItemScore(
        pair_id=p.pair_id,
        stratum=p.stratum,
        candidate=float(s.candidate[i]),
        baseline=float(s.baseline[i]),
    )


def _per_class(s: Scored, idx: np.ndarray) -> dict[str, dict[str, float]]:
    """F1 of each label the truth or either model uses on these items."""
    if s.codes is None or s.labels is None:
        return {}
    t, c, b, k = s.codes
    names = sorted(set().union(*s.labels))
    per = {}
    for side, pred in (("candidate", c), ("baseline", b)):
        counts = point_f1(t[idx], pred[idx], k)
        per[side] = np.where(counts.den > 0, 2 * counts.tp / np.maximum(counts.den, 1), 0.0)[0]
    used = point_f1(t[idx], c[idx], k).den[0] + point_f1(t[idx], b[idx], k).den[0] > 0
    return {names[i]: {side: float(per[side][i]) for side in per} for i in range(k) if used[i]}


def _combine(parts: list[Replicates]) -> Replicates | None:
    """The overall replicates from the strata's: sums (or counts) add up."""
    if not parts:
        return None
    if isinstance(parts[0], tuple):
        tuples = [p for p in parts if isinstance(p, tuple)]
        return (
            sum((p[0] for p in tuples[1:]), tuples[0][0]),
            sum((p[1] for p in tuples[1:]), tuples[0][1]),
        )
    return sum(parts[1:], parts[0])  # type: ignore[arg-type]


def check_result(
    check: CheckConfig,
    pairs: PairTable | list[CheckPair],
    *,
    confidence: float,
    seed: int,
    resamples: int,
) -> CheckResult:
    """A check over the study: per stratum, and overall with a stratified bootstrap (each
    stratum resampled on its own, as the golden set fixes how many pairs each holds). Checks
    given the same `PairTable` share what they derive from the pairs' texts."""
    s = score(check, pairs)
    names, codes = s.table.strata
    stratum_of = codes[s.rows]
    strata = sorted({names[i] for i in np.unique(stratum_of)} | set(s.unscored) | set(check.strata))
    rng = rng_for(seed)
    by_stratum, parts = {}, []
    for name in strata:
        idx = np.flatnonzero(stratum_of == names.index(name)) if name in names else stratum_of[:0]
        reps = _replicates(s, idx, resamples, rng) if len(idx) else None
        by_stratum[name] = summarise(s, idx, s.unscored.get(name, 0), reps, confidence)
        parts += [] if reps is None else [reps]
    overall = summarise(
        s, np.arange(len(s.rows)), sum(s.unscored.values()), _combine(parts), confidence
    )
    return CheckResult(
        name=check.name, kind=check.kind, target=check.source, overall=overall,
        by_stratum=by_stratum,
    )  # fmt: skip
