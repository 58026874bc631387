"""A judge panel on a study: its members judged, calibrated and gated one by one as single
judges are (same runner, cache, call log and identity), and the panel measured and gated on
their majority (`judge.panel` says how a verdict is formed).

A panel is registered as a judge version of its own (provider 'panel', its id from its members'
version hashes), so its calibrations, its gate and its overrides are stored and read like any
judge's; its verdicts are computed from its members' whenever they are needed, never stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from pydantic import BaseModel

from judge.consistency import ORDERS, first_position_rate
from judge.panel import MIN_MEMBERS, RULE, panel_hash, panel_verdict, vote
from judge.runner import CostEstimate, RunProgress, Summary
from reviewer.analysis.calibration import CalibrationOut
from reviewer.analysis.outcomes import JudgeOutcomes, judge_outcomes
from reviewer.errors import SignoffError
from reviewer.judging import service
from reviewer.judging.describe import describe_calibration, interval_text
from reviewer.judging.gate import check_gate
from reviewer.judging.options import JudgeOptions, PreparedJudge, prepare
from reviewer.judging.scope import JudgeScope, load_scope
from reviewer.judging.service import CalibrationResult
from reviewer.store import Store
from reviewer.store import judge_calls as judge_sql
from reviewer.store import studies as study_sql
from reviewer.store.connection import Cursor
from reviewer.store.panels import PANEL_PROVIDER

CALIBRATE_COMMAND = "signoff judge panel calibrate"
MEMBER = re.compile(
    r"^(?P<name>[^=\s]+)=(?P<provider>[a-z-]+):(?P<model>.+?)(?:@(?P<url>https?://\S+))?$"
)


def member_options(text: str, base: JudgeOptions) -> JudgeOptions:
    """One member from `NAME=PROVIDER:MODEL[@URL]` (the URL for OpenAI-compatible servers, or
    another endpoint of the provider), with the panel's rubric and settings."""
    found = MEMBER.match(text.strip())
    if found is None:
        raise SignoffError(
            f"panel member {text!r}: expected NAME=PROVIDER:MODEL[@URL], e.g. "
            "a=openai:gpt-4o-mini or b=openai-compatible:llama3.1:8b@http://localhost:11434/v1"
        )
    return replace(
        base, name=found["name"], provider=found["provider"], model=found["model"],
        base_url=found["url"],
    )  # fmt: skip


def members_of(texts: list[str], base: JudgeOptions) -> tuple[JudgeOptions, ...]:
    """The members from their `NAME=PROVIDER:MODEL[@URL]` texts. A budget (`max_cost`) is the
    panel's: each member gets an equal share, so the panel never spends more than it."""
    share = base.settings.max_cost and base.settings.max_cost / max(1, len(texts))
    shared = replace(base, settings=replace(base.settings, max_cost=share))
    return tuple(member_options(t, shared) for t in texts)


@dataclass(frozen=True)
class PanelOptions:
    """The panel a user asked for: its members as single judges, and its name in reports."""

    members: tuple[JudgeOptions, ...]
    name: str | None = None


@dataclass(frozen=True)
class PreparedPanel:
    judge_id: str
    name: str
    version_hash: str
    members: tuple[PreparedJudge, ...]
    options: tuple[JudgeOptions, ...]

    @property
    def member_ids(self) -> list[str]:
        return [m.judge_id for m in self.members]


def prepare_panel(options: PanelOptions) -> PreparedPanel:
    """Each member's identity as a single judge, and the panel's from theirs; no call made."""
    members = tuple(prepare(o) for o in options.members)
    names = [m.name for m in members]
    if len(members) < MIN_MEMBERS:
        raise SignoffError(f"a panel needs at least {MIN_MEMBERS} members, got {len(members)}")
    if len(set(names)) < len(names):
        raise SignoffError(f"panel member names must differ: {', '.join(names)}")
    ids = [m.judge_id for m in members]
    if len(set(ids)) < len(ids):
        raise SignoffError(
            "two panel members are the same judge (same provider, model, rubric and "
            "parameters): it would vote twice"
        )
    version = panel_hash(m.spec.identity.version_hash() for m in members)
    return PreparedPanel(
        judge_id=f"panel:{version[:16]}",
        name=options.name or "panel of " + ", ".join(names),
        version_hash=version,
        members=members,
        options=options.members,
    )


def _register(cur: Cursor, panel: PreparedPanel) -> None:
    first = panel.members[0].spec
    judge_sql.ensure_judge(
        cur,
        panel.judge_id,
        {
            "name": panel.name,
            "provider": PANEL_PROVIDER,
            "model": " + ".join(m.spec.model for m in panel.members),
            "params": {
                "rule": RULE,
                "members": [{"judge_id": m.judge_id, "name": m.name} for m in panel.members],
            },
            "rubric": first.rubric.model_dump(mode="json"),
            "template": first.prompt_text,
            "version_hash": panel.version_hash,
        },
    )


def panel_outcomes(rows: list[dict], member_ids: list[str]) -> tuple[JudgeOutcomes, list[dict]]:
    """The panel's outcomes from the study's verdict rows (and the member rows they rest on):
    each member's by `judge_outcomes`, as for one judge, then their majority per pair
    (`judge.panel.panel_verdict`); per criterion, the majority of the members' outcomes on it.
    A pair counts only once every member judged it in both orders."""
    mine = [r for r in rows if r["judge_id"] in member_ids]
    members = [judge_outcomes([r for r in mine if r["judge_id"] == m]) for m in member_ids]
    verdicts = {
        item: v
        for item in set.intersection(*(set(m.orders) for m in members))
        if (v := panel_verdict([m.orders[item] for m in members])) is not None
    }
    names = set.intersection(*(set(m.criteria) for m in members))
    criteria = {
        name: {
            item: vote([m.criteria[name][item] for m in members])
            for item in verdicts
            if all(item in m.criteria[name] for m in members)
        }
        for name in sorted(names)
    }
    outcomes = JudgeOutcomes(
        overall={i: v.outcome for i, v in verdicts.items()},
        criteria=criteria,
        flips={i: v.flip for i, v in verdicts.items() if v.flip is not None},
        first_position_rate=first_position_rate(
            (o, p) for v in verdicts.values() for o, p in v.orders.items() if o in ORDERS
        ),
        one_order_only=frozenset().union(*(m.one_order_only for m in members)) - set(verdicts),
        orders={i: dict(v.orders) for i, v in verdicts.items()},
    )
    return outcomes, mine


class PanelCalibration(BaseModel):
    """The panel's calibration, and each member's: the same measures on the same pairs, each
    member measured exactly as when calibrated alone."""

    panel: CalibrationResult
    members: list[CalibrationResult]


def calibrate_panel(
    store: Store,
    study_id: str,
    options: PanelOptions,
    actor: str,
    *,
    final: bool = False,
    on_progress: Callable[[RunProgress], None] | None = None,
    resamples: int = 1000,
) -> tuple[PanelCalibration, list[Summary]]:
    """Calibrate each member as a single judge (its verdicts, its calibration and gate), then
    the panel on their majority, decided by the same gate rules."""
    panel = prepare_panel(options)
    members, summaries = [], []
    for member in panel.options:
        result, summary = service.calibrate(
            store, study_id, member, actor, final=final, on_progress=on_progress,
            resamples=resamples,
        )  # fmt: skip
        members.append(result)
        summaries.append(summary)
    store.write(lambda cur: _register(cur, panel))
    result = service.measure_calibration(
        store, study_id, panel.judge_id, panel.name, actor,
        lambda rows: panel_outcomes(rows, panel.member_ids),
        final=final, resamples=resamples, members=panel.member_ids,
    )  # fmt: skip
    return PanelCalibration(panel=result, members=members), summaries


def run_panel(
    store: Store,
    study_id: str,
    options: PanelOptions,
    scope: JudgeScope,
    actor: str,
    *,
    on_progress: Callable[[RunProgress], None] | None = None,
    override: str | None = None,
) -> tuple[PreparedPanel, list[Summary]]:
    """Judge the pairs with every member, in both orders. All pairs need the panel (not each
    member) to have passed the gate, or an override reason; each member's answers must still
    come from the model its calibration saw."""
    panel = prepare_panel(options)
    cfg, pairs = load_scope(store, study_id, scope)
    store.write(lambda cur: _register(cur, panel))
    if scope == "all":
        check_gate(
            store, study_id, cfg, panel, override, actor, calibrate_command=CALIBRATE_COMMAND
        )
    summaries = [
        service.run_prepared(
            store,
            study_id,
            opts,
            member,
            pairs,
            scope,
            actor,
            on_progress=on_progress,
            override=override,
        )  # fmt: skip
        for opts, member in zip(panel.options, panel.members, strict=True)
    ]
    store.write(
        lambda cur: study_sql.record_event(
            cur, study_id, actor, "judge.panel_run", judge_id=panel.judge_id, pairs=scope,
            members=panel.member_ids, verdicts=sum(s.verdicts for s in summaries),
        )
    )  # fmt: skip
    return panel, summaries


def dry_run_panel(
    store: Store, study_id: str, options: PanelOptions, scope: JudgeScope
) -> list[tuple[PreparedJudge, CostEstimate]]:
    """What each member's run would do and cost."""
    panel = prepare_panel(options)
    return [
        (member, service.dry_run(store, study_id, opts, scope))
        for opts, member in zip(panel.options, panel.members, strict=True)
    ]


FIGURES = (
    ("agreement with each human label", lambda m: m.vs_humans_with_ties["agreement"], True),
    ("kappa with each human label", lambda m: m.vs_humans_with_ties["kappa"], True),
    ("both orders agree", lambda m: m.positional_consistency, False),
)


def figures(m: CalibrationOut) -> dict[str, str]:
    """A panel's or a member's calibration in the figures shown side by side: agreement and
    kappa with the humans, and position consistency, each with its interval."""
    return {
        what: interval_text(get(m), m.usable if per_label else None)
        for what, get, per_label in FIGURES
    }


def describe_panel(result: PanelCalibration) -> str:
    """The panel's calibration in full, then the panel and each member side by side."""
    lines = [describe_calibration(result.panel)]
    for part in ("development", "deciding"):
        rows = [(result.panel, "panel")] + [(m, "member") for m in result.members]
        measured = [(r, kind, getattr(r, part)) for r, kind in rows if getattr(r, part)]
        if len(measured) < len(rows):
            continue
        lines.append(
            f"panel and members side by side ({measured[0][2].part} pairs; each member "
            "calibrated exactly as alone):"
        )
        for r, kind, m in measured:
            gate = "" if r.gate is None or part != "deciding" else (
                "; gate passed" if r.gate.passed else "; gate FAILED"
            )  # fmt: skip
            shown = "; ".join(f"{k} {v}" for k, v in figures(m).items())
            lines.append(f"  {kind} {r.name} ({r.judge_id}): {shown}{gate}")
    return "\n".join(lines)
