"""Render a blind pair. Model outputs are untrusted: only st.markdown without
unsafe_allow_html, so markdown and code render while HTML and scripts show as text."""

from __future__ import annotations

import streamlit as st

from reviewer.labeling.session import BlindPair

RESPONSE_HEIGHT = 360  # px; longer outputs scroll inside their box


def show_prompt(pair: BlindPair) -> None:
    st.markdown("**Prompt**")
    with st.container(border=True):
        if isinstance(pair.prompt, str):
            st.markdown(pair.prompt)
        else:
            for message in pair.prompt:
                with st.chat_message(message["role"] if message["role"] != "tool" else "ai"):
                    st.markdown(message["content"])


def show_responses(pair: BlindPair) -> None:
    left, right = st.columns(2, gap="medium")
    for column, title, text in (
        (left, "Response 1", pair.response_1),
        (right, "Response 2", pair.response_2),
    ):
        with column:
            st.markdown(f"**{title}**")
            with st.container(height=RESPONSE_HEIGHT, border=True):
                st.markdown(text)
    if pair.reference:
        with st.expander("Reference answer"):
            st.markdown(pair.reference)
