"""`signoff report` and `signoff check`: the sign-off report, and its verdict as an exit code."""

from __future__ import annotations

import os
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
WithStudyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--with-study",
        help="Another study of the same golden set (the candidate against another baseline, "
        "e.g. a frontier model): its checklist is shown beside this one. Repeatable.",
    ),
]


def _before_numpy() -> None:
    """OpenBLAS's idle threads told to sleep at once, not to spin for ~0.1 s after each product
    (read when numpy loads; the numbers are the same): the report's bootstrap runs small
    products block after block in a thread beside its Python, and the spinning took a core
    from it. Then the statistics libraries are imported in a thread of their own."""
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
    from reviewer.analysis.stats.libraries import import_ahead

    import_ahead()  # beside the rest of the imports and the reads


def report(
    study: StudyOption = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", help="html, md or json.")] = (
        ReportFormat.html
    ),
    out: Annotated[Path | None, typer.Option(help="File to write; stdout if omitted.")] = None,
    resamples: ResamplesOption = 1000,
    with_study: WithStudyOption = None,
    db: DbOption = None,
) -> None:
    """Write the sign-off report: checklist, verdict, win rates, checks, agreement, judges.

    It opens with the go/no-go checklist; then the verdict, win rates, mechanical checks,
    latency and cost, agreement, annotators, judges and examples."""
    _before_numpy()
    from reviewer.report.build import build_report

    store, study_id = open_study(db, study)
    rep = build_report(store, study_id, resamples, with_study or ())
    if fmt == ReportFormat.json:
        text = rep.model_dump_json(indent=2)
    else:  # the renderers (and the Markdown parser) only for the formats that use them
        from reviewer.report.render import to_html, to_markdown

        text = to_html(rep) if fmt == ReportFormat.html else to_markdown(rep)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"{rep.verdict.decision}: {rep.verdict.reason}\nwrote {out}", err=True)


def check(
    study: StudyOption = None,
    resamples: ResamplesOption = 1000,
    with_study: WithStudyOption = None,
    db: DbOption = None,
) -> None:
    """Exit 0 only when every checklist line passes, 1 otherwise, printing the lines that fail.

    The lines: the sign-off rule (SIGN-OFF passes), and the checks, judge, latency and cost
    lines the config declares; a line that could not be measured fails. With --with-study,
    every named study's checklist must pass too. Safe to run after every batch of labels."""
    _before_numpy()
    from reviewer.cli.present import checklist_text
    from reviewer.report.build import build_report

    store, study_id = open_study(db, study)
    rep = build_report(store, study_id, resamples, with_study or ())
    verdict = rep.verdict
    typer.echo(f"{verdict.decision}: {verdict.reason}\n{verdict.evidence_text}")
    passed = True
    for name, checklist in [(rep.study, rep.checklist)] + [
        (c.study, c.checklist) for c in rep.comparisons
    ]:
        typer.echo(checklist_text(name, checklist))
        passed = passed and checklist.passed
    raise typer.Exit(0 if passed else 1)
