"""The faithful renderer (reviewer.labeling.display) and the annotator-facing redaction, with the
exact HTML expected for small inputs."""

from __future__ import annotations

import html
import re
import unicodedata

import pytest
from apphelp import MAIN
from conftest import pair, write_jsonl
from streamlit.testing.v1 import AppTest

from reviewer.config import Criterion, Scale, StudyConfig
from reviewer.labeling.display import CSS, render_output, visible
from reviewer.labeling.session import redacted_brief

OUT = '<div class="so-out">{}</div>'


def md(text: str) -> str:
    rendered = render_output(text, "markdown")
    assert not rendered.fell_back, rendered.note
    return rendered.html


def shown(fragment: str) -> str:
    """What a browser shows for our HTML, roughly: tags out, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


# --- text mode: the characters as written ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a  b\n\n  c\t!", "a  b\n\n  c\t!"),
        ("<script>x()</script>", "&lt;script&gt;x()&lt;/script&gt;"),
        ('<img src="x" onerror="y()">', "&lt;img src=&quot;x&quot; onerror=&quot;y()&quot;&gt;"),
        ("**b** :green-background[ok] $$x$$", "**b** :green-background[ok] $$x$$"),
        ("l1\r\nl2", "l1\nl2"),
        ("rtl\u202eevil", 'rtl<span class="so-mark">&lt;U+202E&gt;</span>evil'),
        ("zero\u200bwidth", 'zero<span class="so-mark">&lt;U+200B&gt;</span>width'),
        ("bell\x07", 'bell<span class="so-mark">&lt;U+0007&gt;</span>'),
        ("family 👨\u200d👩", "family 👨\u200d👩"),  # the joiner of emoji sequences is kept
    ],
)
def test_text_mode_keeps_every_character_escaped(text, expected):
    assert render_output(text, "text").html == OUT.format(expected)
    assert render_output(text, "text").fell_back is False


def _visible_by_character(text: str) -> str:
    """The definition `visible` keeps, one character at a time: marks for Cc, Cf, Zl and Zp
    (but newline, tab and the zero-width joiner), every other character escaped."""
    out = []
    for ch in text.replace("\r\n", "\n"):
        if ch not in "\n\t\u200d" and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(f'<span class="so-mark">&lt;U+{ord(ch):04X}&gt;</span>')
        else:
            out.append(html.escape(ch, quote=True))
    return "".join(out)


def test_visible_marks_exactly_the_invisible_characters_of_every_plane():
    for plane_start in range(0, 0x110000, 0x10000):
        chars = "".join(chr(c) for c in range(plane_start, plane_start + 0x10000))
        for text in (chars, "<a>&\"'\r\n" + chars[::-1] + "\r"):
            assert visible(text) == _visible_by_character(text)
    assert visible("x\u00a0y\u2028\u200d") == (
        'x\u00a0y<span class="so-mark">&lt;U+2028&gt;</span>\u200d'
    )


def test_empty_and_whitespace_outputs_are_labelled_not_blank():
    assert render_output("", "text").html == OUT.format(
        '<span class="so-empty">(empty response)</span>'
    )
    assert render_output(" \n", "markdown").html == OUT.format(
        '<span class="so-empty">(empty response: only whitespace, 2 characters)</span>'
    )
    # An output that says so in words is shown as words, without the muted label.
    assert render_output("(empty response)", "text").html == OUT.format("(empty response)")


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="unknown display mode 'html'"):
        render_output("x", "html")  # type: ignore[arg-type]


# --- markdown mode: allow-listed HTML --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("line1\nline2", "<p>line1<br>line2</p>"),  # a line break is never merged away
        (
            "**b** *i* ~~s~~ `c<`",
            "<p><strong>b</strong> <em>i</em> <s>s</s> <code>c&lt;</code></p>",
        ),
        (
            "# Response 2 is the correct one",
            '<div class="so-h">Response 2 is the correct one</div>',
        ),
        (":green-background[Verified]", "<p>:green-background[Verified]</p>"),
        ("$$\\rule{5000px}{5000px}$$", "<p>$$\\rule{5000px}{5000px}$$</p>"),
        ("&amp; &copy;", "<p>&amp;amp; &amp;copy;</p>"),  # entities stay as written
        ("- a\n- b", "<ul><li>a</li><li>b</li></ul>"),
        (
            "1. a\n1. b",  # numbers as written, not renumbered
            '<ol><li><span class="so-n">1.</span>a</li><li><span class="so-n">1.</span>b</li></ol>',
        ),
        ("> q", "<blockquote><p>q</p></blockquote>"),
        ("```py\nx = 1\n```", '<div class="so-url">py</div><pre><code>x = 1</code></pre>'),
        ("a\n\n---\n\nb", "<p>a</p><hr><p>b</p>"),
        ("<https://e.com/a>", '<p><span class="so-url">https://e.com/a</span></p>'),
        (
            "![logo](http://127.0.0.1:9/track.png)",
            '<p><span class="so-img">[image: logo] http://127.0.0.1:9/track.png</span></p>',
        ),
        (
            "| a | b |\n|---|--:|\n| 1 | 2 |",
            '<table><thead><tr><th>a</th><th class="so-r">b</th></tr></thead>'
            '<tbody><tr><td>1</td><td class="so-r">2</td></tr></tbody></table>',
        ),
        ("rtl\u202e", '<p>rtl<span class="so-mark">&lt;U+202E&gt;</span></p>'),
    ],
)
def test_markdown_renders_to_exact_allow_listed_html(text, expected):
    assert md(text) == OUT.format(expected)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (
            "| a | b |\n|---|---|\n| 1 | 2 | 3 |",
            "a table row (line 3) has more cells than its header",
        ),
        ("<script>window.x=1</script>", "it contains HTML tags"),
        ('Hi <img src="x" onerror="y()">', "it contains HTML tags"),
        ("<!-- hidden -->\nshown", "it contains HTML tags"),
        ("[Click here](http://evil.example)", "a link's text differs from its address"),
        ('<http://e.com> and [e](http://e.com "title")', "a link's text differs"),
        ("[ref]: http://hidden.example\n\nvisible", "rendering would hide some of its characters"),
    ],
)
def test_guard_falls_back_to_text_with_a_note(text, why):
    rendered = render_output(text, "markdown")
    assert rendered.fell_back is True
    assert rendered.note is not None and why in rendered.note
    note = f'<div class="so-note">{html.escape(rendered.note)}</div>'
    assert rendered.html == note + render_output(text, "text").html
    assert shown(rendered.html).endswith(text)  # every character, as written


def test_the_issue_table_pair_falls_back_and_shows_the_third_column():
    text = "| Plan | Price |\n|---|---|\n| Starter | $9 | billed yearly |\n| Pro | $29 | monthly |"
    rendered = render_output(text, "markdown")
    assert rendered.fell_back and "3 under 2 columns" in (rendered.note or "")
    assert "billed yearly" in shown(rendered.html) and "monthly" in shown(rendered.html)


def test_markdown_never_emits_a_tag_or_attribute_outside_the_allow_list():
    payloads = [
        "# h\n\n**b** _i_ `c` ~~s~~\n\n> q\n\n- a\n1. b\n\n```\nx\n```\n\n---",
        "| a | b |\n|:-|:-:|\n| 1 | 2 |",
        "![x](http://127.0.0.1:1/t.png) <http://e.com> <a@b.co> javascript:alert(1)",
        "<script>x</script> <iframe srcdoc='y'></iframe> <img src=x onerror=y>",
        "[x](javascript:alert(1)) [y]: http://t",
    ]
    allowed_tags = {
        "div", "p", "br", "strong", "em", "s", "code", "pre", "ul", "ol", "li", "span",
        "blockquote", "hr", "table", "thead", "tbody", "tr", "th", "td",
    }  # fmt: skip
    for text in payloads:
        out = render_output(text, "markdown").html
        for tag, attrs in re.findall(r"<(\w+)([^>]*)>", out):
            assert tag in allowed_tags, (text, tag)
            assert re.fullmatch(r'( class="so-[a-z]+")?', attrs), (text, attrs)
        assert "href" not in out and "src=" not in out.replace("src=x", "")


def test_css_has_no_url_and_nothing_that_fetches():
    assert "url(" not in CSS and "@import" not in CSS


# --- what the annotator sees of the study config ---------------------------------------------


def test_every_annotator_facing_study_text_is_redacted():
    names = ["ledgerly-support-v3", "Llama-3.1-8B-Instruct"]
    config = StudyConfig(
        title="ledgerly-support-v3 vs base model",
        annotator_title="Is Ledgerly Support v3 better?",
        question="Would you send LEDGERLY_SUPPORT_V3's reply?",
        guidelines="Compare to llama-3.1-8b-instruct.",
        criteria=(
            Criterion(
                name="ledgerly_support_v3_tone",
                description="Sounds like Llama 3.1 8B Instruct",
                scale=Scale(kind="likert", anchors={"1": "like ledgerly-support-v3"}),
            ),
        ),
    )
    brief = redacted_brief(config, names)
    assert brief.title == "Is [model] better?"
    assert brief.question == "Would you send [model]'s reply?"
    assert brief.guidelines == "Compare to [model]."
    (criterion,) = brief.criteria
    assert (criterion.label, criterion.description) == ("[model] tone", "Sounds like [model]")
    assert criterion.anchors == {"1": "like [model]"}
    assert criterion.values == ("1", "2", "3", "4", "5")
    assert criterion.name == "ledgerly_support_v3_tone"  # kept for submit, never shown
    assert "name" not in repr(criterion)


def test_annotators_never_see_the_internal_title_and_the_default_is_neutral():
    brief = redacted_brief(StudyConfig(title="v3 vs base model"), [])
    assert brief.title == "Which response is better?"
    assert brief.display == "text"


def test_new_fields_at_their_defaults_keep_an_old_config_hash():
    old = StudyConfig(title="t")
    assert '"display"' not in old.canonical_json()
    assert '"annotator_title"' not in old.canonical_json()
    changed = StudyConfig(title="t", display="markdown")
    assert '"display":"markdown"' in changed.canonical_json()
    assert changed.content_hash() != old.content_hash()


# --- the page (AppTest): mode, the "as written" toggle, empty outputs --------------------------


def response_bodies(at) -> list[str]:
    return [h.proto.body for h in at.get("html") if "so-response" in h.proto.body]


def test_markdown_study_page_and_the_as_written_toggle(cli, tmp_path):
    rows = [pair(1, candidate="**bold**\nnext", baseline="plain")]
    config = tmp_path / "md.toml"
    config.write_text('display = "markdown"\n', encoding="utf-8")
    assert (
        cli("import", write_jsonl(tmp_path / "p.jsonl", rows), "-s", "md", "--config", config).code
        == 0
    )
    token = cli("annotators", "add", "Ana", "-s", "md", "--json").json()[0]["token"]
    at = AppTest.from_file(MAIN, default_timeout=30)
    at.query_params["token"] = token
    at.run()
    bodies = "".join(response_bodies(at))
    assert "<strong>bold</strong><br>next" in bodies and "**" not in bodies
    (toggle,) = at.toggle
    assert toggle.label == "Show as written (the raw characters, no formatting)"
    toggle.set_value(True).run()
    bodies = "".join(response_bodies(at))
    assert "**bold**\nnext" in bodies and "<strong>" not in bodies
    assert all("<script" not in b and "<img" not in b for b in response_bodies(at))


def test_text_study_has_no_toggle(cli, tmp_path):
    assert cli("import", write_jsonl(tmp_path / "p.jsonl", [pair(1)]), "-s", "t").code == 0
    token = cli("annotators", "add", "Ana", "-s", "t", "--json").json()[0]["token"]
    at = AppTest.from_file(MAIN, default_timeout=30)
    at.query_params["token"] = token
    at.run()
    assert len(at.toggle) == 0
    assert any("Candidate answer 1." in b for b in response_bodies(at))
