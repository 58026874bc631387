"""Options and helpers every `signoff` command shares.

The store (and DuckDB with it, ~0.5 s of CPU to import) is imported when a command opens it:
`signoff generate` uses these options and never opens a database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from reviewer.errors import SignoffError

if TYPE_CHECKING:
    from reviewer.store import Store

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="DuckDB file, or a PostgreSQL URL postgresql://user[:password]@host[:port]/dbname "
        "for a team (default: $SIGNOFF_DB or ./signoff.duckdb).",
    ),
]
StudyOption = Annotated[
    str | None,
    typer.Option("--study", "-s", help="Study name; may be left out if the database has one."),
]
MapOption = Annotated[
    str | None,
    typer.Option(
        "--map",
        help="Translate another tool's preference values, e.g. "
        "'1=candidate,2=baseline,0=tie'. A value may also map to first/second: positional "
        "values (first, second, A, B, left, right) are resolved through the presented "
        "column (candidate_first or baseline_first).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def open_store(db: str | Path | None, *, create: bool = True) -> Store:
    """The database of `--db` (default $SIGNOFF_DB or ./signoff.duckdb). Only the commands that
    make a study (import, demo, app) create the file; the others say it is missing."""
    from reviewer.store import Store, default_db

    return Store(db or default_db(), create=create)


def open_study(db: str | None, name: str | None) -> tuple[Store, str]:
    """The store and the study a command works on (`--db`, `--study`, or the only study); a
    study lives in an existing database, so a missing file is an error, never created."""
    store = open_store(db, create=False)
    return store, resolve_study(store, name)


def resolve_study(store: Store, name: str | None) -> str:
    """The named study, or the only study in the database."""
    if name:
        return name
    from reviewer.store import studies as study_sql

    names = store.read(study_sql.list_studies)
    if len(names) == 1:
        return names[0]
    if not names:
        raise SignoffError(f"no study in {store.path}; create one with `signoff import`")
    raise SignoffError(
        f"several studies in {store.path}, pick one with --study: {', '.join(names)}"
    )


def print_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=False, default=str))
