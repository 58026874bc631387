"""`signoff plan`: how many items and labels a study likely needs to sign off."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from reviewer.cli.common import DbOption, JsonOption, open_study, print_json
from reviewer.errors import SignoffError

RateOption = Annotated[
    float,
    typer.Option(
        "--expected-rate",
        min=0,
        max=1,
        help="The candidate's expected win rate under the study's tie rule (signoff.ties): "
        "share of comparisons won (not_a_win), with ties half (half) or of decisive pairs "
        "(exclude).",
    ),
]
AgreementOption = Annotated[
    float | None,
    typer.Option(
        "--judge-agreement",
        min=0.5,
        max=1,
        help="Agreement of a calibrated judge with the human majority: adds rows for the "
        "human labels a prediction-powered estimate would need.",
    ),
]
PowerOption = Annotated[
    float, typer.Option(min=0.5, max=0.99, help="Chance of clearing the threshold.")
]
TieShareOption = Annotated[
    float,
    typer.Option(
        "--tie-share", min=0, max=0.95, help="Expected share of ties (for half and exclude)."
    ),
]
RunsOption = Annotated[int, typer.Option(min=100, help="Simulated studies per power estimate.")]
PlanStudyOption = Annotated[
    str | None, typer.Option("--study", "-s", help="Plan under this study's rules (in --db).")
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(help="A study config (TOML or YAML) not imported yet; else the defaults."),
]


def plan(
    expected_rate: RateOption,
    judge_agreement: AgreementOption = None,
    power: PowerOption = 0.8,
    tie_share: TieShareOption = 0.0,
    runs: RunsOption = 2000,
    study: PlanStudyOption = None,
    config: ConfigOption = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Items and labels needed to clear the sign-off threshold with a given power, under the
    rules of --study (or --config, or the defaults): read anytime (simulated through the
    report's own decision) or once at a planned size, with and without a calibrated judge."""
    from reviewer.analysis.planning import make_plan
    from reviewer.config import load_config

    cfg, annotators = load_config(config), 2
    if study is not None:
        from reviewer.store import people
        from reviewer.study.lifecycle import require_study

        store, study_id = open_study(db, study)
        cfg = store.read(lambda cur: require_study(cur, study_id)).config
        annotators = len(store.read(lambda cur: people.annotator_ids(cur, study_id))) or 2
    try:
        result = make_plan(
            cfg,
            expected_rate,
            power=power,
            tie_share=tie_share,
            judge_agreement=judge_agreement,
            annotators=annotators,
            runs=runs,
            seed=cfg.seed,
        )
    except ValueError as exc:
        raise SignoffError(str(exc)) from None
    if json_out:
        print_json(dataclasses.asdict(result) | {"annotators": annotators})
    else:
        typer.echo(plan_text(result, cfg, annotators))


def plan_text(result, cfg, annotators: int) -> str:
    """The plan as a small table with its assumptions."""
    from reviewer.analysis.tie_rules import RULE_TEXT

    conf = cfg.signoff.confidence
    lines = [
        f"expected rate {result.expected_rate:.2f} ({RULE_TEXT[result.rule]}, "
        f"{result.tie_share:.0%} ties) vs threshold {result.threshold:.2f}; power "
        f"{result.power:.2f}; {conf:.0%} intervals",
        "",
        f"{'scenario':<48} {'items':>7} {'labels':>7} {'power':>6}",
    ]
    for r in result.rows:
        items = "never" if r.items is None else str(r.items)
        labels = "-" if r.labels is None else str(r.labels)
        reached = "" if r.power is None else f"{r.power:.2f}"
        lines.append(f"{r.scenario:<48} {items:>7} {labels:>7} {reached:>6}")
    per_cal = cfg.calibration.annotators_per_pair or annotators
    lines += [
        "",
        f"anytime-valid: {result.runs} simulated studies through the report's decision, read "
        "after every item; fixed-n: normal approximation, one read at the planned size.",
        f"labels: the first {cfg.calibration.size} items (calibration) x {per_cal} annotator(s), "
        f"then {cfg.assignment.labels_per_pair} per item.",
    ]
    if any(r.items is None for r in result.rows):
        lines.append("never: the expected rate does not clear the threshold within 20,000 items.")
    if result.judge_rho2 is not None:
        lines.append(
            f"judge rows: human-labeled items x (1 - rho^2) = x {1 - result.judge_rho2:.2f}, "
            "assuming the judge matches the human outcome with probability A and otherwise "
            "picks another outcome at random, scores every other pair, and PPI tunes its "
            "weight; the verdict itself stays human-only."
        )
    return "\n".join(lines)
