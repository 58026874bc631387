"""Who labels which pair, and on which side each annotator sees the candidate.

The plan is a pure function of the pairs, the annotators, the config and the seed, so it can be
recomputed whenever an annotator joins. Rows an annotator has already labeled are pinned: they keep
their annotator and orientation, and the rest of the plan is built around them.

Guarantees (tested in tests/test_assignment.py over many seeds):
- every annotator sees the candidate on the left for half their queue, within one pair;
- every pair seen by two or more annotators is seen in both orientations;
- calibration pairs go to every annotator (or to `annotators_per_pair` of them), the others to
  `labels_per_pair` annotators, spreading the load evenly; calibration pairs come first in a queue.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

from reviewer.config import StudyConfig
from reviewer.models import Assignment, PairSlot

ASSIGN_STREAM = 2


def plan_assignments(
    pairs: Sequence[PairSlot],
    annotators: Sequence[str],
    config: StudyConfig,
    seed: int,
    pinned: dict[tuple[str, str], bool] | None = None,
) -> list[Assignment]:
    """Assign pairs to annotators with balanced, seeded orientations.

    Args:
        pinned: (pair_id, annotator_id) -> candidate_left for rows that must not change,
            typically those already labeled.
    """
    pinned = dict(pinned or {})
    if not annotators:
        return []
    rng = np.random.default_rng([seed, ASSIGN_STREAM])
    order = sorted(pairs, key=lambda p: p.pair_id)
    order = [order[i] for i in rng.permutation(len(order))]
    members = _choose_members(order, list(annotators), config, rng, pinned)
    left = _orient(order, members, rng, pinned)
    return _queue(order, members, left, rng)


def _choose_members(
    order: list[PairSlot],
    annotators: list[str],
    config: StudyConfig,
    rng: np.random.Generator,
    pinned: dict[tuple[str, str], bool],
) -> dict[str, list[str]]:
    n = len(annotators)
    per_cal = min(config.calibration.annotators_per_pair or n, n)
    per_rest = min(config.assignment.labels_per_pair, n)
    members: dict[str, list[str]] = defaultdict(list)
    load: Counter[str] = Counter()
    known = set(annotators)
    for pid, aid in pinned:
        if aid in known:
            members[pid].append(aid)
            load[aid] += 1
    # Calibration pairs first, so the rest evens out the load they leave.
    for slot in sorted(order, key=lambda p: not p.in_calibration):
        want = per_cal if slot.in_calibration else per_rest
        have = members[slot.pair_id]
        tiebreak = dict(zip(annotators, rng.permutation(n), strict=True))
        free = sorted(
            (a for a in annotators if a not in have), key=lambda a: (load[a], tiebreak[a])
        )
        for aid in free[: max(0, want - len(have))]:
            have.append(aid)
            load[aid] += 1
    return members


def _orient(
    order: list[PairSlot],
    members: dict[str, list[str]],
    rng: np.random.Generator,
    pinned: dict[tuple[str, str], bool],
) -> dict[tuple[str, str], bool]:
    total: Counter[str] = Counter(a for slot in order for a in members[slot.pair_id])
    # Each annotator aims at floor or ceil of half their queue, chosen by coin.
    target = {a: total[a] // 2 + int(total[a] % 2 == 1 and rng.random() < 0.5) for a in total}
    lefts: Counter[str] = Counter()
    rights: Counter[str] = Counter()
    left: dict[tuple[str, str], bool] = {}
    for key, value in pinned.items():
        if key[1] in total:
            left[key] = value
            (lefts if value else rights)[key[1]] += 1

    def want_left(a: str) -> float:
        need_l = target[a] - lefts[a]
        need_r = (total[a] - target[a]) - rights[a]
        return need_l / (need_l + need_r) if need_l + need_r > 0 else 0.5

    for slot in order:
        pid = slot.pair_id
        fresh = [a for a in members[pid] if (pid, a) not in left]
        fixed = [left[(pid, a)] for a in members[pid] if (pid, a) in left]
        noise = {a: rng.random() for a in fresh}
        fresh.sort(key=lambda a: (-want_left(a), noise[a]))
        choice = {a: want_left(a) > 0.5 or (want_left(a) == 0.5 and noise[a] < 0.5) for a in fresh}
        sides = fixed + list(choice.values())
        if fresh and len(sides) >= 2 and len(set(sides)) == 1:
            # All on one side: flip the member who minds least (closest to wanting the other).
            flip = fresh[-1] if sides[0] else fresh[0]
            choice[flip] = not choice[flip]
        for a, is_left in choice.items():
            left[(pid, a)] = is_left
            (lefts if is_left else rights)[a] += 1
    _repair(members, left, lefts, total, pinned)
    return left


def _repair(
    members: dict[str, list[str]],
    left: dict[tuple[str, str], bool],
    lefts: Counter[str],
    total: Counter[str],
    pinned: dict[tuple[str, str], bool],
) -> None:
    """Bring every annotator within one pair of half, keeping both orientations on shared pairs.

    A flip of one row may break a pair's both-orientations rule, so an annotator with a surplus on
    one side passes it along a chain of shared pairs (flipping both viewers of each) until it
    reaches a row that may flip alone or an annotator with room for it: an augmenting path, found
    breadth-first.
    """
    rows: dict[str, list[str]] = defaultdict(list)
    for pid, aid in left:
        if (pid, aid) not in pinned:
            rows[aid].append(pid)
    for aid in rows:
        rows[aid].sort()

    def excess(a: str) -> float:
        return lefts[a] - total[a] / 2

    def flip(pid: str, a: str) -> None:
        left[(pid, a)] = not left[(pid, a)]
        lefts[a] += 1 if left[(pid, a)] else -1

    for _ in range(sum(total.values())):
        worst = max(sorted(total), key=lambda a: abs(excess(a)))
        if abs(excess(worst)) <= 1:
            return
        path = _surplus_path(worst, excess(worst) > 0, rows, members, left, pinned, excess)
        if path is None:
            return  # pinned rows leave no legal flip; stay as close as we got
        for pid, flipped in path:
            for a in flipped:
                flip(pid, a)


def _surplus_path(
    start: str,
    side: bool,
    rows: dict[str, list[str]],
    members: dict[str, list[str]],
    left: dict[tuple[str, str], bool],
    pinned: dict[tuple[str, str], bool],
    excess,
) -> list[tuple[str, list[str]]] | None:
    """Breadth-first search for flips that move one `side` surplus off `start`."""
    sign = 1 if side else -1
    parent: dict[str, tuple[str, str] | None] = {start: None}
    frontier = [start]

    def unwind(node: str, last: tuple[str, list[str]]) -> list[tuple[str, list[str]]]:
        steps = [last]
        while parent[node] is not None:
            prev, pid = parent[node]
            steps.append((pid, [prev, node]))
            node = prev
        return steps

    while frontier:
        nxt = []
        for x in frontier:
            if x != start and sign * excess(x) + 1 <= 1:
                prev, pid = parent[x]
                return unwind(prev, (pid, [prev, x]))
            for pid in rows[x]:
                if left[(pid, x)] != side:
                    continue
                others = [left[(pid, b)] for b in members[pid] if b != x]
                if not others or side in others:
                    return unwind(x, (pid, [x]))
                for y in members[pid]:
                    if y != x and y not in parent and (pid, y) not in pinned:
                        parent[y] = (x, pid)
                        nxt.append(y)
        frontier = nxt
    return None


def _queue(
    order: list[PairSlot],
    members: dict[str, list[str]],
    left: dict[tuple[str, str], bool],
    rng: np.random.Generator,
) -> list[Assignment]:
    """Each annotator's queue: calibration pairs first, each part in its own seeded order."""
    by_annotator: dict[str, list[PairSlot]] = defaultdict(list)
    for slot in order:
        for aid in members[slot.pair_id]:
            by_annotator[aid].append(slot)
    out = []
    for aid in sorted(by_annotator):
        slots = by_annotator[aid]
        shuffled = [slots[i] for i in rng.permutation(len(slots))]
        shuffled.sort(key=lambda s: not s.in_calibration)
        for position, slot in enumerate(shuffled, start=1):
            out.append(
                Assignment(
                    slot.pair_id, aid, left[(slot.pair_id, aid)], position, slot.in_calibration
                )
            )
    return out
