"""What an annotator does: log in with a token, see a blind pair, label it, revise, move on.

Everything here returns blinded objects: a `BlindPair` holds "Response 1" and "Response 2" in the
orientation stored for this annotator, and nothing that names or identifies a model (no pair id,
no model name, no stratum). The translation back to candidate/baseline happens in `submit`,
from the view row written when the pair was shown. No Streamlit here: the page only renders.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from reviewer.config import StudyConfig
from reviewer.errors import SignoffError
from reviewer.ingest.labels import rating
from reviewer.store import Store, people, studies
from reviewer.store import annotator_page as page_sql
from reviewer.store import views as view_sql
from reviewer.store.connection import Cursor
from reviewer.study.annotators import hash_token

Choice = Literal["1", "2", "tie", "both_bad"]
CHOICES: tuple[Choice, ...] = ("1", "2", "tie", "both_bad")
REVOKED = (
    "this link is no longer valid (it was revoked or replaced), so nothing was saved; "
    "ask the study organiser for your personal link"
)


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


@dataclass(frozen=True)
class Progress:
    total: int
    done: int
    calibration_total: int
    calibration_done: int


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


def next_page(store: Store, who: Annotator, skipped: Sequence[str] = ()) -> Page:
    """The first unlabeled pair of the queue (skipped views last; None when done), shown now,
    and the progress: one query and one insert, in one transaction."""
    return store.write(lambda cur: _next_page(cur, who, skipped))


def _next_page(cur: Cursor, who: Annotator, skipped: Sequence[str]) -> Page:
    row = page_sql.next_page(cur, who.study_id, who.annotator_id, list(skipped))
    done = Progress(
        int(row["total"]), int(row["done"]), row["calibration_total"], row["calibration_done"]
    )
    if row["pair_id"] is None:
        return Page(None, done)
    return Page(_show(cur, who, row["pair_id"], bool(row["candidate_left"]), None, row), done)


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
        return _show(cur, who, last["pair_id"], bool(left), last)

    return store.write(work)


def _show(
    cur: Cursor,
    who: Annotator,
    pair_id: str,
    left: bool,
    last: dict | None,
    content: dict[str, Any] | None = None,
) -> BlindPair:
    """Record a view of the pair in this annotator's orientation and return it blinded; the
    pair's `content` when the caller has read it already."""
    if content is None:
        content = view_sql.pair_content(cur, who.study_id, pair_id)
    view_id = uuid.uuid4().hex
    view_sql.create_view(cur, view_id, who.study_id, who.annotator_id, pair_id, left=left)
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
    )


def _blind_prior(last: dict, left: bool) -> PriorLabel:
    side = {role: shown for shown, role in _sides(left).items()}  # candidate -> "1" or "2"
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
    write = _LabelWrite(store, who, view_id, choice, criteria, rationale, flag_reason)
    stored = store.write(write)
    write.committed()
    return stored


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
) -> Page:
    """`submit`, then `next_page`, in one transaction (one commit per label); raises as
    `submit` does, and then nothing is stored and no pair is shown."""
    store_label = _LabelWrite(store, who, view_id, choice, criteria, rationale, flag_reason)

    def work(cur: Cursor) -> Page:
        store_label(cur)
        return _next_page(cur, who, skipped)

    page = store.write(work)
    store_label.committed()
    return page


# Configs of the studies seen frozen, by (database, study): a frozen study's config never changes
# again, so once a label has gone through, the next ones need neither the study row nor the freeze.
_FROZEN: dict[tuple[str, str], StudyConfig] = {}


class _LabelWrite:
    """The work of storing one label, for `Store.write`; `committed()` once the transaction is."""

    def __init__(
        self,
        store: Store,
        who: Annotator,
        view_id: str,
        choice: Choice,
        criteria: dict[str, Any] | None,
        rationale: str,
        flag_reason: str,
    ):
        if choice not in CHOICES:
            raise SignoffError(f"unknown choice {choice!r}")
        self.who, self.view_id, self.choice = who, view_id, choice
        self.criteria, self.rationale, self.flag_reason = criteria or {}, rationale, flag_reason
        self.key, self.frozen = (store.location, who.study_id), None

    def __call__(self, cur: Cursor) -> bool:
        who = self.who
        view = page_sql.view_to_label(
            cur, self.view_id, who.study_id, who.annotator_id, who.token_hash
        )
        if view is None:
            if not people.may_write(cur, who.study_id, who.annotator_id, who.token_hash):
                raise SignoffError(REVOKED)
            raise SignoffError("this page is out of date; reload it to continue")
        if view["submitted"]:
            return False
        config = _FROZEN.get(self.key) or self._config(cur)
        side = _sides(view["candidate_left"])
        preference = "tie" if self.choice in ("tie", "both_bad") else side[self.choice]
        criteria = _unblind_criteria(config, self.criteria, side)
        page_sql.insert_label(
            cur,
            view,
            preference,
            both_bad=self.choice == "both_bad",
            criteria_json=json.dumps(criteria, sort_keys=True),
            rationale=self.rationale.strip() or None,
            flag_reason=self.flag_reason.strip() or None,
        )
        if self.frozen is not None:  # the study row was read: freeze it if it is not yet
            studies.freeze(cur, who.study_id, who.annotator_id, reason="first label in the app")
        return True

    def _config(self, cur: Cursor) -> StudyConfig:
        self.frozen = studies.get_study(cur, self.who.study_id).config
        return self.frozen

    def committed(self) -> None:
        if self.frozen is not None:
            _FROZEN[self.key] = self.frozen


def _sides(candidate_left: bool) -> dict[str, str]:
    return (
        {"1": "candidate", "2": "baseline"}
        if candidate_left
        else {"1": "baseline", "2": "candidate"}
    )


def _unblind_criteria(config: StudyConfig, blind: dict[str, Any], side: dict[str, str]) -> dict:
    out: dict[str, Any] = {}
    for name, value in blind.items():
        criterion = config.criterion(name)
        if criterion is None or value in (None, "", {}):
            continue
        try:
            if criterion.scale.kind == "pairwise":
                out[name] = rating(criterion, side.get(value, value))
            else:
                out[name] = {
                    side[k]: rating(criterion, v) for k, v in value.items() if v is not None
                }
        except (ValueError, KeyError) as exc:
            raise SignoffError(f"{name}: {exc}") from None
    return out
