"""The admin page's list of the study's judge batches (from the database, so it survives a
refresh): which are still running at the provider, which were collected and how they ended."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from reviewer.judging.batch import study_batches
from reviewer.store import Store


def render(store: Store, study_id: str) -> None:
    rows = study_batches(store, study_id)
    if not rows:
        return
    running = sum(r["collected_at"] is None for r in rows)
    st.markdown(f"**Judge batches** ({running} still open at the provider)")
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    if running:
        st.caption(
            "Press **Run on all pairs** again with the batch option, same judge, to collect "
            "the batches that ended; nothing is submitted twice."
        )
