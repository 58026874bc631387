"""Errors a user can act on. The CLI prints them without a traceback."""

from __future__ import annotations

from dataclasses import dataclass


class SignoffError(Exception):
    """Base class: the message is written for the person at the keyboard."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one row of one input file."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.field}: {self.message}"


class InvalidInput(SignoffError):
    """A file failed validation; nothing from it was written."""

    def __init__(self, problems: list[Problem], total: int | None = None, what: str = "input"):
        self.problems = problems
        self.total = total if total is not None else len(problems)
        lines = [str(p) for p in problems]
        if self.total > len(problems):
            lines.append(f"... and {self.total - len(problems)} more problems not shown")
        noun = "problem" if self.total == 1 else "problems"
        header = f"{what} rejected ({self.total} {noun}); nothing was imported:"
        super().__init__("\n".join([header, *lines]))


class NotFound(SignoffError):
    """A study, annotator or file the user named does not exist."""


class StudyFrozen(SignoffError):
    """The study's pairs or config may no longer change: labeling has started."""


class StoreBusy(SignoffError):
    """Another process held the database file for longer than we were willing to wait."""

    exit_code = 3
