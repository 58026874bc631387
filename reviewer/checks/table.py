"""A study's pairs as the checks read them: columns built once per run and shared by every
check, with what the scorers derive from a text (normalised, parsed as JSON) derived once per
distinct text. Nine checks over 100,000 pairs otherwise walk the pairs and normalise the same
texts nine times.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import cached_property
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

MISSING: Any = object()  # a pair's expected value, when the pair does not give it


class CheckPair(NamedTuple):
    """One pair as the checks read it: a tuple, as read-only as the frozen dataclass it was
    and a tenth of its cost to make (a report makes one per pair: 0.37 s per 100,000)."""

    pair_id: str
    stratum: str
    candidate: str
    baseline: str
    reference: str | None = None
    metadata: Mapping[str, Any] = MappingProxyType({})  # none: one shared empty, read-only


class TextMemo:
    """Each function of a text computed once per distinct text, for every check of a run
    (the results are shared, never mutated); a whole column seen before (the same list
    object: the table's columns are) is answered without a lookup per text."""

    def __init__(self) -> None:
        self._maps: dict[Callable[[str], Any], dict[str, Any]] = {}
        self._lists: dict[tuple[Any, int], tuple[list[str], list[Any]]] = {}
        self._joined: dict[tuple[int, int], tuple[list[str], list[str], list[str]]] = {}

    def apply(self, fn: Callable[[str], Any], texts: list[str]) -> list[Any]:
        """`[fn(t) for t in texts]`, each distinct text computed once."""
        seen = self._lists.get((fn, id(texts)))
        if seen is not None and seen[0] is texts:
            return seen[1]
        known = self._maps.setdefault(fn, {})
        new = {t for t in texts if t not in known}
        known.update(zip(new, map(fn, new), strict=True))
        out = list(map(known.__getitem__, texts))
        self._lists[(fn, id(texts))] = (texts, out)  # holds `texts`: its id stays its own
        return out

    def joined(self, first: list[str], second: list[str]) -> list[str]:
        """`first + second`, the same list object for the same two lists."""
        seen = self._joined.get((id(first), id(second)))
        if seen is None or seen[0] is not first or seen[1] is not second:
            seen = (first, second, first + second)
            self._joined[(id(first), id(second))] = seen
        return seen[2]


class PairTable:
    """The pairs in pair order, as columns; what several checks read is read once."""

    def __init__(self, pairs: Iterable[CheckPair]) -> None:
        self.pairs = list(pairs)
        self.memo = TextMemo()
        self._sources: dict[str, list[Any]] = {}
        self.targets: dict[Any, Any] = {}  # per check target and rule (reviewer.checks.summary)

    def __len__(self) -> int:
        return len(self.pairs)

    @cached_property
    def strata(self) -> tuple[list[str], np.ndarray]:
        """The strata's names (sorted) and each pair's stratum as an index into them."""
        names = sorted({p.stratum for p in self.pairs})
        code = {name: i for i, name in enumerate(names)}
        return names, np.array([code[p.stratum] for p in self.pairs], dtype=np.int64)

    @cached_property
    def id_rank(self) -> np.ndarray:
        """Each pair's position in pair-id order (ties between equal scores go to the
        smaller id): one sort for every check and stratum."""
        order = sorted(range(len(self.pairs)), key=lambda i: self.pairs[i].pair_id)
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        return rank

    def column(self, side: str) -> list[str]:
        """The candidate's or the baseline's output of every pair."""
        if side not in self._sources:
            self._sources[side] = [getattr(p, side) for p in self.pairs]
        return self._sources[side]

    def source(self, source: str) -> list[Any]:
        """Every pair's value of a check target ('reference', 'expected', 'expected.KEY'):
        MISSING where the pair does not give it."""
        if source not in self._sources:
            self._sources[source] = _values(self.pairs, source)
        return self._sources[source]

    @cached_property
    def _with_metadata(self) -> bool:
        """Whether any pair carries metadata (most studies' pairs carry none)."""
        return any(p.metadata for p in self.pairs)

    def metadata_column(self, key: str) -> list[Any]:
        """Every pair's metadata value under `key` (None where absent)."""
        name = f"metadata:{key}"
        if name not in self._sources:
            self._sources[name] = (
                [p.metadata.get(key) for p in self.pairs]
                if self._with_metadata
                else [None] * len(self.pairs)
            )
        return self._sources[name]


def _values(pairs: list[CheckPair], source: str) -> list[Any]:
    if source == "reference":
        return [MISSING if p.reference is None else p.reference for p in pairs]
    whole = [p.metadata.get("expected", MISSING) for p in pairs]
    if "." not in source:
        return whole
    key = source.split(".", 1)[1]
    return [v.get(key, MISSING) if isinstance(v, dict) else MISSING for v in whole]


def as_table(pairs: PairTable | Iterable[CheckPair]) -> PairTable:
    """A table of the pairs (the same table when given one, so that checks share it)."""
    return pairs if isinstance(pairs, PairTable) else PairTable(pairs)
