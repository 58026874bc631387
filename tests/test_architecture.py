"""Import rules from STYLE.md, checked on the source: layers stay where they belong."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


def sources(*folders: str) -> list[Path]:
    return [p for f in folders for p in (ROOT / f).rglob("*.py")]


def test_judge_knows_nothing_of_storage_or_ui():
    for path in sources("judge"):
        assert not imports(path) & {"duckdb", "streamlit", "reviewer"}, path


def test_only_the_store_connection_imports_duckdb():
    users = {p.relative_to(ROOT).as_posix() for p in sources("reviewer") if "duckdb" in imports(p)}
    assert users == {"reviewer/store/connection.py"}


def test_only_the_app_imports_streamlit():
    for path in sources("reviewer"):
        if "streamlit" in imports(path):
            assert "reviewer/app/" in path.as_posix(), path


def test_modules_stay_small():
    for path in sources("reviewer", "judge"):
        assert len(path.read_text().splitlines()) <= 500, path
