"""How a judge relates to the humans, in the forms the gate and the field use: the correlation of
its outcomes with the humans' preferences and the chance that a judge unrelated to the humans
would show as much (a permutation test), and its agreement counting each order's verdict.

Outcomes are scored candidate = 1, tie = 0.5, baseline = 0; an item's human score is the mean
over its labels. The correlation is Pearson's r between the judge's score and the humans' mean
score over items; with two decisive outcomes on both sides it is the phi (Matthews) coefficient.
It is what kappa is meant to be, agreement beyond what the two sides' marginals give by chance,
but it is tested by permutation instead of bootstrapped: shuffling the judge's outcomes over the
items gives its exact distribution for a judge unrelated to the humans, whatever the win share.
A judge that always gives the same outcome has no correlation at all (undefined), never a
chance one.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import countOf

import numpy as np

from reviewer.analysis.stats.agreement import Estimate, Rating, joined
from reviewer.analysis.stats.bootstrap import Resampling, percentile_interval
from reviewer.analysis.stats.ppi import SCORE

PERMUTATION_STREAM = 5  # apart from the bootstrap's stream, so the two never share draws
PERMUTATIONS = 1999  # p-values in steps of 1/2000: 0.05 is exactly representable
_FLAT = 1e-12  # a variance below this is a constant score


@dataclass(frozen=True)
class Association:
    """Pearson's r between a judge and the humans, and the permutation p-value of r."""

    r: Estimate  # n = items
    p_value: float  # one-sided; 1.0 when r is undefined (either side constant), NaN untested
    permutations: int


def human_scores(humans: Sequence[Rating]) -> dict[str, float]:
    """Each item's mean human score (candidate 1, tie 0.5, baseline 0)."""
    values: dict[str, list[float]] = defaultdict(list)
    for r in humans:
        values[r.item].append(SCORE[r.value])
    return {item: sum(v) / len(v) for item, v in values.items()}


def _r_columns(x: np.ndarray) -> np.ndarray:
    """The exact columns of `_weighted_r` (x is a score: 0, 0.5 or 1): 1, x and x squared."""
    return np.stack([np.ones(len(x)), x, x * x], axis=1)


def _weighted_r(w: np.ndarray, sums: np.ndarray, y: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Pearson's r under item weights w (rows: resamples); NaN where a side is constant.
    `sums` = w @ `_r_columns(x)`, exact; the sums over the mean human score y (and y^2, x y)
    are not exact (a third is no binary fraction), so they are the products they always were."""
    total = sums[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        mx, my = sums[:, 1] / total, (w @ y) / total
        vx = sums[:, 2] / total - mx * mx
        vy = (w @ (y * y)) / total - my * my
        cov = (w @ xy) / total - mx * my
        r = cov / np.sqrt(vx * vy)
    return np.where((vx > _FLAT) & (vy > _FLAT), np.clip(r, -1, 1), np.nan)


def association(
    judge: Mapping[str, str],
    humans: Sequence[Rating],
    *,
    resamples: int = 1000,
    permutations: int = PERMUTATIONS,
    seed: int = 0,
) -> Association:
    """Pearson's r between the judge's outcome and the humans' mean score on the items both
    rated, bootstrapped over items, and the one-sided permutation p-value of r (Monte Carlo,
    (1 + k) / (1 + permutations) with k shuffles at least as extreme: valid at any sample size,
    so a judge unrelated to the humans gets p <= 0.05 at most 5% of the time).

    >>> humans = [Rating(i, h, v) for i, v in enumerate("ccbbcb") for h in ("a", "b")]
    >>> humans = [Rating(r.item, r.rater, {"c": "candidate", "b": "baseline"}[r.value])
    ...           for r in humans]
    >>> same = {r.item: r.value for r in humans}
    >>> a = association(same, humans, resamples=0)
    >>> a.r.value, a.p_value < 0.1  # 6 items, 3 per side: the one matching shuffle in 20
    (1.0, True)
    >>> association(dict.fromkeys(same, "candidate"), humans, resamples=0).p_value
    1.0
    """
    r = correlation_later(Resampling(resamples, seed) if resamples else None, judge, humans)()
    if math.isnan(r.value) or permutations == 0:
        return Association(r, 1.0 if permutations else math.nan, permutations)
    x, y = _scored(judge, humans)
    n = len(x)
    # Shuffling x keeps its mean and spread, so x . (y - mean y) orders shuffles as r does.
    rng = np.random.default_rng([seed, PERMUTATION_STREAM])
    shuffled = rng.permuted(np.broadcast_to(x, (permutations, n)), axis=1)
    centred = y - y.mean()
    observed = x @ centred
    extreme = int((shuffled @ centred >= observed - 1e-9).sum())
    return Association(r, (1 + extreme) / (1 + permutations), permutations)


def _scored(
    judge: Mapping[str, str], humans: Sequence[Rating], scores: Mapping[str, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The judge's score and the humans' mean score on the items both rated, in item order."""
    scores = human_scores(humans) if scores is None else scores
    items, outcomes, y = joined(judge, scores)
    x = np.fromiter(map(SCORE.__getitem__, outcomes), float, len(items))
    return x, np.fromiter(y, float, len(items))


def correlation_later(
    resampling: Resampling | None,
    judge: Mapping[str, str],
    humans: Sequence[Rating],
    scores: Mapping[str, float] | None = None,
) -> Callable[[], Estimate]:
    """The r of `association`, its bootstrap added to `resampling` (None: no interval); the
    function returned gives it. `scores`, when the caller has it, is `human_scores` of every
    rating of each item `humans` rates (of more items too: only the judge's are read), so
    several judges share one pass over the ratings."""
    return correlation_of_later(resampling, *_scored(judge, humans, scores))


def correlation_of_later(
    resampling: Resampling | None, x: np.ndarray, y: np.ndarray
) -> Callable[[], Estimate]:
    """`correlation_later` of the judge's scores `x` and the humans' mean scores `y`, aligned
    over the items both rated in item order (the arrays `_scored` gives)."""
    n, cols, xy = len(x), _r_columns(x), x * y
    ones = np.ones((1, n))
    value = float(_weighted_r(ones, ones @ cols, y, xy)[0]) if n else math.nan
    if resampling is None or (x == x[:1]).all():
        # A constant judge's weighted variance is exactly 0 (its sums are exact) under any
        # resample: every replicate would be NaN, so there is nothing to draw.
        return lambda: Estimate(value, math.nan, math.nan, n)
    later = resampling.add(lambda w, sums: _weighted_r(w, sums, y, xy), n, cols)
    return lambda: Estimate(value, *percentile_interval(later()), n)


def per_verdict_agreement(
    verdicts: Mapping[str, Sequence[str]],
    reference: Mapping[str, str],
    *,
    resamples: int = 1000,
    seed: int = 0,
) -> Estimate:
    """Share of verdicts equal to their item's reference, each order's verdict counted on its
    own (the convention of LLMBar, JudgeBench and AlpacaEval) rather than one outcome per item;
    n = verdicts. The two verdicts of an item are not independent, so the interval is a
    bootstrap over items.

    >>> est = per_verdict_agreement({"a": ["candidate", "candidate"], "b": ["baseline", "tie"]},
    ...                             {"a": "candidate", "b": "baseline"}, resamples=0)
    >>> est.value, est.n
    (0.75, 4)
    """
    return per_verdict_later(Resampling(resamples, seed), verdicts, reference)()


def per_verdict_later(
    resampling: Resampling, verdicts: Mapping[str, Sequence[str]], reference: Mapping[str, str]
) -> Callable[[], Estimate]:
    """`per_verdict_agreement`, its bootstrap added to `resampling`."""
    _, given, references = joined(verdicts, reference)
    hits = map(countOf, given, references)
    counts = np.fromiter(map(len, given), float, len(given))
    return per_verdict_of_later(resampling, np.fromiter(hits, float, len(given)), counts)


def per_verdict_of_later(
    resampling: Resampling, hits: np.ndarray, counts: np.ndarray
) -> Callable[[], Estimate]:
    """`per_verdict_later` of each item's verdicts equal to its reference (`hits`) and its
    verdicts (`counts`), item after item in item order; items without verdicts are left out."""
    if not (kept := counts > 0).all():
        hits, counts = hits[kept], counts[kept]
    total = counts.sum()
    value = float(hits.sum() / total) if total else math.nan

    def share(_: np.ndarray, sums: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return sums[:, 0] / sums[:, 1]  # hits and verdicts: exact sums

    later = resampling.add(share, len(hits), np.stack([hits, counts], axis=1))
    return lambda: Estimate(value, *percentile_interval(later()), int(total))
