"""From labels and verdicts to one outcome per item: overall and per criterion.

The report and the judge calibration read items the same way: an item's human labels go by
strict majority (a split is a tie), and a judge's two orders go by `combine_orders` (a verdict
that flips with the order is a tie; an item judged in one order only has no outcome).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress

from judge.consistency import combine_orders, first_position_share
from reviewer.analysis.stats import item_outcome
from reviewer.columns import Columns, columns_of
from reviewer.config import StudyConfig


def has_majority(values: list[str]) -> bool:
    """Whether one label is more common than every other (a 1-1 split has none).

    >>> has_majority(["candidate", "candidate", "tie"]), has_majority(["candidate", "baseline"])
    (True, False)
    """
    return _has_majority(tuple(values))


@lru_cache(maxsize=4096)
def _has_majority(values: tuple[str, ...]) -> bool:
    counts = Counter(values).most_common(2)
    return bool(counts) and (len(counts) == 1 or counts[0][1] > counts[1][1])


SIDES = ("candidate", "baseline", "tie")


@lru_cache(maxsize=4096)
def criteria_of(criteria_json: str) -> dict:
    """A label's or verdict's stored criteria, parsed once per distinct text (labels repeat a
    few of them); the dict is shared, so callers only read it."""
    return json.loads(criteria_json)


def majorities(human_items: dict[str, list[str]], among: Iterable[str]) -> dict[str, str]:
    """The items of `among` whose human labels have a strict majority -> that majority (items
    where the humans split evenly are left out)."""
    return {i: m for i in among if (m := _strict_majority(tuple(human_items[i]))) is not None}


@lru_cache(maxsize=4096)
def _strict_majority(values: tuple[str, ...]) -> str | None:
    """The majority of one tuple of labels, None without a strict one (items share a few)."""
    return item_outcome(values) if _has_majority(values) else None


def confusion(majority: dict[str, str], judge: dict[str, str]) -> dict[str, dict[str, int]]:
    """Human majority -> judge outcome -> items."""
    table = {h: dict.fromkeys(SIDES, 0) for h in SIDES}
    for item, h in majority.items():
        table[h][judge[item]] += 1
    return table


def _value(value: object) -> str | None:
    """A criterion's value in one label or verdict as candidate / baseline / tie. Pairwise
    'same' is a tie; a likert criterion ({'candidate': 4, 'baseline': 3}) compares the scores."""
    if isinstance(value, dict):
        if not {"candidate", "baseline"} <= value.keys():
            return None
        c, b = float(value["candidate"]), float(value["baseline"])
        return "candidate" if c > b else "baseline" if b > c else "tie"
    return "tie" if value == "same" else str(value)


@lru_cache(maxsize=4096)
def _values_of(criteria_json: str) -> tuple[tuple[str, str], ...]:
    """(criterion, candidate / baseline / tie) of stored criteria, once per distinct text."""
    pairs = ((name, _value(value)) for name, value in criteria_of(criteria_json).items())
    return tuple((name, v) for name, v in pairs if v is not None)


def human_criteria(labels: Columns, cfg: StudyConfig) -> dict[str, dict[str, list[str]]]:
    """Criterion -> item -> every label's value on it (`labels`: pair_id and criteria_json)."""
    per: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for item, text in zip(labels["pair_id"], labels["criteria_json"], strict=True):
        for name, v in _values_of(text):
            per[name][item].append(v)
    return {c.name: dict(per[c.name]) for c in cfg.criteria if c.name in per}


def human_criteria_outcomes(labels: Columns, cfg: StudyConfig) -> dict[str, dict[str, str]]:
    """Criterion -> item -> majority outcome."""
    return {
        name: dict(zip(items, map(item_outcome, items.values()), strict=True))
        for name, items in human_criteria(labels, cfg).items()
    }


@dataclass(frozen=True)
class JudgeOutcomes:
    overall: dict[str, str]  # item -> outcome over both orders
    criteria: dict[str, dict[str, str]]  # criterion -> item -> outcome over both orders
    flips: dict[str, bool]  # items judged in both orders -> did the order change the verdict
    first_position_rate: float | None  # over the items with an outcome
    one_order_only: frozenset[str]  # items judged in one order only: no outcome
    # items with an outcome -> their verdicts by order (presented -> preference), for the
    # measures that count each order's verdict on its own
    orders: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def flip_rate(self) -> float | None:
        return sum(self.flips.values()) / len(self.flips) if self.flips else None


_FIELDS = ("pair_id", "presented", "preference", "criteria_json")


def judge_outcomes(verdicts: list[dict]) -> JudgeOutcomes:
    """One judge's verdict rows (pair_id, presented, preference, criteria_json) by item.

    An item judged in one order only (a run cut short) is counted in `one_order_only` and left
    out of everything else: its lone verdict may be the judge's position bias."""
    return judge_outcomes_of_columns(columns_of(verdicts, _FIELDS))


def judge_outcomes_of_columns(verdicts: Columns) -> JudgeOutcomes:
    """`judge_outcomes` of one judge's verdicts held as columns (the report's)."""
    items, orders, preferences, texts = map(verdicts.__getitem__, _FIELDS)
    overall: dict[str, dict[str, str]] = defaultdict(dict)
    for item, presented, preference in zip(items, orders, preferences, strict=True):
        overall[item][presented] = preference
    criteria: dict[str, dict[str, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    carried = {text for text in set(texts) if text and text != "{}"}  # imported: mostly none
    if carried:
        for row in compress(range(len(texts)), map(carried.__contains__, texts)):
            for name, c in _values_of(texts[row]):
                criteria[name][items[row]][orders[row]] = c
    combined = dict(zip(overall, map(combine_orders, overall.values()), strict=True))
    counted = {item: c for item, c in combined.items() if c is not None}
    one_order_only = frozenset(item for item, c in combined.items() if c is None)
    verdicts_counted: Iterable[tuple[str, str]] = zip(orders, preferences, strict=True)
    if one_order_only:
        verdicts_counted = compress(verdicts_counted, map(counted.__contains__, items))
    return JudgeOutcomes(
        overall={item: outcome for item, (outcome, _) in counted.items()},
        criteria={
            name: {
                item: c[0]
                for item, seen in by_item.items()
                if item in counted and (c := combine_orders(seen)) is not None
            }
            for name, by_item in criteria.items()
        },
        flips={item: flip for item, (_, flip) in counted.items() if flip is not None},
        first_position_rate=first_position_share(Counter(verdicts_counted)),
        one_order_only=one_order_only,
        orders={item: overall[item] for item in counted},
    )
