"""Source locations: where in the user's C an instruction or a diagnostic comes from, and how a
path is shown to the user."""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["SourceLocation", "shown_path"]


@dataclass(frozen=True, slots=True, order=True)
class SourceLocation:
    """A point in a source file, 1-based like compilers print it (column 0 = unknown)."""

    file: str
    line: int
    column: int = 0

    def __str__(self) -> str:
        if self.column:
            return f"{self.file}:{self.line}:{self.column}"
        return f"{self.file}:{self.line}"


def shown_path(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> str:
    """A path as messages show it: relative to ``root`` (default: the current directory) when it
    lies inside it, otherwise as given (an absolute path outside stays absolute)."""
    text = os.fspath(path)
    base = os.path.abspath(os.getcwd() if root is None else root)
    absolute = os.path.abspath(text)
    if absolute == base or absolute.startswith(base.rstrip(os.sep) + os.sep):
        return os.path.relpath(absolute, base)
    return text
