"""The sign-off report, `signoff check` and unblinding, on studies whose answers are known."""

from __future__ import annotations

import json
import re

import pytest
from conftest import pair, write_jsonl
from scipy.stats import binomtest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.proportion import proportion_confint


def make_study(
    cli,
    tmp_path,
    outcomes: dict[str, list[str]],
    strata: dict[str, str] | None = None,
    extra_pairs: list[dict] | None = None,
    config: str | None = None,
) -> None:
    """A study whose pair i is labeled with outcomes[pair_id] by annotators a0, a1, ...
    (`config`: the study config's TOML text, if not the defaults)."""
    strata = strata or {}
    rows = [
        pair(
            i,
            id=pid,
            stratum=strata.get(pid, "routine"),
            candidate_model="model-cand-7",
            baseline_model="model-base-3",
        )
        for i, pid in enumerate(outcomes)
    ] + (extra_pairs or [])
    args = ["--config", tmp_path / "c.toml"] if config else []
    if config:
        (tmp_path / "c.toml").write_text(config)
    assert cli("import", write_jsonl(tmp_path / "p.jsonl", rows), "-s", "s", *args).code == 0
    lines = ["pair_id,annotator,preference"]
    for pid, prefs in outcomes.items():
        lines += [f"{pid},a{k},{p}" for k, p in enumerate(prefs)]
    (tmp_path / "l.csv").write_text("\n".join(lines) + "\n")
    assert cli("labels", "import", tmp_path / "l.csv", "-s", "s").code == 0


def report_json(cli, resamples: int = 200) -> dict:
    r = cli("report", "-s", "s", "--format", "json", "--resamples", str(resamples))
    assert r.code == 0, r.err
    return json.loads(r.out)


def test_clear_win_signs_off_with_exact_numbers(cli, tmp_path):
    # 100 items; both annotators agree: 80 candidate, 20 baseline; plus 10 split items (ties).
    outcomes = {f"w{i:03d}": ["candidate", "candidate"] for i in range(80)}
    outcomes |= {f"l{i:03d}": ["baseline", "baseline"] for i in range(20)}
    outcomes |= {f"s{i:03d}": ["candidate", "baseline"] for i in range(10)}
    # Ties excluded, as before schema 2: 80 of 100 decisive pairs clear 60% (anytime-valid lower
    # bound 0.657). Under the default rule (ties are not wins) 80 of 110 do not yet (0.588):
    # tests/test_verdict_rules.py checks that case.
    make_study(cli, tmp_path, outcomes, config='[signoff]\nties = "exclude"\n')
    rep = report_json(cli)
    w = rep["humans"]["win_rate"]
    assert (w["items"], w["candidate"], w["baseline"], w["tie"]) == (110, 80, 20, 10)
    low, high = proportion_confint(80, 100, method="wilson")
    assert (w["low"], w["high"]) == (pytest.approx(low), pytest.approx(high))
    assert w["p_value"] == pytest.approx(binomtest(80, 100, 0.6, alternative="greater").pvalue)
    assert rep["verdict"]["decision"] == "SIGN-OFF"
    assert "80% of 100 decisive pairs" in rep["verdict"]["reason"]
    (p,) = rep["agreement"]["pairwise"]
    a = ["candidate"] * 80 + ["baseline"] * 20 + ["candidate"] * 10
    b = ["candidate"] * 80 + ["baseline"] * 20 + ["baseline"] * 10
    assert p["kappa"] == pytest.approx(cohen_kappa_score(a, b))
    assert p["agreement"] == pytest.approx(100 / 110)
    r = cli("check", "-s", "s", "--resamples", "50")
    assert r.code == 0 and r.out.startswith("SIGN-OFF: ")


def test_a_collapsing_stratum_blocks(cli, tmp_path):
    outcomes = {f"w{i:03d}": ["candidate"] for i in range(60)}
    outcomes |= {f"r{i:03d}": ["baseline"] for i in range(6)}
    outcomes |= {f"r9{i:02d}": ["candidate"] for i in range(2)}
    strata = {k: "refusal" for k in outcomes if k.startswith("r")}
    make_study(cli, tmp_path, outcomes, strata)
    rep = report_json(cli)
    assert rep["verdict"]["decision"] == "BLOCKED"
    assert (
        "stratum 'refusal' collapses: candidate preferred on 25% of 8" in rep["verdict"]["reason"]
    )
    assert rep["humans"]["worst_stratum"] == "refusal"
    r = cli("check", "-s", "s", "--resamples", "50")
    assert r.code == 1 and r.out.startswith("BLOCKED: ")


def test_clear_loss_blocks(cli, tmp_path):
    # 33 of 80 decisive = 41%: above the 40% stratum floor, but the Wilson interval
    # (0.311, 0.522) lies wholly below the 60% threshold.
    outcomes = {f"w{i:03d}": ["candidate"] for i in range(33)}
    outcomes |= {f"l{i:03d}": ["baseline"] for i in range(47)}
    make_study(cli, tmp_path, outcomes)
    rep = report_json(cli)
    assert rep["verdict"]["decision"] == "BLOCKED"
    assert "even the upper bound is below the threshold of 60%" in rep["verdict"]["reason"]


def test_straddling_interval_is_not_enough_evidence(cli, tmp_path):
    outcomes = {f"w{i:03d}": ["candidate"] for i in range(26)}
    outcomes |= {f"l{i:03d}": ["baseline"] for i in range(14)}
    make_study(cli, tmp_path, outcomes)
    rep = report_json(cli)
    assert rep["verdict"]["decision"] == "NOT ENOUGH EVIDENCE"
    more = rep["humans"]["win_rate"]["more_pairs_needed"]
    assert more and f"about {more} more pairs would decide it" in rep["verdict"]["reason"]


def test_model_names_only_after_unblinding(cli, tmp_path, store):
    outcomes = {f"w{i:03d}": ["candidate"] for i in range(40)}
    make_study(cli, tmp_path, outcomes)
    html = cli("report", "-s", "s", "--resamples", "20").out
    assert "model-cand-7" not in html and "withheld until unblinding" in html
    assert report_json(cli, 20)["appendix"]["candidate_model"] is None
    assert cli("unblind", "-s", "s").code == 0
    rep = report_json(cli, 20)
    assert rep["appendix"]["candidate_model"] == "model-cand-7"
    assert rep["appendix"]["unblinded_by"] == "tester"
    assert "model-cand-7 / model-base-3" in cli("report", "-s", "s", "--resamples", "20").out
    kinds = store.read(
        lambda cur: [
            r[0]
            for r in cur.execute("SELECT kind FROM events WHERE kind = 'study.unblind'").fetchall()
        ]
    )
    assert kinds == ["study.unblind"]


def test_html_is_self_contained_and_escapes_outputs(cli, tmp_path):
    evil = {
        "id": "evil",
        "prompt": "<b>hi</b>",
        "candidate": "<script>alert(1)</script>",
        "baseline": "<img src=x onerror=alert(2)>",
        "stratum": "routine",
    }
    outcomes = {f"w{i:03d}": ["candidate", "baseline"] for i in range(3)}
    make_study(cli, tmp_path, outcomes, extra_pairs=[evil])
    (tmp_path / "l2.csv").write_text(
        "pair_id,annotator,preference\nevil,a0,candidate\nevil,a1,baseline\n"
    )
    cli("labels", "import", tmp_path / "l2.csv", "-s", "s")
    out = tmp_path / "report.html"
    assert cli("report", "-s", "s", "--out", out, "--resamples", "20").code == 0
    html = out.read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html and "<img" not in html
    # Nothing fetched, nothing linked: no tag carries a src or href attribute.
    assert not re.search(r"<[a-z][^>]*\s(src|href)=", html)
    assert "<svg" in html


def test_judge_section_by_hand(cli, tmp_path):
    outcomes = {f"p{i}": ["candidate"] for i in range(4)} | {"p4": ["baseline"]}
    make_study(cli, tmp_path, outcomes)
    (tmp_path / "v.csv").write_text(
        "pair_id,judge,preference,presented\n"
        "p0,j,candidate,candidate_first\np0,j,candidate,baseline_first\n"  # consistent win
        "p1,j,candidate,candidate_first\np1,j,baseline,baseline_first\n"  # flips -> tie
        "p2,j,baseline,candidate_first\np2,j,baseline,baseline_first\n"  # consistent loss
        "p3,j,candidate,unknown\np4,j,baseline,unknown\n"
    )
    assert cli("judge", "import", tmp_path / "v.csv", "-s", "s").code == 0
    (j,) = report_json(cli, 20)["judges"]
    assert j["flip_rate"] == pytest.approx(1 / 3)
    # Decisive verdicts with a known order: p0 x2, p1 x2, p2 x2. First position preferred:
    # p0 candidate_first (yes), p0 baseline_first (no), p1 cf (yes), p1 bf->baseline (yes),
    # p2 cf->baseline (no), p2 bf->baseline (yes): 4 of 6.
    assert j["first_position_rate"] == pytest.approx(4 / 6)
    # Judge outcomes p0 c, p1 tie, p2 b, p3 c, p4 b vs humans c, c, c, c, b: 3 of 5 agree.
    assert j["vs_majority"]["agreement"] == pytest.approx(3 / 5)
    assert j["confusion"]["candidate"] == {"candidate": 2, "baseline": 1, "tie": 1}
    assert j["result"]["win_rate"]["candidate"] == 2


def test_agreement_per_criterion_pairwise_and_likert(cli, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[[criteria]]\nname = "tone"\ndescription = "Tone"\n'
        '[[criteria]]\nname = "clarity"\ndescription = "Clear"\n'
        '[criteria.scale]\nkind = "likert"\nmin = 1\nmax = 5\n'
    )
    rows = [pair(i, id=f"p{i:02d}") for i in range(12)]
    assert (
        cli("import", write_jsonl(tmp_path / "p.jsonl", rows), "-s", "s", "--config", cfg).code == 0
    )
    lines = ["pair_id,annotator,preference,tone,clarity.candidate,clarity.baseline"]
    for i in range(12):
        tone_b = "candidate" if i < 9 else "baseline"  # a and b agree on tone for 9 of 12
        lines.append(f"p{i:02d},a,candidate,candidate,{4 + i % 2},2")
        lines.append(f"p{i:02d},b,candidate,{tone_b},{4 + i % 2},{2 + (i % 3 == 0)}")
    (tmp_path / "l.csv").write_text("\n".join(lines) + "\n")
    assert cli("labels", "import", tmp_path / "l.csv", "-s", "s").code == 0
    by = report_json(cli, 50)["agreement"]["by_criterion"]
    assert by["tone"]["scale"] == "pairwise"
    assert by["tone"]["mtbench_agreement"]["value"] == pytest.approx(9 / 12)
    (tone_pair,) = by["tone"]["pairwise"]
    tone_a = ["candidate"] * 12
    tone_b = ["candidate"] * 9 + ["baseline"] * 3
    assert tone_pair["kappa"] == pytest.approx(cohen_kappa_score(tone_a, tone_b))
    # Likert: 24 response-units; candidate scores always agree, baseline scores differ on
    # i % 3 == 0 (4 of 12): 20 of 24 units agree.
    assert by["clarity"]["scale"] == "likert"
    assert by["clarity"]["mtbench_agreement"]["value"] == pytest.approx(20 / 24)
    (clarity_pair,) = by["clarity"]["pairwise"]
    a = [str(4 + i % 2) for i in range(12)] + ["2"] * 12
    b = [str(4 + i % 2) for i in range(12)] + [str(2 + (i % 3 == 0)) for i in range(12)]
    ka = cohen_kappa_score(
        sorted(a, key=lambda _: 0), b, weights="linear", labels=["1", "2", "3", "4", "5"]
    )
    assert clarity_pair["shared"] == 24
    assert clarity_pair["kappa"] == pytest.approx(ka)


def test_report_states_how_labels_are_aggregated(cli, tmp_path):
    make_study(cli, tmp_path, {f"w{i}": ["candidate", "baseline", "candidate"] for i in range(5)})
    for fmt in ("md", "html"):
        out = cli("report", "-s", "s", "--format", fmt, "--resamples", "10").out
        assert "reduced to one outcome by majority" in out


def test_builds_at_once_leave_the_switch_interval_as_they_found_it():
    """Reports built at once (the app's sessions) share the process's GIL switch interval: it
    stays short until the last build ends, then is what the first build found."""
    import sys

    from reviewer.report.build import _quick_handovers

    found = sys.getswitchinterval()
    first, second = _quick_handovers(), _quick_handovers()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first to start ends first
    assert sys.getswitchinterval() == min(found, 0.0005)
    second.__exit__(None, None, None)
    assert sys.getswitchinterval() == found
