"""Which pairs a judge run covers: the calibration set's development and held-out parts, or all.

The held-out part is a seeded sample of the calibration set, so it never changes for a study.
"""

from __future__ import annotations

import json
from typing import Literal

from judge.spec import PairInput
from reviewer.config import StudyConfig
from reviewer.errors import SignoffError
from reviewer.store import Store, studies
from reviewer.store.connection import Cursor
from reviewer.study.lifecycle import require_study
from reviewer.study.sampling import holdout_sample

# development: the calibration pairs open to rubric tuning; held-out: the rest of the calibration
# set, scored only by the final check; calibration: both; all: every pair (behind the gate).
JudgeScope = Literal["development", "held-out", "calibration", "all"]


def prompt_text(prompt_json: str) -> str:
    """A stored prompt as the judge reads it: the text, or the conversation turn by turn."""
    prompt = json.loads(prompt_json)
    if isinstance(prompt, str):
        return prompt
    return "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in prompt)


def calibration_parts(cur: Cursor, study_id: str, cfg: StudyConfig) -> tuple[set[str], set[str]]:
    """(development, held-out) pair ids of the calibration set; held-out is empty when the
    config holds nothing out. Derived from the seed, so it never changes for a study."""
    pairs = [(p, s or "unspecified") for p, s in studies.calibration_strata(cur, study_id)]
    held_out = holdout_sample(pairs, cfg.calibration.holdout_fraction, cfg.seed)
    return {p for p, _ in pairs} - held_out, held_out


def study_pairs(cur: Cursor, study_id: str, ids: set[str] | None) -> list[PairInput]:
    """The pairs to judge: `ids`, or every pair of the study when None."""
    return [
        PairInput(
            r["pair_id"], prompt_text(r["prompt_json"]), r["candidate"], r["baseline"],
            r["reference"],
        )
        for r in studies.pair_texts(cur, study_id)
        if ids is None or r["pair_id"] in ids
    ]  # fmt: skip


def scope_ids(cur: Cursor, study_id: str, cfg: StudyConfig, scope: JudgeScope) -> set[str] | None:
    if scope == "all":
        return None
    development, held_out = calibration_parts(cur, study_id, cfg)
    return {"development": development, "held-out": held_out}.get(scope, development | held_out)


def load_scope(
    store: Store, study_id: str, scope: JudgeScope
) -> tuple[StudyConfig, list[PairInput]]:
    def work(cur: Cursor) -> tuple[StudyConfig, list[PairInput]]:
        study = require_study(cur, study_id)
        return study.config, study_pairs(
            cur, study_id, scope_ids(cur, study_id, study.config, scope)
        )

    cfg, pairs = store.read(work)
    if not pairs:
        raise SignoffError(f"study {study_id!r} has no {scope} pairs to judge")
    return cfg, pairs
