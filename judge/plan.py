"""The calls a run needs: one per distinct rendered prompt (identical prompts share a call),
and roughly how many tokens each sends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from judge.consistency import ORDERS
from judge.pricing import CHARS_PER_TOKEN
from judge.spec import JudgeSpec, PairInput


@dataclass
class Item:
    """One call to make, and every (pair, order) its answer serves."""

    key: str
    messages: list[dict]
    targets: list[tuple[PairInput, str]]  # identical prompts share one call

    @property
    def log_id(self) -> tuple[str, str]:
        """The (pair, order) the call is logged under: its first target."""
        return self.targets[0][0].pair_id, self.targets[0][1]


def plan(pairs: Sequence[PairInput], spec: JudgeSpec) -> list[Item]:
    """Both orders of every pair, as calls keyed by their cache key."""
    items: dict[str, Item] = {}
    for pair in pairs:
        for presented in ORDERS:
            messages = spec.messages(pair, presented)
            key = spec.identity.cache_key(messages)
            if key in items:
                items[key].targets.append((pair, presented))
            else:
                items[key] = Item(key, messages, [(pair, presented)])
    return list(items.values())


def input_tokens(messages: list[dict]) -> int:
    return sum(len(m["content"]) for m in messages) // CHARS_PER_TOKEN + 8
