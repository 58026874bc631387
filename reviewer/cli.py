"""The `signoff` command. Parses arguments, calls the service modules, prints results.

Errors a user can act on are printed as one clear message with a non-zero exit code, never a
traceback; anything unexpected says how to get the traceback (SIGNOFF_DEBUG=1).
"""

from __future__ import annotations

import os
import sys
import traceback
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from reviewer import study as study_ops
from reviewer.cli_options import (
    DbOption,
    JsonOption,
    StudyOption,
    open_store,
    print_json,
    resolve_study,
)
from reviewer.config import load_config
from reviewer.errors import SignoffError
from reviewer.judge_cli import judge_app
from reviewer.pairs import load_pair_files, load_pairs
from reviewer.status import StudyStatus, study_status

app = typer.Typer(
    help="signoff: decide with evidence whether a fine-tuned model may ship.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
annotators_app = typer.Typer(help="Manage the people who label.", no_args_is_help=True)
labels_app = typer.Typer(help="Human labels gathered elsewhere.", no_args_is_help=True)
app.add_typer(annotators_app, name="annotators")
app.add_typer(labels_app, name="labels")
app.add_typer(judge_app, name="judge")


class ExtraColumns(StrEnum):
    reject = "reject"
    metadata = "metadata"


@app.command("import")
def import_cmd(
    pairs: Annotated[
        Path | None,
        typer.Argument(help="Pairs file: .jsonl, .csv or .parquet.", show_default=False),
    ] = None,
    study: Annotated[str, typer.Option("--study", "-s", help="Name of the study to create.")] = "",
    config: Annotated[
        Path | None, typer.Option(help="Study config (.toml or .yaml); defaults if omitted.")
    ] = None,
    candidate: Annotated[
        Path | None,
        typer.Option(help="Candidate outputs file (id, prompt, output), with --baseline."),
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option(help="Baseline outputs file, joined to --candidate on id.")
    ] = None,
    extra_columns: Annotated[
        ExtraColumns, typer.Option(help="What to do with columns signoff does not know.")
    ] = ExtraColumns.reject,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a study from a golden set of pairs (validated whole; nothing half-imported)."""
    if not study:
        raise SignoffError("name the study: --study NAME")
    study_ops.check_study_name(study)
    if (candidate is None) != (baseline is None):
        raise SignoffError("--candidate and --baseline go together")
    if (pairs is None) == (candidate is None):
        raise SignoffError("give either a pairs file, or --candidate and --baseline files")
    cfg = load_config(config) if config else None
    limit = (cfg or load_config(None)).limits.max_output_chars
    if pairs is not None:
        pairset = load_pairs(pairs, limit, extra_columns.value)
    else:
        pairset = load_pair_files(candidate, baseline, limit)
    store = open_store(db)
    outcome = study_ops.import_study(store, study, pairset, cfg, study_ops.current_actor())
    if as_json:
        print_json({"study": study, **outcome.__dict__})
        return
    for warning in outcome.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if outcome.action == "unchanged":
        typer.echo(
            f"study {study!r} already holds exactly these {outcome.pairs} pairs; nothing to do"
        )
        return
    verb = "created" if outcome.action == "created" else "replaced the pairs of"
    strata = ", ".join(f"{k} {v}" for k, v in sorted(outcome.strata.items()))
    typer.echo(f"{verb} study {study!r} in {store.path}: {outcome.pairs} pairs ({strata})")
    if outcome.changes:
        c = outcome.changes
        typer.echo(f"changes: {c['added']} added, {c['removed']} removed, {c['changed']} changed")
    typer.echo(f"calibration set: {outcome.calibration} pairs (stratified, seeded)")
    typer.echo(f"next: signoff annotators add NAME... --study {study}")


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
    store = open_store(db)
    study_id = resolve_study(store, study)
    made = study_ops.add_annotators(store, study_id, names, study_ops.current_actor())
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
    store = open_store(db)
    study_id = resolve_study(store, study)
    token = study_ops.new_link_token(store, study_id, annotator, study_ops.current_actor())
    typer.echo(f"{base_url.rstrip('/')}/?token={token}")


@annotators_app.command("revoke")
def annotators_revoke(
    annotator: Annotated[str, typer.Argument(help="Annotator id, as `signoff status` shows it.")],
    study: StudyOption = None,
    db: DbOption = None,
) -> None:
    """Stop an annotator's link; their labels stay and their unlabeled pairs are reassigned."""
    store = open_store(db)
    study_id = resolve_study(store, study)
    study_ops.revoke_annotator(store, study_id, annotator, study_ops.current_actor())
    typer.echo(f"revoked {annotator!r} in {study_id!r}; their unlabeled pairs were reassigned")


@labels_app.command("import")
def labels_import(
    file: Annotated[Path, typer.Argument(help="pair_id, annotator, preference[, criteria...]")],
    study: StudyOption = None,
    db: DbOption = None,
) -> None:
    """Import human labels gathered elsewhere (e.g. an earlier spreadsheet round)."""
    store = open_store(db)
    study_id = resolve_study(store, study)
    n = study_ops.import_labels(store, study_id, file, study_ops.current_actor())
    if n == 0:
        typer.echo(f"{file} was already imported into {study_id!r}; nothing to do")
    else:
        typer.echo(f"imported {n} labels into {study_id!r}; the study is now frozen")


class ExportFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


@labels_app.command("export")
def labels_export(
    study: StudyOption = None,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv or jsonl.")] = ExportFormat.csv,
    out: Annotated[Path | None, typer.Option(help="File to write; stdout if omitted.")] = None,
    db: DbOption = None,
) -> None:
    """Export the latest label per pair and annotator, in the columns `labels import` reads."""
    from reviewer import export

    store = open_store(db)
    frame = export.latest_labels(store, resolve_study(store, study))
    data = export.to_csv(frame) if fmt == ExportFormat.csv else export.to_jsonl(frame)
    if out is None:
        sys.stdout.write(data.decode())
    else:
        out.write_bytes(data)
        typer.echo(f"wrote {len(frame)} labels to {out}", err=True)


@app.command()
def status(study: StudyOption = None, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show pairs, strata, annotators, labels done and calibration progress."""
    store = open_store(db)
    st = study_status(store, resolve_study(store, study))
    if as_json:
        print_json(st.model_dump(mode="json"))
    else:
        typer.echo(format_status(st))


def format_status(st: StudyStatus) -> str:
    frozen = (
        f"frozen {st.frozen_at:%Y-%m-%d %H:%M}" if st.frozen_at else "not frozen (no label yet)"
    )
    strata = ", ".join(f"{k} {v}" for k, v in st.strata.items())
    cal = st.calibration
    lines = [
        f"study {st.study}" + (f": {st.title}" if st.title else ""),
        f"  {st.pairs} pairs ({strata}); {frozen}",
        f"  calibration: {cal.pairs} pairs, {cal.labels} labels, "
        f"{cal.pairs_with_two_or_more} with >= 2 annotators, {cal.pairs_complete} complete",
        f"  labels: {st.labels} rows on {st.labeled_pairs} pairs",
    ]
    if st.identical_outputs:
        lines.append(f"  {st.identical_outputs} pairs have identical outputs (flagged)")
    if st.annotators:
        lines.append("  annotator                 role       done/assigned   calibration")
        for a in st.annotators:
            lines.append(
                f"  {a.display_name[:24]:<25} {a.role:<10} {a.labeled:>4}/{a.assigned:<10}"
                f" {a.calibration_labeled:>4}/{a.calibration_assigned}"
            )
    else:
        lines.append("  no annotators yet: signoff annotators add NAME...")
    for judge, n in st.judges.items():
        lines.append(f"  judge {judge}: {n} verdicts")
    return "\n".join(lines)


class ReportFormat(StrEnum):
    html = "html"
    md = "md"
    json = "json"


ResamplesOption = Annotated[
    int, typer.Option(help="Bootstrap resamples over items for the intervals.")
]


@app.command()
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

    store = open_store(db)
    rep = build_report(store, resolve_study(store, study), resamples)
    if fmt == ReportFormat.json:
        text = rep.model_dump_json(indent=2)
    else:
        text = to_html(rep) if fmt == ReportFormat.html else to_markdown(rep)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"{rep.verdict.decision}: {rep.verdict.reason}\nwrote {out}", err=True)


@app.command()
def check(
    study: StudyOption = None, resamples: ResamplesOption = 1000, db: DbOption = None
) -> None:
    """Exit 0 on SIGN-OFF, 1 on BLOCKED or NOT ENOUGH EVIDENCE, printing why (for CI gates)."""
    from reviewer.report.build import build_report

    store = open_store(db)
    verdict = build_report(store, resolve_study(store, study), resamples).verdict
    typer.echo(f"{verdict.decision}: {verdict.reason}")
    raise typer.Exit(0 if verdict.decision == "SIGN-OFF" else 1)


@app.command()
def unblind(study: StudyOption = None, db: DbOption = None) -> None:
    """Reveal the model names in reports from now on; recorded with who and when."""
    store = open_store(db)
    study_id = resolve_study(store, study)
    study_ops.unblind(store, study_id, study_ops.current_actor())
    typer.echo(
        f"study {study_id!r} unblinded by {study_ops.current_actor()}; reports now name the models"
    )


HostOption = Annotated[str, typer.Option(help="Address to listen on.")]
PortOption = Annotated[int, typer.Option(help="Port to listen on.")]


@app.command("app")
def app_cmd(
    study: StudyOption = None,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8501,
    db: DbOption = None,
) -> None:
    """Start the labeling app (annotator pages and the admin page) on this database."""
    from reviewer.server import serve

    store = open_store(db)
    if study:
        store.read(lambda cur: study_ops.require_study(cur, study))
    raise typer.Exit(serve(store.path, study, host, port))


@app.command()
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
    from reviewer.demo import STUDY, create_demo
    from reviewer.server import serve

    store = open_store(db)
    result = create_demo(store)
    summary = result.summary(f"http://localhost:{port}")
    if not serve_app:
        typer.echo(summary)
        return
    raise typer.Exit(serve(store.path, STUDY, host, port, intro=summary))


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
