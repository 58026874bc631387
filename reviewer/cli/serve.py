"""`signoff app` and `signoff demo`: start the labeling app (on a sample study, for the demo),
or point at the one already serving this database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from reviewer.cli.common import DbOption, StudyOption, open_store
from reviewer.errors import SignoffError
from reviewer.store import redact
from reviewer.study.lifecycle import require_study

HostOption = Annotated[str, typer.Option(help="Address to listen on.")]
PortOption = Annotated[
    int | None,
    typer.Option(
        help="Port to listen on [default: 8501, or the next free port if another program has "
        "it]. An app already serving this database is reused, whatever the port."
    ),
]


def app_cmd(
    study: StudyOption = None,
    host: HostOption = "127.0.0.1",
    port: PortOption = None,
    db: DbOption = None,
) -> None:
    """Start the labeling app (annotator pages and the admin page) on this database."""
    store = open_store(db)
    if study:
        store.read(lambda cur: require_study(cur, study))
    raise typer.Exit(_serve(store.location, study, host, port))


def demo(
    db: Annotated[
        str, typer.Option("--db", help="Where to create the demo database (file or URL).")
    ] = "signoff-demo.duckdb",
    serve_app: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the app once the study exists.")
    ] = True,
    host: HostOption = "127.0.0.1",
    port: PortOption = None,
) -> None:
    """Create the sample study (support assistant v3 vs its base model) and open the app."""
    from reviewer.app.running import DEFAULT_BASE_URL, base_url_for
    from reviewer.study.demo import STUDY, create_demo

    store = open_store(db)
    result = create_demo(store)
    if not serve_app:
        typer.echo(result.summary(base_url_for(store.path) or DEFAULT_BASE_URL))
        return
    raise typer.Exit(_serve(store.location, STUDY, host, port, intro=result.summary))


def _serve(
    db: Path | str,
    study: str | None,
    host: str,
    port: int | None,
    intro: Callable[[str], str] | None = None,
) -> int:
    """Print the links once the app answers (after `intro`, given the app's address), then run
    it in the foreground until Ctrl-C; or print the links of the app already serving `db`."""
    from reviewer.app.launch import plan_launch, run_app
    from reviewer.app.running import DEFAULT_PORT, free_port, port_is_free, running_app

    running = running_app(db)
    if running is not None:
        if intro:
            typer.echo(intro(running.url))
        typer.echo(
            f"admin page: {running.admin_url}\n"
            f"{redact(str(db))} is already served on {running.url} by `signoff app` (PID "
            f"{running.launcher_pid}); reusing it. Stop it with: kill {running.launcher_pid}"
        )
        return 0
    if port is None:
        port = free_port(host, DEFAULT_PORT)
    elif not port_is_free(host, port):
        raise SignoffError(f"port {port} is in use by another program; choose another with --port")
    launch = plan_launch(db, study, host, port)

    def ready() -> None:
        if intro:
            typer.echo(intro(launch.base_url))
        typer.echo(
            f"admin page: {launch.admin_url}\n"
            "annotators open the personal links from `signoff annotators add`\n"
            f"serving {redact(str(db))} on {launch.base_url} (Ctrl-C to stop)"
        )

    return run_app(db, launch, on_ready=ready)
