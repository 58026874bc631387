"""Assemble the sign-off report from the store: labels and verdicts in, `Report` out.

All numbers come from `reviewer.stats`; this module only groups the data and names the parts.
Human win rates reduce each item's labels to one outcome by majority (ties on a split), so an
item labeled five times counts once.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from reviewer.config import StudyConfig
from reviewer.judging import deciding_gates
from reviewer.outcomes import confusion, human_criteria_outcomes, judge_outcomes, majorities
from reviewer.report.model import (
    AgreementOut,
    AnnotatorOut,
    Appendix,
    BiasCorrected,
    CriterionAgreement,
    Example,
    Interval,
    JudgeGate,
    JudgeOut,
    PairOut,
    Report,
    SideResult,
    WinRateOut,
    agreement_kappa,
    finite,
)
from reviewer.report.verdict import decide
from reviewer.stats import (
    ItemTable,
    PairAgreement,
    Rating,
    WinRate,
    alpha,
    fleiss,
    gwet_ac1,
    item_outcome,
    judge_vs_humans,
    mtbench,
    pairwise,
    win_rate,
)
from reviewer.stats.ppi import SCORE, ppi_mean
from reviewer.store import Store
from reviewer.store import calibrations as calibration_sql
from reviewer.store import report_data as data
from reviewer.store.connection import Cursor
from reviewer.study import require_study

RESAMPLES = 1000


def build_report(store: Store, study_id: str, resamples: int = RESAMPLES) -> Report:
    return store.read(lambda cur: _build(cur, study_id, resamples))


def _build(cur: Cursor, study_id: str, resamples: int) -> Report:
    study = require_study(cur, study_id)
    cfg = study.config
    labels = data.latest_labels(cur, study_id)
    verdict_rows = data.verdicts(cur, study_id)
    pairs = data.pairs(cur, study_id)
    people = data.annotators(cur, study_id)
    names = {p["annotator_id"]: p["display_name"] for p in people}
    strata = {pid: p["stratum"] for pid, p in pairs.items()}

    ratings = [Rating(r["pair_id"], r["annotator_id"], r["preference"]) for r in labels]
    human_items: dict[str, list[str]] = defaultdict(list)
    for r in ratings:
        human_items[r.item].append(r.value)
    human_outcomes = {item: item_outcome(values) for item, values in human_items.items()}
    humans = _side(human_outcomes, human_criteria_outcomes(labels, cfg), strata, cfg)
    gates = _gates(cur, study_id)
    judges = _judges(verdict_rows, ratings, human_items, strata, cfg, resamples, gates)
    verdict = decide(humans.win_rate, humans.by_stratum, cfg.signoff, "humans")
    unblinded = data.unblinding(cur, study_id)
    any_pair = next(iter(pairs.values()), {})
    return Report(
        study=study_id,
        title=cfg.title,
        question=cfg.question,
        verdict=verdict,
        rules=cfg.signoff.model_dump(exclude={"blind_admin_until_unblinded"}),
        humans=humans,
        agreement=_agreement(ratings, names, cfg.seed, resamples).model_copy(
            update={"by_criterion": _criteria_agreement(labels, cfg, names, resamples)}
        ),
        annotators=_annotators(labels, ratings, people),
        judges=judges,
        examples=_examples(labels, human_outcomes, pairs, humans.worst_stratum, names),
        appendix=Appendix(
            study=study_id,
            config_hash=study.config_hash,
            pairs_hash=study.pairs_hash,
            seed=cfg.seed,
            bootstrap_resamples=resamples,
            created_at=study.created_at,
            frozen_at=study.frozen_at,
            unblinded_at=study.unblinded_at,
            unblinded_by=unblinded["actor"] if unblinded else None,
            candidate_model=any_pair.get("candidate_model") if unblinded else None,
            baseline_model=any_pair.get("baseline_model") if unblinded else None,
            annotators=[names[a] for a in sorted({r.rater for r in ratings})],
            judges={j.name: j.version_hash for j in judges},
            software_version=_version(),
            generated_at=datetime.now(UTC),
        ),
    )


def _version() -> str:
    try:
        return version("signoff")
    except PackageNotFoundError:
        return "unknown"


def _win_out(w: WinRate) -> WinRateOut:
    return WinRateOut(
        items=w.items,
        candidate=w.candidate,
        baseline=w.baseline,
        tie=w.tie,
        decisive=w.decisive,
        rate=finite(w.rate),
        low=finite(w.low),
        high=finite(w.high),
        threshold=w.threshold,
        p_value=finite(w.p_value),
        p_value_half=finite(w.p_value_half),
        more_pairs_needed=w.more_pairs_needed,
    )


def _side(
    outcomes: dict[str, str],
    criteria: dict[str, dict[str, str]],
    strata: dict[str, str],
    cfg: StudyConfig,
) -> SideResult:
    rules = cfg.signoff
    overall = win_rate(list(outcomes.values()), rules.win_rate_threshold, rules.confidence)
    grouped: dict[str, list[str]] = defaultdict(list)
    for item, outcome in outcomes.items():
        grouped[strata.get(item, "unspecified")].append(outcome)
    by_stratum = {
        s: win_rate(v, rules.win_rate_threshold, rules.confidence)
        for s, v in sorted(grouped.items())
    }
    rated = {s: w for s, w in by_stratum.items() if w.decisive}
    worst = min(rated, key=lambda s: rated[s].rate) if rated else None
    return SideResult(
        win_rate=_win_out(overall),
        by_stratum={s: _win_out(w) for s, w in by_stratum.items()},
        by_criterion={
            name: _win_out(win_rate(list(v.values()), rules.win_rate_threshold, rules.confidence))
            for name, v in criteria.items()
        },
        worst_stratum=worst,
    )


def _pairs_out(pairs: list[PairAgreement], names: dict[str, str]) -> list[PairOut]:
    """Annotator pairs for the report, under their display names."""
    return [
        PairOut(
            rater_a=names.get(p.rater_a, p.rater_a),
            rater_b=names.get(p.rater_b, p.rater_b),
            shared=p.shared,
            agreement=p.agreement,
            kappa=finite(p.kappa),
        )
        for p in pairs
    ]


def _agreement(
    ratings: list[Rating], names: dict[str, str], seed: int, resamples: int
) -> AgreementOut:
    table = ItemTable(ratings, ["candidate", "baseline", "tie"])
    with_ties = mtbench(ratings, True, resamples, seed, table)
    without = mtbench(ratings, False, resamples, seed, table)
    ac1 = gwet_ac1(ratings, resamples, seed, table)
    kappa, agree = with_ties[1].value, with_ties[0].value
    note = None
    if agree == agree and kappa == kappa and agree >= 0.8 and kappa < 0.4:
        note = (
            f"Raters agree on {agree:.0%} of label pairs yet kappa is only {kappa:.2f}: "
            "one label dominates, so chance agreement is high (the kappa paradox). "
            f"Gwet's AC1, which is robust to this, is {ac1.value:.2f}."
        )
    return AgreementOut(
        pairwise=_pairs_out(pairwise(ratings, min_shared=10), names),
        mtbench_with_ties=agreement_kappa(with_ties),
        mtbench_without_ties=agreement_kappa(without),
        fleiss_kappa=finite(fleiss(ratings)),
        krippendorff_alpha=finite(alpha(ratings, "nominal")) if ratings else None,
        gwet_ac1=Interval.of(ac1),
        note=note,
    )


def _criteria_agreement(
    labels: list[dict], cfg: StudyConfig, names: dict[str, str], resamples: int
) -> dict[str, CriterionAgreement]:
    """Agreement per criterion. Pairwise ratings are nominal; likert scores are ordinal, each
    response's score a unit of its own (item = pair and side)."""
    out = {}
    for c in cfg.criteria:
        ratings = []
        for row in labels:
            value = json.loads(row["criteria_json"]).get(c.name)
            if isinstance(value, dict):
                ratings += [
                    Rating(f"{row['pair_id']}/{side}", row["annotator_id"], score)
                    for side, score in value.items()
                ]
            elif value is not None:
                ratings.append(Rating(row["pair_id"], row["annotator_id"], value))
        if not ratings:
            continue
        likert = c.scale.kind == "likert"
        values = c.scale.values()
        table = ItemTable(ratings, values)
        agree, _ = mtbench(ratings, True, resamples, cfg.seed, table)
        out[c.name] = CriterionAgreement(
            scale=c.scale.kind,
            mtbench_agreement=Interval.of(agree),
            krippendorff_alpha=finite(alpha(ratings, "ordinal" if likert else "nominal", values)),
            gwet_ac1=finite(gwet_ac1(ratings, 0, cfg.seed, table).value),
            pairwise=_pairs_out(pairwise(ratings, 10, "linear" if likert else None, values), names),
        )
    return out


def _annotators(
    labels: list[dict], ratings: list[Rating], people: list[dict]
) -> list[AnnotatorOut]:
    by_item: dict[str, dict[str, str]] = defaultdict(dict)
    for r in ratings:
        by_item[r.item][r.rater] = r.value
    out = []
    for person in people:
        aid = person["annotator_id"]
        mine = [row for row in labels if row["annotator_id"] == aid]
        seconds = [row["seconds"] for row in mine if row["seconds"] is not None]
        sided = [
            row for row in mine if row["candidate_left"] is not None and row["preference"] != "tie"
        ]
        left = [(row["preference"] == "candidate") == row["candidate_left"] for row in sided]
        agree = [
            v == others_value
            for item, v in ((r.item, r.value) for r in ratings if r.rater == aid)
            for other, others_value in by_item[item].items()
            if other != aid
        ]
        out.append(
            AnnotatorOut(
                annotator_id=aid,
                name=person["display_name"],
                role=person["role"],
                labels=len(mine),
                median_seconds=statistics.median(seconds) if seconds else None,
                left_pick_rate=sum(left) / len(left) if left else None,
                agreement_with_others=sum(agree) / len(agree) if agree else None,
            )
        )
    return out


def _gates(cur: Cursor, study_id: str) -> dict[str, JudgeGate]:
    """Each judge version's standing with the gate, from its calibrations and overrides."""
    out = {
        judge_id: JudgeGate(
            status="passed" if gate.passed else "failed",
            part=gate.part,
            failures=gate.failures(),
            human_only_criteria=gate.human_only_criteria,
        )
        for judge_id, gate in deciding_gates(cur, study_id).items()
    }
    for judge_id, o in calibration_sql.overrides(cur, study_id).items():
        base = out.get(judge_id) or JudgeGate(status="not calibrated", part=None)
        if base.status != "passed":
            out[judge_id] = base.model_copy(
                update={"status": "overridden", "override_reason": o["reason"],
                        "override_by": o["actor"]}
            )  # fmt: skip
    return out


def _bias_corrected(
    outcomes: dict[str, str], human_items: dict[str, list[str]]
) -> BiasCorrected | None:
    labeled = sorted(i for i in outcomes if i in human_items)
    unlabeled = sorted(i for i in outcomes if i not in human_items)
    if len(labeled) < 2 or len(unlabeled) < 2:
        return None
    est = ppi_mean(
        np.array([SCORE[item_outcome(human_items[i])] for i in labeled]),
        np.array([SCORE[outcomes[i]] for i in labeled]),
        np.array([SCORE[outcomes[i]] for i in unlabeled]),
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


def _judges(
    rows: list[dict],
    humans: list[Rating],
    human_items: dict[str, list[str]],
    strata: dict[str, str],
    cfg: StudyConfig,
    resamples: int,
    gates: dict[str, JudgeGate],
) -> list[JudgeOut]:
    by_judge: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_judge[row["judge_id"]].append(row)  # two versions of a judge may share a name
    out = []
    for _, verdicts in sorted(by_judge.items(), key=lambda kv: (kv[1][0]["judge"], kv[0])):
        judged = judge_outcomes(verdicts)
        outcomes = judged.overall
        first_row = verdicts[0]
        external = first_row["provider"] == "external"
        gate = gates.get(first_row["judge_id"]) or JudgeGate(
            status="external" if external else "not calibrated", part=None
        )
        study_criteria = {c.name for c in cfg.criteria}
        criteria = {
            name: items
            for name, items in judged.criteria.items()
            if name in study_criteria and name not in gate.human_only_criteria
        }
        with_ties = judge_vs_humans(outcomes, humans, True, resamples, cfg.seed)
        without = judge_vs_humans(outcomes, humans, False, resamples, cfg.seed)
        decided = majorities(human_items, (i for i in human_items if i in outcomes))
        split = sum(1 for i in human_items if i in outcomes and i not in decided)
        majority = judge_vs_humans(
            {i: outcomes[i] for i in decided},
            [Rating(i, "majority", o) for i, o in decided.items()],
            True,
            0,
            cfg.seed,
        )
        out.append(
            JudgeOut(
                name=first_row["judge"],
                judge_id=first_row["judge_id"],
                provider=first_row["provider"],
                model=first_row["model"],
                version_hash=first_row["version_hash"],
                result=_side(outcomes, criteria, strata, cfg),
                vs_humans_with_ties=agreement_kappa(with_ties),
                vs_humans_without_ties=agreement_kappa(without),
                vs_majority={
                    "agreement": finite(majority[0].value),
                    "kappa": finite(majority[1].value),
                    "items": majority[0].n,
                    "split_skipped": split,
                },
                confusion=confusion(decided, outcomes),
                flip_rate=judged.flip_rate,
                first_position_rate=judged.first_position_rate,
                gate=gate,
                bias_corrected=_bias_corrected(outcomes, human_items),
            )
        )
    return out


def _examples(
    labels: list[dict],
    outcomes: dict[str, str],
    pairs: dict[str, dict],
    worst: str | None,
    names: dict[str, str],
    limit: int = 3,
) -> dict[str, list[Example]]:
    by_item: dict[str, dict[str, str]] = defaultdict(dict)
    for row in labels:
        by_item[row["pair_id"]][names.get(row["annotator_id"], row["annotator_id"])] = row[
            "preference"
        ]

    def example(item: str) -> Example:
        p = pairs[item]
        prompt = json.loads(p["prompt_json"])
        if not isinstance(prompt, str):
            prompt = "\n\n".join(f"{m['role']}: {m['content']}" for m in prompt)
        return Example(
            pair_id=item,
            stratum=p["stratum"],
            prompt=prompt,
            candidate=p["candidate"],
            baseline=p["baseline"],
            human_outcome=outcomes[item],
            labels=by_item[item],
        )

    losses = sorted(
        i for i, o in outcomes.items() if o == "baseline" and pairs[i]["stratum"] == worst
    )
    split = sorted(i for i, v in by_item.items() if len(set(v.values())) > 1)
    return {
        "worst_stratum": [example(i) for i in losses[:limit]],
        "disagreements": [example(i) for i in split[:limit]],
    }
