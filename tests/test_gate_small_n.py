"""An interval resting on too few items is shown as "n too small", not as a degenerate range
("-0.33 [-0.33, -0.33]" after a one-pair calibration): in the calibration text, the report's
Markdown and HTML, and the app; the JSON keeps the numbers and n."""

from __future__ import annotations

import re

from conftest import pair, write_jsonl
from llm_server import MARKER, Script
from streamlit.testing.v1 import AppTest

from reviewer.analysis.intervals import Interval
from reviewer.analysis.judge_measures import MIN_INTERVAL_ITEMS, interval_shown

CONFIG = """
seed = 3
[calibration]
size = 1
holdout_fraction = 0
[gate]
min_usable_pairs = 1
"""
DEGENERATE = re.compile(r"(-?\d\.\d\d) \[\1, \1\]|(-?\d\.\d\d) \(\2-\2, n=")


def test_the_threshold_is_on_items_not_on_what_n_counts():
    iv = Interval(value=0.5, low=0.4, high=0.6, n=30)
    assert interval_shown(iv) and not interval_shown(iv, items=MIN_INTERVAL_ITEMS - 1)
    assert not interval_shown(Interval(value=None, low=None, high=None, n=0))


def test_a_one_pair_calibration_shows_no_interval(cli, tmp_path, llm, rubric_file, store):
    rows = [pair(i, candidate=f"Candidate {i}. {MARKER}") for i in range(1, 5)]
    config = tmp_path / "study.toml"
    config.write_text(CONFIG)
    assert cli("import", write_jsonl(tmp_path / "p.jsonl", rows), "-s", "one", "--config",
               config).code == 0  # fmt: skip
    (calibration_pair,) = store.read(
        lambda cur: [
            r[0] for r in cur.execute("SELECT pair_id FROM pairs WHERE in_calibration").fetchall()
        ]
    )
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "pair_id,annotator,preference\n"
        + "".join(f"{calibration_pair},{who},{pref}\n" for who, pref in
                  [("ana", "candidate"), ("bo", "baseline"), ("cy", "tie")])
    )  # fmt: skip
    assert cli("labels", "import", labels, "-s", "one").code == 0
    args = ["-s", "one", "--rubric", rubric_file, "--provider", "openai-compatible",
            "--base-url", llm.openai_url, "--model", "m"]  # fmt: skip
    llm.reset(Script())
    text = cli("judge", "calibrate", *args, "--final")
    assert "judge vs each human label: agreement n too small (n=1), kappa n too small" in text.out
    assert "humans among themselves (the ceiling): agreement n too small (n=1)" in text.out
    assert not DEGENERATE.search(text.out), text.out
    result = cli("judge", "calibrate", *args, "--final", "--json").json()
    kappa = result["deciding"]["vs_humans_with_ties"]["kappa"]
    assert kappa["n"] == 3 and kappa["low"] == kappa["high"] == kappa["value"]  # numbers kept

    assert cli("judge", "run", *args, "--pairs", "all", "--override", "tiny").code == 0
    markdown = cli("report", "-s", "one", "--format", "md").out
    judge = markdown[markdown.index("## Judge m") : markdown.index("## Appendix")]
    assert "| agreement with human labels (with ties) | n too small (n=1) |" in judge
    assert "| positional consistency (both orders agree; n = items) | n too small (n=4) |" in judge
    assert not DEGENERATE.search(judge), judge
    html = tmp_path / "r.html"
    assert cli("report", "-s", "one", "--format", "html", "--out", html).code == 0
    assert "n too small (n=1)" in html.read_text()

    def panel(db: str) -> None:
        from reviewer.app.components import calibration_panel
        from reviewer.store import Store

        calibration_panel.render(Store(db), "one")

    at = AppTest.from_function(panel, args=(str(store.path),), default_timeout=30).run()
    assert not at.exception
    shown = [str(v) for d in at.dataframe for v in d.value.to_numpy().ravel()]
    assert "n too small (n=1)" in shown
    assert not any(DEGENERATE.search(v) for v in shown)
