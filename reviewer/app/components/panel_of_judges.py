"""The admin page's judge-panel section: calibrate or run a panel of judges (each member judged
in both orders as one judge is, the panel's verdict by their majority), and each panel's
calibration figures beside its members'. Keys come from the server's environment."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from judge.runner import Settings
from reviewer.analysis.calibration import CalibrationOut
from reviewer.errors import SignoffError
from reviewer.judging.describe import describe_summary
from reviewer.judging.options import JudgeOptions
from reviewer.judging.panel import (
    PanelOptions,
    calibrate_panel,
    describe_panel,
    figures,
    members_of,
    run_panel,
)
from reviewer.store import Store
from reviewer.store import calibrations as calibration_sql
from reviewer.store import panels as panel_sql

ACTOR = "admin page"


def render(store: Store, study_id: str) -> None:
    st.subheader("Judge panels")
    st.caption(
        "Several judges vote: each member judges every pair in both orders as a single judge "
        "does, and the panel's verdict is their majority (a split is a tie). The panel is "
        "calibrated and gated like one judge; each member's figures stand beside it."
    )
    if "panel_last_run" in st.session_state:
        ok, details = st.session_state["panel_last_run"]
        (st.success if ok else st.warning)(details.splitlines()[0])
        st.code(details, language=None)
    form = _form()
    if form is not None:
        _act(store, study_id, form)
    _figures(store, study_id)


@dataclass(frozen=True)
class PanelForm:
    action: str  # calibrate | final | run_all
    rubric_upload: Any
    rubric_path: str
    members: list[str]
    concurrency: int
    override: str


def _form() -> PanelForm | None:
    with st.form("panel_run"):
        rubric_upload = st.file_uploader(
            "Rubric (TOML or YAML)", type=["toml", "yaml", "yml"], key="panel_rubric_upload"
        )
        rubric_path = st.text_input("...or a rubric file on the server", key="panel_rubric_path")
        members = st.text_area(
            "Members, one per line: NAME=PROVIDER:MODEL, or NAME=PROVIDER:MODEL@URL",
            key="panel_members",
            placeholder="a=openai:gpt-4o-mini\nb=anthropic:claude-haiku-4-5",
        )
        concurrency = st.number_input("Calls at once", 1, 256, 16, key="panel_concurrency")
        override = st.text_input(
            "Override reason: only to score all pairs without a passing panel gate",
            key="panel_override",
        )
        buttons = st.columns(3)
        pressed = {
            "calibrate": buttons[0].form_submit_button("Calibrate panel (development pairs)"),
            "final": buttons[1].form_submit_button("Final check of the panel (held-out pairs)"),
            "run_all": buttons[2].form_submit_button("Run the panel on all pairs"),
        }
    action = next((name for name, on in pressed.items() if on), None)
    if action is None:
        return None
    lines = [line for line in members.splitlines() if line.strip()]
    return PanelForm(action, rubric_upload, rubric_path, lines, int(concurrency), override)


def _act(store: Store, study_id: str, form: PanelForm) -> None:
    """Calibrate or run the panel as the form asks; the outcome survives the rerun."""
    with tempfile.TemporaryDirectory() as tmp:
        if form.rubric_upload is not None:
            path = Path(tmp) / Path(form.rubric_upload.name).name
            path.write_bytes(form.rubric_upload.getvalue())
        else:
            path = Path(form.rubric_path)
        base = JudgeOptions(
            provider="", model="", rubric_path=path,
            settings=Settings(concurrency=form.concurrency),
        )  # fmt: skip
        try:
            options = PanelOptions(members_of(form.members, base))
            if form.action == "run_all":
                panel, summaries = run_panel(
                    store, study_id, options, "all", ACTOR, override=form.override or None
                )
                names = [(m.name, m.judge_id) for m in panel.members]
                details = f"panel {panel.name} ({panel.judge_id}) judged all pairs"
            else:
                result, summaries = calibrate_panel(
                    store, study_id, options, ACTOR, final=form.action == "final"
                )
                names = [(m.name, m.judge_id) for m in result.members]
                details = describe_panel(result)
        except SignoffError as exc:
            st.error(str(exc).replace(tmp + "/", ""))
            return
    runs = [describe_summary(n, i, s) for (n, i), s in zip(names, summaries, strict=True)]
    complete = not any(s.stopped or s.missing for s in summaries)
    st.session_state["panel_last_run"] = (complete, "\n".join([details, *runs]))
    st.rerun()


def _figures(store: Store, study_id: str) -> None:
    """Per panel and part: the panel's line, then each member's, in the same figures."""

    def load(cur):
        return panel_sql.panels(cur), calibration_sql.latest(cur, study_id)

    panels, rows = store.read(load)
    latest = {(r["judge_id"], r["part"]): r for r in rows}
    for panel in panels:
        parts = [r["part"] for r in rows if r["judge_id"] == panel["judge_id"]]
        if not parts:
            continue
        st.markdown(f"**{panel['name']}** · {panel['version_hash'][:8]}")
        table = [
            _line(latest.get((who["judge_id"], part)), role, who["name"], part)
            for part in parts
            for role, who in [("panel", panel), *(("member", m) for m in panel["members"])]
        ]
        st.dataframe(pd.DataFrame([t for t in table if t]), hide_index=True, width="stretch")


def _line(row: dict | None, role: str, name: str, part: str) -> dict | None:
    if row is None:
        return None
    gate = row["gate"]
    return {
        "part": part,
        "role": role,
        "judge": name,
        **figures(CalibrationOut.model_validate(row["metrics"])),
        "gate": "—" if gate is None else ("passed" if gate["passed"] else "failed"),
    }
