"""Labels out of the store, in the same columns `signoff labels import` reads back."""

from __future__ import annotations

import json

import pandas as pd

from reviewer.store import Store, report_data


def latest_labels(store: Store, study_id: str) -> pd.DataFrame:
    """One row per (pair, annotator): the latest revision, with criteria spread into columns."""
    # Export exactly the columns `labels import` reads (plus annotator_id, dropped on write).
    keep = (
        "pair_id",
        "annotator",
        "annotator_id",
        "preference",
        "both_bad",
        "rationale",
        "flag_reason",
        "submitted_at",
        "criteria_json",
    )
    rows = [
        {k: row[k] for k in keep}
        for row in store.read(lambda cur: report_data.latest_labels(cur, study_id))
    ]
    out = []
    for row in rows:
        criteria = json.loads(row.pop("criteria_json"))
        for name, value in criteria.items():
            if isinstance(value, dict):
                for side, score in value.items():
                    row[f"{name}.{side}"] = score
            else:
                row[name] = value
        out.append(row)
    return pd.DataFrame(out)


# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, prefixed with `'` so it shows as
    text; numbers such as -2 and everything else unchanged. JSONL keeps the exact text, and
    `labels import` drops the `'` again.

    >>> [neutralise(v) for v in ["=1+1", "-2", "-2+A1", "@SUM(A1)", "fine", 3]]
    ["'=1+1", '-2', "'-2+A1", "'@SUM(A1)", 'fine', 3]
    """
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _number(value):
        return "'" + value
    return value


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text


def to_csv(frame: pd.DataFrame) -> bytes:
    out = frame.drop(columns=["annotator_id"], errors="ignore")
    text = out.columns.to_series().map(neutralise)
    out = out.set_axis(list(text), axis=1)
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise)
    return out.to_csv(index=False).encode()


def to_jsonl(frame: pd.DataFrame) -> bytes:
    return (
        frame.drop(columns=["annotator_id"], errors="ignore")
        .to_json(orient="records", lines=True, date_format="iso", force_ascii=False)
        .encode()
    )
