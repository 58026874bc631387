"""Score every pair on every check, then summarise per stratum: both models' statistic, the
worst item, the paired difference with its bootstrap interval, the items that dropped most.

The interval resamples pairs (both outputs of a pair stay together, so it is the paired
difference's interval), percentile method, seeded by the study seed. Resamples are drawn in
chunks, so 1,000 resamples of 100,000 items never hold more than a few million draws at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import f1_score

from reviewer.analysis.intervals import Interval, finite
from reviewer.analysis.stats import percentile_interval
from reviewer.checks.declared import CheckConfig
from reviewer.checks.results import CheckResult, CheckSummary, ItemScore
from reviewer.checks.scorers import label_of, scorer

CHECKS_STREAM = 13  # the bootstrap's own random stream (see reviewer.analysis.stats.bootstrap)
CHUNK_DRAWS = 4_000_000
MAX_DROPPED = 5
_MISSING = object()


@dataclass(frozen=True)
class CheckPair:
    """One pair as the checks read it."""

    pair_id: str
    stratum: str
    candidate: str
    baseline: str
    reference: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Scored:
    """One check's scores on the pairs of its strata, in pair order; labels for classification."""

    check: CheckConfig
    items: list[CheckPair]
    candidate: np.ndarray
    baseline: np.ndarray
    unscored: dict[str, int]
    labels: tuple[list[str], list[str], list[str]] | None = None  # truth, candidate, baseline


def expected_of(check: CheckConfig, pair: CheckPair) -> Any:
    """What the pair's output should be, for this check; _MISSING when the pair does not say."""
    source = check.source
    if source is None:
        return None
    if source == "reference":
        value = _MISSING if pair.reference is None else pair.reference
    else:
        value = pair.metadata.get("expected", _MISSING)
        if "." in source:
            key = source.split(".", 1)[1]
            value = value.get(key, _MISSING) if isinstance(value, dict) else _MISSING
    if check.kind == "declines" and (value is _MISSING or not isinstance(value, bool)):
        return check.should_decline
    if check.kind == "json_fields" and not (isinstance(value, dict) and value):
        return _MISSING
    return _MISSING if value is None else value


def score(check: CheckConfig, pairs: list[CheckPair]) -> Scored:
    """Both outputs of every pair in the check's strata, scored; pairs without an expected
    value are counted per stratum and left out."""
    fn = scorer(check)
    wanted = set(check.strata)
    items, cand, base, truth = [], [], [], []
    unscored: dict[str, int] = {}
    for p in pairs:
        if wanted and p.stratum not in wanted:
            continue
        exp = expected_of(check, p)
        if exp is _MISSING:
            unscored[p.stratum] = unscored.get(p.stratum, 0) + 1
            continue
        items.append(p)
        cand.append(fn(p.candidate, exp))
        base.append(fn(p.baseline, exp))
        truth.append(exp)
    labels = None
    if check.kind == "classification":
        labels = (
            [label_of(t if isinstance(t, str) else str(t), check.model_copy(update={"field": None}))
             for t in truth],
            [label_of(p.candidate, check) for p in items],
            [label_of(p.baseline, check) for p in items],
        )  # fmt: skip
    return Scored(check, items, np.array(cand, float), np.array(base, float), unscored, labels)


def resampled(n: int, resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Chunks of bootstrap index rows: each row draws n items with replacement."""
    rng = np.random.default_rng([seed, CHECKS_STREAM])
    per_chunk = max(1, CHUNK_DRAWS // max(n, 1))
    for start in range(0, resamples, per_chunk):
        yield rng.integers(0, n, size=(min(per_chunk, resamples - start), n))


def _macro_f1(truth: np.ndarray, pred: np.ndarray, classes: int) -> np.ndarray:
    """Macro F1 of each row (rows of label codes), as scikit-learn forms it: per class
    2TP / (2TP + FP + FN), averaged over the classes the row's truth or prediction uses."""
    total = np.zeros(truth.shape[0])
    used = np.zeros(truth.shape[0])
    for c in range(classes):
        t, p = truth == c, pred == c
        tp = (t & p).sum(axis=1)
        denominator = t.sum(axis=1) + p.sum(axis=1)  # 2TP + FP + FN
        present = denominator > 0
        total += np.where(present, 2 * tp / np.maximum(denominator, 1), 0.0)
        used += present
    return total / np.maximum(used, 1)


def _statistics(
    s: Scored, idx: np.ndarray
) -> tuple[Callable[[np.ndarray], np.ndarray], float, float]:
    """(replicate function over index rows, candidate statistic, baseline statistic)."""
    if s.labels is None:
        diff = s.candidate[idx] - s.baseline[idx]
        return (
            (lambda rows: (diff[rows]).mean(axis=1)),
            float(s.candidate[idx].mean()),
            float(s.baseline[idx].mean()),
        )
    truth, cand, base = (np.asarray(x, dtype=object)[idx] for x in s.labels)
    names = sorted(set(truth) | set(cand) | set(base))
    code = {name: i for i, name in enumerate(names)}
    t, c, b = (np.array([code[x] for x in v], dtype=np.int32) for v in (truth, cand, base))
    k = len(names)

    def replicate(rows: np.ndarray) -> np.ndarray:
        return _macro_f1(t[rows], c[rows], k) - _macro_f1(t[rows], b[rows], k)

    return (
        replicate,
        float(f1_score(list(truth), list(cand), average="macro", zero_division=0)),
        float(f1_score(list(truth), list(base), average="macro", zero_division=0)),
    )


def summarise(
    s: Scored, idx: np.ndarray, unscored: int, *, confidence: float, seed: int, resamples: int
) -> CheckSummary:
    """One stratum's (or all strata's) summary over the items at positions `idx`."""
    n = len(idx)
    statistic = "mean" if s.labels is None else "macro_f1"
    if n == 0:
        empty = Interval(value=None, low=None, high=None, n=0)
        return CheckSummary(
            items=0, unscored=unscored, statistic=statistic, candidate=None, baseline=None,
            difference=empty, worst_item=None, dropped=[],
        )  # fmt: skip
    replicate, cand, base = _statistics(s, idx)
    reps = np.concatenate([replicate(rows) for rows in resampled(n, resamples, seed)] or [[]])
    low, high = percentile_interval(reps, confidence)
    items = [_item(s, i) for i in idx]
    worst = min(items, key=lambda it: (it.candidate, it.pair_id))
    drops = sorted(
        (it for it in items if it.candidate < it.baseline),
        key=lambda it: (it.candidate - it.baseline, it.pair_id),
    )[:MAX_DROPPED]
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


def _item(s: Scored, i: int) -> ItemScore:
    p = s.items[i]
    return ItemScore(
        pair_id=p.pair_id,
        stratum=p.stratum,
        candidate=float(s.candidate[i]),
        baseline=float(s.baseline[i]),
    )


def _per_class(s: Scored, idx: np.ndarray) -> dict[str, dict[str, float]]:
    if s.labels is None:
        return {}
    truth, cand, base = ([x[i] for i in idx] for x in s.labels)
    names = sorted(set(truth) | set(cand) | set(base))
    per = {
        side: f1_score(truth, pred, labels=names, average=None, zero_division=0)
        for side, pred in (("candidate", cand), ("baseline", base))
    }
    return {name: {side: float(per[side][i]) for side in per} for i, name in enumerate(names)}


def check_result(
    check: CheckConfig, pairs: list[CheckPair], *, confidence: float, seed: int, resamples: int
) -> CheckResult:
    """A check over the study: overall and per stratum."""
    s = score(check, pairs)
    strata = sorted({p.stratum for p in s.items} | set(s.unscored) | set(check.strata))
    positions = np.arange(len(s.items))
    by_stratum = {
        name: summarise(
            s,
            positions[[p.stratum == name for p in s.items]] if s.items else positions,
            s.unscored.get(name, 0),
            confidence=confidence,
            seed=seed,
            resamples=resamples,
        )
        for name in strata
    }
    overall = summarise(
        s, positions, sum(s.unscored.values()), confidence=confidence, seed=seed,
        resamples=resamples,
    )  # fmt: skip
    return CheckResult(
        name=check.name, kind=check.kind, target=check.source, overall=overall,
        by_stratum=by_stratum,
    )  # fmt: skip
