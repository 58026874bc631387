"""The `signoff` command: one module per command group; this one assembles them and runs.

A command group is imported only when it is run (or for the full help): `signoff judge run`
has no use for the report's, the generator's or the app's modules, and importing every group
cost its start-up ~0.1-0.2 s of CPU on each run (bench/RESULTS.md, issue 16).

Errors a user can act on are printed as one clear message with a non-zero exit code, never a
traceback; anything unexpected says how to get the traceback (SIGNOFF_DEBUG=1).
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable

import typer

from reviewer.errors import SignoffError


@functools.cache
def _judge_group() -> typer.Typer:
    from reviewer.cli.judge import judge_app
    from reviewer.cli.judge_panel import panel_app

    judge_app.add_typer(panel_app, name="panel")
    return judge_app


def _annotators_group() -> typer.Typer:
    from reviewer.cli.annotators import annotators_app

    return annotators_app


def _labels_group() -> typer.Typer:
    from reviewer.cli.labels import labels_app

    return labels_app


def _db_group() -> typer.Typer:
    from reviewer.cli.db import db_app

    return db_app


# The command groups, in the order the help lists them (after the single commands).
GROUPS: dict[str, Callable[[], typer.Typer]] = {
    "annotators": _annotators_group,
    "labels": _labels_group,
    "judge": _judge_group,
    "db": _db_group,
}


def _add_commands(app: typer.Typer) -> None:
    from reviewer.cli import generate, plan, report, serve, study

    app.command("import")(study.import_cmd)
    app.command()(study.status)
    app.command()(report.report)
    app.command()(report.check)
    app.command()(plan.plan)
    app.command()(study.unblind)
    app.command("app")(serve.app_cmd)
    app.command()(serve.demo)
    app.command()(generate.generate)


def build_app(command: str | None = None) -> typer.Typer:
    """The `signoff` app: only the group `command` when it names one, else every command."""
    app = typer.Typer(
        help="signoff: decide with evidence whether a fine-tuned model may ship.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    if command in GROUPS:
        app.add_typer(GROUPS[command](), name=command)
        return app
    _add_commands(app)
    for name, group in GROUPS.items():
        app.add_typer(group(), name=name)
    return app


def __getattr__(name: str) -> typer.Typer:
    """`reviewer.cli.app`: the whole CLI (for the docs and tests), built when first asked for."""
    if name == "app":
        return build_app()
    raise AttributeError(name)


def main() -> None:
    """Console entry point: run the CLI and turn every failure into a message and exit code."""
    try:
        # Standalone mode: typer prints usage errors itself and exits; ours arrive here.
        build_app(sys.argv[1] if len(sys.argv) > 1 else None)(prog_name="signoff")
    except SignoffError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("SIGNOFF_DEBUG"):
            traceback.print_exc()
        else:
            typer.echo(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "this is a bug in signoff; rerun with SIGNOFF_DEBUG=1 to see the traceback "
                "and include it in a report",
                err=True,
            )
        sys.exit(70)
