"""Judge calibration and the gate, end to end on the sample study: simulated experts, the
scripted server as a judge that agrees with them and one that does not."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from conftest import DATA
from llm_server import FENCE, Script
from sklearn.metrics import cohen_kappa_score
from streamlit.testing.v1 import AppTest

from reviewer.judging.scope import calibration_parts, prompt_text
from reviewer.store import studies as study_sql
from reviewer.store.connection import fetch_dicts

CONFIG = """
seed = 7
[[criteria]]
name = "correctness"
description = "Right facts."
[[criteria]]
name = "format"
description = "Fits a support chat."
[calibration]
size = 40
holdout_fraction = 0.30
[gate]
min_majority_agreement = 0.80
agreement_margin = 0.10
kappa_lower_bound_floor = 0.20
position_consistency_floor = 0.80
min_usable_pairs = 12
criterion_agreement_floor = { format = 0.9 }
"""


def rank(text: str) -> float:
    """How much the experts like a response: fixed per text (the sample reuses some texts)."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 16**8


def expert_view(pair: dict) -> str:
    c, b = rank(pair["candidate"]), rank(pair["baseline"])
    return "candidate" if c > b else "baseline" if b > c else "tie"


@pytest.fixture
def study(cli, tmp_path, store):
    config = tmp_path / "study.toml"
    config.write_text(CONFIG)
    assert cli("import", DATA / "support_pairs.jsonl", "-s", "cal", "--config", config).code == 0
    pairs = store.read(
        lambda cur: fetch_dicts(
            cur,
            "SELECT pair_id, prompt_json, candidate, baseline, in_calibration FROM pairs "
            "ORDER BY pair_id",
        )
    )
    rows = ["pair_id,annotator,preference,correctness,format"]
    for k, p in enumerate(pairs):
        p["truth"] = expert_view(p)
        if not p["in_calibration"]:
            continue
        for who in ("ana", "bo"):
            pref = p["truth"]
            if who == "bo" and k % 13 == 0:  # the experts disagree now and then
                pref = {"candidate": "baseline", "baseline": "candidate", "tie": "candidate"}[pref]
            same = {"tie": "same"}.get(pref, pref)
            # On format the experts prefer the other side: the judge will not follow them.
            fmt = {"candidate": "baseline", "baseline": "candidate", "tie": "same"}[pref]
            rows.append(f"{p['pair_id']},{who},{pref},{same},{fmt}")
            p.setdefault("labels", []).append(pref)
    labels = tmp_path / "labels.csv"
    labels.write_text("\n".join(rows) + "\n")
    assert cli("labels", "import", labels, "-s", "cal").code == 0
    return pairs


def ranking(pairs, agree: bool) -> dict[str, float]:
    """The judge's taste: the experts' (agree) or its opposite."""
    sign = 1 if agree else -1
    return {t: sign * rank(t) for p in pairs for t in (p["candidate"], p["baseline"])}


def judge_args(llm, model: str, *extra: str) -> list[str]:
    rubric = DATA / "support_rubric.toml"
    return [
        "--study", "cal", "--rubric", str(rubric), "--provider", "openai-compatible",
        "--base-url", llm.openai_url, "--model", model, *extra,
    ]  # fmt: skip


def prompt_of(body: dict) -> str:
    user = body["messages"][-1]["content"]
    return next(m["body"] for m in FENCE.finditer(user) if m["label"] == "PROMPT")


def held_out_ids(store) -> set[str]:
    def work(cur):
        study = study_sql.get_study(cur, "cal")
        return calibration_parts(cur, "cal", study.config)

    development, held_out = store.read(work)
    assert len(development) == 28 and len(held_out) == 12
    return held_out


def test_an_agreeing_judge_passes_the_gate_and_scores_the_full_set(cli, study, llm, store):
    llm.reset(Script(policy="rank", ranking=ranking(study, agree=True)))
    held_out = held_out_ids(store)
    prompts = {p["pair_id"]: prompt_text(p["prompt_json"]) for p in study}

    r = cli("judge", "calibrate", *judge_args(llm, "good"))
    assert r.code == 0, r.err
    assert "gate: not decided yet" in r.out and "development part: 28 pairs, 28 usable" in r.out
    assert "each verdict on its own (LLMBar, JudgeBench, AlpacaEval): agreement with the " in r.out
    assert "both orders agree on 1.00 [0.88, 1.00] of 28 pairs" in r.out
    assert "length baseline, 'the longer response wins' (candidate longer on " in r.out
    assert "served by: good (56 verdicts)" in r.out
    shown = {prompt_of(body) for body in llm.bodies}
    judged = {i for i, text in prompts.items() if text in shown}
    assert len(judged) == 28 and not judged & held_out  # the held-out part is never shown

    refused = cli("judge", "run", *judge_args(llm, "good", "--pairs", "all"))
    assert refused.code == 5 and "has no calibration on study 'cal'" in refused.err

    final = cli("judge", "calibrate", *judge_args(llm, "good", "--final", "--json"))
    assert final.code == 0, json.dumps(final.json()["gate"], indent=1)
    result = final.json()
    assert result["gate"]["passed"] and result["gate"]["part"] == "held-out"
    deciding = result["deciding"]
    assert deciding["usable"] == 12 and deciding["decisive_agreement"]["value"] == 1.0
    # Judge vs each human label, recomputed with scikit-learn on the expanded label pairs.
    by_id = {p["pair_id"]: p for p in study}
    pairs = [(by_id[i]["truth"], h) for i in sorted(held_out) for h in by_id[i]["labels"]]
    kappa = cohen_kappa_score([j for j, _ in pairs], [h for _, h in pairs])
    assert deciding["vs_humans_with_ties"]["kappa"]["value"] == pytest.approx(kappa)
    agreement = sum(j == h for j, h in pairs) / len(pairs)
    assert deciding["vs_humans_with_ties"]["agreement"]["value"] == pytest.approx(agreement)
    assert deciding["vs_majority_without_ties"]["agreement"]["value"] == 1.0
    assert deciding["flip_rate"] == 0 and deciding["without_verdict"] == 0
    assert result["gate"]["human_only_criteria"] == ["format"]
    assert deciding["by_criterion"]["correctness"]["value"] == 1.0
    assert deciding["by_criterion"]["format"]["value"] == 0.0
    _second_gate_measures_by_hand(deciding, [by_id[i] for i in sorted(held_out)])

    assert cli("judge", "run", *judge_args(llm, "good", "--pairs", "all")).code == 0
    report = cli("report", "-s", "cal", "--format", "json").json()
    (judge,) = report["judges"]
    assert judge["gate"]["status"] == "passed"
    assert judge["result"]["win_rate"]["items"] == 128
    assert set(judge["result"]["by_criterion"]) == {"correctness"}  # format stays human-only
    bc = judge["bias_corrected"]
    assert (bc["labeled"], bc["unlabeled"]) == (40, 88)
    # The field's conventions beside MT-Bench's, on the 40 labeled pairs (consistency: all 128).
    decided = [p for p in study if p["in_calibration"] and len(set(p["labels"])) == 1]
    decisive = [p for p in decided if p["labels"][0] != "tie"]
    assert judge["per_verdict_agreement"]["value"] == 1.0
    assert judge["per_verdict_agreement"]["n"] == 2 * len(decisive)
    assert judge["positional_consistency"] == {"value": 1.0, **judge["positional_consistency"]}
    assert judge["positional_consistency"]["n"] == 128
    assert judge["length_baseline"]["correlation"]["n"] == 40
    assert judge["served_models"] == {"good": 256}
    markdown = cli("report", "-s", "cal", "--format", "md").out
    for row in (
        "| agreement with human majority, each order's verdict counted (n = verdicts) | 1.00 ",
        "| positional consistency (both orders agree; n = items) | 1.00 ",
        "| length baseline: 'the longer response wins', same items | agreement with human ",
        "| served by (model the provider named) | good: 256 verdicts |",
    ):
        assert row in markdown
    assert bc["low"] <= bc["value"] <= bc["high"]
    assert bc["high"] - bc["low"] < bc["human_only_high"] - bc["human_only_low"]


def _second_gate_measures_by_hand(deciding: dict, pairs: list[dict]) -> None:
    """Per-verdict agreement, positional consistency, the correlation the gate tests and the
    length baseline, recomputed from the pairs and labels."""
    score = {"candidate": 1.0, "tie": 0.5, "baseline": 0.0}
    decided = [p for p in pairs if len(set(p["labels"])) == 1 and p["labels"][0] != "tie"]
    per = deciding["per_verdict_agreement"]
    assert (per["value"], per["n"]) == (1.0, 2 * len(decided))  # it matches them in both orders
    assert deciding["positional_consistency"]["value"] == 1.0
    assert deciding["positional_consistency"]["n"] == len(pairs)
    judge = [score[p["truth"]] for p in pairs]
    humans = [np.mean([score[v] for v in p["labels"]]) for p in pairs]
    assert deciding["correlation"]["value"] == pytest.approx(np.corrcoef(judge, humans)[0, 1])
    assert deciding["chance_p_value"] <= 0.05

    def longer(p: dict) -> str:
        c, b = len(p["candidate"]), len(p["baseline"])
        return "candidate" if c > b else "baseline" if b > c else "tie"

    length = deciding["length_baseline"]
    hits = sum(longer(p) == p["labels"][0] for p in decided)
    assert length["decisive_agreement"]["value"] == pytest.approx(hits / len(decided))
    label_hits = [longer(p) == v for p in pairs for v in p["labels"]]
    assert length["vs_humans_with_ties"]["value"] == pytest.approx(np.mean(label_hits))
    rule = [score[longer(p)] for p in pairs]
    assert length["correlation"]["value"] == pytest.approx(np.corrcoef(rule, humans)[0, 1])
    assert length["candidate_longer"] == sum(longer(p) == "candidate" for p in pairs)
    assert deciding["served_models"] == {"good": 2 * len(pairs)}


def test_a_disagreeing_judge_is_refused_with_the_reason_and_an_override_is_logged(
    cli, study, llm, store, tmp_path
):
    llm.reset(Script(policy="rank", ranking=ranking(study, agree=False)))
    final = cli("judge", "calibrate", *judge_args(llm, "bad", "--final"))
    assert final.code == 5
    assert "gate (held-out pairs): FAILED" in final.out
    assert (
        "FAIL agreement with the human majority on decisive pairs = 0.000, needs >= 0.800 "
        "(short by 0.800)" in final.out
    )
    refused = cli("judge", "run", *judge_args(llm, "bad", "--pairs", "all"))
    assert refused.code == 5
    assert "failed the gate on the held-out calibration pairs" in refused.err
    assert "short by 0.800" in refused.err
    n_before = store.read(lambda cur: cur.execute("SELECT count(*) FROM verdicts").fetchone()[0])
    assert n_before == 80  # the calibration set only: nothing scored beyond it

    r = cli("judge", "run", *judge_args(llm, "bad", "--pairs", "all", "--override", "deadline"))
    assert r.code == 0, r.err
    events = store.read(
        lambda cur: fetch_dicts(
            cur, "SELECT actor, payload_json FROM events WHERE kind = 'gate.override'"
        )
    )
    assert len(events) == 1 and events[0]["actor"] == "tester"
    payload = json.loads(events[0]["payload_json"])
    assert payload["reason"] == "deadline" and any("short by 0.800" in f for f in payload["failed"])
    html = tmp_path / "r.html"
    assert cli("report", "-s", "cal", "--format", "html", "--out", html).code == 0
    assert '<p class="stamp">Judge bad: calibration gate OVERRIDDEN by tester: deadline' in (
        html.read_text()
    )
    report = cli("report", "-s", "cal", "--format", "json").json()
    assert report["judges"][0]["gate"]["status"] == "overridden"


def test_the_gate_cannot_change_after_the_first_calibration(cli, tmp_path, llm):
    config = tmp_path / "study.toml"
    config.write_text(CONFIG)
    assert cli("import", DATA / "support_pairs.jsonl", "-s", "g", "--config", config).code == 0
    args = [a if a != "cal" else "g" for a in judge_args(llm, "m")]
    assert cli("judge", "calibrate", *args).code == 0  # no labels yet: nothing usable
    config.write_text(
        CONFIG.replace("min_majority_agreement = 0.80", "min_majority_agreement = 0.5")
    )
    r = cli("import", DATA / "support_pairs.jsonl", "-s", "g", "--config", config)
    assert r.code == 2 and "frozen" in r.err


def test_the_app_panel_shows_the_judge_and_the_length_baseline_side_by_side(cli, study, llm, store):
    llm.reset(Script(policy="rank", ranking=ranking(study, agree=True)))
    assert cli("judge", "calibrate", *judge_args(llm, "good", "--final")).code == 0

    def panel(db: str) -> None:
        from reviewer.app.components import calibration_panel
        from reviewer.store import Store

        calibration_panel.render(Store(db), "cal")

    at = AppTest.from_function(panel, args=(str(store.path),), default_timeout=30).run()
    assert not at.exception
    versions = next(d.value for d in at.dataframe if "part" in d.value.columns)
    held = versions[versions["part"] == "held-out"].iloc[0]
    assert held["per verdict"] == 1.0 and held["both orders agree"] == 1.0
    assert held["served by"] == "good" and held["gate"] == "passed"
    assert held["chance p"] <= 0.05 and held["r vs humans"] == pytest.approx(1.0)
    measures = [d.value for d in at.dataframe if "measure" in d.value.columns]
    names = {m for table in measures for m in table["measure"]}
    assert {"each order's verdict on its own (n = verdicts)", "both orders agree",
            "'longer wins': correlation (r)"} <= names  # fmt: skip
