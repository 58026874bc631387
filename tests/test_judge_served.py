"""A judge's pass is tied to the model that was served: `judge run --pairs all` refuses when the
provider serves a model the deciding calibration never saw (before spending, at the run's first
answer, mid-run, or through a cached answer), names both, and goes on only with an override
that is logged and stamped on the report. Through the CLI and the scripted server."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest
from conftest import DATA, pair, write_jsonl
from llm_server import Script
from streamlit.testing.v1 import AppTest
from test_calibration import judge_args, ranking, study  # noqa: F401 (study is a fixture)

from judge.providers import ProviderError, Request, Response
from reviewer.judging.served import ServedModelGuard
from reviewer.store.connection import fetch_dicts

OLD, NEW = "good-2026-01", "good-2026-02"


def count(store, sql: str) -> int:
    return store.read(lambda cur: cur.execute(sql).fetchone()[0])


def events(store, kind: str) -> list[dict]:
    rows = store.read(
        lambda cur: fetch_dicts(
            cur, "SELECT actor, payload_json FROM events WHERE kind = ? ORDER BY event_id", [kind]
        )
    )
    return [{"actor": r["actor"], **json.loads(r["payload_json"])} for r in rows]


def calibrated(cli, llm, study, served: str) -> None:  # noqa: F811
    """The agreeing judge, calibrated (development, then final) on answers from `served`."""
    llm.reset(Script(policy="rank", ranking=ranking(study, agree=True), served={"good": served}))
    assert cli("judge", "calibrate", *judge_args(llm, "good")).code == 0
    final = cli("judge", "calibrate", *judge_args(llm, "good", "--final", "--json"))
    assert final.code == 0, final.out
    result = final.json()
    assert result["gate"]["passed"]
    assert result["deciding"]["served_models"] == {served: 24}  # 12 held-out pairs x 2 orders


def test_a_new_snapshot_stops_the_run_at_its_first_answer(
    cli,
    study,  # noqa: F811
    llm,
    store,
    tmp_path,
):
    calibrated(cli, llm, study, OLD)
    llm.script.served = {"good": NEW}  # the provider moved the alias to a new snapshot
    before = llm.requests
    refused = cli("judge", "run", *judge_args(llm, "good", "--pairs", "all"))
    assert refused.code == 5
    assert f"served by '{OLD}'" in refused.err and f"served '{NEW}'" in refused.err
    assert "during this run" in refused.err and f"--model {NEW}" in refused.err
    assert llm.requests == before + 1  # its first answer is awaited before any other call
    assert count(store, "SELECT count(*) FROM verdicts") == 80  # the answer was not used
    assert events(store, "judge.served_model_changed")[-1]["served"] == NEW

    again = cli("judge", "run", *judge_args(llm, "good", "--pairs", "all"))
    assert again.code == 5 and "during this run" in again.err
    assert llm.requests == before + 2  # one call again: the provider might have gone back

    go = cli("judge", "run", *judge_args(llm, "good", "--pairs", "all", "--override", "moved"))
    assert go.code == 0, go.err
    (override,) = events(store, "gate.override")
    assert override["what"] == "served_model" and override["served"] == NEW
    assert override["reason"] == "moved" and override["actor"] == "tester"
    assert OLD in override["failed"][0] and NEW in override["failed"][0]

    report = cli("report", "-s", "cal", "--format", "json").json()
    (judge,) = report["judges"]
    assert judge["gate"]["status"] == "overridden" and judge["gate"]["override_reason"] == "moved"
    assert judge["gate"]["calibration_served_models"] == [OLD]
    assert judge["gate"]["served_models_not_calibrated"] == [NEW]
    served = judge["served_models"]
    assert served == {NEW: 176, OLD: 80}  # the calibration pairs' answers are cached
    markdown = cli("report", "-s", "cal", "--format", "md").out
    assert "calibration gate OVERRIDDEN by tester: moved" in markdown
    assert f"some verdicts were served by {NEW}, which its calibration never saw" in markdown
    served_row = (
        f"| served by (model the provider named) | {NEW}: 176 verdicts, {OLD}: 80 verdicts |"
    )
    assert served_row in markdown
    html = tmp_path / "r.html"
    assert cli("report", "-s", "cal", "--format", "html", "--out", html).code == 0
    assert '<p class="stamp">Judge good: calibration gate OVERRIDDEN' in html.read_text()


def test_an_answer_from_the_new_snapshot_elsewhere_refuses_before_spending(
    cli,
    study,  # noqa: F811
    llm,
    store,
    tmp_path,
):
    calibrated(cli, llm, study, OLD)
    # The same judge then answers on another study, where the provider serves the new snapshot.
    assert cli("import", write_jsonl(tmp_path / "p.jsonl", [pair(i) for i in range(8)]),
               "-s", "later").code == 0  # fmt: skip
    llm.script.served = {"good": NEW}
    later = [a if a != "cal" else "later" for a in judge_args(llm, "good")]
    assert cli("judge", "run", *later, "--pairs", "all", "--override", "no gate there").code == 0
    before = llm.requests
    r = cli("judge", "run", *judge_args(llm, "good", "--pairs", "all"))
    assert r.code == 5 and "in its latest answer" in r.err and f"served '{NEW}'" in r.err
    assert llm.requests == before  # nothing was sent


def test_a_change_mid_run_stops_it_and_keeps_what_the_calibrated_model_answered(
    cli,
    study,  # noqa: F811
    llm,
    store,
):
    calibrated(cli, llm, study, OLD)
    llm.script.latency = 0.02
    start = llm.requests

    def move_the_alias() -> None:
        deadline = time.monotonic() + 30
        while llm.requests < start + 10 and time.monotonic() < deadline:
            time.sleep(0.005)
        llm.script.served = {"good": NEW}

    mover = threading.Thread(target=move_the_alias)
    mover.start()
    r = cli("judge", "run", *judge_args(llm, "good", "--pairs", "all", "--concurrency", "2"))
    mover.join()
    assert r.code == 5 and "during this run" in r.err and f"served '{NEW}'" in r.err
    stored = count(store, "SELECT count(*) FROM verdicts")
    assert 80 < stored < 256  # answers from before the change are kept, the run stopped
    report = cli("report", "-s", "cal", "--format", "json").json()
    assert report["judges"][0]["served_models"] == {OLD: stored}
    assert report["judges"][0]["gate"]["status"] == "passed"


def test_a_cached_answer_from_another_snapshot_is_flagged_at_the_end(
    cli,
    study,  # noqa: F811
    llm,
    store,
    tmp_path,
):
    # Another study holds the pairs outside the calibration set; the judge answered them there
    # while the provider served the new snapshot, before it was calibrated on the old one.
    outside = {p["pair_id"] for p in study if not p["in_calibration"]}
    rows = [json.loads(line) for line in (DATA / "support_pairs.jsonl").open()]
    path = write_jsonl(tmp_path / "outside.jsonl", [p for p in rows if p["id"] in outside])
    assert cli("import", path, "-s", "prior").code == 0
    llm.reset(Script(policy="rank", ranking=ranking(study, agree=True), served={"good": NEW}))
    prior = [a if a != "cal" else "prior" for a in judge_args(llm, "good")]
    assert cli("judge", "run", *prior, "--pairs", "all", "--override", "other study").code == 0
    calibrated(cli, llm, study, OLD)  # its latest answers came from the old snapshot

    before = llm.requests
    r = cli("judge", "run", *judge_args(llm, "good", "--pairs", "all"))
    assert llm.requests == before  # every answer was in the cache
    assert r.code == 5 and f"served '{NEW}'" in r.err and "of its verdicts on this study" in r.err
    report = cli("report", "-s", "cal", "--format", "json").json()
    gate = report["judges"][0]["gate"]
    assert gate["status"] == "passed" and gate["served_models_not_calibrated"] == [NEW]
    markdown = cli("report", "-s", "cal", "--format", "md").out
    assert "> **WARNING:** Judge good: calibration gate passed" in markdown
    assert f"some verdicts were served by {NEW}" in markdown


class Scripted:
    """A provider that answers after `delay` seconds, naming `served`, and logs when."""

    name, model, mode = "fake", "m", "json_object"

    def __init__(self, served: list[str | None], delay: float = 0.05):
        self.served, self.delay, self.log = list(served), delay, []

    async def complete(self, request: Request) -> Response:
        started = time.monotonic()
        await asyncio.sleep(self.delay)
        self.log.append((started, time.monotonic()))
        return Response("{}", 1, 1, False, self.served.pop(0))

    async def close(self) -> None:
        return None


REQUEST = Request([], {}, 10, 0.0, 1.0)


def test_the_guard_waits_for_the_first_answer_then_checks_every_one():
    inner = Scripted([OLD, OLD, OLD, OLD])
    guard = ServedModelGuard(inner, {OLD}, strict=True)

    async def four():
        return await asyncio.gather(*(guard.complete(REQUEST) for _ in range(4)))

    answers = asyncio.run(four())
    assert [a.served_model for a in answers] == [OLD] * 4
    (first_start, first_end), *others = sorted(inner.log)
    assert all(start >= first_end for start, _ in others)  # nothing sent before it returned
    assert guard.changed is None


@pytest.mark.parametrize("strict", [True, False])
def test_the_guard_refuses_or_remembers_another_model(strict):
    guard = ServedModelGuard(Scripted([OLD, None, NEW]), {OLD}, strict=strict)

    async def three():
        out = [await guard.complete(REQUEST), await guard.complete(REQUEST)]
        try:
            out.append(await guard.complete(REQUEST))
        except ProviderError as exc:
            assert exc.fatal and not exc.retry and NEW in str(exc) and OLD in str(exc)
        return out

    answers = asyncio.run(three())
    assert len(answers) == (2 if strict else 3)  # a model not named (None) is not a change
    assert guard.changed == NEW


def test_the_app_refuses_the_full_run_and_names_both_models(
    cli,
    study,  # noqa: F811
    llm,
    store,
):
    calibrated(cli, llm, study, OLD)
    llm.script.served = {"good": NEW}

    def panel(db: str) -> None:
        from reviewer.app.components import judge_panel
        from reviewer.store import Store

        judge_panel.render(Store(db), "cal")

    at = AppTest.from_function(panel, args=(str(store.path),), default_timeout=30).run()
    at.text_input(key="judge_rubric_path").input(str(DATA / "support_rubric.toml"))
    at.text_input(key="judge_model").input("good")
    at.text_input(key="judge_base_url").input(llm.openai_url)
    next(b for b in at.button if b.label == "Run on all pairs").click().run()
    (error,) = at.error
    assert f"served by '{OLD}'" in error.value and f"served '{NEW}'" in error.value
    assert count(store, "SELECT count(*) FROM verdicts") == 80
