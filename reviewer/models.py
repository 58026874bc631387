"""Types that cross layers: what the planner makes and the store keeps (no logic here)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PairSlot:
    """What the planner needs to know of a pair."""

    pair_id: str
    in_calibration: bool


@dataclass(frozen=True)
class Assignment:
    pair_id: str
    annotator_id: str
    candidate_left: bool
    position: int
    in_calibration: bool
