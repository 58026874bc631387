"""Render a blind pair faithfully and inertly.

Every text of the pair (prompt, both responses, reference) goes through
`reviewer.labeling.display.render_output`, which escapes it and builds HTML from an allow-list,
and reaches the page through `st.html` (sanitised again by the browser side). Nothing a model
wrote is ever passed to `st.markdown`, so Streamlit's directives, LaTeX and images never apply.
A response box grows with its content up to `RESPONSE_MAX_HEIGHT`, then scrolls, with a
"scroll for more" cue that shows only while there is more below.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from reviewer.labeling.display import CSS, render_output
from reviewer.labeling.session import BlindPair

RESPONSE_MAX_HEIGHT = 420  # px; a longer response scrolls inside its box

# The cue sticks to the bottom of the box while there is more to read; at the end of the text
# (or when the text fits) the opaque cap that follows it in the flow covers it.
BOX_CSS = f"""<style>
.so-box{{max-height:{RESPONSE_MAX_HEIGHT}px;overflow-y:auto;overflow-x:auto;
border:1px solid rgba(49,51,63,.2);border-radius:.5rem;padding:.6rem .9rem 0 .9rem}}
.so-cue{{position:sticky;bottom:0;height:1.6em;line-height:1.6em;text-align:center;
font-size:.8em;color:#31333f;background:linear-gradient(rgba(255,255,255,.6),#fff 45%)}}
.so-cap{{position:relative;height:1.6em;margin-top:-1.6em;background:#fff}}
.so-plain{{border:1px solid rgba(49,51,63,.2);border-radius:.5rem;padding:.6rem .9rem}}
.so-prompt{{margin-bottom:1rem}}
.so-pair{{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:1.5rem}}
@media (max-width:640px){{.so-pair{{grid-template-columns:minmax(0,1fr)}}}}
.so-title{{font-weight:600;margin:0 0 .5rem 0}}
</style>"""
PROMPT_TITLE = '<p class="so-title">Prompt</p>'
CUE = "▼ scroll for more"


def response_box(inner: str) -> str:
    """A bounded, scrolling box around rendered HTML."""
    return (
        f'<div class="so-box" data-testid="so-response">{inner}'
        f'<div class="so-cue">{CUE}</div><div class="so-cap"></div></div>'
    )


def show_pair(pair: BlindPair, mode: str, raw: bool) -> None:
    """The prompt, then both responses side by side: one `st.html` element for a plain prompt
    (each element is a message to the browser and work for the server on every Submit), its
    box keeping the 1rem gap Streamlit leaves between two elements."""
    html = _rendered(pair, mode, raw)
    if isinstance(pair.prompt, str):
        st.html(html.prompt[0] + html.responses)
    else:
        st.markdown("**Prompt**")
        for message, body in zip(pair.prompt, html.prompt, strict=True):
            with st.chat_message(message["role"] if message["role"] != "tool" else "ai"):
                st.html(body)
        st.html(CSS + BOX_CSS + html.responses)
    if html.reference is not None:
        with st.expander("Reference answer"):
            st.html(html.reference)


@dataclass(frozen=True)
class PairHtml:
    """The HTML of every text of a pair, as `st.html` receives it."""

    prompt: tuple[str, ...]
    responses: str  # both, side by side, each under its title (the styles come before them)
    reference: str | None


def _rendered(pair: BlindPair, mode: str, raw: bool) -> PairHtml:
    """The pair's HTML, built once per pair shown (and display mode), not on every click."""
    key = (pair.view_id, mode, raw)
    cached = st.session_state.get("pair_html")
    if cached is None or cached[0] != key:
        cached = (key, pair_html(pair, "text" if raw else mode))
        st.session_state["pair_html"] = cached
    return cached[1]


def pair_html(pair: BlindPair, shown: str) -> PairHtml:
    """Every text of `pair` rendered in display mode `shown`, each in its box; a plain prompt
    carries the styles the responses after it use."""
    if isinstance(pair.prompt, str):
        prompt: tuple[str, ...] = (
            CSS
            + BOX_CSS
            + PROMPT_TITLE
            + _plain(render_output(pair.prompt, shown).html, " so-prompt"),
        )
    else:
        prompt = tuple(
            CSS + render_output(str(m.get("content") or ""), shown).html for m in pair.prompt
        )
    return PairHtml(
        prompt=prompt,
        responses='<div class="so-pair">'
        + "".join(
            f'<div class="so-side"><p class="so-title">{title}</p>'
            f"{response_box(render_output(text, shown).html)}</div>"
            for title, text in (("Response 1", pair.response_1), ("Response 2", pair.response_2))
        )
        + "</div>",
        reference=(
            CSS + _plain(render_output(pair.reference, shown).html) if pair.reference else None
        ),
    )


def _plain(inner: str, also: str = "") -> str:
    return f'<div class="so-plain{also}">{inner}</div>'
