"""The layout's rules, checked on the source: each job in its folder, the edges at the edges.

reviewer/ is grouped by feature (ingest, study, labeling, analysis, judging, report) with three
edges: store/ is the only place that runs SQL, app/ the only one that imports Streamlit, cli/ the
only one that prints. judge/ knows nothing of reviewer/. Feature folders import each other in one
direction only: a cycle is reported with the import that closes it.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT

SQL = re.compile(
    r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|VIEW|INDEX))\b",
    re.IGNORECASE | re.DOTALL,
)
RUNS_SQL = {"execute", "executemany", "sql", "query", "fetch_dicts"}
PRINTS = {("typer", "echo"), ("click", "echo"), ("click", "secho"), ("typer", "secho")}
STREAMS = {("sys.stdout", "write"), ("sys.stderr", "write")}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


@dataclass(frozen=True)
class Import:
    source: str  # path relative to the repository
    line: int
    module: str  # absolute module name


def sources(*folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (ROOT / f).rglob("*.py"))


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> list[Import]:
    """Every import in a module, lazy ones inside functions included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [Import(rel(path), node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(Import(rel(path), node.lineno, node.module))
            # `from reviewer.store import people` imports the module reviewer.store.people
            found += [Import(rel(path), node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return found


def top(module: str) -> str:
    return module.split(".")[0]


def outside(folder: str) -> list[Path]:
    return [p for p in sources("reviewer") if not rel(p).startswith(f"reviewer/{folder}/")]


def test_judge_knows_nothing_of_reviewer_storage_or_ui():
    bad = [
        f"{i.source}:{i.line} imports {i.module}"
        for p in sources("judge")
        for i in imports_of(p)
        if top(i.module) in {"reviewer", "duckdb", "streamlit", "psycopg"}
    ]
    assert bad == []


def test_only_the_store_imports_a_database_driver():
    bad = [
        f"{i.source}:{i.line} imports {i.module}"
        for p in outside("store")
        for i in imports_of(p)
        if top(i.module) in {"duckdb", "psycopg", "sqlite3"}
    ]
    assert bad == []


def test_only_the_store_runs_sql():
    """No `.execute(`/`fetch_dicts(` and no SQL text outside reviewer/store/."""
    bad = []
    for path in outside("store"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
                if name in RUNS_SQL:
                    bad.append(f"{rel(path)}:{node.lineno} calls {name}(")
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and SQL.search(node.value)
            ):
                bad.append(f"{rel(path)}:{node.lineno} holds SQL: {node.value[:60]!r}")
    assert bad == []


def test_only_the_app_imports_streamlit():
    bad = [
        f"{i.source}:{i.line} imports {i.module}"
        for p in outside("app")
        for i in imports_of(p)
        if top(i.module) == "streamlit"
    ]
    assert bad == []


def test_only_the_cli_prints():
    """print(), typer/click echo and writes to stdout/stderr live in reviewer/cli/ alone."""
    bad = []
    for path in [*outside("cli"), *sources("judge")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            if isinstance(f, ast.Name) and f.id in {"print", "pprint"}:
                bad.append(f"{rel(path)}:{node.lineno} print(")
            elif isinstance(f, ast.Attribute):
                owner = ast.unparse(f.value)
                if (owner, f.attr) in PRINTS | STREAMS:
                    bad.append(f"{rel(path)}:{node.lineno} {owner}.{f.attr}(")
    assert bad == []


def folder_of(module: str) -> str | None:
    """The feature folder or edge a reviewer module belongs to (reviewer.study.status -> study);
    top-level modules (config, errors, models) are shared types, outside every cycle."""
    parts = module.split(".")
    if parts[0] != "reviewer" or len(parts) < 2:
        return None
    if (ROOT / "reviewer" / parts[1]).is_dir():
        return parts[1]
    return None


def folder_graph() -> dict[tuple[str, str], Import]:
    """(from folder, to folder) -> the first import that makes that edge."""
    edges: dict[tuple[str, str], Import] = {}
    for path in sources("reviewer"):
        here = folder_of(module_name(path))
        for i in imports_of(path):
            there = folder_of(i.module)
            if here and there and here != there:
                edges.setdefault((here, there), i)
    return edges


def find_cycle(edges: dict[tuple[str, str], Import]) -> list[Import] | None:
    """One cycle among the folders, as the imports along it; None when there is none."""
    graph: dict[str, list[str]] = {}
    for a, b in sorted(edges):
        graph.setdefault(a, []).append(b)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return [edges[(a, b)] for a, b in zip(cycle, cycle[1:], strict=False)]
    return None


def test_feature_folders_import_each_other_in_one_direction():
    cycle = find_cycle(folder_graph())
    assert cycle is None, "import cycle between folders; it closes at " + "; ".join(
        f"{i.source}:{i.line} -> {i.module}" for i in cycle
    )


def test_the_cycle_finder_names_the_closing_import():
    a = Import("reviewer/x/a.py", 3, "reviewer.y.b")
    b = Import("reviewer/y/b.py", 7, "reviewer.x.a")
    c = Import("reviewer/y/b.py", 9, "reviewer.z.c")
    assert find_cycle({("x", "y"): a, ("y", "x"): b, ("y", "z"): c}) == [a, b]
    assert find_cycle({("x", "y"): a, ("y", "z"): c}) is None


@pytest.mark.parametrize("path", sources("reviewer", "judge"), ids=rel)
def test_every_module_says_its_job_in_a_docstring(path):
    doc = ast.get_docstring(ast.parse(path.read_text()))
    assert doc and doc.strip(), f"{rel(path)} has no module docstring"


def test_modules_and_functions_stay_small():
    big = []
    for path in sources("reviewer", "judge"):
        lines = len(path.read_text().splitlines())
        if lines > MAX_MODULE_LINES:
            big.append(f"{rel(path)}: {lines} lines")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    big.append(f"{rel(path)}:{node.lineno} {node.name}: {length} lines")
    assert big == []
