"""`signoff annotators ...`: add people with personal links, renew a link, revoke one."""

from __future__ import annotations

from typing import Annotated

import typer

from reviewer.cli.common import (
    DbOption,
    JsonOption,
    StudyOption,
    open_study,
    print_json,
)
from reviewer.study.annotators import add_annotators, new_link_token, revoke_annotator
from reviewer.study.lifecycle import current_actor

annotators_app = typer.Typer(help="Manage the people who label.", no_args_is_help=True)


@annotators_app.command("add")
def annotators_add(
    names: Annotated[list[str], typer.Argument(help="Display names, e.g. 'Ana Ruiz'.")],
    study: StudyOption = None,
    base_url: Annotated[
        str,
        typer.Option(envvar="SIGNOFF_APP_URL", help="Address of `signoff app` for the links."),
    ] = "http://localhost:8501",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add annotators; prints each one's personal link (shown once: only a hash is kept)."""
    store, study_id = open_study(db, study)
    made = add_annotators(store, study_id, names, current_actor())
    links = [
        {
            "annotator_id": a.annotator_id,
            "name": a.display_name,
            "token": a.token,
            "link": f"{base_url.rstrip('/')}/?token={a.token}",
        }
        for a in made
    ]
    if as_json:
        print_json(links)
        return
    typer.echo(f"added to {study_id!r}; send each person their own link (it is not stored):")
    for link in links:
        typer.echo(f"  {link['name']}: {link['link']}")


@annotators_app.command("link")
def annotators_link(
    annotator: Annotated[str, typer.Argument(help="Annotator id, as `signoff status` shows it.")],
    study: StudyOption = None,
    base_url: Annotated[
        str,
        typer.Option(envvar="SIGNOFF_APP_URL", help="Address of `signoff app` for the link."),
    ] = "http://localhost:8501",
    db: DbOption = None,
) -> None:
    """Issue a new personal link for an annotator (the old link stops working)."""
    store, study_id = open_study(db, study)
    token = new_link_token(store, study_id, annotator, current_actor())
    typer.echo(f"{base_url.rstrip('/')}/?token={token}")


@annotators_app.command("revoke")
def annotators_revoke(
    annotator: Annotated[str, typer.Argument(help="Annotator id, as `signoff status` shows it.")],
    study: StudyOption = None,
    db: DbOption = None,
) -> None:
    """Stop an annotator's link; their labels stay and their unlabeled pairs are reassigned."""
    store, study_id = open_study(db, study)
    revoke_annotator(store, study_id, annotator, current_actor())
    typer.echo(f"revoked {annotator!r} in {study_id!r}; their unlabeled pairs were reassigned")
