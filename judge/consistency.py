"""Both orders of one pair become one outcome; how often the order changed the verdict."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

CANDIDATE_FIRST, BASELINE_FIRST = "candidate_first", "baseline_first"
ORDERS = (CANDIDATE_FIRST, BASELINE_FIRST)
UNKNOWN = "unknown"  # an imported verdict whose order was not recorded


def combine_orders(seen: dict[str, str]) -> tuple[str, bool | None] | None:
    """The pair's outcome from its verdicts by order, and whether the two orders disagreed.
    Disagreeing orders make a tie (MT-Bench's rule: a verdict that does not survive swapping
    the responses is no preference).

    None when only one order was judged (a run cut short): a lone verdict may be the judge's
    position bias, so it decides nothing. A verdict imported with its order unknown is the
    other tool's final word on the pair and stands alone (flip None: not measured).

    >>> combine_orders({"candidate_first": "candidate", "baseline_first": "baseline"})
    ('tie', True)
    >>> combine_orders({"candidate_first": "candidate"}) is None
    True
    """
    if CANDIDATE_FIRST in seen and BASELINE_FIRST in seen:
        a, b = seen[CANDIDATE_FIRST], seen[BASELINE_FIRST]
        return (a if a == b else "tie"), a != b
    if UNKNOWN in seen:
        return seen[UNKNOWN], None
    return None


def first_position_rate(verdicts: Iterable[tuple[str, str]]) -> float | None:
    """Share of decisive (presented, preference) verdicts that picked the response shown first;
    0.5 for a judge without position bias.

    >>> first_position_rate([("candidate_first", "candidate"), ("baseline_first", "candidate"),
    ...                      ("baseline_first", "tie"), ("unknown", "baseline")])
    0.5
    """
    return first_position_share(Counter(verdicts))


def first_position_share(counts: Mapping[tuple[str, str], int]) -> float | None:
    """`first_position_rate` of verdicts counted by (presented, preference): a report's
    200,000 verdicts are counted in C, and only their few kinds looked at here."""
    decisive = {(o, p): n for (o, p), n in counts.items() if o in ORDERS and p != "tie"}
    picks = sum(n for (o, p), n in decisive.items() if (p == "candidate") == (o == CANDIDATE_FIRST))
    total = sum(decisive.values())
    return picks / total if total else None
