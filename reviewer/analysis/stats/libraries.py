"""The statistics libraries the report uses, imported in a thread of their own while the
report command reads its rows (~3 s of CPU, a third of it statsmodels' Fleiss module, which
imports pandas). They stay out of every other command's start-up (tests/test_startup.py)."""

from __future__ import annotations

import importlib
import threading

# In the order the report first needs them: win rates, then agreement.
LIBRARIES = (
    "statsmodels.stats.proportion",
    "scipy.stats",
    "sklearn.metrics",
    "statsmodels.stats.inter_rater",
    "krippendorff",
)


def import_ahead() -> threading.Thread:
    """Start importing `LIBRARIES` in a daemon thread; the modules that import them later get
    them from there (Python's import lock makes them wait for a module half imported)."""
    thread = threading.Thread(target=_import_all, name="import-ahead", daemon=True)
    thread.start()
    return thread


def _import_all() -> None:
    for name in LIBRARIES:
        try:
            importlib.import_module(name)
        except ImportError:  # the module that needs it raises it, where it is used
            return
