"""Issue 16: the report's statistics computed faster give the same numbers to the last bit as
the direct formulas they replaced (a report's figures are reproducible from its seed)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from reviewer.analysis.stats import (
    Rating,
    cohen,
    gwet_ac1,
    item_weights,
    judge_vs_humans,
    judge_vs_humans_both,
    mtbench,
    mtbench_both,
    percentile_interval,
)
from reviewer.analysis.stats.agreement import ItemTable
from reviewer.analysis.stats.gwet import _in_item_order

SIDES = ["candidate", "baseline", "tie"]


def ratings(items: int, seed: int) -> list[Rating]:
    """1-3 raters of 5 per item, mostly agreeing."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(items):
        truth = rng.choice(SIDES, p=[0.6, 0.3, 0.1])
        for rater in rng.choice(5, size=rng.integers(1, 4), replace=False):
            value = truth if rng.random() < 0.75 else rng.choice(SIDES)
            out.append(Rating(f"i{i:05d}", f"r{rater}", str(value)))
    return out


def test_item_order_sums_equal_numpys_sum_over_items():
    rng = np.random.default_rng(4)
    for items, q, rows in [(5, 2, 1), (1000, 3, 7), (9000, 5, 3), (30_000, 3, 2)]:
        shares = rng.integers(0, 4, (items, q)) / rng.integers(1, 4, (items, 1))
        w = rng.integers(0, 6, (rows, items)).astype(float)
        direct = (w[..., None] * shares).sum(axis=-2)
        assert (_in_item_order(w, shares.T.copy()) == direct).all()


def test_ac1_interval_equals_the_direct_formula_on_the_whole_weight_matrix():
    """Gwet's AC1 as it was written before (a (resamples, items, q) product summed over items)
    on every resample at once: the same bounds, exactly."""
    data = ratings(3000, 1)
    table = ItemTable(data)
    counts, q = table.counts, len(table.categories)
    r = counts.sum(axis=1)
    multi = r >= 2
    pa_i = np.where(multi, (counts * (counts - 1)).sum(axis=1) / np.where(multi, r * (r - 1), 1), 0)
    share = counts / r[:, None]
    w = item_weights(len(r), 300, 6)
    pa = (w * pa_i * multi).sum(axis=-1) / (w * multi).sum(axis=-1)
    pi = (w[..., None] * share).sum(axis=-2) / w.sum(axis=-1)[..., None]
    pe = (pi * (1 - pi)).sum(axis=-1) / (q - 1)
    found = gwet_ac1(data, resamples=300, seed=6, table=table)
    assert (found.low, found.high) == percentile_interval((pa - pe) / (1 - pe))


def test_with_and_without_ties_from_one_pass_equal_two_passes():
    data = ratings(4000, 2)
    rng = np.random.default_rng(3)
    judge = {r.item: str(rng.choice(SIDES)) for r in data if rng.random() < 0.9}
    with_ties, without = mtbench_both(data, resamples=200, seed=5)
    assert with_ties == mtbench(data, ties=True, resamples=200, seed=5)
    assert without == mtbench(data, ties=False, resamples=200, seed=5)
    with_ties, without = judge_vs_humans_both(judge, data, resamples=200, seed=5)
    assert with_ties == judge_vs_humans(judge, data, ties=True, resamples=200, seed=5)
    assert without == judge_vs_humans(judge, data, ties=False, resamples=200, seed=5)
    assert with_ties[0].n > without[0].n > 0


def test_cohen_equals_scikit_learn_on_the_labels_themselves():
    rng = np.random.default_rng(8)
    a, b = (list(rng.choice(SIDES, 500)) for _ in range(2))
    assert cohen(a, b) == cohen_kappa_score(a, b)
    scores = [1, 2, 3, 4, 5]
    x, y = (list(rng.choice(scores, 300)) for _ in range(2))
    assert cohen(x, y, "linear", scores) == cohen_kappa_score(x, y, weights="linear", labels=scores)
    # A value outside `labels` is left out, as scikit-learn leaves it out.
    assert cohen(x + [9], y + [1], None, scores) == cohen_kappa_score(
        x + [9], y + [1], labels=scores
    )


@pytest.mark.parametrize("ahead", [False, True])
def test_statistics_evaluated_together_equal_each_on_its_own(ahead, monkeypatch):
    """The report adds every bootstrap to one Resampling (one draw per item count, one matrix
    product per block): each result equals the statistic's own bootstrap, to the last bit;
    also with the weights drawn ahead in threads (a queue of two blocks, ~40 blocks) and the
    statistics evaluated in a thread of their own, as the report does."""
    from reviewer.analysis.stats import bootstrap
    from reviewer.analysis.stats.agreement import mtbench_later
    from reviewer.analysis.stats.bootstrap import Resampling
    from reviewer.analysis.stats.gwet import gwet_ac1_later
    from reviewer.analysis.stats.judge_agreement import (
        association,
        correlation_later,
        per_verdict_agreement,
        per_verdict_later,
    )

    data = ratings(5000, 3)
    rng = np.random.default_rng(9)
    judge = {r.item: str(rng.choice(SIDES)) for r in data}
    verdicts = {i: [o, str(rng.choice(SIDES))] for i, o in judge.items() if rng.random() < 0.8}
    table = ItemTable(data)
    monkeypatch.setattr(bootstrap, "CHUNK_WEIGHTS", 7 * 5000)
    monkeypatch.setattr(bootstrap, "_AHEAD_BYTES", 1)
    together = Resampling(300, 7, keep=False, ahead=ahead)
    later = [
        mtbench_later(together, table),
        gwet_ac1_later(together, table),
        correlation_later(together, judge, data),
        per_verdict_later(together, verdicts, judge),
    ]
    if ahead:
        together.start()
    alone = [
        mtbench_both(data, resamples=300, seed=7, table=table),
        gwet_ac1(data, 300, 7, table),
        association(judge, data, resamples=300, permutations=0, seed=7).r,
        per_verdict_agreement(verdicts, judge, resamples=300, seed=7),
    ]
    assert [f() for f in later] == alone
    assert len({e.n for e in alone[2:]}) == 2  # two item counts: two draws, both exact


def test_a_statistic_failing_in_the_thread_fails_where_its_replicates_are_asked_for():
    from reviewer.analysis.stats.bootstrap import Resampling

    def broken(w, sums):
        raise ZeroDivisionError("in the thread")

    resampling = Resampling(50, 3, keep=False, ahead=True)
    later = resampling.add(broken, 40)
    resampling.start()
    with pytest.raises(ZeroDivisionError, match="in the thread"):
        later()


def test_weights_drawn_ahead_and_never_read_stop_drawing(monkeypatch):
    """A build that fails after adding its bootstraps leaves no thread drawing behind."""
    import gc
    import threading

    from reviewer.analysis.stats import bootstrap

    monkeypatch.setattr(bootstrap, "CHUNK_WEIGHTS", 100)
    monkeypatch.setattr(bootstrap, "_AHEAD_BYTES", 1)  # two blocks ahead, then it waits
    # The thread this test starts, not a count of the process's threads: other tests' threads
    # may end meanwhile.
    before = set(threading.enumerate())
    resampling = bootstrap.Resampling(1000, 3, keep=False, ahead=True)
    resampling.add(lambda w, sums: sums, 100)
    (drawing,) = set(threading.enumerate()) - before
    del resampling
    gc.collect()
    drawing.join(timeout=2.5)
    assert not drawing.is_alive()


def test_weights_drawn_ahead_for_a_count_no_statistic_uses_stop_once_the_rest_are_done(
    monkeypatch,
):
    """`draw_ahead` is a guess of the report's (its labeled items, counted before the rows are
    read): a set nothing reads stops drawing when the others are evaluated, and the set that
    is read gives the same replicates as drawn at once; work given to `meanwhile` is done by
    the first caller of replicates, before it waits."""
    import threading

    from reviewer.analysis.stats import bootstrap

    monkeypatch.setattr(bootstrap, "CHUNK_WEIGHTS", 100)
    monkeypatch.setattr(bootstrap, "_AHEAD_BYTES", 1)
    before = set(threading.enumerate())
    resampling = bootstrap.Resampling(1000, 3, keep=False, ahead=True)
    resampling.draw_ahead(70)  # no statistic over 70 items follows
    (unused,) = set(threading.enumerate()) - before
    resampling.draw_ahead(40)
    column = np.arange(40.0)
    later = resampling.add(lambda w, sums: sums[:, 0], 40, column)
    done: list[str] = []
    fixed = resampling.meanwhile(lambda: done.append("fixed") or len(done))
    resampling.start()
    assert np.array_equal(later(), bootstrap.item_weights(40, 1000, 3) @ column)
    assert done == ["fixed"] and fixed() == 1  # done once, before the replicates were given
    unused.join(timeout=2.5)
    assert not unused.is_alive()


def test_resampling_refuses_columns_whose_sums_are_not_exact():
    from reviewer.analysis.stats.bootstrap import Resampling

    with pytest.raises(ValueError, match="exact"):
        Resampling(10, 1).add(lambda w, sums: sums, 3, np.array([1.0, 1 / 3, 0.5]))


def test_an_item_drawn_256_times_in_a_resample_is_counted_in_full(monkeypatch):
    """The counts are kept as bytes; a block where one item was drawn more often than a byte
    holds (a study's sizes make it unlikely, not impossible) is kept as int64 instead."""
    from reviewer.analysis.stats import bootstrap

    class OneItemOnly:  # every draw the first item
        def integers(self, low, high, size, dtype):
            return np.zeros(size, dtype=dtype)

    monkeypatch.setattr(bootstrap.np.random, "default_rng", lambda seed: OneItemOnly())
    (block,) = bootstrap._counts(300, 2, seed=0)
    assert block.dtype == np.int64
    assert block[:, 0].tolist() == [300, 300] and not block[:, 1:].any()
    (small,) = bootstrap._counts(200, 2, seed=0)
    assert small.dtype == np.uint8 and small[:, 0].tolist() == [200, 200]
