"""A judge's pass is tied to the model that was served. Providers resolve a model name to a
snapshot ("gpt-4o" one month is not "gpt-4o" the next), and the calibration measured the
snapshot, so `judge run --pairs all` compares what the provider serves with what served the
deciding calibration: before spending (the latest answer this judge got, anywhere), at the
first answer of the run (the run waits for it before sending more), on every answer after it,
and over every verdict once the run ends (a cached answer may come from another snapshot).
A change refuses the run, naming both, unless `--override` (logged, stamped on the report).
A refusal is recorded as a `judge.served_model_changed` event.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable

from judge.providers import Provider, ProviderError, Request, Response
from reviewer.judging.gate import GateRefused, gate_part
from reviewer.judging.options import PreparedJudge
from reviewer.judging.scope import calibration_parts
from reviewer.store import Store
from reviewer.store import judge_calls as judge_sql
from reviewer.store import studies as study_sql
from reviewer.store.connection import Cursor
from reviewer.study.lifecycle import require_study

UNKNOWN = "unknown"  # the provider named no model, or the call predates served models


def served_counts(models: Iterable[str | None]) -> dict[str, int]:
    """Verdicts counted by the model that served each (None: not named), most verdicts
    first."""
    counts = Counter(model or UNKNOWN for model in models)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def names(models: Iterable[str]) -> str:
    return ", ".join(f"'{m}'" for m in sorted(models)) or "none named"


def calibrated_models(
    cur: Cursor, study_id: str, judge_id: str, rows: list[dict] | None = None
) -> dict[str, int]:
    """What served this judge's verdicts on the pairs its gate is decided on. `rows`: the
    study's verdict rows with `served_model`, when the caller has them already."""
    study = require_study(cur, study_id)
    development, held_out = calibration_parts(cur, study_id, study.config)
    deciding = held_out if gate_part(held_out) == "held-out" else development
    rows = judge_sql.served_by_verdict(cur, study_id) if rows is None else rows
    mine = (r for r in rows if r["judge_id"] == judge_id and r["pair_id"] in deciding)
    return served_counts(r.get("served_model") for r in mine)


class ServedModelGuard:
    """A provider that checks the model named in every answer against the calibrated ones. The
    first answer is awaited before any other call is sent, so a changed model costs one call;
    with `strict`, an answer from another model stops the run (a fatal provider error: the
    answer is not used), else it is only remembered."""

    def __init__(self, inner: Provider, calibrated: set[str], *, strict: bool):
        self.inner, self.calibrated, self.strict = inner, calibrated, strict
        self.name, self.model, self.mode = inner.name, inner.model, inner.mode
        self.changed: str | None = None
        self._checked = not calibrated  # nothing known to compare with: no waiting
        self._first: asyncio.Lock | None = None

    async def complete(self, request: Request) -> Response:
        if not self._checked:
            self._first = self._first or asyncio.Lock()
            async with self._first:
                if not self._checked:
                    response = self._check(await self._send(request))
                    self._checked = True
                    return response
        return self._check(await self._send(request))

    async def _send(self, request: Request) -> Response:
        if self.strict and self.changed is not None:
            raise self._refusal()  # calls waiting their turn are not sent at all
        return await self.inner.complete(request)

    def _check(self, response: Response) -> Response:
        served = response.served_model
        if served is not None and served not in self.calibrated:
            self.changed = self.changed or served
            if self.strict:
                raise self._refusal()
        return response

    def _refusal(self) -> ProviderError:
        return ProviderError(
            f"the provider now serves '{self.changed}', not the model the judge was "
            f"calibrated on ({names(self.calibrated)})",
            retry=False,
            fatal=True,
        )

    async def close(self) -> None:
        await self.inner.close()


def check_before(
    store: Store, study_id: str, judge: PreparedJudge, override: str | None, actor: str
) -> tuple[set[str], bool]:
    """Before spending: the model named in this judge's latest answer (in any study), against
    the calibrated ones. Returns the calibrated models (empty: none named, nothing to compare
    with) and whether an override was logged for a change. A refused run leaves no answer
    behind, so a later attempt is checked again at its first answer: one call, and a provider
    that went back to the calibrated model is let through."""

    def work(cur: Cursor) -> tuple[set[str], dict | None]:
        calibrated = set(calibrated_models(cur, study_id, judge.judge_id)) - {UNKNOWN}
        return calibrated, judge_sql.latest_served(cur, judge.judge_id)

    calibrated, latest = store.read(work)
    if not calibrated or latest is None or latest["served"] in calibrated:
        return calibrated, False
    when = f"in its latest answer ({latest['at']:%Y-%m-%d %H:%M})"
    _refuse_or_log(store, study_id, judge, override, actor, calibrated, latest["served"], when)
    return calibrated, True


def check_after(
    store: Store,
    study_id: str,
    judge: PreparedJudge,
    guard: ServedModelGuard | None,
    override: str | None,
    actor: str,
    *,
    logged: bool,
) -> None:
    """After the run: an answer from another model during it (the guard stopped the run, or
    only noted it under an override), or a verdict of this judge served by a model its
    calibration never saw (a cached answer from another snapshot)."""
    if guard is None:
        return
    served, when = guard.changed, "during this run"
    if served is None:
        rows = store.read(lambda cur: judge_sql.served_by_verdict(cur, study_id))
        mine = (r for r in rows if r["judge_id"] == judge.judge_id)
        counts = served_counts(r.get("served_model") for r in mine)
        others = [m for m in counts if m not in guard.calibrated and m != UNKNOWN]
        if not others:
            return
        served, when = others[0], f"for {counts[others[0]]} of its verdicts on this study"
    if override and logged:
        return
    _refuse_or_log(store, study_id, judge, override, actor, guard.calibrated, served, when)


def _refuse_or_log(
    store: Store,
    study_id: str,
    judge: PreparedJudge,
    override: str | None,
    actor: str,
    calibrated: set[str],
    served: str,
    when: str,
) -> None:
    """Refuse (recording what was served in the audit trail), or log the override that lets
    the run go on."""
    what = (
        f"judge {judge.name} ({judge.judge_id}) passed its calibration on answers served by "
        f"{names(calibrated)}, but {when} the provider served '{served}'"
    )
    if not override:
        store.write(
            lambda cur: study_sql.record_event(
                cur, study_id, actor, "judge.served_model_changed", judge_id=judge.judge_id,
                served=served, calibrated=sorted(calibrated),
            )
        )  # fmt: skip
        raise GateRefused(
            f"{what}: the pass does not cover it. Calibrate again under the served name "
            f'(--model {served} makes a new judge version), or pass --override "reason" '
            "(logged, and stamped on the report)"
        )
    store.write(
        lambda cur: study_sql.record_event(
            cur, study_id, actor, "gate.override", judge_id=judge.judge_id, reason=override,
            failed=[f"served model changed: {what}"], what="served_model", served=served,
        )
    )  # fmt: skip
