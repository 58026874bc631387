"""The annotator's page: one blind pair at a time, keyboard first.

Handlers are keyed by the view on screen, never by "the next pair": Streamlit may merge quick
presses into fewer reruns, and a press meant for a pair already submitted must do nothing.
Widget keys carry the random view id only, so nothing in the page names a pair or a model.
"""

from __future__ import annotations

import streamlit as st

from reviewer.app.components.keys import enter_submits
from reviewer.app.components.pair_view import show_pair
from reviewer.errors import SignoffError
from reviewer.labeling import session
from reviewer.labeling.session import Annotator, BlindPair, BriefCriterion, StudyBrief
from reviewer.store import Store

CHOICES = (
    ("1", "Response 1", "1"),
    ("2", "Response 2", "2"),
    ("tie", "Tie", "T"),
    ("both_bad", "Both bad", "B"),
)
PAIRWISE = {"1": "Response 1", "same": "Same", "2": "Response 2"}
KEYS_HELP = (
    "Keys: **1** / **2** pick a response, **T** tie, **B** both bad, **Enter** submit "
    "(**Ctrl+Enter** in the text box), **S** skip, **P** previous pair"
)


def render(store: Store, who: Annotator) -> None:
    if "brief" not in st.session_state:
        st.session_state["brief"] = session.brief(store, who)
    brief: StudyBrief = st.session_state["brief"]
    st.title(brief.title)
    st.caption(f"Signed in as {who.display_name}")
    if brief.guidelines:
        with st.expander("Guidelines"):
            st.markdown(brief.guidelines)
    _labeling(store, who)
    st.caption(KEYS_HELP)  # outside the labeling part: a Submit does not send it again
    enter_submits()


@st.fragment
def _labeling(store: Store, who: Annotator) -> None:
    """Everything a labeling click changes. A click here reruns this part only: the link is
    checked again by every write (`session.submit_and_next`), and a refused write reruns the page
    (which says so when the link is no longer valid), as every click did before."""
    if st.session_state.pop("refused", False):
        st.rerun(scope="app")
    brief: StudyBrief = st.session_state["brief"]
    view = _current_view(store, who)
    _progress(st.session_state["progress"])
    notice = st.session_state.pop("notice", None)
    if notice:
        (st.success if notice.startswith("Saved") else st.warning)(notice)
    if view is None:
        st.success("All done: every pair in your queue has a label. Thank you!")
        st.button("Revise the last pair", on_click=_previous, args=(store, who, None), shortcut="P")
        return
    raw = False
    if brief.display == "markdown":
        raw = st.toggle(
            "Show as written (the raw characters, no formatting)", key=f"raw-{view.view_id}"
        )
    show_pair(view, brief.display, raw)
    _controls(store, who, brief, view)


def _progress(p: session.Progress) -> None:
    text = f"{p.done} of {p.total} labeled"
    if p.calibration_total:
        text += f" · calibration set {p.calibration_done} of {p.calibration_total} (comes first)"
    st.progress(p.done / p.total if p.total else 1.0, text=text)


def _current_view(store: Store, who: Annotator) -> BlindPair | None:
    """The pair on screen; when there is none, the next of the queue, read with the progress."""
    if st.session_state.get("view") is None:
        page = session.next_page(store, who, st.session_state.get("skipped", []), _queue(who))
        st.session_state["progress"] = page.progress
        _open(page.view)
    return st.session_state["view"]


def _queue(who: Annotator) -> session.Queue:
    """This session's queue of pairs, kept from click to click (`reviewer.labeling.queue`)."""
    queue = st.session_state.get("queue")
    if queue is None or (queue.study_id, queue.annotator_id) != (who.study_id, who.annotator_id):
        queue = st.session_state["queue"] = session.Queue(who.study_id, who.annotator_id)
    return queue


def _open(view: BlindPair | None) -> None:
    """Make `view` the pair on screen, with the annotator's earlier label filled in."""
    st.session_state["view"] = view
    if view is None or view.prior is None:
        return
    vid, prior = view.view_id, view.prior
    st.session_state[f"choice-{vid}"] = prior.choice
    st.session_state[f"why-{vid}"] = prior.rationale
    st.session_state[f"flag-{vid}"] = bool(prior.flag_reason)
    st.session_state[f"flagwhy-{vid}"] = prior.flag_reason
    index = {c.name: i for i, c in enumerate(st.session_state["brief"].criteria)}
    for name, value in prior.criteria.items():
        if name not in index:
            continue
        if isinstance(value, dict):
            for side, score in value.items():
                st.session_state[f"crit-{vid}-{index[name]}-{side}"] = score
        else:
            st.session_state[f"crit-{vid}-{index[name]}"] = value


def _controls(store: Store, who: Annotator, brief: StudyBrief, view: BlindPair) -> None:
    """The labeling controls. Rows are horizontal containers, not `st.columns` (one block to
    send instead of one per column): a Submit redraws all of this for the next pair."""
    vid = view.view_id
    if view.prior is not None:
        st.info(
            "You labeled this pair before. Submitting again records a revision; the latest counts."
        )
    st.markdown(f"**{brief.question}**")
    _choices(store, who, vid)
    _criteria(vid, brief.criteria)
    flagged = st.checkbox("Flag this pair (broken, off-topic, needs discussion)", key=f"flag-{vid}")
    # A form, so that Ctrl+Enter in the text box submits it (Streamlit's own behaviour) while
    # Enter there adds a line; outside any text box Enter clicks Submit (its shortcut).
    with st.form(key=f"form-{vid}", border=False):
        if flagged:
            st.text_input("What is wrong with it?", key=f"flagwhy-{vid}")
        st.text_area("Why? (optional; Ctrl+Enter submits)", key=f"why-{vid}", height=80)
        st.form_submit_button(
            "Submit",
            type="primary",
            shortcut="Enter",
            width="stretch",
            on_click=_submit,
            args=(store, who, brief, vid),
        )
    row = st.container(horizontal=True)
    row.button(
        "Skip for now",
        key=f"skip-{vid}",
        shortcut="S",
        width="stretch",
        on_click=_skip,
        args=(vid,),
    )
    row.button(
        "Previous pair",
        key=f"back-{vid}",
        shortcut="P",
        width="stretch",
        on_click=_previous,
        args=(store, who, vid),
    )


@st.fragment
def _choices(store: Store, who: Annotator, vid: str) -> None:
    """The four choice buttons, the chosen one highlighted: a pick reruns these alone (or the
    whole page, which then says so, when the link was revoked since the page was opened)."""
    if st.session_state.pop("refused", False):
        st.rerun(scope="app")
    chosen = st.session_state.get(f"choice-{vid}")
    row = st.container(horizontal=True)
    for value, label, key in CHOICES:
        row.button(
            f"{label}",
            key=f"pick-{vid}-{value}",
            shortcut=key,
            width="stretch",
            type="primary" if chosen == value else "secondary",
            on_click=_choose,
            args=(store, who, vid, value),
        )


def _criteria(vid: str, criteria: tuple[BriefCriterion, ...]) -> None:
    """Pairwise criteria in one wrapping row; a study with 1-5 scales gets two columns."""
    if not criteria:
        return
    if all(c.kind == "pairwise" for c in criteria):
        row = st.container(horizontal=True)
        for i, criterion in enumerate(criteria):
            with row:
                _criterion_input(vid, i, criterion)
        return
    columns = st.columns(2)
    for i, criterion in enumerate(criteria):
        with columns[i % 2]:
            _criterion_input(vid, i, criterion)


def _criterion_input(vid: str, index: int, criterion: BriefCriterion) -> None:
    # Keys use the criterion's position: a key reaches the browser, a config name might not
    # be neutral.
    label = f"{criterion.label}: {criterion.description}"
    if criterion.kind == "pairwise":
        st.segmented_control(
            label, list(PAIRWISE), format_func=PAIRWISE.__getitem__, key=f"crit-{vid}-{index}"
        )
        return
    st.markdown(label)
    if criterion.anchors:
        st.caption(" · ".join(f"{k}: {v}" for k, v in criterion.anchors.items()))
    for side, column in zip(("1", "2"), st.columns(2), strict=True):
        with column:
            st.segmented_control(
                f"Response {side}", list(criterion.values), key=f"crit-{vid}-{index}-{side}"
            )


def _on_screen(vid: str) -> bool:
    view = st.session_state.get("view")
    return view is not None and view.view_id == vid


def _choose(store: Store, who: Annotator, vid: str, value: str) -> None:
    if not _on_screen(vid):
        return
    if not session.may_write(store, who):
        st.session_state["notice"] = f"Not saved: {session.REVOKED}"
        st.session_state["refused"] = True
        return
    st.session_state[f"choice-{vid}"] = value


def _submit(store: Store, who: Annotator, brief: StudyBrief, vid: str) -> None:
    if not _on_screen(vid):
        return  # a late press for a pair already submitted
    choice = st.session_state.get(f"choice-{vid}")
    if choice is None:
        st.session_state["notice"] = (
            "Pick Response 1, Response 2, Tie or Both bad first (keys 1, 2, T, B)."
        )
        return
    criteria: dict = {}
    for i, c in enumerate(brief.criteria):
        if c.kind == "pairwise":
            criteria[c.name] = st.session_state.get(f"crit-{vid}-{i}")
        else:
            criteria[c.name] = {s: st.session_state.get(f"crit-{vid}-{i}-{s}") for s in ("1", "2")}
    flag = ""
    if st.session_state.get(f"flag-{vid}"):
        flag = (st.session_state.get(f"flagwhy-{vid}") or "").strip() or "flagged"
    skipped = [s for s in st.session_state.get("skipped", []) if s != vid]
    why = st.session_state.get(f"why-{vid}") or ""
    try:
        page = session.submit_and_next(
            store, who, vid, choice, criteria, why, flag, skipped=skipped, queue=_queue(who)
        )
    except SignoffError as exc:
        st.session_state["notice"] = f"Not saved: {exc}"
        st.session_state["refused"] = True
        return
    st.session_state["skipped"] = skipped
    st.session_state["progress"] = page.progress
    _open(page.view)
    st.session_state["notice"] = "Saved."


def _skip(vid: str) -> None:
    if _on_screen(vid):
        st.session_state.setdefault("skipped", []).append(vid)
        st.session_state["view"] = None


def _previous(store: Store, who: Annotator, vid: str | None) -> None:
    if vid is not None and not _on_screen(vid):
        return
    view = session.open_previous(store, who, vid)
    if view is None:
        st.session_state["notice"] = "There is no earlier label to revise."
        return
    _open(view)
