"""The generated docs (docs/cli.md, docs/schema.md) match the code, and their generator is sound."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import duckdb
import pytest
import typer.rich_utils
from conftest import ROOT

from reviewer.store.migrations import MIGRATIONS

DOCS = ROOT / "docs"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_generate", DOCS / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generate = _load_generator()


def test_checked_in_docs_match_the_code() -> None:
    problems = generate.stale(DOCS)
    assert not problems, "generated docs are stale: run `make docs`\n\n" + "\n".join(problems)


def test_every_command_has_help_and_a_section_in_cli_md() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    paths = []
    for path, command in generate.commands():
        name = " ".join(["signoff", *path])
        paths.append(path)
        assert (command.help or "").strip(), f"`{name}` has no help text"
        heading = "#" * (2 + max(len(path) - 1, 0))
        assert f"\n{heading} {name}\n" in text, f"`{name}` is missing from docs/cli.md"
    assert ["judge", "run"] in paths and ["annotators", "add"] in paths


def test_help_is_plain_fixed_width_text_whatever_the_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = generate.render_help(["judge", "run"])
    assert plain.startswith(" Usage: signoff judge run [OPTIONS]")
    assert "\x1b" not in plain
    assert all(len(line) <= generate.WIDTH and line == line.rstrip() for line in plain.split("\n"))
    assert generate.render_help(["judge", "run"]) == plain
    # What typer reads at import (TERMINAL_WIDTH, GITHUB_ACTIONS) and rich reads at each call.
    monkeypatch.setattr(typer.rich_utils, "MAX_WIDTH", 60)
    monkeypatch.setattr(typer.rich_utils, "FORCE_TERMINAL", True)
    for name, value in {"COLUMNS": "40", "LINES": "10", "FORCE_COLOR": "1", "TERM": "dumb"}.items():
        monkeypatch.setenv(name, value)
    assert generate.render_help(["judge", "run"]) == plain


def test_schema_md_lists_every_migration_in_order() -> None:
    text = (DOCS / "schema.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\d+\. `(\w+)`$", text, flags=re.MULTILINE)
    assert listed == [name for name, _ in MIGRATIONS]


def test_schema_description_covers_columns_constraints_views_and_sequences() -> None:
    conn = duckdb.connect(":memory:")
    conn.execute(
        "CREATE TABLE things (id INTEGER PRIMARY KEY, kind VARCHAR NOT NULL DEFAULT 'x' "
        "CHECK (kind IN ('x', 'y')), note VARCHAR); "
        "CREATE VIEW kinds AS SELECT DISTINCT kind FROM things"
    )
    text = generate.describe_schema(conn, ["m001_things"])
    conn.close()
    assert "1. `m001_things`" in text
    assert "| `kind` | `VARCHAR` | no | `'x'` |" in text
    assert "| `note` | `VARCHAR` | yes |  |" in text
    assert "- Primary key: `id`" in text
    assert "- Check: `(kind IN ('x', 'y'))`" in text
    assert "## Views\n\n### `kinds`" in text
    assert "## Sequences" not in text


def test_check_fails_with_a_diff_until_the_docs_are_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(generate, "DOCS", tmp_path)
    assert generate.main(["--check"]) == 1
    assert generate.main([]) == 0
    assert generate.main(["--check"]) == 0
    schema = tmp_path / "schema.md"
    schema.write_text(schema.read_text().replace("`labels`", "`labelz`", 1), encoding="utf-8")
    capsys.readouterr()
    assert generate.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "schema.md is out of date: run `make docs`" in err
    assert "cli.md" not in err
    assert "-### `labelz`" in err and "+### `labels`" in err
