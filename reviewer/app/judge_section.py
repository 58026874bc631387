"""The admin page's LLM-judge section: pick a rubric, a provider and a model, estimate the cost,
run the judge with a progress bar. API keys are read from the server's environment, never typed
into the page."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from judge.providers import KEY_ENV, MODES, PROVIDERS
from judge.runner import Progress, Settings
from reviewer import judging
from reviewer.errors import SignoffError
from reviewer.judging import JudgeChoice
from reviewer.store import Store

ACTOR = "admin page"


def render(store: Store, study_id: str) -> None:
    st.subheader("LLM judge")
    st.caption(
        "Judges every pair in both orders; answers are cached, so running again pays only for "
        "what is missing. Keys come from the server's environment "
        f"({', '.join(sorted(set(KEY_ENV.values())))}); a local server needs none."
    )
    _last_run()
    with st.form("judge_run"):
        rubric_upload = st.file_uploader("Rubric (TOML or YAML)", type=["toml", "yaml", "yml"])
        rubric_path = st.text_input("...or a rubric file on the server", key="judge_rubric_path")
        left, right = st.columns(2)
        provider = left.selectbox("Provider", PROVIDERS, index=1, key="judge_provider")
        model = right.text_input("Model", key="judge_model", placeholder="llama3.1:8b")
        base_url = left.text_input(
            "Base URL (OpenAI-compatible servers)",
            key="judge_base_url",
            placeholder="http://localhost:11434/v1",
        )
        mode = right.selectbox("Structured output", ["auto", *MODES], key="judge_mode")
        concurrency = left.number_input("Calls at once", 1, 256, 16, key="judge_concurrency")
        max_cost = right.number_input(
            "Budget in USD (0 = none)", 0.0, 100000.0, 0.0, key="judge_max_cost"
        )
        override = st.text_input(
            "Override reason: only to score all pairs without a passing gate (logged, and "
            "stamped in red on the report)",
            key="judge_override",
        )
        buttons = st.columns(4)
        estimate = buttons[0].form_submit_button("Estimate cost (development pairs)")
        calibrate = buttons[1].form_submit_button("Calibrate (development pairs)")
        final = buttons[2].form_submit_button("Final check (held-out pairs)")
        run_all = buttons[3].form_submit_button("Run on all pairs", type="primary")
    if not (estimate or calibrate or final or run_all):
        return
    if not model or not (rubric_upload or rubric_path):
        st.error("Give a rubric and a model.")
        return
    with tempfile.TemporaryDirectory() as tmp:
        if rubric_upload is not None:
            path = Path(tmp) / Path(rubric_upload.name).name
            path.write_bytes(rubric_upload.getvalue())
        else:
            path = Path(rubric_path)
        choice = JudgeChoice(
            provider=provider,
            model=model,
            rubric_path=path,
            base_url=base_url or None,
            mode=mode,
            settings=Settings(concurrency=int(concurrency), max_cost=max_cost or None),
        )
        try:
            if estimate:
                est = judging.dry_run(store, study_id, choice, "development")
                st.code(judging.describe_estimate(est, model), language=None)
                return
            bar = st.progress(0.0, text="starting the judge...")

            def show(p: Progress) -> None:
                bar.progress(
                    p.done / p.total if p.total else 1.0,
                    text=f"{p.done}/{p.total} verdicts · {p.calls} calls · ${p.cost_usd:,.4f}",
                )

            if run_all:
                judge, summary = judging.run(
                    store, study_id, choice, "all", ACTOR, show, override or None
                )
                name, judge_id, details = judge.name, judge.judge_id, ""
            else:
                result, summary = judging.calibrate(store, study_id, choice, ACTOR, final, show)
                name, judge_id = result.name, result.judge_id
                details = "\n" + judging.describe_calibration(result)
        except SignoffError as exc:
            st.error(str(exc).replace(tmp + "/", ""))
            return
    # Rerun so that the sections below include the new verdicts; the summary survives it.
    st.session_state["judge_last_run"] = (
        not (summary.stopped or summary.missing),
        f"{summary.verdicts}/{summary.needed} verdicts stored for {name}.",
        judging.describe_summary(name, judge_id, summary) + details,
    )
    st.rerun()


def _last_run() -> None:
    if "judge_last_run" in st.session_state:
        complete, headline, details = st.session_state["judge_last_run"]
        (st.success if complete else st.warning)(headline)
        st.code(details, language=None)
