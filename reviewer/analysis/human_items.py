"""From the latest human labels to the items the verdict counts.

An item's labels reduce to one outcome by strict majority (a split is a tie; `item_outcome`),
so an item labeled five times counts once. 'Both bad' is a quality alarm, not an outcome: an
item is both bad when a strict majority of its labels say so, and the both-bad share is over
items (the share of labels is given beside it). A label with a flag reason flags its item: every
flagged label is listed, and `exclude_flagged` leaves flagged items out of the win rates. Under
`planned_pairs` only the first that many items labeled (by their first label) are counted, so
labels that arrive after the planned read cannot change it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress
from typing import Any

from reviewer.analysis.stats import Rating, item_outcome
from reviewer.analysis.stats.judge_agreement import human_scores
from reviewer.columns import Columns
from reviewer.config import SignoffConfig

METHOD = (
    "Each item counts once: its latest labels are reduced to one outcome by strict majority "
    "(no majority: a tie). An item is 'both bad' when a strict majority of its labels say "
    "neither response is acceptable; the both-bad share is over the items counted (labels in "
    "brackets). 'Both bad' is a quality alarm, not a tie: the item's outcome is still its "
    "majority preference."
)


@dataclass(frozen=True)
class HumanItems:
    all_outcomes: dict[str, str]  # every labeled item -> majority outcome
    outcomes: dict[str, str]  # the items the verdict counts -> outcome
    both_bad: dict[str, bool]  # counted items -> a majority of labels say both bad
    labels: int  # latest labels on the counted items
    both_bad_labels: int
    flagged: list[dict[str, Any]]  # every latest label with a flag reason
    excluded: frozenset[str]  # flagged items left out (exclude_flagged)
    beyond_planned: frozenset[str]  # items labeled after the planned sample


@dataclass(frozen=True)
class HumanRatings:
    """The latest labels' preferences, grouped by item once for every section that reads
    them (agreement, annotators, each judge's comparison with the humans)."""

    grouped: dict[str, dict[str, str]]  # item -> annotator -> preference (`by_item`)
    values: dict[str, list[str]]  # item -> its preferences, in label order
    scores: dict[str, float]  # item -> mean score (`human_scores`)


def human_ratings(labels: Columns) -> HumanRatings:
    """Labels (pair_id, annotator_id, preference; one per pair and annotator) grouped."""
    by_pair: dict[str, dict[str, str]] = defaultdict(dict)
    rated = zip(labels["pair_id"], labels["annotator_id"], labels["preference"], strict=True)
    for item, rater, value in rated:  # `by_item`, without a `Rating` per label
        by_pair[item][rater] = value
    grouped = dict(by_pair)
    values = dict(zip(grouped, map(list, map(dict.values, grouped.values())), strict=True))
    return HumanRatings(
        grouped=grouped,
        values=values,
        # `human_scores(ratings)`: one annotator's label per item, so each item's values are
        # its ratings in the same order, and a mean is taken once per distinct tuple of them.
        scores=dict(zip(values, map(_mean_score, map(tuple, values.values())), strict=True)),
    )


@lru_cache(maxsize=4096)
def _mean_score(values: tuple[str, ...]) -> float:
    return human_scores([Rating("", "", v) for v in values])[""]


def human_items(
    labels: Columns, rated: HumanRatings, rules: SignoffConfig, first_labeled: dict[str, Any]
) -> HumanItems:
    """Reduce labels (pair_id, annotator, annotator_id, both_bad, flag_reason, stratum; their
    preferences grouped in `rated`) to items; `first_labeled` (item -> time of its first
    label) orders the planned sample."""
    items, prefs = labels["pair_id"], rated.values
    # Both bad and flagged: few labels, if any, found without a Python step per label.
    bad = Counter(compress(items, labels["both_bad"]))
    reasons = labels["flag_reason"]
    flagged = [
        {
            "pair_id": items[row],
            "stratum": labels["stratum"][row] or "unspecified",
            "annotator": labels["annotator"][row] or labels["annotator_id"][row],
            "reason": reasons[row].strip(),
        }
        for row in compress(range(len(items)), reasons)
        if reasons[row].strip()
    ]
    all_outcomes = dict(zip(prefs, map(item_outcome, prefs.values()), strict=True))
    flagged_items = {f["pair_id"] for f in flagged}
    excluded = flagged_items if rules.exclude_flagged else set()
    kept = [i for i in all_outcomes if i not in excluded]
    beyond: list[str] = []
    if rules.planned_pairs is not None and len(kept) > rules.planned_pairs:
        order = sorted(kept, key=lambda i: (first_labeled.get(i) is None, first_labeled.get(i), i))
        kept, beyond = order[: rules.planned_pairs], order[rules.planned_pairs :]
    counted = {i: all_outcomes[i] for i in sorted(kept)}
    both_bad = dict.fromkeys(counted, False)  # an item without a both-bad label has no majority
    both_bad.update((i, 2 * n > len(prefs[i])) for i, n in bad.items() if i in counted)
    return HumanItems(
        all_outcomes=all_outcomes,
        outcomes=counted,
        both_bad=both_bad,
        labels=sum(map(len, map(prefs.__getitem__, counted))),
        both_bad_labels=sum(n for i, n in bad.items() if i in counted),
        flagged=flagged,
        excluded=frozenset(excluded),
        beyond_planned=frozenset(beyond),
    )
