"""`signoff judge panel ...`: a panel of LLM judges, each member judged in both orders as one
judge is, the panel's verdict by their majority, calibrated and gated like any judge."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated, Any, get_type_hints

import typer

from judge.runner import Summary
from reviewer.cli.common import DbOption, JsonOption, StudyOption, open_study, print_json
from reviewer.cli.judge import (
    SCOPE_OF_CHOICE,
    FinalOption,
    PairsChoice,
    _exit_if_too_few_judged,
    _summary_json,
    judge_options,
)
from reviewer.cli.run_options import progress_bar
from reviewer.judging.describe import describe_estimate, describe_summary
from reviewer.judging.panel import (
    PanelOptions,
    calibrate_panel,
    describe_panel,
    dry_run_panel,
    members_of,
    run_panel,
)
from reviewer.study.lifecycle import current_actor

panel_app = typer.Typer(
    help="Judge panels: several models vote, each judged in both orders; the panel is "
    "calibrated and gated like one judge.",
    no_args_is_help=True,
)

MemberOpt = Annotated[
    list[str],
    typer.Option(
        "--member",
        help="A member as NAME=PROVIDER:MODEL or NAME=PROVIDER:MODEL@URL, e.g. "
        "a=openai:gpt-4o-mini or b=openai-compatible:llama3.1:8b@http://localhost:11434/v1; "
        "once per member (at least two). Keys come from OPENAI_API_KEY / ANTHROPIC_API_KEY.",
    ),
]
PanelNameOpt = Annotated[
    str | None, typer.Option(help="The panel's name in reports (default: 'panel of' its members).")
]
# Options of one judge that each member sets for itself (in --member), or the panel replaces.
_PER_MEMBER = {"provider", "model", "base_url", "api_key_env", "name"}


def panel_options(member: list[str], name: str | None, **shared: Any) -> PanelOptions:
    """The members, each a single judge with the panel's rubric and settings."""
    base = judge_options(provider="", model="", **shared)  # each member sets both
    return PanelOptions(members=members_of(member, base), name=name)


def with_panel_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give `command` the rubric, the members and the settings every judge command takes, and
    one built `PanelOptions` as its `options` argument."""
    hints = {
        **get_type_hints(judge_options, include_extras=True),
        **get_type_hints(command, include_extras=True),
        "member": MemberOpt,
        "name": PanelNameOpt,
    }
    shared = [
        p.replace(annotation=hints[p.name])
        for p in inspect.signature(judge_options).parameters.values()
        if p.name not in _PER_MEMBER
    ]
    own = [
        p.replace(annotation=hints[p.name], kind=inspect.Parameter.POSITIONAL_OR_KEYWORD)
        for p in inspect.signature(command).parameters.values()
        if p.name != "options"
    ]
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    member = inspect.Parameter("member", kind, annotation=MemberOpt)
    name = inspect.Parameter("name", kind, default=None, annotation=PanelNameOpt)
    names = {p.name for p in shared}

    @functools.wraps(command)
    def wrapper(**kw: Any) -> None:
        options = panel_options(kw.pop("member"), kw.pop("name"), **{k: kw.pop(k) for k in names})
        command(options=options, **kw)

    params = [shared[0], member, *own[:2], *shared[1:], name, *own[2:]]
    wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return wrapper


@panel_app.command("calibrate")
@with_panel_options
def panel_calibrate(
    study: StudyOption = None,
    db: DbOption = None,
    final: FinalOption = False,
    as_json: JsonOption = False,
    *,
    options: PanelOptions,
) -> None:
    """Calibrate each member as a single judge, then the panel on their majority; decide the
    panel's gate by the study's rules. --max-cost is shared evenly by the members. Exit codes
    as `signoff judge calibrate` (5: the panel's gate failed)."""
    store, study_id = open_study(db, study)
    with progress_bar(quiet=as_json) as on_progress:
        result, summaries = calibrate_panel(
            store, study_id, options, current_actor(), final=final, on_progress=on_progress
        )
    pairs = list(zip(result.members, summaries, strict=True))
    if as_json:
        runs = [_summary_json(m.judge_id, s) for m, s in pairs]
        print_json({**result.model_dump(mode="json"), "runs": runs})
    else:
        for m, s in pairs:
            typer.echo(describe_summary(m.name, m.judge_id, s))
        typer.echo(describe_panel(result))
    _exit_on_runs(summaries)
    if result.panel.gate is not None and not result.panel.gate.passed:
        raise typer.Exit(5)


@panel_app.command("run")
@with_panel_options
def panel_run(
    study: StudyOption = None,
    db: DbOption = None,
    pairs: Annotated[
        PairsChoice,
        typer.Option(
            help="calibration: the development part of the calibration set; all: every pair, "
            "once the panel has passed the gate."
        ),
    ] = PairsChoice.calibration,
    override: Annotated[
        str | None,
        typer.Option(help="Judge all pairs without a passing panel gate; logged and stamped."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Estimate each member's calls and cost.")
    ] = False,
    as_json: JsonOption = False,
    *,
    options: PanelOptions,
) -> None:
    """Judge pairs with every member of the panel, in both orders; the report shows the
    panel's verdicts beside its members'. --max-cost is shared evenly by the members. Exit
    codes as `signoff judge run`."""
    store, study_id = open_study(db, study)
    scope = SCOPE_OF_CHOICE[pairs]
    if dry_run:
        estimates = dry_run_panel(store, study_id, options, scope)
        if as_json:
            print_json([{"judge_id": m.judge_id, **asdict(e)} for m, e in estimates])
        else:
            for m, e in estimates:
                typer.echo(f"member {m.name}: " + describe_estimate(e, m.spec.model))
        return
    with progress_bar(quiet=as_json) as on_progress:
        panel, summaries = run_panel(
            store, study_id, options, scope, current_actor(), on_progress=on_progress,
            override=override,
        )  # fmt: skip
    ran = list(zip(panel.members, summaries, strict=True))
    if as_json:
        runs = [_summary_json(m.judge_id, s) for m, s in ran]
        print_json({"judge_id": panel.judge_id, "name": panel.name, "runs": runs})
    else:
        typer.echo(f"panel {panel.name} ({panel.judge_id})")
        for m, s in ran:
            typer.echo(describe_summary(m.name, m.judge_id, s))
    _exit_on_runs(summaries)


def _exit_on_runs(summaries: list[Summary]) -> None:
    """Exit 4 when a member's run stopped early, 6 when one judged too few of its verdicts."""
    if any(s.stopped is not None for s in summaries):
        raise typer.Exit(4)
    for s in summaries:
        _exit_if_too_few_judged(s)
