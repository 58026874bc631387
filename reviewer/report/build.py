"""Assemble the sign-off report from the store: labels and verdicts in, `Report` out.

All numbers come from `reviewer.analysis.stats`; this module only groups the data and names
the parts.
Human win rates reduce each item's labels to one outcome by majority (ties on a split), so an
item labeled five times counts once (`reviewer.analysis.human_items`, which also forms the
both-bad share, the flagged pairs and the planned sample).
"""

from __future__ import annotations

import gc
import json
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from itertools import islice

from reviewer.analysis.human_items import (
    METHOD,
    HumanItems,
    HumanRatings,
    human_items,
    human_ratings,
)
from reviewer.analysis.outcomes import human_criteria_outcomes
from reviewer.analysis.stats.agreement import raters_of
from reviewer.analysis.stats.bootstrap import Resampling
from reviewer.columns import Columns
from reviewer.config import SignoffConfig, StudyConfig
from reviewer.report.agreement import agreement_later, annotators, criteria_later
from reviewer.report.checklist import checklist, measure
from reviewer.report.judges import judge_gates, judges_later
from reviewer.report.model import (
    Appendix,
    Comparison,
    Example,
    FlaggedLabel,
    LabelQuality,
    Report,
    SideResult,
    Verdict,
)
from reviewer.report.rubric_version import with_rubrics
from reviewer.report.verdict import decide
from reviewer.report.win_rates import side_result
from reviewer.store import Store
from reviewer.store import panels as panel_sql
from reviewer.store import report_data as data
from reviewer.store.connection import Cursor
from reviewer.study.lifecycle import require_study

RESAMPLES = 1000


def build_report(
    store: Store, study_id: str, resamples: int = RESAMPLES, with_studies: Sequence[str] = ()
) -> Report:
    """The study's report; `with_studies` adds the checklists of other studies of the same
    golden set (the candidate against other baselines) beside its own."""

    def work(cur: Cursor) -> Report:
        report = _build(cur, study_id, resamples)
        return report.model_copy(
            update={"comparisons": [_compare(cur, study_id, o, resamples) for o in with_studies]}
        )

    with _no_cycle_collection(), _quick_handovers():
        return store.read(work)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused while the report is built: the build makes millions of
    short-lived rows, tuples and dicts and no cycles worth collecting on the way, and each full
    collection re-scanned every row read (3 of 24 s of CPU at 100,000 items). It resumes, if
    it was on, as soon as the report is built (a build running beside leaves it to the one that
    paused it)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


_handovers = threading.Lock()
_builds: list[float] = []  # the interval before the first build that runs now set it


@contextmanager
def _quick_handovers() -> Iterator[None]:
    """The GIL handed to a waiting thread after 0.5 ms of Python instead of 5 while the report
    is built: the bootstrap's threads (weights drawn ahead, statistics evaluated beside) need it
    back after each numpy call, and each wait for it was up to the whole interval. The setting
    is the process's: builds running at once (the app's sessions) share it, and the last to
    finish restores what the first found."""
    with _handovers:
        _builds.append(sys.getswitchinterval())
        sys.setswitchinterval(min(_builds[0], 0.0005))
    try:
        yield
    finally:
        with _handovers:
            first = _builds[0]
            _builds.pop()
            if not _builds:
                sys.setswitchinterval(first)


def _compare(cur: Cursor, study_id: str, other: str, resamples: int) -> Comparison:
    rep = _build(cur, other, resamples)
    shared = data.report_strata(cur, study_id).keys() & data.report_strata(cur, other).keys()
    return Comparison(
        study=other,
        title=rep.title,
        decision=rep.verdict.decision,
        shared_items=len(shared),
        checklist=rep.checklist,
    )


def _build(cur: Cursor, study_id: str, resamples: int) -> Report:
    study = require_study(cur, study_id)
    cfg = study.config
    # Bootstraps added, then run in a thread beside the rest (the checks' BLAS products first);
    # the weights over the labeled items drawn from now on, while the rows are read.
    resampling = Resampling(resamples, cfg.seed, keep=False, ahead=True)
    resampling.draw_ahead(data.labeled_items(cur, study_id))
    labels = data.report_labels(cur, study_id)
    verdict_rows, about = data.report_verdicts(cur, study_id), data.report_judges(cur, study_id)
    people = data.annotators(cur, study_id)
    names = {p["annotator_id"]: p["display_name"] for p in people}
    strata = data.report_strata(cur, study_id)
    rated = human_ratings(labels)  # grouped once, for every section
    agreement_of = agreement_later(rated, names, resampling)
    criteria_of = criteria_later(labels, cfg, names, resampling)
    gates, panels = judge_gates(cur, study_id), panel_sql.panels(cur)
    judges_of = judges_later(verdict_rows, about, rated, strata, cfg, resampling, gates, panels)
    measured = measure(cur, study_id, cfg, resamples)
    resampling.start()
    items = _human_items(cur, study_id, labels, rated, cfg.signoff)
    humans, verdict = _humans(items, labels, strata, cfg, resamples)
    unblinded, who = data.unblinding(cur, study_id), annotators(labels, people)
    worst = humans.worst_stratum
    examples = _examples(cur, study_id, rated.grouped, items.all_outcomes, strata, worst, names)
    judges = with_rubrics(cur, study_id, judges_of())
    any_pair = data.pair_models(cur, study_id) if unblinded else {}
    return Report(
        study=study_id,
        title=cfg.title,
        question=cfg.question,
        display=cfg.display,
        verdict=verdict,
        rules=cfg.signoff.model_dump(exclude={"blind_admin_until_unblinded"}),
        humans=humans,
        agreement=agreement_of().model_copy(update={"by_criterion": criteria_of()}),
        annotators=who,
        judges=judges,
        examples=examples,
        quality=_quality(items, cfg.signoff),
        checklist=checklist(cfg, verdict, humans, judges, measured),
        checks=measured.checks,
        operations=measured.operations,
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
            annotators=[names[a] for a in sorted(raters_of(rated.grouped))],
            judges={j.name: j.version_hash for j in judges},
            software_version=_version(),
            generated_at=datetime.now(UTC),
        ),
    )


def _humans(
    items: HumanItems,
    labels: Columns,
    strata: dict[str, str],
    cfg: StudyConfig,
    resamples: int,
) -> tuple[SideResult, Verdict]:
    """The humans' win rates on the items the verdict counts, and the verdict on them."""
    criteria = {
        name: {i: o for i, o in by_item.items() if i in items.outcomes}
        for name, by_item in human_criteria_outcomes(labels, cfg).items()
    }
    humans = side_result(
        items.outcomes, criteria, strata, cfg, both_bad=items.both_bad, resamples=resamples
    )
    verdict = decide(
        humans.win_rate, humans.by_stratum, cfg.signoff, "humans", seed=cfg.seed,
        resamples=resamples,
    )  # fmt: skip
    return humans, verdict


def _human_items(
    cur: Cursor, study_id: str, labels: Columns, rated: HumanRatings, rules: SignoffConfig
) -> HumanItems:
    """The labeled items; when each was first labeled orders the planned sample, and only it."""
    first = data.first_labeled(cur, study_id) if rules.planned_pairs is not None else {}
    return human_items(labels, rated, rules, first)


def _quality(items: HumanItems, rules: SignoffConfig) -> LabelQuality:
    counted = len(items.outcomes)
    bad = sum(items.both_bad.values())
    return LabelQuality(
        method=METHOD,
        items=counted,
        both_bad_items=bad,
        both_bad_share=bad / counted if counted else None,
        labels=items.labels,
        both_bad_labels=items.both_bad_labels,
        max_both_bad_share=rules.max_both_bad_share,
        flagged=[
            FlaggedLabel(**f, outcome=items.all_outcomes[f["pair_id"]]) for f in items.flagged
        ],
        flagged_items=len({f["pair_id"] for f in items.flagged}),
        exclude_flagged=rules.exclude_flagged,
        excluded_items=len(items.excluded),
        beyond_planned=len(items.beyond_planned),
    )


def _version() -> str:
    try:
        return version("signoff")
    except PackageNotFoundError:
        return "unknown"


def _examples(
    cur: Cursor,
    study_id: str,
    grouped: dict[str, dict[str, str]],
    outcomes: dict[str, str],
    strata: dict[str, str],
    worst: str | None,
    names: dict[str, str],
    limit: int = 3,
) -> dict[str, list[Example]]:
    """A few items the worst stratum lost and a few the annotators split on; `grouped`: item
    -> annotator id -> preference."""

    def named(item: str) -> dict[str, str]:  # annotators by name (one name may be two ids)
        return {names.get(a, a): preference for a, preference in grouped[item].items()}

    losses = sorted(i for i, o in outcomes.items() if o == "baseline" and strata[i] == worst)
    # Items whose annotators split, in item order, up to `limit`: named only when in question.
    unequal = sorted(i for i, v in grouped.items() if len(v) > 1 and len(set(v.values())) > 1)
    split = (i for i in unequal if len(set(named(i).values())) > 1)
    shown = {"worst_stratum": losses[:limit], "disagreements": list(islice(split, limit))}
    texts = data.pair_texts(cur, study_id, sorted({i for ids in shown.values() for i in ids}))

    def example(item: str) -> Example:
        p = texts[item]
        prompt = json.loads(p["prompt_json"])
        if not isinstance(prompt, str):
            prompt = "\n\n".join(f"{m['role']}: {m['content']}" for m in prompt)
        return Example(
            pair_id=item,
            stratum=strata[item],
            prompt=prompt,
            candidate=p["candidate"],
            baseline=p["baseline"],
            human_outcome=outcomes[item],
            labels=named(item),
        )

    return {part: [example(i) for i in ids] for part, ids in shown.items()}
