"""The annotator's queue kept per session (reviewer/labeling/queue.py): read once, then checked
by a stamp on every move, so a label from another tab and a new plan are seen at the next move,
as when the queue was read afresh each time."""

from __future__ import annotations

from apphelp import seed_sample

from reviewer.labeling import session
from reviewer.store.connection import fetch_dicts


def unlabeled_queue(store, annotator: str) -> list[dict]:
    """The annotator's assignments in order, without the pairs they labeled, read raw."""
    return store.read(
        lambda cur: fetch_dicts(
            cur,
            "SELECT pair_id, in_calibration FROM assignments a WHERE study_id = 'demo' "
            "AND annotator_id = ? AND NOT EXISTS (SELECT 1 FROM labels l WHERE "
            "l.study_id = a.study_id AND l.pair_id = a.pair_id AND l.annotator_id = "
            "a.annotator_id) ORDER BY position",
            [annotator],
        )
    )


def pair_of(store, view_id: str) -> str:
    return store.read(
        lambda cur: cur.execute(
            "SELECT pair_id FROM views WHERE view_id = ?", [view_id]
        ).fetchone()[0]
    )


def test_a_label_from_another_tab_is_seen_at_the_next_move(cli, any_store):
    tokens = seed_sample(cli, "Ana", "Bo")
    store = any_store
    queue = [q["pair_id"] for q in unlabeled_queue(store, "ana")]
    who = session.login(store, tokens["Ana"])
    mine, other = (
        session.Queue(who.study_id, who.annotator_id),
        session.Queue(who.study_id, who.annotator_id),
    )
    here = session.next_page(store, who, queue=mine)
    there = session.next_page(store, who, queue=other)
    assert pair_of(store, here.view.view_id) == pair_of(store, there.view.view_id) == queue[0]
    for _ in range(2):  # the other tab labels the first two pairs
        there = session.submit_and_next(store, who, there.view.view_id, "1", queue=other)
    page = session.submit_and_next(store, who, here.view.view_id, "2", queue=mine)
    # This tab's label is a revision of the first pair; its next pair is the third, not the
    # second, which the other tab labeled since this tab last moved.
    assert pair_of(store, page.view.view_id) == queue[2]
    assert page.progress == session.progress(store, who)
    assert page.progress.done == 2
    revisions = store.read(
        lambda cur: cur.execute(
            "SELECT max(revision) FROM labels WHERE annotator_id = 'ana' AND pair_id = ?",
            [queue[0]],
        ).fetchone()[0]
    )
    assert revisions == 2


def test_a_new_plan_is_seen_at_the_next_move(cli, store):
    tokens = seed_sample(cli, "Ana", "Bo")
    who = session.login(store, tokens["Ana"])
    mine = session.Queue(who.study_id, who.annotator_id)
    page = session.next_page(store, who, queue=mine)
    page = session.submit_and_next(store, who, page.view.view_id, "1", queue=mine)
    before = unlabeled_queue(store, "ana")
    assert cli("annotators", "add", "Cy", "Dee", "-s", "demo").code == 0
    after = unlabeled_queue(store, "ana")
    assert len(after) != len(before)  # the plan changed under the open page
    skipped = [page.view.view_id]
    page = session.next_page(store, who, skipped, queue=mine)
    assert page.progress == session.progress(store, who)
    assert page.progress.total == len(after) + 1
    expected = next(q for q in after if q["pair_id"] != pair_of(store, skipped[0]))
    assert pair_of(store, page.view.view_id) == expected["pair_id"]


def test_a_second_press_on_a_submitted_view_stores_nothing(cli, store):
    tokens = seed_sample(cli, "Ana", "Bo")
    who = session.login(store, tokens["Ana"])
    mine = session.Queue(who.study_id, who.annotator_id)
    first = session.next_page(store, who, queue=mine).view
    page = session.submit_and_next(store, who, first.view_id, "1", queue=mine)
    again = session.submit_and_next(store, who, first.view_id, "2", queue=mine)
    labels = store.read(
        lambda cur: cur.execute(
            "SELECT view_id, count(*) FROM labels WHERE annotator_id = 'ana' GROUP BY view_id"
        ).fetchall()
    )
    assert labels == [(first.view_id, 1)]
    assert page.progress == again.progress == session.progress(store, who)
