"""Bootstrap over items (prompts), never over labels: labels on one item are not independent,
so resampling them would make intervals too narrow.

A resample is a vector of how often each item was drawn (multinomial, n draws over n items).
Every agreement statistic here is a ratio of weighted sums of per-item arrays, so a block of
resamples is one matrix product; `Resampling` evaluates all the statistics over the same items
on each block (the report's, one draw and one product per block for all of them). The weights
are drawn a block of rows at a time (`weight_chunks`), at most `CHUNK_WEIGHTS` of them, so
memory stays flat whatever the number of items and resamples (the whole matrix was ~40 KB per
item at 1,000 resamples). The blocks are consecutive draws of one stream: the resamples, for a
given seed, are the ones the whole matrix held, row for row. The report draws them ahead, in a
thread per set (`_Ahead`: numpy draws and counts without holding the GIL), while its Python
still gathers the statistics, and evaluates them in another thread while it reads the checks.
"""

from __future__ import annotations

import itertools
import queue
import threading
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")

BOOTSTRAP_STREAM = 3
CHUNK_WEIGHTS = 1 << 21  # weights drawn at a time: 16 MB as floats, whatever the item count


def weight_chunks(items: int, resamples: int, seed: int, keep: bool = True) -> Iterator[np.ndarray]:
    """The rows of `item_weights`, a block of (rows, items) draw counts at a time; `keep`
    keeps a new set for the next statistics over as many items (see `_DRAWN`)."""
    if items == 0 or resamples <= 0:
        return
    key = (items, resamples, seed)
    if (cached := _DRAWN.get(key)) is not None:
        for block in cached:
            yield block.astype(float)
        return
    kept: list[np.ndarray] = []
    keep = keep and items * resamples <= _KEEP_AT_MOST
    for weights in _draw(items, resamples, seed):
        if not keep:
            yield weights
            continue
        # Counts of one resample rarely exceed 20: kept as bytes (1/8 of the floats), copied
        # before the statistic sees the block.
        kept.append(weights.astype(np.uint8) if weights.max() < 256 else weights.copy())
        yield weights
    if keep:
        while len(_DRAWN) >= _SETS_KEPT:
            del _DRAWN[next(iter(_DRAWN))]  # the oldest set goes first
        _DRAWN[key] = kept


# The last sets of weights drawn, reused by the next statistics with the same items, resamples
# and seed: the report's bootstraps run over the study's labeled items, except one over its
# decisive items between them, so two sets are kept (one draw each, not 10, same numbers).
_DRAWN: dict[tuple[int, int, int], list[np.ndarray]] = {}
_SETS_KEPT = 2
_KEEP_AT_MOST = 1 << 28  # counts kept per set: 256 MB as bytes (1,000 resamples x 250,000 items)


def _draw(items: int, resamples: int, seed: int) -> Iterator[np.ndarray]:
    for counts in _counts(items, resamples, seed):
        yield counts.astype(float)


def _counts(items: int, resamples: int, seed: int) -> Iterator[np.ndarray]:
    """The blocks of draw counts: one draw per block, one bincount per row, kept as bytes
    (an item drawn 256 times or more in one resample, which no real study's sizes make
    likely, turns its block into int64). A bincount holds the GIL while it counts: one per
    row (a row's counts fit in the CPU's cache) took half the CPU of one over the whole block
    with each row's draws shifted into a range of its own, and lets the report's Python run
    between rows instead of waiting out a whole block's count; each row's counts go straight
    into bytes, without a block of int64 to scan and convert (0.5 against 1.0 s of CPU per
    1,000 x 100,000 in all)."""
    rng = np.random.default_rng([seed, BOOTSTRAP_STREAM])
    rows = max(1, CHUNK_WEIGHTS // items)
    for start in range(0, resamples, rows):
        # Item indices counted per resample: multinomial counts, ~10x faster than
        # rng.multinomial over thousands of categories. int32 draws are the same numbers as
        # int64 ones from the same stream.
        draws = rng.integers(0, items, size=(min(rows, resamples - start), items), dtype=np.int32)
        block = np.empty(draws.shape, dtype=np.uint8)
        for row, drawn in enumerate(draws):
            counts = np.bincount(drawn, minlength=items)
            if block.dtype == np.uint8 and counts.max() > np.iinfo(np.uint8).max:
                block = block.astype(np.int64)
            block[row] = counts
        yield block


class _Ahead:
    """One set of weights drawn by a thread of its own (the blocks of `_counts`, the numbers
    of `_draw`), kept as bytes until evaluated: at most `_AHEAD_BYTES` of them ahead (counted
    as bytes: a rare int64 block takes 8 times its share). The thread stops when the blocks
    are read, when the set turns out unused (`stop`) or when this object is dropped unread
    (a failed build)."""

    def __init__(self, items: int, resamples: int, seed: int):
        rows = max(1, CHUNK_WEIGHTS // items)
        self._blocks: queue.Queue = queue.Queue(max(2, _AHEAD_BYTES // (rows * items)))
        self._stop = threading.Event()
        weakref.finalize(self, self._stop.set)
        args = (self._blocks, self._stop, items, resamples, seed)
        threading.Thread(target=_produce, args=args, daemon=True).start()

    def stop(self) -> None:
        """Draw no more (the blocks are not wanted)."""
        self._stop.set()

    def blocks(self) -> Iterator[np.ndarray]:
        """The blocks as floats, in the order drawn."""
        try:
            while (block := self._blocks.get()) is not None:
                if isinstance(block, BaseException):
                    raise block
                yield block.astype(float)
        finally:
            self._stop.set()


def _produce(
    blocks: queue.Queue, stop: threading.Event, items: int, resamples: int, seed: int
) -> None:
    """Queue the blocks of `_counts` (bytes), then None (or what went wrong), until `stop`."""

    def put(block: Any) -> bool:
        while not stop.is_set():
            try:
                blocks.put(block, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    try:
        for counts in _counts(items, resamples, seed):
            if not put(counts):
                return
    except BaseException as exc:  # raised again where the blocks are read
        put(exc)
        return
    put(None)


_AHEAD_BYTES = 1 << 27  # weights drawn ahead per set: 128 MB as bytes (a set of 1,000 x 128,000)


def item_weights(items: int, resamples: int, seed: int) -> np.ndarray:
    """(resamples, items) matrix of draw counts; each row sums to `items`. Whole in memory:
    statistics over many items use `Resampling`, which sees the same rows a block at a time."""
    chunks = list(weight_chunks(items, resamples, seed))
    return np.vstack(chunks) if chunks else np.zeros((0, items))


class Resampling:
    """Bootstraps of several statistics evaluated in one pass per item count: each block of
    weights is drawn once and given to every statistic over that many items, and the per-item
    `columns` of all of them are summed under it in one matrix product (one (rows, items) x
    (items, all columns) product per block, not one per statistic and column). The report adds
    every statistic first, then asks for the results.

    Columns must have exact weighted sums (multiples of 1/4, as counts, scores and their squares
    are; any sum of them under 2^50 is a float exactly), so a sum is the same number whatever
    product it comes from and in whatever order BLAS adds; the product runs on one BLAS thread
    (two threads spent 8x the CPU on this shape). A statistic whose sums are not exact takes
    them from the weights itself, on the same blocks as before, so their last bits stay.
    """

    def __init__(self, resamples: int, seed: int, keep: bool = True, ahead: bool = False):
        """`keep`: keep each set drawn for later statistics (False when every statistic over
        the same items is added here: the report's). `ahead`: draw each set in a thread of its
        own from when the first statistic over its items is added (the same weights)."""
        self.resamples, self.seed, self.keep, self.ahead = resamples, seed, keep, ahead
        self._pending: dict[int, list[_Job]] = {}
        self._drawing: dict[int, _Ahead] = {}
        self._running: threading.Thread | None = None
        self._failed: BaseException | None = None
        self._meanwhile: list[Callable[[], Any]] = []

    def add(
        self,
        statistic: Callable[[np.ndarray, np.ndarray], Any],
        items: int,
        columns: np.ndarray | None = None,
        beside: bool = False,
    ) -> Callable[[], Any]:
        """Add `statistic(weights, sums)` over `items` items, `sums` being weights @ `columns`
        ((items, k) or (items,); (rows, 0) without columns): the returned function gives its
        replicates, evaluating everything added so far on its first call. The statistic maps
        a block of rows to an array, or a tuple of arrays, with one leading entry per row; the
        blocks' results are concatenated, equal to `statistic(item_weights(...), sums)` for
        any row-wise statistic. `beside`: it calls no BLAS, so it runs in a thread beside the
        others (a BLAS product's last bits depend on the threads BLAS has when it runs).

        >>> later = Resampling(3, seed=1).add(lambda w, sums: sums[:, 0] / 4, 4, np.arange(4.0))
        >>> bool(np.allclose(later(), item_weights(4, 3, 1) @ np.arange(4.0) / 4))
        True
        """
        cols = np.zeros((items, 0)) if columns is None else columns
        cols = cols[:, None] if cols.ndim == 1 else cols
        if not np.array_equal(cols * 4, np.round(cols * 4)):
            raise ValueError("bootstrap columns must be multiples of 1/4 (exact sums)")
        job = _Job(statistic, cols, beside)
        self._pending.setdefault(items, []).append(job)
        self.draw_ahead(items)

        def replicates() -> Any:
            if not job.done:
                self._wait()
            if not job.done:
                self.run()
            return job.result

        return replicates

    def draw_ahead(self, items: int) -> None:
        """With `ahead`, begin drawing the weights over `items` items now, before the first
        statistic over them is added (the caller knows the count early: the report, its
        labeled items before it reads their labels). A set no statistic uses is stopped once
        the rest are evaluated; the weights are the same either way."""
        if self.ahead and items not in self._drawing and items and self.resamples > 0:
            self._drawing[items] = _Ahead(items, self.resamples, self.seed)

    def meanwhile(self, work: Callable[[], T]) -> Callable[[], T]:
        """`work` (what a section computes without replicates) done once, in the thread that
        first asks for any replicates, before it waits for them: while, after `start`, the
        bootstrap's thread evaluates the statistics. Not asked for replicates, `work` is done
        when its result is first asked for; the function returned gives the result (not
        locked: one thread asks, the report's).

        >>> resampling = Resampling(3, seed=1)
        >>> later = resampling.add(lambda w, sums: sums[:, 0], 2, np.ones(2))
        >>> done = resampling.meanwhile(lambda: "fixed")
        >>> later().tolist(), done()
        ([2.0, 2.0, 2.0], 'fixed')
        """
        result: list[T] = []

        def once() -> T:
            if not result:
                result.append(work())
            return result[0]

        self._meanwhile.append(once)
        return once

    def run(self) -> None:
        """Evaluate every statistic added and not yet evaluated, a set of weights at a time in
        the order their first statistic was added (drawn ahead, the first set began first)."""
        while self._pending:
            items = next(iter(self._pending))
            jobs = self._pending.pop(items)
            if (ahead := self._drawing.pop(items, None)) is not None:
                blocks = ahead.blocks()
            else:
                blocks = weight_chunks(items, self.resamples, self.seed, self.keep)
            _evaluate(jobs, blocks, items)
        while self._drawing:  # drawn ahead for statistics never added
            self._drawing.popitem()[1].stop()

    def start(self) -> None:
        """Evaluate everything added so far in a thread (its numpy work holds no GIL), while
        the caller does other work; the first replicates asked for wait for it. Add nothing
        more until then."""
        self._running = threading.Thread(target=self._run_caught, daemon=True)
        self._running.start()

    def _run_caught(self) -> None:
        try:
            self.run()
        except BaseException as exc:  # raised again in the thread that asks for a result
            self._failed = exc

    def _wait(self) -> None:
        while self._meanwhile:
            self._meanwhile.pop(0)()
        if self._running is not None:
            self._running.join()
            self._running = None
        if self._failed is not None:
            raise self._failed


class _Job:
    def __init__(
        self, statistic: Callable[[np.ndarray, np.ndarray], Any], columns: np.ndarray, beside: bool
    ):
        self.statistic, self.columns, self.beside = statistic, columns, beside
        self.done, self.result = False, None


@cache
def _blas() -> Any:
    """numpy's BLAS, to limit to one thread (found once: finding it takes ~10 ms)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api="blas")


def _evaluate(jobs: list[_Job], blocks: Iterator[np.ndarray], items: int) -> None:
    """Every job over `items` items, on one draw of the weights (`blocks`; none: no
    resamples); the jobs `beside` in a second thread, each block's done before the next
    block's product."""
    stacked = np.ascontiguousarray(np.hstack([j.columns for j in jobs]).T)  # (all columns, items)
    ends = np.cumsum([j.columns.shape[1] for j in jobs])
    spans = [slice(end - j.columns.shape[1], end) for j, end in zip(jobs, ends, strict=True)]
    parts: list[list[Any]] = [[] for _ in jobs]
    first = next(blocks, None)
    with ThreadPoolExecutor(1) as beside:
        for w in [np.zeros((0, items))] if first is None else itertools.chain([first], blocks):
            with _blas().limit(limits=1):
                sums = (stacked @ w.T).T
            aside = [
                (part, beside.submit(job.statistic, w, sums[:, span]))
                for job, part, span in zip(jobs, parts, spans, strict=True)
                if job.beside
            ]
            for job, part, span in zip(jobs, parts, spans, strict=True):
                if not job.beside:
                    part.append(job.statistic(w, sums[:, span]))
            for part, future in aside:
                part.append(future.result())
    for job, part in zip(jobs, parts, strict=True):
        job.result = _joined(part)
        job.done = True


def _joined(parts: list[Any]) -> Any:
    """The blocks' results as one: arrays concatenated, tuples of arrays column by column."""
    if isinstance(parts[0], tuple) and len(parts) > 1:
        return tuple(np.concatenate(column) for column in zip(*parts, strict=True))
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def percentile_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Percentile interval of bootstrap replicates, ignoring undefined (NaN) ones."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return (float("nan"), float("nan"))
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return (float(low), float(high))
