"""The labeling page's reads and writes after each label (issue 17): a label and the next pair in
one transaction, progress and pair from one query, and a click that reruns only what it changes,
checked against a real app server over Streamlit's own websocket protocol."""

from __future__ import annotations

import asyncio
import json

import pytest
from apphelp import seed_sample
from browser import AppServer
from wsclient import Session

from reviewer.errors import SignoffError
from reviewer.labeling import session
from reviewer.store.connection import fetch_dicts


@pytest.fixture
def tokens(cli):
    return seed_sample(cli, "Ana", "Bo")


@pytest.fixture
def seeded(cli, any_store):
    """The sample study with Ana and Bo, on each backend (DuckDB file, then PostgreSQL)."""
    return seed_sample(cli, "Ana", "Bo"), any_store


def queue_of(store, annotator: str) -> list[dict]:
    return store.read(
        lambda cur: fetch_dicts(
            cur,
            "SELECT pair_id, in_calibration FROM assignments WHERE study_id = 'demo' "
            "AND annotator_id = ? ORDER BY position",
            [annotator],
        )
    )


def latest_view_pair(store, annotator: str) -> str:
    return store.read(
        lambda cur: cur.execute(
            "SELECT pair_id FROM views WHERE annotator_id = ? ORDER BY shown_at DESC LIMIT 1",
            [annotator],
        ).fetchone()[0]
    )


def count(store, table: str, annotator: str) -> int:
    return store.read(
        lambda cur: cur.execute(
            f"SELECT count(*) FROM {table} WHERE annotator_id = ?", [annotator]
        ).fetchone()[0]
    )


def test_submit_and_next_stores_the_label_and_shows_the_next_pair_with_progress(seeded):
    tokens, store = seeded
    # Ana's queue (84 pairs, the calibration set first) read raw; the progress is counted here
    # from those rows and the pairs labeled, not by the query under test.
    queue = queue_of(store, "ana")
    calibration = sum(q["in_calibration"] for q in queue)
    assert len(queue) == 84 and 0 < calibration < 84
    who = session.login(store, tokens["Ana"])
    first = session.next_page(store, who)
    assert first.progress == session.Progress(84, 0, calibration, 0)
    assert latest_view_pair(store, "ana") == queue[0]["pair_id"]
    page, labeled = first, []
    for i in range(3):
        labeled.append(latest_view_pair(store, "ana"))
        page = session.submit_and_next(store, who, page.view.view_id, ["1", "2", "tie"][i])
        on_calibration = sum(q["in_calibration"] for q in queue if q["pair_id"] in labeled)
        assert page.progress == session.Progress(84, i + 1, calibration, on_calibration)
        assert latest_view_pair(store, "ana") == queue[i + 1]["pair_id"]
    assert labeled == [q["pair_id"] for q in queue[:3]]
    assert count(store, "labels", "ana") == 3
    assert page.progress == session.progress(store, who)


def test_a_refused_submit_and_next_stores_nothing_and_shows_nothing(cli, seeded):
    tokens, store = seeded
    who = session.login(store, tokens["Ana"])
    page = session.next_page(store, who)
    views = count(store, "views", "ana")
    assert cli("annotators", "revoke", "ana", "-s", "demo").code == 0
    with pytest.raises(SignoffError, match="no longer valid"):
        session.submit_and_next(store, who, page.view.view_id, "1")
    assert count(store, "labels", "ana") == 0
    assert count(store, "views", "ana") == views


def test_a_label_is_stored_once_per_view_in_candidate_baseline_terms(seeded):
    tokens, store = seeded
    who = session.login(store, tokens["Ana"])
    view = session.next_page(store, who).view
    left = store.read(
        lambda cur: cur.execute(
            "SELECT candidate_left FROM views WHERE view_id = ?", [view.view_id]
        ).fetchone()[0]
    )
    picked = "candidate" if left else "baseline"  # what "Response 1" was on this view
    criteria = {"correctness": "1", "helpfulness": "same", "safety": None}
    page = session.submit_and_next(store, who, view.view_id, "1", criteria, " short ", "")
    assert session.submit(store, who, view.view_id, "2") is False  # a second press: nothing
    previous = session.open_previous(store, who, page.view.view_id)
    assert session.submit(store, who, previous.view_id, "tie")  # a revision of the same pair
    rows = store.read(
        lambda cur: cur.execute(
            "SELECT preference, revision, criteria_json, rationale, view_id FROM labels "
            "WHERE annotator_id = 'ana' ORDER BY revision"
        ).fetchall()
    )
    assert rows == [
        (
            picked,
            1,
            json.dumps({"correctness": picked, "helpfulness": "same"}, sort_keys=True),
            "short",
            view.view_id,
        ),
        ("tie", 2, "{}", None, previous.view_id),
    ]
    freezes = store.read(
        lambda cur: cur.execute(
            "SELECT count(*) FROM events WHERE kind = 'study.freeze'"
        ).fetchone()[0]
    )
    assert freezes == 1


def test_a_skipped_pair_comes_after_the_rest_of_the_queue(seeded):
    tokens, store = seeded
    queue = queue_of(store, "ana")
    who = session.login(store, tokens["Ana"])
    first = session.next_page(store, who).view
    page = session.next_page(store, who, skipped=[first.view_id])
    assert latest_view_pair(store, "ana") == queue[1]["pair_id"]
    # Someone else's view id selects nothing: the queue order is kept.
    bo = session.login(store, tokens["Bo"])
    bo_view = session.next_page(store, bo).view
    session.next_page(store, who, skipped=[bo_view.view_id])
    assert latest_view_pair(store, "ana") == queue[0]["pair_id"]
    assert page.progress.done == 0


def test_a_pick_reruns_the_choices_only_and_submit_the_labeling_part(tokens, tmp_path, store):
    """Through a real `signoff app`: the frontend's own messages, as bench/app_load.py sends."""
    server = AppServer(tmp_path / "signoff.duckdb", tmp_path / "server.log").start()

    async def drive() -> tuple:
        tab = Session(server.url, tokens["Ana"])
        try:
            await tab.open()
            full = tab.page
            await tab.click("Response 2")
            pick = tab.page
            await tab.click("Submit")
            return full, pick, tab.page
        finally:
            await tab.close()

    try:
        full, pick, submitted = asyncio.run(drive())
    finally:
        server.stop()
    calibration = sum(q["in_calibration"] for q in queue_of(store, "ana"))
    assert full.progress() == f"0 of 84 labeled · calibration set 0 of {calibration} (comes first)"
    assert "heading" in full.kinds and "html" in full.kinds
    assert pick.kinds == ["button"] * 4  # the pair is not sent again
    assert "heading" not in submitted.kinds  # the title stays; the labeling part is redrawn
    assert "Saved." in submitted.texts
    assert submitted.progress().startswith("1 of 84 labeled")
    labels = store.read(
        lambda cur: fetch_dicts(
            cur,
            "SELECT preference, candidate_left FROM labels WHERE annotator_id = 'ana'",
        )
    )
    assert len(labels) == 1
    # "Response 2" is the baseline when the candidate was shown on the left.
    expected = "baseline" if labels[0]["candidate_left"] else "candidate"
    assert labels[0]["preference"] == expected
