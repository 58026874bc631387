"""The gate between calibration and the full set: which judge versions passed, and the check
(or the logged override) before a judge may score every pair."""

from __future__ import annotations

from typing import Protocol

from reviewer.analysis.gate import GateOut
from reviewer.config import StudyConfig
from reviewer.errors import SignoffError
from reviewer.judging.scope import calibration_parts
from reviewer.store import Store
from reviewer.store import calibrations as calibration_sql
from reviewer.store import studies as study_sql
from reviewer.store.connection import Cursor
from reviewer.study.lifecycle import require_study


class Gated(Protocol):
    """What the gate checks: a judge version, or a panel of them."""

    @property
    def judge_id(self) -> str: ...

    @property
    def name(self) -> str: ...


class GateRefused(SignoffError):
    """The judge may not score the full set: its calibration has not passed the gate."""

    exit_code = 5


def gate_part(held_out: set[str]) -> str:
    return "held-out" if held_out else "all"


def deciding_gates(cur: Cursor, study_id: str) -> dict[str, GateOut]:
    """By judge version: the gate decided on its latest calibration of the deciding part
    (held-out when the config holds pairs out, else all calibration pairs)."""
    study = require_study(cur, study_id)
    part = gate_part(calibration_parts(cur, study_id, study.config)[1])
    return {
        row["judge_id"]: GateOut.model_validate(row["gate"])
        for row in calibration_sql.latest(cur, study_id)
        if row["part"] == part and row["gate"]
    }


def check_gate(
    store: Store,
    study_id: str,
    cfg: StudyConfig,
    judge: Gated,
    override: str | None,
    actor: str,
    *,
    calibrate_command: str = "signoff judge calibrate",
) -> None:
    gate = store.read(lambda cur: deciding_gates(cur, study_id).get(judge.judge_id))
    if gate is not None and gate.passed:
        return
    if gate is None:
        why = (
            f"judge {judge.name} ({judge.judge_id}) has no calibration on study {study_id!r}: "
            f"run `{calibrate_command}` with the same options"
            + (" and --final" if cfg.calibration.holdout_fraction else "")
            + " first"
        )
        failed: list[str] = []
    else:
        failed = gate.failures()
        why = (
            f"judge {judge.name} ({judge.judge_id}) failed the gate on the {gate.part} "
            "calibration pairs:\n  " + "\n  ".join(failed)
        )
    if not override:
        raise GateRefused(
            why + '\nfix the rubric and calibrate again, or pass --override "reason" '
            "(logged, and stamped on the report)"
        )
    store.write(
        lambda cur: study_sql.record_event(
            cur, study_id, actor, "gate.override", judge_id=judge.judge_id, reason=override,
            failed=failed or ["no calibration"],
        )
    )  # fmt: skip
