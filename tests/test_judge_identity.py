"""A judge's identity is what it sends: the template is part of its version, and the template
stored with the judge is the one the provider received."""

from __future__ import annotations

import pytest
from conftest import pair, write_jsonl

from judge import DEFAULT_TEMPLATE, JudgeIdentity, Rubric, RubricCriterion, load_rubric, render
from judge.prompts import SYSTEM, template_hash
from judge.runner import JudgeSpec, PairInput, Settings
from reviewer.judging import service
from reviewer.judging.options import JudgeOptions
from reviewer.store.connection import fetch_dicts

TERSE = "Be terse.\n\n" + DEFAULT_TEMPLATE
PAIRS = [pair(i) for i in range(1, 5)]


def test_the_identity_hashes_the_template_and_system_prompt_that_are_rendered():
    rubric = Rubric(criteria=(RubricCriterion(name="tone", description="Polite"),))
    base = JudgeSpec(rubric, "openai", "gpt-x", {"temperature": 0})
    assert base.identity == JudgeIdentity(
        "openai", "gpt-x", rubric.content_hash(), template_hash(), {"temperature": 0}
    )
    other_template = JudgeSpec(rubric, "openai", "gpt-x", {"temperature": 0}, TERSE)
    other_system = JudgeSpec(rubric, "openai", "gpt-x", {"temperature": 0}, system="Be fair.")
    hashes = {s.identity.version_hash() for s in (base, other_template, other_system)}
    assert len(hashes) == 3
    shown = PairInput("p", "q", "a", "b")
    assert other_system.messages(shown, "candidate_first")[0]["content"] == "Be fair."
    assert other_template.messages(shown, "candidate_first")[1]["content"].startswith("Be terse.")


@pytest.fixture
def study(cli, tmp_path):
    assert cli("import", write_jsonl(tmp_path / "p.jsonl", PAIRS), "--study", "s").code == 0
    return "s"


def run(store, llm, rubric_file, template: str) -> tuple[str, list[dict]]:
    """Judge every pair with `template`; the judge id and the request bodies the server got."""
    llm.reset()
    options = JudgeOptions(
        provider="openai-compatible", model="m", rubric_path=rubric_file,
        base_url=llm.openai_url, settings=Settings(concurrency=2), template=template,
    )  # fmt: skip
    judge, summary = service.run(store, "s", options, "all", "tester", override="identity test")
    assert summary.verdicts == 2 * len(PAIRS) and summary.calls == 2 * len(PAIRS)
    return judge.judge_id, list(llm.bodies)


def test_judges_differing_only_in_template_are_different_versions(study, store, llm, rubric_file):
    default_id, default_bodies = run(store, llm, rubric_file, DEFAULT_TEMPLATE)
    terse_id, terse_bodies = run(store, llm, rubric_file, TERSE)
    assert default_id != terse_id
    judges = {
        j["judge_id"]: j
        for j in store.read(
            lambda cur: fetch_dicts(cur, "SELECT judge_id, template, version_hash FROM judges")
        )
    }
    assert judges.keys() == {default_id, terse_id}
    assert judges[default_id]["version_hash"] != judges[terse_id]["version_hash"]
    rubric = load_rubric(rubric_file)
    for judge_id, template, bodies in (
        (default_id, DEFAULT_TEMPLATE, default_bodies),
        (terse_id, TERSE, terse_bodies),
    ):
        (system,) = {b["messages"][0]["content"] for b in bodies}
        assert system == SYSTEM
        assert judges[judge_id]["template"] == system + "\n\n" + template
        # Every request is that template rendered for one pair in one order, and nothing else.
        expected = [
            render(rubric, PairInput(p["id"], p["prompt"], p["candidate"], p["baseline"])
                   .shown(order), template)
            for p in PAIRS
            for order in ("candidate_first", "baseline_first")
        ]  # fmt: skip
        assert sorted(map(str, (b["messages"] for b in bodies))) == sorted(map(str, expected))
