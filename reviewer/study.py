"""What a user does to a study: import it, add annotators, bring in outside labels and verdicts.

Each operation is one transaction (all or nothing) and leaves an `events` row behind.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from reviewer.assignment import PairSlot, plan_assignments
from reviewer.config import StudyConfig
from reviewer.errors import InvalidInput, NotFound, Problem, SignoffError, StudyFrozen
from reviewer.label_files import load_labels, load_verdicts
from reviewer.pairs import PairSet
from reviewer.sampling import calibration_sample
from reviewer.store import Store, people, studies
from reviewer.store import labels as label_sql
from reviewer.store.connection import Cursor
from reviewer.store.studies import StudyRow

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
        strata: dict[str, int] = {}
        for p in pairset.pairs:
            strata[p.stratum] = strata.get(p.stratum, 0) + 1
        calibration = calibration_sample(
            [(p.id, p.stratum) for p in pairset.pairs],
            cfg.calibration.size,
            cfg.seed,
            cfg.calibration.stratified,
        )
        outcome = ImportOutcome(
            "created", len(pairset.pairs), len(calibration), strata, list(pairset.warnings)
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
            pairs=len(pairset.pairs),
            pairs_hash=new_hash,
            config_hash=cfg.content_hash(),
            calibration=len(calibration),
            changes=outcome.changes,
        )
        return outcome

    return store.write(work)


def _diff(old: dict[str, str], pairset: PairSet) -> dict[str, int]:
    new = dict(zip((p.id for p in pairset.pairs), pairset.hashes, strict=True))
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
    slots = [PairSlot(pid, cal) for pid, cal in studies.pair_slots(cur, study_id)]
    annotators = people.annotator_ids(cur, study_id, people.QUEUE_ROLES)
    pinned = people.labeled_orientations(cur, study_id)
    plan = plan_assignments(slots, annotators, config, config.seed, pinned)
    people.replace_assignments(cur, study_id, plan)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:48]


@dataclass(frozen=True)
class NewAnnotator:
    annotator_id: str
    display_name: str
    token: str | None


def add_annotators(
    store: Store, study_id: str, names: list[str], actor: str, role: str = "annotator"
) -> list[NewAnnotator]:
    """Add annotators with personal access tokens (only their hashes are stored) and replan."""
    problems = [
        Problem("names", None, repr(n), "has no letters or digits") for n in names if not slug(n)
    ]
    ids = [slug(n) for n in names]
    problems += [
        Problem("names", None, repr(n), "given twice")
        for i, n in enumerate(names)
        if ids[i] in ids[:i] and slug(n)
    ]
    if problems:
        raise InvalidInput(problems, what="annotator names")

    def work(cur: Cursor) -> list[NewAnnotator]:
        study = require_study(cur, study_id)
        taken = set(people.annotator_ids(cur, study_id))
        clash = [n for n, i in zip(names, ids, strict=True) if i in taken]
        if clash:
            raise SignoffError(f"already annotators of {study_id!r}: {', '.join(clash)}")
        made = []
        for name, aid in zip(names, ids, strict=True):
            token = secrets.token_urlsafe(24) if role != "imported" else None
            people.insert_annotator(
                cur, study_id, aid, name.strip(), hash_token(token) if token else None, role
            )
            made.append(NewAnnotator(aid, name.strip(), token))
        replan(cur, study_id, study.config)
        studies.record_event(cur, study_id, actor, "annotators.add", annotators=ids, role=role)
        return made

    return store.write(work)


def _file_source(path: Path) -> str:
    if not path.is_file():
        raise InvalidInput([Problem(str(path), None, "file", "not found")])
    return "import:" + hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def import_labels(
    store: Store, study_id: str, path: Path, actor: str, source: str | None = None
) -> int:
    """Import human labels from a file; new annotators are created without a login.

    Returns the number of labels stored (0 if this exact file was imported before).
    """
    source = source or _file_source(path)

    def work(cur: Cursor) -> int:
        study = require_study(cur, study_id)
        if source in label_sql.sources_seen(cur, study_id, "labels"):
            return 0
        rows = load_labels(path, study.config, set(studies.pair_hashes(cur, study_id)))
        known = set(people.annotator_ids(cur, study_id))
        role = "sample" if source == "sample" else "imported"
        for annotator in dict.fromkeys(slug(r.annotator) for _, r in rows):
            if annotator not in known:
                name = next(r.annotator for _, r in rows if slug(r.annotator) == annotator)
                people.insert_annotator(cur, study_id, annotator, name, None, role)
        labels = [
            label_sql.NewLabel(
                pair_id=r.pair_id,
                annotator_id=slug(r.annotator),
                preference=r.preference,
                both_bad=r.both_bad,
                criteria=r.criteria,
                rationale=r.rationale,
                flag_reason=r.flag_reason,
                candidate_left=None,
                shown_at=None,
                submitted_at=r.submitted_at,
                source=source,
            )
            for _, r in rows
        ]
        label_sql.insert_labels(cur, study_id, labels)
        studies.freeze(cur, study_id, actor, reason=f"labels imported from {path}")
        studies.record_event(
            cur, study_id, actor, "labels.import", file=str(path), source=source, labels=len(rows)
        )
        return len(rows)

    return store.write(work)


def import_verdicts(store: Store, study_id: str, path: Path, actor: str) -> int:
    """Import another tool's judge verdicts; returns how many were stored (0 if seen before)."""
    source = _file_source(path)

    def work(cur: Cursor) -> int:
        study = require_study(cur, study_id)
        if source in label_sql.sources_seen(cur, study_id, "verdicts"):
            return 0
        rows = load_verdicts(path, study.config, set(studies.pair_hashes(cur, study_id)))
        existing = label_sql.existing_verdict_keys(cur, study_id)
        clashes = [
            Problem(
                str(path),
                line,
                "pair_id",
                f"judge {r.judge!r} already has a verdict on "
                f"'{r.pair_id}' ({r.presented}) in this study",
            )
            for line, r in rows
            if (r.pair_id, _judge_id(r.judge), r.presented) in existing
        ]
        if clashes:
            raise InvalidInput(clashes[:50], total=len(clashes), what=f"verdicts file {path}")
        for judge in dict.fromkeys(r.judge for _, r in rows):
            label_sql.ensure_external_judge(
                cur, _judge_id(judge), judge, hashlib.sha256(judge.encode()).hexdigest()
            )
        label_sql.insert_verdicts(
            cur,
            study_id,
            [
                [
                    r.pair_id,
                    _judge_id(r.judge),
                    r.presented,
                    r.preference,
                    json.dumps(r.criteria, sort_keys=True),
                    r.rationale,
                    source,
                ]
                for _, r in rows
            ],
        )
        studies.record_event(
            cur,
            study_id,
            actor,
            "verdicts.import",
            file=str(path),
            source=source,
            verdicts=len(rows),
        )
        return len(rows)

    return store.write(work)


def _judge_id(name: str) -> str:
    return f"external:{name}"


def new_link_token(store: Store, study_id: str, annotator_id: str, actor: str) -> str:
    """Issue a new access token for an annotator; the old one stops working."""
    token = secrets.token_urlsafe(24)

    def work(cur: Cursor) -> str:
        require_study(cur, study_id)
        if not people.set_token(cur, study_id, annotator_id, hash_token(token)):
            raise NotFound(f"no annotator {annotator_id!r} with a login in study {study_id!r}")
        studies.record_event(cur, study_id, actor, "annotators.new_token", annotator=annotator_id)
        return token

    return store.write(work)


def revoke_annotator(store: Store, study_id: str, annotator_id: str, actor: str) -> None:
    """Stop an annotator's link; their labels stay, their unlabeled pairs go to the others."""

    def work(cur: Cursor) -> None:
        study = require_study(cur, study_id)
        if not people.revoke(cur, study_id, annotator_id):
            raise NotFound(f"no active annotator {annotator_id!r} in study {study_id!r}")
        replan(cur, study_id, study.config)
        studies.record_event(cur, study_id, actor, "annotators.revoke", annotator=annotator_id)

    store.write(work)


def unblind(store: Store, study_id: str, actor: str) -> None:
    """Record the unblinding (once); reports show model names only after it."""

    def work(cur: Cursor) -> None:
        require_study(cur, study_id)
        if studies.unblind(cur, study_id):
            studies.record_event(cur, study_id, actor, "study.unblind")

    store.write(work)
