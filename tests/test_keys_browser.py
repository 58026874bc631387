"""The keyboard in real chromium: Enter submits from anywhere but the "Why?" box, also right
after a click on a criterion, the flag or a choice; in the box Enter adds a line and Ctrl+Enter
submits."""

from __future__ import annotations

import json

import pytest
from apphelp import seed_sample
from browser import browser, choose, settle, wait_for_pair

pytestmark = pytest.mark.slow


def app_labels(store):
    return store.read(
        lambda cur: cur.execute(
            "SELECT l.preference, l.both_bad, l.criteria_json, l.rationale, l.flag_reason, "
            "v.candidate_left FROM labels l JOIN views v USING (view_id) "
            "WHERE l.source = 'app' ORDER BY l.label_id"
        ).fetchall()
    )


def focused(page) -> str:
    return page.evaluate("document.activeElement.tagName")


def test_enter_and_ctrl_enter_submit_as_specified(cli, server, store):
    tokens = seed_sample(cli, "Ana")
    server.start()
    with browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 1400})
        page.goto(f"{server.url}/?token={tokens['Ana']}")
        wait_for_pair(page, 0, 128)

        # 1. Click a criterion with the mouse (it keeps the focus), then Enter: submitted, and
        # the criterion stays as clicked (it used to toggle off and submit nothing).
        choose(page, "1")
        page.locator("[data-testid=stButtonGroup] button").filter(has_text="Same").first.click()
        settle(page)
        assert focused(page) == "BUTTON"
        page.keyboard.press("Enter")
        wait_for_pair(page, 1, 128)

        # 2. Click a choice button and the flag checkbox with the mouse, then Enter.
        page.get_by_role("button", name="Tie").first.click()
        settle(page)
        page.get_by_text("Flag this pair").first.click()
        page.get_by_label("What is wrong with it?").wait_for()
        settle(page)
        page.get_by_text("Flag this pair").first.click()  # and off again: focus stays on it
        settle(page)
        page.get_by_text("Flag this pair").first.click()
        settle(page)
        page.keyboard.press("Enter")
        wait_for_pair(page, 2, 128)

        # 3. In the "Why?" box Enter adds a line and submits nothing; Ctrl+Enter submits.
        choose(page, "2")
        page.get_by_label("Why? (optional; Ctrl+Enter submits)").click()
        page.keyboard.type("first line")
        page.keyboard.press("Enter")
        page.keyboard.type("second line")
        page.wait_for_timeout(500)
        settle(page)
        assert page.get_by_text("2 of 128 labeled").count() == 1  # still on the same pair
        page.keyboard.press("Control+Enter")
        wait_for_pair(page, 3, 128)

        # 4. Focus on nothing in particular: Enter submits, as before.
        choose(page, "b")
        page.keyboard.press("Enter")
        wait_for_pair(page, 4, 128)
    rows = app_labels(store)
    assert len(rows) == 4
    first, second, third, fourth = rows
    assert first[0] == ("candidate" if first[5] else "baseline")
    assert json.loads(first[2]) == {"correctness": "same"}
    assert (second[0], second[1], second[4]) == ("tie", False, "flagged")
    assert third[0] == ("baseline" if third[5] else "candidate")
    assert third[3] == "first line\nsecond line"
    assert (fourth[0], fourth[1]) == ("tie", True)
