"""All terminal text: how results look to a person at a prompt (JSON goes out as data)."""

from __future__ import annotations

from reviewer.checks.results import Checklist
from reviewer.study.status import StudyStatus, annotator_row


def format_status(st: StudyStatus) -> str:
    frozen = (
        f"frozen {st.frozen_at:%Y-%m-%d %H:%M}" if st.frozen_at else "not frozen (no label yet)"
    )
    strata = ", ".join(f"{k} {v}" for k, v in st.strata.items())
    cal = st.calibration
    lines = [
        f"study {st.study}" + (f": {st.title}" if st.title else ""),
        f"  {st.pairs} pairs ({strata}); {frozen}",
        f"  calibration: {cal.pairs} pairs, {cal.labels} labels, "
        f"{cal.pairs_with_two_or_more} with >= 2 annotators, {cal.pairs_complete} complete",
        f"  labels: {st.labels} rows on {st.labeled_pairs} pairs",
    ]
    if st.identical_outputs:
        lines.append(f"  {st.identical_outputs} pairs have identical outputs (flagged)")
    if st.annotators:
        lines.append("  annotator                 role       done/assigned   calibration")
        for row in map(annotator_row, st.annotators):
            done = f"{row['labeled']:>4}" + (
                "" if row["assigned"] is None else f"/{row['assigned']}"
            )
            lines.append(
                f"  {str(row['annotator'])[:24]:<25} {row['role']:<10} {done:<15} "
                f"{row['calibration']:>6}"
            )
    else:
        lines.append("  no annotators yet: signoff annotators add NAME...")
    for judge, n in st.judges.items():
        lines.append(f"  judge {judge}: {n} verdicts")
    return "\n".join(lines)


def imported_text(file: object, study_id: str, stored: int, what: str) -> str:
    """What an import of labels or verdicts did (0 stored: the same file came before)."""
    if stored == 0:
        return f"{file} was already imported into {study_id!r}; nothing to do"
    return f"imported {stored} {what} into {study_id!r}"


def checklist_text(study: str, checklist: Checklist) -> str:
    """The checklist's verdict, then each line that did not pass (fail or not measured)."""
    passing = len(checklist.lines) - len(checklist.failing)
    word = "PASS" if checklist.passed else "FAIL"
    out = [f"checklist {study}: {word} ({passing} of {len(checklist.lines)} lines pass)"]
    out += [f"  {x.status.upper()}: {x.rule}: {x.measured}" for x in checklist.failing]
    return "\n".join(out)
