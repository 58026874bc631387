"""The `signoff` command: one module per command group; this one assembles them and runs.

A command group, or a single command, is imported only when it is run (or for the full help):
`signoff judge run` has no use for the report's, the generator's or the app's modules, and
importing every group cost its start-up ~0.1-0.2 s of CPU on each run (bench/RESULTS.md, issue
16); `signoff generate` imports its own module only (issue 13).

Errors a user can act on are printed as one clear message with a non-zero exit code, never a
traceback; anything unexpected says how to get the traceback (SIGNOFF_DEBUG=1).
"""

from __future__ import annotations

import atexit
import functools
import gc
import importlib
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


# The single commands, in the order the help lists them: name -> (module of reviewer.cli, function).
COMMANDS: dict[str, tuple[str, str]] = {
    "import": ("study", "import_cmd"),
    "status": ("study", "status"),
    "report": ("report", "report"),
    "check": ("report", "check"),
    "plan": ("plan", "plan"),
    "unblind": ("study", "unblind"),
    "app": ("serve", "app_cmd"),
    "demo": ("serve", "demo"),
    "generate": ("generate", "generate"),
}


def _add_command(app: typer.Typer, name: str) -> None:
    module, function = COMMANDS[name]
    app.command(name)(getattr(importlib.import_module(f"reviewer.cli.{module}"), function))


def _no_options() -> None:
    """A callback keeps an app of one command a group: `signoff NAME ...` as in the full app."""


def build_app(command: str | None = None) -> typer.Typer:
    """The `signoff` app: only the group or single command `command` when it names one, else
    every command."""
    app = typer.Typer(
        help="signoff: decide with evidence whether a fine-tuned model may ship.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    if command in GROUPS:
        app.add_typer(GROUPS[command](), name=command)
        return app
    if command in COMMANDS:
        app.callback()(_no_options)
        _add_command(app, command)
        return app
    for name in COMMANDS:
        _add_command(app, name)
    for name, group in GROUPS.items():
        app.add_typer(group(), name=name)
    return app


def __getattr__(name: str) -> typer.Typer:
    """`reviewer.cli.app`: the whole CLI (for the docs and tests), built when first asked for."""
    if name == "app":
        return build_app()
    raise AttributeError(name)


# Allocations between two collections of the youngest generation while a command runs (Python's
# default is 700): a generation run made ~360 young collections, ~0.1-0.15 s of CPU, in pauses of
# its event loop; at 10,000 it makes ~11. Cycles are still collected, a little later.
YOUNG_THRESHOLD = 10_000


def _run(app: typer.Typer) -> None:
    """Run `app` with the objects of start-up out of the garbage collector's way.

    What start-up made (modules, classes, functions) lives as long as the process, so the
    collections while a command runs need not walk it, and the process need not collect it, nor
    a provider SDK's ~50k objects, at exit: that last collection took ~0.3 s of CPU after a run
    that imported an SDK, and the walks ~0.1 s more during a generation (bench/RESULTS.md,
    issue 13). Nothing is left to the collector at exit: the stores close in their own exit
    handlers, registered later, so run before this one.
    """
    atexit.unregister(gc.freeze)  # registered once however often `main` runs (the tests)
    atexit.register(gc.freeze)
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *thresholds[1:])
    try:
        app(prog_name="signoff")
    finally:  # in-process callers (the tests) get their collector back as it was
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def main() -> None:
    """Console entry point: run the CLI and turn every failure into a message and exit code."""
    try:
        # Standalone mode: typer prints usage errors itself and exits; ours arrive here.
        _run(build_app(sys.argv[1] if len(sys.argv) > 1 else None))
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
