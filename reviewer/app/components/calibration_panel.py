"""The admin page's calibration section: every judge version's calibration side by side, and a
disagreement browser (pairs where the judge and the human majority differ, with both outputs,
the humans' labels and rationales and the judge's rationale) to fix the rubric by."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from reviewer.analysis.intervals import Interval
from reviewer.judging.describe import interval_text
from reviewer.judging.scope import prompt_text
from reviewer.store import Store, report_data
from reviewer.store import calibrations as calibration_sql
from reviewer.study.lifecycle import require_study


def render(store: Store, study_id: str) -> None:
    st.subheader("Judge calibration")
    rows = store.read(lambda cur: calibration_sql.latest(cur, study_id))
    if not rows:
        st.caption("No judge calibrated yet: use Calibrate above, or `signoff judge calibrate`.")
        return
    st.dataframe(pd.DataFrame([_row(r) for r in rows]), hide_index=True, width="stretch")
    versions = list(dict.fromkeys(r["judge_id"] for r in rows))
    names = {r["judge_id"]: f"{r['name']} · {r['version_hash'][:8]}" for r in rows}
    chosen = st.selectbox(
        "Disagreements of judge version", versions, format_func=names.get, key="cal_judge"
    )
    for row in (r for r in rows if r["judge_id"] == chosen):
        gate = row["gate"]
        if gate:
            (st.success if gate["passed"] else st.error)(
                f"Gate on the {row['part']} pairs: {'passed' if gate['passed'] else 'failed'}"
            )
            for rule in gate["rules"]:
                st.markdown(f"{'✅' if rule['passed'] else '❌'} {rule['text']}")
        _details(row)
    _disagreements(store, study_id, chosen, rows)


def _row(r: dict) -> dict:
    m, gate = r["metrics"], r["gate"]
    served = m.get("served_models") or {}  # absent from calibrations stored before them
    return {
        "judge": r["name"],
        "version": r["version_hash"][:8],
        "part": r["part"],
        "usable": m["usable"],
        "one order only": m.get("one_order_only", 0),  # absent from calibrations before it
        "agreement (decisive)": m["decisive_agreement"]["value"],
        "per verdict": _value(m.get("per_verdict_agreement")),
        "both orders agree": _value(m.get("positional_consistency")),
        "r vs humans": _value(m.get("correlation")),
        "chance p": m.get("chance_p_value"),
        "r of 'longer wins'": _value((m.get("length_baseline") or {}).get("correlation")),
        "kappa vs humans": m["vs_humans_with_ties"]["kappa"]["value"],
        "humans' kappa": (m["humans"].get("kappa") or {}).get("value"),
        "flip rate": m["flip_rate"],
        "picks longer": m["judge_picks_longer"],
        "served by": ", ".join(served) or "—",
        "gate": "—" if gate is None else ("passed" if gate["passed"] else "failed"),
    }


def _value(interval: dict | None) -> float | None:
    return None if interval is None else interval["value"]


def _details(row: dict) -> None:
    """Per criterion, per stratum, the measures against the humans with their intervals ("n
    too small" below MIN_INTERVAL_ITEMS items), the length baseline and the confusion matrix."""
    m = row["metrics"]
    with st.expander(f"Details: {row['part']} pairs"):
        groups = [("criterion", m["by_criterion"]), ("stratum", m["by_stratum"])]
        detail = [
            {"by": kind, "name": name, "agreement": iv["value"], "95% interval": _text(iv),
             "pairs": iv["n"]}
            for kind, items in groups
            for name, iv in items.items()
        ]  # fmt: skip
        if detail:
            st.dataframe(pd.DataFrame(detail).round(3), hide_index=True, width="stretch")
        measures = _measures(m)
        if measures:
            st.dataframe(pd.DataFrame(measures), hide_index=True, width="stretch")
        st.markdown("Confusion: human majority (rows) vs judge (columns)")
        st.dataframe(pd.DataFrame(m["confusion"]).T, width="stretch")
        st.caption(
            f"Picks the longer response: judge {_pct(m['judge_picks_longer'])}, humans "
            f"{_pct(m['humans_pick_longer'])}. First response picked "
            f"{_pct(m['first_position_rate'])}; flip rate {_pct(m['flip_rate'])}."
        )


def _text(interval: dict | None, items: int | None = None) -> str:
    return interval_text(None if interval is None else Interval(**interval), items)


def _measures(m: dict) -> list[dict]:
    """The judge and the rule "the longer response wins", measured alike, as table rows."""
    usable, length = m["usable"], m.get("length_baseline")
    per = m.get("per_verdict_agreement")
    rows = [
        ("agreement with the human majority, decisive pairs", m["decisive_agreement"], None),
        ("agreement with each human label", m["vs_humans_with_ties"]["agreement"], usable),
        ("humans among themselves", m["humans"].get("agreement"), usable),
        ("each order's verdict on its own (n = verdicts)", per, per and per["n"] // 2),
        ("both orders agree", m.get("positional_consistency"), None),
        ("correlation with the humans' preference (r)", m.get("correlation"), None),
    ]
    if length:
        rows += [
            ("'longer wins': agreement with the majority", length["decisive_agreement"], None),
            ("'longer wins': agreement with each label", length["vs_humans_with_ties"], usable),
            ("'longer wins': correlation (r)", length["correlation"], None),
        ]
    return [
        {"measure": name, "value (95% interval)": _text(iv, items), "n": iv["n"]}
        for name, iv, items in rows
        if iv is not None
    ]


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def _disagreements(store: Store, study_id: str, judge_id: str, rows: list[dict]) -> None:
    ids = sorted(
        {i for r in rows if r["judge_id"] == judge_id for i in r["metrics"]["disagreements"]}
    )
    st.caption(f"{len(ids)} calibration pairs where the judge and the human majority differ.")
    if not ids:
        return

    def load(cur):
        study = require_study(cur, study_id)
        labels = [r for r in report_data.latest_labels(cur, study_id) if r["pair_id"] in ids]
        verdicts = [
            v
            for v in report_data.verdicts(cur, study_id)
            if v["judge_id"] == judge_id and v["pair_id"] in ids
        ]
        blind = study.config.signoff.blind_admin_until_unblinded and study.unblinded_at is None
        return labels, verdicts, report_data.pairs(cur, study_id), blind

    labels, verdicts, pairs, blind = store.read(load)
    if blind:
        st.info(
            "The disagreements show which output each side preferred, so they stay hidden "
            "until the study is unblinded, as the study config asks."
        )
        return
    for pair_id in ids:
        pair = pairs[pair_id]
        mine = {v["presented"]: v for v in verdicts if v["pair_id"] == pair_id}
        judge = {order: v["preference"] for order, v in mine.items()}
        humans = [r for r in labels if r["pair_id"] == pair_id]
        title = (
            f"{pair_id} · humans: {', '.join(r['preference'] for r in humans)} · judge: "
            f"{judge.get('candidate_first', '?')} / {judge.get('baseline_first', '?')}"
        )
        with st.expander(title):
            # Untrusted model text: st.text renders it verbatim, never as HTML.
            st.markdown("**Prompt**")
            st.text(prompt_text(pair["prompt_json"]))
            left, right = st.columns(2)
            left.markdown("**Candidate**")
            left.text(pair["candidate"])
            right.markdown("**Baseline**")
            right.text(pair["baseline"])
            st.markdown("**Human labels**")
            for r in humans:
                st.text(f"{r['annotator']}: {r['preference']}" + (
                    f" ({r['rationale']})" if r["rationale"] else ""
                ))  # fmt: skip
            st.markdown("**Judge rationale**")
            for order in ("candidate_first", "baseline_first"):
                if order in mine:
                    st.text(f"{order}: {judge[order]}: {mine[order]['rationale']}")
