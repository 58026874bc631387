"""The report's judge sections from verdict columns (`reviewer.report.judges.judges_later`)."""

from __future__ import annotations

from reviewer.analysis.human_items import human_ratings
from reviewer.analysis.stats.bootstrap import Resampling
from reviewer.columns import columns_of
from reviewer.config import StudyConfig
from reviewer.report.judges import judges_later

FIELDS = ("pair_id", "judge_id", "presented", "preference", "criteria_json",
          "candidate_chars", "baseline_chars", "served_model")  # fmt: skip


def _verdict(item: str, judge: str, presented: str, preference: str) -> dict:
    return dict(zip(FIELDS, (item, judge, presented, preference, "{}", 10, 5, None), strict=True))


def _sections(rows: list[dict]) -> list[dict]:
    labels = columns_of(
        [{"pair_id": f"p{i}", "annotator_id": "a", "preference": "candidate"} for i in range(4)],
        ("pair_id", "annotator_id", "preference"),
    )
    about = {j: {"judge": j, "judge_id": j, "provider": "openai", "model": "m",
                 "version_hash": j} for j in ("j1", "j2")}  # fmt: skip
    strata = {f"p{i}": "s" for i in range(4)}
    later = judges_later(
        columns_of(rows, FIELDS), about, human_ratings(labels), strata, StudyConfig(),
        Resampling(20, 1), {},
    )  # fmt: skip
    return [s.model_dump() for s in later()]


def test_a_judges_verdicts_count_together_even_when_not_adjacent():
    j1 = [_verdict(f"p{i}", "j1", o, "candidate" if i else "baseline")
          for i in range(4) for o in ("baseline_first", "candidate_first")]  # fmt: skip
    j2 = [_verdict(f"p{i}", "j2", o, "tie") for i in range(4)
          for o in ("baseline_first", "candidate_first")]  # fmt: skip
    together = _sections(j1 + j2)
    assert [s["name"] for s in together] == ["j1", "j2"]
    won = together[0]["result"]["win_rate"]
    assert (won["candidate"], won["baseline"]) == (3, 1)  # p1-p3 for the candidate, p0 not
    # The same verdicts with j1's cut in two by j2's: the same sections.
    assert _sections(j1[:4] + j2 + j1[4:]) == together
