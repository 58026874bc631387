"""The people who label: add them with personal links, renew a link, revoke one."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from reviewer.errors import InvalidInput, NotFound, Problem, SignoffError
from reviewer.store import Store, people, studies
from reviewer.store.connection import Cursor
from reviewer.study.lifecycle import replan, require_study


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
