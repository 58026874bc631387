"""The report's agreement and annotator sections: how far the humans agree, overall, pair by
pair and per criterion, and what each annotator did.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable
from functools import partial

from reviewer.analysis.human_items import HumanRatings
from reviewer.analysis.intervals import Interval, agreement_kappa, finite
from reviewer.analysis.outcomes import criteria_of
from reviewer.analysis.stats import (
    ItemTable,
    PairAgreement,
    alpha,
    fleiss,
    gwet_ac1,
    pairwise,
)
from reviewer.analysis.stats.agreement import Estimate, mtbench_later
from reviewer.analysis.stats.bootstrap import Resampling
from reviewer.analysis.stats.gwet import gwet_ac1_later
from reviewer.columns import Columns
from reviewer.config import StudyConfig
from reviewer.report.model import (
    AgreementOut,
    AnnotatorOut,
    CriterionAgreement,
    PairOut,
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


def agreement_later(
    humans: HumanRatings, names: dict[str, str], resampling: Resampling
) -> Callable[[], AgreementOut]:
    """How far the humans agree; the bootstraps are added to `resampling` (the rest computed
    while they run), the function returned gives the section."""
    grouped, ratings = humans.grouped, ()  # the ratings as `grouped` holds them
    table = ItemTable(ratings, ["candidate", "baseline", "tie"], grouped)
    both = mtbench_later(resampling, table)
    ac1_later = gwet_ac1_later(resampling, table)

    def fixed() -> tuple[list[PairOut], float | None, float | None]:
        pairs = _pairs_out(pairwise(ratings, min_shared=10, grouped=grouped), names)
        fleiss_kappa = finite(fleiss(ratings, grouped))
        nominal = finite(alpha(ratings, "nominal", grouped=grouped)) if grouped else None
        return pairs, fleiss_kappa, nominal

    rest = resampling.meanwhile(fixed)
    return lambda: _agreement_out(*both(), ac1_later(), *rest())


def _agreement_out(
    with_ties: tuple[Estimate, Estimate],
    without: tuple[Estimate, Estimate],
    ac1: Estimate,
    pairs: list[PairOut],
    fleiss_kappa: float | None,
    nominal: float | None,
) -> AgreementOut:
    kappa, agree = with_ties[1].value, with_ties[0].value
    note = None
    if agree == agree and kappa == kappa and agree >= 0.8 and kappa < 0.4:
        note = (
            f"Raters agree on {agree:.0%} of label pairs yet kappa is only {kappa:.2f}: "
            "one label dominates, so chance agreement is high (the kappa paradox). "
            f"Gwet's AC1, which is robust to this, is {ac1.value:.2f}."
        )
    return AgreementOut(
        pairwise=pairs,
        mtbench_with_ties=agreement_kappa(with_ties),
        mtbench_without_ties=agreement_kappa(without),
        fleiss_kappa=fleiss_kappa,
        krippendorff_alpha=nominal,
        gwet_ac1=Interval.of(ac1),
        note=note,
    )


def criteria_later(
    labels: Columns, cfg: StudyConfig, names: dict[str, str], resampling: Resampling
) -> Callable[[], dict[str, CriterionAgreement]]:
    """Agreement per criterion. Pairwise ratings are nominal; likert scores are ordinal, each
    response's score a unit of its own (item = pair and side). The bootstraps are added to
    `resampling`; the function returned gives the sections."""
    out = {}
    rated = _criterion_ratings(labels, [c.name for c in cfg.criteria])
    for c in cfg.criteria:
        grouped = rated[c.name]
        if not grouped:
            continue
        values = c.scale.values()
        table = ItemTable((), values, grouped)  # the ratings as `grouped` holds them
        fixed = partial(_criterion_fixed, c.scale.kind, values, grouped, table, cfg.seed, names)
        out[c.name] = (mtbench_later(resampling, table), resampling.meanwhile(fixed))
    return lambda: {
        name: CriterionAgreement(mtbench_agreement=Interval.of(both()[0][0]), **fields())
        for name, (both, fields) in out.items()
    }


def _criterion_fixed(
    kind: str,
    values: list[str],
    grouped: dict[str, dict[str, object]],
    table: ItemTable,
    seed: int,
    names: dict[str, str],
) -> dict:
    """A criterion's measures without replicates (computed while the bootstraps run)."""
    likert, ratings = kind == "likert", ()  # the ratings as `grouped` holds them
    return dict(
        scale=kind,
        krippendorff_alpha=finite(
            alpha(ratings, "ordinal" if likert else "nominal", values, grouped)
        ),
        gwet_ac1=finite(gwet_ac1(ratings, 0, seed, table).value),
        pairwise=_pairs_out(
            pairwise(ratings, 10, "linear" if likert else None, values, grouped), names
        ),
    )


def _criterion_ratings(
    labels: Columns, names: list[str]
) -> dict[str, dict[str, dict[str, object]]]:
    """Criterion -> its ratings grouped by item (`by_item`), in label order: a pairwise value
    is the pair's, a likert criterion's scores each the response's (item "pair/side"). One pass
    over the labels, each distinct stored text read once, no `Rating` made."""
    found: dict[str, dict[str, dict[str, object]]] = {n: defaultdict(dict) for n in names}
    texts = set(labels["criteria_json"])
    given = {
        text: [(found[n], v) for n in names if (v := criteria_of(text).get(n)) is not None]
        for text in texts
    }
    for item, rater, text in zip(*map(labels.__getitem__, _CRITERIA), strict=True):
        for grouped, value in given[text]:
            if isinstance(value, dict):
                for side, score in value.items():
                    grouped[f"{item}/{side}"][rater] = score
            else:
                grouped[item][rater] = value
    return {name: dict(grouped) for name, grouped in found.items()}


_CRITERIA = ("pair_id", "annotator_id", "criteria_json")
_TIMED = ("seconds", "candidate_left", "preference")


def annotators(
    labels: Columns, by_item: dict[str, dict[str, str]], people: list[dict]
) -> list[AnnotatorOut]:
    """Each annotator's labels, time on task, left picks and agreement with the others;
    `by_item`: item -> annotator -> preference of `labels`."""
    rows_of: dict[str, list[tuple]] = defaultdict(list)
    timed = zip(*map(labels.__getitem__, _TIMED), strict=True)
    for aid, fields in zip(labels["annotator_id"], timed, strict=True):
        rows_of[aid].append(fields)
    # Each rating against every other rater's on its item: (equal, compared) per rater.
    equal: dict[str, int] = defaultdict(int)
    compared: dict[str, int] = defaultdict(int)
    for by_rater in by_item.values():
        if len(by_rater) < 2:  # no other rater
            continue
        values = list(by_rater.values())
        for rater, value in by_rater.items():
            equal[rater] += values.count(value) - 1
            compared[rater] += len(values) - 1
    out = []
    for person in people:
        aid = person["annotator_id"]
        mine = rows_of.get(aid, [])
        seconds = [s for s, _, _ in mine if s is not None]
        left = [(p == "candidate") == cl for _, cl, p in mine if cl is not None and p != "tie"]
        out.append(
            AnnotatorOut(
                annotator_id=aid,
                name=person["display_name"],
                role=person["role"],
                labels=len(mine),
                median_seconds=statistics.median(seconds) if seconds else None,
                left_pick_rate=sum(left) / len(left) if left else None,
                agreement_with_others=equal[aid] / compared[aid] if compared[aid] else None,
            )
        )
    return out
