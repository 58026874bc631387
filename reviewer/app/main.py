"""Entry point of `signoff app`: picks the page for whoever holds the link, nothing else.

?token=... opens that annotator's labeling page; ?admin=... with the server's admin secret
opens the admin page; anything else gets a polite refusal and no data.
"""

from __future__ import annotations

import streamlit as st

from reviewer.app.context import get_store, is_admin
from reviewer.app.screens import annotate
from reviewer.labeling.session import login

st.set_page_config(page_title="signoff", page_icon="⚖️", layout="wide")

store = get_store()
params = st.query_params
if "admin" in params:
    if is_admin(params.get("admin")):
        # Imported here: the admin page pulls the analysis stack (pandas, scipy, statsmodels),
        # which annotators' pages never need; a smaller heap also makes Python's collector
        # cheaper on every labeling click.
        from reviewer.app.screens import admin

        admin.render(store)
    else:
        st.error("This admin link is not valid. Ask for the link printed by `signoff app`.")
elif "token" in params:
    who = login(store, params.get("token"))
    if who is None:
        # A press that the store refused (the link was revoked or replaced while the page was
        # open) says so here: the labeling page, which shows such notices, is no longer drawn.
        if notice := st.session_state.pop("notice", None):
            st.warning(notice)
        st.error(
            "Sorry, this link is not valid (it may have been replaced). Please ask the "
            "study organiser for your personal link."
        )
    else:
        annotate.render(store, who)
else:
    st.title("signoff")
    st.info("Open the personal link you were sent to start labeling.")
