"""The walk-through notebook runs as written (its code cells, in order, in one namespace)."""

from __future__ import annotations

import json

from conftest import ROOT


def test_walkthrough_notebook_runs(capsys):
    notebook = json.loads((ROOT / "notebooks" / "walkthrough.ipynb").read_text())
    namespace: dict = {}
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), "walkthrough.ipynb", "exec"), namespace)
    out = capsys.readouterr().out
    assert "128 pairs; 80 sample labels" in out
    # Schema 2: ties count as not a win, so 15 wins of 40 comparisons, and stratum 'hard'
    # (2 of 10) falls below the floor; the decisive-only rate is still shown.
    assert "BLOCKED - stratum 'hard' collapses" in out
    assert "15/40 = 0.375 of all comparisons" in out
    assert "15/21 = 0.714" in out
