"""The sample study, ready to explore: `signoff demo`.

Idempotent: run it again and it keeps what is there (including your own demo labels) and issues
a fresh link for the demo annotator, since links are never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reviewer.errors import StudyFrozen
from reviewer.store import Store, people
from reviewer.study.annotators import add_annotators, new_link_token, slug
from reviewer.study.imported import import_labels
from reviewer.study.lifecycle import import_study_files
from reviewer.study.status import StudyStatus, study_status

DATA = Path(__file__).resolve().parents[2] / "data"
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
    actor = "signoff demo"
    try:
        import_study_files(
            store,
            STUDY,
            actor,
            pairs=data / "support_pairs.jsonl",
            config=data / "support_study.toml",
        )
    except StudyFrozen as frozen:
        raise StudyFrozen(_outdated(store)) from frozen
    import_labels(store, STUDY, data / "sample_labels.csv", actor, source="sample")
    you = slug(YOU)
    if you in store.read(lambda cur: people.annotator_ids(cur, STUDY)):
        token = new_link_token(store, STUDY, you, actor)
    else:
        token = add_annotators(store, STUDY, [YOU], actor)[0].token
    return DemoResult(store, token, study_status(store, STUDY))


def _outdated(store: Store) -> str:
    """Why the demo refused: the database holds the sample study as an older signoff shipped it,
    and labels were given, so it is frozen. Both ways on, without losing anything."""
    where = store.path
    return (
        f"{where} holds the demo study {STUDY!r} as an earlier version of signoff shipped it, "
        f"and it has labels, so it cannot take this version's sample. Keep exploring it with "
        f"`signoff app --db {where}`, or start a fresh demo elsewhere with "
        f"`signoff demo --db another.duckdb` (or delete {where}; `make clean` does)."
    )
