"""The admin page's batch option for "Run on all pairs": it submits and returns without waiting,
the study's batches are listed from the database (a new session sees them), and pressing again
collects the batches that ended, sending nothing twice."""

from __future__ import annotations

import pytest
from apphelp import MAIN, button, seed_sample, texts
from conftest import DATA
from llm_batch_server import BatchScript
from streamlit.testing.v1 import AppTest

PAIRS = 128  # the sample study; judged in both orders


@pytest.fixture
def admin(cli, monkeypatch, rubric_file):
    seed_sample(cli, "Ana")
    monkeypatch.setenv("SIGNOFF_ADMIN_SECRET", "s3cret")
    rubric_file.write_text((DATA / "support_rubric.toml").read_text())
    return rubric_file


def admin_page() -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=60)
    at.query_params["admin"] = "s3cret"
    return at.run()


def run_all_as_batch(at: AppTest, rubric, llm) -> AppTest:
    at.text_input(key="judge_rubric_path").input(str(rubric))
    at.text_input(key="judge_model").input("m")
    at.text_input(key="judge_base_url").input(llm.openai_url)
    at.text_input(key="judge_override").input("testing the batch option")
    at.checkbox(key="judge_batch").check()
    return button(at, "Run on all pairs").click().run()


def batch_table(at: AppTest):
    return next(d.value for d in at.dataframe if "batch_id" in d.value.columns)


def test_the_batch_option_submits_returns_and_collects_on_the_next_press(admin, llm, store):
    llm.batch.script = BatchScript(polls=1)  # "in progress" at the first check, then ended
    at = run_all_as_batch(admin_page(), admin, llm)
    assert not at.exception
    assert f"0/{2 * PAIRS} verdicts stored for m. 1 batches still running" in texts(at)
    ((batch_id, batch),) = llm.batch.batches.items()
    # Every (pair, order) once; the sample's few identical pairs share their calls.
    sent = len(batch["requests"])
    assert 0.9 * 2 * PAIRS < sent == len(set(llm.batch.submitted)) and llm.batch.paid == []
    assert llm.batch.status_checks[batch_id] == 1  # checked once, not waited for
    table = batch_table(at)
    assert list(table["batch_id"]) == [batch_id] and list(table["status"]) == ["submitted"]
    # A new session on the same database (a refresh) lists the open batch.
    fresh = admin_page()
    assert list(batch_table(fresh)["status"]) == ["submitted"]
    assert "1 still open at the provider" in texts(fresh)
    # Pressing again collects it: no new batch, every verdict in, each request paid once.
    again = run_all_as_batch(fresh, admin, llm)
    assert not again.exception
    assert f"{2 * PAIRS}/{2 * PAIRS} verdicts stored for m." in texts(again)
    assert len(llm.batch.batches) == 1
    assert len(llm.batch.paid) == len(set(llm.batch.paid)) == sent
    table = batch_table(again)
    assert list(table["status"]) == ["completed"] and list(table["answered"]) == [sent]
    n = store.read(lambda cur: cur.execute("SELECT count(*) FROM verdicts").fetchone()[0])
    assert n == 2 * PAIRS and llm.requests == 0
