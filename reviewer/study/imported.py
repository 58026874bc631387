"""Labels and judge verdicts gathered elsewhere, brought into a study (once per file)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from reviewer.errors import InvalidInput, Problem
from reviewer.ingest.labels import LabelRow, load_labels, load_verdicts
from reviewer.ingest.tabular import require_file
from reviewer.store import Store, people, studies
from reviewer.store import labels as label_sql
from reviewer.store.connection import Cursor
from reviewer.study.annotators import slug
from reviewer.study.lifecycle import require_study


def _file_source(path: Path) -> str:
    require_file(path)
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "import:" + digest.hexdigest()[:16]


@dataclass(frozen=True)
class LabelsImported:
    """What one labels import did: labels stored (0: this file was imported before), and
    whether it froze the study (False when it already was frozen)."""

    stored: int
    froze: bool


def import_labels(
    store: Store,
    study_id: str,
    path: Path,
    actor: str,
    source: str | None = None,
    value_map: dict[str, str] | None = None,
) -> LabelsImported:
    """Import human labels from a file; new annotators are created without a login.

    Annotator names follow the rules of `annotators add`: each must have a letter or digit,
    two names in the file may not share an id (slug), nor may a name take the id of a
    different annotator already in the study.
    """
    source = source or _file_source(path)

    def work(cur: Cursor) -> LabelsImported:
        study = require_study(cur, study_id)
        if source in label_sql.sources_seen(cur, study_id, "labels"):
            return LabelsImported(0, False)
        pair_ids = set(studies.pair_hashes(cur, study_id))
        rows = load_labels(path, study.config, pair_ids, value_map)
        known = people.annotator_names(cur, study_id)
        new = annotator_names(path, rows, known)
        role = "sample" if source == "sample" else "imported"
        for annotator, name in new.items():
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
                candidate_left=None if r.presented is None else r.presented == "candidate_first",
                shown_at=None,
                submitted_at=r.submitted_at,
                source=source,
            )
            for _, r in rows
        ]
        label_sql.insert_labels(cur, study_id, labels)
        froze = studies.freeze(cur, study_id, actor, reason=f"labels imported from {path}")
        studies.record_event(
            cur, study_id, actor, "labels.import", file=str(path), source=source, labels=len(rows)
        )
        return LabelsImported(len(rows), froze)

    return store.write(work)


def annotator_names(
    path: Path, rows: list[tuple[int, LabelRow]], known: dict[str, str]
) -> dict[str, str]:
    """The annotators to create (id -> display name); raise `InvalidInput` naming the lines of
    a name without letters or digits, two names sharing an id, or a name whose id is taken."""
    problems: list[Problem] = []
    first: dict[str, tuple[int, str]] = {}
    for line, row in rows:
        name, aid = row.annotator, slug(row.annotator)
        if not aid:
            problems.append(
                Problem(str(path), line, "annotator", f"{name!r} has no letters or digits")
            )
        elif aid in first and first[aid][1] != name:
            other_line, other = first[aid]
            problems.append(
                Problem(
                    str(path),
                    line,
                    "annotator",
                    f"{name!r} and {other!r} (line {other_line}) would be the same annotator "
                    f"(id {aid!r}); write one person's name the same way on every line",
                )
            )
        elif aid in known and known[aid] != name:
            problems.append(
                Problem(
                    str(path),
                    line,
                    "annotator",
                    f"{name!r} would take the id {aid!r} of annotator {known[aid]!r} already in "
                    f"the study; use {known[aid]!r} for that person, or a distinct name",
                )
            )
        first.setdefault(aid, (line, name))
    if problems:
        raise InvalidInput(problems[:50], total=len(problems), what=f"labels file {path}")
    return {aid: name for aid, (_, name) in first.items() if aid not in known}


def import_verdicts(
    store: Store,
    study_id: str,
    path: Path,
    actor: str,
    *,
    value_map: dict[str, str] | None = None,
) -> int:
    """Import another tool's judge verdicts; returns how many were stored (0 if seen before)."""
    source = _file_source(path)

    def work(cur: Cursor) -> int:
        study = require_study(cur, study_id)
        if source in label_sql.sources_seen(cur, study_id, "verdicts"):
            return 0
        rows = load_verdicts(path, study.config, set(studies.pair_hashes(cur, study_id)), value_map)
        _refuse_clashes(path, rows, label_sql.existing_verdict_keys(cur, study_id))
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


def _refuse_clashes(path: Path, rows: list, existing: set[tuple[str, str, str]]) -> None:
    """Refuse the file if any verdict repeats one the study already holds (same judge, pair
    and order), naming each line."""
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


def _judge_id(name: str) -> str:
    return f"external:{name}"
