"""The report's lines about a judge's rubric: which version it applied (its hash), how many
few-shot examples it shows, and whether `signoff judge align` made it from another judge."""

from __future__ import annotations

from judge.rubric import Rubric
from reviewer.report.model import JudgeOut, RubricVersion
from reviewer.store import judge_rubrics
from reviewer.store.connection import Cursor


def with_rubrics(cur: Cursor, study_id: str, judges: list[JudgeOut]) -> list[JudgeOut]:
    """`judges` with their rubric versions, read from the judges table and the align events."""
    rubrics = judge_rubrics.rubrics(cur, study_id)
    aligned = judge_rubrics.alignments(cur, study_id)
    out = []
    for j in judges:
        stored = rubrics.get(j.judge_id)
        if stored is None:
            out.append(j)
            continue
        rubric = Rubric.model_validate(stored)
        made = aligned.get(j.judge_id)
        version = RubricVersion(
            hash=rubric.content_hash(),
            examples=len(rubric.examples),
            aligned_from=made["base_judge_id"] if made else None,
            aligned_examples=len(made["examples"]) if made else None,
        )
        out.append(j.model_copy(update={"rubric": version}))
    return out


def rubric_rows(j: JudgeOut) -> list[list[str]]:
    """The judge table's row about its rubric (none for imported verdicts)."""
    r = j.rubric
    if r is None:
        return []
    text = f"{r.hash[:12]}, {r.examples} few-shot examples"
    if r.aligned_from is not None:
        text = (
            f"{r.hash[:12]}, aligned with the experts from judge {r.aligned_from}: "
            f"{r.aligned_examples} few-shot examples from development pairs"
        )
        if r.examples != r.aligned_examples:
            text += f" ({r.examples} in all)"
    return [["rubric version", text]]
