"""Agreement between raters on the same items: humans with humans, a judge with humans.

Input everywhere: a list of `Rating(item, rater, value)`, one (latest) rating per item and rater.
Libraries compute the statistics: scikit-learn (Cohen), statsmodels (Fleiss), krippendorff
(alpha). Gwet's AC1 has no dependable library here (irrCAC pins old scipy/pandas), so it is the
formula of Gwet (2008), written out below.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import krippendorff
import numpy as np
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

from reviewer.stats.bootstrap import bootstrap_ci


@dataclass(frozen=True)
class Rating:
    item: str
    rater: str
    value: str


@dataclass(frozen=True)
class Estimate:
    """A statistic, its bootstrap interval over items, and how much data it rests on."""

    value: float
    low: float
    high: float
    n: int


def by_item(ratings: Sequence[Rating]) -> dict[str, dict[str, str]]:
    items: dict[str, dict[str, str]] = defaultdict(dict)
    for r in ratings:
        items[r.item][r.rater] = r.value
    return dict(items)


def cohen(
    a: Sequence[str],
    b: Sequence[str],
    weights: str | None = None,
    labels: Sequence[str] | None = None,
) -> float:
    """Cohen's kappa; NaN where it is undefined (both raters constant)."""
    if len(a) == 0 or (len(set(a)) == 1 and len(set(b)) == 1):
        return math.nan
    return float(cohen_kappa_score(a, b, weights=weights, labels=labels))


@dataclass(frozen=True)
class PairAgreement:
    rater_a: str
    rater_b: str
    shared: int
    agreement: float
    kappa: float


def pairwise(
    ratings: Sequence[Rating],
    min_shared: int = 10,
    weights: str | None = None,
    labels: Sequence[str] | None = None,
) -> list[PairAgreement]:
    """Percent agreement and Cohen's kappa for every rater pair sharing >= min_shared items."""
    items = by_item(ratings)
    raters = sorted({r.rater for r in ratings})
    out = []
    for a, b in itertools.combinations(raters, 2):
        shared = [(v[a], v[b]) for v in items.values() if a in v and b in v]
        if len(shared) < min_shared:
            continue
        xa, xb = [s[0] for s in shared], [s[1] for s in shared]
        agreement = float(np.mean([x == y for x, y in shared]))
        out.append(PairAgreement(a, b, len(shared), agreement, cohen(xa, xb, weights, labels)))
    return out


def _label_pairs(items: dict[str, dict[str, str]], ties: bool) -> tuple[list[str], list[str]]:
    """Every unordered pair of ratings by two different raters on the same item, as two lists."""
    left, right = [], []
    for ratings in items.values():
        for x, y in itertools.combinations(list(ratings.values()), 2):
            if not ties and ("tie" in (x, y)):
                continue
            left.append(x)
            right.append(y)
    return left, right


def mtbench(
    ratings: Sequence[Rating], ties: bool = True, resamples: int = 1000, seed: int = 0
) -> tuple[Estimate, Estimate]:
    """MT-Bench protocol (Zheng et al. 2023, sec. 4.2): agreement over all pairs of labels on the
    same item by different raters; `ties=False` drops a pair if either side is a tie.

    Returns (agreement, kappa). The pairs are unordered, so kappa is computed on both orders at
    once (a symmetric Cohen's kappa, i.e. Scott's pi over label pairs).
    """
    items = by_item(ratings)

    def stats(keys: list[str]) -> tuple[float, float, int]:
        left, right = _label_pairs({k: items[k] for k in keys}, ties)
        if not left:
            return math.nan, math.nan, 0
        agree = float(np.mean([x == y for x, y in zip(left, right, strict=True)]))
        return agree, cohen(left + right, right + left), len(left)

    keys = sorted(items)
    agree, kappa, n = stats(keys)
    agree_ci = bootstrap_ci(keys, lambda ks: stats(ks)[0], resamples, seed)
    kappa_ci = bootstrap_ci(keys, lambda ks: stats(ks)[1], resamples, seed)
    return Estimate(agree, *agree_ci, n), Estimate(kappa, *kappa_ci, n)


def fleiss(ratings: Sequence[Rating]) -> float | None:
    """Fleiss' kappa, or None unless every item has the same number of raters (>= 2)."""
    items = by_item(ratings)
    counts = {len(v) for v in items.values()}
    if len(counts) != 1 or counts.pop() < 2:
        return None
    table = np.array([list(v.values()) for v in items.values()], dtype=object)
    codes = {c: i for i, c in enumerate(sorted({x for row in table for x in row}))}
    coded = np.vectorize(codes.get)(table)
    counts_table, _ = aggregate_raters(coded, n_cat=len(codes))
    return float(fleiss_kappa(counts_table, method="fleiss"))


def alpha(
    ratings: Sequence[Rating], level: str = "nominal", order: Sequence[str] | None = None
) -> float:
    """Krippendorff's alpha; missing ratings allowed. `order` maps ordinal values to ranks."""
    items = by_item(ratings)
    raters = sorted({r.rater for r in ratings})
    values = order or sorted({r.value for r in ratings})
    code = {v: float(i) for i, v in enumerate(values)}
    data = np.full((len(raters), len(items)), np.nan)
    for j, ratings_of in enumerate(items.values()):
        for i, rater in enumerate(raters):
            if rater in ratings_of:
                data[i, j] = code[ratings_of[rater]]
    if np.sum(~np.isnan(data)) < 2 or len(code) < 2:
        return math.nan
    return float(
        krippendorff.alpha(
            reliability_data=data, level_of_measurement=level, value_domain=list(code.values())
        )
    )


def gwet_ac1(ratings: Sequence[Rating]) -> float:
    """Gwet's AC1 for any number of raters, missing ratings allowed (Gwet 2008, eq. 14-15):

        pa = mean over items with r_i >= 2 of  sum_k r_ik (r_ik - 1) / (r_i (r_i - 1))
        pi_k = mean over items of r_ik / r_i
        pe = sum_k pi_k (1 - pi_k) / (q - 1)
        AC1 = (pa - pe) / (1 - pe)

    where r_ik counts raters who put item i in category k and q is the number of categories.
    Unlike kappa it stays high when raters agree on a skewed label (the "kappa paradox").
    """
    items = by_item(ratings)
    categories = sorted({r.value for r in ratings})
    q = len(categories)
    if q < 2:
        return math.nan
    pa_terms, pi = [], np.zeros(q)
    for ratings_of in items.values():
        counts = np.array([list(ratings_of.values()).count(c) for c in categories], dtype=float)
        r = counts.sum()
        pi += counts / r
        if r >= 2:
            pa_terms.append(float((counts * (counts - 1)).sum() / (r * (r - 1))))
    if not pa_terms:
        return math.nan
    pa = float(np.mean(pa_terms))
    pi /= len(items)
    pe = float((pi * (1 - pi)).sum() / (q - 1))
    return (pa - pe) / (1 - pe)
