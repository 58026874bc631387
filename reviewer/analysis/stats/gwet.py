"""Gwet's AC1 (Gwet 2008), the agreement coefficient that stays meaningful when one label
dominates; no dependable library computes it here (irrCAC pins old scipy/pandas), so it is the
formula, written out. Its bootstrap sums are in item order, to the last bit as they always were.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from reviewer.analysis.stats.agreement import Estimate, ItemTable, Rating
from reviewer.analysis.stats.bootstrap import Resampling, percentile_interval


def gwet_ac1(
    ratings: Sequence[Rating], resamples: int = 0, seed: int = 0, table: ItemTable | None = None
) -> Estimate:
    """Gwet's AC1 for any number of raters, missing ratings allowed (Gwet 2008, eq. 14-15):

        pa = mean over items with r_i >= 2 of  sum_k r_ik (r_ik - 1) / (r_i (r_i - 1))
        pi_k = mean over items of r_ik / r_i
        pe = sum_k pi_k (1 - pi_k) / (q - 1)
        AC1 = (pa - pe) / (1 - pe)

    where r_ik counts raters who put item i in category k and q is the number of categories.
    Unlike kappa it stays high when raters agree on a skewed label (the "kappa paradox").
    """
    table = table or ItemTable(ratings)
    if not resamples:
        return gwet_ac1_later(None, table)()
    return gwet_ac1_later(Resampling(resamples, seed), table)()


def gwet_ac1_later(resampling: Resampling | None, table: ItemTable) -> Callable[[], Estimate]:
    """`gwet_ac1` on `table`, its bootstrap added to `resampling` (None: no interval)."""
    q = len(table.categories)
    r = table.counts.sum(axis=1)
    if q < 2 or not (r >= 2).any():
        nan = math.nan
        return lambda: Estimate(nan, nan, nan, 0)
    multi = r >= 2
    pa_i = np.where(
        multi,
        (table.counts * (table.counts - 1)).sum(axis=1) / np.where(multi, r * (r - 1), 1),
        0.0,
    )
    shares = (table.counts / r[:, None]).T.copy()  # (q, items): one category's shares a row
    exact = np.stack([multi.astype(float), np.ones(len(r))], axis=1)

    def ac1(w: np.ndarray, sums: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            # pa_i is 0 where r_i < 2; the weighted count of multi-rated items and the weights'
            # total are exact sums (sums = w @ exact); the other two are added as they were.
            pa = (w * pa_i).sum(axis=-1) / sums[:, 0]
            pi = _in_item_order(w, shares) / sums[:, 1][..., None]
            pe = (pi * (1 - pi)).sum(axis=-1) / (q - 1)
            return (pa - pe) / (1 - pe)

    ones = np.ones((1, len(r)))
    value = float(ac1(ones, ones @ exact)[0])
    later = resampling.add(ac1, len(r), exact, beside=True) if resampling else lambda: np.array([])
    return lambda: Estimate(value, *percentile_interval(later()), int(multi.sum()))


def _in_item_order(w: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """(rows, q) sums over items of w x share, each added in item order: the numbers, to the
    last bit, of `(w[..., None] * shares.T).sum(axis=-2)`, which numpy sums one item after
    another, without its (rows, items, q) temporary. Over the transposed weights, einsum adds
    item after item into each row's sum, product and sum in one loop (4x a running sum); with
    a single row numpy would sum pairwise instead, so one row is summed as two equal rows."""
    rows = w if len(w) > 1 else np.vstack([w, w])
    items_first = np.ascontiguousarray(rows.T)
    sums = np.stack([np.einsum("ij,i->j", items_first, share) for share in shares], axis=1)
    return sums[: len(w)]
