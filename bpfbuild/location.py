"""Source locations: where in the user's C an instruction or a diagnostic comes from."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SourceLocation"]


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
