"""Where a study stands: pairs, strata, annotators, labels and calibration progress."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from reviewer.store import Store, progress
from reviewer.store.connection import Cursor
from reviewer.store.people import QUEUE_ROLES
from reviewer.study.lifecycle import require_study


class AnnotatorProgress(BaseModel):
    annotator_id: str
    display_name: str
    role: str = Field(description="annotator (has a link), sample (demo data) or imported.")
    assigned: int = Field(description="Pairs in this annotator's queue.")
    labeled: int = Field(description="Distinct pairs this annotator has labeled.")
    calibration_assigned: int
    calibration_labeled: int


class CalibrationProgress(BaseModel):
    pairs: int = Field(description="Pairs in the calibration set.")
    labels: int = Field(description="Latest labels on calibration pairs, all annotators.")
    pairs_with_two_or_more: int = Field(description="Pairs with labels from >= 2 annotators.")
    pairs_complete: int = Field(description="Pairs labeled by everyone they were assigned to.")


class StudyStatus(BaseModel):
    """The JSON of `signoff status --json`; fields are stable."""

    study: str
    title: str
    created_at: datetime
    frozen_at: datetime | None
    source: str
    pairs: int
    identical_outputs: int
    strata: dict[str, int]
    stratum_labeled: dict[str, int] = Field(description="Stratum -> pairs with a label.")
    calibration: CalibrationProgress
    annotators: list[AnnotatorProgress]
    labels: int = Field(description="Label rows, revisions included.")
    labeled_pairs: int = Field(description="Pairs with at least one label.")
    judges: dict[str, int] = Field(description="Judge name -> verdicts stored.")


def study_status(store: Store, study_id: str) -> StudyStatus:
    return store.read(lambda cur: _status(cur, study_id))


def _status(cur: Cursor, study_id: str) -> StudyStatus:
    study = require_study(cur, study_id)
    pairs = progress.pair_counts(cur, study_id)
    labels = progress.label_counts(cur, study_id)
    return StudyStatus(
        study=study.study_id,
        title=study.config.title,
        created_at=study.created_at,
        frozen_at=study.frozen_at,
        source=study.source,
        pairs=sum(pairs["strata"].values()),
        identical_outputs=pairs["identical"],
        strata=pairs["strata"],
        stratum_labeled=labels["by_stratum"],
        calibration=CalibrationProgress(
            pairs=pairs["calibration"], **progress.calibration_counts(cur, study_id)
        ),
        annotators=[AnnotatorProgress(**a) for a in progress.annotator_counts(cur, study_id)],
        labels=labels["labels"],
        labeled_pairs=labels["labeled_pairs"],
        judges=progress.verdict_counts(cur, study_id),
    )


def annotator_row(a: AnnotatorProgress) -> dict[str, str | int | None]:
    """One annotator as people read it. Sample and imported annotators have labels but no
    queue: they show what they labeled, with no "of N assigned" (which would read "40/0")."""
    queued = a.role in QUEUE_ROLES
    return {
        "annotator": a.display_name,
        "role": a.role,
        "labeled": a.labeled,
        "assigned": a.assigned if queued else None,
        "calibration": f"{a.calibration_labeled}/{a.calibration_assigned}"
        if queued
        else str(a.calibration_labeled),
    }
