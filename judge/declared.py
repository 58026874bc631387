"""Declared files (TOML or YAML) read into a pydantic model, with the same rules everywhere.

The study config, the judge's rubric and the price table are all declared files. One loader
gives them one behaviour: a name ending .toml is TOML, .yaml/.yml is YAML, anything else is
refused; the text must be UTF-8 and a mapping; every validation problem is reported with the
dotted field it concerns. It lives in `judge` because `judge` imports nothing of `reviewer`,
while `reviewer` may use it.
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, RootModel, ValidationError

M = TypeVar("M", bound=BaseModel)
SUFFIXES = (".toml", ".yaml", ".yml")
MAX_BYTES = 5_000_000  # a declared file is written by hand; more is a mistake or an attack


class DeclaredFileError(ValueError):
    """A declared file that cannot be used: each problem as (field, message), with the file."""

    def __init__(self, path: Path, problems: list[tuple[str, str]]):
        self.path, self.problems = path, problems
        super().__init__("; ".join(f"{path}: {field}: {message}" for field, message in problems))


def load_declared(path: Path, model: type[M], what: str) -> M:
    """Read `path` into `model`; `what` names the file's kind in messages ("config", "rubric").

    >>> load_declared(Path("prices.json"), BaseModel, "price table")
    Traceback (most recent call last):
    ...
    judge.declared.DeclaredFileError: prices.json: file: a price table must be .toml, .yaml or .yml
    """
    if path.suffix.lower() not in SUFFIXES:
        raise DeclaredFileError(path, [("file", f"a {what} must be .toml, .yaml or .yml")])
    raw = _parse(path, _text(path))
    if not isinstance(raw, dict):
        raise DeclaredFileError(path, [("file", "must be a table/mapping")])
    try:
        return model.model_validate(raw)
    except RecursionError:
        raise DeclaredFileError(path, [("file", "nested too deeply")]) from None
    except ValidationError as exc:
        default = "root" if issubclass(model, RootModel) else what
        raise DeclaredFileError(
            path,
            [
                (
                    ".".join(str(p) for p in err["loc"] if p != "root") or default,
                    err["msg"].removeprefix("Value error, "),
                )
                for err in exc.errors()
            ],
        ) from None


def _text(path: Path) -> str:
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(info.st_mode):
            raise DeclaredFileError(path, [("file", "is not a regular file")])
        if info.st_size > MAX_BYTES:
            size = f"{info.st_size:,} bytes, more than the {MAX_BYTES:,} a declared file may have"
            raise DeclaredFileError(path, [("file", size)])
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DeclaredFileError(path, [("file", "not found")]) from None
    except IsADirectoryError:
        raise DeclaredFileError(path, [("file", "is a folder, not a file")]) from None
    except UnicodeDecodeError as exc:
        reason = f"not UTF-8 text ({exc.reason} at byte {exc.start})"
        raise DeclaredFileError(path, [("file", reason)]) from None
    except OSError as exc:
        raise DeclaredFileError(path, [("file", f"cannot be read ({exc.strerror})")]) from None


def _parse(path: Path, text: str) -> Any:
    try:
        if path.suffix.lower() == ".toml":
            return tomllib.loads(text)
        return yaml.load(text, Loader=_Loader) or {}  # noqa: S506 (a SafeLoader)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise DeclaredFileError(path, [("syntax", str(exc))]) from None
    except RecursionError:
        raise DeclaredFileError(path, [("syntax", "nested too deeply")]) from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise DeclaredFileError(path, [("syntax", str(exc).split("; use sys.")[0])]) from None


MAX_ALIASES = 100


class _Loader(yaml.SafeLoader):
    """YAML's safe loader, refusing the many aliases of an "entity expansion" bomb: a few
    lines can expand to millions of values once validation walks them."""

    aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise yaml.YAMLError(f"more than {MAX_ALIASES} aliases (*name); write values out")
        return super().compose_node(parent, index)
