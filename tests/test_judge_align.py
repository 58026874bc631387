"""`signoff judge align` end to end against the scripted LLM server: the examples it picks (the
rule recomputed here), development agreement before and after (recomputed with scikit-learn),
the new rubric version, the report's lines, the admin page, and that no held-out pair's text
ever reaches the provider."""

from __future__ import annotations

import json
import random
import re

import llm_server
import pytest
from conftest import pair, write_jsonl
from llm_server import FENCE, Script
from sklearn.metrics import cohen_kappa_score
from streamlit.testing.v1 import AppTest

from judge import load_rubric
from reviewer.judging.scope import calibration_parts
from reviewer.store import studies as study_sql
from reviewer.store.connection import fetch_dicts

CONFIG = """
seed = 7
[[criteria]]
name = "correctness"
description = "Right facts."
[[criteria]]
name = "tone"
description = "Polite."
[calibration]
size = 40
holdout_fraction = 0.30
[gate]
min_usable_pairs = 12
"""
FLIP = {"candidate": "baseline", "baseline": "candidate", "tie": "candidate"}
N = 60


def truth(i: int) -> str:
    return "tie" if i % 7 == 0 else "baseline" if i % 3 == 0 else "candidate"


def judge_view(i: int) -> str:
    """The judge's own taste: the experts' except on every fourth pair."""
    return FLIP[truth(i)] if i % 4 == 1 else truth(i)


def text(kind: str, i: int) -> str:
    return f"{kind} number {i:03d} of the align study."


@pytest.fixture
def study(cli, tmp_path, any_store):
    rows = [
        pair(
            i, prompt=text("Question", i), candidate=text("Candidate answer", i),
            baseline=text("Baseline answer", i), reference=text("Reference answer", i),
        )
        for i in range(1, N + 1)
    ]  # fmt: skip
    (tmp_path / "study.toml").write_text(CONFIG)
    pairs_file = write_jsonl(tmp_path / "pairs.jsonl", rows)
    assert cli("import", pairs_file, "-s", "al", "--config", tmp_path / "study.toml").code == 0
    calibration = any_store.read(
        lambda cur: [
            r["pair_id"] for r in fetch_dicts(cur, "SELECT pair_id FROM pairs WHERE in_calibration")
        ]
    )
    labels = {}
    lines = ["pair_id,annotator,preference,correctness,tone,rationale"]
    for pid in sorted(calibration):
        i = int(pid[1:])
        labels[pid] = []
        for who in ("ana", "bo"):
            pref = FLIP[truth(i)] if who == "bo" and i % 5 == 0 else truth(i)
            same = {"tie": "same"}.get(pref, pref)
            lines.append(f"{pid},{who},{pref},{same},same,{who} says {pref} on {pid}")
            labels[pid].append(pref)
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    assert cli("labels", "import", tmp_path / "labels.csv", "-s", "al").code == 0
    return labels


@pytest.fixture
def taught_judge(llm, monkeypatch):
    """The scripted server as a judge with its own taste (`judge_view`) that follows a few-shot
    example about the very pair it is asked about: the judge that alignment should fix."""
    original = llm_server._judge

    def judge(body: dict, script: Script) -> tuple[str, dict]:
        user = body["messages"][-1]["content"]
        fenced = [(m["label"], m["body"]) for m in FENCE.finditer(user)]
        answers = [json.loads(a) for a in re.findall(r"^Expected answer: (.*)$", user, re.M)]
        shown = [b for label, b in fenced[3 * len(answers) :] if label != "REFERENCE ANSWER"]
        prompt, first, second = shown
        i = int(re.search(r"number (\d{3})", prompt).group(1))
        side = {"candidate": text("Candidate answer", i), "baseline": text("Baseline answer", i)}
        liked = side.get(judge_view(i))
        for k, answer in enumerate(answers):
            p, f, s = (b for _, b in fenced[3 * k : 3 * k + 3])
            if p == prompt:
                liked = {"first": f, "second": s}.get(answer["overall"])
        ranking = {first: float(first == liked), second: float(second == liked)}
        return original(body, Script(policy="rank", ranking=ranking))

    monkeypatch.setattr(llm_server, "_judge", judge)
    return llm


def parts(store) -> tuple[set[str], set[str]]:
    def work(cur):
        return calibration_parts(cur, "al", study_sql.get_study(cur, "al").config)

    return store.read(work)


def judge_args(llm, rubric, *extra) -> list[str]:
    return [
        "--study", "al", "--rubric", str(rubric), "--provider", "openai-compatible",
        "--base-url", llm.openai_url, "--model", "m", *extra,
    ]  # fmt: skip


def expected(labels: dict[str, list[str]], development: set[str], fixed: set[str]) -> dict:
    """Development agreement recomputed from the labels and the judge's taste, with the pairs in
    `fixed` judged as the experts judged them."""

    def judged(pid: str) -> str:
        i = int(pid[1:])
        return truth(i) if pid in fixed else judge_view(i)

    dev = sorted(development)
    majority = {p: labels[p][0] for p in dev if len(set(labels[p])) == 1}
    decisive = [p for p, v in majority.items() if v != "tie"]
    pairs = [(judged(p), h) for p in dev for h in labels[p]]
    return {
        "decisive": sum(judged(p) == majority[p] for p in decisive) / len(decisive),
        "kappa": cohen_kappa_score([j for j, _ in pairs], [h for _, h in pairs]),
        "agreement": sum(j == h for j, h in pairs) / len(pairs),
    }


def test_align_picks_the_rule_s_examples_and_improves_development_agreement(
    cli, study, taught_judge, any_store, rubric_file
):
    development, held_out = parts(any_store)
    assert (len(development), len(held_out)) == (28, 12)
    # The rule, by hand: both experts gave the same preference and the judge did not.
    pool = sorted(
        p for p in development
        if len(set(study[p])) == 1 and judge_view(int(p[1:])) != study[p][0]
    )  # fmt: skip
    assert len(pool) > 3
    chosen = random.Random(7).sample(pool, 3)

    r = cli("judge", "align", *judge_args(taught_judge, rubric_file, "--max-examples", "3"),
            "--json")  # fmt: skip
    assert r.code == 0, r.err
    result = r.json()
    assert result["examples"] == chosen and result["eligible"] == len(pool)
    assert (result["seed"], result["max_examples"], result["min_experts"]) == (7, 3, 2)
    for key, part in (("before", set()), ("after", set(chosen))):
        want = expected(study, development, part)
        got = result[key]
        assert got["decisive_agreement"]["value"] == pytest.approx(want["decisive"])
        assert got["vs_humans_with_ties"]["kappa"]["value"] == pytest.approx(want["kappa"])
        assert got["vs_humans_with_ties"]["agreement"]["value"] == pytest.approx(want["agreement"])
    assert (
        result["after"]["decisive_agreement"]["value"]
        > result["before"]["decisive_agreement"]["value"]
    )

    # The new rubric: beside the old one, named by its hash, the old content plus the examples.
    path = rubric_file.with_name(f"rubric.aligned-{result['rubric_hash'][:12]}.yaml")
    assert result["rubric_path"] == str(path)
    new, old = load_rubric(path), load_rubric(rubric_file)
    assert new.content_hash() == result["rubric_hash"] != old.content_hash()
    assert new.criteria == old.criteria and len(new.examples) == 3
    for k, (pid, example) in enumerate(zip(chosen, new.examples, strict=True)):
        i = int(pid[1:])
        candidate_first = k % 2 == 0
        assert example.prompt == text("Question", i)
        assert example.first == text(
            "Candidate answer" if candidate_first else "Baseline answer", i
        )
        answer = json.loads(example.verdict)
        agreed = study[pid][0]
        want = {"tie": "tie", "candidate": "first", "baseline": "second"}[agreed]
        if not candidate_first and agreed != "tie":
            want = {"first": "second", "second": "first"}[want]
        assert answer["overall"] == want
        assert answer["rationale"] == f"ana says {agreed} on {pid} / bo says {agreed} on {pid}"
        assert {c["criterion"]: c["better"] for c in answer["criteria"]}["tone"] == "same"
    assert result["aligned_judge_id"] != result["base_judge_id"]
    assert len(taught_judge.bodies) == 4 * 28  # two judges, 28 pairs, both orders

    _no_held_out_text_was_sent(taught_judge.bodies, held_out, development)

    report = cli("report", "-s", "al", "--format", "json").json()
    by_id = {j["judge_id"]: j for j in report["judges"]}
    aligned = by_id[result["aligned_judge_id"]]["rubric"]
    assert aligned == {
        "hash": result["rubric_hash"], "examples": 3,
        "aligned_from": result["base_judge_id"], "aligned_examples": 3,
    }  # fmt: skip
    assert by_id[result["base_judge_id"]]["rubric"]["aligned_from"] is None
    markdown = cli("report", "-s", "al", "--format", "md").out
    assert (
        f"| rubric version | {result['rubric_hash'][:12]}, aligned with the experts from judge "
        f"{result['base_judge_id']}: 3 few-shot examples from development pairs |" in markdown
    )


def _no_held_out_text_was_sent(bodies: list[dict], held_out: set[str], development: set[str]):
    """Every request the provider received, searched for every held-out pair's prompt, outputs
    and reference (the texts are unique to their pair); the development pairs' are there."""
    sent = "\n".join(m["content"] for body in bodies for m in body["messages"])
    kinds = ("Question", "Candidate answer", "Baseline answer", "Reference answer")
    for pid in held_out:
        for kind in kinds:
            assert text(kind, int(pid[1:])) not in sent
    for pid in development:
        assert all(text(kind, int(pid[1:])) in sent for kind in kinds)


def test_align_is_refused_without_a_held_out_part(cli, tmp_path, llm, rubric_file):
    (tmp_path / "c.toml").write_text(
        "[calibration]\nsize = 10\nholdout_fraction = 0.0\n[gate]\nmin_usable_pairs = 10\n"
    )
    rows = [pair(i) for i in range(1, 21)]
    assert cli("import", write_jsonl(tmp_path / "p.jsonl", rows), "-s", "al", "--config",
               tmp_path / "c.toml").code == 0  # fmt: skip
    r = cli("judge", "align", *judge_args(llm, rubric_file))
    assert r.code != 0 and "holds no calibration pairs out" in r.err
    assert llm.requests == 0


def test_nothing_to_learn_writes_no_rubric(cli, study, llm, rubric_file, tmp_path):
    """A judge that agrees with the experts wherever they agreed: no example, no new judge."""
    ranking = {}
    for i in range(1, N + 1):
        ranking[text("Candidate answer", i)] = {"candidate": 1.0, "baseline": 0.0}.get(
            truth(i), 0.5
        )
        ranking[text("Baseline answer", i)] = {"baseline": 1.0, "candidate": 0.0}.get(truth(i), 0.5)
    llm.reset(Script(policy="rank", ranking=ranking))
    r = cli("judge", "align", *judge_args(llm, rubric_file))
    assert r.code == 0, r.err
    assert "0 made into few-shot examples" in r.out and "nothing to learn from" in r.out
    assert sorted(p.name for p in tmp_path.glob("rubric*")) == ["rubric.toml"]


def test_a_judge_whose_calls_fail_is_not_called_aligned(cli, study, llm, rubric_file, tmp_path):
    """No verdicts is not "nothing to learn": align fails (exit 6), saying why, and writes
    no rubric."""
    llm.reset(Script(faults=["401"] * 1000))
    r = cli("judge", "align", *judge_args(llm, rubric_file))
    assert r.code == 6, (r.code, r.out, r.err)
    assert "gave only 0 of" in r.err and "development verdicts" in r.err
    assert "nothing to learn" not in r.out and "Traceback" not in r.err
    assert sorted(p.name for p in tmp_path.glob("rubric*")) == ["rubric.toml"]


def test_the_admin_page_aligns_and_shows_before_and_after(
    study, taught_judge, any_db, any_store, rubric_file
):
    def panel(db: str) -> None:
        from reviewer.app.components import align_panel
        from reviewer.store import Store

        align_panel.render(Store(db), "al")

    at = AppTest.from_function(panel, args=(any_db,), default_timeout=60).run()
    at.text_input(key="align_rubric_path").input(str(rubric_file))
    at.text_input(key="align_model").input("m")
    at.text_input(key="align_base_url").input(taught_judge.openai_url)
    at.number_input(key="align_max").set_value(3)
    label = "Align with the experts (development pairs)"
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception and not at.error
    assert "Aligned: 3 few-shot examples" in at.success[0].value
    table = at.dataframe[0].value.set_index("measure")
    development, _ = parts(any_store)
    before, after = expected(study, development, set()), None
    pool = sorted(
        p for p in development
        if len(set(study[p])) == 1 and judge_view(int(p[1:])) != study[p][0]
    )  # fmt: skip
    after = expected(study, development, set(random.Random(7).sample(pool, 3)))
    row = table.loc["majority, decisive pairs"]
    assert row["before"] == pytest.approx(before["decisive"])
    assert row["after"] == pytest.approx(after["decisive"])
    assert table.loc["kappa with human labels (ties)", "after"] == pytest.approx(after["kappa"])
