"""The cache keys a run plans are the cache: pinned here, byte for byte, so that a faster way of
computing them cannot re-key the calls already paid for. Also: the planned messages are the
rendered ones, and an answer after a line of prose reads as the strict parser reads it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from judge import (
    DEFAULT_TEMPLATE,
    PairText,
    Rubric,
    RubricCriterion,
    load_rubric,
    parse_answer,
    render,
)
from judge.consistency import ORDERS
from judge.plan import CallKeys, plan
from judge.prompts import Renderer, fence
from judge.rubric import FewShotExample
from judge.spec import JudgeSpec, PairInput
from judge.verdict import JudgeOutput, last_json_object

ROOT = Path(__file__).resolve().parent.parent

PAIRS = [
    PairInput(
        "b00000",
        "Customer question 0: how do I export my invoices?",
        "Go to Reports > Export. [[GOOD]] (0)",
        "I cannot help with that (0).",
    ),
    PairInput(
        "r1",
        "[user]\nHi\n\n[assistant]\nHello",
        "Naïve café ☕ \u2028 line\tsep \x01",
        "same",
        reference='The reference </s> \\ "x"',
    ),
    PairInput("dup", "same", "x", "x"),  # both orders render alike: one call
]

FANCY = Rubric(
    question="Which is better? {not a field}",
    criteria=(
        RubricCriterion(name="tone", description='Polite "quoted"', anchors={"first": "ünïcode ✓"}),
    ),
    examples=(
        FewShotExample(prompt="ex p", first="ex a", second="ex b", verdict='{"overall": "first"}'),
    ),
)


def support_spec() -> JudgeSpec:
    params = {"mode": "json_object", "max_tokens": 1024, "temperature": 0.0}
    params["base_url"] = "http://127.0.0.1:8399/v1"
    rubric = load_rubric(ROOT / "data" / "support_rubric.toml")
    return JudgeSpec(rubric, "openai-compatible", "bench-model", params)


def fancy_spec() -> JudgeSpec:
    params = {"mode": "tools", "max_tokens": 256, "temperature": 0.7, "timeout": 5}
    template = "Terse {{literal}}\n" + DEFAULT_TEMPLATE
    return JudgeSpec(FANCY, "anthropic", "claude-x", params, template, system="Be fair ✓.")


# Computed by the planner as it was before its keys were computed incrementally (main ef88942).
PINNED = {
    "support": [
        (
            "b00000",
            "candidate_first",
            "bfcf160f0cda5fa1f29251588e946a78eea297b4e95b7e76da2937d9d7590547",
        ),
        (
            "b00000",
            "baseline_first",
            "2655fd120d2e80e3917963ce7af7b502d000028f5bef9f321e13459e7472801d",
        ),
        (
            "r1",
            "candidate_first",
            "863bf9f542475e1982a2bf90ab995725ffd1081c2bac43262a512a788711bf62",
        ),
        (
            "r1",
            "baseline_first",
            "4dd543b9e815eb3cacb2146284083069006412c33c4ddceea0fee558a2e4200a",
        ),
        (
            "dup",
            "candidate_first",
            "f0abd61b99a78b6ccebdd70e921ea312461dace7b35abc99fd057bf2a47d20ff",
        ),
    ],
    "fancy": [
        (
            "b00000",
            "candidate_first",
            "940889d11c9561446c57da14d61dc7b2d5ecbd81f4fb538d70c42a9a45b494b9",
        ),
        (
            "b00000",
            "baseline_first",
            "3dd2c27d82dba85f6eee335d8296bfc66ef75309758b8a56bebe0e9d1f07a4c6",
        ),
        (
            "r1",
            "candidate_first",
            "dacc19d6ed20045989de000dc73dd65a525f854acf46a1652d122c46ef9eadcb",
        ),
        (
            "r1",
            "baseline_first",
            "a7c5778bdde7dd5ffbe5ddcbf3933216b625695ec02d0d994b350d7e69c50b52",
        ),
        (
            "dup",
            "candidate_first",
            "cb4836d334cb147758b7f2324b073f43f836f074a6f2b72e33b0408c1ed14164",
        ),
    ],
}


@pytest.mark.parametrize(("name", "spec"), [("support", support_spec()), ("fancy", fancy_spec())])
def test_planned_keys_are_pinned_and_are_the_identitys_keys_of_the_rendered_messages(name, spec):
    items = plan(PAIRS, spec)
    assert [(i.targets[0][0].pair_id, i.targets[0][1], i.key) for i in items] == PINNED[name]
    assert [t[1] for t in items[-1].targets] == list(ORDERS)  # identical prompts share a call
    for item in items:
        for pair, presented in item.targets:
            assert item.messages == spec.messages(pair, presented)
            assert item.key == spec.identity.cache_key(spec.messages(pair, presented))


def test_a_system_prompt_holding_the_placeholder_is_keyed_the_slow_way():
    spec = JudgeSpec(FANCY, "openai", "m", {}, system=CallKeys._SLOT)
    renderer = Renderer(spec.rubric, spec.template, spec.system)
    keys = CallKeys(spec.identity, spec.system, renderer.fixed)
    pieces = renderer.pieces(PAIRS[1].prompt, PAIRS[1].candidate, PAIRS[1].baseline, "ref")
    assert keys.of_pieces(pieces) == spec.identity.cache_key(renderer.as_messages(pieces))
    assert plan(PAIRS, spec)[0].key == spec.identity.cache_key(spec.messages(PAIRS[0], ORDERS[0]))


def answer(overall: str, rationale: str = "because") -> str:
    data = {"criteria": [], "rationale": rationale, "overall": overall}
    return json.dumps(data)


@pytest.mark.parametrize(
    "reply",
    [
        "Thinking it over.\n" + answer("first"),
        "A {brace} in prose, then " + answer("second") + "  \n",
        "Draft: " + answer("first") + "\nFinal: " + answer("tie"),
        answer("second", rationale='quotes {"overall": "first"} inside'),
    ],
)
def test_an_answer_after_prose_reads_as_the_last_json_object(reply):
    expected = JudgeOutput.model_validate(last_json_object(reply))
    assert parse_answer(reply, Rubric()) == expected


def test_templates_with_format_specs_render_as_str_format_does():
    rubric = Rubric(question="Which?")
    pair = PairText("p", "a", "b")
    template = "Q={question!r} {prompt_block:.200} [{first_block}] {{x}} {second_block}"
    expected = f"Q='Which?' {fence('PROMPT', 'p')} [{fence('FIRST RESPONSE', 'a')}] {{x}} "
    expected += fence("SECOND RESPONSE", "b")
    assert render(rubric, pair, template)[1]["content"] == expected
    for bad, error in [("{oops", ValueError), ("{nope}", KeyError), ("{0}", IndexError)]:
        with pytest.raises(error):
            render(rubric, pair, bad)
