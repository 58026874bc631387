"""A study from import to unblinding: create or replace it, plan who labels what, unblind.

Each operation is one transaction (all or nothing) and leaves an `events` row behind.
"""

from __future__ import annotations

import getpass
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from reviewer.config import StudyConfig, load_config
from reviewer.errors import NotFound, SignoffError, StudyFrozen
from reviewer.ingest.joined import load_pair_files
from reviewer.ingest.pairs import load_pairs
from reviewer.ingest.pairset import PairSet
from reviewer.models import PairSlot
from reviewer.store import Store, people, studies
from reviewer.store.connection import Cursor
from reviewer.store.studies import StudyRow
from reviewer.study.assignment import plan_assignments
from reviewer.study.feasibility import check_rules
from reviewer.study.sampling import calibration_sample

STUDY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def current_actor() -> str:
    """Who is acting, for the audit trail: SIGNOFF_ACTOR, else the OS user."""
    try:
        return os.environ.get("SIGNOFF_ACTOR") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def check_study_name(name: str) -> str:
    if not STUDY_NAME.match(name):
        raise SignoffError(
            f"invalid study name {name!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def require_study(cur: Cursor, name: str) -> StudyRow:
    study = studies.get_study(cur, name)
    if study is None:
        known = studies.list_studies(cur)
        listing = f"; studies here: {', '.join(known)}" if known else "; this database has none"
        raise NotFound(f"no study named {name!r}{listing}")
    return study


@dataclass
class ImportOutcome:
    action: str  # created | unchanged | replaced
    pairs: int
    calibration: int
    strata: dict[str, int]
    warnings: list[str] = field(default_factory=list)
    changes: dict[str, int] = field(default_factory=dict)


def import_study(
    store: Store, name: str, pairset: PairSet, config: StudyConfig | None, actor: str
) -> ImportOutcome:
    """Create a study from validated pairs, or replace its pairs while no label exists.

    Args:
        config: None keeps the stored config of an existing study (defaults for a new one).
    """
    check_study_name(name)

    def work(cur: Cursor) -> ImportOutcome:
        existing = studies.get_study(cur, name)
        cfg = config or (existing.config if existing else StudyConfig())
        new_hash = pairset.content_hash()
        strata = dict(Counter(pairset.strata))
        calibration = calibration_sample(
            list(zip(pairset.ids, pairset.strata, strict=True)),
            cfg.calibration.size,
            cfg.seed,
            stratified=cfg.calibration.stratified,
        )
        warnings = check_rules(cfg, len(pairset), len(calibration))
        outcome = ImportOutcome(
            "created", len(pairset), len(calibration), strata, [*pairset.warnings, *warnings]
        )
        if existing is not None:
            if existing.pairs_hash == new_hash and existing.config_hash == cfg.content_hash():
                outcome.action = "unchanged"
                return outcome
            outcome.changes = _diff(studies.pair_hashes(cur, name), pairset)
            if existing.frozen_at is not None:
                raise StudyFrozen(_frozen_message(existing, new_hash, cfg, outcome.changes))
            studies.update_study(cur, name, cfg, new_hash, pairset.source)
            outcome.action = "replaced"
        else:
            studies.insert_study(cur, name, cfg, new_hash, pairset.source)
        studies.replace_pairs(cur, name, pairset, calibration)
        replan(cur, name, cfg)
        studies.record_event(
            cur,
            name,
            actor,
            f"study.{'create' if outcome.action == 'created' else 'reimport'}",
            source=pairset.source,
            pairs=len(pairset),
            pairs_hash=new_hash,
            config_hash=cfg.content_hash(),
            calibration=len(calibration),
            changes=outcome.changes,
        )
        return outcome

    return store.write(work)


def import_study_files(
    store: Store,
    name: str,
    actor: str,
    *,
    pairs: Path | None = None,
    candidate: Path | None = None,
    baseline: Path | None = None,
    config: Path | None = None,
    extra_columns: str = "reject",
) -> ImportOutcome:
    """Create or replace a study from files: one pairs file, or one output file per model,
    and an optional config (the stored one, or defaults, when None)."""
    check_study_name(name)
    if (candidate is None) != (baseline is None):
        raise SignoffError("--candidate and --baseline go together")
    if (pairs is None) == (candidate is None):
        raise SignoffError("give either a pairs file, or --candidate and --baseline files")
    cfg = load_config(config) if config else None
    limit = (cfg or StudyConfig()).limits.max_output_chars
    if pairs is not None:
        pairset = load_pairs(pairs, limit, extra_columns)
    else:
        pairset = load_pair_files(candidate, baseline, limit)
    with pairset:  # validated in a first pass; stored in one transaction, then removed
        return import_study(store, name, pairset, cfg, actor)


def _diff(old: dict[str, str], pairset: PairSet) -> dict[str, int]:
    new = dict(zip(pairset.ids, pairset.hashes, strict=True))
    return {
        "added": len(new.keys() - old.keys()),
        "removed": len(old.keys() - new.keys()),
        "changed": sum(1 for k in new.keys() & old.keys() if new[k] != old[k]),
    }


def _frozen_message(study: StudyRow, new_hash: str, cfg: StudyConfig, changes: dict) -> str:
    what = []
    if study.pairs_hash != new_hash:
        what.append(
            f"pairs differ ({changes['added']} added, {changes['removed']} removed, "
            f"{changes['changed']} changed; stored hash {study.pairs_hash[:12]}, "
            f"file hash {new_hash[:12]})"
        )
    if study.config_hash != cfg.content_hash():
        what.append("the config differs from the one fixed for this study")
    return (
        f"study {study.study_id!r} is frozen: labeling started on "
        f"{study.frozen_at:%Y-%m-%d %H:%M} UTC, so its pairs and rules can no longer change. "
        f"This import was refused because {' and '.join(what)}. "
        "Import it under a new study name instead."
    )


def replan(cur: Cursor, study_id: str, config: StudyConfig) -> None:
    """Recompute assignments for the current annotators, keeping every labeled row as it is."""
    annotators = people.annotator_ids(cur, study_id, people.QUEUE_ROLES)
    if not annotators:  # nothing to plan (a new study): no need to read a million pairs back
        people.replace_assignments(cur, study_id, [])
        return
    slots = [PairSlot(pid, cal) for pid, cal in studies.pair_slots(cur, study_id)]
    pinned = people.labeled_orientations(cur, study_id)
    plan = plan_assignments(slots, annotators, config, config.seed, pinned)
    people.replace_assignments(cur, study_id, plan)


def unblind(store: Store, study_id: str, actor: str) -> None:
    """Record the unblinding (once); reports show model names only after it."""

    def work(cur: Cursor) -> None:
        require_study(cur, study_id)
        if studies.unblind(cur, study_id):
            studies.record_event(cur, study_id, actor, "study.unblind")

    store.write(work)
