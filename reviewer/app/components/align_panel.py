"""The admin page's "Align with the experts" section: few-shot examples from the development
pairs where the experts agreed and the judge did not, written as a new rubric version beside the
old one, with the development agreement before and after. The held-out pairs are never shown to
the judge here; the final check on them still decides the gate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from judge.providers import MODES, PROVIDERS
from judge.runner import Settings
from reviewer.errors import SignoffError
from reviewer.judging import align
from reviewer.judging.options import JudgeOptions
from reviewer.store import Store

ACTOR = "admin page"
_LAST = "align_last"


@dataclass(frozen=True)
class AlignForm:
    rubric_path: str
    provider: str
    model: str
    base_url: str
    mode: str
    max_examples: int
    min_experts: int


def render(store: Store, study_id: str) -> None:
    st.subheader("Align with the experts")
    st.caption(
        "Calibrates the judge on the development pairs, turns the pairs where the experts all "
        "agreed and the judge did not into few-shot examples (with the experts' rationales), "
        "writes them as a new rubric version beside the rubric file (a new judge), and "
        "calibrates that judge on the same pairs. Held-out pairs never enter a prompt: run the "
        "final check with the new rubric to decide the gate."
    )
    _last()
    form = _form()
    if form is None:
        return
    if not form.rubric_path or not form.model:
        st.error("Give a rubric file on the server and a model.")
        return
    options = JudgeOptions(
        provider=form.provider,
        model=form.model,
        rubric_path=Path(form.rubric_path),
        base_url=form.base_url or None,
        mode=form.mode,
        settings=Settings(),
    )
    try:
        with st.spinner("aligning: judging the development pairs, before and after..."):
            result = align.align(
                store, study_id, options, ACTOR,
                max_examples=form.max_examples, min_experts=form.min_experts,
            )  # fmt: skip
    except SignoffError as exc:
        st.error(str(exc))
        return
    st.session_state[_LAST] = result
    st.rerun()


def _form() -> AlignForm | None:
    """The section's form, defaulting to what the judge form above holds; None until pressed."""
    with st.form("judge_align"):
        rubric = st.text_input(
            "Rubric file on the server (the new version is written beside it)",
            value=st.session_state.get("judge_rubric_path", ""),
            key="align_rubric_path",
        )
        left, right = st.columns(2)
        provider = left.selectbox("Provider", PROVIDERS, index=1, key="align_provider")
        model = right.text_input(
            "Model", value=st.session_state.get("judge_model", ""), key="align_model"
        )
        base_url = left.text_input(
            "Base URL (OpenAI-compatible servers)",
            value=st.session_state.get("judge_base_url", ""),
            key="align_base_url",
        )
        mode = right.selectbox("Structured output", ["auto", *MODES], key="align_mode")
        max_examples = left.number_input(
            "Few-shot examples, at most", 1, 50, align.DEFAULT_MAX_EXAMPLES, key="align_max"
        )
        min_experts = right.number_input(
            "Experts who all agreed, at least", 2, 50, align.DEFAULT_MIN_EXPERTS, key="align_min"
        )
        pressed = st.form_submit_button("Align with the experts (development pairs)")
    if not pressed:
        return None
    return AlignForm(rubric, provider, model, base_url, mode, int(max_examples), int(min_experts))


def _last() -> None:
    """The last alignment: before and after on the development pairs, and what it wrote."""
    result: align.AlignResult | None = st.session_state.get(_LAST)
    if result is None:
        return
    if result.after is None:
        st.info("Nothing to learn from: the judge agreed with the experts wherever they agreed.")
    else:
        st.success(
            f"Aligned: {len(result.examples)} few-shot examples, new judge "
            f"{result.aligned_judge_id}, rubric {result.rubric_path}."
        )
    st.dataframe(pd.DataFrame(before_after(result)), hide_index=True)
    st.code(align.describe_alignment(result), language=None)


def before_after(result: align.AlignResult) -> list[dict]:
    """One row per measure: development agreement before and after (None before any after)."""
    return [
        {
            "measure": label,
            "before": _value(pick(result.before)),
            "after": None if result.after is None else _value(pick(result.after)),
        }
        for label, pick in align.MEASURES
    ]


def _value(i: object) -> float | None:
    return getattr(i, "value", None)
