"""`signoff labels ...`: human labels gathered elsewhere in, the study's labels out."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from reviewer.cli.common import DbOption, MapOption, StudyOption, open_study
from reviewer.cli.present import imported_text
from reviewer.ingest.labels import parse_value_map
from reviewer.study.imported import import_labels
from reviewer.study.lifecycle import current_actor

labels_app = typer.Typer(help="Human labels gathered elsewhere.", no_args_is_help=True)


@labels_app.command("import")
def labels_import(
    file: Annotated[
        Path, typer.Argument(help="pair_id, annotator, preference[, presented, criteria...]")
    ],
    study: StudyOption = None,
    value_map: MapOption = None,
    db: DbOption = None,
) -> None:
    """Import human labels gathered elsewhere (e.g. an earlier spreadsheet round)."""
    mapping = parse_value_map(value_map)
    store, study_id = open_study(db, study)
    done = import_labels(store, study_id, file, current_actor(), value_map=mapping)
    text = imported_text(file, study_id, done.stored, "labels")
    typer.echo(text + ("; the study is now frozen" if done.froze else ""))


class ExportFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


@labels_app.command("export")
def labels_export(
    study: StudyOption = None,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv or jsonl.")] = ExportFormat.csv,
    out: Annotated[Path | None, typer.Option(help="File to write; stdout if omitted.")] = None,
    db: DbOption = None,
) -> None:
    """Export the latest label per pair and annotator, in the columns `labels import` reads."""
    from reviewer.study import export

    store, study_id = open_study(db, study)
    frame = export.latest_labels(store, study_id)
    data = export.to_csv(frame) if fmt == ExportFormat.csv else export.to_jsonl(frame)
    if out is None:
        sys.stdout.write(data.decode())
    else:
        out.write_bytes(data)
        typer.echo(f"wrote {len(frame)} labels to {out}", err=True)
