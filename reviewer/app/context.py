"""Process-wide resources of the app: one Store per database file, the admin secret."""

from __future__ import annotations

import hmac
import os

import streamlit as st

from reviewer.store import Store, default_db, resolve_target


def get_store() -> Store:
    """One Store per database file for every session of this server; threads take their own
    cursors."""
    return _store_for(resolve_target(default_db()))


# An idle second before the file is released: a click's queries then share one open connection,
# and a terminal command still finds the file free between bursts of clicks.
APP_LINGER_SECONDS = 1.0


@st.cache_resource
def _store_for(path: str) -> Store:
    return Store(path, linger=APP_LINGER_SECONDS)


def is_admin(secret: str | None) -> bool:
    expected = os.environ.get("SIGNOFF_ADMIN_SECRET", "")
    return bool(expected) and bool(secret) and hmac.compare_digest(secret, expected)


def app_url() -> str:
    return os.environ.get("SIGNOFF_APP_URL", "http://localhost:8501").rstrip("/")


def default_study() -> str | None:
    return os.environ.get("SIGNOFF_STUDY") or None
