"""Show a model's output faithfully and inertly: what the expert sees is what the model wrote.

Two modes, chosen per study (`StudyConfig.display`):

- "text": the characters as written, whitespace and line breaks kept, wrapped.
- "markdown": CommonMark plus GFM tables and strikethrough, rendered here to HTML from an
  allow-list of tags with no attributes but a class. Raw HTML is never interpreted, entities
  are not decoded, nothing is fetched (an image is its alt text and address as text), a link is
  its address as text (never an anchor), no LaTeX, no Streamlit directives, and every line
  break is kept. A guard falls back to "text", with a note saying why, when rendering would hide
  any character the model wrote (see `_guard` and `_lost_characters`).

Either way, invisible characters that could hide or reorder text (bidi controls, zero-width
spaces, control characters) are shown as a visible `<U+202E>` mark. No Streamlit here: the app
and the report show the same thing (`render_output`, `CSS`).
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token

Mode = Literal["text", "markdown"]
MODES: tuple[Mode, ...] = ("text", "markdown")
EMPTY = "(empty response)"

CSS = """<style>
.so-out{white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;line-height:1.5}
.so-out p,.so-out ul,.so-out ol,.so-out blockquote,.so-out pre,.so-out table{margin:0 0 .6em 0}
.so-out ol{list-style:none;padding-left:1.6em}
.so-out ul{padding-left:1.6em}
.so-out .so-n{float:left;margin-left:-1.6em;min-width:1.6em}
.so-out .so-h{font-weight:700;font-size:1.05em;margin:0 0 .4em 0}
.so-out pre{white-space:pre-wrap;background:rgba(128,128,128,.12);padding:.5em;border-radius:4px}
.so-out code{font-family:monospace;background:rgba(128,128,128,.12);border-radius:3px}
.so-out blockquote{border-left:3px solid rgba(128,128,128,.5);padding-left:.8em}
.so-out table{border-collapse:collapse;white-space:normal}
.so-out th,.so-out td{border:1px solid rgba(128,128,128,.5);padding:.2em .5em}
.so-out .so-r{text-align:right}.so-out .so-c{text-align:center}.so-out .so-l{text-align:left}
.so-out .so-url,.so-out .so-img{color:#555;font-family:monospace}
.so-out .so-mark{color:#b00;border:1px solid #b00;border-radius:3px;font-size:.8em}
.so-empty{color:#777;font-style:italic;border:1px dashed #999;border-radius:4px;padding:.1em .4em}
.so-note{color:#8a5a00;font-size:.85em;margin-bottom:.4em}
</style>"""

# Characters that display as nothing, or reorder what follows, get a visible mark. The zero-width
# joiner (U+200D) is kept: emoji sequences are built with it.
_KEEP = {"\n", "\t", "\u200d"}
# `str.isprintable` is false for every character that gets a mark (categories Cc, Cf, Zl, Zp,
# and also Zs, Co, Cs, Cn): a text printable once the kept ones are removed needs no mark.
_KEPT = str.maketrans(dict.fromkeys(_KEEP))
_UNUSUAL = re.compile(r"[^\x20-\x7e\n\t]+")


@dataclass(frozen=True)
class Rendered:
    """An output ready to show: `html` is safe to insert; `note` says why markdown fell back."""

    html: str
    fell_back: bool = False
    note: str | None = None


def render_output(text: str, mode: Mode = "text") -> Rendered:
    """The HTML to show for one output, in the study's display mode.

    >>> render_output("a <b>\\n  c").html
    '<div class="so-out">a &lt;b&gt;\\n  c</div>'
    >>> render_output("").html
    '<div class="so-out"><span class="so-empty">(empty response)</span></div>'
    """
    if mode not in MODES:
        raise ValueError(f"unknown display mode {mode!r}; use one of {', '.join(MODES)}")
    if not text.strip():
        return Rendered(_empty(text))
    if mode == "text":
        return Rendered(_text(text))
    problem = _guard(text)
    body = None
    if problem is None:
        body, problem = _markdown(text)
    if problem is not None:
        note = f"Shown as written: {problem}."
        return Rendered(f'<div class="so-note">{_esc(note)}</div>' + _text(text), True, note)
    return Rendered(f'<div class="so-out">{body}</div>')


def visible(text: str) -> str:
    """`text` escaped for HTML, with invisible and reordering characters shown as marks.

    >>> visible("a\\u202eb<")
    'a<span class="so-mark">&lt;U+202E&gt;</span>b&lt;'
    """
    text = text.replace("\r\n", "\n")
    escaped = html.escape(text, quote=True)
    if text.translate(_KEPT).isprintable():  # nothing to mark (the usual case): one C call
        return escaped
    # Escaping only touches ASCII; the characters to mark are not printable ASCII.
    return _UNUSUAL.sub(_marked, escaped)


def _marked(run: re.Match[str]) -> str:
    return "".join(
        f'<span class="so-mark">&lt;U+{ord(ch):04X}&gt;</span>'
        if ch not in _KEEP and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")
        else ch
        for ch in run.group()
    )


_esc = visible


def _text(text: str) -> str:
    return f'<div class="so-out">{_esc(text)}</div>'


def _empty(text: str) -> str:
    label = EMPTY if not text else f"(empty response: only whitespace, {len(text)} characters)"
    return f'<div class="so-out"><span class="so-empty">{_esc(label)}</span></div>'


# --- the guard: what a markdown renderer would hide -------------------------------------------


def _parser(allow_html: bool = False) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": allow_html, "breaks": True})
    # Entities stay as written: "&amp;" must not turn into "&" (it would hide characters).
    return md.enable(["table", "strikethrough"]).disable("entity")


_MD = _parser()
_MD_HTML = _parser(allow_html=True)


def _guard(text: str) -> str | None:
    """Why rendering `text` as markdown would hide something, or None."""
    if _has_html(_MD_HTML.parse(text)):
        return "it contains HTML tags"
    lines = text.replace("\r\n", "\n").split("\n")
    for token in _MD.parse(text):
        if token.type == "table_open" and token.map:
            header = _cells(lines[token.map[0]])
            for number in range(token.map[0] + 2, token.map[1]):
                if _cells(lines[number]) > header:
                    return (
                        f"a table row (line {number + 1}) has more cells than its header "
                        f"({_cells(lines[number])} under {header} columns)"
                    )
    return None


def _has_html(tokens: list[Token]) -> bool:
    for token in tokens:
        if token.type in ("html_block", "html_inline"):
            return True
        if token.children and _has_html(token.children):
            return True
    return False


def _cells(line: str) -> int:
    """Cells in a GFM table line: pipes outside backticks and not escaped."""
    row = line.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    count, code, escaped = 1, False, False
    for ch in row:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "`":
            code = not code
        elif ch == "|" and not code:
            count += 1
    return count


def _lost_characters(source: str, shown: list[str]) -> bool:
    """True when letters or digits of the source are missing from what is shown, in order:
    a last net for whatever drops text (link reference definitions, anything not foreseen)."""

    def letters(s: str) -> list[str]:
        return [c for c in s if c.isalnum()]

    return letters(source) != letters("".join(shown))


# --- the renderer: tokens to allow-listed HTML ------------------------------------------------

_BLOCK = {
    "paragraph": "p",
    "bullet_list": "ul",
    "ordered_list": "ol",
    "list_item": "li",
    "blockquote": "blockquote",
    "table": "table",
    "thead": "thead",
    "tbody": "tbody",
    "tr": "tr",
}
_INLINE = {"em": "em", "strong": "strong", "s": "s"}
_ALIGN = {"text-align:right": "so-r", "text-align:center": "so-c", "text-align:left": "so-l"}


def _markdown(text: str) -> tuple[str, str | None]:
    """(html, None), or (None, why) when the rendering would hide characters."""
    out: list[str] = []
    shown: list[str] = []
    for token in _MD.parse(text):
        kind = token.type
        if kind == "inline":
            problem = _inline(token.children or [], out, shown)
            if problem:
                return "", problem
        elif kind in ("fence", "code_block"):
            if token.info:
                shown.append(token.info)
                out.append(f'<div class="so-url">{_esc(token.info)}</div>')
            shown.append(token.content)
            out.append(f"<pre><code>{_esc(token.content.removesuffix(chr(10)))}</code></pre>")
        elif kind == "hr":
            out.append("<hr>")
        elif kind == "heading_open":
            out.append('<div class="so-h">')
        elif kind == "heading_close":
            out.append("</div>")
        elif kind in ("th_open", "td_open"):
            align = _ALIGN.get(str(token.attrs.get("style", "")))
            out.append(f'<{token.tag} class="{align}">' if align else f"<{token.tag}>")
        elif kind in ("th_close", "td_close"):
            out.append(f"</{token.tag}>")
        elif kind == "list_item_open":
            out.append("<li>")
            if token.info:  # an ordered item: its number as written, not renumbered
                shown.append(token.info)
                out.append(f'<span class="so-n">{_esc(token.info + token.markup)}</span>')
        elif token.hidden:
            continue  # the paragraph of a tight list item: no <p>, as in every renderer
        elif kind.endswith("_open") and kind[:-5] in _BLOCK:
            out.append(f"<{_BLOCK[kind[:-5]]}>")
        elif kind.endswith("_close") and kind[:-6] in _BLOCK:
            out.append(f"</{_BLOCK[kind[:-6]]}>")
    if _lost_characters(text, shown):
        return "", "rendering would hide some of its characters"
    return "".join(out), None


def _inline(children: list[Token], out: list[str], shown: list[str]) -> str | None:
    """Render one inline run; return why it cannot be shown faithfully, or None."""
    i = 0
    while i < len(children):
        token = children[i]
        kind = token.type
        if kind == "text":
            shown.append(token.content)
            out.append(_esc(token.content))
        elif kind == "code_inline":
            shown.append(token.content)
            out.append(f"<code>{_esc(token.content)}</code>")
        elif kind in ("softbreak", "hardbreak"):
            out.append("<br>")
        elif kind == "image":
            alt, src = token.content, str(token.attrs.get("src", ""))
            shown += [alt, src, str(token.attrs.get("title") or "")]
            title = f" {token.attrs['title']}" if token.attrs.get("title") else ""
            out.append(f'<span class="so-img">[image: {_esc(alt)}] {_esc(src)}{_esc(title)}</span>')
        elif kind == "link_open":
            end = _closing(children, i)
            label = "".join(c.content for c in children[i + 1 : end])
            href = str(token.attrs.get("href", ""))
            if token.attrs.get("title") or label != href.removeprefix("mailto:"):
                return "a link's text differs from its address"
            shown.append(label)
            out.append(f'<span class="so-url">{_esc(label)}</span>')
            i = end
        elif kind.endswith("_open") and kind[:-5] in _INLINE:
            out.append(f"<{_INLINE[kind[:-5]]}>")
        elif kind.endswith("_close") and kind[:-6] in _INLINE:
            out.append(f"</{_INLINE[kind[:-6]]}>")
        i += 1
    return None


def _closing(children: list[Token], start: int) -> int:
    depth = 0
    for j in range(start, len(children)):
        if children[j].type == "link_open":
            depth += 1
        elif children[j].type == "link_close":
            depth -= 1
            if depth == 0:
                return j
    return len(children) - 1
