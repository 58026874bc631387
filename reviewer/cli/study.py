"""`signoff import`, `status` and `unblind`: a study's pairs in, where it stands, names out."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from reviewer.cli.common import (
    DbOption,
    JsonOption,
    StudyOption,
    open_store,
    open_study,
    print_json,
)
from reviewer.cli.present import format_status
from reviewer.errors import SignoffError
from reviewer.study.lifecycle import current_actor, import_study_files
from reviewer.study.lifecycle import unblind as unblind_study
from reviewer.study.status import study_status


class ExtraColumns(StrEnum):
    reject = "reject"
    metadata = "metadata"


def import_cmd(
    pairs: Annotated[
        Path | None,
        typer.Argument(help="Pairs file: .jsonl, .csv or .parquet.", show_default=False),
    ] = None,
    study: Annotated[str, typer.Option("--study", "-s", help="Name of the study to create.")] = "",
    config: Annotated[
        Path | None, typer.Option(help="Study config (.toml or .yaml); defaults if omitted.")
    ] = None,
    candidate: Annotated[
        Path | None,
        typer.Option(help="Candidate outputs file (id, prompt, output), with --baseline."),
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option(help="Baseline outputs file, joined to --candidate on id.")
    ] = None,
    extra_columns: Annotated[
        ExtraColumns, typer.Option(help="What to do with columns signoff does not know.")
    ] = ExtraColumns.reject,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a study from a golden set of pairs (validated whole; nothing half-imported)."""
    if not study:
        raise SignoffError("name the study: --study NAME")
    store = open_store(db)
    outcome = import_study_files(
        store,
        study,
        current_actor(),
        pairs=pairs,
        candidate=candidate,
        baseline=baseline,
        config=config,
        extra_columns=extra_columns.value,
    )
    if as_json:
        print_json({"study": study, **outcome.__dict__})
        return
    for warning in outcome.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if outcome.action == "unchanged":
        typer.echo(
            f"study {study!r} already holds exactly these {outcome.pairs} pairs; nothing to do"
        )
        return
    verb = "created" if outcome.action == "created" else "replaced the pairs of"
    strata = ", ".join(f"{k} {v}" for k, v in sorted(outcome.strata.items()))
    typer.echo(f"{verb} study {study!r} in {store.path}: {outcome.pairs} pairs ({strata})")
    if outcome.changes:
        c = outcome.changes
        typer.echo(f"changes: {c['added']} added, {c['removed']} removed, {c['changed']} changed")
    typer.echo(f"calibration set: {outcome.calibration} pairs (stratified, seeded)")
    typer.echo(f"next: signoff annotators add NAME... --study {study}")


def status(study: StudyOption = None, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show pairs, strata, annotators, labels done and calibration progress."""
    store, study_id = open_study(db, study)
    st = study_status(store, study_id)
    if as_json:
        print_json(st.model_dump(mode="json"))
    else:
        typer.echo(format_status(st))


def unblind(study: StudyOption = None, db: DbOption = None) -> None:
    """Reveal the model names in reports from now on; recorded with who and when."""
    store, study_id = open_study(db, study)
    unblind_study(store, study_id, current_actor())
    typer.echo(f"study {study_id!r} unblinded by {current_actor()}; reports now name the models")
