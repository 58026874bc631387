"""Aligning a judge with the experts: few-shot examples chosen from the pairs where the experts
agreed and the judge did not, and the new rubric version that carries them.

The rule (after MLflow's `judge.align()`, LangSmith's few-shot evaluators and Potato's
high-agreement seeding): a pair is eligible when at least `min_experts` experts labeled it and
all of them gave the same preference, and the judge's outcome over both orders (a verdict that
flips with the order is a tie) differs from it. Up to `max_examples` eligible pairs are drawn at
random with the study's seed, from the pairs sorted by id, so the same labels and verdicts give
the same examples. Each example is shown in the order that alternates (first example with the
candidate first, the next with the baseline first, ...), so the examples teach no position.

The caller decides which pairs are offered: only the development part of the calibration set,
never the held-out part that decides the gate.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from judge.rubric import FewShotExample, Rubric

# How each side of a pair reads once shown first or second.
_SHOWN = {
    True: {"candidate": "first", "baseline": "second"},
    False: {"candidate": "second", "baseline": "first"},
}
_CRITERION_WORD = {"tie": "same", "same": "same"}
_OVERALL_WORD = {"tie": "tie"}


@dataclass(frozen=True)
class ExpertCase:
    """One pair with what the experts and the judge made of it.

    `preferences` and `rationales` hold one entry per expert label; `criteria` maps a
    criterion to each expert's value on it (candidate | baseline | tie); `judge` is the judge's
    outcome over both orders, None when it has none."""

    pair_id: str
    prompt: str
    candidate: str
    baseline: str
    preferences: tuple[str, ...]
    judge: str | None
    rationales: tuple[str, ...] = ()
    criteria: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def agreed(self) -> str | None:
        """The experts' common preference, or None when they differ."""
        return self.preferences[0] if len(set(self.preferences)) == 1 else None


def eligible(cases: list[ExpertCase], min_experts: int = 2) -> list[ExpertCase]:
    """Cases where at least `min_experts` experts all agreed and the judge, having judged the
    pair in both orders, disagreed with them; sorted by pair id."""
    return sorted(
        (
            c
            for c in cases
            if len(c.preferences) >= min_experts
            and c.agreed is not None
            and c.judge is not None
            and c.judge != c.agreed
        ),
        key=lambda c: c.pair_id,
    )


def select_examples(
    cases: list[ExpertCase], max_examples: int, seed: int, min_experts: int = 2
) -> list[ExpertCase]:
    """Up to `max_examples` eligible cases, drawn with `seed` (all of them when fewer)."""
    pool = eligible(cases, min_experts)
    if len(pool) <= max_examples:
        return pool
    return random.Random(seed).sample(pool, max_examples)


def _criterion_entry(name: str, values: tuple[str, ...], candidate_first: bool) -> dict:
    """The experts' majority on one criterion as the judge's answer would state it."""
    counts = Counter(values).most_common()
    top = counts[0][0] if len(counts) == 1 or counts[0][1] > counts[1][1] else "tie"
    better = _CRITERION_WORD.get(top) or _SHOWN[candidate_first][top]
    return {
        "criterion": name,
        "reasoning": f"the experts' rating ({counts[0][1]} of {len(values)} agree)",
        "better": better,
    }


def to_example(case: ExpertCase, candidate_first: bool, criteria: list[str]) -> FewShotExample:
    """A case as a worked example: the pair in the given order and the answer the experts gave,
    with their rationales and their ratings on the rubric's criteria they rated."""
    agreed = case.agreed
    if agreed is None:
        raise ValueError(f"pair {case.pair_id}: the experts did not agree")
    overall = _OVERALL_WORD.get(agreed) or _SHOWN[candidate_first][agreed]
    notes = list(dict.fromkeys(r.strip() for r in case.rationales if r and r.strip()))
    rationale = " / ".join(notes) or f"All {len(case.preferences)} experts chose {overall}."
    answer = {
        "criteria": [
            _criterion_entry(name, case.criteria[name], candidate_first)
            for name in criteria
            if case.criteria.get(name)
        ],
        "rationale": rationale,
        "overall": overall,
    }
    first, second = (
        (case.candidate, case.baseline) if candidate_first else (case.baseline, case.candidate)
    )
    return FewShotExample(
        prompt=case.prompt, first=first, second=second, verdict=json.dumps(answer)
    )


def aligned_rubric(rubric: Rubric, chosen: list[ExpertCase]) -> Rubric:
    """`rubric` with the chosen cases appended to its examples, orders alternating; a pair it
    already shows (in either order) is not repeated."""
    names = [c.name for c in rubric.criteria]
    have = {_shown(e) for e in rubric.examples}
    added = [to_example(case, k % 2 == 0, names) for k, case in enumerate(chosen)]
    new = [e for e in added if _shown(e) not in have]
    return rubric.model_copy(update={"examples": (*rubric.examples, *new)})


def _shown(example: FewShotExample) -> tuple[str, frozenset[str]]:
    """What makes two examples the same pair, in either order."""
    return example.prompt, frozenset((example.first, example.second))


def aligned_path(base: Path, rubric: Rubric) -> Path:
    """Where the new rubric version goes by default: beside the old one, named by its hash."""
    return base.with_name(f"{base.stem}.aligned-{rubric.content_hash()[:12]}.yaml")


def write_rubric(rubric: Rubric, path: Path, header: str) -> Path:
    """Write `rubric` as YAML that `load_rubric` reads back to the same content hash."""
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    body = yaml.safe_dump(
        rubric.model_dump(mode="json"), sort_keys=False, allow_unicode=True, width=100
    )
    path.write_text(comment + body, encoding="utf-8")
    return path
