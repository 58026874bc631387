"""The report's judge section: each judge's win rates, calibration gate and the
bias-corrected estimate that combines its verdicts with the human labels.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from itertools import filterfalse, groupby

import numpy as np

from reviewer.analysis.human_items import HumanRatings
from reviewer.analysis.intervals import Interval, agreement_kappa, finite
from reviewer.analysis.judge_measures import length_baseline_later, order_measures_later
from reviewer.analysis.outcomes import (
    SIDES,
    JudgeOutcomes,
    confusion,
    judge_outcomes_of_columns,
    majorities,
)
from reviewer.analysis.stats import item_outcome
from reviewer.analysis.stats.agreement import judge_vs_humans_later, table_agreement
from reviewer.analysis.stats.bootstrap import Resampling
from reviewer.analysis.stats.judge_agreement import correlation_later
from reviewer.analysis.stats.ppi import SCORE, ppi_mean
from reviewer.columns import Columns, columns_of, rows_of
from reviewer.config import StudyConfig
from reviewer.judging.gate import deciding_gates
from reviewer.judging.panel import panel_outcomes
from reviewer.judging.served import UNKNOWN, calibrated_models, served_counts
from reviewer.report.model import (
    BiasCorrected,
    JudgeGate,
    JudgeOut,
    PanelMember,
)
from reviewer.report.win_rates import side_result
from reviewer.store import calibrations as calibration_sql
from reviewer.store import judge_calls as judge_sql
from reviewer.store.connection import Cursor


def judge_gates(cur: Cursor, study_id: str) -> dict[str, JudgeGate]:
    """Each judge version's standing with the gate, from its calibrations and overrides, and
    the served models its pass covers."""
    gates = deciding_gates(cur, study_id)
    rows = judge_sql.served_by_verdict(cur, study_id) if gates else []
    served = _served_by_judge(rows)
    out = {}
    for judge_id, gate in gates.items():
        calibrated = list(calibrated_models(cur, study_id, judge_id, rows))
        uncovered = [m for m in served.get(judge_id, {}) if m not in calibrated and m != UNKNOWN]
        out[judge_id] = JudgeGate(
            status="passed" if gate.passed else "failed",
            part=gate.part,
            failures=gate.failures(),
            human_only_criteria=gate.human_only_criteria,
            calibration_served_models=calibrated,
            served_models_not_calibrated=uncovered if set(calibrated) - {UNKNOWN} else [],
        )
    for judge_id, o in calibration_sql.overrides(cur, study_id).items():
        base = out.get(judge_id) or JudgeGate(status="not calibrated", part=None)
        if base.status != "passed" or "served_model" in o["kinds"]:
            out[judge_id] = base.model_copy(
                update={"status": "overridden", "override_reason": o["reason"],
                        "override_by": o["actor"]}
            )  # fmt: skip
    return out


def _served_by_judge(rows: list[dict]) -> dict[str, dict[str, int]]:
    by_judge: dict[str, list[str | None]] = defaultdict(list)
    for row in rows:
        by_judge[row["judge_id"]].append(row.get("served_model"))
    return {judge_id: served_counts(models) for judge_id, models in by_judge.items()}


def _bias_corrected(
    outcomes: dict[str, str], human_items: dict[str, list[str]]
) -> BiasCorrected | None:
    labeled = sorted(filter(human_items.__contains__, outcomes))
    unlabeled = sorted(filterfalse(human_items.__contains__, outcomes))
    if len(labeled) < 2 or len(unlabeled) < 2:
        return None
    humans = map(item_outcome, map(human_items.__getitem__, labeled))
    est = ppi_mean(
        np.array(list(map(SCORE.__getitem__, humans))),
        np.array(list(map(SCORE.__getitem__, map(outcomes.__getitem__, labeled)))),
        np.array(list(map(SCORE.__getitem__, map(outcomes.__getitem__, unlabeled)))),
    )
    return BiasCorrected(
        method="prediction-powered inference (PPI++, Angelopoulos, Duchi & Zrnic 2023): human "
        "majority on labeled pairs corrects the judge on all pairs; candidate = 1, baseline = 0, "
        "tie = 0.5 (ties count half); 95% normal interval",
        value=est.value,
        low=est.low,
        high=est.high,
        labeled=est.labeled,
        unlabeled=est.unlabeled,
        judge_weight=est.lam,
        human_only_low=est.human_only_low,
        human_only_high=est.human_only_high,
    )


def _versus_humans(
    outcomes: dict[str, str],
    humans: HumanRatings,
    labeled: list[str],
    decided: dict[str, str],
    resampling: Resampling,
) -> Callable[[], dict]:
    """The judge against each human label and against the human majority (`decided`, on the
    `labeled` items it judged)."""
    both = judge_vs_humans_later(resampling, outcomes, (), humans.grouped)

    def versus_majority() -> dict:
        table = confusion(decided, outcomes)  # human majority -> judge -> items
        agree, kappa, n = table_agreement(
            np.array([[table[h][j] for h in SIDES] for j in SIDES], float)
        )
        split = len(labeled) - len(decided)
        vs_majority = {"agreement": finite(agree), "kappa": finite(kappa), "items": n,
                       "split_skipped": split}  # fmt: skip
        return {"vs_majority": vs_majority, "confusion": table}

    majority = resampling.meanwhile(versus_majority)

    def result() -> dict:
        with_ties, without = both()
        return {
            "vs_humans_with_ties": agreement_kappa(with_ties),
            "vs_humans_without_ties": agreement_kappa(without),
            **majority(),
        }

    return result


def judges_later(
    rows: Columns,
    about: dict[str, dict],
    humans: HumanRatings,
    strata: dict[str, str],
    cfg: StudyConfig,
    resampling: Resampling,
    gates: dict[str, JudgeGate],
    panels: Sequence[dict] = (),
) -> Callable[[], list[JudgeOut]]:
    """Each judge version's section, then each panel's whose members all judged here; an
    item counts for a judge only once judged in both orders (`judge_outcomes`), the others
    are only counted; `rows`: the study's verdicts (`report_verdicts`), judge by judge;
    `about`: judge id -> its name (as "judge"), provider, model and version. Their bootstraps
    are added to `resampling`; the function returned gives the sections."""
    by_judge: dict[str, Columns] = {}
    start = 0
    for judge_id, run in groupby(rows["judge_id"]):  # two versions may share a name, not an id
        stop = start + sum(1 for _ in run)
        mine = by_judge.setdefault(judge_id, {name: [] for name in rows})  # rows: judge by judge
        for name, values in rows.items():
            mine[name] += values[start:stop]
        start = stop
    ordered = sorted(by_judge.items(), key=lambda kv: (about[kv[0]]["judge"], kv[0]))
    shared = (humans, strata, cfg, resampling)
    out = [
        _judge_out(about[judge_id], judge_outcomes_of_columns(verdicts), verdicts, *shared, gates)
        for judge_id, verdicts in ordered
    ]
    for panel in panels:
        ids = [m["judge_id"] for m in panel["members"]]
        if not all(i in by_judge for i in ids):
            continue
        judged, used = panel_outcomes(rows_of(rows), ids)
        about = {"judge": panel["name"], "judge_id": panel["judge_id"], "provider": "panel",
                 "model": panel["model"], "version_hash": panel["version_hash"]}  # fmt: skip
        section = _judge_out(about, judged, columns_of(used, rows), *shared, gates)
        members = [PanelMember(name=m["name"], judge_id=m["judge_id"]) for m in panel["members"]]
        out.append(lambda s=section, m=members: s().model_copy(update={"members": m}))
    return lambda: [section() for section in out]


def _judge_out(
    about: dict,
    judged: JudgeOutcomes,
    verdicts: Columns,
    humans: HumanRatings,
    strata: dict[str, str],
    cfg: StudyConfig,
    resampling: Resampling,
    gates: dict[str, JudgeGate],
) -> Callable[[], JudgeOut]:
    """One judge's (or panel's: `about` names it, `verdicts` are its members') section."""
    outcomes = judged.overall
    external = about["provider"] == "external"
    gate = gates.get(about["judge_id"]) or JudgeGate(
        status="external" if external else "not calibrated", part=None
    )
    study_criteria = {c.name for c in cfg.criteria}
    criteria = {
        name: items
        for name, items in judged.criteria.items()
        if name in study_criteria and name not in gate.human_only_criteria
    }
    labeled = sorted(filter(outcomes.__contains__, humans.values))
    decided = majorities(humans.values, labeled)
    versus = _versus_humans(outcomes, humans, labeled, decided, resampling)
    measures = _measures(judged, verdicts, humans, labeled, decided, resampling)
    no_replicates = resampling.meanwhile(  # computed while the replicates are drawn
        lambda: {
            "result": side_result(outcomes, criteria, strata, cfg),
            "bias_corrected": _bias_corrected(outcomes, humans.values),
            "served_models": {} if external else served_counts(verdicts["served_model"]),
        }
    )
    return lambda: JudgeOut(
        name=about["judge"],
        judge_id=about["judge_id"],
        provider=about["provider"],
        model=about["model"],
        version_hash=about["version_hash"],
        one_order_only=len(judged.one_order_only),
        **versus(),
        flip_rate=judged.flip_rate,
        first_position_rate=judged.first_position_rate,
        gate=gate,
        **no_replicates(),
        **measures(),
    )


def _measures(
    judged: JudgeOutcomes,
    verdicts: Columns,
    humans: HumanRatings,
    labeled: list[str],
    decided: dict[str, str],
    resampling: Resampling,
) -> Callable[[], dict]:
    """Verdicts one by one, correlation with the humans and the length baseline, on the
    human-labeled items the judge judged (consistency: on every item judged in both orders)."""
    outcomes = judged.overall
    ratings = ()  # not read: the humans' scores and values are given
    chars = zip(verdicts["candidate_chars"], verdicts["baseline_chars"], strict=True)
    lengths = dict(zip(verdicts["pair_id"], chars, strict=True))
    orders = order_measures_later(resampling, judged, sorted(outcomes), decided)
    found = correlation_later(resampling, outcomes, ratings, humans.scores)
    baseline = length_baseline_later(
        resampling, labeled, lengths, ratings, decided, humans.scores, humans.values
    )

    def result() -> dict:
        measured = orders()
        return {
            "per_verdict_agreement": measured.per_verdict_agreement,
            "positional_consistency": measured.positional_consistency,
            "correlation": Interval.of(found()),
            "length_baseline": baseline(),
        }

    return result
