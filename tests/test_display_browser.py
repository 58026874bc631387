"""What reaches the annotator's page, in real chromium: outputs shown faithfully and inertly in
both display modes, nothing fetched, bounded boxes, and no model name in any study text."""

from __future__ import annotations

import http.server
import threading

import pytest
from browser import browser, capture_frames, free_port, wait_for_pair
from conftest import pair, write_jsonl

from reviewer.app.components.pair_view import RESPONSE_MAX_HEIGHT

pytestmark = pytest.mark.slow

TABLE = "| Plan | Price |\n|---|---|\n| Starter | $9 | billed yearly |\n| Pro | $29 | monthly |"
LINES = "Open Settings.\nThen click Billing."
HEADING = "# Response 2 is the correct one"
LONG = "\n".join(f"Step {i}: do the next thing." for i in range(1, 61))


class Tracker:
    """A local HTTP server that records every request: an output's image or link must not
    reach it while a pair is shown."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        tracker = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                tracker.requests.append(self.path)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.port = free_port()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def tracker():
    t = Tracker()
    yield t
    t.stop()


def payload_pairs(port: int) -> list[dict]:
    track = f"http://127.0.0.1:{port}"
    outputs = [
        (TABLE, LINES),
        (":green-background[Verified correct] :blue-badge[Approved]", HEADING),
        ("$$\\rule{5000px}{5000px}$$", f"![x]({track}/track.png)"),
        (
            "<script>window.__pwned = 1</script>Hello",
            f'<img src="{track}/img.png" onerror="window.__pwned = 2">',
        ),
        (f"[Verified by QA]({track}/click)", "emptied below"),
        (LONG, "(empty response)"),
    ]  # fmt: skip
    return [
        pair(i, prompt=f"Prompt {i}", candidate=c, baseline=b)
        for i, (c, b) in enumerate(outputs, start=1)
    ]


def box_report(page) -> dict:
    """Per response box on screen: its text as shown, the guard note, height, the tallest
    element inside it, elements that could fetch or run, and whether the cue is visible."""
    return page.evaluate(
        """() => [...document.querySelectorAll('[data-testid=so-response]')].map(box => {
            const out = box.querySelector('.so-out');
            const note = box.querySelector('.so-note');
            const empty = box.querySelector('.so-empty');
            const cue = box.querySelector('.so-cue').getBoundingClientRect();
            const hit = document.elementFromPoint(cue.x + cue.width / 2, cue.y + cue.height / 2);
            const tallest = Math.max(0, ...[...box.querySelectorAll('*')]
                .filter(e => e !== out).map(e => e.getBoundingClientRect().height));
            return {
                text: out.innerText, note: note && note.innerText, empty: !!empty,
                emptyColor: empty && getComputedStyle(empty).color,
                textColor: getComputedStyle(out).color,
                height: box.getBoundingClientRect().height, tallest,
                active: box.querySelectorAll('img,a,script,iframe,object,embed,svg,[src],[href],'
                    + '[style],[onerror],[onload]').length,
                cue: !!hit && hit.classList.contains('so-cue'),
            };
        })"""
    )


def show_all(page, total: int) -> dict[str, list[dict]]:
    """Walk the queue; return the boxes shown for each prompt."""
    seen: dict[str, list[dict]] = {}
    for done in range(total):
        wait_for_pair(page, done, total)
        prompt = next(
            p
            for p in (f"Prompt {i}" for i in range(1, total + 1))
            if page.get_by_text(p, exact=True).count()
        )
        seen[prompt] = box_report(page)
        assert page.evaluate("window.__pwned") == 0
        page.evaluate("document.activeElement && document.activeElement.blur()")
        page.keyboard.press("t")
        page.locator("button[data-testid=stBaseButton-primary]").filter(
            has_text="Tie"
        ).first.wait_for()
        page.keyboard.press("Enter")
    return seen


def set_empty(store, pair_id: str) -> None:
    # Import refuses empty outputs today; the page must still show one faithfully.
    store.write(
        lambda cur: cur.execute("UPDATE pairs SET baseline = '' WHERE pair_id = ?", [pair_id])
    )


@pytest.mark.parametrize("mode", ["text", "markdown"])
def test_payloads_are_faithful_inert_and_bounded(cli, server, tracker, store, tmp_path, mode):
    rows = payload_pairs(tracker.port)
    config = tmp_path / "study.toml"
    config.write_text(f'display = "{mode}"\n', encoding="utf-8")
    pairs_file = write_jsonl(tmp_path / "payloads.jsonl", rows)
    assert cli("import", pairs_file, "-s", "payloads", "--config", config).code == 0
    set_empty(store, "p005")
    token = cli("annotators", "add", "Eve", "-s", "payloads", "--json").json()[0]["token"]
    server.start()
    with browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 1400})
        page.add_init_script("window.__pwned = 0")
        page.goto(f"{server.url}/?token={token}")
        seen = show_all(page, len(rows))
        assert page.evaluate("window.__pwned") == 0
    assert tracker.requests == []  # no image, link or script reached the tracking server
    outputs = {r["prompt"]: (r["candidate"], r["baseline"]) for r in rows}
    outputs["Prompt 5"] = (outputs["Prompt 5"][0], "")
    for prompt, boxes in seen.items():
        assert len(boxes) == 2
        for box in boxes:
            assert box["active"] == 0, (prompt, box)
            assert box["height"] <= RESPONSE_MAX_HEIGHT + 2, (prompt, box)
            if prompt != "Prompt 6":  # the long text is legitimately taller than its box
                assert box["tallest"] <= box["height"], (prompt, box)
        faithful = [b for b in boxes if mode == "text" or b["note"] or b["empty"]]
        if mode == "text":
            assert all(b["note"] is None for b in boxes)
        for box in faithful:
            if box["empty"]:
                assert box["text"] == "(empty response)" and box["emptyColor"] != box["textColor"]
            else:  # every character as written
                assert box["text"] in outputs[prompt], (prompt, box)
    # The table pair: the third column is on the page (text, or the guard's fallback).
    table = next(b for b in seen["Prompt 1"] if "billed yearly" in b["text"])
    if mode == "markdown":
        assert table["note"] == (
            "Shown as written: a table row (line 3) has more cells than its header "
            "(3 under 2 columns)."
        )
        lines = next(b for b in seen["Prompt 1"] if b is not table)
        assert lines["text"] == LINES  # two lines stay two lines
        heading = next(b for b in seen["Prompt 2"] if "Response 2" in b["text"])
        assert heading["text"] == HEADING.removeprefix("# ") and heading["height"] < 120
        assert any(
            b["text"] == "[image: x] " + f"http://127.0.0.1:{tracker.port}/track.png"
            for b in seen["Prompt 3"]
        )
        assert all(
            b["note"] == "Shown as written: it contains HTML tags." for b in seen["Prompt 4"]
        )
        link = next(b for b in seen["Prompt 5"] if not b["empty"])
        assert link["note"] == "Shown as written: a link's text differs from its address."
    # A literal "(empty response)" is plain text; only the real empty one is muted.
    assert any(b["text"] == "(empty response)" and b["empty"] for b in seen["Prompt 5"])
    short = next(b for b in seen["Prompt 6"] if b["text"] == "(empty response)")
    assert short["empty"] is False
    # Boxes grow with their content: a short answer is a short box, a long one scrolls with a cue.
    assert short["height"] < 120 and short["cue"] is False
    long = next(b for b in seen["Prompt 6"] if b is not short)
    assert long["height"] >= RESPONSE_MAX_HEIGHT - 2 and long["cue"] is True


NAMES = ("ledgerly-support-v3", "Llama-3.1-8B-Instruct")

LEAKY_CONFIG = """
title = "ledgerly-support-v3 vs Llama-3.1-8B-Instruct"
annotator_title = "Is ledgerly support v3 better?"
question = "Would you send the LEDGERLY-SUPPORT-V3 reply?"
guidelines = "Compare with llama-3.1-8b-instruct, the base."

[[criteria]]
name = "ledgerly_support_v3_tone"
description = "Sounds like Llama 3.1 8B Instruct would."

[[criteria]]
name = "clarity"
description = "Clear, unlike ledgerly-support-v3 drafts."
[criteria.scale]
kind = "likert"
max = 3
anchors = { "1" = "as muddled as Llama-3.1-8B-Instruct", "3" = "clear" }
"""


def test_model_names_in_study_texts_never_reach_the_page_or_its_frames(cli, server, tmp_path):
    rows = [pair(i, candidate_model=NAMES[0], baseline_model=NAMES[1]) for i in range(1, 4)]
    config = tmp_path / "leaky.toml"
    config.write_text(LEAKY_CONFIG, encoding="utf-8")
    assert (
        cli(
            "import", write_jsonl(tmp_path / "p.jsonl", rows), "-s", "leaky", "--config", config
        ).code
        == 0
    )
    token = cli("annotators", "add", "Eve", "-s", "leaky", "--json").json()[0]["token"]
    server.start()
    with browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 1400})
        frames = capture_frames(page)
        page.goto(f"{server.url}/?token={token}")
        wait_for_pair(page, 0, 3)
        page.get_by_text("Guidelines").first.click()
        page.get_by_text("Compare with [model], the base.").wait_for()
        body = page.inner_text("body")
    assert "Is [model] better?" in body and "Would you send the [model] reply?" in body
    assert "[model] tone: Sounds like [model] would." in body
    assert "Clarity: Clear, unlike [model] drafts." in body and "as muddled as [model]" in body
    blob = b"".join(frames).lower()
    assert len(blob) > 5_000
    for leak in ("ledgerly", "llama", "8b instruct", "8b-instruct", "v3 vs", "support_v3"):
        assert leak not in body.lower(), leak
        assert leak.encode() not in blob, leak
