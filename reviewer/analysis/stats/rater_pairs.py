"""Agreement of each pair of raters on the items both rated: percent agreement and Cohen's
kappa (scikit-learn).

The rater pairs are formed in numpy: at 100,000 items and 175,000 labels, forming each item's
pairs in Python took ~0.2 s per call of the report (the humans, then each criterion). A kappa
and an agreement depend only on how many items each pair of values has (a confusion matrix of
integer counts), not on the order the items come in, so they are the same to the last bit.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from reviewer.analysis.stats.agreement import Rating, by_item, item_of_each


def cohen(
    a: Sequence[str],
    b: Sequence[str],
    weights: str | None = None,
    labels: Sequence[str] | None = None,
) -> float:
    """Cohen's kappa; NaN where it is undefined (both raters constant)."""
    if len(a) == 0 or (len(set(a)) == 1 and len(set(b)) == 1):
        return math.nan
    # scikit-learn orders the categories as `labels` gives them, else sorted, and drops values
    # outside `labels`: integer codes in that order give it the same confusion matrix, hence
    # the same kappa, without its handling of strings (half its time on thousands of labels).
    order = list(labels) if labels is not None else sorted(set(a) | set(b))
    code = {c: k for k, c in enumerate(order)}
    coded_a, coded_b = (np.array([code.get(x, -1) for x in side]) for side in (a, b))
    return _kappa(coded_a, coded_b, weights, None if labels is None else len(order))


def _kappa(a: np.ndarray, b: np.ndarray, weights: str | None, known: int | None) -> float:
    """scikit-learn's kappa of integer codes (0 .. known - 1 when `known`; -1: outside)."""
    from sklearn.metrics import cohen_kappa_score

    labels = None if known is None else list(range(known))
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
    grouped: dict[str, dict[str, str]] | None = None,
) -> list[PairAgreement]:
    """Percent agreement and Cohen's kappa for every rater pair sharing >= min_shared items
    (`grouped`: the ratings' `by_item`, when the caller has it)."""
    per_item = list((grouped or by_item(ratings)).values())
    raters = sorted(set(itertools.chain.from_iterable(per_item)))
    values = sorted(set(itertools.chain.from_iterable(map(dict.values, per_item))))
    rater_of = _codes(itertools.chain.from_iterable(per_item), raters)
    value_of = _codes(itertools.chain.from_iterable(map(dict.values, per_item)), values)
    key, va, vb = _rater_pairs(item_of_each(per_item), rater_of, value_of, len(raters))
    starts = np.searchsorted(key, np.arange(len(raters) ** 2 + 1))
    # Value code -> code among `labels` (-1: outside them), as `cohen` codes them.
    known = None if labels is None else len(labels)
    place = {} if labels is None else {c: k for k, c in enumerate(labels)}
    lut = np.array([place.get(v, -1) for v in values], np.int64)
    out = []
    for i, j in itertools.combinations(range(len(raters)), 2):
        at = i * len(raters) + j
        xa, xb = va[starts[at] : starts[at + 1]], vb[starts[at] : starts[at + 1]]
        if len(xa) < min_shared:
            continue
        agreement = float(np.mean(xa == xb))
        if len(xa) == 0 or (np.unique(xa).size == 1 and np.unique(xb).size == 1):
            kappa = math.nan
        elif known is None:  # the categories either rater used, in sorted order
            used = np.unique(np.concatenate([xa, xb]))
            kappa = _kappa(np.searchsorted(used, xa), np.searchsorted(used, xb), weights, None)
        else:
            kappa = _kappa(lut[xa], lut[xb], weights, known)
        out.append(PairAgreement(raters[i], raters[j], len(xa), agreement, kappa))
    return out


def _codes(texts: Iterable[str], order: list[str]) -> np.ndarray:
    """Each text's position in `order`."""
    index = {t: k for k, t in enumerate(order)}
    return np.array(list(map(index.__getitem__, texts)), dtype=np.int64)


def _rater_pairs(
    item: np.ndarray, raters: np.ndarray, values: np.ndarray, n_raters: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every two ratings of one item by raters a < b: the pair's key (a * n_raters + b) and
    the two values, ordered by key."""
    order = np.lexsort((raters, item))  # each item's ratings by rater
    item, raters, values = item[order], raters[order], values[order]
    sizes = np.bincount(item) if len(item) else np.zeros(1, np.int64)
    keys, firsts, seconds = [], [], []
    for gap in range(1, int(sizes.max())):  # a rating and the one `gap` after it, same item
        same = item[:-gap] == item[gap:]
        keys.append(raters[:-gap][same] * n_raters + raters[gap:][same])
        firsts.append(values[:-gap][same])
        seconds.append(values[gap:][same])
    if not keys:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    key, va, vb = (np.concatenate(part) for part in (keys, firsts, seconds))
    by_key = np.argsort(key, kind="stable")
    return key[by_key], va[by_key], vb[by_key]
