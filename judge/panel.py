"""A panel of judges: several models, each judging every pair in both orders exactly as one
judge does, and one verdict per pair by their majority.

A member's own verdict on a pair is formed by the rule for one judge (`combine_orders`): its two
orders' verdicts, a tie when they disagree, none when it judged one order only. The panel's
verdict is the outcome more members gave than any other; a split (no such outcome, e.g. one
member for the candidate and one for the baseline, or one for each side and one tie) is a tie.
The rule is the one the humans' majority follows, so panel and experts are read alike.

The panel's verdict in each order (the members' majority over their verdicts in that order)
measures its position bias: the panel is consistent on a pair when both orders give the same
majority. Its decision on the pair is still the majority of the members' both-order verdicts.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from judge.consistency import BASELINE_FIRST, CANDIDATE_FIRST, ORDERS, combine_orders
from judge.identity import canonical

RULE = "majority of the members' both-order verdicts; a split is a tie"
MIN_MEMBERS = 2


def vote(outcomes: Sequence[str]) -> str:
    """The outcome given more often than any other; a split (or no outcome) is a tie.

    >>> vote(["candidate", "candidate", "baseline"])
    'candidate'
    >>> vote(["candidate", "baseline"]), vote(["candidate", "baseline", "tie"])
    ('tie', 'tie')
    >>> vote(["candidate", "tie", "tie"])
    'tie'
    """
    counts = Counter(outcomes).most_common(2)
    if not counts or (len(counts) == 2 and counts[0][1] == counts[1][1]):
        return "tie"
    return counts[0][0]


@dataclass(frozen=True)
class PanelVerdict:
    outcome: str  # the majority of the members' both-order verdicts
    orders: dict[str, str]  # order -> the members' majority in that order
    flip: bool | None  # whether the two orders' majorities differ; None: not both measured
    members: tuple[str, ...]  # each member's both-order verdict, in the members' order


def panel_verdict(members: Sequence[dict[str, str]]) -> PanelVerdict | None:
    """The panel's verdict on one pair from each member's verdicts by order (presented ->
    preference). None unless every member has its own both-order verdict: a pair some member
    left unjudged would be decided by fewer members than the panel has.

    >>> a = {"candidate_first": "candidate", "baseline_first": "candidate"}
    >>> b = {"candidate_first": "candidate", "baseline_first": "baseline"}
    >>> v = panel_verdict([a, b, a])
    >>> v.outcome, v.members, v.flip
    ('candidate', ('candidate', 'tie', 'candidate'), False)
    >>> panel_verdict([a, {"candidate_first": "baseline"}]) is None
    True
    """
    combined = [combine_orders(seen) for seen in members]
    if not members or any(c is None for c in combined):
        return None
    own = tuple(c[0] for c in combined if c is not None)
    orders = {
        o: vote([seen[o] for seen in members]) for o in ORDERS if all(o in s for s in members)
    }
    flip = orders[CANDIDATE_FIRST] != orders[BASELINE_FIRST] if len(orders) == 2 else None
    return PanelVerdict(vote(own), orders, flip, own)


def panel_hash(member_hashes: Iterable[str]) -> str:
    """Who the panel is: its members' version hashes (in any order) and the voting rule. A new
    member, or a member changed in any way, is a different panel that needs its calibration."""
    members = sorted(member_hashes)
    return hashlib.sha256(canonical({"members": members, "rule": RULE}).encode()).hexdigest()
