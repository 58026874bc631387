"""The admin page's sign-off report, built once per change of the study, not on every rerun.

Building it takes 1,000 bootstrap resamples; the admin page reruns on every click. The cache
key is what the report is built from (the study's last event and label, its verdict and
calibration counts, its config), read in one cheap query per rerun.
"""

from __future__ import annotations

import streamlit as st

from reviewer.report.build import build_report
from reviewer.report.model import Report
from reviewer.store import Store, report_data


def current_report(store: Store, study_id: str) -> Report:
    """The report on the study as it stands now: from the cache when nothing has changed."""
    version = store.read(lambda cur: report_data.inputs_version(cur, study_id))
    return _built(str(store.path), study_id, version, store)


@st.cache_data(max_entries=8, show_spinner="Building the report...")
def _built(path: str, study_id: str, version: tuple, _store: Store) -> Report:
    # `path`, `study_id` and `version` are the key; the store (underscored) is not hashed.
    return build_report(_store, study_id)
