"""The panel's vote on hand-made verdicts: each member's both-order verdict by the one-judge
rule, the majority over members (a split is a tie), the panel's flips from its majority in each
order, pairs some member left half-judged; and the CLI's refusals of a malformed panel."""

from __future__ import annotations

import json

from conftest import DATA

from judge.runner import Settings
from reviewer.judging.options import JudgeOptions
from reviewer.judging.panel import members_of, panel_outcomes
from reviewer.store import judge_calls as judge_sql
from reviewer.store import panels as panel_sql

CF, BF = "candidate_first", "baseline_first"


def rows(judge_id: str, verdicts: dict[str, tuple[str, ...]]) -> list[dict]:
    """Verdict rows of one judge: pair -> (candidate-first, baseline-first) preferences."""
    out = []
    for pair, prefs in verdicts.items():
        for order, pref in zip((CF, BF), prefs, strict=False):
            crit = {
                "correctness": {"candidate": "candidate", "baseline": "baseline"}.get(pref, "same")
            }
            out.append({"judge_id": judge_id, "pair_id": pair, "presented": order,
                        "preference": pref, "criteria_json": json.dumps(crit)})  # fmt: skip
    return out


def test_majority_split_flips_and_half_judged_pairs():
    c, b, t = "candidate", "baseline", "tie"
    members = {
        "x": {"p1": (c, c), "p2": (c, c), "p3": (c, b), "p4": (c, c), "p5": (c, c)},
        "y": {"p1": (c, c), "p2": (b, b), "p3": (c, b), "p4": (c, b), "p5": (c,)},
        "z": {"p1": (b, b), "p2": (t, t), "p3": (b, c), "p4": (b, c)},
    }
    all_rows = [r for judge, v in members.items() for r in rows(judge, v)]
    all_rows += rows("stranger", {"p1": (b, b)})  # not a member: never counted
    judged, used = panel_outcomes(all_rows, ["x", "y", "z"])
    # p1: c, c, b -> c. p2: c, b, t -> split -> tie. p3: every member flips -> t, t, t -> tie.
    # p4: x c; y flips (tie); z flips (tie) -> tie. p5: y judged one order, z nothing.
    assert judged.overall == {"p1": c, "p2": t, "p3": t, "p4": t}
    # The majority in each order: p3 c-first (c, c, b) -> c, b-first (b, b, c) -> b: a flip.
    # p4 c-first (c, c, b) -> c, b-first (c, b, c) -> c: consistent, though the members flip.
    assert judged.flips == {"p1": False, "p2": False, "p3": True, "p4": False}
    assert judged.orders["p3"] == {CF: c, BF: b}
    assert judged.one_order_only == {"p5"}
    assert judged.criteria["correctness"] == {"p1": c, "p2": t, "p3": t, "p4": t}
    # Decisive per-order majorities: p1 c, c; p2 none (c-first c, b, t -> tie); p3 c, b; p4 c, c.
    # First position picked: p1 c-first yes, b-first no; p3 yes, yes; p4 yes, no -> 4 of 6.
    assert judged.first_position_rate == 4 / 6
    assert {r["judge_id"] for r in used} == {"x", "y", "z"}


def test_a_malformed_panel_is_refused_before_any_call(cli, pairs_file):
    assert cli("import", pairs_file, "-s", "s").code == 0
    base = ["judge", "panel", "run", "-s", "s", "--rubric", DATA / "support_rubric.toml"]
    one = cli(*base, "--member", "a=openai:gpt-4o-mini", "--dry-run")
    assert one.code == 2 and "at least 2 members" in one.err
    bad = cli(*base, "--member", "a=gpt-4o-mini", "--member", "b=openai:x", "--dry-run")
    assert bad.code == 2 and "expected NAME=PROVIDER:MODEL[@URL]" in bad.err
    same = cli(*base, "--member", "a=openai:m", "--member", "b=openai:m", "--dry-run")
    assert same.code == 2 and "it would vote twice" in same.err
    est = cli(
        *base, "--member", "a=openai:gpt-4o-mini", "--member",
        "b=openai-compatible:llama3.1:8b@http://127.0.0.1:9/v1", "--dry-run", "--json",
    ).json()  # fmt: skip
    assert [e["calls"] for e in est] == [e["needed"] for e in est] and len(est) == 2
    assert est[1]["cost_expected"] is None  # no price for a local model


def test_a_budget_is_the_panels_shared_evenly_by_its_members():
    base = JudgeOptions(
        provider="", model="", rubric_path=DATA / "support_rubric.toml",
        settings=Settings(max_cost=1.5, concurrency=3),
    )  # fmt: skip
    members = members_of(["a=openai:x", "b=anthropic:y@http://127.0.0.1:9", "c=openai:z"], base)
    assert [m.settings.max_cost for m in members] == [0.5, 0.5, 0.5]
    assert [(m.name, m.provider, m.model, m.base_url) for m in members][1] == (
        "b",
        "anthropic",
        "y",
        "http://127.0.0.1:9",
    )
    assert {m.settings.concurrency for m in members} == {3}
    unlimited = members_of(["a=openai:x", "b=openai:y"], JudgeOptions("", "", base.rubric_path))
    assert {m.settings.max_cost for m in unlimited} == {None}


def test_a_registered_panel_reads_back_with_its_members_on_both_backends(any_store):
    members = [{"judge_id": "judge:1", "name": "a"}, {"judge_id": "judge:2", "name": "b"}]
    params = {"rule": "majority", "members": members}
    row = {"name": "p", "provider": "panel", "model": "x + y", "rubric": {}, "template": "",
           "params": params, "version_hash": "h" * 64}  # fmt: skip
    single = {**row, "provider": "openai", "name": "a", "params": {}}
    any_store.write(lambda cur: judge_sql.ensure_judge(cur, "panel:1", row))
    any_store.write(lambda cur: judge_sql.ensure_judge(cur, "judge:1", single))
    (found,) = any_store.read(panel_sql.panels)
    assert (found["judge_id"], found["name"], found["members"]) == ("panel:1", "p", members)
