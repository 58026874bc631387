"""The HTML report: hostile text stays text, and it shows the same numbers as the Markdown."""

from __future__ import annotations

import csv
import json
import re
from html import escape
from html.parser import HTMLParser
from pathlib import Path

from conftest import DATA, pair, write_jsonl
from markdown_it import MarkdownIt

from reviewer.report.build import build_report
from reviewer.report.render import to_html, to_markdown
from reviewer.store import Store

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '" onmouseover="x',
    "{{ 7*7 }}",
    "{% raw %}",
    "</style>",
    '<a href="javascript:alert(1)">click</a> javascript:alert(2)',
]
EVIL = " ".join(HOSTILE)


class Page(HTMLParser):
    """What a browser would build: the tags with their attributes, the markup alone (every tag
    as written), and the text of each element kind."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.markup: list[str] = []
        self.text: dict[str, list[str]] = {}
        self._open: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.markup.append(self.get_starttag_text() or "")
        self._open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.markup.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        self.markup.append(f"</{tag}>")
        if tag in self._open:
            del self._open[len(self._open) - 1 - self._open[::-1].index(tag) :]

    def handle_data(self, data: str) -> None:
        if self._open:
            self.text.setdefault(self._open[-1], []).append(data)


def hostile_study(cli, tmp_path: Path) -> None:
    """A study whose title, one pair's prompt and outputs, an annotator, a judge and the
    rationales are hostile; the annotators split on that pair, so it is a shown example."""
    config = tmp_path / "c.toml"
    config.write_text(f"title = {json.dumps(EVIL)}\n", encoding="utf-8")
    rows = [pair(i, stratum="routine") for i in range(6)]
    rows.append({"id": "evil", "prompt": EVIL, "candidate": EVIL, "baseline": EVIL})
    pairs = write_jsonl(tmp_path / "p.jsonl", rows)
    assert cli("import", pairs, "-s", "s", "--config", config).code == 0
    with (tmp_path / "l.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["pair_id", "annotator", "preference", "rationale"])
        for i in range(6):
            out.writerows([[f"p{i:03d}", "ann", "candidate", EVIL], [f"p{i:03d}", EVIL, "tie", ""]])
        out.writerows([["evil", "ann", "candidate", EVIL], ["evil", EVIL, "baseline", EVIL]])
    assert cli("labels", "import", tmp_path / "l.csv", "-s", "s").code == 0
    with (tmp_path / "v.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["pair_id", "judge", "preference", "rationale"])
        out.writerows([[f"p{i:03d}", EVIL, "candidate", EVIL] for i in range(6)])
    assert cli("judge", "import", tmp_path / "v.csv", "-s", "s").code == 0


def test_hostile_text_is_escaped_never_markup(cli, tmp_path, db_path):
    hostile_study(cli, tmp_path)
    html = to_html(build_report(Store(db_path), "s", resamples=20))
    page = Page(html)

    # Escaped text contains "src=" and "onerror=" as words; the markup (the tags) must not.
    markup = "".join(page.markup).lower()
    for bad in ("<script", "src=", "href=", "onerror=", "onmouseover=", "javascript:"):
        assert bad not in markup, bad
    assert "<script" not in html.lower()
    assert not re.search(r"<[a-z][^>]*\s(src|href|on\w+)=", html, re.IGNORECASE)
    assert {t for t, _ in page.tags}.isdisjoint({"script", "img", "a", "iframe", "link"})
    assert all(not a.startswith("on") for _, attrs in page.tags for a in attrs)
    assert html.count("</style>") == 1 and html.count("<style>") == 1

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;/style&gt;" in html
    # Values are data, never template source: shown as written, and the page runs to its end.
    assert "{{ 7*7 }}" in html and "{% raw %}" in html
    assert page.text["h1"] == [f"Sign-off report: {EVIL}"]
    # Prompt, candidate and baseline of the example, each as written in a display box (the
    # annotators' renderer, text mode): the characters escaped, nothing rendered.
    assert page.text["div"].count(EVIL) == 3
    assert html.count(f'<div class="so-out">{escape(EVIL)}</div>') == 3
    assert EVIL in page.text["td"]  # the judge's name in its table, the annotator in theirs
    assert "Appendix: what was measured" in page.text["h2"]


def tables_from_html(html: str) -> dict[str, list[list[str]]]:
    """Each table under its <h2> title, as rows of cell text (the header row left out)."""

    class Tables(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.tables: dict[str, list[list[str]]] = {}
            self.title, self.in_title = "", False
            self.row: list[str] = []
            self.cell: str | None = None

        def handle_starttag(self, tag: str, attrs: list) -> None:
            if tag == "h2":
                self.title, self.in_title = "", True
            elif tag == "tr":
                self.row = []
            elif tag == "td":
                self.cell = ""

        def handle_endtag(self, tag: str) -> None:
            if tag == "h2":
                self.in_title = False
            elif tag == "td" and self.cell is not None:
                self.row.append(self.cell)
                self.cell = None
            elif tag == "tr" and self.row:
                self.tables.setdefault(self.title, []).append(self.row)

        def handle_data(self, data: str) -> None:
            if self.cell is not None:
                self.cell += data
            elif self.in_title:
                self.title += data

    parser = Tables()
    parser.feed(html)
    return parser.tables


def tables_from_markdown(md: str) -> dict[str, list[list[str]]]:
    tables: dict[str, list[list[str]]] = {}
    title = ""
    for line in md.splitlines():
        if line.startswith("## "):
            title = line[3:]
        elif line.startswith("| ") and title:
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            tables.setdefault(title, []).append(cells)
    return {t: rows[1:] for t, rows in tables.items()}  # the header row left out


def test_html_and_markdown_show_the_same_win_rates(cli, db_path):
    assert (
        cli(
            "import",
            DATA / "support_pairs.jsonl",
            "-s",
            "s",
            "--config",
            DATA / "support_study.toml",
        ).code
        == 0
    )
    assert cli("labels", "import", DATA / "sample_labels.csv", "-s", "s").code == 0
    report = build_report(Store(db_path), "s", resamples=50)
    html, md = to_html(report), to_markdown(report)
    in_html, in_md = tables_from_html(html), tables_from_markdown(md)

    for title in ("Win rate by stratum (humans)", "Win rate by criterion (humans)"):
        assert in_html[title] == in_md[title] and in_md[title]
    strata = {row[0]: row[1] for row in in_md["Win rate by stratum (humans)"]}
    assert set(strata) == set(report.humans.by_stratum) and len(strata) == 4
    # Schema 2: the first rate column is the deciding tie rule's (ties count as not a win by
    # default); the decisive-only rate (schema 1's `rate`) follows it.
    rule = report.verdict.tie_rule
    assert strata == {
        k: f"{w.by_tie_rule[rule].rate:.0%}" for k, w in report.humans.by_stratum.items()
    }
    decisive = {row[0]: row[3] for row in in_md["Win rate by stratum (humans)"]}
    assert decisive == {k: f"{w.rate:.0%}" for k, w in report.humans.by_stratum.items()}
    overall = report.humans.win_rate
    said = f"Candidate preferred on {overall.rate:.0%} of {overall.decisive} decisive pairs"
    assert said in html and said in md
    # The first chart labels each bar (overall, then each stratum) with its rate.
    first_chart = re.search(r"<svg.*?</svg>", html, re.DOTALL)
    labels = Page(first_chart.group()).text["text"][:-1]  # the last is the threshold's
    bars = dict(zip(labels[0::2], labels[1::2], strict=True))
    assert bars["overall"] == f"{overall.by_tie_rule[rule].rate:.0%}" == "38%"  # 15 of 40
    assert all(bars[name] == rate for name, rate in strata.items())


def test_markdown_report_stays_text_when_rendered_with_html_enabled(cli, tmp_path, db_path):
    hostile_study(cli, tmp_path)
    report = build_report(Store(db_path), "s", resamples=20)
    image = "![seen](http://127.0.0.1:9/track.png) [click](javascript:alert(3))"
    md = to_markdown(report.model_copy(update={"title": EVIL + " " + image}))
    # What a viewer with raw HTML allowed would make of it (markdown-it, CommonMark + html).
    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(md)
    page = Page(rendered)
    assert {t for t, _ in page.tags}.isdisjoint({"script", "img", "a", "iframe", "style"})
    assert all(not a.startswith("on") for _, attrs in page.tags for a in attrs)
    # The example's prompt and outputs are shown verbatim, each in a code block of its own.
    assert page.text["code"].count(EVIL + "\n") == 3


def test_outputs_in_the_html_report_look_as_the_annotators_saw_them(cli, tmp_path, db_path):
    hostile_study(cli, tmp_path)
    report = build_report(Store(db_path), "s", resamples=20)
    (kind, examples), *_ = [(k, v) for k, v in report.examples.items() if v]
    shown = examples[0].model_copy(update={"candidate": "**bold** and ![x](http://h/i.png)"})
    as_markdown = report.model_copy(update={"display": "markdown", "examples": {kind: [shown]}})
    html = to_html(as_markdown)
    assert "<strong>bold</strong>" in html  # rendered, as on a markdown study's page
    assert "<img" not in html and "http://h/i.png" in html  # the image is shown as its address
    as_text = to_html(as_markdown.model_copy(update={"display": "text"}))
    assert "**bold** and ![x](http://h/i.png)" in as_text  # a text study: the characters
