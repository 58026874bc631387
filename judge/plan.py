"""The calls a run needs: one per distinct rendered prompt (identical prompts share a call),
and roughly how many tokens each sends."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from judge.consistency import BASELINE_FIRST, CANDIDATE_FIRST, ORDERS
from judge.identity import JudgeIdentity
from judge.pricing import CHARS_PER_TOKEN
from judge.prompts import Renderer
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
    renderer = Renderer(spec.rubric, spec.template, spec.system)
    keys = CallKeys(spec.identity, spec.system, renderer.fixed)
    items: dict[str, Item] = {}
    for pair in pairs:
        shown = renderer.both_orders(pair.prompt, pair.candidate, pair.baseline, pair.reference)
        by_order = dict(zip((CANDIDATE_FIRST, BASELINE_FIRST), shown, strict=True))
        for presented in ORDERS:
            key = keys.of_pieces(by_order[presented])
            if key in items:
                items[key].targets.append((pair, presented))
            else:
                items[key] = Item(
                    key, renderer.as_messages(by_order[presented]), [(pair, presented)]
                )
    return list(items.values())


class CallKeys:
    """`identity.cache_key` for the messages of one judge, byte for byte, hashing only what
    changes from call to call. The canonical JSON of a call is the same text around its user
    message, and JSON-encoding a text is encoding its pieces one by one; so the hash state of
    the text before the pair's first piece is computed once and copied, and the template's
    fixed pieces are encoded once. The keys are the cache: a changed key is a call paid again
    (tests pin a few)."""

    # Stands for the user message while the text around it is found; a judge with another
    # string exactly equal to it (its system prompt, a parameter) is keyed the slow way.
    _SLOT = "\x00signoff: the user message\x00"
    _encode = json.JSONEncoder(ensure_ascii=False).encode  # as `canonical` encodes a string

    def __init__(self, identity: JudgeIdentity, system: str, fixed: Sequence[str]):
        self.identity = identity
        self._system = {"role": "system", "content": system}
        text = identity.call_text([self._system, {"role": "user", "content": self._SLOT}])
        before, *after = text.split(self._encode(self._SLOT))
        self._fast = len(after) == 1
        self._after = ('"' + after[0]).encode() if self._fast else b""
        self._fixed = [self._inner(piece) for piece in fixed]
        self._start = hashlib.sha256((before + '"').encode() + self._fixed[0])

    def of_pieces(self, pieces: list[str]) -> str:
        """The cache key of the messages of a user message in pieces, the fixed ones (even
        places) those this was made with (`Renderer.pieces`)."""
        if not self._fast:
            user = {"role": "user", "content": "".join(pieces)}
            return self.identity.cache_key([self._system, user])
        digest = self._start.copy()
        for i in range(1, len(pieces)):
            digest.update(self._inner(pieces[i]) if i % 2 else self._fixed[i // 2])
        digest.update(self._after)
        return digest.hexdigest()

    def _inner(self, text: str) -> bytes:
        """`text` JSON-encoded, without its quotes."""
        return self._encode(text)[1:-1].encode()


def input_tokens(messages: list[dict]) -> int:
    return sum(len(m["content"]) for m in messages) // CHARS_PER_TOKEN + 8
