"""Helpers shared by the app tests: a seeded study and the page's elements by label."""

from __future__ import annotations

import html
import re
from pathlib import Path

from conftest import DATA, ROOT

MAIN = str(ROOT / "reviewer" / "app" / "main.py")


def seed_sample(cli, *names: str) -> dict[str, str]:
    """Import the sample study with its sample labels and add annotators; return name->token."""
    assert (
        cli(
            "import",
            DATA / "support_pairs.jsonl",
            "-s",
            "demo",
            "--config",
            DATA / "support_study.toml",
        ).code
        == 0
    )
    assert cli("labels", "import", DATA / "sample_labels.csv", "-s", "demo").code == 0
    made = cli("annotators", "add", *names, "-s", "demo", "--json").json()
    return {a["name"]: a["token"] for a in made}


def button(at, label: str):
    return next(b for b in at.button if b.label == label)


def texts(at) -> str:
    parts = [m.value for m in at.markdown] + [e.value for e in at.error]
    parts += [w.value for w in at.warning] + [s.value for s in at.success]
    parts += [i.value for i in at.info] + [t.value for t in at.title]
    parts += [shown_text(h.proto.body) for h in at.get("html")]
    return "\n".join(str(p) for p in parts)


def db_file(tmp: Path) -> Path:
    return tmp / "signoff.duckdb"


def shown_text(body: str) -> str:
    """The text an `st.html` body shows: without its style and script blocks and tags."""
    body = re.sub(r"<(style|script)>.*?</\1>", "", body, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", "", body))
