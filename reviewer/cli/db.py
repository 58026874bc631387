"""`signoff db copy`: move a study between a DuckDB file and a PostgreSQL database."""

from __future__ import annotations

from typing import Annotated

import typer

from reviewer.cli.common import StudyOption, open_store, print_json, resolve_study
from reviewer.store.copy import copy_study

db_app = typer.Typer(help="Move studies between databases.", no_args_is_help=True)


@db_app.command("copy")
def db_copy(
    source: Annotated[
        str, typer.Option("--from", help="The database the study is in (file or URL).")
    ],
    target: Annotated[
        str, typer.Option("--to", help="The database to copy it into (file or URL).")
    ],
    study: StudyOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Copy a study with all its labels, verdicts, judge calls and events into another
    database (e.g. a DuckDB file into PostgreSQL for a team, or back); kept only if every
    table's row count and content hash are equal after the move."""
    src = open_store(source, create=False)
    study_id = resolve_study(src, study)
    dst = open_store(target)
    tables = copy_study(src, dst, study_id)
    if as_json:
        print_json(
            {
                "study": study_id,
                "from": src.path,
                "to": dst.path,
                "tables": {t.table: {"rows": t.rows, "sha256": t.target_hash} for t in tables},
            }
        )
        return
    width = max(len(t.table) for t in tables)
    for t in tables:
        typer.echo(f"{t.table:<{width}}  {t.rows:>8} rows  sha256 {t.target_hash[:16]}  equal")
    typer.echo(f"copied study {study_id!r} from {src.path} to {dst.path}")
