"""The report's agreement and annotator sections: how far the humans agree, overall, pair by
pair and per criterion, and what each annotator did.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from functools import partial

import numpy as np

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

    def point_measures() -> tuple[list[PairOut], float | None, float | None]:
        pairs = _pairs_out(pairwise(ratings, min_shared=10, grouped=grouped), names)
        fleiss_kappa = finite(fleiss(ratings, grouped))
        nominal = finite(alpha(ratings, "nominal", grouped=grouped)) if grouped else None
        return pairs, fleiss_kappa, nominal

    points = resampling.meanwhile(point_measures)
    return lambda: _agreement_out(*both(), ac1_later(), *points())


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
        point = partial(_criterion_points, c.scale.kind, values, grouped, table, cfg.seed, names)
        out[c.name] = (mtbench_later(resampling, table), resampling.meanwhile(point))
    return lambda: {
        name: CriterionAgreement(mtbench_agreement=Interval.of(both()[0][0]), **points())
        for name, (both, points) in out.items()
    }


def _criterion_points(
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


def annotators(labels: Columns, people: list[dict]) -> list[AnnotatorOut]:
    """Each annotator's labels, time on task, left picks and agreement with the others (each
    label against every other label on its item: equal ones / compared). Summed per annotator
    by numpy from per-label counts, each an integer, so every share is the same division."""
    aids, items, prefs = labels["annotator_id"], labels["pair_id"], labels["preference"]
    n = len(aids)
    code = {aid: k for k, aid in enumerate(dict.fromkeys(aids))}
    codes = np.fromiter(map(code.__getitem__, aids), dtype=np.int64, count=n)

    def per_annotator(weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(codes, weights=weights, minlength=len(code))

    labeled = list(zip(items, prefs, strict=True))
    same, on_item = Counter(labeled), Counter(items)
    equal = per_annotator(np.fromiter(map(same.__getitem__, labeled), float, n) - 1)
    compared = per_annotator(np.fromiter(map(on_item.__getitem__, items), float, n) - 1)
    left = np.array(labels["candidate_left"], dtype=float)  # None: nan
    picked_candidate = np.fromiter(map("candidate".__eq__, prefs), bool, n)
    sided = ~np.isnan(left) & ~np.fromiter(map("tie".__eq__, prefs), bool, n)
    lefts, sides = per_annotator(sided & (picked_candidate == (left == 1))), per_annotator(sided)
    counts = per_annotator()
    order = np.argsort(codes, kind="stable")
    seconds = np.split(np.array(labels["seconds"], dtype=float)[order], np.cumsum(counts)[:-1])
    out = []
    for person in people:
        aid = person["annotator_id"]
        k = code.get(aid)
        timed = [] if k is None else seconds[k][~np.isnan(seconds[k])].tolist()
        out.append(
            AnnotatorOut(
                annotator_id=aid,
                name=person["display_name"],
                role=person["role"],
                labels=0 if k is None else int(counts[k]),
                median_seconds=statistics.median(timed) if timed else None,
                left_pick_rate=lefts[k] / sides[k] if k is not None and sides[k] else None,
                agreement_with_others=(
                    equal[k] / compared[k] if k is not None and compared[k] else None
                ),
            )
        )
    return out
