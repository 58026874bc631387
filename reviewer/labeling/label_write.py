"""Storing one label, in candidate/baseline terms, from the view it was given on.

The page speaks of "Response 1" and "Response 2"; the view recorded when the pair was shown
says which is the candidate. What the write must check (the annotator's link, the label's
revision, whether the view was submitted already) is read by the query that also reads the
next pair (`annotator_page.label_checks`), so a label costs that query and one `INSERT`.
"""

from __future__ import annotations

import json
from typing import Any, Literal, NoReturn

from reviewer.config import StudyConfig
from reviewer.errors import SignoffError
from reviewer.ingest.labels import rating
from reviewer.store import Store, people, studies
from reviewer.store import annotator_page as page_sql
from reviewer.store.connection import Cursor

Choice = Literal["1", "2", "tie", "both_bad"]
CHOICES: tuple[Choice, ...] = ("1", "2", "tie", "both_bad")
REVOKED = (
    "this link is no longer valid (it was revoked or replaced), so nothing was saved; "
    "ask the study organiser for your personal link"
)

# Configs of the studies seen frozen, by (database, study): a frozen study's config never changes
# again, so once a label has gone through, the next ones need neither the study row nor the freeze.
_FROZEN: dict[tuple[str, str], StudyConfig] = {}


class LabelWrite:
    """The work of storing one label, in a transaction that has read the view it was given on
    (`view_record`) and `label_checks`; `committed()` once the transaction is."""

    def __init__(
        self,
        store: Store,
        who: Any,
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

    def __call__(self, cur: Cursor, view: dict[str, Any], checks: dict[str, Any]) -> int | None:
        """The new label's id, or None when the view had been submitted already.

        Raises:
            SignoffError: the link was revoked or replaced (nothing is stored).
        """
        who = self.who
        if not checks["may_write"]:
            raise SignoffError(REVOKED)
        if checks["submitted"]:
            return None
        config = _FROZEN.get(self.key) or self._config(cur)
        side = sides(view["candidate_left"])
        label_id = page_sql.insert_label(
            cur,
            who.study_id,
            who.annotator_id,
            self.view_id,
            view,
            int(checks["revision"]),
            preference="tie" if self.choice in ("tie", "both_bad") else side[self.choice],
            both_bad=self.choice == "both_bad",
            criteria_json=json.dumps(unblind_criteria(config, self.criteria, side), sort_keys=True),
            rationale=self.rationale.strip() or None,
            flag_reason=self.flag_reason.strip() or None,
        )
        if self.frozen is not None:  # the study row was read: freeze it if it is not yet
            studies.freeze(cur, who.study_id, who.annotator_id, reason="first label in the app")
        return label_id

    def unknown_view(self, cur: Cursor) -> NoReturn:
        """The view is not this annotator's: say whether their link is the reason."""
        who = self.who
        if not people.may_write(cur, who.study_id, who.annotator_id, who.token_hash):
            raise SignoffError(REVOKED)
        raise SignoffError("this page is out of date; reload it to continue")

    def _config(self, cur: Cursor) -> StudyConfig:
        self.frozen = studies.get_study(cur, self.who.study_id).config
        return self.frozen

    def committed(self) -> None:
        if self.frozen is not None:
            _FROZEN[self.key] = self.frozen


def sides(candidate_left: bool) -> dict[str, str]:
    """What "1" and "2" stand for, in the orientation shown."""
    return (
        {"1": "candidate", "2": "baseline"}
        if candidate_left
        else {"1": "baseline", "2": "candidate"}
    )


def unblind_criteria(config: StudyConfig, blind: dict[str, Any], side: dict[str, str]) -> dict:
    """Criterion ratings in candidate/baseline terms; unrated criteria left out."""
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
