"""A link revoked while its page is open, in a real browser: the next press stores nothing and
the page says why (slow: starts a real app server and Chromium)."""

from __future__ import annotations

import pytest
from apphelp import seed_sample
from browser import browser, choose, wait_for_pair, wait_for_text

pytestmark = pytest.mark.slow


def labels_of(store, annotator: str) -> int:
    return store.read(
        lambda cur: cur.execute(
            "SELECT count(*) FROM labels WHERE annotator_id = ?", [annotator]
        ).fetchone()[0]
    )


def test_a_link_revoked_while_the_page_is_open_stores_nothing(cli, server, store):
    tokens = seed_sample(cli, "Ana", "Bo")
    server.start()
    with browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{server.url}/?token={tokens['Ana']}")
        wait_for_pair(page, 0, 84)
        choose(page, "1")
        page.keyboard.press("Enter")
        wait_for_pair(page, 1, 84)  # a label before: stored
        assert labels_of(store, "ana") == 1
        choose(page, "2")
        r = cli("annotators", "revoke", "ana", "-s", "demo")
        assert r.code == 0, r.err
        page.keyboard.press("Enter")
        wait_for_text(page, "Not saved: this link is no longer valid")
        assert "nothing was saved" in page.content()
        assert page.get_by_text("this link is not valid").count() >= 1
    assert labels_of(store, "ana") == 1
