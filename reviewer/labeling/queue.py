"""An annotator's queue, kept per session: the ordered pairs still to label, read once and then
only checked, on each move, by a stamp; the content of its next few pairs is read at once.

Recomputing the queue and the progress on every Submit cost the labeling page ~10 ms of DuckDB
CPU; the stamp (this annotator's label count and last label id, their assignments' time) is
read by the query a label needs anyway (`annotator_page.label_checks`). When the stamp is not
the one expected (a label from another tab, an import, a new plan), the queue is read again. A
`Queue` changes only once its transaction has committed (`adopt`), so a write rolled back or
refused leaves it as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from reviewer.store import annotator_page as page_sql
from reviewer.store.connection import Cursor

# Pairs whose content is read at once: the one to show and those after it in the queue. Pairs
# of a study do not change once it is frozen, and before that a new import re-plans, which
# the stamp sees (the queue is then read again, without content).
PREFETCH = 8


@dataclass(frozen=True)
class Slot:
    pair_id: str
    candidate_left: bool
    in_calibration: bool


@dataclass(frozen=True)
class Progress:
    total: int
    done: int
    calibration_total: int
    calibration_done: int


@dataclass(frozen=True)
class QueueState:
    """The queue as last read, plus what this session did since (labels, views shown)."""

    slots: tuple[Slot, ...]
    done: frozenset[str]
    stamp: tuple[Any, ...]
    views: dict[str, dict[str, Any]] = field(default_factory=dict)  # shown here, by view id
    content: dict[str, dict[str, Any]] = field(default_factory=dict)  # of the next few pairs


class Queue:
    """One annotator's queue for one session (`state` None until first read)."""

    def __init__(self, study_id: str, annotator_id: str):
        self.study_id, self.annotator_id = study_id, annotator_id
        self.state: QueueState | None = None

    def adopt(self, state: QueueState) -> None:
        """Keep `state` once the transaction that produced it has committed."""
        self.state = state

    def read(self, cur: Cursor) -> QueueState:
        rows = page_sql.queue(cur, self.study_id, self.annotator_id)
        slots = tuple(
            Slot(r["pair_id"], bool(r["candidate_left"]), bool(r["in_calibration"]))
            for r in rows
            if r["pair_id"] is not None
        )
        done = frozenset(r["pair_id"] for r in rows if r["done"])
        views = self.state.views if self.state is not None else {}
        return QueueState(slots, done, stamp_of(rows[0]), views)

    def current(self, cur: Cursor) -> QueueState:
        return self.state if self.state is not None else self.read(cur)


def labeled(state: QueueState, pair_id: str, label_id: int) -> QueueState:
    """`state` once this session stored label `label_id` on `pair_id`, with the stamp that
    label leads to."""
    done = state.done | {pair_id}
    count, last, assigned_at = state.stamp
    newest = label_id if last is None else max(int(last), label_id)
    return replace(state, done=done, stamp=(count + 1, newest, assigned_at))


def shown(state: QueueState, view_id: str, record: dict[str, Any]) -> QueueState:
    """`state` once this session has shown a pair in view `view_id` (`record`: its pair,
    orientation and time, as `annotator_page.view_record` reads them). Views of labeled pairs
    are dropped: a second press on one is answered from the database."""
    views = {v: r for v, r in state.views.items() if r["pair_id"] not in state.done}
    return replace(state, views={**views, view_id: record})


def next_slot(state: QueueState, skipped_pairs: Sequence[str]) -> Slot | None:
    """The first unlabeled pair in queue order, skipped pairs last (in queue order)."""
    later = None
    skipped = set(skipped_pairs)
    for slot in state.slots:
        if slot.pair_id in state.done:
            continue
        if slot.pair_id not in skipped:
            return slot
        later = later or slot
    return later


def content(cur: Cursor, queue: Queue, state: QueueState, slot: Slot) -> QueueState:
    """`state` with the content of `slot`'s pair at hand, read with that of the next unlabeled
    pairs after it (`PREFETCH` in all) when it is not: one query every few labels."""
    if slot.pair_id in state.content:
        return state
    ahead = [slot.pair_id]
    after = False
    for other in state.slots:
        if len(ahead) == PREFETCH:
            break
        if other.pair_id == slot.pair_id:
            after = True
        elif after and other.pair_id not in state.done:
            ahead.append(other.pair_id)
    return replace(state, content=page_sql.contents(cur, queue.study_id, ahead))


def progress(state: QueueState) -> Progress:
    done = [s for s in state.slots if s.pair_id in state.done]
    return Progress(
        total=len(state.slots),
        done=len(done),
        calibration_total=sum(s.in_calibration for s in state.slots),
        calibration_done=sum(s.in_calibration for s in done),
    )


def skipped_pairs(
    cur: Cursor, queue: Queue, state: QueueState, view_ids: Sequence[str]
) -> list[str]:
    """The pairs of the skipped views: from this session's views, else from the database."""
    known = [state.views[v]["pair_id"] for v in view_ids if v in state.views]
    unknown = [v for v in view_ids if v not in state.views]
    if unknown:
        known += page_sql.pairs_of_views(cur, queue.annotator_id, unknown).values()
    return known


def stamp_of(row: dict[str, Any]) -> tuple[Any, ...]:
    """The stamp in a row of `annotator_page.queue`, `stamp` or `label_checks`."""
    return tuple(row[k] for k in page_sql.STAMP)
