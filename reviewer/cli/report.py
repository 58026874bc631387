"""`signoff report` and `signoff check`: the sign-off report, and its verdict as an exit code."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from reviewer.cli.common import DbOption, StudyOption, open_study


class ReportFormat(StrEnum):
    html = "html"
    md = "md"
    json = "json"


ResamplesOption = Annotated[
    int, typer.Option(help="Bootstrap resamples over items for the intervals.")
]


def report(
    study: StudyOption = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", help="html, md or json.")] = (
        ReportFormat.html
    ),
    out: Annotated[Path | None, typer.Option(help="File to write; stdout if omitted.")] = None,
    resamples: ResamplesOption = 1000,
    db: DbOption = None,
) -> None:
    """Write the sign-off report: verdict, win rates, agreement, annotators, judges, examples."""
    from reviewer.report.build import build_report
    from reviewer.report.render import to_html, to_markdown

    store, study_id = open_study(db, study)
    rep = build_report(store, study_id, resamples)
    if fmt == ReportFormat.json:
        text = rep.model_dump_json(indent=2)
    else:
        text = to_html(rep) if fmt == ReportFormat.html else to_markdown(rep)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"{rep.verdict.decision}: {rep.verdict.reason}\nwrote {out}", err=True)


def check(
    study: StudyOption = None, resamples: ResamplesOption = 1000, db: DbOption = None
) -> None:
    """Exit 0 on SIGN-OFF, 1 on BLOCKED or NOT ENOUGH EVIDENCE, printing why and whether the
    evidence is already enough (for CI gates; safe to run after every batch of labels)."""
    from reviewer.report.build import build_report

    store, study_id = open_study(db, study)
    verdict = build_report(store, study_id, resamples).verdict
    typer.echo(f"{verdict.decision}: {verdict.reason}\n{verdict.evidence_text}")
    raise typer.Exit(0 if verdict.decision == "SIGN-OFF" else 1)
