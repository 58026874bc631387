"""Bootstrap replicates of the checks' statistics, fast enough for 100,000 pairs.

A bootstrap resample draws n pairs with replacement; a statistic that depends only on how many
draws fall on each distinct value (a mean of 0/1 scores, the confusion counts behind an F1) has
the same distribution when the counts are drawn at once: Multinomial(n, share of each value).
That is exact, not an approximation, and costs resamples x distinct values instead of
resamples x n. Continuous scores (fuzzy, ROUGE-L), with many distinct values, draw pair indices
in chunks instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

CHECKS_STREAM = 13  # the checks' own random stream (see reviewer.analysis.stats.bootstrap)
CHUNK_DRAWS = 4_000_000  # pair indices held at once
MAX_GROUPS = 4096  # above this many distinct values, draw indices instead of counts


def rng_for(seed: int) -> np.random.Generator:
    return np.random.default_rng([seed, CHECKS_STREAM])


def index_rows(n: int, resamples: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Chunks of bootstrap index rows: each row draws n pairs with replacement."""
    per_chunk = max(1, CHUNK_DRAWS // max(n, 1))
    for start in range(0, resamples, per_chunk):
        yield rng.integers(0, n, size=(min(per_chunk, resamples - start), n), dtype=np.int64)


def mean_sums(d: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Sums of `d` over each of `resamples` bootstrap resamples (divide by n for the mean)."""
    n = len(d)
    values, freq = np.unique(d, return_counts=True)
    if len(values) <= MAX_GROUPS:
        return rng.multinomial(n, freq / n, size=resamples) @ values
    return np.concatenate([np.take(d, rows).sum(axis=1) for rows in index_rows(n, resamples, rng)])


@dataclass(frozen=True)
class F1Counts:
    """Per resample and class: true positives and 2TP + FP + FN (= true + predicted)."""

    tp: np.ndarray  # (resamples, classes)
    den: np.ndarray

    def __add__(self, other: F1Counts) -> F1Counts:
        return F1Counts(self.tp + other.tp, self.den + other.den)

    def macro(self) -> np.ndarray:
        """Macro F1 per resample, as scikit-learn forms it: per class 2TP / (2TP + FP + FN),
        averaged over the classes the truth or the prediction uses (den > 0)."""
        used = self.den > 0
        f1 = np.where(used, 2 * self.tp / np.maximum(self.den, 1), 0.0)
        return f1.sum(axis=1) / np.maximum(used.sum(axis=1), 1)


def point_f1(truth: np.ndarray, pred: np.ndarray, classes: int) -> F1Counts:
    """F1 counts of one set of items (a single row)."""
    tp = np.bincount(truth[truth == pred], minlength=classes)
    den = np.bincount(truth, minlength=classes) + np.bincount(pred, minlength=classes)
    return F1Counts(tp[None, :].astype(float), den[None, :].astype(float))


def rows_f1(truth: np.ndarray, pred: np.ndarray, rows: np.ndarray, classes: int) -> F1Counts:
    """F1 counts of each index row (label codes 0..classes-1)."""
    t, p = truth[rows], pred[rows]
    tp = np.stack([((t == c) & (p == c)).sum(axis=1) for c in range(classes)], axis=1)
    den = np.stack([(t == c).sum(axis=1) + (p == c).sum(axis=1) for c in range(classes)], axis=1)
    return F1Counts(tp.astype(float), den.astype(float))


def _distinct_triples(
    truth: np.ndarray, cand: np.ndarray, base: np.ndarray, classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (truth, candidate, baseline) label codes in lexicographic order, with
    their counts: np.unique(..., axis=0), from one integer per triple (100x faster)."""
    if classes**3 >= 2**63:
        return np.unique(np.stack([truth, cand, base], axis=1), axis=0, return_counts=True)
    keys, freq = np.unique((truth * classes + cand) * classes + base, return_counts=True)
    triples = np.stack([keys // classes**2, keys // classes % classes, keys % classes], axis=1)
    return triples, freq


def f1_counts(
    truth: np.ndarray,
    cand: np.ndarray,
    base: np.ndarray,
    classes: int,
    resamples: int,
    rng: np.random.Generator,
) -> tuple[F1Counts, F1Counts]:
    """Both models' F1 counts over the same resamples (paired: a pair's truth and both
    predictions are drawn together)."""
    n = len(truth)
    values, freq = _distinct_triples(truth, cand, base, classes)
    if len(values) <= MAX_GROUPS:
        w = rng.multinomial(n, freq / n, size=resamples).astype(float)
        eye = np.eye(classes)
        t = eye[values[:, 0]]

        def side(col: int) -> F1Counts:
            p = eye[values[:, col]]
            return F1Counts(w @ (t * p), w @ (t + p))

        return side(1), side(2)
    parts = [
        (rows_f1(truth, cand, rows, classes), rows_f1(truth, base, rows, classes))
        for rows in index_rows(n, resamples, rng)
    ]
    return (
        F1Counts(*(np.concatenate([getattr(c, f) for c, _ in parts]) for f in ("tp", "den"))),
        F1Counts(*(np.concatenate([getattr(b, f) for _, b in parts]) for f in ("tp", "den"))),
    )
