"""The selection rule of `judge.align` on hand-made cases: which pairs are eligible, the seeded
draw, the example's order and answer, and the new rubric version written and read back."""

from __future__ import annotations

import json
import random

from judge import load_rubric
from judge.align import (
    ExpertCase,
    aligned_path,
    aligned_rubric,
    eligible,
    select_examples,
    to_example,
    write_rubric,
)
from judge.rubric import FewShotExample, Rubric, RubricCriterion


def case(pid: str, prefs: tuple[str, ...], judge: str | None, **kw) -> ExpertCase:
    return ExpertCase(pid, f"prompt {pid}", f"cand {pid}", f"base {pid}", prefs, judge, **kw)


CASES = [
    case("a", ("candidate", "candidate"), "baseline"),  # eligible
    case("b", ("candidate", "candidate"), "candidate"),  # the judge agreed
    case("c", ("candidate", "baseline"), "baseline"),  # the experts split
    case("d", ("candidate",), "baseline"),  # one expert is no agreement
    case("e", ("tie", "tie", "tie"), "candidate"),  # eligible: three agreed on a tie
    case("f", ("baseline", "baseline"), None),  # judged in one order only: no outcome
    case("g", ("baseline", "baseline"), "tie"),  # eligible: a flip counts as a tie
]


def test_eligible_pairs_are_those_where_all_experts_agreed_and_the_judge_did_not():
    assert [c.pair_id for c in eligible(CASES)] == ["a", "e", "g"]
    assert [c.pair_id for c in eligible(CASES, min_experts=3)] == ["e"]


def test_the_draw_is_seeded_over_the_eligible_pairs_sorted_by_id():
    many = [case(f"p{i:02d}", ("baseline", "baseline"), "candidate") for i in range(20, 0, -1)]
    ids = sorted(c.pair_id for c in many)
    for seed in (0, 7, 123):
        got = [c.pair_id for c in select_examples(many, 5, seed)]
        assert got == random.Random(seed).sample(ids, 5)
    assert [c.pair_id for c in select_examples(CASES, 10, 1)] == ["a", "e", "g"]


def test_an_example_states_the_experts_answer_in_the_order_shown():
    c = case(
        "a", ("baseline", "baseline", "baseline"), "candidate",
        rationales=("cites the right fee", "", "cites the right fee", "shorter"),
        criteria={"correctness": ("baseline", "baseline", "tie"), "tone": ("candidate", "tie")},
    )  # fmt: skip
    shown_first = to_example(c, True, ["correctness", "tone", "safety"])
    assert (shown_first.first, shown_first.second) == ("cand a", "base a")
    answer = json.loads(shown_first.verdict)
    assert answer["overall"] == "second"
    assert answer["rationale"] == "cites the right fee / shorter"
    # correctness: 2 of 3 say baseline; tone: 1-1 is no majority, so "same"; safety unrated.
    assert [(e["criterion"], e["better"]) for e in answer["criteria"]] == [
        ("correctness", "second"), ("tone", "same"),
    ]  # fmt: skip
    swapped = json.loads(to_example(c, False, ["correctness"]).verdict)
    assert swapped["overall"] == "first" and swapped["criteria"][0]["better"] == "first"
    tie = json.loads(to_example(CASES[4], False, []).verdict)
    assert tie == {"criteria": [], "rationale": "All 3 experts chose tie.", "overall": "tie"}


def test_the_new_rubric_keeps_the_old_and_reads_back_to_its_hash(tmp_path):
    kept = FewShotExample(prompt="p", first="x", second="y", verdict="{}")
    base = Rubric(criteria=(RubricCriterion(name="tone", description="Polite."),), examples=(kept,))
    chosen = eligible(CASES)
    new = aligned_rubric(base, chosen)
    assert new.examples[0] == kept and len(new.examples) == 4
    # Orders alternate: candidate first, then baseline first, then candidate first.
    assert [e.first for e in new.examples[1:]] == ["cand a", "base e", "cand g"]
    assert aligned_rubric(new, chosen) == new  # examples it holds are not added twice
    assert aligned_rubric(new, chosen[1:]) == new  # not even in the other order
    path = write_rubric(new, aligned_path(tmp_path / "rubric.toml", new), "made by a test")
    assert path.name == f"rubric.aligned-{new.content_hash()[:12]}.yaml"
    assert path.read_text().startswith("# made by a test\n")
    assert load_rubric(path).content_hash() == new.content_hash() != base.content_hash()
