"""Labels and judge verdicts made elsewhere (a spreadsheet round, another tool's judge).

Same rules as pairs files: every row validated, every problem reported with its line, nothing
stored unless the whole file is valid. Criterion columns are named after the study's criteria.

Another tool's preference values can be mapped (`1=candidate,2=baseline,0=tie`), and positional
ones ("first", "second", "A", "B", "left", "right") are resolved through the row's `presented`
column (candidate_first or baseline_first): which output that rater or judge saw first.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from reviewer.config import Criterion, StudyConfig
from reviewer.errors import InvalidInput, Problem, SignoffError
from reviewer.ingest.pairs import MAX_PROBLEMS, problems_from
from reviewer.ingest.tabular import Record, RecordFile, check_columns, read_records

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _clean(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value[:1] == "'" and value[1:2] and value[1] in FORMULA_START:
        value = value[1:]  # neutralised against spreadsheet formulas by `labels export`
    return value.strip() if isinstance(value, str) else value


def _lower(value: Any) -> Any:
    value = _clean(value)
    return value.lower() if isinstance(value, str) else value


Text = Annotated[str, BeforeValidator(_clean), Field(min_length=1, max_length=200)]
Preference = Annotated[Literal["candidate", "baseline", "tie"], BeforeValidator(_lower)]
PREFERENCES = ("candidate", "baseline", "tie")
# Positional answers: 0 = the output shown first, 1 = the one shown second.
POSITIONAL = {"first": 0, "second": 1, "a": 0, "b": 1, "left": 0, "right": 1}
MAP_EXAMPLE = "--map 1=candidate,2=baseline,0=tie"


def parse_value_map(text: str | None) -> dict[str, str]:
    """Read `--map`: comma-separated `value=meaning`, meaning a preference or a position.

    >>> parse_value_map("1=candidate, 2=Baseline,0=tie,A=first")
    {'1': 'candidate', '2': 'baseline', '0': 'tie', 'a': 'first'}
    """
    if not text:
        return {}
    out: dict[str, str] = {}
    for item in text.split(","):
        value, sep, meaning = (part.strip().lower() for part in item.partition("="))
        if not sep or not value or meaning not in (*PREFERENCES, *POSITIONAL):
            raise SignoffError(
                f"--map: {item.strip()!r} is not VALUE=MEANING with MEANING one of "
                f"{', '.join([*PREFERENCES, *POSITIONAL])} (e.g. {MAP_EXAMPLE})"
            )
        if value in out and out[value] != meaning:
            raise SignoffError(f"--map: {value!r} is mapped twice ({out[value]}, {meaning})")
        out[value] = meaning
    return out


def _preference(data: dict[str, Any], value_map: dict[str, str]) -> tuple[Any, str]:
    """The row's preference as candidate/baseline/tie, or the reason it cannot be read."""
    raw = data.get("preference")
    if raw is None:
        return None, ""  # reported by the model as missing
    text = _lower(raw)
    if isinstance(raw, float) and raw.is_integer():
        text = str(int(raw))
    text = value_map.get(text, text)
    if text in PREFERENCES:
        return text, ""
    if text in POSITIONAL:
        presented = _lower(data.get("presented"))
        if presented not in ("candidate_first", "baseline_first"):
            return None, (
                f"{raw!r} names a position; add a presented column (candidate_first or "
                "baseline_first) saying which output was shown first"
            )
        first = "candidate" if presented == "candidate_first" else "baseline"
        second = "baseline" if first == "candidate" else "candidate"
        return (first, second)[POSITIONAL[text]], ""
    hint = f" (mapped by --map to {text!r})" if text != _lower(raw) else ""
    more = "" if value_map else f"; map another tool's values with {MAP_EXAMPLE}"
    return None, f"{raw!r}{hint} is not candidate, baseline or tie{more}"


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    pair_id: Text = Field(description="Id of a pair in the study.")
    preference: Preference = Field(description="candidate, baseline or tie.")
    rationale: str | None = Field(None, description="Why, in the rater's words.")
    criteria: dict[str, str | dict[str, str]] = Field(
        default_factory=dict,
        description="Criterion -> rating (pairwise) or {candidate: score, baseline: score}.",
    )


class LabelRow(_Row):
    """One human label from a file."""

    annotator: Text = Field(description="Who gave the label; created if new.")
    both_bad: bool = Field(False, description="Tie because neither response is acceptable.")
    presented: Literal["candidate_first", "baseline_first"] | None = Field(
        None, description="Which output the rater saw first (left), if known."
    )
    flag_reason: str | None = Field(None, description="Why the pair was flagged, if it was.")
    submitted_at: datetime | None = Field(None, description="When; defaults to import time.")


class VerdictRow(_Row):
    """One judge verdict from a file."""

    judge: Text = Field(description="Name of the judge that produced it.")
    presented: Literal["candidate_first", "baseline_first", "unknown"] = Field(
        "unknown", description="Which output the judge saw first."
    )


LABEL_FIELDS = (
    "pair_id",
    "annotator",
    "preference",
    "both_bad",
    "presented",
    "rationale",
    "flag_reason",
    "submitted_at",
)
VERDICT_FIELDS = ("pair_id", "judge", "preference", "presented", "rationale")


def rating(criterion: Criterion, value: Any) -> str:
    """Normalise one criterion rating to its stored text, or raise ValueError."""
    allowed = criterion.scale.values()
    text = _lower(value)
    if criterion.scale.kind == "likert" and isinstance(text, str):
        try:
            number = float(text)
        except ValueError:
            number = None
        if number is not None and number.is_integer():
            text = str(int(number))
    if text not in allowed:
        raise ValueError(f"{value!r} is not on the scale ({', '.join(allowed)})")
    return text


def _load(
    path: Path,
    config: StudyConfig,
    pair_ids: set[str],
    model: type[_Row],
    fields: tuple[str, ...],
    key: tuple[str, ...],
    what: str,
    value_map: dict[str, str],
) -> list[tuple[int, _Row]]:
    rf: RecordFile = read_records(path)
    criteria = config.criterion_columns()
    required = [f for f, info in model.model_fields.items() if info.is_required()]
    hint = f" (criterion columns: {', '.join(criteria) or 'none configured'})"
    problems = rf.problems + check_columns(rf, required, [*fields, *criteria], hint)
    rows: list[tuple[int, _Row]] = []
    first: dict[tuple, int] = {}
    if not problems:
        for rec in rf.records:
            problems += _validate(rf, rec, model, criteria, pair_ids, rows, first, key, value_map)
    if not rows and not problems:
        problems.append(Problem(rf.name, None, "file", "has no rows"))
    if problems:
        raise InvalidInput(problems[:MAX_PROBLEMS], total=len(problems), what=f"{what} {path}")
    return rows


def _validate(
    rf, rec: Record, model, criteria, pair_ids, rows, first, key, value_map
) -> list[Problem]:
    data = {k: v for k, v in rec.data.items() if k not in criteria and v is not None}
    problems: list[Problem] = []
    preference, reason = _preference(data, value_map)
    if reason:  # reported here with the value; "tie" lets the rest of the row be checked
        problems.append(Problem(rf.name, rec.line, "preference", reason))
        preference = "tie"
    if preference is not None:
        data["preference"] = preference
    if "presented" in data:
        data["presented"] = _lower(data["presented"])
    ratings: dict[str, str | dict[str, str]] = {}
    for column, (criterion, side) in criteria.items():
        value = rec.data.get(column)
        if value is None or value == "":
            continue
        try:
            value = rating(criterion, value)
        except ValueError as exc:
            problems.append(Problem(rf.name, rec.line, column, str(exc)))
            continue
        if side is None:
            ratings[criterion.name] = value
        else:
            ratings.setdefault(criterion.name, {})[side] = value
    try:
        row = model.model_validate({**data, "criteria": ratings})
    except ValidationError as exc:
        return problems + problems_from(exc, rf.name, rec.line)
    if row.pair_id not in pair_ids:
        problems.append(
            Problem(rf.name, rec.line, "pair_id", f"'{row.pair_id}' is not in the study")
        )
    ident = tuple(getattr(row, k) for k in key)
    if ident in first:
        problems.append(Problem(rf.name, rec.line, ", ".join(key), f"repeats line {first[ident]}"))
    first.setdefault(ident, rec.line)
    if not problems:
        rows.append((rec.line, row))
    return problems


def load_labels(
    path: Path, config: StudyConfig, pair_ids: set[str], value_map: dict[str, str] | None = None
) -> list[tuple[int, LabelRow]]:
    """Validate a labels file against the study; raise `InvalidInput` listing every problem.

    `value_map` translates another tool's preference values (see `parse_value_map`).
    """
    key = ("pair_id", "annotator")
    return _load(
        path, config, pair_ids, LabelRow, LABEL_FIELDS, key, "labels file", value_map or {}
    )


def load_verdicts(
    path: Path, config: StudyConfig, pair_ids: set[str], value_map: dict[str, str] | None = None
) -> list[tuple[int, VerdictRow]]:
    """Validate a judge-verdicts file against the study; raise `InvalidInput` on any problem."""
    return _load(
        path,
        config,
        pair_ids,
        VerdictRow,
        VERDICT_FIELDS,
        ("pair_id", "judge", "presented"),
        "verdicts file",
        value_map or {},
    )
