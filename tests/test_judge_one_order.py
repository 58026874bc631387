"""A pair counts for a judge only once judged in both orders: a run cut short leaves lone,
possibly position-biased verdicts, which the report counts and leaves out of every statistic."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import pytest
from conftest import pair, write_jsonl
from llm_server import MARKER, Script

from judge.consistency import combine_orders
from reviewer.analysis.calibration import calibrate
from reviewer.analysis.outcomes import judge_outcomes
from reviewer.config import StudyConfig
from reviewer.store import Store
from reviewer.store.connection import fetch_dicts

N = 12
LABELED = range(1, 7)  # pairs p001..p006 carry two human labels each
# With the marker judge, pair i wins for the candidate when i % 3 == 0, for the baseline when
# i % 3 == 1, else ties. These lose one order to a failing call: 3, 6, 9 (candidate wins) and 4
# (a baseline win) their second order, 10 (a baseline win) its first.
LOSE_SECOND, LOSE_FIRST = {3, 4, 6, 9}, {10}


def expected(i: int) -> str:
    return {0: "candidate", 1: "baseline", 2: "tie"}[i % 3]


def marked_pair(i: int) -> dict:
    mark = f" {MARKER}"
    return pair(
        i,
        candidate=f"Candidate answer {i}." + (mark if expected(i) == "candidate" else ""),
        baseline=f"Baseline answer {i}." + (mark if expected(i) == "baseline" else ""),
    )


@pytest.fixture
def study(cli, tmp_path):
    pairs = write_jsonl(tmp_path / "pairs.jsonl", [marked_pair(i) for i in range(1, N + 1)])
    assert cli("import", pairs, "--study", "s").code == 0
    labels = ["pair_id,annotator,preference"]
    labels += [f"p{i:03d},{who},{expected(i)}" for i in LABELED for who in ("ana", "bo")]
    (tmp_path / "labels.csv").write_text("\n".join(labels) + "\n")
    assert cli("labels", "import", tmp_path / "labels.csv", "-s", "s").code == 0


def judge(cli, llm, rubric_file, faults: list[str]) -> None:
    llm.reset(Script(faults=faults))
    r = cli(
        "judge", "run", "--study", "s", "--rubric", rubric_file, "--provider",
        "openai-compatible", "--base-url", llm.openai_url, "--model", "m", "--pairs", "all",
        "--override", "testing one-order verdicts", "--concurrency", "1",
    )  # fmt: skip
    assert r.code == 0, r.err


def stored_outcomes(db_path) -> tuple[dict[str, str], dict[str, dict[str, str]], set[str]]:
    """From the verdicts table, by hand: overall and per-criterion outcomes of the pairs judged
    in both orders (disagreeing orders tie), and the pairs judged in one order only."""
    sql = "SELECT pair_id, presented, preference, criteria_json FROM verdicts"
    by_pair: dict[str, dict[str, dict]] = defaultdict(dict)
    for v in Store(db_path).read(lambda cur: fetch_dicts(cur, sql)):
        by_pair[v["pair_id"]][v["presented"]] = v
    overall, criteria, lone = {}, defaultdict(dict), set()
    for pid, orders in by_pair.items():
        if len(orders) == 1:
            lone.add(pid)
            continue
        a, b = orders["candidate_first"], orders["baseline_first"]
        overall[pid] = a["preference"] if a["preference"] == b["preference"] else "tie"
        ca, cb = json.loads(a["criteria_json"]), json.loads(b["criteria_json"])
        for name in ca:
            same = ca[name] == cb[name]
            criteria[name][pid] = {"same": "tie"}.get(ca[name], ca[name]) if same else "tie"
    return overall, criteria, lone


def counts(outcomes) -> tuple[int, int, int, int]:
    c = Counter(outcomes)
    return len(outcomes), c["candidate"], c["baseline"], c["tie"]


def test_a_run_cut_short_counts_one_order_pairs_apart_in_the_report(
    cli, study, llm, rubric_file, db_path
):
    # One worker sends p001 candidate_first, p001 baseline_first, p002 ... in order; a 400 fails
    # that call for good (not retried), so the pair keeps one order only.
    faults = []
    for i in range(1, N + 1):
        faults += ["400" if i in LOSE_FIRST else "ok", "400" if i in LOSE_SECOND else "ok"]
    judge(cli, llm, rubric_file, faults)
    overall, criteria, lone = stored_outcomes(db_path)
    assert lone == {f"p{i:03d}" for i in LOSE_SECOND | LOSE_FIRST}
    report = cli("report", "-s", "s", "--format", "json", "--resamples", "50").json()
    (j,) = report["judges"]
    assert j["one_order_only"] == len(lone) == 5
    win = j["result"]["win_rate"]
    items, cand, base, tie = counts(overall.values())
    assert (items, cand, base, tie) == (7, 1, 2, 4)  # p012 | p001 p007 | p002 p005 p008 p011
    assert (win["items"], win["candidate"], win["baseline"], win["tie"]) == (items, cand, base, tie)
    assert win["decisive"] == 3 and win["rate"] == pytest.approx(1 / 3)
    strata = {f"p{i:03d}": ["routine", "hard", "edge", "refusal"][i % 4] for i in range(1, N + 1)}
    for stratum, w in j["result"]["by_stratum"].items():
        mine = [o for p, o in overall.items() if strata[p] == stratum]
        assert (w["items"], w["candidate"], w["baseline"], w["tie"]) == counts(mine), stratum
    assert j["result"]["by_stratum"].keys() == {strata[p] for p in overall}
    for name, w in j["result"]["by_criterion"].items():
        assert (w["items"], w["candidate"], w["baseline"], w["tie"]) == counts(
            criteria[name].values()
        )
    # Humans labeled p001..p006; of those, p001, p002 and p005 were judged in both orders.
    labeled = {f"p{i:03d}" for i in LABELED} & overall.keys()
    assert j["vs_majority"]["items"] == len(labeled) == 3
    assert sum(map(sum, (r.values() for r in j["confusion"].values()))) == 3
    ppi = j["bias_corrected"]
    assert (ppi["labeled"], ppi["unlabeled"]) == (3, 4)
    assert j["flip_rate"] == 0 and j["first_position_rate"] == 0.5
    md = cli("report", "-s", "s", "--format", "md", "--resamples", "50").out
    assert "| items judged in one order only (left out of every figure) | 5 |" in md
    # Running again completes the missing orders: every pair counts, none is left alone.
    judge(cli, llm, rubric_file, [])
    overall, _, lone = stored_outcomes(db_path)
    (j,) = cli("report", "-s", "s", "--format", "json", "--resamples", "50").json()["judges"]
    assert lone == set() and j["one_order_only"] == 0
    assert j["result"]["win_rate"]["items"] == N and counts(overall.values()) == (N, 4, 4, 4)


def test_a_judge_with_no_pair_in_both_orders_has_a_section_without_numbers(
    cli, study, llm, rubric_file
):
    judge(cli, llm, rubric_file, ["ok", "400"] * N)  # every pair loses its second order
    (j,) = cli("report", "-s", "s", "--format", "json", "--resamples", "50").json()["judges"]
    assert j["one_order_only"] == N and j["result"]["win_rate"]["items"] == 0
    assert j["result"]["win_rate"]["rate"] is None and j["bias_corrected"] is None
    assert j["flip_rate"] is None and j["first_position_rate"] is None
    for fmt in ("md", "html"):
        assert cli("report", "-s", "s", "--format", fmt, "--resamples", "50").code == 0


def verdicts(*rows: tuple[str, str, str]) -> list[dict]:
    """Verdict rows (pair, order, preference), each with the same call on criterion tone."""
    return [
        {"pair_id": p, "presented": order, "preference": pref,
         "criteria_json": json.dumps({"tone": pref})}
        for p, order, pref in rows
    ]  # fmt: skip


def test_outcomes_and_calibration_leave_one_order_pairs_out():
    rows = verdicts(
        ("a", "candidate_first", "candidate"), ("a", "baseline_first", "candidate"),
        ("b", "candidate_first", "candidate"), ("b", "baseline_first", "baseline"),
        ("c", "candidate_first", "candidate"),  # one order only: it picked the first shown
        ("d", "unknown", "baseline"),  # imported with its order unrecorded: the tool's verdict
    )  # fmt: skip
    judged = judge_outcomes(rows)
    assert judged.overall == {"a": "candidate", "b": "tie", "d": "baseline"}
    assert judged.criteria == {"tone": {"a": "candidate", "b": "tie", "d": "baseline"}}
    assert judged.one_order_only == {"c"} and judged.flips == {"a": False, "b": True}
    # First shown picked: a 1 of 2, b 2 of 2; c's lone pick would make it 4 of 5.
    assert judged.first_position_rate == 3 / 4
    assert combine_orders({"baseline_first": "tie"}) is None
    labels = [{"pair_id": p, "annotator_id": who, "preference": "candidate", "criteria_json": "{}"}
              for p in "abcd" for who in ("x", "y")]  # fmt: skip
    lengths = dict.fromkeys("abcd", (10, 5))
    m = calibrate("all", set("abcd"), labels, judged, lengths, {}, StudyConfig(), resamples=20)
    assert (m.usable, m.without_verdict, m.one_order_only) == (2, 2, 1)
