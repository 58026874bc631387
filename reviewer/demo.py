"""The sample study, ready to explore: `signoff demo`.

Idempotent: run it again and it keeps what is there (including your own demo labels) and issues
a fresh link for the demo annotator, since links are never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reviewer import study as ops
from reviewer.config import load_config
from reviewer.pairs import load_pairs
from reviewer.status import StudyStatus, study_status
from reviewer.store import Store, people

DATA = Path(__file__).resolve().parent.parent / "data"
STUDY = "ledgerly-v3"
YOU = "You (demo)"


@dataclass
class DemoResult:
    store: Store
    token: str
    status: StudyStatus

    def link(self, base_url: str = "http://localhost:8501") -> str:
        return f"{base_url}/?token={self.token}"

    def summary(self, base_url: str = "http://localhost:8501") -> str:
        s = self.status
        return (
            f"demo study {STUDY!r} in {self.store.path}: {s.pairs} pairs, "
            f"{s.calibration.pairs} in the calibration set, {s.labels} sample labels by "
            f"{sum(a.role == 'sample' for a in s.annotators)} sample annotators\n"
            f"your annotator link: {self.link(base_url)}\n"
            f"see it all: signoff status --db {self.store.path}"
        )


def create_demo(store: Store, data: Path = DATA) -> DemoResult:
    """Create (or refresh) the demo study from `data/` and return a link for the demo user."""
    config = load_config(data / "support_study.toml")
    pairset = load_pairs(data / "support_pairs.jsonl", config.limits.max_output_chars)
    actor = "signoff demo"
    ops.import_study(store, STUDY, pairset, config, actor)
    ops.import_labels(store, STUDY, data / "sample_labels.csv", actor, source="sample")
    you = ops.slug(YOU)
    if you in store.read(lambda cur: people.annotator_ids(cur, STUDY)):
        token = ops.new_link_token(store, STUDY, you, actor)
    else:
        token = ops.add_annotators(store, STUDY, [YOU], actor)[0].token
    return DemoResult(store, token, study_status(store, STUDY))
