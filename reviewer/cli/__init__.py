"""The `signoff` command: one module per command group; this one assembles them and runs.

Errors a user can act on are printed as one clear message with a non-zero exit code, never a
traceback; anything unexpected says how to get the traceback (SIGNOFF_DEBUG=1).
"""

from __future__ import annotations

import os
import sys
import traceback

import typer

from reviewer.cli import generate, plan, report, serve, study
from reviewer.cli.annotators import annotators_app
from reviewer.cli.db import db_app
from reviewer.cli.judge import judge_app
from reviewer.cli.judge_panel import panel_app
from reviewer.cli.labels import labels_app
from reviewer.errors import SignoffError

app = typer.Typer(
    help="signoff: decide with evidence whether a fine-tuned model may ship.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("import")(study.import_cmd)
app.command()(study.status)
app.command()(report.report)
app.command()(report.check)
app.command()(plan.plan)
app.command()(study.unblind)
app.command("app")(serve.app_cmd)
app.command()(serve.demo)
app.command()(generate.generate)
app.add_typer(annotators_app, name="annotators")
app.add_typer(labels_app, name="labels")
judge_app.add_typer(panel_app, name="panel")
app.add_typer(judge_app, name="judge")
app.add_typer(db_app, name="db")


def main() -> None:
    """Console entry point: run the CLI and turn every failure into a message and exit code."""
    try:
        # Standalone mode: typer prints usage errors itself and exits; ours arrive here.
        app(prog_name="signoff")
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
