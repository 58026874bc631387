"""`signoff app` and `signoff demo`: start the labeling app (on a sample study, for the demo)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reviewer.cli.common import DbOption, StudyOption, open_store
from reviewer.study.lifecycle import require_study

HostOption = Annotated[str, typer.Option(help="Address to listen on.")]
PortOption = Annotated[int, typer.Option(help="Port to listen on.")]


def app_cmd(
    study: StudyOption = None,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8501,
    db: DbOption = None,
) -> None:
    """Start the labeling app (annotator pages and the admin page) on this database."""
    store = open_store(db)
    if study:
        store.read(lambda cur: require_study(cur, study))
    raise typer.Exit(_serve(store.path, study, host, port))


def demo(
    db: Annotated[Path, typer.Option("--db", help="Where to create the demo database.")] = Path(
        "signoff-demo.duckdb"
    ),
    serve_app: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the app once the study exists.")
    ] = True,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8501,
) -> None:
    """Create the sample study (support assistant v3 vs its base model) and open the app."""
    from reviewer.study.demo import STUDY, create_demo

    store = open_store(db)
    result = create_demo(store)
    summary = result.summary(f"http://localhost:{port}")
    if not serve_app:
        typer.echo(summary)
        return
    raise typer.Exit(_serve(store.path, STUDY, host, port, intro=summary))


def _serve(db: Path, study: str | None, host: str, port: int, intro: str = "") -> int:
    """Print the admin link (after `intro`), then run the app in the foreground until Ctrl-C."""
    from reviewer.app.launch import plan_launch, run_app

    launch = plan_launch(db, study, host, port)
    if intro:
        typer.echo(intro)
    typer.echo(
        f"admin page: {launch.admin_url}\n"
        "annotators open the personal links from `signoff annotators add`\n"
        f"serving {db} on {launch.base_url} (Ctrl-C to stop)"
    )
    return run_app(launch)
