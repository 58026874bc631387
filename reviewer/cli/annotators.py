"""`signoff annotators ...`: add people with personal links, renew a link, revoke one."""

from __future__ import annotations

from typing import Annotated

import typer

from reviewer.app.running import DEFAULT_BASE_URL, base_url_for
from reviewer.cli.common import (
    DbOption,
    JsonOption,
    StudyOption,
    open_study,
    print_json,
)
from reviewer.store import Store
from reviewer.study.annotators import add_annotators, new_link_token, revoke_annotator
from reviewer.study.lifecycle import current_actor

annotators_app = typer.Typer(help="Manage the people who label.", no_args_is_help=True)


BaseUrlOption = Annotated[
    str | None,
    typer.Option(
        envvar=["SIGNOFF_BASE_URL", "SIGNOFF_APP_URL"],
        show_default=False,
        help="Address of `signoff app` in the links [default: the address of the app serving "
        "this database, else http://localhost:8501].",
    ),
]


def links_base_url(store: Store, given: str | None) -> str:
    """The address links point at: --base-url ($SIGNOFF_BASE_URL, or its older name
    $SIGNOFF_APP_URL), else the app serving this database, else the default address."""
    if given:
        return given.rstrip("/")
    running = base_url_for(store.path)
    if running:
        return running
    typer.echo(
        f"note: no `signoff app` is serving {store.path}; the link assumes {DEFAULT_BASE_URL} "
        "(set --base-url or SIGNOFF_BASE_URL if the app will run elsewhere)",
        err=True,
    )
    return DEFAULT_BASE_URL


@annotators_app.command("add")
def annotators_add(
    names: Annotated[list[str], typer.Argument(help="Display names, e.g. 'Ana Ruiz'.")],
    study: StudyOption = None,
    base_url: BaseUrlOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add annotators; prints each one's personal link (shown once: only a hash is kept)."""
    store, study_id = open_study(db, study)
    made = add_annotators(store, study_id, names, current_actor())
    base_url = links_base_url(store, base_url)
    links = [
        {
            "annotator_id": a.annotator_id,
            "name": a.display_name,
            "token": a.token,
            "link": f"{base_url}/?token={a.token}",
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
    base_url: BaseUrlOption = None,
    db: DbOption = None,
) -> None:
    """Issue a new personal link for an annotator (the old link stops working, even on a page
    already open)."""
    store, study_id = open_study(db, study)
    token = new_link_token(store, study_id, annotator, current_actor())
    typer.echo(f"{links_base_url(store, base_url)}/?token={token}")


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
