"""Every `signoff` command starts without importing what only some commands use: the statistics
stack (scipy, statsmodels, scikit-learn, krippendorff: ~3 s of CPU together), jsonschema, and the
provider SDKs (imported at a run's first call)."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT

LATE = ("scipy", "statsmodels", "sklearn", "krippendorff", "jsonschema", "openai", "anthropic")


def test_the_cli_starts_without_the_libraries_only_some_commands_use():
    code = f"import sys, reviewer.cli; print([m for m in {LATE!r} if m in sys.modules])"
    done = subprocess.run(
        [sys.executable, "-P", "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "[]"
