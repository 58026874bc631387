"""Agreement between raters on the same items: humans with humans, a judge with humans.

Input everywhere: a list of `Rating(item, rater, value)`, one (latest) rating per item and rater,
or, where a function takes `grouped`, their `by_item` (the ratings are then not read: the report
groups its 175,000 labels once and makes no `Rating` of them).
Libraries compute the statistics: scikit-learn (Cohen), statsmodels (Fleiss), krippendorff
(alpha). Gwet's AC1 is the formula of Gwet (2008), written out in `gwet.py`.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress, repeat
from operator import is_not
from typing import Any

import numpy as np

from reviewer.analysis.stats.bootstrap import Resampling, percentile_interval


@dataclass(frozen=True, slots=True)
class Rating:
    """One rater's value on one item. Slots: the report makes 350,000 of them at 100,000
    items, three times faster so."""

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


_MISSING = object()


def joined(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[list[str], list[Any], list[Any]]:
    """The keys of both, sorted, and each one's value in `a` and in `b`: the smaller's keys
    sorted (one pass when they are in order already, as the report's are) and looked up in the
    larger, one look-up per key in each and no Python step per key.

    >>> joined({"b": 1, "a": 2, "c": 3}, {"c": 0, "a": 5})
    (['a', 'c'], [2, 3], [5, 0])
    """
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    keys = sorted(small)
    found = list(map(large.get, keys, repeat(_MISSING)))
    if not all(kept := list(map(is_not, found, repeat(_MISSING)))):
        keys, found = list(compress(keys, kept)), list(compress(found, kept))
    own = list(map(small.__getitem__, keys))
    return (keys, own, found) if small is a else (keys, found, own)


def by_item(ratings: Sequence[Rating]) -> dict[str, dict[str, str]]:
    items: dict[str, dict[str, str]] = defaultdict(dict)
    for r in ratings:
        items[r.item][r.rater] = r.value
    return dict(items)


def item_of_each(per_item: list[dict[str, str]]) -> np.ndarray:
    """Each rating's item (its index in `per_item`), item after item as `per_item` holds
    them: the item column of the ratings, made without a Python step per rating."""
    sizes = np.fromiter(map(len, per_item), np.int64, len(per_item))
    return np.repeat(np.arange(len(per_item), dtype=np.int64), sizes)


def _cells(per_item: list[dict[str, str]], code: dict[str, Any], dtype: type = np.int64) -> Any:
    """Each rating's value's code, item after item (no Python step per rating)."""
    values = itertools.chain.from_iterable(map(dict.values, per_item))
    return np.fromiter(map(code.__getitem__, values), dtype)


def raters_of(grouped: dict[str, dict[str, str]]) -> set[str]:
    """Every rater of a `by_item` grouping."""
    return set(itertools.chain.from_iterable(grouped.values()))


class ItemTable:
    """Per-item sufficient statistics of a set of ratings over categories `categories`.

    pairs[i] is the q x q matrix of ordered pairs of ratings by different raters on item i
    (both orders), counts[i] the number of raters per category. MT-Bench agreement, Scott's pi
    over label pairs, Krippendorff's nominal alpha and Gwet's AC1 are all ratios of sums of
    these, so a bootstrap resample is a weighted sum (see bootstrap.py).
    """

    def __init__(
        self,
        ratings: Sequence[Rating],
        categories: Sequence[str] | None = None,
        grouped: dict[str, dict[str, str]] | None = None,
    ):
        """`grouped`: the ratings' `by_item`, when the caller has it."""
        items = self.grouped = by_item(ratings) if grouped is None else grouped
        self.keys = sorted(items)
        self.categories = list(categories or sorted({r.value for r in ratings}))
        index = {c: k for k, c in enumerate(self.categories)}
        q = len(self.categories)
        per_key = list(map(items.__getitem__, self.keys))
        cells = _cells(per_key, index) + q * item_of_each(per_key)
        counts = np.bincount(cells, minlength=len(self.keys) * q)
        self.counts = counts.reshape(len(self.keys), q).astype(float)
        c = self.counts
        # Ordered pairs of different raters: n_c n_k off the diagonal, n_c (n_c - 1) on it.
        self.pairs = c[:, :, None] * c[:, None, :] - np.einsum("ij,jk->ijk", c, np.eye(q))

    def without(self, category: str) -> ItemTable:
        """The same items with every pair involving `category` dropped (MT-Bench "no ties")."""
        out = object.__new__(ItemTable)
        out.keys, out.categories, out.counts = self.keys, self.categories, self.counts
        out.grouped = self.grouped
        out.pairs = self.pairs.copy()
        if category in self.categories:
            k = self.categories.index(category)
            out.pairs[:, k, :] = 0
            out.pairs[:, :, k] = 0
        return out


def _table_stats(table: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Agreement, Cohen's kappa and count from contingency tables of shape (..., q, q):
    p_o = trace / total, p_e = sum_k row_k col_k / total^2. On a symmetric table of ordered
    pairs this is Scott's pi."""
    total = table.sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        agree = np.trace(table, axis1=-2, axis2=-1) / total
        rows = table.sum(axis=-1) / total[..., None]
        cols = table.sum(axis=-2) / total[..., None]
        expected = (rows * cols).sum(axis=-1)
        kappa = (agree - expected) / (1 - expected)
    return agree, kappa, total


def table_agreement(table: np.ndarray) -> tuple[float, float, int]:
    """Agreement, Cohen's kappa and count of one (q, q) table of counts (rows: one rater)."""
    agree, kappa, n = _table_stats(table)
    return float(agree), float(kappa), int(n)


def _table_sums(resampling: Resampling, tables: np.ndarray, stats: Callable) -> Callable:
    """`stats` of the weighted sums of per-item (items, q, q) tables, added to `resampling`.
    Tables hold counts, so every sum is an exact integer, the same from any product."""
    n, q, _ = tables.shape
    return resampling.add(
        lambda _, sums: stats(sums.reshape(len(sums), q, q)), n, tables.reshape(n, q * q)
    )


def _pair_stats(pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """As `_table_stats`, for ordered pair tables: n counts unordered pairs."""
    agree, kappa, total = _table_stats(pairs)
    return agree, kappa, total / 2


def judge_vs_humans(
    judge: dict[str, str],
    humans: Sequence[Rating],
    *,
    ties: bool = True,
    resamples: int = 1000,
    seed: int = 0,
) -> tuple[Estimate, Estimate]:
    """A judge against every human label on the same item (MT-Bench protocol): agreement and
    Cohen's kappa over (judge, human) label pairs, bootstrapped over items."""
    tables = _judge_tables(judge, humans)
    if not ties:
        tables[:, 2, :] = 0
        tables[:, :, 2] = 0
    agree, kappa, n = _table_stats(tables.sum(axis=0))
    b_agree, b_kappa, _ = _table_sums(Resampling(resamples, seed), tables, _table_stats)()
    return (
        Estimate(float(agree), *percentile_interval(b_agree), int(n)),
        Estimate(float(kappa), *percentile_interval(b_kappa), int(n)),
    )


def _judge_tables(
    judge: dict[str, str],
    humans: Sequence[Rating],
    grouped: dict[str, dict[str, str]] | None = None,
) -> np.ndarray:
    """(items, 3, 3) counts of (judge, human) label pairs, items in sorted order."""
    index = {c: k for k, c in enumerate(["candidate", "baseline", "tie"])}
    items = by_item(humans) if grouped is None else grouped
    keys, per_key, outcomes = joined(items, judge)
    judged = np.fromiter(map(index.__getitem__, outcomes), np.int64, len(keys))
    item = item_of_each(per_key)  # item, judge's and human's category: a flattened cell
    cells = 9 * item + 3 * judged[item] + _cells(per_key, index)
    counts = np.bincount(cells, minlength=9 * len(keys))
    return counts.reshape(len(keys), 3, 3).astype(float)


Pair = tuple[Estimate, Estimate]  # (agreement, kappa)


def judge_vs_humans_both(
    judge: dict[str, str], humans: Sequence[Rating], *, resamples: int = 1000, seed: int = 0
) -> tuple[Pair, Pair]:
    """`judge_vs_humans` with ties and without, from one pass over the resamples."""
    return judge_vs_humans_later(Resampling(resamples, seed), judge, humans)()


def judge_vs_humans_later(
    resampling: Resampling,
    judge: dict[str, str],
    humans: Sequence[Rating],
    grouped: dict[str, dict[str, str]] | None = None,
) -> Callable[[], tuple[Pair, Pair]]:
    """`judge_vs_humans_both`, its bootstrap added to `resampling`: the function returned
    gives the result (`grouped`: the humans' `by_item`, when the caller has it)."""
    tables = _judge_tables(judge, humans, grouped)
    return _with_and_without_tie(tables, 2, _table_stats, resampling)


def mtbench_both(
    ratings: Sequence[Rating],
    *,
    resamples: int = 1000,
    seed: int = 0,
    table: ItemTable | None = None,
) -> tuple[Pair, Pair]:
    """`mtbench` with ties and without, from one pass over the resamples."""
    return mtbench_later(Resampling(resamples, seed), table or ItemTable(ratings))()


def mtbench_later(resampling: Resampling, table: ItemTable) -> Callable[[], tuple[Pair, Pair]]:
    """`mtbench_both` on `table`, its bootstrap added to `resampling`."""
    tie = table.categories.index("tie") if "tie" in table.categories else None
    return _with_and_without_tie(table.pairs, tie, _pair_stats, resampling)


def _with_and_without_tie(
    tables: np.ndarray, tie: int | None, stats: Callable, resampling: Resampling
) -> Callable[[], tuple[Pair, Pair]]:
    """Agreement and kappa from per-item (items, q, q) tables as they are and with the tie row
    and column zeroed. The weighted sums are exact integers, so zeroing them after the sum is
    zeroing the tables before it: both from one bootstrap, the numbers of two."""

    def cut(t: np.ndarray) -> np.ndarray:
        t = t.copy()
        if tie is not None:
            t[..., tie, :] = 0
            t[..., :, tie] = 0
        return t

    later = _table_sums(resampling, tables, lambda t: (*stats(t)[:2], *stats(cut(t))[:2]))

    def result() -> tuple[Pair, Pair]:
        replicates = later()
        out = []
        for k, t in enumerate((tables, cut(tables))):
            agree, kappa, n = stats(t.sum(axis=0))
            out.append(
                (
                    Estimate(float(agree), *percentile_interval(replicates[2 * k]), int(n)),
                    Estimate(float(kappa), *percentile_interval(replicates[2 * k + 1]), int(n)),
                )
            )
        return out[0], out[1]

    return result


def mtbench(
    ratings: Sequence[Rating],
    *,
    ties: bool = True,
    resamples: int = 1000,
    seed: int = 0,
    table: ItemTable | None = None,
) -> tuple[Estimate, Estimate]:
    """MT-Bench protocol (Zheng et al. 2023, sec. 4.2): agreement over all pairs of labels on the
    same item by different raters; `ties=False` drops a pair if either side is a tie.

    Returns (agreement, kappa). The pairs are unordered, so kappa is Cohen's kappa over both
    orders at once, which is Scott's pi over label pairs.
    """
    table = table or ItemTable(ratings)
    if not ties:
        table = table.without("tie")
    agree, kappa, n = _pair_stats(table.pairs.sum(axis=0))
    b_agree, b_kappa, _ = _table_sums(Resampling(resamples, seed), table.pairs, _pair_stats)()
    return (
        Estimate(float(agree), *percentile_interval(b_agree), int(n)),
        Estimate(float(kappa), *percentile_interval(b_kappa), int(n)),
    )


def fleiss(
    ratings: Sequence[Rating], grouped: dict[str, dict[str, str]] | None = None
) -> float | None:
    """Fleiss' kappa, or None unless every item has the same number of raters (>= 2)."""
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    items = grouped or by_item(ratings)
    counts = {len(v) for v in items.values()}
    if len(counts) != 1 or counts.pop() < 2:
        return None
    table = np.array([list(v.values()) for v in items.values()], dtype=object)
    codes = {c: i for i, c in enumerate(sorted({x for row in table for x in row}))}
    coded = np.vectorize(codes.get)(table)
    counts_table, _ = aggregate_raters(coded, n_cat=len(codes))
    with np.errstate(invalid="ignore", divide="ignore"):  # one label throughout: 0/0, NaN
        return float(fleiss_kappa(counts_table, method="fleiss"))


def alpha(
    ratings: Sequence[Rating],
    level: str = "nominal",
    order: Sequence[str] | None = None,
    grouped: dict[str, dict[str, str]] | None = None,
) -> float:
    """Krippendorff's alpha; missing ratings allowed. `order` maps ordinal values to ranks."""
    import krippendorff

    items = grouped or by_item(ratings)
    raters = {rater: i for i, rater in enumerate(sorted(raters_of(items)))}
    values = order or sorted(set(itertools.chain.from_iterable(map(dict.values, items.values()))))
    code = {v: float(i) for i, v in enumerate(values)}
    data = np.full((len(raters), len(items)), np.nan)
    per_item = list(items.values())  # each item's ratings fill its column
    rows = list(map(raters.__getitem__, itertools.chain.from_iterable(per_item)))
    cols = item_of_each(per_item)
    data[rows, cols] = _cells(per_item, code, float)
    # Alpha needs an item with two ratings and two values in use; otherwise it is undefined.
    if not (np.sum(~np.isnan(data), axis=0) >= 2).any() or len(code) < 2:
        return math.nan
    return float(
        krippendorff.alpha(
            reliability_data=data, level_of_measurement=level, value_domain=list(code.values())
        )
    )
