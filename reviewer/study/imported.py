"""Labels and judge verdicts gathered elsewhere, brought into a study (once per file)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from reviewer.errors import InvalidInput, Problem
from reviewer.ingest.labels import load_labels, load_verdicts
from reviewer.store import Store, people, studies
from reviewer.store import labels as label_sql
from reviewer.store.connection import Cursor
from reviewer.study.annotators import slug
from reviewer.study.lifecycle import require_study


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
