"""The go/no-go checklist through the CLI: a study built to pass every line, and studies built
to fail each line (or leave it unmeasured), with `signoff check`'s exit code and printed lines
and the report's JSON; two baselines side by side (`--with-study`); the demo's checklist."""

from __future__ import annotations

import json

import pytest
from conftest import write_jsonl

from reviewer.store import Store
from reviewer.study.demo import STUDY, create_demo

N = 60
SCHEMA = {
    "type": "object",
    "required": ["answer", "label"],
    "properties": {"answer": {"type": "string"}, "label": {"enum": ["yes", "no"]}},
}
CHECKS = {
    "fields": {"kind": "json_fields"},
    "shape": {"kind": "json_schema", "json_schema": SCHEMA},
    "label": {"kind": "classification", "field": "label", "target": "expected.label"},
}


def doc(i: int, label: str | None = None) -> dict:
    return {"answer": f"a{i}", "label": label or ("yes" if i % 3 else "no")}


def rows(candidate=None, baseline=None, meta=None) -> list[dict]:
    """N pairs in strata a (even) and b (odd): both models answer as expected unless
    `candidate`/`baseline` (i -> output text) say otherwise; `meta` adds metadata per item."""
    out = []
    for i in range(N):
        right = json.dumps(doc(i))
        out.append(
            {
                "id": f"p{i:02d}",
                "prompt": f"Question {i}?",
                "candidate": (candidate or {}).get(i, right),
                "baseline": (baseline or {}).get(i, right),
                "stratum": "a" if i % 2 == 0 else "b",
                "reference": right,
                "metadata": {"expected": doc(i), **((meta or {}).get(i, {}))},
            }
        )
    return out


def timed(cand_ms=lambda i: 100.0 + i, base_ms=lambda i: 100.0 + i, cost=0.0005) -> dict:
    return {
        i: {
            "candidate_latency_ms": cand_ms(i),
            "baseline_latency_ms": base_ms(i),
            "candidate_cost_usd": cost,
            "baseline_cost_usd": 0.0004,
        }
        for i in range(N)
    }


def config(checks: list[str], **checklist) -> str:
    text = ""
    for name in checks:
        text += f"[[checks]]\nname = {json.dumps(name)}\n"
        for key, value in CHECKS[name].items():
            text += f"{key} = {_toml(value)}\n"
    text += "[checklist]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in checklist.items())
    return text


def _toml(value) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(map(_toml, value)) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def make(cli, tmp_path, name: str, pairs: list[dict], cfg: str, winner: str = "candidate"):
    (tmp_path / f"{name}.toml").write_text(cfg)
    pairs_file = write_jsonl(tmp_path / f"{name}.jsonl", pairs)
    r = cli("import", pairs_file, "-s", name, "--config", tmp_path / f"{name}.toml")
    assert r.code == 0, r.err
    labels = ["pair_id,annotator,preference"] + [f"p{i:02d},ann,{winner}" for i in range(N)]
    (tmp_path / f"{name}.csv").write_text("\n".join(labels) + "\n")
    assert cli("labels", "import", tmp_path / f"{name}.csv", "-s", name).code == 0


def checklist_of(cli, name: str, *extra: str) -> dict:
    r = cli("report", "-s", name, "--format", "json", "--resamples", "200", *extra)
    assert r.code == 0, r.err
    return json.loads(r.out)


LIMITS = {"max_latency_p50_ratio": 1.2, "max_latency_p99_ratio": 2.0, "max_cost_per_1k_usd": 1.0}


def test_a_study_built_to_pass_passes_every_line(cli, tmp_path):
    wrong = {i: json.dumps(doc(i, "maybe")) for i in range(0, N, 10)}
    make(cli, tmp_path, "s", rows(baseline=wrong, meta=timed()),
         config(["fields", "shape", "label"], **LIMITS))  # fmt: skip
    rep = checklist_of(cli, "s")
    lines = rep["checklist"]["lines"]
    # human, then 3 lines per check (+ schema compliance for shape), then p50, p99, cost.
    assert len(lines) == 1 + 3 * 3 + 1 + 3
    assert [x["status"] for x in lines] == ["pass"] * len(lines), lines
    assert rep["checklist"]["passed"] is True
    fields = next(c for c in rep["checks"] if c["name"] == "fields")
    # The baseline's label is wrong on 6 items (every 10th): field_score 0.5 there.
    assert fields["overall"]["baseline"] == pytest.approx(1 - 6 * 0.5 / N)
    assert fields["overall"]["difference"]["value"] == pytest.approx(3 / N)
    label = next(c for c in rep["checks"] if c["name"] == "label")
    assert label["overall"]["statistic"] == "macro_f1" and label["overall"]["candidate"] == 1.0
    assert rep["operations"]["p50_ratio"]["value"] == pytest.approx(1.0)
    assert rep["operations"]["cost_per_1k"]["value"] == pytest.approx(0.5)
    r = cli("check", "-s", "s", "--resamples", "100")
    assert r.code == 0, r.out
    assert f"checklist s: PASS ({len(lines)} of {len(lines)} lines pass)" in r.out
    md = cli("report", "-s", "s", "--format", "md", "--resamples", "50").out
    assert md.index("## Go/no-go checklist") < md.index("**SIGN-OFF**")


def _slow_tail(i: int) -> float:
    return 100.0 + i if i < N - 2 else 5_000.0


# name -> (checks, checklist, rows, winner, the failing lines' start, their status)
CASES = {
    "human preference": (
        ["fields"], {}, rows(), "baseline", ["human preference"], "fail"
    ),
    "mean": (
        ["fields"], {},
        rows(candidate={i: json.dumps(doc(i, "maybe")) for i in range(20)},
             baseline={i: json.dumps(doc(i, "maybe")) for i in range(5)}),
        "candidate", ["fields: candidate mean >=", "fields: no stratum"], "fail",
    ),
    "one stratum regresses": (
        ["fields"], {},
        rows(candidate={i: json.dumps(doc(i, "maybe")) for i in range(0, 20, 2)},
             baseline={i: json.dumps(doc(i, "maybe")) for i in range(1, 21, 2)}),
        "candidate", ["fields: no stratum"], "fail",
    ),
    "worst stratum craters": (
        ["fields"], {},
        rows(candidate=dict.fromkeys(range(0, 40, 2), "{}"),
             baseline=dict.fromkeys(range(0, 40, 2), "{}")),
        "candidate", ["fields: candidate mean in its worst stratum"], "fail",
    ),
    "schema compliance": (
        ["shape"], {}, rows(candidate={0: "not json"}, baseline={2: "not json"}),
        "candidate", ["shape: schema compliance"], "fail",
    ),
    "latency p50": (
        [], {"max_latency_p50_ratio": 1.2},
        rows(meta=timed(cand_ms=lambda i: 2 * (100.0 + i))), "candidate", ["latency p50"], "fail",
    ),
    "latency p99": (
        [], {"max_latency_p50_ratio": 1.2, "max_latency_p99_ratio": 2.0},
        rows(meta=timed(cand_ms=_slow_tail)), "candidate", ["latency p99"], "fail",
    ),
    "cost": (
        [], {"max_cost_per_1k_usd": 1.0}, rows(meta=timed(cost=0.002)), "candidate",
        ["cost per 1,000 requests"], "fail",
    ),
    "latency not recorded": (
        [], {"max_latency_p99_ratio": 2.0}, rows(), "candidate", ["latency p99"], "not measured",
    ),
    "no calibrated judge": (
        [], {"judge_win_rate": 0.6}, rows(), "candidate", ["judge win rate"], "not measured",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_a_study_built_to_fail_one_rule_fails_that_rule(cli, tmp_path, case):
    checks, checklist, pairs, winner, failing, status = CASES[case]
    make(cli, tmp_path, "s", pairs, config(checks, **checklist), winner)
    rep = checklist_of(cli, "s")
    bad = [x for x in rep["checklist"]["lines"] if x["status"] != "pass"]
    assert [x["rule"].split(" (")[0][: len(f)] for x, f in zip(bad, failing, strict=False)] == (
        failing
    ), rep["checklist"]["lines"]
    assert len(bad) == len(failing) and {x["status"] for x in bad} == {status}
    assert rep["checklist"]["passed"] is False
    r = cli("check", "-s", "s", "--resamples", "200")
    assert r.code == 1
    printed = [line.strip() for line in r.out.splitlines() if line.startswith("  ")]
    assert printed == [f"{status.upper()}: {x['rule']}: {x['measured']}" for x in bad]


def test_worked_numbers_of_the_failing_lines(cli, tmp_path):
    # Stratum a: the candidate's label is wrong on 10 of its 30 items (field_score 0.5 each),
    # the baseline's on none: a's difference is -5/30; b's is +5/30 the other way round.
    _, _, pairs, _, _, _ = CASES["one stratum regresses"]
    make(cli, tmp_path, "s", pairs, config(["fields"]))
    rep = checklist_of(cli, "s")
    by_rule = {x["rule"]: x for x in rep["checklist"]["lines"]}
    line = by_rule["fields: no stratum's mean below its baseline's by more than 0.01"]
    assert line["value"] == pytest.approx(-5 / 30) and line["measured"].startswith("a: -0.167")
    assert by_rule["fields: candidate mean >= baseline mean - 0.01"]["value"] == pytest.approx(0)


def test_two_baselines_side_by_side(cli, tmp_path):
    cfg = config(["fields"], max_cost_per_1k_usd=1.0)
    make(cli, tmp_path, "base", rows(meta=timed()), cfg)
    # Against the frontier model the candidate loses on labels in both strata.
    frontier = rows(candidate={i: json.dumps(doc(i, "maybe")) for i in range(20)}, meta=timed())
    make(cli, tmp_path, "frontier", frontier, cfg)
    rep = checklist_of(cli, "base", "--with-study", "frontier")
    (other,) = rep["comparisons"]
    assert (other["study"], other["shared_items"]) == ("frontier", N)
    assert rep["checklist"]["passed"] is True and other["checklist"]["passed"] is False
    md = cli("report", "-s", "base", "--format", "md", "--resamples", "50",
             "--with-study", "frontier").out  # fmt: skip
    assert "vs base: PASS (5 of 5 lines pass); vs frontier: FAIL (3 of 5 lines pass)" in md
    assert "| rule | vs base | vs frontier |" in md
    html = cli("report", "-s", "base", "--resamples", "50", "--with-study", "frontier").out
    assert "vs frontier: FAIL (3 of 5 lines pass)" in html
    assert cli("check", "-s", "base", "--resamples", "50").code == 0
    r = cli("check", "-s", "base", "--resamples", "50", "--with-study", "frontier")
    assert r.code == 1 and "checklist frontier: FAIL (3 of 5 lines pass)" in r.out


def test_the_demo_report_opens_with_its_checklist(cli, db_path):
    create_demo(Store(db_path))
    rep = checklist_of(cli, STUDY)
    rules = [x["rule"] for x in rep["checklist"]["lines"]]
    assert rules[0].startswith("human preference")
    assert {c["name"] for c in rep["checks"]} == {
        "policy_overlap",
        "declines_correctly",
        "no_filler",
    }
    assert any(r.startswith("latency p99") for r in rules)
    assert all(x["status"] != "not measured" for x in rep["checklist"]["lines"])
    declines = next(c for c in rep["checks"] if c["name"] == "declines_correctly")
    # 16 refusal pairs: the candidate declines the 10 it must and the 6 harmless ones it
    # should answer (3 of each over-refusal scenario), the baseline the reverse.
    assert declines["by_stratum"]["refusal"]["items"] == 16
    html = cli("report", "-s", STUDY, "--resamples", "50").out
    assert html.index("Go/no-go checklist") < html.index("Human preference")
