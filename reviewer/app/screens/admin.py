"""The engineer's page: create or open a study, add annotators, watch progress and agreement,
export labels. Reached only with the admin secret; annotator tokens never open it."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from reviewer.analysis.tie_rules import RULE_TEXT
from reviewer.app.components import (
    align_panel,
    calibration_panel,
    judge_panel,
    panel_of_judges,
)
from reviewer.app.context import app_url, default_study
from reviewer.app.study_cache import current_exports, current_report
from reviewer.errors import SignoffError
from reviewer.report.model import Report, WinRateOut
from reviewer.report.render import to_html, to_markdown
from reviewer.store import Store
from reviewer.store import studies as study_sql
from reviewer.study.annotators import add_annotators
from reviewer.study.lifecycle import ImportOutcome, import_study_files
from reviewer.study.status import annotator_row, study_status

ACTOR = "admin page"
LOG = logging.getLogger(__name__)


def render(store: Store) -> None:
    st.title("signoff · study admin")
    names = store.read(study_sql.list_studies)
    with st.expander("Create a study from a pairs file", expanded=not names):
        _create(store)
    if not names:
        st.info("No study yet: create one above, or with `signoff import` in a terminal.")
        return
    preferred = st.session_state.get("admin_study") or default_study()
    index = names.index(preferred) if preferred in names else len(names) - 1
    study_id = st.selectbox("Study", names, index=index, key="admin_study")
    status = study_status(store, study_id)
    _overview(status)
    _annotators(store, study_id, status)
    _strata(status)
    # One report per change of the study: the agreement table and the report section read it.
    report = current_report(store, study_id)
    _agreement(report)
    judge_panel.render(store, study_id)
    align_panel.render(store, study_id)
    calibration_panel.render(store, study_id)
    panel_of_judges.render(store, study_id)
    _report(store, study_id, report)
    _export(store, study_id)


def _create(store: Store) -> None:
    with st.form("create_study", clear_on_submit=False):
        name = st.text_input("Study name", placeholder="support-v3-vs-v2")
        pairs = st.file_uploader("Pairs file", type=["jsonl", "csv", "parquet"])
        config = st.file_uploader("Study config (optional)", type=["toml", "yaml", "yml"])
        if not st.form_submit_button("Create study"):
            return
    if not name or pairs is None:
        st.error("Give the study a name and a pairs file.")
        return
    outcome = _import_uploads(store, name, pairs, config)
    if outcome is None:
        return
    for warning in outcome.warnings:
        st.warning(warning)
    st.session_state["admin_study"] = name
    st.success(
        f"Study {name!r}: {outcome.action}, {outcome.pairs} pairs, "
        f"{outcome.calibration} in the calibration set."
    )


def import_uploads(store: Store, name: str, pairs, config) -> tuple[ImportOutcome | None, str]:
    """Create the study from uploaded files as `signoff import` would: the outcome, or None and
    the message the CLI would print (file names as uploaded). An unexpected error is logged
    with its traceback on the server and shown only as a short message."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            outcome = import_study_files(
                store,
                name,
                ACTOR,
                pairs=_save(tmp, pairs),
                config=_save(tmp, config) if config else None,
            )
        except SignoffError as exc:
            return None, str(exc).replace(tmp + "/", "")
        except Exception:  # a bug: the traceback goes to the server log, never to the page
            LOG.exception("creating study %r from uploaded files failed", name)
            return None, (
                "internal error while reading the uploaded files (a bug in signoff); the "
                "details are in the app's log"
            )
    return outcome, ""


def _import_uploads(store: Store, name: str, pairs, config) -> ImportOutcome | None:
    outcome, message = import_uploads(store, name, pairs, config)
    if outcome is None:
        st.error("The study was not created.")
        st.code(message, language=None)
    return outcome


def _save(folder: str, upload) -> Path:
    base = Path(upload.name).name
    if base in ("", ".", "..") or base.startswith("."):
        base = "upload" + Path(upload.name).suffix
    path = Path(folder) / base
    path.write_bytes(upload.getvalue())
    return path


def _overview(status) -> None:
    cols = st.columns(4)
    cols[0].metric("Pairs", status.pairs)
    cols[1].metric("Labels", status.labels)
    cols[2].metric(
        "Calibration pairs with 2+ labels",
        f"{status.calibration.pairs_with_two_or_more}/{status.calibration.pairs}",
    )
    cols[3].metric("Frozen", status.frozen_at.strftime("%Y-%m-%d") if status.frozen_at else "no")


def _annotators(store: Store, study_id: str, status) -> None:
    st.subheader("Annotators")
    if status.annotators:
        table = pd.DataFrame([annotator_row(a) for a in status.annotators])
        st.dataframe(table, hide_index=True, width="stretch")
        st.caption("Rows with role *sample* are the demo's simulated labels, not real people.")
    with st.form("add_annotators"):
        text = st.text_area("Add annotators (one name per line)")
        if st.form_submit_button("Add and show their links"):
            names = [n.strip() for n in text.splitlines() if n.strip()]
            try:
                made = add_annotators(store, study_id, names, ACTOR)
            except SignoffError as exc:
                st.error(str(exc))
            else:
                st.success("Send each person their own link. It is shown only now.")
                for a in made:
                    st.markdown(f"**{a.display_name}**")
                    st.code(f"{app_url()}/?token={a.token}", language=None)


def _strata(status) -> None:
    st.subheader("Progress by stratum")
    rows = [
        {"stratum": s, "pairs": n, "labeled pairs": status.stratum_labeled.get(s, 0)}
        for s, n in status.strata.items()
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def _agreement(report: Report) -> None:
    st.subheader("Human agreement (overall preference)")
    if not report.agreement.pairwise:
        st.caption("Shown once two annotators share at least 10 labeled pairs.")
        return
    table = pd.DataFrame(
        [
            {
                "annotator_a": r.rater_a,
                "annotator_b": r.rater_b,
                "shared": r.shared,
                "agreement": r.agreement,
                "kappa": r.kappa,
            }
            for r in report.agreement.pairwise
        ]
    )
    st.dataframe(table.round(3), hide_index=True, width="stretch")
    st.caption("Cohen's kappa on candidate / baseline / tie, latest label per pair.")


def _report(store: Store, study_id: str, report: Report) -> None:
    st.subheader("Sign-off report")
    if _hidden_until_unblinded(store, study_id):
        st.info(
            "Win rates and the verdict stay hidden until the study is unblinded "
            "(`signoff unblind`), as the study config asks."
        )
        return
    color = {"SIGN-OFF": "green", "BLOCKED": "red"}.get(report.verdict.decision, "orange")
    st.markdown(f"### :{color}[{report.verdict.decision}]")
    st.markdown(report.verdict.reason)
    enough = st.success if report.verdict.enough_evidence else st.info
    enough(report.verdict.evidence_text)
    st.caption(report.verdict.guarantee_text)
    rule = report.verdict.tie_rule
    w = report.humans.win_rate
    rows = [
        {
            "stratum": name,
            "deciding rate": r.by_tie_rule[rule].rate,
            "deciding low": _bound(report, r, "low"),
            "deciding high": _bound(report, r, "high"),
            "win rate": r.rate,
            "low": r.low,
            "high": r.high,
            "candidate": r.candidate,
            "baseline": r.baseline,
            "tie": r.tie,
            "both bad": r.both_bad,
        }
        for name, r in {"overall": w, **report.humans.by_stratum}.items()
    ]
    st.dataframe(pd.DataFrame(rows).round(3), hide_index=True, width="stretch")
    st.caption(
        f"deciding rate: {RULE_TEXT[rule]} (signoff.ties = {rule}), with the interval the "
        "verdict reads; win rate, low, high: decisive pairs only (ties left out), Wilson 95%."
    )
    _tie_rules(report)
    _quality(report)
    left, mid, right = st.columns(3)
    left.download_button(
        "Report (HTML)", to_html(report), f"{study_id}-report.html", mime="text/html"
    )
    mid.download_button("Report (Markdown)", to_markdown(report), f"{study_id}-report.md")
    right.download_button(
        "Report (JSON)",
        report.model_dump_json(indent=2),
        f"{study_id}-report.json",
        mime="application/json",
    )


def _bound(report: Report, w: WinRateOut, side: str) -> float | None:
    """The deciding rule's interval bound the verdict reads (anytime-valid or fixed-n)."""
    r = w.by_tie_rule[report.verdict.tie_rule]
    anytime = report.verdict.guarantee == "anytime-valid"
    return getattr(r, f"anytime_{side}" if anytime else side)


def _tie_rules(report: Report) -> None:
    st.markdown("**The overall rate under each tie rule** (one decides)")
    rows = [
        {
            "tie rule": RULE_TEXT[name],
            "decides": name == report.verdict.tie_rule,
            "rate": r.rate,
            "comparisons": r.comparisons,
            "anytime low": r.anytime_low,
            "anytime high": r.anytime_high,
            "fixed-n low": r.low,
            "fixed-n high": r.high,
        }
        for name, r in report.humans.win_rate.by_tie_rule.items()
    ]
    st.dataframe(pd.DataFrame(rows).round(3), hide_index=True, width="stretch")


def _quality(report: Report) -> None:
    q = report.quality
    cap = "no cap" if q.max_both_bad_share is None else f"cap {q.max_both_bad_share:.0%}"
    share = "n/a" if q.both_bad_share is None else f"{q.both_bad_share:.0%}"
    st.markdown(
        f"**Both bad:** {q.both_bad_items} of {q.items} items ({share}; "
        f"{q.both_bad_labels} of {q.labels} labels), {cap}. **Flagged:** {q.flagged_items} "
        + ("items, left out of the win rates." if q.exclude_flagged else "items, counted.")
    )
    if q.flagged:
        st.dataframe(
            pd.DataFrame([f.model_dump() for f in q.flagged]), hide_index=True, width="stretch"
        )


def _hidden_until_unblinded(store: Store, study_id: str) -> bool:
    """Whether the config asks to hide who wins from the admin until unblinding."""
    study_row = store.read(lambda cur: study_sql.get_study(cur, study_id))
    return study_row.config.signoff.blind_admin_until_unblinded and study_row.unblinded_at is None


def _export(store: Store, study_id: str) -> None:
    st.subheader("Export labels")
    files = current_exports(store, study_id)
    if not files.rows:
        st.caption("No labels yet.")
        return
    left, right = st.columns(2)
    left.download_button("Labels as CSV", files.csv, f"{study_id}-labels.csv", mime="text/csv")
    right.download_button(
        "Labels as JSONL", files.jsonl, f"{study_id}-labels.jsonl", mime="application/jsonl"
    )
