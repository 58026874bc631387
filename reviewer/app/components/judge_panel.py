"""The admin page's LLM-judge section: pick a rubric, a provider and a model, estimate the cost,
run the judge with a progress bar. API keys are read from the server's environment, never typed
into the page."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from judge.batch import BatchSettings, BatchSummary
from judge.providers import KEY_ENV, MODES, PROVIDERS
from judge.runner import RunProgress, Settings
from judge.summary import Summary
from reviewer.app.components import batch_table
from reviewer.errors import SignoffError
from reviewer.judging import service
from reviewer.judging.batch import describe_batches
from reviewer.judging.describe import describe_calibration, describe_estimate, describe_summary
from reviewer.judging.options import JudgeOptions
from reviewer.store import Store

ACTOR = "admin page"
# The page submits and checks each batch once, then returns: a batch takes up to 24 h.
NO_WAIT = BatchSettings(poll_interval=0.0, wait_until_done=False)


def render(store: Store, study_id: str) -> None:
    st.subheader("LLM judge")
    st.caption(
        "Judges every pair in both orders; answers are cached, so running again pays only for "
        "what is missing. Keys come from the server's environment "
        f"({', '.join(sorted(set(KEY_ENV.values())))}); a local server needs none."
    )
    _last_run()
    batch_table.render(store, study_id)
    form = _form()
    if form is None:
        return
    if not form.model or not (form.rubric_upload or form.rubric_path):
        st.error("Give a rubric and a model.")
        return
    _run(store, study_id, form)


@dataclass(frozen=True)
class JudgeForm:
    """What the admin filled in, and which button they pressed."""

    action: str  # estimate | calibrate | final | run_all
    rubric_upload: Any
    rubric_path: str
    provider: str
    model: str
    base_url: str
    mode: str
    concurrency: int
    max_cost: float
    override: str
    batch: bool  # "Run on all pairs" through the provider's batch API, without waiting


def _form() -> JudgeForm | None:
    """The judge form; the submitted values, or None until a button is pressed."""
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
        batch = st.checkbox(
            "Run on all pairs as a batch (half price, results within 24 h): submits and returns; "
            "press again later to collect the batches that ended",
            key="judge_batch",
        )
        buttons = st.columns(4)
        pressed = {}
        pressed["estimate"] = buttons[0].form_submit_button("Estimate cost (development pairs)")
        pressed["calibrate"] = buttons[1].form_submit_button("Calibrate (development pairs)")
        pressed["final"] = buttons[2].form_submit_button("Final check (held-out pairs)")
        pressed["run_all"] = buttons[3].form_submit_button("Run on all pairs", type="primary")
    action = next((name for name, on in pressed.items() if on), None)
    if action is None:
        return None
    return JudgeForm(
        action, rubric_upload, rubric_path, provider, model, base_url, mode,
        int(concurrency), max_cost, override, batch,
    )  # fmt: skip


def _run(store: Store, study_id: str, form: JudgeForm) -> None:
    """Estimate, calibrate or run as the form asks; the outcome survives the rerun that follows."""
    with tempfile.TemporaryDirectory() as tmp:
        if form.rubric_upload is not None:
            path = Path(tmp) / Path(form.rubric_upload.name).name
            path.write_bytes(form.rubric_upload.getvalue())
        else:
            path = Path(form.rubric_path)
        options = JudgeOptions(
            provider=form.provider,
            model=form.model,
            rubric_path=path,
            base_url=form.base_url or None,
            mode=form.mode,
            settings=Settings(concurrency=form.concurrency, max_cost=form.max_cost or None),
        )
        try:
            if form.action == "estimate":
                est = service.dry_run(store, study_id, options, "development")
                st.code(describe_estimate(est, form.model), language=None)
                return
            name, judge_id, summary, details = _judge(store, study_id, options, form)
        except SignoffError as exc:
            st.error(str(exc).replace(tmp + "/", ""))
            return
    # Rerun so that the sections below include the new verdicts; the summary survives it.
    waiting = isinstance(summary, BatchSummary) and summary.still_open
    st.session_state["judge_last_run"] = (
        not (summary.stopped or summary.missing),
        f"{summary.verdicts}/{summary.needed} verdicts stored for {name}."
        + (f" {len(waiting)} batches still running at the provider." if waiting else ""),
        describe_summary(name, judge_id, summary) + details,
    )
    st.rerun()


def _judge(
    store: Store, study_id: str, options: JudgeOptions, form: JudgeForm
) -> tuple[str, str, Summary, str]:
    """Run or calibrate with a progress bar: the judge's name and id, the summary, details."""
    bar = st.progress(0.0, text="starting the judge...")

    def show(p: RunProgress) -> None:
        bar.progress(
            p.done / p.total if p.total else 1.0,
            text=f"{p.done}/{p.total} verdicts · {p.calls} calls · ${p.cost_usd:,.4f}",
        )

    if form.action == "run_all":
        judge, summary = service.run(
            store, study_id, options, "all", ACTOR, on_progress=show,
            override=form.override or None, batch=NO_WAIT if form.batch else None,
        )  # fmt: skip
        details = "\n" + describe_batches(summary) if isinstance(summary, BatchSummary) else ""
        return judge.name, judge.judge_id, summary, details
    result, summary = service.calibrate(
        store, study_id, options, ACTOR, final=form.action == "final", on_progress=show
    )
    return result.name, result.judge_id, summary, "\n" + describe_calibration(result)


def _last_run() -> None:
    if "judge_last_run" in st.session_state:
        complete, headline, details = st.session_state["judge_last_run"]
        (st.success if complete else st.warning)(headline)
        st.code(details, language=None)
