"""What an annotator does: log in with a token, see a blind pair, label it, revise, move on.

Everything here returns blinded objects: a `BlindPair` holds "Response 1" and "Response 2" in the
orientation stored for this annotator, and nothing that names or identifies a model (no pair id,
no model name, no stratum). The translation back to candidate/baseline happens when a label is
stored (`label_write`), from the view recorded when the pair was shown; the queue a session
walks is kept in `queue`. No Streamlit here: the page only renders.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from reviewer.config import StudyConfig
from reviewer.labeling import queue as queues
from reviewer.labeling.label_write import CHOICES as CHOICES
from reviewer.labeling.label_write import REVOKED as REVOKED
from reviewer.labeling.label_write import Choice, LabelWrite, sides
from reviewer.labeling.queue import Progress, Queue, QueueState
from reviewer.store import Store, people, studies
from reviewer.store import annotator_page as page_sql
from reviewer.store import views as view_sql
from reviewer.store.connection import Cursor
from reviewer.study.annotators import hash_token


@dataclass(frozen=True)
class Annotator:
    study_id: str
    annotator_id: str
    display_name: str
    # The hash of the link they came in with: every write checks it is still theirs.
    token_hash: str | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class BriefCriterion:
    """A criterion as the annotator sees it: every text redacted. `name` is the config's
    identifier, kept for `submit`; the page shows `label`, never `name`."""

    name: str = field(repr=False)
    label: str
    description: str
    kind: Literal["pairwise", "likert"]
    values: tuple[str, ...]
    anchors: dict[str, str]


@dataclass(frozen=True)
class StudyBrief:
    """Everything the labeling page shows about the study, with model names redacted. The
    study's internal title is not here: annotators see `annotator_title` only."""

    title: str
    question: str
    guidelines: str
    criteria: tuple[BriefCriterion, ...]
    display: Literal["text", "markdown"] = "text"


@dataclass(frozen=True)
class PriorLabel:
    """The annotator's latest label on a pair, in the terms they saw it."""

    choice: Choice
    criteria: dict[str, Any]
    rationale: str
    flag_reason: str


@dataclass(frozen=True)
class BlindPair:
    view_id: str = field(repr=False)
    prompt: str | list[dict[str, str]]
    response_1: str
    response_2: str
    reference: str | None
    in_calibration: bool
    prior: PriorLabel | None = None


def login(store: Store, token: str | None) -> Annotator | None:
    """The annotator a personal token belongs to, or None for an unknown or revoked token."""
    if not token or len(token) > 200:
        return None
    token_hash = hash_token(token)
    row = store.read(lambda cur: people.annotator_by_token(cur, token_hash))
    if row is None or row["role"] != "annotator":
        return None
    return Annotator(row["study_id"], row["annotator_id"], row["display_name"], token_hash)


def brief(store: Store, who: Annotator) -> StudyBrief:
    """The study's texts as the annotator sees them: every one redacted."""

    def work(cur: Cursor) -> StudyBrief:
        study = studies.get_study(cur, who.study_id)
        return redacted_brief(study.config, studies.model_names(cur, who.study_id))

    return store.read(work)


def redacted_brief(cfg: StudyConfig, names: Sequence[str]) -> StudyBrief:
    """Every text of `cfg` an annotator may see, with `names` hidden."""
    criteria = tuple(
        BriefCriterion(
            name=c.name,
            label=redact(c.name.replace("_", " ").capitalize(), names),
            description=redact(c.description, names),
            kind=c.scale.kind,
            values=tuple(c.scale.values()),
            anchors={k: redact(v, names) for k, v in c.scale.anchors.items()},
        )
        for c in cfg.criteria
    )
    return StudyBrief(
        title=redact(cfg.annotator_title, names),
        question=redact(cfg.question, names),
        guidelines=redact(cfg.guidelines, names),
        criteria=criteria,
        display=cfg.display,
    )


def redact(text: str, names: Sequence[str]) -> str:
    """Hide model names that an engineer may have typed into the study's texts, in any case and
    with any of space, "-", "_", "." or "/" between their parts.

    >>> redact("Is Ledgerly_Support v3 better?", ["ledgerly-support-v3"])
    'Is [model] better?'
    """
    for name in sorted({n for n in names if n and n.strip()}, key=len, reverse=True):
        parts = [re.escape(p) for p in re.split(r"[\s\-_./]+", name.strip()) if p]
        if parts:
            text = re.sub(r"[\s\-_./]*".join(parts), "[model]", text, flags=re.IGNORECASE)
    return text


def may_write(store: Store, who: Annotator) -> bool:
    """Whether `who`'s link still lets them label (not revoked, not replaced)."""
    return store.read(lambda c: people.may_write(c, who.study_id, who.annotator_id, who.token_hash))


def progress(store: Store, who: Annotator) -> Progress:
    row = store.read(lambda cur: view_sql.progress(cur, who.study_id, who.annotator_id))
    return Progress(**{k: int(v) for k, v in row.items()})


@dataclass(frozen=True)
class Page:
    """What the labeling page shows after each move: the pair on screen and the progress."""

    view: BlindPair | None
    progress: Progress


def open_next(store: Store, who: Annotator, skipped: Sequence[str] = ()) -> BlindPair | None:
    """Show the first unlabeled pair of the queue (skipped views go last); None when done."""
    return next_page(store, who, skipped).view


def next_page(
    store: Store, who: Annotator, skipped: Sequence[str] = (), queue: Queue | None = None
) -> Page:
    """The first unlabeled pair of the queue (skipped views last; None when done), shown now,
    and the progress, in one transaction. `queue`: the session's, kept from move to move (read
    afresh when not given)."""
    queue = queue or Queue(who.study_id, who.annotator_id)

    def work(cur: Cursor) -> tuple[Page, QueueState]:
        state = queue.state
        if (
            state is not None
            and queues.stamp_of(page_sql.stamp(cur, who.study_id, who.annotator_id)) != state.stamp
        ):
            state = None
        return _page(cur, who, queue, skipped, state)

    page, state = store.write(work)
    queue.adopt(state)
    return page


def _page(
    cur: Cursor, who: Annotator, queue: Queue, skipped: Sequence[str], state: QueueState | None
) -> tuple[Page, QueueState]:
    """Show the next pair of the queue: `state` when the stamp said it is current, else (None)
    the queue read again."""
    if state is None:
        state = queue.read(cur)
    slot = queues.next_slot(state, queues.skipped_pairs(cur, queue, state, skipped))
    done = queues.progress(state)
    if slot is None:
        return Page(None, done), state
    state = queues.content(cur, queue, state, slot)
    content = state.content[slot.pair_id]
    view, record = _show(cur, who, slot.pair_id, slot.candidate_left, None, content)
    return Page(view, done), queues.shown(state, view.view_id, record)


def open_previous(store: Store, who: Annotator, current: str | None) -> BlindPair | None:
    """Show the pair labeled before the current one (or the last labeled), to revise it."""

    def work(cur: Cursor) -> BlindPair | None:
        history = view_sql.labeled_history(cur, who.study_id, who.annotator_id)
        if not history:
            return None
        index = len(history)
        shown = view_sql.get_view(cur, current, who.annotator_id) if current else None
        if shown is not None:
            ids = [h["pair_id"] for h in history]
            if shown["pair_id"] in ids:
                index = ids.index(shown["pair_id"])
        if index == 0:
            return None
        last = history[index - 1]
        left = last["candidate_left"]
        if left is None:  # imported label: show it as the assignment orients it
            left = view_sql.assigned_orientation(
                cur, who.study_id, who.annotator_id, last["pair_id"]
            )
        return _show(cur, who, last["pair_id"], bool(left), last)[0]

    return store.write(work)


def _show(
    cur: Cursor,
    who: Annotator,
    pair_id: str,
    left: bool,
    last: dict | None,
    content: dict[str, Any] | None = None,
) -> tuple[BlindPair, dict[str, Any]]:
    """Record a view of the pair in this annotator's orientation and return it blinded, with
    the view's record (what `page_sql.view_record` reads); the pair's `content` when the caller
    has read it already."""
    if content is None:
        content = view_sql.pair_content(cur, who.study_id, pair_id)
    view_id = uuid.uuid4().hex
    at = page_sql.create_view(cur, view_id, who.study_id, who.annotator_id, pair_id, left=left)
    record = {"pair_id": pair_id, "candidate_left": left, "shown_at": at}
    first, second = (
        (content["candidate"], content["baseline"])
        if left
        else (content["baseline"], content["candidate"])
    )
    return BlindPair(
        view_id=view_id,
        prompt=json.loads(content["prompt_json"]),
        response_1=first,
        response_2=second,
        reference=content["reference"],
        in_calibration=content["in_calibration"],
        prior=_blind_prior(last, left) if last else None,
    ), record


def _blind_prior(last: dict, left: bool) -> PriorLabel:
    side = {role: shown for shown, role in sides(left).items()}  # candidate -> "1" or "2"
    if last["both_bad"]:
        choice: Choice = "both_bad"
    else:
        choice = side.get(last["preference"], "tie")  # type: ignore[assignment]
    criteria: dict[str, Any] = {}
    for name, value in json.loads(last["criteria_json"]).items():
        if isinstance(value, dict):
            criteria[name] = {side[k]: v for k, v in value.items()}
        else:
            criteria[name] = side.get(value, value)
    return PriorLabel(choice, criteria, last["rationale"] or "", last["flag_reason"] or "")


def submit(
    store: Store,
    who: Annotator,
    view_id: str,
    choice: Choice,
    criteria: dict[str, Any] | None = None,
    rationale: str = "",
    flag_reason: str = "",
) -> bool:
    """Store a label given on a view, in candidate/baseline terms; idempotent per view.

    Args:
        criteria: pairwise criterion -> "1" | "2" | "same"; likert criterion -> {"1": score,
            "2": score}. Unrated criteria are simply left out.
    Returns:
        True if stored now, False if this view had been submitted already.
    Raises:
        SignoffError: the link was revoked or replaced since the page was opened (checked in
            the transaction that would write, so nothing is stored).
    """
    write = LabelWrite(store, who, view_id, choice, criteria, rationale, flag_reason)

    def work(cur: Cursor) -> int | None:
        view = page_sql.view_record(cur, view_id, who.study_id, who.annotator_id)
        if view is None:
            write.unknown_view(cur)
        checks = page_sql.label_checks(
            cur, who.study_id, who.annotator_id, who.token_hash, view_id, view["pair_id"]
        )
        return write(cur, view, checks)

    stored = store.write(work)
    write.committed()
    return stored is not None


def submit_and_next(
    store: Store,
    who: Annotator,
    view_id: str,
    choice: Choice,
    criteria: dict[str, Any] | None = None,
    rationale: str = "",
    flag_reason: str = "",
    *,
    skipped: Sequence[str] = (),
    queue: Queue | None = None,
) -> Page:
    """`submit`, then `next_page`, in one transaction (one commit per label): one query reads
    what the label must check and the queue's stamp, then two inserts (the label, the next
    view). Raises as `submit` does, and then nothing is stored and no pair is shown."""
    write = LabelWrite(store, who, view_id, choice, criteria, rationale, flag_reason)
    queue = queue or Queue(who.study_id, who.annotator_id)

    def work(cur: Cursor) -> tuple[Page, QueueState]:
        state = queue.current(cur)
        view = state.views.get(view_id) or page_sql.view_record(
            cur, view_id, who.study_id, who.annotator_id
        )
        if view is None:
            write.unknown_view(cur)
        checks = page_sql.label_checks(
            cur, who.study_id, who.annotator_id, who.token_hash, view_id, view["pair_id"]
        )
        label_id = write(cur, view, checks)
        if queues.stamp_of(checks) != state.stamp:
            return _page(cur, who, queue, skipped, None)
        if label_id is not None:
            state = queues.labeled(state, view["pair_id"], label_id)
        return _page(cur, who, queue, skipped, state)

    page, state = store.write(work)
    write.committed()
    queue.adopt(state)
    return page
